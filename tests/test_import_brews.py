# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Brews (1900: log entries) from the machine, for both versions."""
import datetime
from unittest import mock

import pytz

from ..protocol import client_class
from .common import CoffeeEmulatorCase


def _utc(text, time_format, hours):
    """``text`` moved by ``hours``, as an Odoo datetime text."""
    moment = datetime.datetime.strptime(text, time_format)
    return (moment + datetime.timedelta(hours=hours)).strftime(
        '%Y-%m-%d %H:%M:%S')


class BrewImportCases(object):
    """The same expectations for both protocols."""

    # -- helpers -------------------------------------------------------------

    def brews(self):
        return self.env['coffee.brew'].search(
            [('backend_id', '=', self.backend.id)])

    def machine_brews(self):
        return self.machine_records('brews')

    def brew_by_id(self):
        return dict((b.coffee_id, b) for b in self.brews())

    def adapter_class(self):
        with self.backend.work_on('coffee.brew') as work:
            return type(work.component(usage='backend.adapter'))

    def batch_importer_class(self):
        with self.backend.work_on('coffee.brew') as work:
            return type(work.component(usage='batch.importer'))

    def client(self):
        return client_class(self.coffee_version)(
            self.emulator.url, 'coffee', 'espresso')

    def checkpoint_messages(self):
        return self.env['connector.checkpoint'].search([
            ('backend_id', '=', 'coffee.backend,%d' % self.backend.id),
        ]).mapped('message')

    def assert_all_like_the_machine(self):
        """Every brew of the machine bound, each like it; (the machine's
        brews, the bindings by machine id)."""
        machine = self.machine_brews()
        by_id = self.brew_by_id()
        self.assertEqual(sorted(by_id),
                         sorted(self.brew_id(r) for r in machine))
        for record in machine:
            self.assert_like_the_machine(record, by_id[self.brew_id(record)])
        return machine, by_id

    def assert_like_the_machine(self, record, brew):
        self.assertEqual(brew.state, self.expected_state(record))
        self.assertEqual(brew.consumer_ref or None, self.consumer_of(record))
        self.assertEqual(brew.product_id.coffee_bind_ids.filtered(
            lambda b: b.backend_id == self.backend).coffee_id,
            self.beverage_of(record))
        self.assertAlmostEqual(brew.price, self.price_of(record), places=2)
        self.assertEqual((brew.date_start, brew.date_end),
                         self.times_of(record))
        if brew.partner_id:
            self.assertEqual(brew.partner_id.coffee_bind_ids.filtered(
                lambda b: b.backend_id == self.backend).coffee_id,
                self.consumer_of(record))

    # -- tests ---------------------------------------------------------------

    def test_full_import_on_an_empty_database(self):
        """Each brew's beverage and consumer are imported first."""
        self.assertFalse(self.env['coffee.product.product'].search([]))
        self.assertFalse(self.env['coffee.res.partner'].search([]))
        self.import_model('coffee.brew')
        machine, by_id = self.assert_all_like_the_machine()
        anonymous = [r for r in machine if self.consumer_of(r) is None]
        self.assertTrue(anonymous)
        for record in anonymous:
            brew = by_id[self.brew_id(record)]
            self.assertFalse(brew.partner_id)
            self.assertIn('(anonymous)', brew.name)
        # every status the machine has, mapped
        self.assertEqual(set(self.brews().mapped('state')),
                         set(self.expected_states))
        # a consumer the machine does not know any more: no partner, the
        # reference stays
        gone = by_id[self.deleted_consumer_brew]
        self.assertEqual(gone.consumer_ref, self.deleted_consumer)
        self.assertFalse(gone.partner_id)
        # known consumers are linked
        jane = by_id[self.jane_brew]
        self.assertEqual(jane.partner_id.name, 'Jane Doe')
        self.assertEqual(jane.company_id, self.backend.company_id)
        self.assertEqual(jane.currency_id, self.backend.company_id.currency_id)
        # (the consumers' own checkpoints, e.g. a company without VAT, are
        # theirs)
        self.assertFalse([m for m in self.checkpoint_messages()
                          if 'Brew' in m])
        self.assertTrue(self.backend._get_watermark('coffee.brew'))

    def test_small_pages_lose_nothing(self):
        """Records sharing a second (instant) across a page boundary,
        within a job (a chunk of several pages) and between jobs."""
        with mock.patch.object(self.adapter_class(), self.page_size_attr,
                               10), \
                mock.patch.object(self.batch_importer_class(),
                                  '_chunk_size', 25):
            results = self.import_model('coffee.brew')
        self.assertGreater(len(results), 1)
        self.assertEqual(sorted(self.brew_by_id()),
                         sorted(self.brew_id(r) for r in self.machine_brews()))

    def test_a_failed_page_cuts_the_chunk(self):
        """A passing error on a page after the first of a job's chunk
        ends the chunk there: the pages fetched are imported and the next
        job goes on from the failed page, spending no try of the job. Only
        an error on a job's first page retries the job."""
        self.sim('POST', 'faults', {'rate': 0.3, 'kinds': ['503'],
                                    'seed': 4, 'paths': [self.list_path]})
        retries = 0
        with mock.patch.object(self.adapter_class(), self.page_size_attr,
                               10), \
                mock.patch.object(self.batch_importer_class(),
                                  '_chunk_size', 30):
            self.backend._import('coffee.brew')
            for __ in range(200):
                pending = self.queued_jobs()[:1]
                if not pending:
                    break
                if self.run_job(pending).state == 'pending':
                    retries += 1  # postponed, as the runner leaves it
        self.sim('POST', 'faults', {'rate': 0})
        faults = sum(self.sim('GET', 'counters')['faults'].values())
        self.assertGreater(faults, retries)
        self.assertFalse(self.queued_jobs())
        self.assertEqual(sorted(self.brew_by_id()),
                         sorted(self.brew_id(r) for r in self.machine_brews()))

    def test_reimport_changes_nothing(self):
        self.import_model('coffee.brew')
        count = len(self.brews())
        self.mark_brews_untouched()
        self.import_model('coffee.brew')
        self.import_model('coffee.brew', full=True)
        self.assertEqual(len(self.brews()), count)
        self.assertFalse(self.touched_brews())

    def test_delta_takes_new_brews_and_completes_running_ones(self):
        self.import_model('coffee.brew')
        before = set(self.brew_by_id())
        self.mark_brews_untouched()
        done = self.sim('POST', 'activity', {'brews': 7, 'seed': 3})
        self.assertEqual(done['done'], {'brews': 7})
        self.sim('POST', 'brew-seconds', {'seconds': 30})
        poured = self.brew_now()
        self.import_model('coffee.brew')
        machine = dict((self.brew_id(r), r) for r in self.machine_brews())
        by_id = self.brew_by_id()
        self.assertEqual(set(by_id), set(machine))
        new = set(by_id) - before
        self.assertEqual(len(new), 8)
        self.assertIn(poured, new)
        # only the new ones were written
        self.assertEqual(set(self.touched_brews().mapped('coffee_id')), new)
        running = by_id[poured]
        self.assertEqual(running.state, 'running')
        self.assertFalse(running.date_end)
        self.assertEqual(running.partner_id.name, 'Jane Doe')
        for brew_id in new:
            self.assert_like_the_machine(machine[brew_id], by_id[brew_id])

        # the cup completes on the machine
        self.sim('POST', 'clock', {'advance': 31})
        self.mark_brews_untouched()
        self.import_model('coffee.brew')
        self.assertEqual(self.touched_brews().mapped('coffee_id'), [poured])
        record = [r for r in self.machine_brews()
                  if self.brew_id(r) == poured][0]
        running.invalidate_cache()
        self.assertEqual(running.state, 'done')
        self.assertTrue(running.date_end)
        self.assert_like_the_machine(record, running)

    def test_malformed_brews_become_checkpoints(self):
        self.import_model('coffee.product.product')
        self.import_model('coffee.res.partner')
        self.sim('POST', 'faults', {'malformed': 0.25, 'seed': 1})
        self.sim('POST', 'counters', {})
        self.import_model('coffee.brew')
        served = self.sim('GET', 'counters')['malformed_served']
        damaged = set(str(i) for i in served[self.machine_kind])
        self.assertGreaterEqual(len(damaged), 5)
        by_id = self.brew_by_id()
        machine_ids = set(self.brew_id(r) for r in self.machine_brews())
        # no half-written brew: the damaged ones are not there at all
        self.assertEqual(set(by_id), machine_ids - damaged)
        messages = [m for m in self.checkpoint_messages() if 'Brew' in m]
        self.assertEqual(len(messages), len(damaged))
        for brew_id in damaged:
            self.assertEqual(
                len([m for m in messages if 'Brew %s of' % brew_id in m]), 1,
                'one checkpoint names %s' % brew_id)
        # the next run posts the same problems once
        self.import_model('coffee.brew', full=True)
        self.assertEqual(sorted(m for m in self.checkpoint_messages()
                                if 'Brew' in m), sorted(messages))
        # repaired on the machine: a full import takes them
        self.sim('POST', 'faults', {'malformed': 0})
        self.import_model('coffee.brew', full=True)
        self.assertEqual(set(self.brew_by_id()), machine_ids)

    def test_malformed_records_on_an_empty_database(self):
        """A brew that fails after importing its beverage or consumer
        takes them back with its savepoint: the next brews of the page
        import them again instead of pointing at rolled back records."""
        self.sim('POST', 'faults', {'malformed': 0.3, 'seed': 2})
        self.import_model('coffee.brew')
        brews = self.brews()
        self.assertTrue(brews)
        self.assertTrue(all(b.product_id.exists() for b in brews))
        self.assertTrue(all(b.partner_id.exists() for b in brews
                            if b.partner_id))
        self.sim('POST', 'faults', {'malformed': 0})
        self.import_model('coffee.brew', full=True)
        self.assert_all_like_the_machine()


class TestBrewImport1900(BrewImportCases, CoffeeEmulatorCase):
    coffee_version = '1900'
    page_size_attr = '_per_page'
    machine_kind = 'log'
    list_path = '/api/v1/log'
    expected_states = ('running', 'done', 'cancelled')
    deleted_consumer = '3002'
    deleted_consumer_brew = '100213'
    jane_brew = '100200'

    @staticmethod
    def brew_id(record):
        return str(record['log_no'])

    @staticmethod
    def expected_state(record):
        return {'ok': 'done', 'aborted': 'cancelled',
                'running': 'running'}[record['result']]

    @staticmethod
    def consumer_of(record):
        return record['card_no']

    @staticmethod
    def beverage_of(record):
        return str(record['drink_no'])

    @staticmethod
    def price_of(record):
        return record['price_cents'] / 100.0

    @staticmethod
    def times_of(record):
        # the demo machine is in Europe/Brussels (see also
        # test_summer_and_winter_entries for fixed values)
        ts = record['ts']
        local = pytz.timezone('Europe/Brussels').localize(
            datetime.datetime.strptime(ts, '%Y-%m-%d %H:%M:%S'))
        moment = local.astimezone(pytz.utc).strftime('%Y-%m-%d %H:%M:%S')
        return moment, (False if record['result'] == 'running' else moment)

    def brew_now(self):
        return str(self.client().brew(3, '00042')['log_no'])

    def test_summer_and_winter_entries(self):
        self.import_model('coffee.brew')
        by_id = self.brew_by_id()
        winter = by_id['100259']  # 100259;3;2003;120;2026-11-20 08:31:12;ok
        self.assertEqual(winter.date_start, '2026-11-20 07:31:12')
        self.assertEqual(winter.date_end, '2026-11-20 07:31:12')
        self.assertEqual(winter.price, 1.20)
        self.assertEqual(winter.state, 'done')
        self.assertEqual(winter.product_id.name, 'Espresso')
        self.assertEqual(winter.partner_id.name, 'Lou Low')
        self.assertEqual(winter.consumer_ref, '2003')
        self.assertEqual(winter.name, 'Espresso for Lou Low, 2026-11-20 08:31')
        summer = by_id['100200']
        record = [r for r in self.machine_brews() if r['log_no'] == 100200][0]
        self.assertTrue(record['ts'].startswith('2026-06-12 '))
        self.assertEqual(summer.date_start,
                         _utc(record['ts'], '%Y-%m-%d %H:%M:%S', -2))
        self.assertEqual(self.backend.machine_timezone, 'Europe/Brussels')

    def test_one_entry_cannot_be_read(self):
        with self.assertRaisesRegex(Exception, 'cannot read one log entry'):
            self.env['coffee.brew'].import_record(self.backend, '100200')


class TestBrewImport2900(BrewImportCases, CoffeeEmulatorCase):
    coffee_version = '2900'
    # these tests walk small pages as fast as a test runs them; the machine's
    # rate limit (429, retried by the job runner) is tested on its own in
    # test_connection_errors, here it would only interrupt the walk
    emulator_args = ('--rate-limit', '1000')
    page_size_attr = '_limit'
    machine_kind = 'brews'
    list_path = '/api/v2/brews'
    expected_states = ('running', 'done', 'cancelled', 'failed')
    deleted_consumer = 'con_dead01'
    jane_brew = 'brw_000031V8'

    @property
    def deleted_consumer_brew(self):
        return [self.brew_id(r) for r in self.machine_brews()
                if r['consumer_id'] == 'con_dead01'][0]

    @staticmethod
    def brew_id(record):
        return record['id']

    @staticmethod
    def expected_state(record):
        return {'completed': 'done'}.get(record['status'], record['status'])

    @staticmethod
    def consumer_of(record):
        return record['consumer_id']

    @staticmethod
    def beverage_of(record):
        return record['beverage_id']

    @staticmethod
    def price_of(record):
        return float(record['price']['amount'])

    @staticmethod
    def times_of(record):
        iso = '%Y-%m-%dT%H:%M:%S.%fZ'
        start = _utc(record['started_at'], iso, 0)
        end = _utc(record['finished_at'], iso, 0) \
            if record['finished_at'] else False
        return start, end

    def brew_now(self):
        created, brew = self.client().brew(
            'bev_espresso', 'con_8f3a21', idempotency_key='test-delta')
        self.assertTrue(created)
        return brew['id']

    def test_record_by_id(self):
        """The 2900 reads one brew (a webhook's object_id)."""
        brew_id = self.machine_brews()[0]['id']
        self.env['coffee.brew'].import_record(self.backend, brew_id)
        brew = self.brew_by_id()[brew_id]
        self.assert_like_the_machine(self.machine_brews()[0], brew)
