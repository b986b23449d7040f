# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo.addons.component.core import Component
from odoo.addons.component_event import skip_if


class CoffeeProductExportListener(Component):
    """A change of a bound product queues an export per binding."""

    _name = 'coffee.product.export.listener'
    _inherit = 'coffee.export.listener'
    _apply_on = ['product.product', 'product.template']

    def _bindings_of(self, record):
        if record._name == 'product.template':
            products = record.with_context(
                active_test=False).product_variant_ids
        else:
            products = record
        return products.mapped('coffee_bind_ids')

    @skip_if(lambda self, record, **kwargs: self.no_connector_export(record))
    def on_record_write(self, record, fields=None):
        self.export_bindings(self._bindings_of(record), fields)
