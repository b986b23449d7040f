# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""One chain of import_batch jobs per machine and object: a second press
while one waits or runs queues nothing, and says so."""
import psycopg2
from psycopg2 import errorcodes

import odoo
from odoo import SUPERUSER_ID, api

from odoo.addons.component.tests.common import TransactionComponentCase

from .common import CoffeeEmulatorCase

MODELS = ['coffee.brew', 'coffee.product.product', 'coffee.res.partner']


class TestImportChain(CoffeeEmulatorCase):

    coffee_version = '2900'

    @classmethod
    def setUpClass(cls):
        super(TestImportChain, cls).setUpClass()
        company = cls.backend.company_id
        cls.manager = cls.create_user(
            'chain_manager', company,
            groups=('base.group_user', 'connector.group_connector_manager'))

    def chain_jobs(self):
        return self.env['queue.job'].search(
            [('coffee_backend_id', '=', self.backend.id),
             ('method_name', '=', 'import_batch')], order='id')

    def test_second_press_queues_nothing_and_says_so(self):
        self.assertIs(self.backend.import_beverages(), True)
        action = self.backend.import_beverages()
        self.assertEqual(len(self.chain_jobs()), 1)
        self.assertEqual(action['res_model'], 'coffee.message')
        message = self.env['coffee.message'].browse(action['res_id'])
        self.assertIn('still running', message.message)
        self.assertIn(self.backend.name, message.message)
        # the other objects are not running: they are queued
        self.backend.import_all()
        self.assertEqual(sorted(self.chain_jobs().mapped('model_name')),
                         MODELS)

    def test_running_page_and_continuation_count(self):
        self.backend.import_brews()
        first = self.chain_jobs()
        first.write({'state': 'started'})
        self.backend.import_brews()
        self.assertEqual(self.chain_jobs(), first)
        # the running page queued the next one and is done
        self.env['coffee.brew'].with_delay().import_batch(
            self.backend, state='continuation')
        first.write({'state': 'done'})
        self.backend.import_brews()
        self.assertEqual(len(self.chain_jobs()), 2)

    def test_rpc_press_during_a_chain_returns_normally(self):
        self.call_as(self.manager, 'coffee.backend', 'import_all',
                     [self.backend.id])
        self.assertEqual(len(self.chain_jobs()), 3)
        result = self.call_as(self.manager, 'coffee.backend', 'import_all',
                              [self.backend.id])
        self.assertEqual(result['res_model'], 'coffee.message')
        self.assertEqual(len(self.chain_jobs()), 3)

    def test_cron_is_silent(self):
        # the other machines of the database (demo data) are not ours
        self.env['coffee.backend'].search(
            [('id', '!=', self.backend.id)]).write({'active': False})
        scheduler = self.env['coffee.backend']._scheduler_import_all
        scheduler()
        self.assertEqual(len(self.chain_jobs()), 3)
        scheduler()
        self.assertEqual(len(self.chain_jobs()), 3)
        # once the chains are done, the next cycle imports again
        self.perform_jobs()
        scheduler()
        self.assertEqual(len(self.chain_jobs().filtered(
            lambda j: j.state == 'pending')), 3)


class TestTwoPressesAtOnce(TransactionComponentCase):
    """Two transactions queue the same import at once, as two requests
    do: the backend and the jobs are committed, removed after."""

    at_install = False
    post_install = True

    def setUp(self):
        super(TestTwoPressesAtOnce, self).setUp()
        self.registry_ = odoo.registry(self.env.cr.dbname)
        with self.registry_.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.backend_id = env['coffee.backend'].create({
                'name': 'Two presses', 'version': '2900',
                'location': 'http://127.0.0.1:9'}).id
        self.addCleanup(self._remove)

    def _remove(self):
        with self.registry_.cursor() as cr:
            cr.execute('DELETE FROM queue_job WHERE coffee_backend_id = %s',
                       (self.backend_id,))
            env = api.Environment(cr, SUPERUSER_ID, {})
            env['coffee.backend'].browse(self.backend_id).unlink()

    def test_the_second_serializes_then_sees_the_chain(self):
        first = self.registry_.cursor()
        second = self.registry_.cursor()
        self.addCleanup(first.close)
        self.addCleanup(second.close)
        backends = [api.Environment(cr, SUPERUSER_ID, {})[
            'coffee.backend'].browse(self.backend_id)
            for cr in (first, second)]
        # both read the machine before either queues (their snapshots)
        self.assertEqual(backends[0].name, backends[1].name)
        self.assertIsNone(backends[0]._queue_import('coffee.brew'))
        first.commit()
        with self.assertRaises(psycopg2.OperationalError) as caught:
            backends[1]._queue_import('coffee.brew')
        self.assertEqual(caught.exception.pgcode,
                         errorcodes.SERIALIZATION_FAILURE)
        # what Odoo's RPC layer does: the same call in a new transaction
        second.rollback()
        backends[1].invalidate_cache()
        self.assertIn('still running',
                      backends[1]._queue_import('coffee.brew'))
        second.commit()
        second.execute(
            "SELECT count(*) FROM queue_job WHERE coffee_backend_id = %s "
            "AND method_name = 'import_batch'", (self.backend_id,))
        self.assertEqual(second.fetchone()[0], 1)
