# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Beverages (1900: drinks) become products, for both versions."""
from .common import CoffeeEmulatorCase


class BeverageImportCases(object):
    """The same expectations for both protocols."""

    def machine_beverages(self):
        return self.machine_records('beverages')

    def bindings(self):
        return self.env['coffee.product.product'].search(
            [('backend_id', '=', self.backend.id)])

    def test_full_import_counts_equal_the_machine(self):
        self.import_model('coffee.product.product')
        self.assertEqual(len(self.bindings()), len(self.machine_beverages()))
        self.assertTrue(self.backend._get_watermark('coffee.product.product'))

    def test_reimport_changes_nothing(self):
        self.import_model('coffee.product.product')
        before = dict((b.coffee_id, b.write_date) for b in self.bindings())
        self.import_model('coffee.product.product', full=True)
        after = dict((b.coffee_id, b.write_date) for b in self.bindings())
        self.assertEqual(before, after)

    def test_delta_import_takes_what_changed(self):
        self.import_model('coffee.product.product')
        changed = self.sim('POST', 'activity', {'beverages': 2, 'seed': 7})
        self.assertTrue(changed)
        watermark = self.backend._get_watermark('coffee.product.product')
        self.import_model('coffee.product.product')
        self.assertGreater(
            self.backend._get_watermark('coffee.product.product'), watermark)
        machine = dict((self.beverage_id(b), b)
                       for b in self.machine_beverages())
        for binding in self.bindings():
            self.assertAlmostEqual(
                binding.list_price,
                self.machine_price(machine[binding.coffee_id]), places=2)


class TestBeverageImport1900(BeverageImportCases, CoffeeEmulatorCase):
    coffee_version = '1900'

    @staticmethod
    def beverage_id(record):
        return str(record['drink_no'])

    @staticmethod
    def machine_price(record):
        return record['price_cents'] / 100.0

    def test_espresso(self):
        self.import_model('coffee.product.product')
        espresso = self.bindings().filtered(lambda b: b.coffee_id == '3')
        self.assertEqual(espresso.name, 'Espresso')
        self.assertEqual(espresso.list_price, 1.20)
        self.assertEqual(espresso.volume_ml, 40)
        self.assertTrue(espresso.machine_enabled)
        self.assertEqual(espresso.odoo_id.coffee_bind_ids, espresso)


class TestBeverageImport2900(BeverageImportCases, CoffeeEmulatorCase):
    coffee_version = '2900'

    @staticmethod
    def beverage_id(record):
        return record['id']

    @staticmethod
    def machine_price(record):
        return float(record['price']['amount'])

    def test_translations_land_per_language(self):
        french = self.env['res.lang'].with_context(
            active_test=False).search([('code', '=', 'fr_FR')])
        french.active = True
        self.import_model('coffee.product.product')
        espresso = self.bindings().filtered(
            lambda b: b.coffee_id == 'bev_espresso')
        template = espresso.product_tmpl_id
        self.assertEqual(template.with_context(lang='en_US').name,
                         'Espresso')
        self.assertEqual(template.with_context(lang='fr_FR').name,
                         'Expresso')

    def test_disabled_beverage(self):
        self.import_model('coffee.product.product')
        decaf = self.bindings().filtered(lambda b: b.coffee_id == 'bev_decaf')
        self.assertFalse(decaf.machine_enabled)
