# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The 1900's log file (CSV), good and damaged, through the wizard."""
import base64

from odoo.exceptions import UserError

from odoo.addons.queue_job.exception import FailedJobError

from ..protocol import Coffee1900Client
from .common import CoffeeEmulatorCase

FILENAME = 'coffee1900-C19-000123-log.csv'


class TestLogFileImport(CoffeeEmulatorCase):
    coffee_version = '1900'

    def setUp(self):
        super(TestLogFileImport, self).setUp()
        client = Coffee1900Client(self.emulator.url, 'coffee', 'espresso')
        try:
            self.log_csv = client.get_log_csv()
        finally:
            client.close()
        # a log file comes from a machine that may be off the network:
        # what its lines point to is imported beforehand
        self.import_model('coffee.product.product')
        self.import_model('coffee.res.partner')

    # -- helpers -------------------------------------------------------------

    def upload(self, content, filename=FILENAME):
        if isinstance(content, str):
            content = content.encode('utf-8')
        wizard = self.env['coffee.brew.csv.import'].with_context(
            active_model='coffee.backend', active_id=self.backend.id,
        ).create({'data_file': base64.b64encode(content),
                  'filename': filename})
        self.assertEqual(wizard.backend_id, self.backend)
        wizard.action_import()
        return self.perform_jobs()

    def attach(self, content, backend=None, filename=FILENAME):
        """The file as the wizard leaves it for the job: an attachment of
        the backend; its id."""
        if isinstance(content, str):
            content = content.encode('utf-8')
        backend = backend or self.backend
        return self.env['ir.attachment'].create({
            'name': filename, 'datas_fname': filename,
            'datas': base64.b64encode(content),
            'res_model': 'coffee.backend', 'res_id': backend.id}).id

    def brew_by_id(self):
        return dict((b.coffee_id, b) for b in self.env['coffee.brew'].search(
            [('backend_id', '=', self.backend.id)]))

    def checkpoint_messages(self):
        """Those of log files (the consumers' import posts its own)."""
        return [m for m in self.env['connector.checkpoint'].search([
            ('backend_id', '=', 'coffee.backend,%d' % self.backend.id),
        ]).mapped('message') if m.startswith('Log file')]

    def lines(self):
        """The file's lines, header first, without line ends."""
        return self.log_csv.rstrip('\n').split('\n')

    # -- tests ---------------------------------------------------------------

    def test_good_file_imports_like_the_log(self):
        self.assertFalse('\r' in self.log_csv or '\ufeff' in self.log_csv)
        results = self.upload(self.log_csv)
        self.assertEqual(len(results), 1, 'one job for the whole file')
        self.assertIn('64 lines imported, 0 bad lines', results[0])
        machine = self.machine_records('log')
        by_id = self.brew_by_id()
        self.assertEqual(sorted(by_id),
                         sorted(str(r['log_no']) for r in machine))
        self.assertFalse(self.checkpoint_messages())
        # the lines say what the log says
        json_like = dict((r['log_no'], r) for r in machine)
        for brew in by_id.values():
            record = json_like[int(brew.coffee_id)]
            self.assertEqual(brew.consumer_ref or None, record['card_no'])
            self.assertAlmostEqual(brew.price, record['price_cents'] / 100.0,
                                   places=2)
            self.assertEqual(brew.coffee_updated_at, record['ts'])
        winter = by_id['100259']
        self.assertEqual(winter.date_start, '2026-11-20 07:31:12')
        self.assertEqual(winter.state, 'done')
        self.assertEqual(winter.partner_id.name, 'Lou Low')
        # a card removed from the machine: no partner, the number stays
        gone = by_id['100213']
        self.assertEqual(gone.consumer_ref, '3002')
        self.assertFalse(gone.partner_id)
        # the same file again changes nothing
        self.mark_brews_untouched()
        self.upload(self.log_csv)
        self.assertFalse(self.touched_brews())

    def test_same_brews_as_the_api(self):
        """A file then the API: the API finds every brew up to date."""
        self.upload(self.log_csv)
        self.mark_brews_untouched()
        self.import_model('coffee.brew')
        self.assertFalse(self.touched_brews())

    def test_damaged_file(self):
        lines = self.lines()
        header, entries = lines[0], lines[1:]
        self.assertEqual(len(entries), 64)
        damaged = list(entries)
        # line numbers count the header as line 1
        cols = damaged[2].split(';')  # line 4: a missing column
        damaged[2] = ';'.join(cols[:3] + cols[4:])
        cols = damaged[4].split(';')  # line 6: a non-numeric price
        cols[3] = '1,20'
        damaged[4] = ';'.join(cols)
        cols = damaged[6].split(';')  # line 8: an unknown drink
        cols[1] = '999'
        damaged[6] = ';'.join(cols)
        damaged[-1] = damaged[-1][:12]  # line 65: truncated
        bad_ids = set(entries[i].split(';')[0] for i in (2, 4, 6, 63))
        content = b'\xef\xbb\xbf' + '\r\n'.join(
            [header] + damaged).encode('utf-8')  # BOM, CRLF, no last EOL

        results = self.upload(content, 'stick.csv')
        self.assertIn('60 lines imported, 4 bad lines', results[0])
        by_id = self.brew_by_id()
        all_ids = set(e.split(';')[0] for e in entries)
        self.assertEqual(set(by_id), all_ids - bad_ids)
        messages = sorted(self.checkpoint_messages())
        self.assertEqual(len(messages), 4)
        for line_no, reason in ((4, '5 columns, 6 expected'),
                                (6, "price_cents '1,20'"),
                                (8, 'drink_no'),
                                (65, 'truncated')):
            found = [m for m in messages
                     if m.startswith('Log file stick.csv of %s: line %d: '
                                     % (self.backend.name, line_no))]
            self.assertEqual(len(found), 1, messages)
            self.assertIn(reason, found[0])
        self.assertIn("'999', a beverage that is not imported",
                      [m for m in messages if 'line 8:' in m][0])
        # good lines around the bad ones have their values
        self.assertEqual(by_id[entries[3].split(';')[0]].coffee_updated_at,
                         entries[3].split(';')[4])

        # again: no new checkpoint, nothing written
        self.mark_brews_untouched()
        results = self.upload(content, 'stick.csv')
        self.assertIn('60 lines imported, 4 bad lines', results[0])
        self.assertEqual(sorted(self.checkpoint_messages()), messages)
        self.assertFalse(self.touched_brews())

        # the good file fills the holes
        self.upload(self.log_csv)
        self.assertEqual(set(self.brew_by_id()), all_ids)

    def test_wrong_header_fails_clearly(self):
        content = self.log_csv.replace('log_no;', 'entry;', 1)
        with self.assertRaisesRegex(UserError, 'not a Coffee 1900 log file'):
            self.upload(content, 'cards.csv')
        with self.assertRaisesRegex(FailedJobError,
                                    'cards.csv is not a Coffee 1900 log '
                                    'file.*header'):
            self.env['coffee.brew'].import_log_csv(
                self.backend, self.attach(content), 'cards.csv')
        self.assertFalse(self.brew_by_id())

    def test_not_utf8_fails_clearly(self):
        content = self.log_csv.replace(';00042;', ';café;', 1).encode(
            'latin-1')
        with self.assertRaisesRegex(FailedJobError, 'not UTF-8'):
            self.env['coffee.brew'].import_log_csv(
                self.backend, self.attach(content), 'latin.csv')
        with self.assertRaisesRegex(UserError, 'not UTF-8'):
            self.upload(content, 'latin.csv')

    def test_consumer_imported_later_is_linked(self):
        """A card unknown when its file was imported is linked later."""
        self.env['coffee.res.partner'].search(
            [('backend_id', '=', self.backend.id)]).unlink()
        self.upload(self.log_csv)
        jane = self.brew_by_id()['100200']
        self.assertEqual(jane.consumer_ref, '00042')
        self.assertFalse(jane.partner_id)
        self.assertTrue(jane.name.startswith(
            '%s for consumer 00042, 2026-06-12 ' % jane.product_id.name),
            jane.name)
        self.import_model('coffee.res.partner', full=True)
        self.mark_brews_untouched()
        self.upload(self.log_csv)
        jane.invalidate_cache()
        self.assertEqual(jane.partner_id.name, 'Jane Doe')
        # only the brews of cards now known were written; the removed
        # card's stay as they were
        touched = self.touched_brews()
        self.assertIn(jane, touched)
        self.assertTrue(all(b.partner_id for b in touched))
        self.assertNotIn(self.brew_by_id()['100213'], touched)

    def test_machines_that_write_no_log_file(self):
        no_csv = self.create_backend('2900', 'http://127.0.0.1:9',
                                     name='A 2900')
        with self.assertRaisesRegex(FailedJobError,
                                    'A 2900 does not write log files'):
            self.env['coffee.brew'].import_log_csv(
                no_csv, self.attach(self.log_csv, no_csv), FILENAME)
        # a 1900 never reached: its time zone is unknown
        unknown = self.create_backend('1900', 'http://127.0.0.1:9',
                                      name='Never seen')
        with self.assertRaisesRegex(FailedJobError,
                                    'time zone and currency of Never seen'):
            self.env['coffee.brew'].import_log_csv(
                unknown, self.attach(self.log_csv, unknown), FILENAME)
        self.assertFalse(self.env['coffee.brew'].search(
            [('backend_id', 'in', (no_csv | unknown).ids)]))
