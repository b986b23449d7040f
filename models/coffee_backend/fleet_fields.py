# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Reachability and last error of a machine, for the fleet views.

temporary: the reach branch defines them; the lead deletes this file when
merging.
"""
from odoo import fields, models


class CoffeeBackend(models.Model):
    _inherit = 'coffee.backend'

    reachability = fields.Selection(
        selection=[('reachable', 'Reachable'),
                   ('unreachable', 'Unreachable')],
        required=True, default='reachable', readonly=True)
    unreachable_since = fields.Datetime(readonly=True)
    reachability_error = fields.Text(readonly=True)
    reachability_failures = fields.Integer(readonly=True)
    # not copied: copy_data reads them, refused to all but the managers
    last_error = fields.Text(
        groups='connector.group_connector_manager', readonly=True,
        copy=False)
    last_error_date = fields.Datetime(
        string='Last Error On',
        groups='connector.group_connector_manager', readonly=True,
        copy=False)
