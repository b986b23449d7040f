# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Deleters: a record Odoo gave up (an archived consumer) removed from its
machine."""
from odoo import _

from odoo.addons.component.core import AbstractComponent

from ..protocol import CoffeeNotFound


class CoffeeDeleter(AbstractComponent):
    """Delete a record from the machine; an unknown one is already gone."""

    _name = 'coffee.deleter'
    _inherit = ['base.deleter', 'base.coffee.connector']
    _usage = 'record.exporter.deleter'

    def run(self, external_id):
        try:
            self.backend_adapter.delete_on_machine(external_id)
        except CoffeeNotFound:
            return _('%s was already gone from the machine.') % external_id
        return _('%s deleted from the machine.') % external_id
