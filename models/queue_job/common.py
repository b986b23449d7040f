# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import _, api, models


class QueueJob(models.Model):
    _inherit = 'queue.job'

    @api.multi
    def related_action_coffee_backend(self):
        """Open the coffee machine a job works for (its first argument)."""
        self.ensure_one()
        backend = self.args[0] if self.args else None
        if getattr(backend, '_name', None) != 'coffee.backend' \
                or not backend.exists():
            return None
        return {
            'name': _('Coffee Machine'),
            'type': 'ir.actions.act_window',
            'res_model': 'coffee.backend',
            'view_type': 'form',
            'view_mode': 'form',
            'res_id': backend.id,
        }
