# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""A job whose worker died is requeued; a re-run import changes nothing.

The worker is a real process: it loads the registry, starts jobs the way
``/queue_job/runjob`` does (written ``started`` and committed), begins
their work, and is killed with SIGKILL. The jobs live in committed
transactions of their own, removed after each test.
"""
import os
import select
import signal
import subprocess
import sys
import textwrap
import time

import odoo

from odoo.addons.component.tests.common import TransactionComponentCase

from .common import CoffeeEmulatorCase

WORKER = textwrap.dedent('''
    import sys, time
    import odoo
    from odoo.addons.queue_job.job import Job
    conf, db, marker = sys.argv[1:4]
    uuids = sys.argv[4:]
    odoo.tools.config.parse_config(['-c', conf, '-d', db,
                                    '--log-level=warn'])
    with odoo.api.Environment.manage():
        registry = odoo.registry(db)
        cr = registry.cursor()
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        for uuid in uuids:
            job = Job.load(env, uuid)
            job.set_started()
            job.store()
        cr.commit()
        # the work of the jobs, never committed
        env['res.partner'].create({'name': marker})
        env.cr.execute('SELECT 1')
        print('working', flush=True)
        time.sleep(600)
''')


class TestStuckJobs(TransactionComponentCase):
    """Jobs committed for other connections to see, removed after.

    The worker process loads the registry of the database: under Odoo's
    runner, that is after the addon is installed (post_install), not while
    it is being installed.
    """

    at_install = False
    post_install = True

    def setUp(self):
        super(TestStuckJobs, self).setUp()
        self.db = self.env.cr.dbname
        self.registry_ = odoo.registry(self.db)
        self.uuids = []
        self.addCleanup(self._remove_jobs)
        self.worker = None
        self.addCleanup(self._kill_worker)

    def _remove_jobs(self):
        with self.registry_.cursor() as cr:
            cr.execute('DELETE FROM queue_job WHERE uuid IN %s',
                       (tuple(self.uuids) or ('',),))

    def _kill_worker(self):
        if self.worker and self.worker.poll() is None:
            self.worker.kill()
            self.worker.wait(10)

    def _env(self, cr):
        return odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})

    def _queue_job(self, max_retries=None):
        """A committed pending job (an alert job of the demo 1900)."""
        with self.registry_.cursor() as cr:
            env = self._env(cr)
            backend = env.ref('connector_coffee.coffee_backend_demo_2900')
            delayed = env['coffee.backend'].with_delay(
                max_retries=max_retries,
                description='stuck job test',
            )._webhook_machine_alert(backend, 'evt_test', {})
            self.uuids.append(delayed.uuid)
            return delayed.uuid

    def _jobs(self):
        """uuid: (state, retry, result, exc_info, worker connection)."""
        with self.registry_.cursor() as cr:
            cr.execute('SELECT uuid, state, retry, result, exc_info, '
                       'worker_pg_backend FROM queue_job WHERE uuid IN %s',
                       (tuple(self.uuids),))
            return {row[0]: row[1:] for row in cr.fetchall()}

    def _requeue(self):
        with self.registry_.cursor() as cr:
            return self._env(cr)['queue.job'].requeue_dead_jobs()

    def _start_worker(self, uuids, marker):
        self.worker = subprocess.Popen(
            [sys.executable, '-c', WORKER, odoo.tools.config.rcfile,
             self.db, marker] + list(uuids),
            stdout=subprocess.PIPE, universal_newlines=True)
        ready, __, __ = select.select([self.worker.stdout], [], [], 120)
        line = self.worker.stdout.readline() if ready else ''
        self.assertEqual(line.strip(), 'working',
                         'the worker did not start the jobs')

    def test_jobs_of_a_killed_worker_are_requeued(self):
        retried = self._queue_job()
        last_try = self._queue_job(max_retries=1)
        marker = 'stuck-job-test-%d' % os.getpid()
        self._start_worker([retried, last_try], marker)
        jobs = self._jobs()
        self.assertEqual(jobs[retried][0], 'started')
        self.assertTrue(jobs[retried][4], 'the worker connection is kept')
        # while its worker lives, a started job is left alone
        self._requeue()
        self.assertEqual(
            [jobs[0] for jobs in self._jobs().values()],
            ['started', 'started'])

        os.kill(self.worker.pid, signal.SIGKILL)
        self.worker.wait(10)
        # PostgreSQL ends the backend when it reads the closed socket
        deadline = time.time() + 20
        while self._jobs()[retried][0] == 'started' \
                and time.time() < deadline:
            self._requeue()
            time.sleep(0.2)
        jobs = self._jobs()
        state, retry, result, __, __ = jobs[retried]
        self.assertEqual((state, retry), ('pending', 1))
        self.assertIn('worker running this job died', result)
        state, retry, __, exc_info, __ = jobs[last_try]
        self.assertEqual((state, retry), ('failed', 1))
        self.assertIn('used up its 1 tries', exc_info)
        # the work of the killed jobs was never committed
        with self.registry_.cursor() as cr:
            cr.execute('SELECT count(*) FROM res_partner WHERE name = %s',
                       (marker,))
            self.assertEqual(cr.fetchone()[0], 0)
        # nothing more to do: a second run changes nothing
        self.assertEqual(self._requeue(), 0)
        self.assertEqual(self._jobs(), jobs)

    def test_running_job_is_recorded_with_its_connection(self):
        uuid = self._queue_job()
        with self.registry_.cursor() as cr:
            env = self._env(cr)
            job = env['queue.job'].search([('uuid', '=', uuid)])
            job.write({'state': 'started'})
            cr.execute('SELECT pg_backend_pid()')
            pid = cr.fetchone()[0]
            self.assertTrue(job.worker_pg_backend.startswith('%d@' % pid))
            cr.commit()  # pylint: disable=invalid-commit
            # this connection lives: the job is not dead
            self.assertEqual(self._requeue(), 0)
            self.assertEqual(self._jobs()[uuid][0], 'started')
            job.write({'state': 'pending'})
            cr.commit()  # pylint: disable=invalid-commit
        self.assertEqual(self._jobs()[uuid][0], 'pending')


class TestReimportChangesNothing(CoffeeEmulatorCase):
    """A page imported again (the requeued job of a killed worker, whose
    work was rolled back, or a job run twice) writes nothing new."""

    coffee_version = '2900'

    def test_page_imported_twice(self):
        self.backend.import_all()
        self.perform_jobs()
        models = ('coffee.product.product', 'coffee.res.partner',
                  'coffee.brew')

        def snapshot():
            self.env.cache.invalidate()
            return {
                name: sorted(
                    (b.coffee_id, b.sync_date, b.coffee_updated_at)
                    for b in self.env[name].search(
                        [('backend_id', '=', self.backend.id)]))
                for name in models}

        before = snapshot()
        self.assertEqual(len(before['coffee.brew']),
                         len(self.machine_records('brews')))
        checkpoints = self.env['connector.checkpoint'].search_count([])
        # the same pages again, from the start, a second later (the
        # sync date of a binding written again would change)
        time.sleep(1.1)
        for name in models:
            self.env[name].import_batch(self.backend, full=True)
        self.perform_jobs()
        self.assertEqual(snapshot(), before)
        self.assertEqual(
            self.env['connector.checkpoint'].search_count([]), checkpoints)
