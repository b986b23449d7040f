# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Who may read and change what, checked over the ORM as each user.

The machine's credentials and the webhook secret are for connector
managers; everyone else reads the machines of their company and its
brews, and changes nothing.
"""
from odoo.exceptions import AccessError

from .common import CoffeeTestCase


class TestSecurity(CoffeeTestCase):

    @classmethod
    def setUpClass(cls):
        super(TestSecurity, cls).setUpClass()
        env = cls.env
        cls.company_a = env.user.company_id
        cls.company_b = env['res.company'].create({'name': 'Coffee Corp B'})
        users = env['res.users'].with_context(no_reset_password=True)
        group_user = env.ref('base.group_user')
        group_manager = env.ref('connector.group_connector_manager')
        cls.plain_user = users.create({
            'name': 'Plain Coffee Drinker',
            'login': 'coffee_security_plain',
            'company_id': cls.company_a.id,
            'company_ids': [(6, 0, [cls.company_a.id])],
            'groups_id': [(6, 0, [group_user.id])],
        })
        cls.manager = users.create({
            'name': 'Coffee Connector Manager',
            'login': 'coffee_security_manager',
            'company_id': cls.company_a.id,
            'company_ids': [(6, 0, [cls.company_a.id])],
            'groups_id': [(6, 0, [group_user.id, group_manager.id])],
        })
        # machines that answer nothing: no test here talks to one
        cls.backend_a = cls.create_backend(
            '2900', 'http://127.0.0.1:1', name='Machine A',
            company_id=cls.company_a.id)
        cls.backend_a.sudo().write({'webhook_secret': 'whsec_a'})
        cls.backend_b = cls.create_backend(
            '2900', 'http://127.0.0.1:1', name='Machine B',
            company_id=cls.company_b.id)
        product = env['product.product'].create({'name': 'Ristretto'})
        brews = env['coffee.brew']
        cls.brew_a = brews.create({
            'backend_id': cls.backend_a.id, 'product_id': product.id,
            'company_id': cls.company_a.id, 'coffee_id': 'brw_a',
            'price': 0.5, 'state': 'done'})
        cls.brew_b = brews.create({
            'backend_id': cls.backend_b.id, 'product_id': product.id,
            'company_id': cls.company_b.id, 'coffee_id': 'brw_b',
            'price': 0.7, 'state': 'done'})

    def test_plain_user_cannot_read_the_secrets(self):
        backend = self.backend_a.sudo(self.plain_user)
        self.assertEqual(backend.read(['name'])[0]['name'], 'Machine A')
        for field_name in ('password', 'webhook_secret'):
            with self.assertRaises(AccessError, msg=field_name):
                backend.read([field_name])
            self.assertNotIn(field_name, backend.fields_get())
        # a plain read returns the other fields, never the secrets
        values = backend.read()[0]
        self.assertNotIn('password', values)
        self.assertNotIn('webhook_secret', values)

    def test_plain_user_form_has_no_secret(self):
        arch = self.env['coffee.backend'].sudo(
            self.plain_user).fields_view_get(view_type='form')['arch']
        self.assertNotIn('name="password"', arch)
        self.assertNotIn('name="webhook_secret"', arch)
        self.assertNotIn('name="last_error"', arch)

    def test_manager_sees_the_secrets_are_set(self):
        """A mask: the clear text is the connector's alone."""
        values = self.backend_a.sudo(self.manager).read(
            ['password', 'webhook_secret'])[0]
        self.assertEqual(values['password'], '******')
        self.assertEqual(values['webhook_secret'], '******')
        self.assertEqual(self.backend_a._coffee_secret('password'),
                         'espresso')
        self.assertEqual(self.backend_a._coffee_secret('webhook_secret'),
                         'whsec_a')
        arch = self.env['coffee.backend'].sudo(
            self.manager).fields_view_get(view_type='form')['arch']
        self.assertIn('name="password"', arch)

    def test_plain_user_cannot_change_a_machine(self):
        backend = self.backend_a.sudo(self.plain_user)
        with self.assertRaises(AccessError):
            backend.write({'location': 'http://evil.example.com'})
        with self.assertRaises(AccessError):
            backend.copy()
        with self.assertRaises(AccessError):
            backend.unlink()
        with self.assertRaises(AccessError):
            self.env['coffee.backend'].sudo(self.plain_user).create({
                'name': 'Mine', 'version': '1900',
                'location': 'http://127.0.0.1:1'})
        self.assertEqual(self.backend_a.location, 'http://127.0.0.1:1')

    def test_plain_user_cannot_sync(self):
        """Imports and Test connection write the backend as superuser and
        queue jobs: not for a plain user."""
        backend = self.backend_a.sudo(self.plain_user)
        jobs_before = self.env['queue.job'].search_count([])
        for method in ('import_beverages', 'import_consumers',
                       'import_brews', 'import_all',
                       'action_test_connection'):
            with self.assertRaises(AccessError, msg=method):
                getattr(backend, method)()
        self.assertEqual(self.env['queue.job'].search_count([]), jobs_before)

    def test_manager_changes_and_syncs_a_machine(self):
        backend = self.backend_a.sudo(self.manager)
        backend.write({'timeout': 12})
        self.assertEqual(self.backend_a.timeout, 12)
        backend.import_beverages()
        job = self.env['queue.job'].search(
            [('coffee_backend_id', '=', self.backend_a.id)])
        self.assertEqual(len(job), 1)
        self.assertEqual(job.user_id, self.manager)

    def test_users_see_the_machines_of_their_company(self):
        for user in (self.plain_user, self.manager):
            found = self.env['coffee.backend'].sudo(user).search(
                [('id', 'in', (self.backend_a | self.backend_b).ids)])
            self.assertEqual(found, self.backend_a, user.login)
            with self.assertRaises(AccessError):
                self.backend_b.sudo(user).read(['name'])

    def test_users_see_the_brews_of_their_company(self):
        both = self.brew_a | self.brew_b
        for user in (self.plain_user, self.manager):
            brews = self.env['coffee.brew'].sudo(user)
            self.assertEqual(brews.search([('id', 'in', both.ids)]),
                             self.brew_a, user.login)
            with self.assertRaises(AccessError):
                self.brew_b.sudo(user).read(['price'])
            # the pivot's totals do not count the other company's cups
            totals = brews.read_group(
                [('id', 'in', both.ids)], ['price'], [])
            self.assertAlmostEqual(totals[0]['price'], 0.5)

    def test_user_of_both_companies_switches(self):
        """The rule follows the user's current company."""
        self.manager.write({
            'company_ids': [(4, self.company_b.id)],
            'company_id': self.company_b.id})
        brews = self.env['coffee.brew'].sudo(self.manager)
        self.assertEqual(
            brews.search([('id', 'in', (self.brew_a | self.brew_b).ids)]),
            self.brew_b)

    def test_users_see_the_bindings_of_their_company(self):
        partners = self.env['res.partner']
        consumers = self.env['coffee.res.partner'].with_context(
            connector_no_export=True)
        consumer_a = consumers.create({
            'backend_id': self.backend_a.id, 'coffee_id': 'con_a',
            'odoo_id': partners.create({'name': 'Ann'}).id})
        consumer_b = consumers.create({
            'backend_id': self.backend_b.id, 'coffee_id': 'con_b',
            'odoo_id': partners.create({'name': 'Bob'}).id})
        self.backend_b.sudo()._set_watermark('coffee.brew', '2026-01-01')
        for user in (self.plain_user, self.manager):
            self.assertEqual(
                self.env['coffee.res.partner'].sudo(user).search(
                    [('id', 'in', (consumer_a | consumer_b).ids)]),
                consumer_a, user.login)
            self.assertFalse(
                self.env['coffee.backend.watermark'].sudo(user).search(
                    [('backend_id', '=', self.backend_b.id)]))
            # the form's list of watermarks reads as the user
            self.backend_a.sudo(user).read(['watermark_ids'])

    def test_plain_user_cannot_change_brews(self):
        brew = self.brew_a.sudo(self.plain_user)
        self.assertEqual(brew.read(['price'])[0]['price'], 0.5)
        with self.assertRaises(AccessError):
            brew.write({'price': 0.0})
        with self.assertRaises(AccessError):
            brew.unlink()

    def test_plain_user_sees_no_jobs_nor_checkpoints(self):
        """The smart buttons of those count 0 rather than fail."""
        self.backend_a.add_checkpoint(message='Check the grinder')
        backend = self.backend_a.sudo(self.plain_user)
        self.assertEqual(backend.checkpoint_count, 0)
        self.assertEqual(backend.job_count, 0)
        self.assertEqual(backend.brew_count, 1)
        self.assertEqual(self.backend_a.sudo(self.manager).checkpoint_count,
                         1)
