# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""One chain of import_batch jobs per machine and object: a second press
while one waits or runs queues nothing, and says so."""
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
