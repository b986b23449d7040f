# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""How up to date each machine of the fleet is.

The last successful sync of each object is stored on its watermark row when
its import chain ends (queue_job deletes done jobs after 30 days); the
backend reads it from there rather than storing a copy, since the three
chains of one machine end at the same time and would write the same
backend row.
"""
from datetime import datetime, timedelta

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.base.ir.ir_cron import _intervalTypes
from odoo.addons.queue_job.job import DONE

# backend field: object whose chain it follows
SYNC_FIELDS = (
    ('last_sync_beverages', 'coffee.product.product'),
    ('last_sync_consumers', 'coffee.res.partner'),
    ('last_sync_brews', 'coffee.brew'),
)
SCHEDULED_IMPORT = 'connector_coffee.ir_cron_coffee_import_all'
# the scheduled import's interval in data/ir_cron_data.xml
DEFAULT_IMPORT_INTERVAL = timedelta(minutes=15)
# a machine is late when it missed this many scheduled imports
LATE_AFTER_INTERVALS = 2


class CoffeeBackend(models.Model):
    _inherit = 'coffee.backend'

    last_sync_beverages = fields.Datetime(
        string='Beverages Imported On', compute='_compute_last_sync',
        help="End of the last import of beverages that succeeded.")
    last_sync_consumers = fields.Datetime(
        string='Consumers Imported On', compute='_compute_last_sync',
        help="End of the last import of consumers that succeeded.")
    last_sync_brews = fields.Datetime(
        string='Brews Imported On', compute='_compute_last_sync',
        help="End of the last import of brews that succeeded.")
    last_sync_oldest = fields.Datetime(
        string='Oldest Last Sync', compute='_compute_last_sync',
        help="The oldest of the last successful imports of beverages, "
             "consumers and brews; empty while one was never imported.")
    sync_lag_minutes = fields.Integer(
        string='Lag (min)', compute='_compute_last_sync',
        help="Minutes since the oldest last successful import.")
    is_late = fields.Boolean(
        string='Late', compute='_compute_last_sync', search='_search_is_late',
        help="An active machine whose beverages, consumers or brews were "
             "never imported, or not for two intervals of the scheduled "
             "import.")

    @api.model
    def _late_after(self):
        """How old a last sync may be: a few scheduled imports missed."""
        cron = self.env.ref(SCHEDULED_IMPORT, raise_if_not_found=False)
        interval = DEFAULT_IMPORT_INTERVAL
        if cron:
            cron = cron.sudo()
            now = datetime.now()
            interval = now + _intervalTypes[cron.interval_type](
                cron.interval_number) - now
        return interval * LATE_AFTER_INTERVALS

    @api.multi
    def _compute_last_sync(self):
        marks = self.env['coffee.backend.watermark'].sudo().search(
            [('backend_id', 'in', self.filtered('id').ids)])
        dates = dict(((mark.backend_id.id, mark.model), mark.last_sync)
                     for mark in marks)
        now = datetime.now()
        limit = fields.Datetime.to_string(now - self._late_after())
        for backend in self:
            values = [dates.get((backend.id, model_name)) or False
                      for __, model_name in SYNC_FIELDS]
            for (field_name, __), value in zip(SYNC_FIELDS, values):
                backend[field_name] = value
            oldest = min(values) if all(values) else False
            backend.last_sync_oldest = oldest
            backend.sync_lag_minutes = int(
                (now - fields.Datetime.from_string(oldest)).total_seconds()
                // 60) if oldest else 0
            backend.is_late = backend.active and (
                not oldest or oldest < limit)

    @api.model
    def _search_is_late(self, operator, value):
        if operator not in ('=', '!='):
            raise UserError(_('Late machines are searched with = or != '
                              'only, not %s.') % operator)
        late = (operator == '=') == bool(value)
        limit = fields.Datetime.to_string(
            datetime.now() - self._late_after())
        groups = self.env['coffee.backend.watermark'].sudo().read_group(
            [('last_sync', '>=', limit),
             ('model', 'in', [m for __, m in SYNC_FIELDS])],
            ['backend_id'], ['backend_id'])
        on_time = [group['backend_id'][0] for group in groups
                   if group['backend_id_count'] == len(SYNC_FIELDS)]
        if late:
            return ['&', ('active', '=', True), ('id', 'not in', on_time)]
        return ['|', ('active', '=', False), ('id', 'in', on_time)]

    @api.model
    def _coffee_last_sync_from_jobs(self):
        """11.0.2 derived the last syncs from the done jobs: the upgrade
        stores what they say (migrations/11.0.3.0.0)."""
        self.env.cr.execute("""
            INSERT INTO coffee_backend_watermark
                   (backend_id, model, last_sync,
                    create_uid, create_date, write_uid, write_date)
            SELECT job.coffee_backend_id, job.model_name,
                   max(job.date_done),
                   %(uid)s, now() at time zone 'UTC',
                   %(uid)s, now() at time zone 'UTC'
              FROM queue_job job
             WHERE job.state = %(done)s
               AND job.method_name = 'import_batch'
               AND job.model_name IN %(models)s
               AND job.coffee_backend_id IS NOT NULL
               AND job.date_done IS NOT NULL
             GROUP BY job.coffee_backend_id, job.model_name
                ON CONFLICT (backend_id, model) DO UPDATE
               SET last_sync = GREATEST(coffee_backend_watermark.last_sync,
                                        EXCLUDED.last_sync)
        """, {'uid': SUPERUSER_ID, 'done': DONE,
              'models': tuple(m for __, m in SYNC_FIELDS)})
        self.env['coffee.backend.watermark'].invalidate_cache(['last_sync'])
