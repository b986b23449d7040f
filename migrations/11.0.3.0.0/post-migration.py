# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""11.0.3.0.0: the last successful sync of each object is stored when its
import chain ends; the dates 11.0.2 read from the done jobs (which
queue_job deletes after 30 days) are stored once."""
from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    env['coffee.backend']._coffee_last_sync_from_jobs()
