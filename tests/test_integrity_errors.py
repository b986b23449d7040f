# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Integrity errors: a record the database refuses becomes a checkpoint
(its retries would be refused the same); a record another transaction
created meanwhile retries the job.

The refusal is real: a CHECK constraint added to the brews' table in the
test's transaction (rolled back with it); the concurrent record is real
too: a binding committed by another connection after the test's snapshot.
"""
import odoo
from odoo.tools import mute_logger

from odoo.addons.queue_job.exception import RetryableJobError

from ..protocol import Coffee1900Client
from .common import CoffeeEmulatorCase

CONSTRAINT = 'coffee_test_refused_brew'


class IntegrityCase(CoffeeEmulatorCase):

    def refuse_brew(self, coffee_id):
        """The database refuses a brew bound to ``coffee_id``."""
        self.env.cr.execute(
            'ALTER TABLE coffee_brew ADD CONSTRAINT %s CHECK '  # noqa
            "(coffee_id IS DISTINCT FROM '%s')" % (CONSTRAINT, coffee_id))

    def checkpoint_messages(self, backend=None):
        backend = backend or self.backend
        return self.env['connector.checkpoint'].search([
            ('backend_id', '=', 'coffee.backend,%d' % backend.id),
        ]).mapped('message')

    def brew_ids(self, backend=None):
        return set(self.env['coffee.brew'].search([
            ('backend_id', '=', (backend or self.backend).id),
        ]).mapped('coffee_id'))


class TestIntegrity2900(IntegrityCase):
    coffee_version = '2900'

    def test_batch_import_makes_a_checkpoint_of_a_refused_record(self):
        brews = [b['id'] for b in self.machine_records('brews')]
        refused = brews[0]
        self.refuse_brew(refused)
        self.import_model('coffee.product.product')
        self.import_model('coffee.res.partner')
        with mute_logger('odoo.sql_db'):
            self.import_model('coffee.brew')
        self.assertEqual(self.brew_ids(), set(brews) - {refused})
        named = [m for m in self.checkpoint_messages()
                 if refused in m and 'database refused' in m]
        self.assertEqual(len(named), 1, self.checkpoint_messages())
        self.assertIn(CONSTRAINT, named[0])

    def test_webhook_import_makes_a_checkpoint_of_a_refused_record(self):
        refused = self.machine_records('brews')[0]['id']
        self.refuse_brew(refused)
        self.env['coffee.brew'].with_delay().import_record(
            self.backend, refused)
        with mute_logger('odoo.sql_db'):
            results = self.perform_jobs()
        self.assertEqual(len(results), 1)
        self.assertIn('could not be imported', results[0])
        self.assertNotIn(refused, self.brew_ids())
        self.assertTrue([m for m in self.checkpoint_messages()
                         if refused in m and CONSTRAINT in m])

    def test_a_record_created_meanwhile_retries_the_job(self):
        """A binding committed by another transaction after this one's
        snapshot: the create hits the unique constraint, the job retries
        (its next try sees the binding)."""
        brew = self.machine_records('brews')[0]
        backend = self.env.ref('connector_coffee.coffee_backend_demo_2900')
        backend.write({'location': self.emulator.url})
        self.import_model('coffee.product.product')
        self.import_model('coffee.res.partner')
        registry = odoo.registry(self.env.cr.dbname)
        product = self.env['product.product'].search([], limit=1)
        with registry.cursor() as cr:
            cr.execute(
                "INSERT INTO coffee_brew (backend_id, coffee_id, product_id,"
                " state, active) VALUES (%s, %s, %s, 'done', true)",
                (backend.id, brew['id'], product.id))
        self.addCleanup(self._remove_committed, registry, backend.id,
                        brew['id'])
        self.env['coffee.brew'].with_delay().import_record(
            backend, brew['id'])
        with mute_logger('odoo.sql_db'), \
                self.assertRaises(RetryableJobError) as info:
            self.perform_jobs()
        self.assertIn('created by another job meanwhile',
                      str(info.exception))
        self.assertIn(brew['id'], str(info.exception))
        # the transaction goes on: only the record's savepoint was undone
        self.assertFalse(self.checkpoint_messages(backend))

    @staticmethod
    def _remove_committed(registry, backend_id, coffee_id):
        with registry.cursor() as cr:
            cr.execute('DELETE FROM coffee_brew WHERE backend_id = %s AND '
                       'coffee_id = %s', (backend_id, coffee_id))


class TestIntegrityCsv(IntegrityCase):
    coffee_version = '1900'

    def test_csv_line_refused_by_the_database_is_a_checkpoint(self):
        client = Coffee1900Client(self.emulator.url, 'coffee', 'espresso')
        try:
            log_csv = client.get_log_csv()
        finally:
            client.close()
        self.import_model('coffee.product.product')
        self.import_model('coffee.res.partner')
        lines = log_csv.rstrip('\n').split('\n')
        refused = lines[1].split(';')[0]
        self.refuse_brew(refused)
        with mute_logger('odoo.sql_db'), \
                self.backend.work_on('coffee.brew') as work:
            work.component(usage='csv.importer').run(log_csv, 'test-log.csv')
        imported = self.brew_ids()
        self.assertNotIn(refused, imported)
        # the other lines went on
        self.assertIn(lines[2].split(';')[0], imported)
        named = [m for m in self.checkpoint_messages()
                 if 'line 2' in m and CONSTRAINT in m]
        self.assertEqual(len(named), 1, self.checkpoint_messages())


class TestIntegrityPour1900(IntegrityCase):
    """The 1900 has no idempotency: a pour job retried after its bind hit
    a cup imported at the same moment would look for a free cup in the log,
    find none (the import bound it) and pour a second one."""

    coffee_version = '1900'

    def test_a_cup_imported_meanwhile_is_bound_without_a_second_pour(self):
        # a backend that other transactions see (the test's are not)
        backend = self.env.ref('connector_coffee.coffee_backend_demo_1900')
        backend.write({'location': self.emulator.url})
        backend._import('coffee.product.product')
        backend._import('coffee.res.partner')
        self.perform_jobs()
        product = self.env['coffee.product.product'].search([
            ('backend_id', '=', backend.id), ('coffee_id', '=', '3'),
        ]).odoo_id
        brew = self.env['coffee.brew'].browse(
            backend.pour_coffee(product.id))
        # the cup the machine will pour next, imported by another
        # transaction after this one's snapshot
        cup = str(max(int(e['log_no']) for e in self.machine_records('log'))
                  + 1)
        registry = odoo.registry(self.env.cr.dbname)
        with registry.cursor() as cr:
            # a product that other transactions see (the test's are not)
            cr.execute(
                "INSERT INTO coffee_brew (backend_id, coffee_id, product_id,"
                " state, active) SELECT %s, %s, min(id), 'done', true "
                "FROM product_product", (backend.id, cup))
        self.addCleanup(self._remove_committed, registry, backend.id, cup)
        self.sim('DELETE', 'counters')
        pour_job = self.queued_jobs()
        self.assertEqual(pour_job.method_name, '_pour_on_machine')
        with mute_logger('odoo.sql_db'):
            result = self.run_job(pour_job, raise_error=True).result
        self.assertEqual(self.sim('GET', 'counters')['brews_poured'], 1)
        self.assertIn('cup %s' % cup, result)
        bind_jobs = self.queued_jobs()
        self.assertEqual(bind_jobs.mapped('method_name'),
                         ['_bind_poured_cup'])
        # the import's transaction ends; the bind job's sees its cup
        self._remove_committed(registry, backend.id, cup)
        self.perform_jobs()
        self.assertEqual(brew.coffee_id, cup)
        self.assertEqual(self.sim('GET', 'counters')['brews_poured'], 1)

    @staticmethod
    def _remove_committed(registry, backend_id, coffee_id):
        TestIntegrity2900._remove_committed(registry, backend_id, coffee_id)
