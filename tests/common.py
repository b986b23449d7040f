# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""What the tests of every flow share.

The tests talk to a real machine emulator process over HTTP and to a real
database; jobs are queued by the code under test and then performed here
the way the job runner performs them, in the test's transaction.

They run under pytest-odoo and under Odoo's own runner (``--test-enable``
at ``-i`` and ``-u``). There the tests run while the addon is being loaded,
before the component registry is built: component's test cases build it
(the installed addons' components and this addon's) for each class, and
the job functions of the addon (with their channels) are registered here,
as queue_job does once the registry is loaded.
"""
import inspect
import traceback

from psycopg2 import OperationalError

import odoo
from odoo import _, api
from odoo.service.model import (
    PG_CONCURRENCY_ERRORS_TO_RETRY,
    check_method_name,
    execute_cr,
)
from odoo.tests.common import get_db_name

from odoo.addons.component.tests.common import SavepointComponentCase
from odoo.addons.queue_job.controllers.main import PG_RETRY
from odoo.addons.queue_job.exception import NothingToDoJob, RetryableJobError
from odoo.addons.queue_job.job import Job

from ..emulator.harness import EmulatorProcess

# jobs that read the machine until it has done something (the follow-up of
# a poured cup): perform_jobs would run them at once, before the machine
# is done, and get their "checked again later"
WAITING_JOB_METHODS = ('_follow_poured_cup',)
#: a sync date no import writes (``mark_brews_untouched``)
UNTOUCHED = '2000-01-01 00:00:00'


class CoffeeTestCase(SavepointComponentCase):
    """A database rolled back after each test class, with the components.

    The component registry is ready from ``setUpClass`` on (component's
    cases make it ready in ``setUp`` only), since classes create backends
    and import from machines there; as in component's cases, it is not
    ready any more once the class is done.
    """

    @classmethod
    def setUpClass(cls):
        super(CoffeeTestCase, cls).setUpClass()
        cls._components_registry.ready = True
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls._register_job_functions()
        cls.backend_model = cls.env['coffee.backend']

    @classmethod
    def _register_job_functions(cls):
        """What queue_job's ``_register_hook`` does for the addon's jobs.

        Under Odoo's runner at install the hook has not run yet, so jobs
        would go to the root channel instead of their own; the rows are
        rolled back with the class.
        """
        functions = cls.env['queue.job.function']
        for model_name in cls.env.registry:
            if not model_name.startswith('coffee.'):
                continue
            model = cls.env[model_name]
            for __, method in inspect.getmembers(
                    type(model), predicate=inspect.isfunction):
                if getattr(method, 'delayable', None):
                    functions._register_job(model, method)

    @classmethod
    def tearDownClass(cls):
        cls._components_registry.ready = False
        super(CoffeeTestCase, cls).tearDownClass()

    @classmethod
    def create_backend(cls, version, location, **values):
        values.update(
            name=values.get('name', 'Test %s' % version),
            version=version,
            location=location,
            username=values.get('username', 'coffee'),
            password=values.get('password', 'espresso'),
        )
        return cls.backend_model.create(values)

    def activate_lang(self, code):
        """Language ``code`` active (loaded first if it is not)."""
        langs = self.env['res.lang'].with_context(active_test=False)
        lang = langs.search([('code', '=', code)])
        if lang:
            lang.active = True
        else:
            langs.load_lang(code)
        # the list of installed languages is cached
        langs.clear_caches()

    # -- users and RPC ------------------------------------------------------

    @classmethod
    def create_user(cls, login, company, groups=('base.group_user',),
                    **values):
        """A user of ``company`` only, in ``groups`` (xml ids)."""
        values.update(
            name=values.get('name', login), login=login,
            company_id=company.id, company_ids=[(6, 0, [company.id])],
            groups_id=[(6, 0, [cls.env.ref(g).id for g in groups])])
        return cls.env['res.users'].with_context(
            no_reset_password=True).create(values)

    def call_as(self, user, model, method, *args, **kwargs):
        """Call ``method`` of ``model`` as ``user`` the way RPC does
        (``odoo.service.model.execute``): private names are refused, then
        ``call_kw`` runs it in an environment of the user, on the test's
        cursor."""
        try:
            check_method_name(method)
            return execute_cr(self.env.cr, user.id, model, method, *args,
                              **kwargs)
        finally:
            self.env['res.users'].invalidate_cache()

    # -- jobs --------------------------------------------------------------

    def queued_jobs(self):
        """The pending jobs, but those that wait for the machine: the
        tests that follow a poured cup run its follow-up themselves."""
        return self.env['queue.job'].search(
            [('state', '=', 'pending'),
             ('method_name', 'not in', WAITING_JOB_METHODS)],
            order='date_created, id')

    def run_job(self, job_record, raise_error=False):
        """Perform one job as ``/queue_job/runjob`` does, in the test's
        transaction; returns the Job, stored ``done``, ``pending`` again
        (postponed) or ``failed``.

        Each try runs in a savepoint, where the runner has a transaction:
        a job that fails is rolled back and stored failed with its
        traceback; a ``RetryableJobError`` postpones it and keeps its work,
        as the runner commits it; a concurrency error of PostgreSQL rolls
        it back and postpones it; a ``NothingToDoJob`` ends it done with
        its message. With
        ``raise_error``, the exception of a postponed or failed job is
        raised after the job is stored, as it reaches the runner.
        """
        job = Job.load(self.env, job_record.uuid)
        job.set_enqueued()
        job.set_started()
        job.store()
        error = None
        cr = self.env.cr
        cr.execute('SAVEPOINT coffee_test_job')
        try:
            job.perform()
        except NothingToDoJob as err:
            cr.execute('RELEASE SAVEPOINT coffee_test_job')
            job.set_done(str(err) or _(
                'Job interrupted and set to Done: nothing to do.'))
        except RetryableJobError as err:
            cr.execute('RELEASE SAVEPOINT coffee_test_job')
            self._postpone(job, str(err), err.seconds)
            error = err
        except OperationalError as err:
            if err.pgcode not in PG_CONCURRENCY_ERRORS_TO_RETRY:
                self._fail(job)
            else:
                cr.execute('ROLLBACK TO SAVEPOINT coffee_test_job')
                self.env.clear()
                self._postpone(job, str(err.pgerror), PG_RETRY)
            error = err
        except Exception as err:  # pylint: disable=broad-except
            self._fail(job)
            error = err
        else:
            cr.execute('RELEASE SAVEPOINT coffee_test_job')
            job.set_done()
        job.store()
        if error is not None and raise_error:
            raise error
        return job

    @staticmethod
    def _postpone(job, message, seconds):
        job.postpone(result=message, seconds=seconds)
        job.set_pending(reset_retry=False)

    def _fail(self, job):
        """Roll the try back and write the job failed, as the runner does
        in a transaction of its own."""
        exc_info = traceback.format_exc()
        self.env.cr.execute('ROLLBACK TO SAVEPOINT coffee_test_job')
        self.env.clear()
        job.set_failed(exc_info=exc_info)

    def perform_jobs(self, limit=500):
        """Perform the pending jobs, and those they queue, in order
        (``run_job``). Returns their results. The exception of a job
        postponed or failed is raised, once the job is stored.
        """
        results = []
        for __ in range(limit):
            pending = self.queued_jobs()[:1]
            if not pending:
                return results
            results.append(self.run_job(pending, raise_error=True).result)
        raise AssertionError('more than %d jobs: a job queues itself '
                             'forever?' % limit)


class CoffeeEmulatorCase(CoffeeTestCase):
    """One emulator process per test class, and a backend on it.

    Subclasses set ``coffee_version`` (and, when they need them, the
    emulator's ``emulator_data`` and ``emulator_args``).
    """

    coffee_version = None
    emulator_data = 'demo'
    emulator_args = ()

    @classmethod
    def setUpClass(cls):
        super(CoffeeEmulatorCase, cls).setUpClass()
        cls.emulator = EmulatorProcess(
            cls.coffee_version, data=cls.emulator_data,
            extra_args=list(cls.emulator_args))
        cls.emulator.start()
        try:
            cls.backend = cls.create_backend(
                cls.coffee_version, cls.emulator.url)
        except Exception:
            cls.emulator.stop()
            raise

    def setUp(self):
        super(CoffeeEmulatorCase, self).setUp()
        # each test starts from the machine's seed data, as it starts from
        # the class's database
        self.sim('POST', 'reset', {})

    @classmethod
    def tearDownClass(cls):
        cls.emulator.stop()
        super(CoffeeEmulatorCase, cls).tearDownClass()

    def sim(self, method, path, payload=None):
        """Call one of the emulator's /_sim controls."""
        return self.emulator.sim(method, path, payload)

    def machine_requests(self):
        """The requests the machine received since the last reset of its
        counters (``{path: {status: count}}``; /_sim ones are not)."""
        return self.sim('GET', 'counters')['requests']

    def reset_machine_requests(self):
        self.sim('DELETE', 'counters')

    def machine_records(self, kind):
        """Every record of ``kind`` the machine has, as its API shows it."""
        return self.sim('GET', 'snapshot?kind=%s&full=1' % kind)['items']

    def mark_brews_untouched(self):
        """Every write of an importer sets ``sync_date``: mark the brews of
        the backend old, for ``touched_brews`` to tell which one an import
        wrote since."""
        self.env.cr.execute(
            'UPDATE coffee_brew SET sync_date = %s WHERE backend_id = %s',
            (UNTOUCHED, self.backend.id))
        self.env['coffee.brew'].invalidate_cache()

    def touched_brews(self):
        return self.env['coffee.brew'].search(
            [('backend_id', '=', self.backend.id)]).filtered(
                lambda b: b.sync_date != UNTOUCHED)

    def import_model(self, model_name, full=False):
        """Run a whole import of ``model_name`` as the job queue would."""
        self.backend._import(model_name, full=full)
        return self.perform_jobs()


class WebhookURLMixin(object):
    """Requests through Odoo's WSGI application on the test's cursor.

    The registry's test mode makes the controller's cursor the test's one:
    what a request commits is a savepoint of it, and everything is rolled
    back at the end.
    """

    def set_up_webhook(self, name, secret):
        """A 2900 backend with ``secret`` and ``self.path``, its URL."""
        self.registry = odoo.registry(get_db_name())
        self.registry.enter_test_mode()
        self.addCleanup(self.registry.leave_test_mode)
        self.cr = self.registry.cursor()
        self.addCleanup(self.cr.close)
        self.env = api.Environment(self.cr, odoo.SUPERUSER_ID, {})
        self.addCleanup(self.env.reset)
        self.backend = self.env['coffee.backend'].create({
            'name': name, 'version': '2900',
            'location': 'http://127.0.0.1:9', 'username': 'coffee',
            'password': 'espresso', 'webhook_secret': secret})
        self.path = '/connector_coffee/webhook/%d' % self.backend.id
        # what the requests roll back to: on the test cursor, a savepoint
        self.cr.commit()  # pylint: disable=invalid-commit
