# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Every public method checks the caller's rights before anything reaches
a machine, a job or someone's inbox; job methods check again when they
run, as the user who queued them.

Each method is called the way RPC calls it, as a plain internal user, as a
connector manager and as a connector manager of another company; a refusal
is checked on the machine too: it received no request at all.
"""
import inspect

from odoo.exceptions import AccessError
from odoo.tools import mute_logger

from .common import CoffeeEmulatorCase, CoffeeTestCase

MANAGER_GROUPS = ('base.group_user', 'connector.group_connector_manager')

# Every public method of the addon's models and wizards, and how it is
# guarded (the tests below try each one).
PUBLIC_METHODS = {
    # connector managers of the machine's company
    ('coffee.backend', 'action_test_connection'): 'manager',
    ('coffee.backend', 'import_beverages'): 'manager',
    ('coffee.backend', 'import_consumers'): 'manager',
    ('coffee.backend', 'import_brews'): 'manager',
    ('coffee.backend', 'import_all'): 'manager',
    ('coffee.backend', 'probe_machine'): 'manager',
    ('coffee.backend', 'add_checkpoint'): 'manager',
    ('coffee.backend', 'register_webhook'): 'manager',
    ('coffee.backend', 'unregister_webhook'): 'manager',
    ('coffee.product.product', 'import_batch'): 'manager',
    ('coffee.product.product', 'import_record'): 'manager',
    ('coffee.res.partner', 'import_batch'): 'manager',
    ('coffee.res.partner', 'import_record'): 'manager',
    ('coffee.res.partner', 'import_removed'): 'manager',
    ('coffee.brew', 'import_batch'): 'manager',
    ('coffee.brew', 'import_record'): 'manager',
    ('coffee.brew', 'import_log_csv'): 'manager',
    ('coffee.brew.csv.import', 'action_import'): 'manager',
    ('coffee.partner.badge', 'action_create_badge'): 'manager',
    # write access to the bound Odoo record (and to the binding for its
    # own values)
    ('coffee.product.product', 'export_record'): 'record',
    ('coffee.product.product', 'export_delete'): 'record',
    ('coffee.res.partner', 'export_record'): 'record',
    ('coffee.res.partner', 'export_delete'): 'record',
    ('coffee.brew', 'export_record'): 'record',
    ('coffee.brew', 'export_delete'): 'record',
    # internal users of the machine's company; other badges: managers
    ('coffee.backend', 'pour_coffee'): 'pour',
    ('coffee.pour.coffee', 'action_pour'): 'pour',
    # open a list or a form: nothing reaches a machine, a job or a mail
    ('coffee.backend', 'action_open_products'): 'read',
    ('coffee.backend', 'action_open_consumers'): 'read',
    ('coffee.backend', 'action_open_brews'): 'read',
    ('coffee.backend', 'action_open_jobs'): 'read',
    ('coffee.backend', 'action_open_checkpoints'): 'read',
    # connector's API, a context manager: nothing runs over RPC
    ('coffee.backend', 'work_on'): 'context manager',
    # ORM overrides, guarded by the ORM's access rights; read_group
    # refuses the secrets
    ('coffee.backend', 'read_group'): 'orm',
    ('connector.checkpoint', 'create'): 'orm',
    ('connector.checkpoint', 'message_post'): 'orm',
    ('queue.job', 'write'): 'orm',
    # queue.job is for job managers only (queue_job's access rights)
    ('queue.job', 'related_action_coffee_backend'): 'job manager',
    ('queue.job', 'related_action_coffee_record'): 'job manager',
    ('queue.job', 'requeue_dead_jobs'): 'job manager',
}


class TestPublicMethods(CoffeeTestCase):

    def test_every_public_method_is_listed(self):
        """A new public method must say how it is guarded (and get its
        test): the list above is the addon's whole public surface."""
        found = set()
        for model_name in self.env.registry:
            cls = type(self.env[model_name])
            for klass in cls.__mro__:
                if not klass.__module__.startswith(
                        'odoo.addons.connector_coffee.'):
                    continue
                for name, value in vars(klass).items():
                    if name.startswith('_') or not inspect.isfunction(
                            value):
                        continue
                    if getattr(value, 'delayable', False) and \
                            model_name == 'coffee.binding':
                        continue  # the abstract model: its children count
                    found.add((model_name, name))
        found = set((model, name) for model, name in found
                    if model != 'coffee.binding')
        self.assertEqual(found - set(PUBLIC_METHODS), set(),
                         'public methods without a guard in the list')

    def test_private_methods_are_not_callable_remotely(self):
        user = self.create_user('rights_private', self.env.user.company_id)
        for model, method in (('coffee.brew', '_pour_on_machine'),
                              ('coffee.brew', '_follow_poured_cup'),
                              ('coffee.backend', '_webhook_machine_alert'),
                              ('coffee.backend', '_coffee_secret'),
                              ('coffee.backend', '_client')):
            with self.assertRaises(AccessError):
                self.call_as(user, model, method, [])

    def test_job_managers_only_for_queue_jobs(self):
        user = self.create_user('rights_jobs', self.env.user.company_id,
                                MANAGER_GROUPS)
        with self.assertRaises(AccessError):
            self.call_as(user, 'queue.job', 'requeue_dead_jobs', [])


class RightsCases(object):
    """The same doors on both protocols; subclasses name the demo ids."""

    espresso = None
    jane_badge = None
    blocked = None  # machine id of a blocked consumer
    consumer_kind = None
    beverage_kind = None

    @classmethod
    def setUpClass(cls):
        super(RightsCases, cls).setUpClass()
        env = cls.env
        cls.company_a = env.user.company_id
        cls.company_b = env['res.company'].create(
            {'name': 'Rights Corp B %s' % cls.coffee_version})
        cls.backend.company_id = cls.company_a
        env['ir.config_parameter'].set_param('web.base.url',
                                             'http://127.0.0.1:9')
        suffix = cls.coffee_version
        cls.plain = cls.create_user('rights_plain_' + suffix, cls.company_a)
        cls.manager = cls.create_user('rights_manager_' + suffix,
                                      cls.company_a, MANAGER_GROUPS)
        cls.other = cls.create_user('rights_other_' + suffix, cls.company_b,
                                    MANAGER_GROUPS)
        # allowed to edit products (no group of this database may) and
        # partners, not a connector manager
        product_editors = env['res.groups'].create({
            'name': 'Coffee test: product editors',
            'model_access': [(0, 0, {
                'name': 'edit %s' % model, 'model_id': env.ref(xmlid).id,
                'perm_read': True, 'perm_write': True})
                for model, xmlid in (
                    ('product', 'product.model_product_product'),
                    ('template', 'product.model_product_template'))],
        })
        cls.editor = cls.create_user('rights_editor_' + suffix,
                                     cls.company_a,
                                     ('base.group_user',
                                      'base.group_partner_manager'))
        cls.editor.groups_id = [(4, product_editors.id)]
        cls.refused_users = (cls.plain, cls.other)

    def setUp(self):
        super(RightsCases, self).setUp()
        self.import_model('coffee.product.product')
        self.import_model('coffee.res.partner')
        self.espresso_binding = self.binding('coffee.product.product',
                                             self.espresso)
        self.jane = self.env['coffee.res.partner'].search(
            [('backend_id', '=', self.backend.id),
             ('badge', '=', self.jane_badge)])
        self.assertEqual(len(self.jane), 1)
        self.reset_machine_requests()

    # -- helpers -------------------------------------------------------------

    def binding(self, model, coffee_id):
        binding = self.env[model].with_context(active_test=False).search(
            [('backend_id', '=', self.backend.id),
             ('coffee_id', '=', coffee_id)])
        self.assertEqual(len(binding), 1)
        return binding

    def state(self):
        """What the connector could have changed: jobs, checkpoints,
        brews, mails."""
        return (self.env['queue.job'].search_count([]),
                self.env['connector.checkpoint'].search_count([]),
                self.env['coffee.brew'].search_count([]),
                self.env['mail.message'].search_count([]),
                self.env['coffee.res.partner'].with_context(
                    active_test=False).search_count([]))

    def assert_refused(self, users, model, method, *args, **kwargs):
        """Refused for each user, and nothing happened: no request reached
        the machine, no job, checkpoint, brew nor mail."""
        for user in users:
            before = self.state()
            self.reset_machine_requests()
            with self.assertRaises(AccessError, msg='%s %s.%s' % (
                    user.login, model, method)):
                self.call_as(user, model, method, *args, **kwargs)
            self.assertEqual(self.machine_requests(), {},
                             '%s %s.%s reached the machine' % (
                                 user.login, model, method))
            self.assertEqual(self.state(), before, '%s %s.%s' % (
                user.login, model, method))

    def machine_record(self, kind, external_id):
        for record in self.machine_records(kind):
            if self.id_of(record) == external_id:
                return record
        return None

    # -- connector managers only -------------------------------------------

    def test_backend_buttons(self):
        for method in ('action_test_connection', 'import_beverages',
                       'import_consumers', 'import_brews', 'import_all',
                       'register_webhook', 'unregister_webhook'):
            self.assert_refused(self.refused_users, 'coffee.backend', method,
                                [self.backend.id])
        self.call_as(self.manager, 'coffee.backend', 'import_all',
                     [self.backend.id])
        jobs = self.env['queue.job'].search(
            [('coffee_backend_id', '=', self.backend.id),
             ('state', '=', 'pending')])
        self.assertEqual(len(jobs), 3)
        self.assertEqual(jobs.mapped('user_id'), self.manager)
        self.assertTrue(self.call_as(self.manager, 'coffee.backend',
                                     'action_test_connection',
                                     [self.backend.id]))

    def test_add_checkpoint(self):
        self.assert_refused(self.refused_users, 'coffee.backend',
                            'add_checkpoint', [self.backend.id],
                            message='Click <a href="http://evil">here</a>')
        self.call_as(self.manager, 'coffee.backend', 'add_checkpoint',
                     [self.backend.id], message='Check the grinder')
        self.assertEqual(self.env['connector.checkpoint'].search_count(
            [('message', '=', 'Check the grinder')]), 1)

    def test_job_methods_called_over_rpc(self):
        backend_id = self.backend.id
        for model in ('coffee.product.product', 'coffee.res.partner',
                      'coffee.brew'):
            self.assert_refused(self.refused_users, model, 'import_batch',
                                backend_id)
            self.assert_refused(self.refused_users, model, 'import_record',
                                backend_id, self.espresso)
        self.assert_refused(self.refused_users, 'coffee.res.partner',
                            'import_removed', backend_id)
        self.assert_refused(self.refused_users, 'coffee.backend',
                            'probe_machine', [backend_id])
        attachment = self.env['ir.attachment'].create({
            'name': 'log.csv', 'datas': b'', 'res_model': 'coffee.backend',
            'res_id': backend_id})
        self.assert_refused(self.refused_users, 'coffee.brew',
                            'import_log_csv', backend_id, attachment.id,
                            'log.csv')
        # a manager's call imports
        self.call_as(self.manager, 'coffee.product.product', 'import_record',
                     backend_id, self.espresso, force=True)
        self.assertTrue(self.machine_requests())

    def test_badge_wizard(self):
        partner = self.env['res.partner'].create({'name': 'Newcomer'})
        for user in self.refused_users:
            wizard_id = self.call_as(user, 'coffee.partner.badge', 'create', {
                'partner_id': partner.id, 'backend_id': self.backend.id,
                'badge': '7777'})
            self.assert_refused([user], 'coffee.partner.badge',
                                'action_create_badge', [wizard_id])
        self.assertFalse(partner.coffee_bind_ids)

    def test_job_checks_again_when_it_runs(self):
        """Queued by a manager who is no longer one when it runs: the job
        fails before the machine."""
        self.call_as(self.manager, 'coffee.backend', 'import_beverages',
                     [self.backend.id])
        self.manager.groups_id = [(3, self.env.ref(
            'connector.group_connector_manager').id)]
        self.reset_machine_requests()
        with self.assertRaises(AccessError):
            self.perform_jobs()
        self.assertEqual(self.machine_requests(), {})

    # -- exports: write access to the bound record ---------------------------

    def test_export_record_needs_write_access(self):
        """A price only Odoo has: a plain user cannot send it (nor revert
        the machine's)."""
        before = self.machine_record(self.beverage_kind, self.espresso)
        self.espresso_binding.odoo_id.with_context(
            connector_no_export=True).write({'list_price': 0.05})
        self.assert_refused(self.refused_users, 'coffee.product.product',
                            'export_record', [self.espresso_binding.id],
                            fields=['list_price'])
        self.assertEqual(self.machine_record(self.beverage_kind,
                                             self.espresso), before)

    def test_unblock_needs_a_manager(self):
        blocked = self.binding('coffee.res.partner', self.blocked)
        self.assertTrue(blocked.blocked)
        blocked.with_context(connector_no_export=True).write(
            {'blocked': False})
        before = self.machine_record(self.consumer_kind, self.blocked)
        # the editor may change the partner, not the binding's flag
        self.assert_refused(self.refused_users + (self.editor,),
                            'coffee.res.partner', 'export_record',
                            [blocked.id], fields=['blocked'])
        self.assert_refused(self.refused_users + (self.editor,),
                            'coffee.res.partner', 'export_record',
                            [blocked.id])
        self.assertEqual(self.machine_record(self.consumer_kind,
                                             self.blocked), before)

    def test_export_delete_needs_write_access(self):
        self.assert_refused(self.refused_users + (self.editor,),
                            'coffee.res.partner', 'export_delete',
                            self.backend.id, self.jane.coffee_id)
        self.assertTrue(self.machine_record(self.consumer_kind,
                                            self.jane.coffee_id))

    def test_editor_edits_are_exported(self):
        """Allowed to edit the product and the partner, not a connector
        manager: the export is queued as the editor and succeeds."""
        product = self.espresso_binding.odoo_id
        self.call_as(self.editor, 'product.product', 'write', [product.id],
                     {'list_price': 1.55})
        self.call_as(self.editor, 'res.partner', 'write',
                     [self.jane.odoo_id.id], {'name': 'Jane Editor'})
        jobs = self.env['queue.job'].search(
            [('method_name', '=', 'export_record')])
        self.assertEqual(len(jobs), 2)
        self.assertEqual(jobs.mapped('user_id'), self.editor)
        self.perform_jobs()
        self.env['res.users'].invalidate_cache()
        self.assertEqual(self.machine_price(self.machine_record(
            self.beverage_kind, self.espresso)), 1.55)
        self.assertEqual(self.machine_record(
            self.consumer_kind, self.jane.coffee_id)[self.name_key],
            'Jane Editor')
        self.assertEqual(self.espresso_binding.coffee_updated_at,
                         self.machine_record(self.beverage_kind,
                                             self.espresso)[self.stamp_key])

    def test_export_checks_again_when_it_runs(self):
        """The editor lost the right to edit products before the job ran:
        it fails before the machine."""
        product = self.espresso_binding.odoo_id
        self.call_as(self.editor, 'product.product', 'write', [product.id],
                     {'list_price': 1.65})
        self.editor.groups_id = [(6, 0, [self.env.ref('base.group_user').id])]
        before = self.machine_record(self.beverage_kind, self.espresso)
        self.reset_machine_requests()
        with self.assertRaises(AccessError):
            self.perform_jobs()
        self.assertEqual(self.machine_requests(), {})
        self.assertEqual(self.machine_record(self.beverage_kind,
                                             self.espresso), before)

    # -- pour a coffee ---------------------------------------------------------

    def test_plain_user_pours_anonymous_and_own_cups(self):
        # one cup after the other: the machine is not busy with the first
        self.sim('POST', 'brew-seconds', {'seconds': 0})
        product_id = self.espresso_binding.odoo_id.id
        brew_id = self.call_as(self.plain, 'coffee.backend', 'pour_coffee',
                               [self.backend.id], product_id)
        # the plain user's own partner holds Jane's badge
        self.jane.with_context(connector_no_export=True).write(
            {'odoo_id': self.plain.partner_id.id})
        own_id = self.call_as(self.plain, 'coffee.backend', 'pour_coffee',
                              [self.backend.id], product_id,
                              self.plain.partner_id.id)
        jobs = self.env['queue.job'].search(
            [('method_name', '=', '_pour_on_machine')])
        self.assertEqual(jobs.mapped('user_id'), self.plain)
        self.perform_jobs()
        self.env['res.users'].invalidate_cache()
        brews = self.env['coffee.brew'].browse([brew_id, own_id])
        self.assertTrue(all(brews.mapped('coffee_id')))
        self.assertEqual(brews[1].partner_id, self.plain.partner_id)
        self.assertEqual(self.sim('GET', 'counters')['brews_poured'], 2)

    def test_other_badges_need_a_manager(self):
        product_id = self.espresso_binding.odoo_id.id
        jane = self.jane.odoo_id.id
        self.assert_refused((self.plain, self.other, self.editor),
                            'coffee.backend', 'pour_coffee',
                            [self.backend.id], product_id, jane)
        self.assert_refused((self.other,), 'coffee.backend', 'pour_coffee',
                            [self.backend.id], product_id)
        for user in (self.plain, self.other):
            wizard_id = self.call_as(user, 'coffee.pour.coffee', 'create', {
                'backend_id': self.backend.id, 'product_id': product_id,
                'partner_id': jane})
            self.assert_refused([user], 'coffee.pour.coffee', 'action_pour',
                                [wizard_id])
        brew_id = self.call_as(self.manager, 'coffee.backend', 'pour_coffee',
                               [self.backend.id], product_id, jane)
        self.perform_jobs()
        self.env['res.users'].invalidate_cache()
        self.assertTrue(self.env['coffee.brew'].browse(brew_id).coffee_id)

    def test_opening_lists_acts_on_nothing(self):
        for method in ('action_open_products', 'action_open_consumers',
                       'action_open_brews', 'action_open_jobs',
                       'action_open_checkpoints'):
            before = self.state()
            action = self.call_as(self.plain, 'coffee.backend', method,
                                  [self.backend.id])
            self.assertEqual(action['type'], 'ir.actions.act_window')
            self.assertEqual(self.state(), before)
            with self.assertRaises(AccessError):
                self.call_as(self.other, 'coffee.backend', method,
                             [self.backend.id])
        self.assertEqual(self.machine_requests(), {})


class TestRights1900(RightsCases, CoffeeEmulatorCase):
    coffee_version = '1900'
    espresso = '3'
    jane_badge = '00042'
    blocked = '2001'
    consumer_kind = 'cards'
    beverage_kind = 'drinks'
    name_key = 'holder'
    stamp_key = 'modified'

    @staticmethod
    def id_of(record):
        return str(record.get('card_no') or record.get('drink_no'))

    @staticmethod
    def machine_price(record):
        return record['price_cents'] / 100.0


class TestRights2900(RightsCases, CoffeeEmulatorCase):
    coffee_version = '2900'
    espresso = 'bev_espresso'
    jane_badge = '00042'
    blocked = 'con_b10c4d'
    consumer_kind = 'consumers'
    beverage_kind = 'beverages'
    name_key = 'name'
    stamp_key = 'updated_at'

    @staticmethod
    def id_of(record):
        return record['id']

    @staticmethod
    def machine_price(record):
        return float(record['price']['amount'])

    def test_webhook_registration(self):
        self.assert_refused(self.refused_users, 'coffee.backend',
                            'register_webhook', [self.backend.id])
        with mute_logger('odoo.addons.connector_coffee.models.'
                         'coffee_backend.webhook'):
            self.assertTrue(self.call_as(self.manager, 'coffee.backend',
                                         'register_webhook',
                                         [self.backend.id]))
        self.assertTrue(self.machine_records('webhooks'))
        self.assert_refused(self.refused_users, 'coffee.backend',
                            'unregister_webhook', [self.backend.id])
        self.assertTrue(self.machine_records('webhooks'))
