# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import _, api, fields, models


class CoffeePourCoffee(models.TransientModel):
    """Pour a coffee on a machine: a beverage, charged to a consumer or
    anonymous."""

    _name = 'coffee.pour.coffee'
    _description = 'Pour a Coffee'

    backend_id = fields.Many2one(
        comodel_name='coffee.backend', string='Coffee Machine',
        required=True,
        default=lambda self: self._default_backend())
    product_id = fields.Many2one(
        comodel_name='product.product', string='Beverage', required=True,
        domain="[('coffee_bind_ids.backend_id', '=', backend_id),"
               " ('coffee_bind_ids.coffee_id', '!=', False)]")
    partner_id = fields.Many2one(
        comodel_name='res.partner', string='Consumer',
        domain="[('coffee_bind_ids.backend_id', '=', backend_id),"
               " ('coffee_bind_ids.coffee_id', '!=', False)]",
        help="Whose badge pays for the cup; empty: an anonymous cup.")

    @api.model
    def _default_backend(self):
        if self.env.context.get('active_model') == 'coffee.backend':
            return self.env.context.get('active_id')
        return False

    @api.onchange('backend_id')
    def _onchange_backend_id(self):
        self.product_id = False
        self.partner_id = False

    @api.multi
    def action_pour(self):
        self.ensure_one()
        brew_id = self.backend_id.pour_coffee(
            self.product_id.id, self.partner_id.id or False)
        return {
            'name': _('Coffee Brew'),
            'type': 'ir.actions.act_window',
            'res_model': 'coffee.brew',
            'view_type': 'form',
            'view_mode': 'form',
            'res_id': brew_id,
        }
