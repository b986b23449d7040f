# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import api, fields, models

from odoo.addons.queue_job.job import job, related_action

from ...components.core import COFFEE_CHANNEL, RETRY_PATTERN, job_errors


class CoffeeResPartner(models.Model):
    """A consumer (1900: card holder) of a machine, bound to a partner.

    On a 1900 the machine id (``coffee_id``) is the card number itself; on
    a 2900 it is the ``con_…`` id and ``badge`` is the card number.
    """

    _name = 'coffee.res.partner'
    _inherit = 'coffee.binding'
    _inherits = {'res.partner': 'odoo_id'}
    _description = 'Coffee Consumer'

    odoo_id = fields.Many2one(
        comodel_name='res.partner',
        string='Partner',
        required=True,
        ondelete='restrict',
    )
    # text: leading zeros are significant, "0" and "00" are two cards
    badge = fields.Char(string='Badge', readonly=True, index=True)
    credit = fields.Float(
        string='Credit on the Machine', readonly=True,
        digits=(16, 2),
        help="What is left on the card, in the company currency, as the "
             "machine said at the last import.")
    blocked = fields.Boolean(
        string='Blocked on the Machine', readonly=True,
        help="The machine refuses to brew for this card.")

    @api.multi
    def _coffee_removed(self):
        """The records are gone from their machine.

        Their bindings are archived; a partner is archived too, unless
        another machine still binds it (an active binding). Nothing is
        deleted: brews charged to the consumer keep their partner.
        """
        bindings = self.filtered('active')
        if not bindings:
            return
        # an import of a deletion: nothing to delete on the machine
        bindings.with_context(connector_no_export=True).write(
            {'active': False})
        partners = bindings.mapped('odoo_id')
        still_bound = self.search(
            [('odoo_id', 'in', partners.ids)]).mapped('odoo_id')
        (partners - still_bound).filtered('active').write({'active': False})

    @api.multi
    def _coffee_back(self):
        """The records are on their machine again: reactivate them and
        their partners."""
        bindings = self.filtered(lambda b: not b.active)
        if not bindings:
            return
        bindings.with_context(connector_no_export=True).write(
            {'active': True})
        bindings.mapped('odoo_id').filtered(
            lambda p: not p.active).write({'active': True})

    @job(default_channel=COFFEE_CHANNEL, retry_pattern=RETRY_PATTERN)
    @related_action(action='related_action_coffee_backend')
    @api.model
    def import_removed(self, backend):
        """Archive the consumers that are no longer on the machine."""
        backend = self.env['coffee.backend']._coffee_for_sync(backend)
        with job_errors(backend), backend.work_on(self._name) as work:
            remover = work.component(usage='removed.importer')
            return remover.run()


class ResPartner(models.Model):
    _inherit = 'res.partner'

    coffee_bind_ids = fields.One2many(
        comodel_name='coffee.res.partner',
        inverse_name='odoo_id',
        string='Coffee Machines',
        context={'active_test': False},
    )
