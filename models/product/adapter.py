# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo.addons.component.core import Component


class Coffee1900BeverageAdapter(Component):
    _name = 'coffee.1900.product.product.adapter'
    _inherit = 'coffee.1900.adapter'
    _apply_on = 'coffee.product.product'
    _resource = 'drinks'
    _id_field = 'drink_no'

    def read(self, external_id):  # pylint: disable=method-required-super
        return self.client.get_drink(external_id)

    def write_changes(self, external_id, values, etag=None):
        """``PUT /drinks/<no>``."""
        return self.client.update_drink(external_id, values), None


class Coffee2900BeverageAdapter(Component):
    _name = 'coffee.2900.product.product.adapter'
    _inherit = 'coffee.2900.adapter'
    _apply_on = 'coffee.product.product'
    _resource = 'beverages'
