# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The jobs that talk to a machine: one of a machine at a time, none
against a machine known to be off.

queue_job 11 limits channels, not machines: it reads the capacities from
the configuration at start and gives a new subchannel no limit. So the
share of a machine is kept here, as a job starts its work (in
``Job.perform``, see requeue.py): a job whose machine is already working
for another job waits a few seconds, without using a try, or until that
job ends (it wakes its machine's waiting jobs, controllers/runjob.py).
With the coffee channel's few places, a slow machine then holds one place
at most, and the other machines' jobs take the others; the slow machines
(a job that works long) share one place between them; a machine that does
not answer stops holding any once it is unreachable.
"""
import time

from odoo import _, api, models

from odoo.addons.connector.database import pg_try_advisory_lock
from odoo.addons.queue_job.exception import NothingToDoJob, RetryableJobError
from odoo.addons.queue_job.job import FAILED, PENDING

from ..brew.command import POUR_METHOD

#: jobs that read from the machine: the import after an outage catches up
MACHINE_IMPORT_JOBS = frozenset([
    'import_batch', 'import_record', 'import_removed', '_follow_poured_cup'])
#: jobs that change the machine: they wait for it
MACHINE_WRITE_JOBS = frozenset([
    'export_record', 'export_delete', POUR_METHOD])
PROBE_JOB = 'probe_machine'
MACHINE_JOBS = MACHINE_IMPORT_JOBS | MACHINE_WRITE_JOBS | {PROBE_JOB}
#: seconds before a job of a machine busy with another job looks again
MACHINE_BUSY_RETRY_SECONDS = 3
#: seconds before a change for an unreachable machine looks again
UNREACHABLE_RETRY_SECONDS = 120
#: a job of a machine that works longer than this (or than half the
#: machine's time-out, when shorter) makes the machine slow (seconds)
SLOW_JOB_SECONDS = 10


class QueueJob(models.Model):
    _inherit = 'queue.job'

    @api.model
    def _coffee_perform(self, job_, perform):
        """``perform(job_)``, if the job's machine lets it run now.

        A job of an unreachable machine does not run: an import ends done
        with a message, a change waits. A job whose machine runs another
        job waits. Neither uses a try (``ignore_retry``).

        A job of a machine that fails (any job of a machine) is rolled back
        to a savepoint here, before
        /queue_job/runjob writes it failed in a transaction of its own:
        that write stores the error on the machine, and must not wait
        for the rows the failed job locked (the runner rolls that
        transaction back anyway, later). A retried job keeps its work:
        the runner commits it (the count of connection failures).
        """
        record = self.search([('uuid', '=', job_.uuid)], limit=1)
        backend = record.coffee_backend_id
        if not backend:
            return perform(job_)
        if job_.method_name not in MACHINE_JOBS:
            return self._coffee_perform_in_savepoint(job_, perform)
        if backend.reachability == 'unreachable' and \
                job_.method_name != PROBE_JOB:
            if job_.method_name in MACHINE_IMPORT_JOBS:
                job_.result = _(
                    'Not run: %s; the import after it comes back catches '
                    'up.') % backend._unreachable_message()
                return job_.result
            raise RetryableJobError(
                _('%s: waits for it to come back.')
                % backend._unreachable_message(),
                seconds=UNREACHABLE_RETRY_SECONDS, ignore_retry=True)
        if not pg_try_advisory_lock(
                self.env, 'connector_coffee.machine.%d' % backend.id):
            raise RetryableJobError(
                _waiting(_('%s is working for another job: waits.')
                         % backend.name, job_),
                seconds=MACHINE_BUSY_RETRY_SECONDS, ignore_retry=True)
        if backend.machine_slow and not pg_try_advisory_lock(
                self.env, 'connector_coffee.slow_machines'):
            raise RetryableJobError(
                _waiting(_('%s is slow, and another slow machine is '
                           'working: waits.') % backend.name, job_),
                seconds=MACHINE_BUSY_RETRY_SECONDS, ignore_retry=True)
        started = time.time()
        try:
            result = self._coffee_perform_in_savepoint(job_, perform)
        except (RetryableJobError, NothingToDoJob):
            self._coffee_time_machine(backend, time.time() - started)
            raise
        self._coffee_time_machine(backend, time.time() - started)
        return result

    @api.model
    def _coffee_wake_machine_jobs(self, uuid):
        """The job ``uuid`` ended and its machine is free: the machine's
        jobs that would look again within ``MACHINE_BUSY_RETRY_SECONDS``
        (those that found it busy) look now. Called once the ended job is
        committed (controllers/runjob.py); a waiting job another
        transaction holds is left to its time."""
        self.env.cr.execute("""
            UPDATE queue_job SET eta = NULL
             WHERE id IN (
                SELECT waiting.id
                  FROM queue_job waiting
                  JOIN queue_job ended
                    ON ended.coffee_backend_id = waiting.coffee_backend_id
                 WHERE ended.uuid = %s
                   AND waiting.state = %s
                   AND waiting.method_name IN %s
                   AND waiting.eta <= (clock_timestamp() AT TIME ZONE 'UTC')
                       + interval '1 second' * %s
                   FOR UPDATE OF waiting SKIP LOCKED)
        """, (uuid, PENDING, tuple(MACHINE_JOBS),
              MACHINE_BUSY_RETRY_SECONDS))
        return self.env.cr.rowcount

    @api.model
    def _coffee_perform_in_savepoint(self, job_, perform):
        """``perform(job_)``; what a failed one wrote is rolled back at
        once (see ``_coffee_perform``)."""
        cr = self.env.cr
        cr.execute('SAVEPOINT coffee_machine_job')
        try:
            result = perform(job_)
        except (RetryableJobError, NothingToDoJob):
            raise
        except Exception:
            cr.execute('ROLLBACK TO SAVEPOINT coffee_machine_job')
            self.env.clear()
            raise
        cr.execute('RELEASE SAVEPOINT coffee_machine_job')
        return result

    @api.model
    def _coffee_time_machine(self, backend, seconds):
        """A machine whose job worked ``seconds`` is slow, or not any more.

        The jobs of slow machines run one at a time in the whole channel
        (their own lock): the one place per machine alone would let two
        slow machines take both places of a channel of capacity 2 while the
        healthy ones wait; so at least one place stays theirs.
        """
        limit = min(SLOW_JOB_SECONDS, (backend.timeout or 30) / 2.0)
        slow = seconds > limit
        if slow != backend.machine_slow:
            backend.write({'machine_slow': slow})

    @api.multi
    def _coffee_state_written(self, state):
        if state == FAILED:
            for record in self.filtered('coffee_backend_id'):
                # connection failures are retried: a machine job that
                # failed before its tries ran out had an answer
                answered = record.method_name in MACHINE_JOBS and (
                    not record.max_retries or
                    record.retry < record.max_retries)
                record.coffee_backend_id._coffee_job_failed(
                    record, answered=answered)
        return super(QueueJob, self)._coffee_state_written(state)


def _waiting(note, job_):
    """``note``, and what the job's last try said (a wait must not hide
    what the machine did)."""
    last = (job_.result or '').split('\n')[-1]
    return '%s\n%s' % (note, last) if last and last != note else note
