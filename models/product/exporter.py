# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Products -> beverages (1900: drinks): the exporter; what is sent is in
the export mappers (``mapper.py``)."""
from odoo.addons.component.core import Component


class CoffeeBeverageExporter(Component):
    _name = 'coffee.product.product.exporter'
    _inherit = 'coffee.exporter'
    _apply_on = 'coffee.product.product'
