# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The machine's password and the webhook secret, encrypted by keychain.

Neither is a column of ``coffee_backend``: each is a ``keychain.account``
of the namespace ``connector_coffee`` whose password keychain encrypts with
the key of the server configuration (``keychain_key_<running_env>``). A
copy of the database holds nothing usable without that key, and a server
without it (a staging copy of production) cannot talk to the machines.

The fields show ``******`` when a secret is set, to connector managers
only; the connector reads the secrets with ``_coffee_secret()``. Nobody
searches, groups or exports them.
"""
import logging

from psycopg2 import sql

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import config

from ...components.core import CoffeeCredentialsUnavailable

_logger = logging.getLogger(__name__)

KEYCHAIN_NAMESPACE = 'connector_coffee'
MASK = '******'
# secret field: suffix of its keychain account's technical name
SECRETS = {'password': '', 'webhook_secret': ',webhook_secret'}


class KeychainAccount(models.Model):
    _inherit = 'keychain.account'

    namespace = fields.Selection(
        selection_add=[(KEYCHAIN_NAMESPACE, 'Coffee Connector')])

    def _connector_coffee_init_data(self):
        """Nothing goes in keychain's plain-text data."""
        return {}

    def _connector_coffee_validate_data(self, data):
        return data == {}


class CoffeeBackend(models.Model):
    _name = 'coffee.backend'
    _inherit = ['coffee.backend', 'keychain.backend']
    _backend_name = KEYCHAIN_NAMESPACE

    password = fields.Char(
        compute='_compute_secrets', inverse='_inverse_password',
        search='_search_secret', required=False, copy=False,
        groups='connector.group_connector_manager',
        help="Stored encrypted; shows ****** once set. Type a new one to "
             "change it.")
    webhook_secret = fields.Char(
        compute='_compute_secrets', inverse='_inverse_webhook_secret',
        search='_search_secret', readonly=True, copy=False,
        groups='connector.group_connector_manager',
        help="The machine signs its events with this secret (stored "
             "encrypted).")
    credentials_problem = fields.Text(
        compute='_compute_credentials_problem',
        help="Why Odoo cannot use the machine's credentials on this "
             "server, and what to configure.")

    # -- keychain accounts ----------------------------------------------

    @api.multi
    def _coffee_technical_name(self, secret):
        self.ensure_one()
        return self._get_technical_name() + SECRETS[secret]

    @api.multi
    def _coffee_accounts(self, secret, all_environments=False):
        """The keychain accounts of ``secret``: those of this server's
        environment, or of any."""
        self.ensure_one()
        domain = [('namespace', '=', KEYCHAIN_NAMESPACE),
                  ('technical_name', '=', self._coffee_technical_name(secret))]
        accounts = self.env['keychain.account'].sudo()
        if all_environments:
            return accounts.search(domain)
        return accounts.retrieve(domain)

    @api.multi
    def _get_existing_keychain(self):
        return self._coffee_accounts('password')[:1]

    @api.multi
    def _coffee_set_secret(self, secret, value):
        """Store ``value`` encrypted (False: forget the secret)."""
        self.ensure_one()
        account = self._coffee_accounts(secret)[:1]
        if not value:
            self._coffee_accounts(secret, all_environments=True).unlink()
            return
        if not account:
            values = self._prepare_keychain()
            values.update(
                name='%s (%s)' % (values['name'], secret),
                technical_name=self._coffee_technical_name(secret))
            account = account.create(values)
        try:
            account.clear_password = value
        except Warning:  # keychain's "no key" is Python's Warning
            raise UserError(self._coffee_no_key_message())

    @api.multi
    def _coffee_secret(self, secret):
        """The secret in clear text ('' when none is set).

        Raises CoffeeCredentialsUnavailable when it was stored, but not
        with a key of this server (nor for its environment).
        """
        self.ensure_one()
        account = self._coffee_accounts(secret)[:1]
        if not account:
            if self._coffee_accounts(secret, all_environments=True):
                raise CoffeeCredentialsUnavailable(
                    self._coffee_unavailable_message())
            return ''
        if not account.password:
            return ''
        try:
            return account._get_password()
        except Warning:
            raise CoffeeCredentialsUnavailable(
                self._coffee_unavailable_message())

    # -- fields ---------------------------------------------------------

    @api.multi
    def _compute_secrets(self):
        """A mask when a secret is set, for connector managers: the clear
        text never leaves. Others get nothing, whatever the door (Odoo 11
        checks a field's groups in read() and write() only)."""
        manager = self._is_connector_manager()
        for backend in self:
            for secret in SECRETS:
                stored = manager and isinstance(backend.id, int) and bool(
                    backend._coffee_accounts(secret, all_environments=True)
                    .filtered('password'))
                backend[secret] = MASK if stored else False

    @api.multi
    def _inverse_password(self):
        for backend in self:
            if backend.password != MASK:
                backend._coffee_set_secret('password', backend.password)

    @api.multi
    def _inverse_webhook_secret(self):
        for backend in self:
            if backend.webhook_secret != MASK:
                backend._coffee_set_secret(
                    'webhook_secret', backend.webhook_secret)

    def _search_secret(self, operator, value):
        raise AccessError(_('The credentials of a coffee machine cannot be '
                            'searched.'))

    @api.model
    def read_group(self, domain, fields, groupby, offset=0, limit=None,
                   orderby=False, lazy=True):
        """Nobody groups by a secret (a group's name would be it)."""
        groupby = [groupby] if isinstance(groupby, str) else groupby or []
        names = set(spec.split(':')[0].strip()
                    for spec in list(groupby) + list(fields or []))
        if names & set(SECRETS):
            raise AccessError(_('The credentials of a coffee machine cannot '
                                'be grouped by.'))
        return super(CoffeeBackend, self).read_group(
            domain, fields, groupby, offset=offset, limit=limit,
            orderby=orderby, lazy=lazy)

    @api.multi
    def _compute_credentials_problem(self):
        for backend in self:
            problem = False
            if isinstance(backend.id, int):
                try:
                    for secret in SECRETS:
                        backend._coffee_secret(secret)
                except CoffeeCredentialsUnavailable as err:
                    problem = err.name
            backend.credentials_problem = problem

    @api.multi
    def _check_credentials(self):
        """Stop before the machine when its credentials cannot be read."""
        for backend in self:
            backend._coffee_secret('password')

    @api.model
    def _check_key(self):
        """Stop before the machine when a secret it gives could not be
        stored (a webhook's): this server has no key."""
        try:
            self.env['keychain.account']._get_cipher(
                config.get('running_env'))
        except Warning:
            raise UserError(self._coffee_no_key_message())

    @api.multi
    def _get_keychain_account(self):
        """keychain.account is for administrators: the connector writes
        its own."""
        account = self._get_existing_keychain()
        if not account:
            account = self.env['keychain.account'].sudo().create(
                self._prepare_keychain())
        return account

    # -- messages -------------------------------------------------------

    @staticmethod
    def _coffee_key_option():
        env = config.get('running_env')
        return 'keychain_key_%s' % env if env else 'keychain_key'

    @api.multi
    def _coffee_unavailable_message(self):
        return _(
            'The credentials of %(machine)s are not available on this '
            'server: they are stored encrypted, and this server has no key '
            'that opens them. Odoo does not talk to this machine until the '
            'key of the server that stored them is set in its odoo.conf '
            '(%(option)s, with running_env = %(env)s), or a connector '
            'manager enters the password again (and registers the webhook '
            'again).') % {
                'machine': self.name,
                'option': self._coffee_key_option(),
                'env': config.get('running_env') or ''}

    @api.model
    def _coffee_no_key_message(self):
        return _(
            'This server has no key to encrypt the credentials of the coffee '
            'machines: set %(option)s in its odoo.conf (a Fernet key, e.g. '
            'the output of: python3 -c "from cryptography.fernet import '
            'Fernet; print(Fernet.generate_key().decode())") and restart '
            'Odoo.') % {'option': self._coffee_key_option()}

    # -- moving secrets of an older version out of the table -----------

    @api.model
    def _coffee_move_plain_secrets(self):
        """Secrets stored by 11.0.1 in plain columns are moved to keychain,
        and the columns dropped (migrations/11.0.2.0.0)."""
        cr = self.env.cr
        for secret in SECRETS:
            cr.execute("""
                SELECT 1 FROM information_schema.columns
                 WHERE table_name = 'coffee_backend' AND column_name = %s
            """, (secret,))
            if not cr.fetchone():
                continue
            column = sql.Identifier(secret)
            cr.execute(sql.SQL(
                'SELECT id, {0} FROM coffee_backend WHERE {0} IS NOT NULL'
            ).format(column))
            for backend_id, value in cr.fetchall():
                self.browse(backend_id)._coffee_set_secret(secret, value)
            cr.execute(sql.SQL(
                'ALTER TABLE coffee_backend DROP COLUMN {}').format(column))
            _logger.info('coffee.backend: %s moved to keychain', secret)
