# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo.addons.component.core import Component


class CoffeeBeverageImporter(Component):
    _name = 'coffee.product.product.importer'
    _inherit = 'coffee.importer'
    _apply_on = 'coffee.product.product'


class CoffeeBeverageBatchImporter(Component):
    _name = 'coffee.product.product.batch.importer'
    _inherit = 'coffee.batch.importer'
    _apply_on = 'coffee.product.product'
