# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""A machine that does not answer becomes unreachable, costs a probe per
scheduled import, and comes back with its checkpoint completed; the jobs
of one machine run one at a time."""
import contextlib

import odoo
from odoo import api
from odoo.tools import mute_logger

from odoo.addons.connector.database import pg_try_advisory_lock
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job

from ..emulator.harness import free_port
from ..models.coffee_backend.reachability import UNREACHABLE_AFTER
from ..models.queue_job.machine_jobs import MACHINE_BUSY_RETRY_SECONDS
from .common import CoffeeEmulatorCase


class TestReachability(CoffeeEmulatorCase):

    coffee_version = '2900'

    def jobs_of(self, backend, **domain):
        terms = [('coffee_backend_id', '=', backend.id)] + [
            (key, '=', value) for key, value in domain.items()]
        return self.env['queue.job'].search(terms, order='id')

    def outage_checkpoints(self, backend):
        return self.env['connector.checkpoint'].search(
            backend._checkpoint_domain() +
            [('message', 'ilike', 'unreachable since')])

    def off_machine(self):
        """A backend whose machine refuses connections, made unreachable
        by its import job's tries."""
        backend = self.create_backend(
            self.coffee_version, 'http://127.0.0.1:%d' % free_port(),
            name='Unplugged')
        backend.import_beverages()
        record = self.jobs_of(backend)
        for __ in range(UNREACHABLE_AFTER):
            self.assertEqual(backend.reachability, 'reachable')
            job = self.run_job(record)
            self.assertEqual(job.state, 'pending')
        return backend, record

    def test_connection_failures_make_it_unreachable_once(self):
        backend, record = self.off_machine()
        self.assertEqual(backend.reachability, 'unreachable')
        self.assertTrue(backend.unreachable_since)
        self.assertEqual(backend.reachability_failures, UNREACHABLE_AFTER)
        self.assertRegex(backend.reachability_error, '(?i)refused|connect')
        checkpoint = self.outage_checkpoints(backend)
        self.assertEqual(len(checkpoint), 1)
        self.assertIn(backend.unreachable_since, checkpoint.message)
        self.assertEqual(backend.reachability_checkpoint_id, checkpoint)
        # the job already queued ends with a message, without a try
        job = self.run_job(record)
        self.assertEqual(job.state, 'done')
        self.assertEqual(job.retry, UNREACHABLE_AFTER)
        self.assertIn('Not run: Unplugged is unreachable since', job.result)
        self.assertIn('catches up', job.result)
        # the imports of an unreachable machine queue one probe, no import
        backend.import_all()
        backend.import_brews()
        self.env['coffee.backend']._scheduler_import_all()
        self.assertEqual(self.jobs_of(backend, state='pending').mapped(
            'method_name'), ['probe_machine'])
        # a probe of a machine still off ends done, and says so
        probe = self.run_job(self.jobs_of(backend, state='pending'))
        self.assertEqual(probe.state, 'done')
        self.assertIn('still no answer', probe.result)
        self.assertEqual(backend.reachability, 'unreachable')
        self.assertEqual(len(self.outage_checkpoints(backend)), 1)
        self.assertFalse(self.jobs_of(backend, state='failed'))

    def test_time_outs_count_a_slow_answer_does_not(self):
        backend = self.create_backend(
            self.coffee_version, self.emulator.url, timeout=1,
            name='Slow')
        backend.action_test_connection()
        backend.sudo().write({'reachability_failures': 2})
        # slow, within its time-out: an answer
        self.sim('POST', 'config', {'delay_ms': 400})
        backend.import_beverages()
        job = self.run_job(self.jobs_of(backend))
        self.assertEqual(job.state, 'done')
        self.assertEqual(backend.reachability, 'reachable')
        self.assertEqual(backend.reachability_failures, 0)
        self.assertTrue(self.env['coffee.product.product'].search(
            [('backend_id', '=', backend.id)]))
        # no answer within it: a time-out, counted
        self.sim('POST', 'config', {'delay_ms': 0})
        self.sim('POST', 'faults', {'rate': 1.0, 'kinds': ['hang'],
                                    'hang_seconds': 3, 'seed': 1})
        backend.import_brews()
        job = self.run_job(self.jobs_of(backend, state='pending'))
        self.assertEqual(job.state, 'pending')
        self.assertEqual(backend.reachability_failures, 1)
        self.assertRegex(backend.reachability_error, 'within 1 s')
        self.assertEqual(backend.reachability, 'reachable')

    def test_probe_brings_it_back_and_the_import_catches_up(self):
        backend = self.create_backend(
            self.coffee_version, self.emulator.url, name='Flaky Wi-Fi')
        backend.action_test_connection()
        # the other machines of the database (demo data) are not ours
        self.env['coffee.backend'].search(
            [('id', '!=', backend.id)]).write({'active': False})
        self.sim('POST', 'faults', {'rate': 1.0, 'kinds': ['drop'],
                                    'seed': 2})
        backend.import_beverages()
        record = self.jobs_of(backend)
        for __ in range(UNREACHABLE_AFTER):
            self.run_job(record)
        self.assertEqual(backend.reachability, 'unreachable')
        self.env['coffee.backend']._scheduler_import_all()
        self.assertEqual(self.run_job(record).state, 'done')  # not run
        self.assertFalse(self.env['coffee.product.product'].search(
            [('backend_id', '=', backend.id)]))
        # back on the network
        self.sim('POST', 'faults', {'rate': 0.0})
        probe = self.jobs_of(backend, method_name='probe_machine')
        self.assertEqual(len(probe), 1)
        job = self.run_job(probe)
        self.assertEqual(job.state, 'done')
        self.assertIn('answered again', job.result)
        self.assertEqual(backend.reachability, 'reachable')
        self.assertFalse(backend.unreachable_since)
        self.assertEqual(backend.reachability_failures, 0)
        checkpoint = backend.reachability_checkpoint_id
        self.assertEqual(self.outage_checkpoints(backend), checkpoint)
        self.assertIn('unreachable since', checkpoint.message)
        self.assertIn('Back on', checkpoint.message)
        imports = self.jobs_of(backend, state='pending')
        self.assertEqual(sorted(imports.mapped('model_name')), [
            'coffee.brew', 'coffee.product.product', 'coffee.res.partner'])
        self.perform_jobs()
        self.assertEqual(
            len(self.env['coffee.product.product'].search(
                [('backend_id', '=', backend.id)])),
            len(self.machine_records('beverages')))
        self.assertFalse(self.jobs_of(backend, state='failed'))

    def test_changes_for_an_unreachable_machine_wait(self):
        backend, __ = self.off_machine()
        self.env['coffee.product.product'].with_delay().export_delete(
            backend, '42')
        record = self.jobs_of(backend, method_name='export_delete')
        for __ in range(3):
            job = self.run_job(record)
            self.assertEqual(job.state, 'pending')
            self.assertEqual(job.retry, 0)
            self.assertIn('waits for it to come back', job.result)

    def test_failed_job_stores_the_last_error(self):
        backend = self.create_backend(
            self.coffee_version, self.emulator.url, password='s3cret-typo',
            name='Wrong Password')
        backend.sudo().write({'reachability_failures': 2})
        backend.import_beverages()
        with mute_logger('odoo.addons.queue_job.job'):
            job = self.run_job(self.jobs_of(backend))
        self.assertEqual(job.state, 'failed')
        backend.invalidate_cache()
        self.assertIn('Import Coffee Beverage from Wrong Password',
                      backend.last_error)
        self.assertRegex(backend.last_error, '(?i)username or password')
        self.assertTrue(backend.last_error_date)
        # it answered (a refusal): the count starts again
        self.assertEqual(backend.reachability_failures, 0)


class TestFairShare(CoffeeEmulatorCase):
    """Another transaction works for machine A, as a job run by another
    worker would."""

    coffee_version = '1900'

    def setUp(self):
        super(TestFairShare, self).setUp()
        self.other = self.create_backend(
            self.coffee_version, self.emulator.url, name='Machine B')
        self.backend.action_test_connection()
        self.other.action_test_connection()

    @contextlib.contextmanager
    def locked_elsewhere(self, lock):
        """Advisory lock ``lock`` held by another transaction meanwhile."""
        registry = odoo.registry(self.env.cr.dbname)
        with registry.cursor() as other_cr:
            other_env = api.Environment(other_cr, odoo.SUPERUSER_ID, {})
            self.assertTrue(pg_try_advisory_lock(other_env, lock))
            yield
            other_cr.rollback()

    def assert_waits_without_a_try(self, record, message):
        with self.assertRaisesRegex(RetryableJobError, message):
            self.run_job(record, raise_error=True)
        self.assertEqual(Job.load(self.env, record.uuid).retry, 0)

    def test_a_busy_machine_job_waits_without_a_try(self):
        with self.locked_elsewhere(
                'connector_coffee.machine.%d' % self.backend.id):
            self.backend.import_beverages()
            self.other.import_beverages()
            busy, free = self.queued_jobs()
            self.assert_waits_without_a_try(busy, 'working for another job')
            # a job of another machine runs meanwhile
            self.assertIn('last page', self.run_job(free).result)
        # the machine's job runs once the other one is done
        job = self.run_job(busy)
        self.assertIn('last page', job.result)
        self.assertEqual(job.retry, 1)

    def test_a_job_that_ends_wakes_the_jobs_waiting_for_its_machine(self):
        self.backend.import_beverages()
        self.backend.import_consumers()
        self.other.import_beverages()
        ended, waiting, other = self.queued_jobs()
        for record, seconds in ((waiting, MACHINE_BUSY_RETRY_SECONDS),
                                (other, MACHINE_BUSY_RETRY_SECONDS)):
            # postponed as the runner postpones a job whose machine is busy
            job = Job.load(self.env, record.uuid)
            job.postpone(seconds=seconds)
            job.set_pending(reset_retry=False)
            job.store()
        self.backend.import_brews()
        retried = self.queued_jobs() - ended - waiting - other
        job = Job.load(self.env, retried.uuid)
        job.postpone(seconds=60)  # a retry after a machine error
        job.store()
        self.assertIn('last page', self.run_job(ended).result)
        jobs = self.env['queue.job']
        self.assertEqual(jobs._coffee_wake_machine_jobs(ended.uuid), 1)
        jobs.invalidate_cache()
        self.assertFalse(waiting.eta)  # looks now
        self.assertTrue(retried.eta)  # keeps the wait its error asked for
        self.assertTrue(other.eta)  # another machine's

    def test_slow_machines_share_one_place(self):
        self.backend.write({'timeout': 1})
        # its job works longer than half its time-out: a slow machine
        self.sim('POST', 'config', {'delay_ms': 600})
        self.backend.import_beverages()
        self.assertIn('last page', self.perform_jobs()[0])
        self.assertTrue(self.backend.machine_slow)
        self.assertFalse(self.other.machine_slow)
        self.sim('POST', 'config', {'delay_ms': 0})
        # another slow machine's job works
        with self.locked_elsewhere('connector_coffee.slow_machines'):
            self.backend.import_brews()
            self.other.import_brews()
            slow, healthy = self.queued_jobs()
            self.assert_waits_without_a_try(slow, 'another slow machine')
            self.assertIn('last page', self.run_job(healthy).result)
        # fast again (well within its usual time-out): not slow any more
        self.backend.write({'timeout': 30})
        self.assertIn('last page', self.run_job(slow).result)
        self.assertFalse(self.backend.machine_slow)
