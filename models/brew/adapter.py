# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import _
from odoo.exceptions import UserError

from odoo.addons.component.core import Component


class Coffee1900BrewAdapter(Component):
    """The 1900's log: ``log_no`` entries, ``ts`` is their last change."""

    _name = 'coffee.1900.brew.adapter'
    _inherit = 'coffee.1900.adapter'
    _apply_on = 'coffee.brew'
    _resource = 'log'
    _id_field = 'log_no'
    _timestamp_field = 'ts'

    def read(self, external_id):  # pylint: disable=method-required-super
        raise UserError(
            _('A Coffee 1900 cannot read one log entry (%s): import the '
              'brews of the machine instead.') % external_id)


class Coffee2900BrewAdapter(Component):
    _name = 'coffee.2900.brew.adapter'
    _inherit = 'coffee.2900.adapter'
    _apply_on = 'coffee.brew'
    _resource = 'brews'
