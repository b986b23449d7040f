# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""What a person sees when the machine cannot be reached or refuses us,
and what the job queue does with an overloaded machine."""
import datetime

from odoo.exceptions import UserError

from odoo.addons.queue_job.exception import FailedJobError, RetryableJobError
from odoo.addons.queue_job.job import Job

from ..emulator.harness import free_port
from .common import CoffeeEmulatorCase


class ConnectionCases(object):

    other_version = None

    def test_connection_ok_reads_the_machine(self):
        self.assertTrue(self.backend.action_test_connection())
        self.assertTrue(self.backend.machine_serial)
        self.assertEqual(self.backend.machine_currency, 'EUR')
        self.assertEqual(self.backend.machine_state, 'ready')

    def test_connection_stores_the_status_in_the_same_fields(self):
        """Both versions' answers end in the same backend fields."""
        self.backend.write({'machine_language': 'nl_BE'})
        self.backend.action_test_connection()
        self.assertEqual(
            self.backend.read(['machine_timezone', 'machine_language',
                               'machine_errors', 'machine_water_pct',
                               'machine_beans_pct',
                               'machine_descaling_due'])[0],
            dict(self.expected_status, id=self.backend.id))

    def test_connection_refused(self):
        backend = self.create_backend(
            self.coffee_version, 'http://127.0.0.1:%d' % free_port())
        with self.assertRaisesRegex(UserError, '(?i)refused|connect'):
            backend.action_test_connection()

    def test_wrong_password(self):
        backend = self.create_backend(
            self.coffee_version, self.emulator.url, password='s3cret-typo')
        with self.assertRaises(UserError) as caught:
            backend.action_test_connection()
        message = str(caught.exception.name)
        self.assertRegex(message, '(?i)username or password')
        self.assertNotIn('s3cret-typo', message)

    def test_wrong_version_on_that_url(self):
        backend = self.create_backend(self.other_version, self.emulator.url)
        with self.assertRaisesRegex(UserError, '(?i)version'):
            backend.action_test_connection()

    def test_timeout(self):
        self.sim('POST', 'faults',
                 {'rate': 1.0, 'kinds': ['hang'], 'hang_seconds': 8,
                  'seed': 3})
        backend = self.create_backend(
            self.coffee_version, self.emulator.url, timeout=2)
        with self.assertRaisesRegex(UserError, 'did not answer within 2 s'):
            backend.action_test_connection()

    def test_wrong_credentials_fail_the_job_clearly(self):
        backend = self.create_backend(
            self.coffee_version, self.emulator.url, password='s3cret-typo')
        backend.import_beverages()
        with self.assertRaises(FailedJobError) as caught:
            self.run_job(self.queued_jobs(), raise_error=True)
        self.assertRegex(str(caught.exception), '(?i)username or password')
        self.assertNotIn('s3cret-typo', str(caught.exception))

    def test_overloaded_machine_makes_the_job_retry(self):
        self.backend.action_test_connection()  # machine info known
        self.sim('POST', 'faults',
                 {'rate': 1.0, 'kinds': [self.overload_kind], 'seed': 5,
                  'paths': [self.list_path]})
        self.backend.import_beverages()
        record = self.queued_jobs()
        with self.assertRaises(RetryableJobError):
            self.run_job(record, raise_error=True)
        # after the machine's Retry-After, or as the job's retry pattern
        # says: later, never at once
        self.assertGreater(Job.load(self.env, record.uuid).eta,
                           datetime.datetime.now())
        self.assertFalse(self.env['coffee.product.product'].search(
            [('backend_id', '=', self.backend.id)]))
        # the machine recovers: the same job, performed again, imports
        self.sim('POST', 'faults', {'rate': 0})
        self.run_job(record, raise_error=True)
        self.assertEqual(
            len(self.env['coffee.product.product'].search(
                [('backend_id', '=', self.backend.id)])),
            len(self.machine_records('beverages')))


class TestConnection1900(ConnectionCases, CoffeeEmulatorCase):
    coffee_version = '1900'
    other_version = '2900'
    overload_kind = '503'
    list_path = '/api/v1/drinks'
    expected_status = {
        'machine_timezone': 'Europe/Brussels', 'machine_language': 'en_US',
        'machine_errors': False, 'machine_water_pct': 80,
        'machine_beans_pct': 55, 'machine_descaling_due': False}


class TestConnection2900(ConnectionCases, CoffeeEmulatorCase):
    coffee_version = '2900'
    other_version = '1900'
    overload_kind = '429'
    list_path = '/api/v2/beverages'
    # the 2900 has several languages: the backend's is left as it was
    expected_status = {
        'machine_timezone': 'UTC', 'machine_language': 'nl_BE',
        'machine_errors': False, 'machine_water_pct': 90,
        'machine_beans_pct': 42, 'machine_descaling_due': False}
