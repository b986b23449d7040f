# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The 1900 log file import is for connector managers, bounded, and what
it (or a machine) says reaches people as text, never as HTML."""
import base64

from odoo.exceptions import AccessError, UserError

from odoo.addons.queue_job.exception import FailedJobError
from odoo.addons.queue_job.job import Job

from ..protocol import LOG_CSV_COLUMNS, MAX_LOG_FILE_BYTES
from .common import CoffeeEmulatorCase

HEADER = ';'.join(LOG_CSV_COLUMNS)
GOOD_LINE = '100900;3;00042;120;2026-06-12 08:31:12;ok'
HOSTILE = '<a href="http://evil.example.com/x">win</a>' \
          '<img src="http://evil.example.com/pixel.png">'


class TestLogFileRights(CoffeeEmulatorCase):
    coffee_version = '1900'

    @classmethod
    def setUpClass(cls):
        super(TestLogFileRights, cls).setUpClass()
        company_b = cls.env['res.company'].create({'name': 'CSV Corp B'})
        groups = ('base.group_user', 'connector.group_connector_manager')
        cls.plain = cls.create_user('csv_plain', cls.env.user.company_id)
        cls.manager = cls.create_user('csv_manager',
                                      cls.env.user.company_id, groups)
        cls.other = cls.create_user('csv_other', company_b, groups)

    def setUp(self):
        super(TestLogFileRights, self).setUp()
        self.import_model('coffee.product.product')
        self.import_model('coffee.res.partner')
        self.reset_machine_requests()

    def wizard_as(self, user, content, filename='log.csv'):
        return self.call_as(user, 'coffee.brew.csv.import', 'create', {
            'backend_id': self.backend.id, 'filename': filename,
            'data_file': base64.b64encode(content.encode('utf-8')).decode(
                'ascii')})

    def checkpoints(self):
        return self.env['connector.checkpoint'].search(
            [('backend_id', '=', 'coffee.backend,%d' % self.backend.id),
             ('message', 'like', 'Log file %')], order='id')

    def attachments(self):
        return self.env['ir.attachment'].search_count(
            [('res_model', '=', 'coffee.backend'),
             ('res_id', '=', self.backend.id)])

    def test_only_managers_import_a_file(self):
        content = '\n'.join([HEADER, GOOD_LINE]) + '\n'
        for user in (self.plain, self.other):
            wizard_id = self.wizard_as(user, content)
            jobs = self.env['queue.job'].search_count([])
            with self.assertRaises(AccessError, msg=user.login):
                self.call_as(user, 'coffee.brew.csv.import', 'action_import',
                             [wizard_id])
            self.assertEqual(self.env['queue.job'].search_count([]), jobs)
            self.assertEqual(self.attachments(), 0)
        self.assertEqual(self.machine_requests(), {})
        wizard_id = self.wizard_as(self.manager, content)
        self.call_as(self.manager, 'coffee.brew.csv.import', 'action_import',
                     [wizard_id])
        job = self.env['queue.job'].search(
            [('method_name', '=', 'import_log_csv')])
        self.assertEqual(job.user_id, self.manager)

    def test_the_job_gets_an_attachment_not_the_file(self):
        lines = [HEADER] + [
            '%d;3;00042;120;2026-06-12 08:%02d:00;ok' % (100900 + i, i)
            for i in range(50)]
        content = '\n'.join(lines) + '\n'
        wizard_id = self.wizard_as(self.manager, content)
        self.call_as(self.manager, 'coffee.brew.csv.import', 'action_import',
                     [wizard_id])
        job = self.env['queue.job'].search(
            [('method_name', '=', 'import_log_csv')])
        stored = Job.load(self.env, job.uuid)
        backend, attachment_id, filename = stored.args
        self.assertEqual(backend, self.backend)
        self.assertIsInstance(attachment_id, int)
        self.assertEqual(filename, 'log.csv')
        self.env.cr.execute('SELECT args::text, kwargs::text FROM queue_job '
                            'WHERE id = %s', (job.id,))
        args_text = ' '.join(self.env.cr.fetchone())
        self.assertLess(len(args_text), 200)
        self.assertNotIn('100910', args_text)
        self.assertEqual(self.attachments(), 1)
        results = self.perform_jobs()
        self.assertIn('50 lines imported', results[0])
        # imported: the file is not kept
        self.assertEqual(self.attachments(), 0)

    def test_file_too_large(self):
        big = b'A' * (MAX_LOG_FILE_BYTES * 4 // 3 + 64)
        wizard = self.env['coffee.brew.csv.import'].create({
            'backend_id': self.backend.id, 'filename': 'huge.csv',
            'data_file': big})
        with self.assertRaisesRegex(UserError, 'huge.csv is too large'):
            wizard.action_import()
        self.assertFalse(self.env['queue.job'].search(
            [('method_name', '=', 'import_log_csv')]))
        # the job refuses one too (a file that came another way)
        content = (HEADER + '\n').encode() + b'x' * MAX_LOG_FILE_BYTES
        attachment = self.env['ir.attachment'].create({
            'name': 'huge.csv', 'datas': base64.b64encode(content),
            'res_model': 'coffee.backend', 'res_id': self.backend.id})
        with self.assertRaisesRegex(FailedJobError, 'more than 20 MiB'):
            self.env['coffee.brew'].import_log_csv(
                self.backend, attachment.id, 'huge.csv')

    def test_long_lines_and_long_values_are_cut(self):
        lines = [HEADER,
                 GOOD_LINE.replace(';ok', ';' + 'o' * 5000),
                 '100901;3;00042;%s;2026-06-12 08:31:12;ok' % ('9x' * 150),
                 GOOD_LINE]
        wizard_id = self.wizard_as(self.manager, '\n'.join(lines) + '\n')
        self.call_as(self.manager, 'coffee.brew.csv.import', 'action_import',
                     [wizard_id])
        results = self.perform_jobs()
        self.assertIn('1 lines imported, 2 bad lines', results[0])
        messages = self.checkpoints().mapped('message')
        self.assertEqual(len(messages), 2)
        self.assertIn('line 2: %d characters, a log line has at most 500'
                      % len(lines[1]), messages[0])
        self.assertIn("line 3: price_cents '9x9x", messages[1])
        for message in messages:
            self.assertLess(len(message), 250, message)

    def test_at_most_100_checkpoints_per_file(self):
        lines = [HEADER] + ['%d;3;00042;cheap;2026-06-12 08:31:12;ok'
                            % (101000 + i) for i in range(150)]
        wizard_id = self.wizard_as(self.manager, '\n'.join(lines) + '\n',
                                   'bad.csv')
        self.call_as(self.manager, 'coffee.brew.csv.import', 'action_import',
                     [wizard_id])
        results = self.perform_jobs()
        self.assertIn('0 lines imported, 150 bad lines', results[0])
        messages = self.checkpoints().mapped('message')
        self.assertEqual(len(messages), 101)
        self.assertIn('line 101:', messages[99])
        self.assertIn('50 more bad lines (150 in all; the first 100 have a '
                      'checkpoint each)', messages[100])

    def test_a_filename_is_a_name(self):
        wizard_id = self.wizard_as(self.manager, HEADER + '\n',
                                   'x' * 5000 + '.csv')
        self.call_as(self.manager, 'coffee.brew.csv.import', 'action_import',
                     [wizard_id])
        job = self.env['queue.job'].search(
            [('method_name', '=', 'import_log_csv')])
        self.assertLess(len(job.name), 300)


class TestCheckpointsAreText(CoffeeEmulatorCase):
    """What a machine or a file says is posted escaped: the managers'
    mails show it, they hold no link nor image of it."""

    coffee_version = '1900'

    def assert_text_only(self, checkpoint):
        bodies = checkpoint.message_ids.mapped('body')
        self.assertTrue(any('evil.example.com' in b for b in bodies), bodies)
        for body in bodies:
            self.assertNotIn('<a ', body)
            self.assertNotIn('<img', body)
        self.assertTrue(any('&lt;a href=' in b for b in bodies), bodies)

    def test_message_checkpoint(self):
        self.assert_text_only(self.backend.add_checkpoint(message=HOSTILE))

    def test_record_checkpoint(self):
        partner = self.env['res.partner'].create({'name': 'Victim'})
        self.assert_text_only(self.backend.add_checkpoint(
            model='res.partner', record_id=partner.id, message=HOSTILE))

    def test_machine_alert(self):
        """A 2900's alert message, through the webhook's job."""
        self.env['coffee.backend']._webhook_machine_alert(
            self.backend, 'evt_1', {'state': 'error', 'code': 'E02',
                                    'message': HOSTILE})
        checkpoint = self.env['connector.checkpoint'].search(
            [('message', 'like', '%evil.example.com%')])
        self.assertEqual(len(checkpoint), 1)
        self.assert_text_only(checkpoint)

    def test_log_file_line(self):
        self.import_model('coffee.product.product')
        content = '\n'.join([HEADER, GOOD_LINE.replace(
            ';ok', ';<img src="http://evil.example.com/p.png">')]) + '\n'
        wizard = self.env['coffee.brew.csv.import'].create({
            'backend_id': self.backend.id, 'filename': 'img.csv',
            'data_file': base64.b64encode(content.encode())})
        wizard.action_import()
        self.perform_jobs()
        checkpoint = self.env['connector.checkpoint'].search(
            [('message', 'like', 'Log file img.csv%')])
        self.assertEqual(len(checkpoint), 1)
        bodies = checkpoint.message_ids.mapped('body')
        for body in bodies:
            self.assertNotIn('<img', body)
        self.assertTrue(any('&lt;img' in b for b in bodies), bodies)
