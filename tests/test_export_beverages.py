# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Products -> beverages (1900: drinks), for both versions, over HTTP."""
from unittest import mock

from odoo.addons.queue_job.exception import RetryableJobError

from ..protocol import Coffee1900Client, Coffee2900Client
from .common import CoffeeEmulatorCase

MODEL = 'coffee.product.product'
LONG_AGO = '2000-01-01 00:00:00'


class ExportCase(object):
    """Helpers of the export tests of both models."""

    def export_jobs(self, method='export_record'):
        return self.queued_jobs().filtered(lambda j: j.method_name == method)

    def writes_sent(self):
        """Spy on the client method that writes a record: the bodies sent
        (the requests still go to the machine)."""
        client_class, method = self.write_method
        original = getattr(client_class, method)
        sent = []

        def spy(client, *args, **kwargs):
            sent.append(args[-1])
            return original(client, *args, **kwargs)
        patcher = mock.patch.object(client_class, method, autospec=True,
                                    side_effect=spy)
        patcher.start()
        self.addCleanup(patcher.stop)
        return sent

    def machine_record(self, kind, external_id):
        for record in self.machine_records(kind):
            if self.id_of(record) == external_id:
                return record
        return None

    def checkpoints(self, record):
        return self.env['connector.checkpoint'].search([
            ('backend_id', '=', 'coffee.backend,%d' % self.backend.id),
            ('model_id.model', '=', record._name),
            ('record_id', '=', record.id)])


class BeverageExportCases(ExportCase):

    def setUp(self):
        super(BeverageExportCases, self).setUp()
        self.import_model(MODEL)
        self.espresso = self.env[MODEL].search(
            [('backend_id', '=', self.backend.id),
             ('coffee_id', '=', self.espresso_id)])
        self.assertEqual(len(self.espresso), 1)
        self.product = self.espresso.odoo_id

    def machine_espresso(self):
        return self.machine_record('beverages', self.espresso_id)

    def test_import_does_not_bounce_back(self):
        self.assertFalse(self.export_jobs())
        self.sim('POST', 'activity', {'beverages': 3, 'seed': 11})
        self.import_model(MODEL)
        self.import_model(MODEL, full=True)
        self.assertFalse(self.export_jobs())

    def test_price_change_reaches_the_machine_alone(self):
        before = self.machine_espresso()
        # a name only Odoo has: an export of the price must not send it
        self.product.with_context(connector_no_export=True).write(
            {'name': 'Espresso (Odoo)'})
        self.assertFalse(self.export_jobs())
        sent = self.writes_sent()
        self.product.write({'list_price': 1.40})
        jobs = self.export_jobs()
        self.assertEqual(len(jobs), 1)
        self.assertEqual(jobs.record_ids, self.espresso.ids)
        self.assertTrue(jobs.eta)
        self.perform_jobs()
        self.assertEqual(sent, [self.price_values(1.40)])
        after = self.machine_espresso()
        self.assertEqual(self.machine_price(after), 1.40)
        for key in before:
            if key not in (self.price_key, self.stamp_key):
                self.assertEqual(after[key], before[key], key)
        self.assertNotEqual(after[self.stamp_key], before[self.stamp_key])

    def test_price_on_the_template_reaches_the_machine(self):
        self.product.product_tmpl_id.write({'list_price': 2.05})
        self.assertEqual(len(self.export_jobs()), 1)
        self.perform_jobs()
        self.assertEqual(self.machine_price(self.machine_espresso()), 2.05)

    def test_burst_of_edits_gives_one_job(self):
        for price in (1.30, 1.35, 1.45):
            self.product.write({'list_price': price})
        self.assertEqual(len(self.export_jobs()), 1)
        self.perform_jobs()
        self.assertEqual(self.machine_price(self.machine_espresso()), 1.45)

    def test_archived_product_is_disabled_on_the_machine(self):
        self.product.product_tmpl_id.write({'active': False})
        self.assertTrue(self.export_jobs())
        self.perform_jobs()
        self.assertFalse(self.machine_enabled(self.machine_espresso()))
        self.assertEqual(self.machine_price(self.machine_espresso()), 1.20)

    def test_export_is_stamped_and_not_imported_again(self):
        self.product.write({'list_price': 1.60})
        self.perform_jobs()
        self.assertEqual(self.espresso.coffee_updated_at,
                         self.machine_espresso()[self.stamp_key])
        self.espresso.with_context(connector_no_export=True).write(
            {'sync_date': LONG_AGO})
        self.import_model(MODEL)
        self.assertEqual(self.espresso.sync_date, LONG_AGO)
        self.assertFalse(self.export_jobs())
        self.assertEqual(self.product.list_price, 1.60)

    def test_nothing_to_send_sends_nothing(self):
        self.product.write({'list_price': 1.20})
        sent = self.writes_sent()
        self.perform_jobs()
        self.assertEqual(sent, [])

    def test_only_what_the_mapper_is_changed_by_is_exported(self):
        """The listener asks the machine's export mapper (@changed_by)."""
        self.product.write({'description_sale': 'Short and strong',
                            'default_code': 'ESP-01'})
        self.assertFalse(self.export_jobs())
        self.product.write({'list_price': 1.50, 'default_code': 'ESP-02'})
        jobs = self.export_jobs()
        self.assertEqual(len(jobs), 1)
        self.assertEqual(jobs.kwargs, {'fields': ['list_price']})

    def test_job_retried_after_overload_is_harmless(self):
        self.product.write({'list_price': 1.70})
        job = self.export_jobs()
        self.sim('POST', 'faults', {'rate': 1.0, 'kinds': [self.overload],
                                    'seed': 1})
        with self.assertRaises(RetryableJobError):
            self.run_job(job, raise_error=True)
        self.assertEqual(self.machine_price(self.machine_espresso()), 1.20)
        self.sim('POST', 'faults', {'rate': 0})
        sent = self.writes_sent()
        self.run_job(job, raise_error=True)
        self.assertEqual(self.machine_price(self.machine_espresso()), 1.70)
        self.assertEqual(sent, [self.price_values(1.70)])
        # the same job once more: the machine already has the price
        self.run_job(job, raise_error=True)
        self.assertEqual(len(sent), 1)
        self.assertEqual(self.machine_price(self.machine_espresso()), 1.70)


class TestBeverageExport1900(BeverageExportCases, CoffeeEmulatorCase):
    coffee_version = '1900'
    espresso_id = '3'
    price_key = 'price_cents'
    stamp_key = 'modified'
    overload = '503'
    write_method = (Coffee1900Client, 'update_drink')

    @staticmethod
    def id_of(record):
        return str(record['drink_no'])

    @staticmethod
    def price_values(amount):
        return {'price_cents': int(round(amount * 100))}

    @staticmethod
    def machine_price(record):
        return record['price_cents'] / 100.0

    @staticmethod
    def machine_enabled(record):
        return bool(record['enabled'])


class TestBeverageExport2900(BeverageExportCases, CoffeeEmulatorCase):
    coffee_version = '2900'
    espresso_id = 'bev_espresso'
    price_key = 'price'
    stamp_key = 'updated_at'
    overload = '429'
    write_method = (Coffee2900Client, 'patch_record')

    @staticmethod
    def id_of(record):
        return record['id']

    @staticmethod
    def price_values(amount):
        return {'price': {'amount': '%.2f' % amount, 'currency': 'EUR'}}

    @staticmethod
    def machine_price(record):
        return float(record['price']['amount'])

    @staticmethod
    def machine_enabled(record):
        return record['active']

    def other_client_changes(self, values):
        """Between the export's read and its write, another client of the
        machine PATCHes the espresso."""
        original = Coffee2900Client.get_record
        other = Coffee2900Client(self.emulator.url, 'coffee', 'espresso')
        self.addCleanup(other.close)
        done = []

        def read_then_change(client, resource, record_id):
            result = original(client, resource, record_id)
            if not done:
                done.append(other.patch_record(resource, record_id, values))
            return result
        patcher = mock.patch.object(Coffee2900Client, 'get_record',
                                    autospec=True,
                                    side_effect=read_then_change)
        patcher.start()
        self.addCleanup(patcher.stop)
        return done

    def test_conflict_on_the_same_field_keeps_both_values(self):
        self.product.write({'list_price': 1.40})
        changed = self.other_client_changes(self.price_values(1.55))
        self.sim('POST', 'counters', {})
        self.perform_jobs()
        self.assertTrue(changed)
        counters = self.sim('GET', 'counters')['requests']
        self.assertEqual(
            counters['/api/v2/beverages/bev_espresso'].get('412'), 1)
        self.assertEqual(self.machine_price(self.machine_espresso()), 1.55)
        self.assertAlmostEqual(self.product.list_price, 1.40, places=2)
        checkpoints = self.checkpoints(self.product)
        self.assertEqual(len(checkpoints), 1)
        self.assertIn('price', checkpoints.message)
        self.assertIn('1.55', checkpoints.message)
        self.assertIn('1.40', checkpoints.message)

    def test_conflict_on_another_field_is_merged(self):
        self.product.write({'list_price': 1.40})
        changed = self.other_client_changes(
            {'name': {'fr_FR': 'Petit noir'}})
        self.sim('POST', 'counters', {})
        self.perform_jobs()
        self.assertTrue(changed)
        counters = self.sim('GET', 'counters')['requests']
        statuses = counters['/api/v2/beverages/bev_espresso']
        self.assertEqual(statuses.get('412'), 1)
        machine = self.machine_espresso()
        self.assertEqual(self.machine_price(machine), 1.40)
        self.assertEqual(machine['name']['fr_FR'], 'Petit noir')
        self.assertFalse(self.checkpoints(self.product))
        # the other client's change is not imported yet: the next import
        # must still bring it
        self.assertLess(self.espresso.coffee_updated_at,
                        machine['updated_at'])

    def test_translations_are_sent_per_language(self):
        self.activate_lang('fr_FR')
        self.assertIn('fr_FR', self.env['res.lang'].search([]).mapped('code'))
        # the French name comes with the import
        self.env[MODEL].import_record(self.backend, 'bev_espresso',
                                      force=True)
        # names are read on the template: Odoo 11 caches a variant's
        # (delegated) name once for all languages
        template = self.product.product_tmpl_id
        french_product = self.product.with_context(lang='fr_FR')
        self.assertEqual(template.with_context(lang='fr_FR').name,
                         'Expresso')
        self.assertFalse(self.export_jobs())
        sent = self.writes_sent()
        french_product.write({'name': 'Serré'})
        self.assertEqual(template.with_context(lang='en_US').name,
                         'Espresso')
        self.assertEqual(len(self.export_jobs()), 1)
        self.perform_jobs()
        self.assertEqual(sent, [{'name': {'fr_FR': 'Serré'}}])
        machine = self.machine_espresso()
        self.assertEqual(machine['name']['fr_FR'], 'Serré')
        self.assertEqual(machine['name']['en_US'], 'Espresso')
