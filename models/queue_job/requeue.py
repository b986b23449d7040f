# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Jobs whose worker died: requeue them.

queue_job 11.0 runs a job in an Odoo worker: ``/queue_job/runjob`` writes
the job ``started`` and commits, performs it in the same database
connection, then writes it ``done`` (or failed, or postponed). A worker
killed meanwhile (SIGKILL, the out-of-memory killer, Odoo's
``limit_time_real``, a crashed host) leaves the job ``started`` for ever:
the job runner counts it as running, so it also takes a place of its
channel for ever. Its transaction died with the worker's connection, so
none of its work was committed.

The sign that a started job still runs is that the PostgreSQL connection
of the worker that started it still exists: the worker keeps that
connection while it performs the job, and PostgreSQL ends it when the
worker's process dies. The connection is recorded with the ``started``
state (process id and start time of its PostgreSQL backend: a process id
alone may be reused) and looked up in ``pg_stat_activity``. A job whose
connection is gone is put back to pending; its ``retry`` counts the
deaths, and a job that keeps killing its worker fails after its
``max_retries``.

This needs Odoo to keep its own connections (as it does), not a pooler
in transaction mode between Odoo and PostgreSQL. A job left ``enqueued``
by a runner that died is requeued by queue_job's own cron (after five
minutes).
"""
import logging

from odoo import _, api, fields, models

from odoo.addons.queue_job.job import STARTED, Job

_logger = logging.getLogger(__name__)

# one text for a backend: its process id and start time, in UTC
_BACKEND_KEY = ("{0}.pid || '@' || to_char({0}.backend_start AT TIME ZONE "
                "'UTC', 'YYYY-MM-DD HH24:MI:SS.US')")


class QueueJob(models.Model):
    _inherit = 'queue.job'

    worker_pg_backend = fields.Char(
        string='Worker Connection', readonly=True, copy=False,
        help="The PostgreSQL connection (process id and start time) of the "
             "worker that started the job. A started job whose connection "
             "is gone lost its worker: it is put back to pending.")

    @api.multi
    def write(self, vals):
        if vals.get('state') == STARTED:
            vals = dict(vals, worker_pg_backend=self._current_pg_backend())
        return super(QueueJob, self).write(vals)

    @api.model
    def _current_pg_backend(self):
        """The key of this transaction's PostgreSQL connection."""
        # pylint: disable=sql-injection
        # the only formatted part is the constant _BACKEND_KEY
        self.env.cr.execute(
            "SELECT %s FROM pg_stat_activity a WHERE a.pid = pg_backend_pid()"
            % _BACKEND_KEY.format('a'))
        row = self.env.cr.fetchone()
        return row[0] if row else False

    @api.model
    def _dead_started_jobs(self):
        """The started jobs whose worker's connection is gone, locked.

        A job locked by another transaction (being written) is skipped:
        the next run sees it.
        """
        # statistics views are read once per transaction: read them now
        self.env.cr.execute("SELECT pg_stat_clear_snapshot()")
        # pylint: disable=sql-injection
        # the only formatted part is the constant _BACKEND_KEY
        self.env.cr.execute("""
            SELECT j.id FROM queue_job j
            WHERE j.state = %%s
              AND j.worker_pg_backend IS NOT NULL
              AND NOT EXISTS (
                  SELECT 1 FROM pg_stat_activity a
                  WHERE %s = j.worker_pg_backend)
            ORDER BY j.id
            FOR UPDATE OF j SKIP LOCKED
        """ % _BACKEND_KEY.format('a'), (STARTED,))
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    @api.model
    def requeue_dead_jobs(self):
        """Put back to pending the started jobs whose worker died.

        Returns the number of jobs requeued (or failed, for those that
        used up their retries). Run by a cron every minute.
        """
        self.check_access_rights('write')
        dead = self.sudo()._dead_started_jobs()
        for record in dead:
            job_ = Job.load(record.env, record.uuid)
            job_.retry += 1
            message = _(
                'The worker running this job died (its database connection '
                '%(backend)s is gone) on try %(try)d: nothing of it was '
                'committed.') % {'backend': record.worker_pg_backend,
                                 'try': job_.retry}
            if job_.max_retries and job_.retry >= job_.max_retries:
                job_.set_failed(exc_info=message + '\n' + _(
                    'Not requeued: the job used up its %d tries.')
                    % job_.max_retries)
                _logger.warning('job %s: worker died, retries used up: '
                                'failed', job_.uuid)
            else:
                job_.set_pending(result=message, reset_retry=False)
                _logger.warning('job %s: worker died (connection %s gone): '
                                'requeued', job_.uuid,
                                record.worker_pg_backend)
            job_.store()
        return len(dead)
