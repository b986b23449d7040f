# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""What a person sees: every view renders, every action and smart button
lists the right records after a real import from the emulator, the
Settings block leads to the machines, and the French translation loads.
"""
from lxml import etree

from odoo.tools.safe_eval import safe_eval

from odoo.addons.queue_job.job import Job

from .common import CoffeeEmulatorCase, CoffeeTestCase

MODULE = 'connector_coffee'


def _module_records(env, model):
    data = env['ir.model.data'].search(
        [('module', '=', MODULE), ('model', '=', model)])
    return env[model].browse(data.mapped('res_id'))


class TestViewsRender(CoffeeTestCase):

    def test_every_view_renders(self):
        """As the administrator and as a connector manager (some fields
        and buttons are for the managers only)."""
        views = _module_records(self.env, 'ir.ui.view')
        self.assertGreater(len(views), 15)
        group_manager = self.env.ref('connector.group_connector_manager')
        manager = self.env['res.users'].with_context(
            no_reset_password=True).create({
                'name': 'View Manager', 'login': 'coffee_views_manager',
                'groups_id': [(6, 0, [self.env.ref('base.group_user').id,
                                      group_manager.id])]})
        for view in views:
            for env in (self.env, self.env(user=manager.id)):
                model = env[view.model]
                result = model.fields_view_get(
                    view_id=view.id, view_type=view.type)
                arch = etree.fromstring(result['arch'])
                # the fields of this model (not those of a sub-view)
                for node in arch.xpath('//field[not(ancestor::field)]'):
                    self.assertIn(node.get('name'), result['fields'],
                                  view.xml_id)

    def test_every_window_action_opens(self):
        """Its domain and context evaluate, its model is searched and each
        of its view types renders."""
        actions = _module_records(self.env, 'ir.actions.act_window')
        self.assertIn(self.env.ref('%s.coffee_brew_action' % MODULE),
                      actions)
        for action in actions:
            context = safe_eval(action.context or '{}', {'active_id': 1,
                                                         'uid': self.uid})
            domain = safe_eval(action.domain or '[]', {'uid': self.uid})
            model = self.env[action.res_model].with_context(**context)
            model.search(domain, limit=10)
            for view_type in action.view_mode.split(','):
                model.fields_view_get(view_type=view_type)

    def test_menus_open_their_actions(self):
        menus = _module_records(self.env, 'ir.ui.menu')
        names = {menu.name: menu for menu in menus}
        self.assertEqual(
            set(names), {'Coffee', 'Backends', 'Beverages', 'Consumers',
                         'Brews'})
        brew_action = self.env.ref('%s.coffee_brew_action' % MODULE)
        self.assertEqual(names['Brews'].action, brew_action)
        self.assertEqual(brew_action.view_mode, 'tree,form,pivot,graph')
        self.assertEqual(names['Beverages'].action.res_model,
                         'coffee.product.product')
        self.assertEqual(names['Consumers'].action.res_model,
                         'coffee.res.partner')
        for menu in menus.filtered('action'):
            self.assertEqual(menu.parent_id,
                             self.env.ref('%s.menu_coffee_root' % MODULE))
        # the menu is shown to the connector managers
        visible = self.env['ir.ui.menu'].sudo(self.env.ref(
            'base.user_root')).search([('id', 'in', menus.ids)])
        self.assertEqual(visible, menus)

    def test_settings_block_links_to_the_machines(self):
        arch = self.env['res.config.settings'].fields_view_get(
            view_type='form')['arch']
        root = etree.fromstring(arch)
        block = root.xpath("//div[@id='coffee_machines']")
        self.assertEqual(len(block), 1)
        self.assertEqual(block[0].xpath('string(h2)'), 'Coffee Machines')
        # inside the General Settings app block
        self.assertEqual(
            block[0].getparent().get('data-key'), 'general_settings')
        button = block[0].xpath(".//button[@type='action']")[0]
        self.assertEqual(button.get('string'), 'Configure Coffee Machines')
        action = self.env.ref('%s.coffee_backend_action' % MODULE)
        self.assertEqual(int(button.get('name')), action.id)
        self.assertEqual(action.res_model, 'coffee.backend')

    def test_product_and_partner_forms_show_the_bindings(self):
        for model, xmlid in (('product.product',
                              'product.product_normal_form_view'),
                             ('product.template',
                              'product.product_template_only_form_view'),
                             ('res.partner', 'base.view_partner_form')):
            arch = etree.fromstring(self.env[model].fields_view_get(
                view_id=self.env.ref(xmlid).id, view_type='form')['arch'])
            fields = arch.xpath("//field[@name='coffee_bind_ids']")
            self.assertEqual(len(fields), 1, model)
            page = fields[0].xpath('ancestor::page')[0]
            self.assertNotIn(page.get('modifiers') or '',
                             ('{"invisible": true}',), model)

    def test_checkpoint_views_show_a_message(self):
        """A message checkpoint has no record: the form says its message
        instead of "Click on the  to verify it"."""
        arch = etree.fromstring(
            self.env['connector.checkpoint'].fields_view_get(
                view_type='form')['arch'])
        self.assertTrue(arch.xpath("//sheet//field[@name='message']"))
        tree = etree.fromstring(
            self.env['connector.checkpoint'].fields_view_get(
                view_type='tree')['arch'])
        self.assertTrue(tree.xpath("//field[@name='name']"))


class TestSmartButtons(CoffeeEmulatorCase):
    """After an import from a 2900 emulator with its demo data."""

    coffee_version = '2900'

    @classmethod
    def setUpClass(cls):
        super(TestSmartButtons, cls).setUpClass()
        # another machine's records, that no button of ours may list
        cls.other = cls.create_backend('1900', 'http://127.0.0.1:1',
                                       name='Other Machine')
        product = cls.env['product.product'].create({'name': 'Lungo'})
        cls.other_brew = cls.env['coffee.brew'].create({
            'backend_id': cls.other.id, 'product_id': product.id,
            'company_id': cls.other.company_id.id, 'coffee_id': '1'})
        beverages = cls.env['coffee.product.product'].with_context(
            connector_no_export=True)
        cls.other_beverage = beverages.create({
            'backend_id': cls.other.id, 'odoo_id': product.id,
            'coffee_id': '7'})

    def import_everything(self):
        for model_name in ('coffee.product.product', 'coffee.res.partner',
                           'coffee.brew'):
            self.import_model(model_name)

    def open(self, method):
        """What the button's action lists, as the web client searches."""
        action = getattr(self.backend, method)()
        self.assertEqual(action['type'], 'ir.actions.act_window')
        domain = action['domain']
        if isinstance(domain, str):
            domain = safe_eval(domain)
        model = self.env[action['res_model']]
        for view_type in action['view_mode'].split(','):
            model.fields_view_get(view_type=view_type)
        return model.search(domain)

    def test_buttons_count_and_list_the_backends_records(self):
        self.import_everything()
        machine = {
            model_name: {r['id'] for r in self.machine_records(kind)}
            for model_name, kind in (
                ('coffee.product.product', 'beverages'),
                ('coffee.res.partner', 'consumers'),
                ('coffee.brew', 'brews'))}
        self.backend.invalidate_cache()
        for method, count_field, model_name in (
                ('action_open_products', 'product_count',
                 'coffee.product.product'),
                ('action_open_consumers', 'consumer_count',
                 'coffee.res.partner'),
                ('action_open_brews', 'brew_count', 'coffee.brew')):
            records = self.open(method)
            self.assertEqual(records.mapped('backend_id'), self.backend,
                             method)
            self.assertEqual(records, self.env[model_name].search(
                [('backend_id', '=', self.backend.id)]), method)
            self.assertEqual(self.backend[count_field], len(records), method)
            self.assertTrue(records, method)
            self.assertLessEqual(set(records.mapped('coffee_id')),
                                 machine[model_name], method)
        self.assertNotIn(self.other_brew, self.open('action_open_brews'))
        self.assertNotIn(self.other_beverage,
                         self.open('action_open_products'))
        # the machine's imports are done: no open job, and the status
        # area says when each object was imported
        self.assertEqual(self.backend.job_count, 0)
        self.assertFalse(self.open('action_open_jobs'))
        for field_name in ('last_sync_beverages', 'last_sync_consumers',
                           'last_sync_brews'):
            self.assertTrue(self.backend[field_name], field_name)
        self.assertFalse(self.backend.last_error)

    def test_open_jobs_button(self):
        self.backend.import_beverages()
        self.other.import_brews()
        self.backend.invalidate_cache()
        jobs = self.open('action_open_jobs')
        self.assertEqual(len(jobs), 1)
        self.assertEqual(self.backend.job_count, 1)
        self.assertEqual(jobs.coffee_backend_id, self.backend)
        self.assertEqual(
            jobs.name, 'Import Coffee Beverage from %s' % self.backend.name)
        self.assertEqual(jobs.channel, 'root.coffee')
        # a job on a binding (an export) belongs to the binding's machine
        self.other_beverage.with_delay().export_record()
        export = self.env['queue.job'].search(
            [('method_name', '=', 'export_record')])
        self.assertEqual(export.coffee_backend_id, self.other)

    def test_checkpoints_button(self):
        self.backend.add_checkpoint(message='Descale the machine')
        self.other.add_checkpoint(message='Not ours')
        self.backend.invalidate_cache()
        self.assertEqual(self.backend.checkpoint_count, 1)
        action = self.backend.action_open_checkpoints()
        checkpoints = self.env['connector.checkpoint'].search(
            action['domain'])
        self.assertEqual(checkpoints.mapped('message'),
                         ['Descale the machine'])
        self.assertEqual(checkpoints.name, 'Descale the machine')
        self.assertIn('search_default_need_review', action['context'])

    def test_brews_pivot_per_consumer_and_day(self):
        """The pivot's rows, columns and measures give cups and revenue
        per consumer per day, as the brews add up."""
        self.import_everything()
        arch = etree.fromstring(self.env['coffee.brew'].fields_view_get(
            view_type='pivot')['arch'])
        self.assertEqual(arch.get('display_quantity'), 'true')
        rows = arch.xpath("//field[@type='row']/@name")
        cols = ['%s:%s' % (node.get('name'), node.get('interval'))
                for node in arch.xpath("//field[@type='col']")]
        measures = arch.xpath("//field[@type='measure']/@name")
        self.assertEqual((rows, cols, measures),
                         (['partner_id'], ['date_start:day'], ['price']))
        domain = [('backend_id', '=', self.backend.id)]
        brews = self.env['coffee.brew'].search(domain)
        groups = self.env['coffee.brew'].read_group(
            domain, measures + rows + [c.split(':')[0] for c in cols],
            rows + cols, lazy=False)
        self.assertEqual(sum(g['__count'] for g in groups), len(brews))
        self.assertAlmostEqual(sum(g['price'] for g in groups),
                               sum(brews.mapped('price')), places=2)
        partner = brews.filtered('partner_id')[0].partner_id
        cups = brews.filtered(lambda b: b.partner_id == partner)
        self.assertEqual(
            sum(g['__count'] for g in groups
                if g['partner_id'] and g['partner_id'][0] == partner.id),
            len(cups))

    def test_related_action_of_an_imported_record(self):
        """import_record runs on the model: its job still opens the
        partner it imported, and the machine before the import."""
        consumer = self.machine_records('consumers')[0]
        self.env['coffee.res.partner'].with_delay().import_record(
            self.backend, consumer['id'])
        job = Job.load(self.env, self.queued_jobs().uuid)
        self.assertEqual(job.related_action()['res_model'], 'coffee.backend')
        self.perform_jobs()
        binding = self.env['coffee.res.partner'].search(
            [('backend_id', '=', self.backend.id),
             ('coffee_id', '=', consumer['id'])])
        self.assertTrue(binding)
        action = job.related_action()
        self.assertEqual((action['res_model'], action['res_id']),
                         ('res.partner', binding.odoo_id.id))

    def test_related_action_of_a_batch_opens_the_machine(self):
        self.backend.import_brews()
        job = Job.load(self.env, self.queued_jobs().uuid)
        action = job.related_action()
        self.assertEqual((action['res_model'], action['res_id']),
                         ('coffee.backend', self.backend.id))


class TestFrench(CoffeeTestCase):

    def test_french_labels(self):
        self.activate_lang('fr_FR')
        self.env['ir.translation'].load_module_terms([MODULE], ['fr_FR'])
        fr = self.env(context=dict(self.env.context, lang='fr_FR'))
        menu = fr.ref('%s.menu_coffee_brew' % MODULE)
        self.assertEqual(menu.name, 'Préparations')
        fields = fr['coffee.brew'].fields_get(['partner_id', 'product_id'])
        self.assertEqual(fields['partner_id']['string'], 'Consommateur')
        self.assertEqual(fields['product_id']['string'], 'Boisson')
        arch = fr['res.config.settings'].fields_view_get(
            view_type='form')['arch']
        self.assertIn('Configurer les machines à café', arch)
        self.assertEqual(
            fr['coffee.backend']._fields['password'].get_description(
                fr)['string'], 'Mot de passe')
