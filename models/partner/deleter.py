# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo.addons.component.core import Component


class CoffeeConsumerDeleter(Component):
    """Remove a card (1900) or a consumer (2900) from the machine."""

    _name = 'coffee.res.partner.deleter'
    _inherit = 'coffee.deleter'
    _apply_on = 'coffee.res.partner'
