# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Client of the Coffee 2900 (current firmware, ``/api/v2``).

Bearer tokens that expire, cursor-paged lists, UTC timestamps, ETags for
optimistic locking, idempotent brews and webhooks.
"""

import collections
import datetime
import hashlib
import re
import threading
import time

from .base import DEFAULT_TIMEOUT, MAX_JSON_BYTES, BaseClient, quote_path_part
from .errors import CoffeeAuthError, CoffeeProtocolError, CoffeeServerError
from .timestamps import TIMESTAMP_FORMAT_2900

RESOURCES_2900 = ('beverages', 'consumers', 'brews')
MAX_LIMIT_2900 = 500
MAX_IDEMPOTENCY_KEY_LENGTH = 64
MACHINE_ERROR_CODE_RE = re.compile(r'\bE\d{2}\b')

# -- process-wide token cache ----------------------------------------------
#
# Odoo runs many jobs per backend, in several threads; asking a token for each
# of them would eat the machine's rate limit (token requests are counted per
# client address). One token per (location, username) is shared instead.

_CachedToken = collections.namedtuple(
    '_CachedToken', 'token expires_at password_digest')
_TOKEN_CACHE = {}
_TOKEN_CACHE_LOCK = threading.Lock()
_TOKEN_FETCH_LOCKS = {}

#: refresh this long before expiry at most (seconds)
TOKEN_REFRESH_MARGIN = 30


def clear_token_cache():
    """Forget every cached token (tests, or after changing credentials)."""
    with _TOKEN_CACHE_LOCK:
        _TOKEN_CACHE.clear()


def _password_digest(password):
    """Keeps a cached token from outliving a password change in Odoo."""
    return hashlib.sha256((password or '').encode('utf-8')).hexdigest()


def format_utc_timestamp(value):
    """ISO-8601 UTC with microseconds and ``Z``, as the 2900 writes them.

    A naive datetime is taken as UTC (Odoo stores datetimes so); a string is
    taken as already in the machine's form.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            value = value.astimezone(datetime.timezone.utc)
        return value.strftime(TIMESTAMP_FORMAT_2900)
    raise TypeError('updated_since must be a datetime or a string, not %s'
                    % type(value).__name__)


class Coffee2900Client(BaseClient):
    """Talks to one Coffee 2900 over ``/api/v2``.

    One client per thread (its ``requests.Session`` is not shared); the
    token cache behind it is shared by all clients of the process.
    """

    version = '2900'
    api_prefix = '/api/v2'
    retryable_conflict_codes = ('busy',)

    def __init__(self, location, username, password, timeout=DEFAULT_TIMEOUT):
        super().__init__(location, timeout=timeout)
        self.username = username
        self._password = password
        self._token_value = None

    def _secrets(self):
        return (self._password, self._token_value)

    # -- error bodies -----------------------------------------------------

    def _read_error(self, response):
        body = self._json_or_none(response)
        if isinstance(body, dict):
            error = body.get('error')
            if isinstance(error, dict):
                return error.get('code'), error.get('message')
            if isinstance(error, str):
                # {"error": "text"} is the 1900's form
                raise self.wrong_version_error(
                    'it answers HTTP %s like a Coffee 1900'
                    % response.status_code)
        return None, None

    def _service_unavailable(self, code, text, common):
        """503: the machine in error state, or merely unavailable for now.

        The reference names no code for the error state; the machine error
        code (``E01``...) is taken from the message when it is there, so
        people read the same codes as on the machine's display.
        """
        found = MACHINE_ERROR_CODE_RE.search(text or '')
        if found or code == 'machine_error':
            common = dict(common, code=found.group(0) if found else code)
            return super()._service_unavailable(
                common['code'], text, common)
        return self._error(
            CoffeeServerError,
            'the machine is temporarily unavailable%s (HTTP 503)'
            % ((': %s' % text) if text else ''), **common)

    # -- tokens -----------------------------------------------------------

    @property
    def _cache_key(self):
        return (self.location, self.username)

    def _cached_token(self):
        with _TOKEN_CACHE_LOCK:
            entry = _TOKEN_CACHE.get(self._cache_key)
        if (entry is None
                or entry.password_digest != _password_digest(self._password)
                or entry.expires_at <= time.monotonic()):
            return None
        return entry.token

    def _forget_token(self, token):
        """Drop ``token`` unless another thread already replaced it."""
        with _TOKEN_CACHE_LOCK:
            entry = _TOKEN_CACHE.get(self._cache_key)
            if entry is not None and entry.token == token:
                del _TOKEN_CACHE[self._cache_key]

    def _fetch_lock(self):
        with _TOKEN_CACHE_LOCK:
            return _TOKEN_FETCH_LOCKS.setdefault(self._cache_key,
                                                 threading.Lock())

    def _get_token(self):
        """A valid token: the cached one, or one fetched now."""
        token = self._cached_token()
        if token is None:
            # one thread fetches, the others wait and reuse its token
            with self._fetch_lock():
                token = self._cached_token()
                if token is None:
                    token = self._fetch_token()
        self._token_value = token
        return token

    def _fetch_token(self):
        method, path = 'POST', self._path('auth', 'token')
        body = self._json_call(
            method, path,
            json={'username': self.username, 'password': self._password},
            keys=('access_token',))
        token = body['access_token']
        if not isinstance(token, str) or not token:
            raise self._error(CoffeeProtocolError,
                              '%s %s answered an empty access_token'
                              % (method, path))
        try:
            expires_in = float(body.get('expires_in', 60))
        except (TypeError, ValueError):
            expires_in = 60.0
        margin = min(TOKEN_REFRESH_MARGIN, expires_in / 10.0)
        entry = _CachedToken(token, time.monotonic() + expires_in - margin,
                             _password_digest(self._password))
        with _TOKEN_CACHE_LOCK:
            _TOKEN_CACHE[self._cache_key] = entry
        return token

    def _error_code(self, response):
        body = self._json_or_none(response)
        if isinstance(body, dict) and isinstance(body.get('error'), dict):
            return body['error'].get('code')
        return None

    def _call(self, method, path, params=None, json=None, headers=None,
              max_bytes=MAX_JSON_BYTES):
        """Send with the Bearer token; on ``token_expired`` renew it once."""
        if path == self._path('auth', 'token'):
            return super()._call(method, path, params=params, json=json,
                                 headers=headers, max_bytes=max_bytes)
        token = self._get_token()
        response = self._send(method, path, params=params, json=json,
                              headers=self._with_token(headers, token),
                              max_bytes=max_bytes)
        if (response.status_code == 401
                and self._error_code(response) == 'token_expired'):
            self._forget_token(token)
            token = self._get_token()
            response = self._send(method, path, params=params, json=json,
                                  headers=self._with_token(headers, token),
                                  max_bytes=max_bytes)
            if (response.status_code == 401
                    and self._error_code(response) == 'token_expired'):
                self._forget_token(token)
                raise self._error(
                    CoffeeAuthError,
                    'the machine refused the token it had just issued; is '
                    'its clock right? (HTTP 401)', status=401,
                    code='token_expired')
        return self._check_status(response, method, path)

    @staticmethod
    def _with_token(headers, token):
        headers = dict(headers or {})
        headers['Authorization'] = 'Bearer %s' % token
        return headers

    # -- machine ----------------------------------------------------------

    def _machine_answer_problem(self, machine):
        if not isinstance(machine.get('status'), dict):
            return 'its machine answer has no "status" object'
        return None

    def normalize_machine(self, machine):
        """A ``status`` object: UTC, errors as a list, levels as
        quantities and capacities; several languages (none is *the*
        machine's)."""
        status = machine.get('status')
        status = status if isinstance(status, dict) else {}
        errors = status.get('errors') or []
        return {
            'serial': machine.get('serial'),
            'firmware': machine.get('firmware'),
            'currency': machine.get('currency'),
            'timezone': 'UTC',
            'state': status.get('state'),
            'errors': ', '.join(e.get('code', '') for e in errors
                                if isinstance(e, dict)) or None,
            'water_pct': _percent(status.get('water_ml'),
                                  status.get('water_capacity_ml')),
            'beans_pct': _percent(status.get('beans_g'),
                                  status.get('beans_capacity_g')),
            'descaling_due': bool(status.get('descaling_due')),
        }

    # -- lists ------------------------------------------------------------

    @staticmethod
    def _check_resource(resource):
        if resource not in RESOURCES_2900:
            raise ValueError('the Coffee 2900 lists %s, not %r'
                             % (', '.join(RESOURCES_2900), resource))

    def list_page(self, resource, limit=MAX_LIMIT_2900, cursor=None,
                  updated_since=None, include_deleted=False):
        """One page of beverages, consumers or brews: ``{data, next_cursor}``.

        ``updated_since`` is exclusive. With ``include_deleted`` deleted
        consumers come as tombstones ``{"id", "deleted": true, ...}``.
        """
        self._check_resource(resource)
        params = {'limit': int(limit)}
        if cursor:
            params['cursor'] = cursor
        since = format_utc_timestamp(updated_since)
        if since is not None:
            params['updated_since'] = since
        if include_deleted:
            params['include_deleted'] = 'true'
        path = self._path(resource)
        body = self._json_call('GET', path, params=params,
                               keys=('data', 'next_cursor'))
        if not isinstance(body['data'], list):
            raise self._error(CoffeeProtocolError,
                              'GET %s: "data" is not a list' % path)
        return body

    def iter_records(self, resource, limit=MAX_LIMIT_2900, updated_since=None,
                     include_deleted=False):
        """Every record of ``resource``, following the cursors."""
        cursor = None
        seen_cursors = set()
        while True:
            body = self.list_page(resource, limit=limit, cursor=cursor,
                                  updated_since=updated_since,
                                  include_deleted=include_deleted)
            for record in body['data']:
                yield record
            cursor = body['next_cursor']
            if not cursor:
                return
            if cursor in seen_cursors:
                raise self._error(
                    CoffeeProtocolError,
                    'GET %s: the machine sent the same cursor twice'
                    % self._path(resource))
            seen_cursors.add(cursor)

    # -- single records ---------------------------------------------------

    def _record_path(self, resource, record_id):
        self._check_resource(resource)
        if not isinstance(record_id, str) or not record_id:
            raise TypeError('the id of a Coffee 2900 record is a non-empty '
                            'string, not %r' % (record_id,))
        return self._path(resource, quote_path_part(record_id))

    def get_record(self, resource, record_id):
        """``(record, etag)``; keep the ETag to PATCH with ``if_match``."""
        path = self._record_path(resource, record_id)
        response = self._call('GET', path)
        body = self._expect_dict(self._decode_json(response, 'GET', path),
                                 'GET', path)
        return body, response.headers.get('ETag')

    def patch_record(self, resource, record_id, values, if_match=None):
        """PATCH ``values``; returns ``(record, new etag)``.

        With ``if_match`` the machine refuses (CoffeePreconditionFailed) when
        the record changed since that ETag was read.
        """
        path = self._record_path(resource, record_id)
        headers = {'If-Match': if_match} if if_match else None
        response = self._call('PATCH', path, json=values, headers=headers)
        body = self._expect_dict(self._decode_json(response, 'PATCH', path),
                                 'PATCH', path)
        return body, response.headers.get('ETag')

    def create_consumer(self, values):
        """POST a consumer; returns it (with its new ``id``)."""
        return self._json_call('POST', self._path('consumers'), json=values,
                               keys=('id',))

    def delete_consumer(self, record_id):
        self._call('DELETE', self._record_path('consumers', record_id))

    # -- brewing ----------------------------------------------------------

    def brew(self, beverage_id, consumer_id=None, idempotency_key=None):
        """Brew a cup once per ``idempotency_key``; ``(created, brew)``.

        ``created`` is False when the machine already knew the key (it then
        returns the first brew, no second cup). Callers must keep the key
        with their job so that a retry sends the same one.
        """
        if not idempotency_key or not isinstance(idempotency_key, str):
            raise ValueError('brew() needs an idempotency_key string, so a '
                             'retried job does not brew a second cup')
        if len(idempotency_key) > MAX_IDEMPOTENCY_KEY_LENGTH:
            raise ValueError('an idempotency key has at most %d characters'
                             % MAX_IDEMPOTENCY_KEY_LENGTH)
        payload = {'beverage_id': beverage_id}
        if consumer_id is not None:
            payload['consumer_id'] = consumer_id
        method, path = 'POST', self._path('brews')
        response = self._call(method, path, json=payload,
                              headers={'Idempotency-Key': idempotency_key})
        body = self._expect_dict(self._decode_json(response, method, path),
                                 method, path, keys=('id',))
        return response.status_code == 201, body

    # -- webhooks ---------------------------------------------------------

    def create_webhook(self, url, events):
        """Register ``url``; returns ``{"id", "secret", ...}``.

        The secret is shown only in this answer: store it now.
        """
        return self._json_call('POST', self._path('webhooks'),
                               json={'url': url, 'events': list(events)},
                               keys=('id', 'secret'))

    def list_webhooks(self):
        """The registered webhooks, ``[{"id", "url", "events"}]``."""
        path = self._path('webhooks')
        body = self._json_call('GET', path, keys=('data',))
        if not isinstance(body['data'], list):
            raise self._error(CoffeeProtocolError,
                              'GET %s: "data" is not a list' % path)
        return body['data']

    def delete_webhook(self, webhook_id):
        if not isinstance(webhook_id, str) or not webhook_id:
            raise TypeError('a webhook id is a non-empty string, not %r'
                            % (webhook_id,))
        self._call('DELETE', self._path('webhooks',
                                        quote_path_part(webhook_id)))


def _percent(value, capacity):
    """``value`` as a whole percentage of ``capacity``; 0 when either is
    missing."""
    try:
        return int(round(100.0 * value / capacity))
    except (TypeError, ZeroDivisionError):
        return 0
