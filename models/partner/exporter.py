# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Partners -> consumers (1900: cards): the exporter; what is sent is in
the export mappers (``mapper.py``)."""
from odoo import _

from odoo.addons.component.core import Component


class CoffeeConsumerExporter(Component):
    _name = 'coffee.res.partner.exporter'
    _inherit = 'coffee.exporter'
    _apply_on = 'coffee.res.partner'

    def _conflict_message(self, values, error):
        return _('The badge %(badge)s already exists on %(machine)s: '
                 'import the consumers to bind it, or choose another '
                 'badge (%(reason)s).') % {
            'badge': self.binding.badge,
            'machine': self.backend_record.name,
            'reason': error}
