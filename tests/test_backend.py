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
