# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Consumers (1900: cards) become partners, for both versions."""
from odoo.addons.connector.exception import MappingError

from ..protocol import Coffee1900Client, Coffee2900Client
from .common import CoffeeEmulatorCase

MODEL = 'coffee.res.partner'
LONG_AGO = '2000-01-01 00:00:00'


class ConsumerImportCases(object):
    """The same expectations for both protocols.

    Each version says how its machine names a consumer (``consumer_id``),
    its credit (``machine_credit``), how to remove one from the machine
    (``remove_on_machine``) and which import reveals it
    (``import_after_removal``).
    """

    def machine_consumers(self):
        return self.machine_records('consumers')

    def bindings(self, backend=None):
        return self.env[MODEL].with_context(active_test=False).search(
            [('backend_id', '=', (backend or self.backend).id)])

    def binding_of(self, badge):
        binding = self.bindings().filtered(lambda b: b.badge == badge)
        self.assertEqual(len(binding), 1, 'one binding for badge %r' % badge)
        return binding

    def checkpoints(self, partner=None):
        domain = [('backend_id', '=', 'coffee.backend,%d' % self.backend.id)]
        if partner is not None:
            domain += [('model_id.model', '=', 'res.partner'),
                       ('record_id', '=', partner.id)]
        return self.env['connector.checkpoint'].search(domain)

    def all_partners(self):
        return self.env['res.partner'].with_context(
            active_test=False).search([])

    def age_sync_dates(self):
        """Make every binding look imported long ago."""
        self.bindings().write({'sync_date': LONG_AGO})

    def freshly_synced(self):
        return set(self.bindings().filtered(
            lambda b: b.sync_date != LONG_AGO).mapped('coffee_id'))

    def assert_like_the_machine(self):
        machine = dict((self.consumer_id(c), c)
                       for c in self.machine_consumers())
        active = self.bindings().filtered('active')
        self.assertEqual(set(active.mapped('coffee_id')), set(machine))
        for binding in active:
            record = machine[binding.coffee_id]
            self.assertEqual(binding.badge, self.machine_badge(record))
            self.assertAlmostEqual(binding.credit,
                                   self.machine_credit(record), places=2)
            self.assertEqual(binding.blocked, bool(record['blocked']))
            self.assertEqual(binding.email or '', record['email'] or '')
            self.assertTrue(binding.odoo_id.active)

    # -- tests ---------------------------------------------------------------

    def test_full_import_counts_equal_the_machine(self):
        self.import_model(MODEL)
        self.assertEqual(len(self.bindings()), len(self.machine_consumers()))
        self.assertEqual(len(self.bindings().mapped('odoo_id')),
                         len(self.machine_consumers()))
        self.assert_like_the_machine()
        self.assertTrue(self.backend._get_watermark(MODEL))

    def test_badges_keep_their_zeros(self):
        self.import_model(MODEL)
        zero, double_zero = self.binding_of('0'), self.binding_of('00')
        self.assertNotEqual(zero.odoo_id, double_zero.odoo_id)
        self.assertEqual(zero.name, 'Otto Zero')
        self.assertEqual(double_zero.name, 'Dora Double-Zero')
        jane, john = self.binding_of('00042'), self.binding_of('42')
        self.assertEqual(jane.name, 'Jane Doe')
        self.assertEqual(john.name, 'John Fortytwo')
        self.assertEqual(self.binding_of('0000000001').name, 'Max Length')

    def test_partner_shapes(self):
        self.import_model(MODEL)
        jane = self.binding_of('00042')
        self.assertFalse(jane.is_company)
        self.assertFalse(jane.company_name)
        self.assertTrue(jane.customer)
        self.assertFalse(jane.supplier)
        self.assertEqual(jane.odoo_id.coffee_bind_ids, jane)
        self.assertAlmostEqual(jane.credit, 5.0, places=2)
        # the holder's name is the company's: the card is the company's
        beans = self.binding_of('1001')
        self.assertTrue(beans.is_company)
        self.assertEqual(beans.name, 'Bean Counters SA')
        self.assertFalse(beans.vat)
        # a person of a company: person partner with the company's name
        marc = self.binding_of('1002')
        self.assertFalse(marc.is_company)
        self.assertEqual(marc.name, 'Marc Dupont')
        self.assertEqual(marc.company_name, 'Grind & Co BV')
        self.assertEqual(marc.vat, 'BE0403123486')
        self.assertTrue(self.binding_of('2001').blocked)
        self.assertFalse(self.binding_of('2002').credit)
        self.assertEqual(self.binding_of('3001').name, 'Zoë Ångström')

    def test_company_without_vat_is_checkpointed_once(self):
        self.import_model(MODEL)
        beans = self.binding_of('1001')
        checkpoints = self.checkpoints(beans.odoo_id)
        self.assertEqual(len(checkpoints), 1)
        self.assertIn('Bean Counters SA', checkpoints.message)
        self.assertEqual(checkpoints.state, 'need_review')
        # the company with a VAT number needs no review
        self.assertFalse(self.checkpoints(self.binding_of('1002').odoo_id))
        self.assertEqual(len(self.checkpoints()), 1)
        # the consumer changes and is imported again: still one checkpoint
        self.change_credit(beans, 7700)
        self.age_sync_dates()
        self.import_model(MODEL)
        self.assertEqual(self.freshly_synced(), {beans.coffee_id})
        self.assertAlmostEqual(beans.credit, 77.0, places=2)
        self.assertEqual(len(self.checkpoints(beans.odoo_id)), 1)
        self.assertEqual(len(self.checkpoints()), 1)

    def test_reimport_changes_nothing(self):
        self.import_model(MODEL)
        self.age_sync_dates()
        before = dict((b.coffee_id, (b.write_date, b.odoo_id.write_date))
                      for b in self.bindings())
        checkpoints = self.checkpoints()
        self.import_model(MODEL, full=True)
        self.import_model(MODEL)
        after = dict((b.coffee_id, (b.write_date, b.odoo_id.write_date))
                     for b in self.bindings())
        self.assertEqual(before, after)
        self.assertEqual(self.freshly_synced(), set())
        self.assertEqual(self.checkpoints(), checkpoints)

    def test_delta_import_takes_what_changed(self):
        self.import_model(MODEL)
        self.age_sync_dates()
        before = dict((self.consumer_id(c), c)
                      for c in self.machine_consumers())
        done = self.sim('POST', 'activity', {'consumers': 6, 'seed': 11})
        self.assertEqual(done['done'].get('consumers'), 6)
        after = dict((self.consumer_id(c), c)
                     for c in self.machine_consumers())
        changed = set(key for key, record in after.items()
                      if before.get(key) != record)
        self.assertTrue(changed)
        watermark = self.backend._get_watermark(MODEL)
        self.import_model(MODEL)
        self.assertGreater(self.backend._get_watermark(MODEL), watermark)
        self.assertEqual(self.freshly_synced(), changed)
        self.assert_like_the_machine()

    def test_removed_consumer_is_archived(self):
        self.import_model(MODEL)
        bob = self.binding_of('2001')
        partner = bob.odoo_id
        partners = len(self.all_partners())
        self.remove_on_machine(bob)
        self.import_after_removal()
        self.assertFalse(bob.active)
        self.assertFalse(partner.active)
        self.assertEqual(partner.coffee_bind_ids, bob)
        # nothing is deleted, every other consumer stays
        self.assertEqual(len(self.all_partners()), partners)
        self.assertEqual(len(self.bindings().filtered('active')),
                         len(self.machine_consumers()))
        self.assert_like_the_machine()
        # importing again changes nothing
        self.import_after_removal()
        self.assertFalse(bob.active)
        self.assertFalse(partner.active)

    def test_record_import_of_a_removed_consumer_archives_it(self):
        """A webhook (or a person) asks for a consumer the machine deleted:
        the machine answers 404, which means it is gone."""
        self.import_model(MODEL)
        bob = self.binding_of('2001')
        self.remove_on_machine(bob)
        self.env[MODEL].with_delay().import_record(self.backend, bob.coffee_id)
        self.perform_jobs()
        self.assertFalse(bob.active)
        self.assertFalse(bob.odoo_id.active)
        # never bound: nothing to do, nothing created
        bindings = self.bindings()
        self.env[MODEL].with_delay().import_record(
            self.backend, self.unknown_id)
        self.perform_jobs()
        self.assertEqual(self.bindings(), bindings)

    def test_brews_of_a_removed_consumer_stay(self):
        self.import_model(MODEL)
        self.import_model('coffee.product.product')
        self.import_model('coffee.brew')
        bob = self.binding_of('2001')
        brews = self.env['coffee.brew'].search(
            [('partner_id', '=', bob.odoo_id.id)])
        self.assertTrue(brews)
        self.remove_on_machine(bob)
        self.import_after_removal()
        self.import_model('coffee.brew', full=True)
        self.assertFalse(bob.odoo_id.active)
        brews.invalidate_cache()
        self.assertEqual(self.env['coffee.brew'].search(
            [('partner_id', '=', bob.odoo_id.id)]), brews)
        self.assertTrue(all(brews.mapped('name')))

    def test_partner_of_two_machines_stays_while_one_binds_it(self):
        self.import_model(MODEL)
        bob = self.binding_of('2001')
        other_machine = self.create_backend(
            self.coffee_version, self.emulator.url, name='Other machine')
        other = self.env[MODEL].create({
            'backend_id': other_machine.id,
            'odoo_id': bob.odoo_id.id,
            'coffee_id': 'elsewhere-2001',
            'badge': '2001',
        })
        self.remove_on_machine(bob)
        self.import_after_removal()
        self.assertFalse(bob.active)
        self.assertTrue(other.active)
        self.assertTrue(bob.odoo_id.active)
        # the other machine loses it too: now the partner goes
        other._coffee_removed()
        self.assertFalse(bob.odoo_id.active)

    def test_malformed_records_become_message_checkpoints(self):
        partners = len(self.all_partners())
        self.sim('POST', 'faults', {'malformed': 1.0, 'seed': 1})
        self.import_model(MODEL, full=True)
        self.assertFalse(self.bindings())
        self.assertEqual(len(self.all_partners()), partners)
        machine = self.machine_consumers()
        messages = self.checkpoints().filtered(
            lambda c: not c.model_id).mapped('message')
        self.assertTrue(messages)
        self.assertLessEqual(len(messages), len(machine))
        for message in messages:
            self.assertIn('could not be imported', message)
        # each consumer is named by a message, but one whose id itself is
        # damaged (a 1900 card number sent as a number) cannot be
        named = set(self.consumer_id(c) for c in machine if any(
            ' %s of ' % self.consumer_id(c) in m for m in messages))
        self.assertTrue(named)
        if len(named) < len(machine):
            self.assertTrue([m for m in messages if '(no id)' in m])
        # the machine mends: imports go on and take every consumer
        self.sim('POST', 'faults', {'malformed': 0})
        self.import_model(MODEL)
        self.import_model(MODEL, full=True)
        self.assert_like_the_machine()

    def test_ten_kilobyte_name_fails_clearly(self):
        record = dict(self.machine_consumers()[0])
        record[self.name_key] = 'N' * 10240
        with self.backend.work_on(MODEL) as work:
            mapper = work.component(usage='import.mapper')
            with self.assertRaisesRegex(MappingError, self.name_key):
                mapper.map_record(record).values(for_create=True)


class TestConsumerImport1900(ConsumerImportCases, CoffeeEmulatorCase):
    coffee_version = '1900'
    name_key = 'holder'
    unknown_id = '987654'

    @staticmethod
    def consumer_id(record):
        return record['card_no']

    machine_badge = consumer_id

    @staticmethod
    def machine_credit(record):
        return record['credit_cents'] / 100.0

    def client(self):
        return Coffee1900Client(self.emulator.url, 'coffee', 'espresso')

    def change_credit(self, binding, cents):
        with self.client() as client:
            client.update_card(binding.coffee_id, {'credit_cents': cents})

    def remove_on_machine(self, binding):
        with self.client() as client:
            client.delete_card(binding.coffee_id)

    def import_after_removal(self):
        """The 1900 does not tell: a full listing reveals it."""
        self.import_model(MODEL, full=True)

    def test_delta_import_does_not_look_for_removed_cards(self):
        self.import_model(MODEL)
        bob = self.binding_of('2001')
        self.remove_on_machine(bob)
        self.import_model(MODEL)
        self.assertTrue(bob.active)
        self.assertFalse(self.env['queue.job'].search(
            [('method_name', '=', 'import_removed')]))

    def test_card_back_reactivates(self):
        self.import_model(MODEL)
        bob = self.binding_of('2001')
        self.remove_on_machine(bob)
        self.import_after_removal()
        self.assertFalse(bob.odoo_id.active)
        with self.client() as client:
            client.create_card({'card_no': '2001', 'holder': 'Bob Back',
                                'credit_cents': 300})
        self.import_model(MODEL)
        self.assertTrue(bob.active)
        self.assertTrue(bob.odoo_id.active)
        self.assertEqual(bob.name, 'Bob Back')
        self.assertEqual(self.binding_of('2001'), bob)
        self.assert_like_the_machine()

    def test_card_changed_during_listing_is_not_archived(self):
        """A card the listing missed is asked for before it is archived."""
        self.import_model(MODEL)
        jane = self.binding_of('00042')
        self.env[MODEL].create({
            'backend_id': self.backend.id,
            'odoo_id': jane.odoo_id.id,
            'coffee_id': '99999',
            'badge': '99999',
        })
        with self.backend.work_on(MODEL) as work:
            remover = work.component(usage='removed.importer')
            adapter = remover.backend_adapter
            card_nos, unreadable = adapter.listed_ids()
            self.assertIn('00042', card_nos)
            # the listing misses "00042" (and lacks the phantom "99999")
            adapter.listed_ids = lambda: (card_nos - {'00042'}, unreadable)
            remover.run()
        self.assertTrue(jane.active)
        self.assertTrue(jane.odoo_id.active)
        phantom = self.bindings().filtered(lambda b: b.coffee_id == '99999')
        self.assertFalse(phantom.active)
        # jane's partner is still bound by jane's active binding
        self.assertTrue(phantom.odoo_id.active)


class TestConsumerImport2900(ConsumerImportCases, CoffeeEmulatorCase):
    coffee_version = '2900'
    name_key = 'name'
    unknown_id = 'con_nobody'

    @staticmethod
    def consumer_id(record):
        return record['id']

    @staticmethod
    def machine_badge(record):
        return record['badge']

    @staticmethod
    def machine_credit(record):
        return float(record['balance']['amount'])

    def client(self):
        return Coffee2900Client(self.emulator.url, 'coffee', 'espresso')

    def change_credit(self, binding, cents):
        with self.client() as client:
            client.patch_record('consumers', binding.coffee_id, {
                'balance': {'amount': '%d.%02d' % divmod(cents, 100),
                            'currency': 'EUR'}})

    def remove_on_machine(self, binding):
        with self.client() as client:
            client.delete_consumer(binding.coffee_id)

    def import_after_removal(self):
        """The tombstone comes with what changed."""
        self.import_model(MODEL)

    def test_tombstone_of_an_unknown_consumer_does_nothing(self):
        self.import_model(MODEL)
        self.assertFalse(self.bindings().filtered(
            lambda b: b.coffee_id == 'con_dead01'))
        self.assertFalse(self.env['res.partner'].with_context(
            active_test=False).search([('name', '=', 'Gone Gary')]))

    def test_foreign_currency_balance_fails_clearly(self):
        record = dict(self.machine_consumers()[0])
        record['balance'] = {'amount': '5.00', 'currency': 'USD'}
        with self.backend.work_on(MODEL) as work:
            mapper = work.component(usage='import.mapper')
            with self.assertRaisesRegex(MappingError, 'balance'):
                mapper.map_record(record).values(for_create=True)
