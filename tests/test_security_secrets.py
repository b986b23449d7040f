# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""No door gives the machine's password or the webhook secret away.

Each door is tried the way RPC calls it, as a plain internal user, a
connector manager and a connector manager of another company; and the
secrets are encrypted at rest with the server's key, so that a server
without it cannot talk to the machines.
"""
import importlib.util
import logging
import os
from contextlib import contextmanager
from unittest import mock

from cryptography.fernet import Fernet

from odoo.exceptions import AccessError, UserError
from odoo.tools import config, mute_logger

from odoo.addons.queue_job.exception import FailedJobError

from .common import CoffeeEmulatorCase

PASSWORD = 'espresso'
ADDON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SECRET = 'whsec_do_not_tell'
SECRETS = (PASSWORD, SECRET)
UNAVAILABLE = 'not available on this server'


def migration_script(version, name):
    """The module of ``migrations/<version>/<name>.py``, as Odoo loads it
    on upgrade (its folder and file names are no Python names)."""
    path = os.path.join(ADDON_DIR, 'migrations', version, name + '.py')
    spec = importlib.util.spec_from_file_location(
        'connector_coffee_migration_%s' % name.replace('-', '_'), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class SecretsCase(CoffeeEmulatorCase):
    """A 2900 with a webhook secret, and users of two companies."""

    coffee_version = '2900'

    @classmethod
    def setUpClass(cls):
        super(SecretsCase, cls).setUpClass()
        cls.company_a = cls.env.user.company_id
        cls.company_b = cls.env['res.company'].create(
            {'name': 'Other Coffee Corp'})
        cls.backend.write({'company_id': cls.company_a.id,
                           'webhook_secret': SECRET})
        # where a registered webhook would post: nobody listens there
        cls.env['ir.config_parameter'].set_param(
            'web.base.url', 'http://127.0.0.1:9')
        cls.plain = cls.create_user('secrets_plain', cls.company_a)
        manager_groups = ('base.group_user',
                          'connector.group_connector_manager')
        cls.manager = cls.create_user(
            'secrets_manager', cls.company_a, manager_groups)
        cls.other = cls.create_user(
            'secrets_other', cls.company_b, manager_groups)

    def assert_no_secret(self, value, door):
        text = repr(value)
        for secret in SECRETS:
            self.assertNotIn(secret, text, door)

    def try_door(self, user, door, model, method, *args, **kwargs):
        """Call the door as ``user``; what it answered (or its refusal,
        an exception) holds no secret. Returns (answer, exception)."""
        try:
            answer = self.call_as(user, model, method, *args, **kwargs)
        except Exception as err:  # the refusal itself must not tell
            self.assert_no_secret((str(err), err.args), door)
            return None, err
        self.assert_no_secret(answer, door)
        return answer, None


class TestSecretDoors(SecretsCase):

    def test_read(self):
        for user in (self.plain, self.other):
            for field_name in ('password', 'webhook_secret'):
                __, err = self.try_door(user, 'read', 'coffee.backend',
                                        'read', [self.backend.id],
                                        [field_name])
                self.assertIsInstance(err, AccessError)
        answer, err = self.try_door(self.plain, 'read', 'coffee.backend',
                                    'read', [self.backend.id])
        self.assertEqual(answer[0]['name'], self.backend.name)
        answer, err = self.try_door(self.manager, 'read', 'coffee.backend',
                                    'read', [self.backend.id],
                                    ['password', 'webhook_secret'])
        self.assertEqual(answer[0]['password'], '******')

    def test_read_group(self):
        for user in (self.plain, self.manager, self.other):
            for field_name in ('password', 'webhook_secret'):
                __, err = self.try_door(
                    user, 'read_group', 'coffee.backend', 'read_group', [],
                    [field_name], [field_name])
                self.assertIsInstance(err, AccessError, user.login)

    def test_search_count_answers_nothing(self):
        """Yes or no, character by character: refused."""
        for user in (self.plain, self.manager, self.other):
            for field_name, value in (('password', PASSWORD),
                                      ('password', 'wrong'),
                                      ('webhook_secret', SECRET),
                                      ('webhook_secret', 'whsec_%')):
                for operator in ('=', '=like'):
                    __, err = self.try_door(
                        user, 'search_count', 'coffee.backend',
                        'search_count', [(field_name, operator, value)])
                    self.assertIsInstance(err, AccessError, user.login)

    def test_search_and_name_search(self):
        for user in (self.plain, self.manager):
            __, err = self.try_door(
                user, 'search', 'coffee.backend', 'search',
                [('password', '=', PASSWORD)])
            self.assertIsInstance(err, AccessError)
            __, err = self.try_door(
                user, 'name_search', 'coffee.backend', 'name_search', '',
                args=[('webhook_secret', '=', SECRET)])
            self.assertIsInstance(err, AccessError)
            __, err = self.try_door(
                user, 'search_read', 'coffee.backend', 'search_read',
                [('password', 'like', 'esp')], ['name'])
            self.assertIsInstance(err, AccessError)

    def test_dotted_domains(self):
        """Through the backend of a binding or a brew."""
        for user in (self.plain, self.other):
            for model in ('coffee.product.product', 'coffee.res.partner',
                          'coffee.brew', 'coffee.backend.watermark'):
                for path in ('backend_id.password',
                             'backend_id.webhook_secret'):
                    __, err = self.try_door(
                        user, 'dotted domain', model, 'search_count',
                        [(path, '=', PASSWORD)])
                    self.assertIsInstance(err, AccessError, (model, path))
            __, err = self.try_door(
                user, 'dotted name_search', 'coffee.brew', 'name_search',
                '', args=[('backend_id.password', '=like', 'e%')])
            self.assertIsInstance(err, AccessError)

    def test_export_data(self):
        for user in (self.plain, self.manager):
            answer, err = self.try_door(
                user, 'export_data', 'coffee.backend', 'export_data',
                [self.backend.id], ['name', 'password', 'webhook_secret'])
            self.assertIsNone(err)
            self.assertEqual(answer['datas'][0][0], self.backend.name)
        # the last error is stored for the managers: refused to the others
        __, err = self.try_door(
            self.plain, 'export_data', 'coffee.backend', 'export_data',
            [self.backend.id], ['name', 'last_error'])
        self.assertIsInstance(err, AccessError)
        answer, err = self.try_door(
            self.manager, 'export_data', 'coffee.backend', 'export_data',
            [self.backend.id], ['name', 'last_error'])
        self.assertIsNone(err)
        answer, __ = self.try_door(
            self.plain, 'export_data', 'coffee.backend', 'export_data',
            [self.backend.id], ['password', 'webhook_secret'])
        self.assertEqual(answer['datas'], [['', '']])

    def test_copy_and_copy_data(self):
        for user in (self.plain, self.manager):
            answer, err = self.try_door(
                user, 'copy_data', 'coffee.backend', 'copy_data',
                [self.backend.id])
            self.assertIsNone(err)
            values = answer[0] if isinstance(answer, list) else answer
            self.assertEqual(values['name'], self.backend.name)
            self.assertNotIn('password', values)
        __, err = self.try_door(self.plain, 'copy', 'coffee.backend',
                                'copy', [self.backend.id])
        self.assertIsInstance(err, AccessError)
        # a manager's copy is a new machine without the credentials
        copy_id, __ = self.try_door(self.manager, 'copy', 'coffee.backend',
                                    'copy', [self.backend.id])
        copy = self.env['coffee.backend'].browse(copy_id)
        self.assertEqual(copy._coffee_secret('password'), '')
        self.assertEqual(copy._coffee_secret('webhook_secret'), '')

    def test_onchange_and_defaults(self):
        spec = {'name': '1', 'password': '', 'webhook_secret': '',
                'credentials_problem': ''}
        for user in (self.plain, self.manager):
            self.try_door(
                user, 'onchange', 'coffee.backend', 'onchange', [],
                {'name': self.backend.name, 'version': '2900',
                 'location': self.backend.location}, 'name', spec)
            self.try_door(user, 'default_get', 'coffee.backend',
                          'default_get', ['password', 'webhook_secret'])
            # the wizards show a backend: by its name only
            self.try_door(
                user, 'onchange', 'coffee.pour.coffee', 'onchange', [],
                {'backend_id': self.backend.id}, 'backend_id',
                {'backend_id': '1', 'backend_id.password': '',
                 'backend_id.webhook_secret': ''})

    def test_no_mail_tracking(self):
        self.assertNotIn('message_ids', self.env['coffee.backend']._fields)
        self.backend.sudo(self.manager).write({'password': 'ristretto'})
        self.assertFalse(self.env['mail.message'].search(
            [('body', 'ilike', 'ristretto')]))
        self.assertFalse(self.env['mail.tracking.value'].search(
            ['|', ('old_value_char', 'ilike', 'ristretto'),
             ('new_value_char', 'ilike', 'ristretto')]))

    def test_keychain_holds_nothing_readable(self):
        """Every user reads keychain.account: its rows are ciphertext."""
        for user in (self.plain, self.other):
            answer, err = self.try_door(
                user, 'keychain', 'keychain.account', 'search_read',
                [('namespace', '=', 'connector_coffee'),
                 ('technical_name', 'like',
                  'coffee.backend,%d' % self.backend.id)],
                ['name', 'technical_name', 'login', 'password', 'data',
                 'environment'])
            self.assertIsNone(err)
            self.assertEqual(len(answer), 2)
            for row in answer:
                self.assertIn(row['data'], ('{}', False))
                self.assertTrue(row['password'])

    def test_database_holds_no_clear_secret(self):
        """What a dump would show: the tables of the backend, keychain,
        jobs, messages and attachments."""
        self.backend.import_beverages()
        cr = self.env.cr
        cr.execute("""SELECT column_name FROM information_schema.columns
                       WHERE table_name = 'coffee_backend'""")
        columns = [row[0] for row in cr.fetchall()]
        self.assertNotIn('password', columns)
        self.assertNotIn('webhook_secret', columns)
        for table in ('coffee_backend', 'keychain_account', 'queue_job',
                      'mail_message', 'ir_attachment', 'ir_config_parameter'):
            cr.execute('SELECT row_to_json(t)::text FROM %s t' % table)
            self.assert_no_secret([row[0] for row in cr.fetchall()], table)

    def test_job_arguments_and_errors(self):
        """Jobs name the backend, never its secrets; a refused login says
        so without the password."""
        self.backend.import_all()
        self.backend.register_webhook()
        wrong = self.create_backend('2900', self.emulator.url,
                                    name='Typo', password='s3cret-typo')
        with self.assertRaises(UserError) as caught:
            wrong.action_test_connection()
        self.assertNotIn('s3cret-typo', str(caught.exception))
        for job in self.env['queue.job'].search([]):
            self.assert_no_secret(
                [job.name, job.args, job.kwargs, job.exc_info, job.result],
                'job %s' % job.name)

    def test_logs(self):
        """Test Connection, imports, the webhook: no secret logged, even
        at debug level."""
        records = []

        class Catch(logging.Handler):
            def emit(self, record):
                records.append(self.format(record))

        handler = Catch(level=logging.DEBUG)
        root = logging.getLogger()
        loggers = [logging.getLogger(name) for name in (
            'odoo.addons.connector_coffee', 'odoo.addons.keychain',
            'odoo.addons.queue_job', 'urllib3', 'requests')]
        levels = [logger.level for logger in loggers]
        root.addHandler(handler)
        for logger in loggers:
            logger.setLevel(logging.DEBUG)
        try:
            self.backend.action_test_connection()
            self.import_model('coffee.product.product')
            self.backend.register_webhook()
            self.env['coffee.backend']._webhook_receive(
                self.backend.id, {}, b'{}')
        finally:
            root.removeHandler(handler)
            for logger, level in zip(loggers, levels):
                logger.setLevel(level)
        self.assertTrue(records)
        self.assert_no_secret(records, 'logs')


class TestKeyOfTheServer(SecretsCase):
    """A copy of the database on a server without the key."""

    @contextmanager
    def other_server(self, **options):
        """The configuration of another server: another key (or none), or
        another environment."""
        env = config.get('running_env')
        key_option = 'keychain_key_%s' % env if env else 'keychain_key'
        values = {key_option: Fernet.generate_key().decode()}
        values.update(options)
        with mock.patch.dict(config.options, values):
            self.env['coffee.backend'].invalidate_cache()
            yield
        self.env['coffee.backend'].invalidate_cache()

    def test_secrets_are_encrypted_with_the_key(self):
        self.assertEqual(self.backend._coffee_secret('password'), PASSWORD)
        self.assertEqual(self.backend._coffee_secret('webhook_secret'),
                         SECRET)
        self.assertFalse(self.backend.credentials_problem)
        accounts = self.env['keychain.account'].search(
            [('namespace', '=', 'connector_coffee'),
             ('technical_name', 'like', 'coffee.backend,%d' %
              self.backend.id)])
        self.assertEqual(len(accounts), 2)
        for account in accounts:
            self.assertEqual(account.environment,
                             config.get('running_env') or False)
            self.assertNotIn(PASSWORD, account.password)
            self.assertNotIn(SECRET, account.password)

    def check_unavailable(self):
        """The backend says why, and nothing reaches the machine."""
        self.reset_machine_requests()
        backend = self.backend
        self.assertIn(UNAVAILABLE, backend.credentials_problem)
        self.assertIn('odoo.conf', backend.credentials_problem)
        with self.assertRaisesRegex(UserError, UNAVAILABLE):
            backend.action_test_connection()
        with self.assertRaisesRegex(UserError, UNAVAILABLE):
            backend.import_beverages()
        with self.assertRaisesRegex(UserError, UNAVAILABLE):
            backend.register_webhook()
        product = self.env['product.product'].create({'name': 'Lungo'})
        with self.assertRaisesRegex(UserError, UNAVAILABLE):
            backend.pour_coffee(product.id)
        # a job queued before the key went: failed at once, no retry
        job_model = self.env['coffee.product.product']
        with self.assertRaisesRegex(FailedJobError, UNAVAILABLE):
            job_model.import_batch(backend)
        # the scheduler leaves the machine alone
        jobs = self.env['queue.job'].search_count([])
        with mute_logger('odoo.addons.connector_coffee.models.'
                         'coffee_backend.common'):
            self.env['coffee.backend']._scheduler_import_all()
        self.assertEqual(self.env['queue.job'].search_count(
            [('coffee_backend_id', '=', backend.id)]), 0)
        self.assertEqual(self.env['queue.job'].search_count([]), jobs)
        # a delivery cannot be checked: refused, the machine retries
        with mute_logger('odoo.addons.connector_coffee.models.'
                         'coffee_backend.webhook'):
            status, __ = self.env['coffee.backend']._webhook_receive(
                backend.id, {}, b'{}')
        self.assertEqual(status, 503)
        self.assertEqual(self.machine_requests(), {})

    def test_another_key(self):
        with self.other_server():
            self.check_unavailable()
        # back on the server of the key
        self.assertEqual(self.backend._coffee_secret('password'), PASSWORD)

    def test_no_key(self):
        env = config.get('running_env')
        key_option = 'keychain_key_%s' % env if env else 'keychain_key'
        with self.other_server(**{key_option: ''}):
            self.check_unavailable()
            with self.assertRaisesRegex(UserError, 'no key'):
                self.backend.write({'password': 'new one'})

    def test_another_environment(self):
        """Staging (running_env = staging) with its own key does not use
        the credentials of dev."""
        with self.other_server(running_env='staging',
                               keychain_key_staging=Fernet.generate_key()
                               .decode()):
            self.check_unavailable()
            # entering them again on this server works (for staging)
            self.backend.write({'password': PASSWORD})
            self.assertEqual(self.backend._coffee_secret('password'),
                             PASSWORD)

    def test_no_key_no_webhook(self):
        """The machine's new secret could not be stored: nothing is asked
        of the machine."""
        self.backend.write({'password': False})
        env = config.get('running_env')
        key_option = 'keychain_key_%s' % env if env else 'keychain_key'
        with self.other_server(**{key_option: ''}):
            self.reset_machine_requests()
            with self.assertRaisesRegex(UserError, 'no key'):
                self.backend.register_webhook()
            self.assertEqual(self.machine_requests(), {})

    def test_secrets_of_an_older_version_are_moved(self):
        """The upgrade from 11.0.1 (plain columns, as in bin/up's demo
        database of before): its migration script moves the values to
        keychain and drops the columns."""
        cr = self.env.cr
        cr.execute('ALTER TABLE coffee_backend ADD COLUMN password varchar, '
                   'ADD COLUMN webhook_secret varchar')
        cr.execute('UPDATE coffee_backend SET password = %s, '
                   'webhook_secret = %s WHERE id = %s',
                   ('old-espresso', 'whsec_old', self.backend.id))
        with mute_logger('odoo.addons.connector_coffee.models.'
                         'coffee_backend.credentials'):
            migration_script('11.0.2.0.0', 'post-migration').migrate(
                cr, '11.0.1.0.0')
        self.assertEqual(self.backend._coffee_secret('password'),
                         'old-espresso')
        self.assertEqual(self.backend._coffee_secret('webhook_secret'),
                         'whsec_old')
        cr.execute("""SELECT column_name FROM information_schema.columns
                       WHERE table_name = 'coffee_backend'
                         AND column_name IN ('password', 'webhook_secret')""")
        self.assertFalse(cr.fetchall())
