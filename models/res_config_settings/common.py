# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import api, fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = 'res.config.settings'

    coffee_unreachable_count = fields.Integer(
        string='Unreachable Coffee Machines',
        compute='_compute_coffee_unreachable_count')

    @api.multi
    def _compute_coffee_unreachable_count(self):
        """Counted with the user's rights: what the list it opens shows."""
        count = self.env['coffee.backend'].search_count(
            [('reachability', '=', 'unreachable')])
        for settings in self:
            settings.coffee_unreachable_count = count
