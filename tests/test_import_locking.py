# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Two jobs importing the same machine record at once make one binding."""
import odoo

from odoo.addons.queue_job.exception import RetryableJobError

from .common import CoffeeEmulatorCase


class TestImportLocking(CoffeeEmulatorCase):
    coffee_version = '2900'

    def test_concurrent_import_of_one_record_is_retried(self):
        # a backend that exists for another transaction too: the demo one,
        # pointed at this test's emulator (in this transaction only)
        backend = self.env.ref('connector_coffee.coffee_backend_demo_2900')
        backend.location = self.emulator.url
        backend.action_test_connection()
        bindings = self.env['coffee.product.product']
        registry = odoo.registry(self.env.cr.dbname)
        with registry.cursor() as other_cr:
            # another job is importing bev_espresso of this backend
            other_env = odoo.api.Environment(other_cr, odoo.SUPERUSER_ID, {})
            with other_env['coffee.backend'].browse(backend.id).work_on(
                    'coffee.product.product') as work:
                importer = work.component(usage='record.importer')
                importer.external_id = 'bev_espresso'
                importer._lock()
            with self.assertRaises(RetryableJobError):
                bindings.import_record(backend, 'bev_espresso')
            self.assertFalse(bindings.search(
                [('backend_id', '=', backend.id)]))
            other_cr.rollback()
        # once the other job's transaction is over, the import goes through
        bindings.import_record(backend, 'bev_espresso')
        self.assertEqual(
            bindings.search_count([('backend_id', '=', backend.id),
                                   ('coffee_id', '=', 'bev_espresso')]), 1)

    def test_chunk_waits_for_a_record_another_job_imports(self):
        # the chunk takes its records' locks in one query: the same locks
        # as a job that imports one of them
        backend = self.env.ref('connector_coffee.coffee_backend_demo_2900')
        backend.location = self.emulator.url
        backend.action_test_connection()
        bindings = self.env['coffee.product.product']
        registry = odoo.registry(self.env.cr.dbname)
        with registry.cursor() as other_cr:
            other_env = odoo.api.Environment(other_cr, odoo.SUPERUSER_ID, {})
            with other_env['coffee.backend'].browse(backend.id).work_on(
                    'coffee.product.product') as work:
                importer = work.component(usage='record.importer')
                importer.external_id = 'bev_espresso'
                importer._lock()
            with self.assertRaises(RetryableJobError):
                bindings.import_batch(backend)
            self.assertFalse(bindings.search(
                [('backend_id', '=', backend.id)]))
            other_cr.rollback()
        bindings.import_batch(backend)
        self.assertTrue(bindings.search(
            [('backend_id', '=', backend.id),
             ('coffee_id', '=', 'bev_espresso')]))
