# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Two jobs importing the same machine record at once make one binding."""
from contextlib import contextmanager

import odoo

from odoo.addons.queue_job.exception import RetryableJobError

from .common import CoffeeEmulatorCase


class TestImportLocking(CoffeeEmulatorCase):
    coffee_version = '2900'

    def setUp(self):
        super(TestImportLocking, self).setUp()
        # a backend that exists for another transaction too: the demo one,
        # pointed at this test's emulator (in this transaction only)
        self.demo = self.env.ref('connector_coffee.coffee_backend_demo_2900')
        self.demo.location = self.emulator.url
        self.demo.action_test_connection()
        self.bindings = self.env['coffee.product.product']

    @contextmanager
    def another_job_imports(self, external_id):
        """Another transaction holds the import lock of ``external_id``,
        as the job importing it does, while the block runs."""
        registry = odoo.registry(self.env.cr.dbname)
        with registry.cursor() as other_cr:
            other_env = odoo.api.Environment(other_cr, odoo.SUPERUSER_ID, {})
            with other_env['coffee.backend'].browse(self.demo.id).work_on(
                    'coffee.product.product') as work:
                importer = work.component(usage='record.importer')
                importer.external_id = external_id
                importer._lock()
            yield
            other_cr.rollback()

    def test_concurrent_import_of_one_record_is_retried(self):
        with self.another_job_imports('bev_espresso'):
            with self.assertRaises(RetryableJobError):
                self.bindings.import_record(self.demo, 'bev_espresso')
            self.assertFalse(self.bindings.search(
                [('backend_id', '=', self.demo.id)]))
        # once the other job's transaction is over, the import goes through
        self.bindings.import_record(self.demo, 'bev_espresso')
        self.assertEqual(
            self.bindings.search_count([('backend_id', '=', self.demo.id),
                                        ('coffee_id', '=', 'bev_espresso')]),
            1)

    def test_chunk_waits_for_a_record_another_job_imports(self):
        # the chunk takes its records' locks in one query: the same locks
        # as a job that imports one of them
        with self.another_job_imports('bev_espresso'):
            with self.assertRaises(RetryableJobError):
                self.bindings.import_batch(self.demo)
            self.assertFalse(self.bindings.search(
                [('backend_id', '=', self.demo.id)]))
        self.bindings.import_batch(self.demo)
        self.assertTrue(self.bindings.search(
            [('backend_id', '=', self.demo.id),
             ('coffee_id', '=', 'bev_espresso')]))
