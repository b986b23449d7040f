# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo.exceptions import AccessError

from .common import CoffeeTestCase


class TestBackend(CoffeeTestCase):

    def test_versions(self):
        self.assertEqual(
            self.backend_model._select_versions(),
            [('1900', 'Version 1900'), ('2900', 'Version 2900')])
        backend = self.create_backend('2900', 'http://127.0.0.1:1')
        self.assertEqual(backend.version, '2900')
        self.assertEqual(backend.company_id, self.env.user.company_id)

    def test_work_on_uses_default_language(self):
        french = self.env['res.lang'].with_context(active_test=False).search(
            [('code', '=', 'fr_FR')])
        french.active = True
        backend = self.create_backend(
            '1900', 'http://127.0.0.1:1', default_lang_id=french.id)
        with backend.work_on('coffee.backend') as work:
            self.assertEqual(work.collection, backend)
            self.assertEqual(work.env.context.get('lang'), 'fr_FR')

    def test_password_hidden_from_plain_users(self):
        backend = self.create_backend('1900', 'http://127.0.0.1:1')
        user = self.env['res.users'].create({
            'name': 'Plain User',
            'login': 'coffee_plain_user',
            'groups_id': [(6, 0, [self.env.ref('base.group_user').id])],
        })
        as_user = backend.sudo(user)
        self.assertEqual(as_user.name, backend.name)
        with self.assertRaises(AccessError):
            as_user.read(['password'])


class TestBackendJobs(CoffeeTestCase):

    @classmethod
    def setUpClass(cls):
        super(TestBackendJobs, cls).setUpClass()
        cls.backend = cls.create_backend('2900', 'http://127.0.0.1:1')

    def test_import_all_queues_one_job_per_model(self):
        self.backend.import_all()
        jobs = self.queued_jobs().filtered(
            lambda j: j.args and j.args[0] == self.backend)
        self.assertEqual(
            sorted(jobs.mapped('model_name')),
            ['coffee.brew', 'coffee.product.product', 'coffee.res.partner'])
        self.assertEqual(set(jobs.mapped('channel')), {'root.coffee'})
        self.assertTrue(all(self.backend.name in job.name for job in jobs))
        # the first import is a full one, the next ones are not due yet
        self.assertTrue(self.backend.last_full_import)
        self.assertFalse(self.backend._full_import_due())

    def test_scheduler_imports_from_every_active_backend(self):
        archived = self.create_backend('1900', 'http://127.0.0.1:1',
                                       active=False)
        self.env['coffee.backend']._scheduler_import_all()
        backends = set(job.args[0] for job in self.queued_jobs())
        self.assertIn(self.backend, backends)
        self.assertNotIn(archived, backends)

    def test_job_of_a_backend_gone_has_no_backend(self):
        """As in a database the addon was uninstalled from (before its
        uninstall hook removed the jobs): the stored backend of a job is
        computed again at install, and its argument names a backend that
        no longer exists."""
        gone = self.create_backend('2900', 'http://127.0.0.1:1', name='Gone')
        gone.import_beverages()
        job = self.queued_jobs().filtered(lambda j: j.args[0] == gone)
        self.assertEqual(job.coffee_backend_id, gone)
        self.env.cr.execute('DELETE FROM coffee_backend WHERE id = %s',
                            (gone.id,))
        job.invalidate_cache()
        job._compute_coffee_backend_id()
        self.assertFalse(job.coffee_backend_id)

    def test_batch_job_opens_its_backend(self):
        self.backend.import_beverages()
        action = self.queued_jobs()[-1:].open_related_action()
        self.assertEqual(action['res_model'], 'coffee.backend')
        self.assertEqual(action['res_id'], self.backend.id)
