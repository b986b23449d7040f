# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Partners -> consumers (1900: cards), for both versions, over HTTP."""
from odoo.addons.queue_job.exception import FailedJobError

from ..protocol import Coffee1900Client, Coffee2900Client
from .common import CoffeeEmulatorCase
from .test_export_beverages import ExportCase

MODEL = 'coffee.res.partner'


class ConsumerExportCases(ExportCase):

    def setUp(self):
        super(ConsumerExportCases, self).setUp()
        self.import_model(MODEL)
        self.jane = self.binding_of('00042')

    def binding_of(self, badge):
        binding = self.env[MODEL].with_context(active_test=False).search(
            [('backend_id', '=', self.backend.id), ('badge', '=', badge)])
        self.assertEqual(len(binding), 1, 'one binding for badge %r' % badge)
        return binding

    def machine_consumer(self, badge):
        for record in self.machine_records('consumers'):
            if record[self.badge_key] == badge:
                return record
        return None

    def create_badge(self, partner, badge):
        wizard = self.env['coffee.partner.badge'].with_context(
            active_id=partner.id).create(
                {'backend_id': self.backend.id, 'badge': badge})
        self.assertEqual(wizard.partner_id, partner)
        action = wizard.action_create_badge()
        binding = self.env[MODEL].browse(action['res_id'])
        self.assertEqual(binding.badge, badge)
        self.assertEqual(binding.odoo_id, partner)
        return binding

    def test_import_does_not_bounce_back(self):
        self.assertFalse(self.export_jobs())
        self.sim('POST', 'activity', {'consumers': 6, 'seed': 3})
        self.import_model(MODEL)
        self.import_model(MODEL, full=True)
        self.perform_jobs()
        self.assertFalse(self.export_jobs())
        self.assertFalse(self.export_jobs('export_delete'))

    def test_name_and_email_reach_the_machine(self):
        before = self.machine_consumer('00042')
        sent = self.writes_sent()
        self.jane.odoo_id.write({'name': 'Jane Smith',
                                 'email': 'jane.smith@example.com'})
        self.assertEqual(len(self.export_jobs()), 1)
        self.perform_jobs()
        self.assertEqual(sent, [{self.name_key: 'Jane Smith',
                                 'email': 'jane.smith@example.com'}])
        after = self.machine_consumer('00042')
        self.assertEqual(after[self.name_key], 'Jane Smith')
        self.assertEqual(after['email'], 'jane.smith@example.com')
        for key in before:
            if key not in (self.name_key, 'email', self.stamp_key):
                self.assertEqual(after[key], before[key], key)
        self.assertEqual(self.jane.coffee_updated_at, after[self.stamp_key])

    def test_only_what_the_mapper_is_changed_by_is_exported(self):
        """The listeners ask the machine's export mapper (@changed_by); a
        partner's field written through the binding is one export."""
        self.jane.odoo_id.write({'phone': '+32 2 555 01 01'})
        self.jane.write({'comment': 'Takes it black'})
        self.assertFalse(self.export_jobs())
        self.jane.write({'email': 'jane@example.org', 'phone': '+32 2'})
        jobs = self.export_jobs()
        self.assertEqual(len(jobs), 1)
        self.assertEqual(jobs.kwargs, {'fields': ['email']})

    def test_blocked_reaches_the_machine(self):
        sent = self.writes_sent()
        self.jane.write({'blocked': True})
        self.assertEqual(len(self.export_jobs()), 1)
        self.perform_jobs()
        self.assertEqual(sent, [{'blocked': self.blocked_value(True)}])
        self.assertEqual(self.machine_consumer('00042')['blocked'],
                         self.blocked_value(True))
        self.jane.write({'blocked': False})
        self.perform_jobs()
        self.assertEqual(self.machine_consumer('00042')['blocked'],
                         self.blocked_value(False))

    def test_create_badge_on_the_machine(self):
        partner = self.env['res.partner'].create(
            {'name': 'Ann Newcomer', 'email': 'ann@example.com'})
        binding = self.create_badge(partner, '0077')
        self.assertFalse(binding.coffee_id)
        self.assertEqual(len(self.export_jobs()), 1)
        self.perform_jobs()
        record = self.machine_consumer('0077')
        self.assertTrue(record)
        self.assertEqual(record[self.name_key], 'Ann Newcomer')
        self.assertEqual(record['email'], 'ann@example.com')
        self.assertEqual(binding.coffee_id, self.id_of(record))
        self.assertEqual(binding.coffee_updated_at, record[self.stamp_key])
        # the import knows it now: no second binding, no export back
        self.import_model(MODEL, full=True)
        self.assertEqual(self.binding_of('0077'), binding)
        self.assertFalse(self.export_jobs())

    def test_create_existing_badge_fails_clearly(self):
        partner = self.env['res.partner'].create({'name': 'Copycat'})
        # the binding of "42" is archived in Odoo, but the card is still
        # on the machine
        self.binding_of('42').with_context(connector_no_export=True).write(
            {'active': False})
        self.create_badge(partner, '42')
        with self.assertRaises(FailedJobError) as caught:
            self.perform_jobs()
        self.assertIn('42 already exists', str(caught.exception))
        self.assertTrue(self.machine_consumer('42'))
        self.assertNotEqual(self.machine_consumer('42')[self.name_key],
                            'Copycat')

    def test_archiving_deletes_on_the_machine(self):
        john = self.binding_of('42')
        john.write({'active': False})
        jobs = self.export_jobs('export_delete')
        self.assertEqual(len(jobs), 1)
        self.perform_jobs()
        self.assertIsNone(self.machine_consumer('42'))
        self.assertTrue(self.machine_consumer('00042'))
        # done twice (a retried job): the machine says 404, that is fine
        result = self.run_job(jobs, raise_error=True).result
        self.assertIn('already gone', result)

    def test_import_of_a_deletion_deletes_nothing(self):
        self.remove_on_machine('42')
        self.import_after_removal()
        self.assertFalse(self.binding_of('42').active)
        self.assertFalse(self.export_jobs('export_delete'))
        self.assertFalse(self.export_jobs())


class TestConsumerExport1900(ConsumerExportCases, CoffeeEmulatorCase):
    coffee_version = '1900'
    badge_key = 'card_no'
    name_key = 'holder'
    stamp_key = 'modified'
    write_method = (Coffee1900Client, 'update_card')

    @staticmethod
    def id_of(record):
        return record['card_no']

    @staticmethod
    def blocked_value(blocked):
        return 1 if blocked else 0

    def remove_on_machine(self, badge):
        client = Coffee1900Client(self.emulator.url, 'coffee', 'espresso')
        client.delete_card(badge)
        client.close()

    def import_after_removal(self):
        self.import_model(MODEL, full=True)


class TestConsumerExport2900(ConsumerExportCases, CoffeeEmulatorCase):
    coffee_version = '2900'
    badge_key = 'badge'
    name_key = 'name'
    stamp_key = 'updated_at'
    write_method = (Coffee2900Client, 'patch_record')

    @staticmethod
    def id_of(record):
        return record['id']

    @staticmethod
    def blocked_value(blocked):
        return blocked

    def remove_on_machine(self, badge):
        client = Coffee2900Client(self.emulator.url, 'coffee', 'espresso')
        client.delete_consumer(self.binding_of(badge).coffee_id)
        client.close()

    def import_after_removal(self):
        self.import_model(MODEL)
