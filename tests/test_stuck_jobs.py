# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""A job whose worker died is requeued, one whose worker lives is not; a
re-run import changes nothing.

The worker is a real process: it loads the registry, runs a job the way
``/queue_job/runjob`` does (written ``started`` and committed, then
performed), works long, and is killed with SIGKILL; one connects as
another PostgreSQL role. The jobs live in committed transactions of their
own, removed after each test.
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

from ..models.queue_job.requeue import REQUEUE_GRACE_SECONDS
from .common import CoffeeEmulatorCase

WORKER = textwrap.dedent('''
    import sys, time
    import odoo
    from odoo.addons.queue_job.job import Job
    conf, db, marker, uuid = sys.argv[1:5]
    odoo.tools.config.parse_config(['-c', conf, '-d', db,
                                    '--log-level=warn'] + sys.argv[5:])

    def _webhook_machine_alert(self, *args, **kwargs):
        """The job's long work, never committed."""
        self.env['res.partner'].create({'name': marker})
        self.env.cr.execute('SELECT 1')
        print('working', flush=True)
        time.sleep(600)

    with odoo.api.Environment.manage():
        registry = odoo.registry(db)
        # the job's method, made long in this process only
        registry['coffee.backend']._webhook_machine_alert = \
            _webhook_machine_alert
        cr = registry.cursor()
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        # what /queue_job/runjob does
        job = Job.load(env, uuid)
        job.set_started()
        job.store()
        cr.commit()
        job.perform()
''')


class TestStuckJobs(TransactionComponentCase):
    """Jobs committed for other connections to see, removed after.

    Each job runs in a worker process of its own, as /queue_job/runjob
    runs it (written started and committed, then performed), and works
    long. The worker process loads the registry of the database: under
    Odoo's runner, that is after the addon is installed (post_install),
    not while it is being installed.
    """

    at_install = False
    post_install = True

    def setUp(self):
        super(TestStuckJobs, self).setUp()
        self.db = self.env.cr.dbname
        self.registry_ = odoo.registry(self.db)
        self.uuids = []
        self.addCleanup(self._remove_jobs)
        self.workers = []
        self.addCleanup(self._kill_workers)

    def _remove_jobs(self):
        with self.registry_.cursor() as cr:
            cr.execute('DELETE FROM queue_job WHERE uuid IN %s',
                       (tuple(self.uuids) or ('',),))

    def _kill_workers(self):
        for worker in self.workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait(10)

    def _env(self, cr):
        return odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})

    def _queue_job(self, max_retries=None):
        """A committed pending job (an alert job of the demo 2900)."""
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
        """uuid: (state, retry, result, exc_info)."""
        with self.registry_.cursor() as cr:
            cr.execute('SELECT uuid, state, retry, result, exc_info '
                       'FROM queue_job WHERE uuid IN %s',
                       (tuple(self.uuids),))
            return {row[0]: row[1:] for row in cr.fetchall()}

    def _requeue(self):
        with self.registry_.cursor() as cr:
            return self._env(cr)['queue.job'].requeue_dead_jobs()

    def _start_worker(self, uuid, marker, options=()):
        worker = subprocess.Popen(
            [sys.executable, '-c', WORKER, odoo.tools.config.rcfile,
             self.db, marker, uuid] + list(options),
            stdout=subprocess.PIPE, universal_newlines=True)
        self.workers.append(worker)
        ready, __, __ = select.select([worker.stdout], [], [], 120)
        line = worker.stdout.readline() if ready else ''
        self.assertEqual(line.strip(), 'working',
                         'the worker did not start its job')
        return worker

    def _past_the_grace(self):
        """Wait until the started jobs are old enough to be requeued."""
        time.sleep(REQUEUE_GRACE_SECONDS + 1)

    def _kill_and_requeue(self, workers, *uuids):
        for worker in workers:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(10)
        # PostgreSQL ends each backend when it reads the closed socket, not
        # all of them at once: wait until every killed job is requeued
        deadline = time.time() + 60
        while time.time() < deadline and any(
                self._jobs()[uuid][0] == 'started' for uuid in uuids):
            self._requeue()
            time.sleep(0.2)

    def test_jobs_of_a_killed_worker_are_requeued(self):
        retried = self._queue_job()
        last_try = self._queue_job(max_retries=1)
        marker = 'stuck-job-test-%d' % os.getpid()
        workers = [self._start_worker(retried, marker),
                   self._start_worker(last_try, marker)]
        self._past_the_grace()
        # while its worker lives, a started job is left alone
        self.assertEqual(self._requeue(), 0)
        self.assertEqual(
            [jobs[0] for jobs in self._jobs().values()],
            ['started', 'started'])

        self._kill_and_requeue(workers, retried, last_try)
        jobs = self._jobs()
        state, retry, result, __ = jobs[retried]
        self.assertEqual((state, retry), ('pending', 1))
        self.assertIn('worker running this job died', result)
        state, retry, __, exc_info = jobs[last_try]
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

    def test_a_job_killed_as_it_starts_is_requeued_by_the_next_run(self):
        """A worker killed within the grace (the drill kills as soon as a
        job runs) is requeued by the next run of the cron, which waits for
        the job to come of age: not one run, a minute, later."""
        uuid = self._queue_job()
        worker = self._start_worker(uuid, 'stuck-job-young-%d' % os.getpid())
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
        # PostgreSQL ends the backend when it reads the closed socket
        deadline = time.time() + 20
        while self._backend_of_job_alive(uuid) and time.time() < deadline:
            time.sleep(0.1)
        with self.registry_.cursor() as cr:
            cr.execute("SELECT (now() AT TIME ZONE 'UTC') - date_started "
                       "< interval '1 second' * %s FROM queue_job "
                       "WHERE uuid = %s", (REQUEUE_GRACE_SECONDS, uuid))
            self.assertTrue(cr.fetchone()[0], 'the job is past the grace: '
                            'the test would prove nothing')
        self.assertEqual(self._requeue(), 1)
        self.assertEqual(self._jobs()[uuid][:2], ('pending', 1))

    def _backend_of_job_alive(self, uuid):
        """The job's lock is still held (its worker's session lives)."""
        with self.registry_.cursor() as cr:
            cr.execute("""
                SELECT l.id FROM queue_job_run_lock l
                JOIN queue_job j ON j.id = l.job_id WHERE j.uuid = %s
                FOR UPDATE OF l SKIP LOCKED""", (uuid,))
            return not cr.fetchall()

    def test_worker_of_another_role_is_not_taken_for_dead(self):
        """PostgreSQL hides the connection details of other roles'
        sessions (without pg_read_all_stats): what the cron decides must
        not depend on them."""
        role, password = self._other_role()
        dsn = self.env.cr._cnx.get_dsn_parameters()
        uuid = self._queue_job()
        worker = self._start_worker(
            uuid, 'stuck-job-role-test-%d' % os.getpid(),
            options=['--db_host=127.0.0.1',
                     '--db_port=%s' % dsn.get('port', 5432),
                     '--db_user=%s' % role, '--db_password=%s' % password])
        with self.registry_.cursor() as cr:
            cr.execute("SELECT count(*) FROM pg_stat_activity WHERE "
                       "usename = %s AND backend_start IS NULL", (role,))
            self.assertTrue(cr.fetchone()[0],
                            'the worker session is visible in full: the '
                            'test would prove nothing')
        self._past_the_grace()
        for __ in range(3):
            self.assertEqual(self._requeue(), 0)
        self.assertEqual(self._jobs()[uuid][0], 'started')
        self._kill_and_requeue([worker], uuid)
        self.assertEqual(self._jobs()[uuid][:2], ('pending', 1))

    def _other_role(self):
        """A login role that may do what this one does, dropped after."""
        role = 'coffee_test_worker_%d' % os.getpid()
        password = 'pw-%d-%d' % (os.getpid(), int(time.time()))
        with self.registry_.cursor() as cr:
            cr.execute('SELECT current_user')
            me = cr.fetchone()[0]
            # pylint: disable=sql-injection
            # names made here of digits, quoted as identifiers
            cr.execute('CREATE ROLE "%s" LOGIN PASSWORD %%s IN ROLE "%s"'
                       % (role, me), (password,))
        self.addCleanup(self._drop_role, role)
        return role, password

    def _drop_role(self, role):
        self._kill_workers()
        deadline = time.time() + 20
        with self.registry_.cursor() as cr:
            while time.time() < deadline:
                cr.execute('SELECT count(*) FROM pg_stat_activity WHERE '
                           'usename = %s', (role,))
                if not cr.fetchone()[0]:
                    break
                time.sleep(0.2)
            # pylint: disable=sql-injection
            cr.execute('DROP ROLE IF EXISTS "%s"' % role)

    def test_running_job_holds_its_lock(self):
        uuid = self._queue_job()
        with self.registry_.cursor() as cr:
            env = self._env(cr)
            job = env['queue.job'].search([('uuid', '=', uuid)])
            job.write({'state': 'started',
                       'date_started': '2000-01-01 00:00:00'})
            cr.commit()  # pylint: disable=invalid-commit
            env['queue.job']._coffee_hold_run_lock(uuid)
            # this transaction holds the lock: the job is not dead
            self.assertEqual(self._requeue(), 0)
            self.assertEqual(self._jobs()[uuid][0], 'started')
            cr.rollback()
        # the lock is free: nobody runs the job
        self.assertEqual(self._requeue(), 1)
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
