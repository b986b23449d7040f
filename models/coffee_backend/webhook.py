# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Coffee 2900 webhooks: the machine tells Odoo what changed.

``register_webhook()`` asks the machine to POST its events to
``<web.base.url>/connector_coffee/webhook/<backend id>`` and keeps the secret
it signs them with. ``_webhook_receive()`` is what that URL does with a
delivery (the controller only carries the request to it): check the
signature, drop the retries of an event already received, and queue the
job that acts on a new event. Nothing is imported during the request.
"""
import collections
import json
import logging
import threading
import time
from contextlib import contextmanager

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.component.core import AbstractComponent, Component
from odoo.addons.component.exception import NoComponentError
from odoo.addons.queue_job.job import identity_exact, job, related_action

from ...components.core import (
    COFFEE_CHANNEL,
    RETRY_PATTERN,
    CoffeeCredentialsUnavailable,
)
from ...protocol import (
    SIGNATURE_HEADER,
    CoffeeError,
    CoffeeNotFound,
    CoffeeSignatureError,
    verify_signature,
)
from .common import MACHINE_STATES

_logger = logging.getLogger(__name__)

#: the route of a machine's webhook, its backend's id appended
WEBHOOK_PREFIX = '/connector_coffee/webhook/'

# event type: binding model whose record the event names
WEBHOOK_IMPORTS = {
    'brew.completed': 'coffee.brew',
    'consumer.updated': 'coffee.res.partner',
    'beverage.updated': 'coffee.product.product',
}
WEBHOOK_EVENTS = ('brew.completed', 'consumer.updated', 'beverage.updated',
                  'machine.alert')
#: refused deliveries are logged as a count, at most once per this period
REFUSAL_LOG_SECONDS = 60


class RefusalLog(object):
    """Counts refused deliveries and logs how many, once a period at most.

    Anybody can post to the webhook URL: one log line per refusal would let
    them fill the log. The first refusal of a quiet period is logged at
    once; those after it are counted and logged with the next one that
    comes a period later.
    """

    def __init__(self, logger, period=REFUSAL_LOG_SECONDS):
        self.logger = logger
        self.period = period
        self._lock = threading.Lock()
        self._counts = collections.Counter()
        self._since = None
        self._logged_at = None

    def reset(self):
        """Forget the counts (a new period starts with the next one)."""
        with self._lock:
            self._counts = collections.Counter()
            self._since = self._logged_at = None

    def refused(self, reason):
        """Count one refused delivery; ``reason`` is a few words."""
        now = time.monotonic()
        with self._lock:
            self._counts[reason] += 1
            if self._since is None:
                self._since = now
            if self._logged_at is not None and \
                    now - self._logged_at < self.period:
                return
            counts, self._counts = self._counts, collections.Counter()
            since, self._since = self._since, None
            self._logged_at = now
        self.logger.warning(
            'coffee webhook: %d deliveries refused in the last %d s (%s)',
            sum(counts.values()), max(1, round(now - since)),
            ', '.join('%d %s' % (n, reason)
                      for reason, n in sorted(counts.items())))


WEBHOOK_REFUSALS = RefusalLog(_logger)


class CoffeeBackend(models.Model):
    _inherit = 'coffee.backend'

    webhook_id = fields.Char(
        string='Webhook ID', readonly=True, copy=False,
        help="The machine's id of the webhook that posts to Odoo.")
    webhook_url = fields.Char(
        string='Webhook URL', readonly=True, copy=False,
        help="Where the machine posts its events.")
    # webhook_secret: see credentials.py (stored encrypted)

    # -- registration -----------------------------------------------------

    @contextmanager
    @api.multi
    def _webhook_registration(self):
        """The machine's ``webhook.registration`` component.

        Only a version that has webhooks provides one (the 2900); for the
        others a person is told why there is nothing to register. When no
        version has one, the connector's components are not loaded at all,
        and the version is not to blame.
        """
        self.ensure_one()
        usage = 'webhook.registration'
        with self.work_on(self._name) as work:
            try:
                registration = work.component(usage=usage)
            except NoComponentError:
                if not work.components_registry.lookup(
                        self._name, usage=usage, model_name=self._name):
                    raise UserError(_(
                        'The Coffee Connector\'s components are not loaded '
                        'in this Odoo process (no "%(usage)s" component for '
                        'any machine version). Restart Odoo after '
                        'installing or updating the addon.') % {
                            'usage': usage})
                raise UserError(_(
                    '%(machine)s is a Coffee %(version)s: only the Coffee '
                    '2900 sends webhooks. Odoo imports from this machine '
                    'on schedule instead.') % {
                        'machine': self.name, 'version': self.version})
            yield registration

    @api.multi
    def _webhook_public_url(self):
        self.ensure_one()
        base_url = self.env['ir.config_parameter'].sudo().get_param(
            'web.base.url')
        if not base_url:
            raise UserError(_(
                'The parameter web.base.url is not set: the machine would '
                'not know where to send its events.'))
        return base_url.rstrip('/') + WEBHOOK_PREFIX + str(self.id)

    @api.multi
    def register_webhook(self):
        """Ask the machine to post its events to Odoo.

        Replaces the previous registration of the backend, so it can be
        pressed again to change the URL or to renew the secret.
        """
        self._check_may_sync()
        self._check_credentials()
        self._check_key()
        for backend in self:
            with backend._webhook_registration() as registration:
                url = backend._webhook_public_url()
                try:
                    answer = registration.register(url)
                except CoffeeError as err:
                    raise UserError(_(
                        '%(machine)s: the webhook could not be registered.'
                        '\n%(reason)s') % {
                            'machine': backend.name, 'reason': err})
            backend.sudo().write({
                'webhook_id': answer['id'],
                'webhook_secret': answer['secret'],
                'webhook_url': url,
            })
            _logger.info('%s: webhook %s registered for %s',
                         backend.name, answer['id'], url)
        return True

    @api.multi
    def unregister_webhook(self):
        """Stop the machine posting events to Odoo."""
        self._check_may_sync()
        for backend in self:
            with backend._webhook_registration() as registration:
                try:
                    registration.unregister()
                except CoffeeError as err:
                    raise UserError(_(
                        '%(machine)s: the webhook could not be removed.\n'
                        '%(reason)s') % {
                            'machine': backend.name, 'reason': err})
            backend.sudo().write({
                'webhook_id': False,
                'webhook_secret': False,
                'webhook_url': False,
            })
        return True

    # -- deliveries ---------------------------------------------------------

    @api.model
    def _webhook_receive(self, backend_id, headers, raw_body, now=None):
        """Handle one delivery; return ``(HTTP status, JSON-able body)``.

        ``headers`` is a mapping (any case), ``raw_body`` the bytes as
        received. A delivery that is not proven to come from the machine
        writes nothing. The caller commits on a 2xx and rolls back
        otherwise.
        """
        backend = self.sudo().with_context(active_test=False).browse(
            backend_id).exists()
        try:
            secret = backend._coffee_secret('webhook_secret') \
                if backend else None
        except CoffeeCredentialsUnavailable:
            # the machine delivers again later: the key may be set by then;
            # counted with the other refusals, not a log line each (the
            # backend form says what to configure)
            WEBHOOK_REFUSALS.refused('secret not available on this server')
            return 503, _error('unavailable', 'webhook secret unavailable')
        if not backend or not backend.active or not secret:
            _logger.debug('webhook delivery for unknown coffee backend %s '
                          '(or one without a registered webhook)',
                          backend_id)
            WEBHOOK_REFUSALS.refused('unknown webhook')
            return 404, _error('not_found', 'no such webhook')
        header = _header(headers, SIGNATURE_HEADER)
        try:
            verify_signature(secret, header, raw_body, now=now)
        except CoffeeSignatureError as err:
            _logger.debug('%s: webhook delivery refused (%s): %s',
                          backend.name, err.code, err)
            WEBHOOK_REFUSALS.refused('signature %s' % err.code)
            return 401, _error('signature_%s' % err.code,
                               'invalid signature')
        try:
            event = json.loads(raw_body.decode('utf-8'))
        except (UnicodeDecodeError, ValueError):
            event = None
        if not isinstance(event, dict) or not isinstance(
                event.get('id'), str) or not event['id']:
            _logger.warning('%s: signed webhook delivery without an event: '
                            '%r', backend.name, raw_body[:200])
            return 400, _error('invalid_body', 'not an event')
        data = event.get('data') if isinstance(event.get('data'),
                                               dict) else {}
        object_id = data.get('object_id')
        if not isinstance(object_id, str):
            object_id = None
        event_type = event.get('type')
        if not isinstance(event_type, str):
            event_type = None
        claimed = self.env['coffee.webhook.event'].sudo()._claim(
            backend.id, event['id'], event_type=event_type,
            object_id=object_id,
            machine_date=str(event.get('created_at') or '') or None)
        if not claimed:
            _logger.info('%s: webhook event %s received again, ignored',
                         backend.name, event['id'])
            return 200, {'status': 'duplicate'}
        return backend._webhook_dispatch(event['id'], event_type, object_id,
                                         data)

    @api.multi
    def _webhook_dispatch(self, event_id, event_type, object_id, data):
        """Queue what a new event asks for; ``(status, body)``."""
        self.ensure_one()
        model_name = WEBHOOK_IMPORTS.get(event_type)
        if model_name:
            if not object_id:
                _logger.warning('%s: webhook event %s (%s) names no object',
                                self.name, event_id, event_type)
                return 200, {'status': 'ignored'}
            model = self.env[model_name]
            model.with_delay(
                description=_('Import %(model)s %(id)s from %(machine)s '
                              '(webhook)') % {
                    'model': model._description, 'id': object_id,
                    'machine': self.name},
                identity_key=identity_exact,
            ).import_record(self, object_id)
            return 200, {'status': 'queued'}
        if event_type == 'machine.alert':
            alert = dict((key, data.get(key)) for key in
                         ('state', 'code', 'message'))
            self.env['coffee.backend'].with_delay(
                description=_('Alert of %s (webhook)') % self.name,
                identity_key=identity_exact,
            )._webhook_machine_alert(self, event_id, alert)
            return 200, {'status': 'queued'}
        # acknowledged: a refusal would only make the machine retry
        _logger.info('%s: webhook event %s of unknown type %r ignored',
                     self.name, event_id, event_type)
        return 200, {'status': 'ignored'}

    @job(default_channel=COFFEE_CHANNEL, retry_pattern=RETRY_PATTERN)
    @related_action(action='related_action_coffee_backend')
    @api.model
    def _webhook_machine_alert(self, backend, event_id, alert):
        """Show the alert on the backend, and ask a person to look.

        The alert's own state and code are stored first; then the machine
        is read for the rest of its status (levels...), which may have
        moved on since. The checkpoint is posted once per alert code while
        it waits for review.
        """
        # the backend comes first, as in every job of the connector: the
        # related action opens it
        backend = self._coffee_for_sync(backend)
        values = {'machine_status_date': fields.Datetime.now()}
        if alert.get('state') in MACHINE_STATES:
            values['machine_state'] = alert['state']
        if alert.get('code'):
            values['machine_errors'] = alert['code']
        backend.sudo().write(values)
        try:
            backend._read_machine()
        except CoffeeError as err:
            _logger.warning('%s: status not read after alert %s: %s',
                            backend.name, event_id, err)
        backend.add_checkpoint(message=_(
            'The coffee machine %(machine)s reports an alert: %(code)s '
            '%(message)s') % {
                'machine': backend.name,
                'code': alert.get('code') or '',
                'message': alert.get('message') or ''})
        return _('Alert %(code)s of %(machine)s recorded') % {
            'code': alert.get('code') or event_id, 'machine': backend.name}


def _header(headers, name):
    """The value of header ``name`` in any case, or None."""
    name = name.lower()
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _error(code, message):
    return {'error': {'code': code, 'message': message}}


class CoffeeWebhookRegistration(AbstractComponent):
    """Register Odoo's URL with the machine; versions without webhooks
    (the 1900) have no concrete registration component."""

    _name = 'coffee.webhook.registration'
    _inherit = 'base.coffee.connector'
    _usage = 'webhook.registration'
    _apply_on = 'coffee.backend'

    def register(self, url):
        """Register ``url``; returns the machine's ``{'id', 'secret'}``."""
        raise NotImplementedError

    def unregister(self):
        raise NotImplementedError


class Coffee2900WebhookRegistration(Component):
    _name = 'coffee.2900.webhook.registration'
    _inherit = 'coffee.webhook.registration'
    _coffee_version = '2900'

    @property
    def client(self):
        return self.work.coffee_client

    def register(self, url):
        self._delete_machine_webhooks(url=url)
        return self.client.create_webhook(url, WEBHOOK_EVENTS)

    def unregister(self):
        self._delete_machine_webhooks()

    def _delete_machine_webhooks(self, url=None):
        """Remove the backend's webhooks from the machine.

        Its known one, and any other posting to ``url``: one whose secret
        was lost (a registration that Odoo rolled back) would only send
        events Odoo cannot check.
        """
        backend = self.backend_record.sudo()
        urls = {u for u in (url, backend.webhook_url) if u}
        for hook in self.client.list_webhooks():
            if not isinstance(hook, dict) or not hook.get('id'):
                continue
            if hook['id'] == backend.webhook_id or hook.get('url') in urls:
                try:
                    self.client.delete_webhook(hook['id'])
                except CoffeeNotFound:
                    _logger.info('%s: webhook %s was gone already',
                                 backend.name, hook['id'])
                else:
                    _logger.info('%s: webhook %s removed from the machine',
                                 backend.name, hook['id'])
