# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..models.partner.adapter import CARD_NO


class CoffeePartnerBadge(models.TransientModel):
    """Give a partner a badge on a machine: the consumer binding is
    created now and the card (consumer) on the machine by a job."""

    _name = 'coffee.partner.badge'
    _description = 'Create a Badge on a Coffee Machine'

    partner_id = fields.Many2one(
        comodel_name='res.partner', string='Partner', required=True,
        default=lambda self: self.env.context.get('active_id'))
    backend_id = fields.Many2one(
        comodel_name='coffee.backend', string='Coffee Machine',
        required=True)
    badge = fields.Char(
        required=True,
        help="The card number: 1 to 10 digits, leading zeros count "
             "(\"00042\" and \"42\" are two cards).")

    @api.multi
    def action_create_badge(self):
        """For connector managers: the card is created on the machine."""
        self.ensure_one()
        self.backend_id._check_may_sync()
        badge = (self.badge or '').strip()
        if not CARD_NO.match(badge):
            raise UserError(_('A badge is 1 to 10 digits, not "%s".') % badge)
        bindings = self.env['coffee.res.partner'].with_context(
            active_test=False)
        if bindings.search([('backend_id', '=', self.backend_id.id),
                            ('badge', '=', badge), ('active', '=', True)]):
            raise UserError(
                _('The badge %(badge)s is already bound on %(machine)s.') % {
                    'badge': badge, 'machine': self.backend_id.name})
        binding = bindings.create({
            'odoo_id': self.partner_id.id,
            'backend_id': self.backend_id.id,
            'badge': badge,
        })
        return {
            'name': _('Coffee Consumer'),
            'type': 'ir.actions.act_window',
            'res_model': 'coffee.res.partner',
            'view_type': 'form',
            'view_mode': 'form',
            'res_id': binding.id,
        }
