# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Brew mappers alone: machine records in, values or a MappingError out."""
from odoo.addons.connector.exception import MappingError

from .common import CoffeeTestCase

LOG_ENTRY = {'log_no': 100231, 'drink_no': 3, 'card_no': '00042',
             'price_cents': 120, 'ts': '2026-11-20 08:31:12', 'result': 'ok'}
BREW = {'id': 'brw_01HF3K', 'beverage_id': 'bev_espresso',
        'consumer_id': 'con_8f3a21',
        'price': {'amount': '1.20', 'currency': 'EUR'},
        'status': 'completed',
        'started_at': '2026-11-20T07:31:09.500000Z',
        'finished_at': '2026-11-20T07:31:12.000000Z',
        'updated_at': '2026-11-20T07:31:12.000000Z'}


class BrewMapperCases(object):

    @classmethod
    def setUpClass(cls):
        super(BrewMapperCases, cls).setUpClass()
        cls.backend = cls.create_backend(
            cls.coffee_version, 'http://127.0.0.1:9',
            machine_currency='EUR', machine_timezone=cls.timezone)
        cls.backend.company_id.currency_id = cls.env.ref('base.EUR')
        cls.espresso = cls.env['coffee.product.product'].create({
            'backend_id': cls.backend.id, 'coffee_id': cls.beverage_ref,
            'name': 'Espresso'})
        cls.jane = cls.env['coffee.res.partner'].create({
            'backend_id': cls.backend.id, 'coffee_id': cls.consumer_ref,
            'name': 'Jane Doe'})

    def map(self, record):
        with self.backend.work_on('coffee.brew', coffee_client=None) as work:
            mapper = work.component(usage='import.mapper')
            return mapper.map_record(record).values(for_create=True)

    def changed(self, **changes):
        record = dict(self.record)
        record.update(changes)
        return record

    def assert_refused(self, record, field):
        with self.assertRaises(MappingError) as caught:
            self.map(record)
        self.assertIn("'%s'" % field, str(caught.exception))

    def test_good_record(self):
        values = self.map(self.record)
        self.assertEqual(values['product_id'], self.espresso.odoo_id.id)
        self.assertEqual(values['partner_id'], self.jane.odoo_id.id)
        self.assertEqual(values['consumer_ref'], self.consumer_ref)
        self.assertEqual(values['price'], 1.20)
        self.assertEqual(values['state'], 'done')
        self.assertEqual(values['date_end'], '2026-11-20 07:31:12')
        self.assertEqual(values['company_id'], self.backend.company_id.id)
        self.assertEqual(values['name'],
                         'Espresso for Jane Doe, 2026-11-20 08:31'
                         if self.coffee_version == '1900' else
                         'Espresso for Jane Doe, 2026-11-20 07:31')

    def test_anonymous_and_unknown_consumers(self):
        values = self.map(self.changed(**{self.consumer_field: None}))
        self.assertFalse(values['partner_id'])
        self.assertFalse(values['consumer_ref'])
        self.assertIn('(anonymous)', values['name'])
        values = self.map(self.changed(**{self.consumer_field: '9999'}))
        self.assertFalse(values['partner_id'])
        self.assertEqual(values['consumer_ref'], '9999')

    def test_beverage_not_imported(self):
        self.assert_refused(self.changed(**{self.beverage_field: '77'}
                                         if self.coffee_version == '2900'
                                         else {self.beverage_field: 77}),
                            self.beverage_field)

    def test_consumer_ref_too_long(self):
        self.assert_refused(self.changed(**{self.consumer_field: '9' * 10240}),
                            self.consumer_field)


class TestBrewMapper1900(BrewMapperCases, CoffeeTestCase):
    coffee_version = '1900'
    timezone = 'Europe/Brussels'
    beverage_ref = '3'
    consumer_ref = '00042'
    beverage_field = 'drink_no'
    consumer_field = 'card_no'
    record = LOG_ENTRY

    def test_summer_time_and_states(self):
        values = self.map(self.changed(ts='2026-06-12 09:58:54',
                                       result='aborted'))
        self.assertEqual(values['date_start'], '2026-06-12 07:58:54')
        self.assertEqual(values['state'], 'cancelled')
        values = self.map(self.changed(result='running'))
        self.assertEqual(values['state'], 'running')
        self.assertEqual(values['date_start'], '2026-11-20 07:31:12')
        self.assertFalse(values['date_end'])

    def test_damaged_entries(self):
        self.assert_refused(self.changed(price_cents='abc'), 'price_cents')
        self.assert_refused(self.changed(price_cents=-5), 'price_cents')
        self.assert_refused(self.changed(ts='2026-02-30 25:61:00'), 'ts')
        self.assert_refused(self.changed(result='done'), 'result')
        self.assert_refused(self.changed(drink_no='3'), 'drink_no')
        self.assert_refused(self.changed(card_no='12a'), 'card_no')
        record = dict(LOG_ENTRY)
        del record['ts']
        self.assert_refused(record, 'ts')

    def test_machine_in_another_currency(self):
        self.backend.machine_currency = 'USD'
        with self.assertRaisesRegex(MappingError, 'counts in USD'):
            self.map(self.record)


class TestBrewMapper2900(BrewMapperCases, CoffeeTestCase):
    coffee_version = '2900'
    timezone = 'UTC'
    beverage_ref = 'bev_espresso'
    consumer_ref = 'con_8f3a21'
    beverage_field = 'beverage_id'
    consumer_field = 'consumer_id'
    record = BREW

    def test_times_and_states(self):
        values = self.map(self.record)
        self.assertEqual(values['date_start'], '2026-11-20 07:31:09')
        for status, state in (('cancelled', 'cancelled'),
                              ('failed', 'failed')):
            self.assertEqual(self.map(self.changed(status=status))['state'],
                             state)
        values = self.map(self.changed(status='running', finished_at=None))
        self.assertEqual(values['state'], 'running')
        self.assertFalse(values['date_end'])

    def test_damaged_brews(self):
        self.assert_refused(self.changed(
            price={'amount': '1.20', 'currency': 'USD'}), 'price')
        self.assert_refused(self.changed(
            price={'amount': '1.2.0', 'currency': 'EUR'}), 'price')
        self.assert_refused(self.changed(status=7), 'status')
        self.assert_refused(self.changed(
            started_at='2026-02-30T25:61:00.000000Z'), 'started_at')
        self.assert_refused(self.changed(
            finished_at='2026-11-20T07:31:00.000000Z'), 'finished_at')
        self.assert_refused(self.changed(beverage_id='b' * 10240),
                            'beverage_id')
        record = dict(BREW)
        del record['beverage_id']
        self.assert_refused(record, 'beverage_id')

    def test_version_checked_by_the_importer(self):
        # the mapper leaves the time of the last change to the importer
        record = dict(BREW)
        del record['updated_at']
        with self.backend.work_on('coffee.brew', coffee_client=None) as work:
            importer = work.component(usage='record.importer')
            with self.assertRaisesRegex(MappingError, "'updated_at'"):
                importer._check_timestamp(record)
            self.assertEqual(importer._check_timestamp(BREW),
                             BREW['updated_at'])
