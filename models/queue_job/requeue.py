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

A started job holds a lock for as long as it runs: a row of
``queue.job.run.lock``, created with the ``started`` state and locked by
the transaction that performs the job (``Job.perform`` takes it). PostgreSQL
releases the lock when that transaction ends, however it ends: a commit,
a rollback, or the death of the worker's connection. The cron requeues a
started job only when it can take its lock (``SKIP LOCKED``), whatever the
database roles of the workers and whatever ``pg_stat_activity`` shows.
A job's ``retry`` counts the deaths, and a job that keeps killing its worker
fails after its ``max_retries``.

The lock is taken just after ``started`` is committed: a job started less
than ``REQUEUE_GRACE_SECONDS`` ago is not judged yet, so that this moment is
never taken for a death. The cron waits for such young jobs to come of age
and looks again, so that a job whose worker died is requeued at the first
run of the cron after its death (within a minute), not one run later. A job
left ``enqueued`` by a runner that died is requeued by queue_job's own cron
(after five minutes).
"""
import logging
import time

from odoo import _, api, fields, models

from odoo.addons.queue_job.job import STARTED, Job

_logger = logging.getLogger(__name__)

#: a job started less than this long ago is never taken for dead (seconds)
REQUEUE_GRACE_SECONDS = 10


class QueueJobRunLock(models.Model):
    """One row per started job, locked by the transaction running it."""

    _name = 'queue.job.run.lock'
    _description = 'Lock of a Running Job'
    _log_access = False

    job_id = fields.Many2one(
        comodel_name='queue.job', string='Job', required=True, index=True,
        ondelete='cascade')

    _sql_constraints = [
        ('job_uniq', 'unique(job_id)', 'A job has one lock.'),
    ]


class QueueJob(models.Model):
    _inherit = 'queue.job'

    @api.multi
    def _coffee_state_written(self, state):
        if state == STARTED:
            # committed with the state; the rows of jobs that ended stay
            # (unlocked) and go with their job
            self.env.cr.execute(
                'INSERT INTO queue_job_run_lock (job_id) '
                'SELECT unnest(%s) ON CONFLICT (job_id) DO NOTHING',
                (list(self.ids),))
        return super(QueueJob, self)._coffee_state_written(state)

    @api.model
    def _coffee_hold_run_lock(self, uuid):
        """Lock the row of the started job ``uuid`` until this transaction
        ends (called as the job's work starts)."""
        self.env.cr.execute("""
            SELECT l.id FROM queue_job_run_lock l
            JOIN queue_job j ON j.id = l.job_id
            WHERE j.uuid = %s
            FOR UPDATE OF l
        """, (uuid,))

    @api.model
    def _dead_started_jobs(self):
        """The started jobs whose lock is free: nobody runs them.

        Their lock rows and job rows are locked for this transaction; a job
        whose row another transaction is writing is skipped (the next run
        sees it).
        """
        self.env.cr.execute("""
            SELECT j.id FROM queue_job j
            JOIN queue_job_run_lock l ON l.job_id = j.id
            WHERE j.state = %s
              AND j.date_started < (clock_timestamp() AT TIME ZONE 'UTC')
                  - interval '1 second' * %s
            ORDER BY j.id
            FOR UPDATE OF l, j SKIP LOCKED
        """, (STARTED, REQUEUE_GRACE_SECONDS))
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    @api.model
    def _seconds_until_judged(self):
        """How long until every job started now is old enough to be
        judged (0: there is none). Their locks are not probed: probing
        would take the lock their worker is about to take."""
        self.env.cr.execute("""
            SELECT max(%s - extract(epoch FROM
                       (clock_timestamp() AT TIME ZONE 'UTC') - date_started))
            FROM queue_job
            WHERE state = %s AND date_started >=
                  (clock_timestamp() AT TIME ZONE 'UTC')
                  - interval '1 second' * %s
        """, (REQUEUE_GRACE_SECONDS, STARTED, REQUEUE_GRACE_SECONDS))
        seconds = self.env.cr.fetchone()[0]
        return max(0.0, float(seconds or 0))

    @api.model
    def requeue_dead_jobs(self):
        """Put back to pending the started jobs whose worker died.

        Returns the number of jobs requeued (or failed, for those that
        used up their retries). Run by a cron every minute.
        """
        self.check_access_rights('write')
        jobs = self.sudo()
        count = jobs._requeue(jobs._dead_started_jobs())
        wait = jobs._seconds_until_judged()
        if wait:
            time.sleep(wait + 0.1)
            count += jobs._requeue(jobs._dead_started_jobs())
        return count

    @api.model
    def _requeue(self, dead):
        """Requeue (or fail, when its tries are used up) each job of
        ``dead``; their number."""
        for record in dead:
            job_ = Job.load(record.env, record.uuid)
            job_.retry += 1
            message = _(
                'The worker running this job died (the lock its transaction '
                'held is free) on try %(try)d: nothing of it was '
                'committed.') % {'try': job_.retry}
            if job_.max_retries and job_.retry >= job_.max_retries:
                job_.set_failed(exc_info=message + '\n' + _(
                    'Not requeued: the job used up its %d tries.')
                    % job_.max_retries)
                _logger.warning('job %s: worker died, retries used up: '
                                'failed', job_.uuid)
            else:
                job_.set_pending(result=message, reset_retry=False)
                _logger.warning('job %s: worker died (its lock is free): '
                                'requeued', job_.uuid)
            job_.store()
        return len(dead)


def _perform(self):
    """Job.perform, holding the job's run lock while the job works, if
    its machine lets it run (see machine_jobs.py)."""
    jobs = self.env['queue.job']
    if not hasattr(jobs, '_coffee_hold_run_lock'):
        # a database without this addon has no lock to take
        return _perform.origin(self)
    jobs.sudo()._coffee_hold_run_lock(self.uuid)
    return jobs.sudo()._coffee_perform(self, _perform.origin)


if not hasattr(Job.perform, 'origin'):
    _perform.origin = Job.perform
    Job.perform = _perform
