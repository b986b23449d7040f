# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The fleet as a person sees it: the last successful sync of each object
stored when its chain ends, the Unreachable and Late filters, the list,
kanban and Settings, and the Coffee Machines tab of a product template.
"""
from datetime import datetime, timedelta
from unittest import mock

from lxml import etree

from odoo import fields
from odoo.tools.safe_eval import safe_eval

from .common import CoffeeEmulatorCase, CoffeeTestCase
from .test_security_secrets import migration_script

MODULE = 'connector_coffee'
SYNCED = (('last_sync_beverages', 'coffee.product.product'),
          ('last_sync_consumers', 'coffee.res.partner'),
          ('last_sync_brews', 'coffee.brew'))
MANAGER_GROUPS = ('base.group_user', 'connector.group_connector_manager')


def _ago(**delta):
    return fields.Datetime.to_string(datetime.now() - timedelta(**delta))


class TestLastSyncStored(CoffeeEmulatorCase):

    coffee_version = '2900'

    def batch_importer_class(self, model_name):
        with self.backend.work_on(model_name) as work:
            return type(work.component(usage='batch.importer'))

    def adapter_class(self, model_name):
        with self.backend.work_on(model_name) as work:
            return type(work.component(usage='backend.adapter'))

    def perform_one(self):
        self.run_job(self.queued_jobs()[:1], raise_error=True)

    def test_written_when_the_chain_ends_and_kept_without_jobs(self):
        # the brews' beverages and consumers first, in one page each: the
        # small pages of brews then stay under the machine's rate limit
        self.import_model('coffee.product.product')
        self.import_model('coffee.res.partner')
        with mock.patch.object(self.adapter_class('coffee.brew'), '_limit',
                               20), \
                mock.patch.object(self.batch_importer_class('coffee.brew'),
                                  '_chunk_size', 20):
            self.backend.import_brews()
            self.perform_one()
            # a chunk, not the end of the chain: not synced yet
            self.assertTrue(self.queued_jobs())
            self.backend.invalidate_cache()
            self.assertFalse(self.backend.last_sync_brews)
            self.perform_jobs()
        self.backend.invalidate_cache()
        synced = self.backend.last_sync_brews
        self.assertTrue(synced)
        mark = self.backend.watermark_ids.filtered(
            lambda m: m.model == 'coffee.brew')
        self.assertEqual(mark.last_sync, synced)
        # each object has its own date
        self.assertLessEqual(self.backend.last_sync_consumers, synced)
        # queue_job deletes the done jobs after 30 days
        self.env['queue.job'].search([]).unlink()
        self.backend.invalidate_cache()
        self.assertEqual(self.backend.last_sync_brews, synced)

    def test_every_object_synced_gives_the_lag(self):
        for __, model_name in SYNCED:
            self.import_model(model_name)
        self.backend.invalidate_cache()
        for field_name, __ in SYNCED:
            self.assertTrue(self.backend[field_name], field_name)
        self.assertEqual(self.backend.last_sync_oldest, min(
            self.backend[f] for f, __ in SYNCED))
        self.assertEqual(self.backend.sync_lag_minutes, 0)
        self.assertFalse(self.backend.is_late)

    def test_upgrade_from_11_0_2_fills_them_from_the_jobs(self):
        for __, model_name in SYNCED:
            self.import_model(model_name)
        jobs = self.env['queue.job'].search(
            [('coffee_backend_id', '=', self.backend.id),
             ('method_name', '=', 'import_batch'), ('state', '=', 'done')])
        # what 11.0.2 showed, the newest done job of each object
        expected = {}
        for model_name in dict(SYNCED).values():
            expected[model_name] = max(jobs.filtered(
                lambda j: j.model_name == model_name).mapped('date_done'))
        cr = self.env.cr
        # 11.0.2 had no date on the rows, nor a row for an object without
        # a watermark
        cr.execute('UPDATE coffee_backend_watermark SET last_sync = NULL')
        cr.execute("DELETE FROM coffee_backend_watermark "
                   "WHERE model = 'coffee.brew'")
        self.env['coffee.backend.watermark'].invalidate_cache()
        self.backend.invalidate_cache()
        self.assertFalse(self.backend.last_sync_beverages)
        migration_script('11.0.3.0.0', 'post-migration').migrate(
            cr, '11.0.2.0.0')
        self.backend.invalidate_cache()
        for field_name, model_name in SYNCED:
            self.assertEqual(self.backend[field_name], expected[model_name],
                             field_name)
        self.env['queue.job'].search([]).unlink()
        self.backend.invalidate_cache()
        self.assertEqual(self.backend.last_sync_brews,
                         expected['coffee.brew'])


class FleetCase(CoffeeTestCase):
    """Machines on time, late, never synced, unreachable and archived
    (none answers: nothing here talks to a machine)."""

    @classmethod
    def setUpClass(cls):
        super(FleetCase, cls).setUpClass()
        company = cls.env.user.company_id
        # logins of the class: a class whose set-up failed keeps its
        # transaction open, and the next one would wait for it forever
        cls.plain = cls.create_user('plain_%s' % cls.__name__, company)
        cls.manager = cls.create_user('manager_%s' % cls.__name__, company,
                                      MANAGER_GROUPS)
        nowhere = 'http://127.0.0.1:1'
        cls.on_time = cls.create_backend('2900', nowhere, name='On Time')
        cls.stale = cls.create_backend('1900', nowhere, name='Stale')
        cls.never = cls.create_backend('2900', nowhere, name='Never')
        cls.off = cls.create_backend('1900', nowhere, name='Off')
        cls.archived = cls.create_backend('2900', nowhere, name='Archived',
                                          active=False)
        for backend in (cls.on_time, cls.stale, cls.off):
            for __, model_name in SYNCED:
                backend._watermark_row(model_name).last_sync = _ago(
                    minutes=5)
        cls.stale._watermark_row('coffee.res.partner').last_sync = _ago(
            hours=3)
        cls.off.write({'reachability': 'unreachable',
                       'unreachable_since': _ago(minutes=20),
                       'reachability_failures': 3})
        cls.fleet = (cls.on_time | cls.stale | cls.never | cls.off |
                     cls.archived)

    def filter_domain(self, name):
        """The domain of a filter of the machines' search view."""
        arch = etree.fromstring(self.env['coffee.backend'].fields_view_get(
            view_type='search')['arch'])
        node = arch.xpath("//filter[@name='%s']" % name)
        self.assertEqual(len(node), 1, name)
        return safe_eval(node[0].get('domain'))

    def search_as(self, user, domain):
        ids = self.call_as(
            user, 'coffee.backend', 'search',
            domain + [('id', 'in', self.fleet.ids)],
            context={'active_test': False})
        return self.env['coffee.backend'].browse(ids)


class TestFleetFilters(FleetCase):

    def test_late(self):
        domain = self.filter_domain('late')
        for user in (self.plain, self.manager):
            self.assertEqual(self.search_as(user, domain),
                             self.stale | self.never, user.login)
            self.assertEqual(
                self.search_as(user, [('is_late', '=', False)]),
                self.on_time | self.off | self.archived, user.login)
            self.assertEqual(
                self.search_as(user, [('is_late', '!=', True)]),
                self.on_time | self.off | self.archived, user.login)
        self.assertEqual(self.fleet.filtered('is_late'),
                         self.stale | self.never)
        self.assertEqual(self.stale.sync_lag_minutes, 180)
        self.assertEqual(self.stale.last_sync_oldest,
                         self.stale.last_sync_consumers)
        self.assertFalse(self.never.last_sync_oldest)

    def test_late_follows_the_scheduled_import(self):
        """Two intervals of the scheduled import: every 2 hours, a sync
        of 3 hours ago is on time."""
        cron = self.env.ref('%s.ir_cron_coffee_import_all' % MODULE)
        cron.write({'interval_number': 2, 'interval_type': 'hours'})
        self.fleet.invalidate_cache()
        self.assertEqual(self.search_as(self.plain, self.filter_domain(
            'late')), self.never)
        self.assertFalse(self.stale.is_late)

    def test_unreachable_and_grouped_by_reachability(self):
        for user in (self.plain, self.manager):
            self.assertEqual(
                self.search_as(user, self.filter_domain('unreachable')),
                self.off, user.login)
            groups = self.call_as(
                user, 'coffee.backend', 'read_group',
                [('id', 'in', self.fleet.ids)], ['reachability'],
                ['reachability'])
            counts = dict((g['reachability'], g['reachability_count'])
                          for g in groups)
            self.assertEqual(counts, {'reachable': 3, 'unreachable': 1})

    def test_settings_count_the_unreachable_machines(self):
        settings = self.env['res.config.settings'].create({})
        unreachable = self.env['coffee.backend'].search_count(
            [('reachability', '=', 'unreachable')])
        self.assertEqual(settings.coffee_unreachable_count, unreachable)
        self.assertGreaterEqual(unreachable, 1)
        self.stale.reachability = 'unreachable'
        self.assertEqual(self.env['res.config.settings'].create(
            {}).coffee_unreachable_count, unreachable + 1)
        action = self.env.ref(
            '%s.coffee_backend_action_unreachable' % MODULE)
        context = safe_eval(action.context)
        self.assertEqual(context, {'search_default_unreachable': 1})
        arch = etree.fromstring(self.env['res.config.settings']
                                .fields_view_get(view_type='form')['arch'])
        block = arch.xpath("//div[@id='coffee_machines']")[0]
        self.assertTrue(block.xpath(
            ".//field[@name='coffee_unreachable_count']"))
        buttons = [int(b.get('name')) for b in block.xpath(
            ".//button[@type='action']")]
        self.assertIn(action.id, buttons)


class TestFleetViews(FleetCase):

    def view(self, user, view_type):
        result = self.call_as(user, 'coffee.backend', 'fields_view_get',
                              view_type=view_type)
        arch = etree.fromstring(result['arch'])
        names = set(arch.xpath('//field/@name'))
        self.assertLessEqual(names, set(result['fields']), view_type)
        return arch, names

    def test_list_and_kanban(self):
        action = self.env.ref('%s.coffee_backend_action' % MODULE)
        self.assertEqual(action.view_mode.split(','),
                         ['tree', 'kanban', 'form'])
        for user in (self.plain, self.manager):
            __, names = self.view(user, 'tree')
            self.assertLessEqual(
                {'machine_state', 'reachability', 'last_sync_beverages',
                 'last_sync_consumers', 'last_sync_brews',
                 'sync_lag_minutes'}, names, user.login)
            arch, names = self.view(user, 'kanban')
            self.assertLessEqual(
                {'name', 'version', 'reachability', 'machine_state',
                 'sync_lag_minutes'}, names, user.login)
            self.assertTrue(arch.xpath("//t[@t-name='kanban-box']"))
            arch, __ = self.view(user, 'search')
            self.assertTrue(arch.xpath(
                "//filter[@name='group_reachability']"))
            __, names = self.view(user, 'form')
            self.assertIn('last_sync_brews', names)
            # what the list and the cards read, as the web client does
            records = self.call_as(
                user, 'coffee.backend', 'search_read',
                [('id', 'in', self.fleet.ids)],
                ['name', 'reachability', 'sync_lag_minutes', 'is_late',
                 'last_sync_oldest', 'last_sync_brews'])
            by_name = dict((r['name'], r) for r in records)
            self.assertEqual(by_name['Off']['reachability'], 'unreachable')
            self.assertTrue(by_name['Stale']['is_late'])
            self.assertEqual(by_name['Stale']['sync_lag_minutes'], 180)
            self.assertFalse(by_name['Never']['last_sync_brews'])


class TestTemplateTab(CoffeeTestCase):

    @classmethod
    def setUpClass(cls):
        super(TestTemplateTab, cls).setUpClass()
        company = cls.env.user.company_id
        cls.plain = cls.create_user('tab_plain', company)
        cls.manager = cls.create_user('tab_manager', company, MANAGER_GROUPS)
        backend = cls.create_backend('2900', 'http://127.0.0.1:1')
        cls.product = cls.env['product.product'].create({'name': 'Cortado'})
        cls.binding = cls.env['coffee.product.product'].with_context(
            connector_no_export=True).create({
                'backend_id': backend.id, 'odoo_id': cls.product.id,
                'coffee_id': '00042', 'volume_ml': 90})

    def test_template_form_shows_the_variants_bindings(self):
        template = self.product.product_tmpl_id
        view = self.env.ref('product.product_template_only_form_view')
        result = self.call_as(self.manager, 'product.template',
                              'fields_view_get', view_id=view.id,
                              view_type='form')
        arch = etree.fromstring(result['arch'])
        field = arch.xpath("//page[@name='coffee']"
                           "/field[@name='coffee_bind_ids']")
        self.assertEqual(len(field), 1)
        self.assertEqual(field[0].get('readonly'), '1')
        self.assertIn('coffee_bind_ids', result['fields'])
        for user in (self.manager, self.plain):
            values = self.call_as(user, 'product.template', 'read',
                                  [template.id], ['coffee_bind_ids'])
            self.assertEqual(values[0]['coffee_bind_ids'],
                             [self.binding.id], user.login)
        # as on the variant's form, the tab is the connector managers'
        arch = self.call_as(self.plain, 'product.template',
                            'fields_view_get', view_id=view.id,
                            view_type='form')['arch']
        self.assertNotIn('coffee_bind_ids', arch)
