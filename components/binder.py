# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo.addons.component.core import Component


class CoffeeModelBinder(Component):
    """Bindings by machine id: ``coffee_id`` is text, "0" and "00" differ."""

    _name = 'coffee.binder'
    _inherit = ['base.binder', 'base.coffee.connector']
    _apply_on = [
        'coffee.product.product',
        'coffee.res.partner',
        'coffee.brew',
    ]
    _external_field = 'coffee_id'
