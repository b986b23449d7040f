# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""11.0.2.0.0: the machines' password and webhook secret leave their plain
columns of coffee_backend for keychain, encrypted with the server's key."""
from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    env['coffee.backend']._coffee_move_plain_secrets()
