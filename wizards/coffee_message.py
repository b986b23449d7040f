# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import _, api, fields, models


class CoffeeMessage(models.TransientModel):
    """A message for the person who pressed a button (Odoo 11 has no
    notification an action can return)."""

    _name = 'coffee.message'
    _description = 'Coffee Connector Message'

    message = fields.Text(readonly=True)

    @api.model
    def _action_show(self, message):
        """The action that opens ``message`` in a small dialog."""
        wizard = self.create({'message': message})
        return {
            'name': _('Coffee Machines'),
            'type': 'ir.actions.act_window',
            'res_model': self._name,
            'res_id': wizard.id,
            'view_type': 'form',
            'view_mode': 'form',
            'views': [(self.env.ref(
                'connector_coffee.coffee_message_view_form').id, 'form')],
            'target': 'new',
        }
