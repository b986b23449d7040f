# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The webhook events a machine delivered, to act on each one once.

The machine retries a delivery that did not get a 2xx, with the same event
id: a row per (machine, event id) tells a retry from a new event.
"""
import logging
from datetime import datetime, timedelta

from odoo import api, fields, models

_logger = logging.getLogger(__name__)


class CoffeeWebhookEvent(models.Model):
    _name = 'coffee.webhook.event'
    _description = 'Coffee Webhook Event'
    _order = 'id desc'
    _rec_name = 'event_id'

    backend_id = fields.Many2one(
        comodel_name='coffee.backend', string='Coffee Machine',
        required=True, readonly=True, ondelete='cascade', index=True)
    event_id = fields.Char(string='Event ID', required=True, readonly=True)
    event_type = fields.Char(string='Type', readonly=True)
    object_id = fields.Char(string='Object ID', readonly=True)
    machine_date = fields.Char(
        string='Created on the Machine', readonly=True,
        help="The event's created_at, as the machine wrote it.")

    _sql_constraints = [
        ('backend_event_uniq', 'unique(backend_id, event_id)',
         'This machine already delivered this event.'),
    ]

    @api.model
    def _claim(self, backend_id, event_id, event_type=None, object_id=None,
               machine_date=None):
        """Record a received event; False if it was received already.

        One statement, so that two deliveries of the same event at the same
        time cannot both claim it: the second waits for the first
        transaction and finds the row.
        """
        self.env.cr.execute("""
            INSERT INTO coffee_webhook_event
                (backend_id, event_id, event_type, object_id, machine_date,
                 create_uid, write_uid, create_date, write_date)
            VALUES (%s, %s, %s, %s, %s, %s, %s,
                    now() at time zone 'UTC', now() at time zone 'UTC')
            ON CONFLICT (backend_id, event_id) DO NOTHING
            RETURNING id
        """, (backend_id, event_id, event_type, object_id, machine_date,
              self.env.uid, self.env.uid))
        row = self.env.cr.fetchone()
        return self.browse(row[0]) if row else False

    @api.model
    def _gc_events(self, days=30):
        """Forget old events: the machine stops retrying within an hour."""
        limit = fields.Datetime.to_string(
            datetime.utcnow() - timedelta(days=days))
        old = self.search([('create_date', '<', limit)])
        _logger.info('removing %d webhook events older than %d days',
                     len(old), days)
        old.unlink()
        return True
