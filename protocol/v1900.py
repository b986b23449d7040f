# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Client of the Coffee 1900 (legacy firmware, ``/api/v1``).

HTTP Basic on every request, page-numbered lists, naive local timestamps,
string card numbers whose leading zeros matter ("0" and "00" are two cards).
"""

import datetime

from requests.auth import HTTPBasicAuth

from .base import DEFAULT_TIMEOUT, BaseClient, quote_path_part
from .csvlog import MAX_LOG_FILE_BYTES
from .errors import CoffeeBusy, CoffeeProtocolError
from .timestamps import TIMESTAMP_FORMAT_1900

RESOURCES_1900 = ('drinks', 'cards', 'log')
MAX_PER_PAGE_1900 = 100


def format_local_timestamp(value):
    """The 1900's ``YYYY-MM-DD HH:MM:SS`` form of a naive local datetime.

    A string is taken as already in the machine's form. An aware datetime
    is refused: only the caller knows the machine's time zone conversion.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            raise ValueError(
                'the Coffee 1900 wants naive local times; convert %s to the '
                'machine\'s time zone and drop tzinfo first' % value)
        return value.strftime(TIMESTAMP_FORMAT_1900)
    raise TypeError('modified_after must be a datetime or a string, not %s'
                    % type(value).__name__)


def _card_path_part(card_no):
    """Card numbers must be strings: 42 cannot tell "42" from "0042"."""
    if not isinstance(card_no, str) or not card_no:
        raise TypeError('card_no must be a non-empty string such as "00042", '
                        'not %r' % (card_no,))
    return quote_path_part(card_no)


class Coffee1900Client(BaseClient):
    """Talks to one Coffee 1900 over ``/api/v1``.

    One client per thread: its ``requests.Session`` is not shared.
    """

    version = '1900'
    api_prefix = '/api/v1'
    retryable_conflict_codes = ('brewing',)

    def __init__(self, location, username, password, timeout=DEFAULT_TIMEOUT):
        super().__init__(location, timeout=timeout)
        self.username = username
        self._password = password
        # RFC 7617 charset UTF-8; requests would encode str as latin-1 and
        # fail on a password such as 'caf\u00e9\u20ac'
        self.session.auth = HTTPBasicAuth((username or '').encode('utf-8'),
                                          (password or '').encode('utf-8'))

    def _secrets(self):
        return (self._password,)

    # -- error bodies -----------------------------------------------------

    def _read_error(self, response):
        body = self._json_or_none(response)
        if isinstance(body, dict):
            error = body.get('error')
            if isinstance(error, str):
                return error, error
            if isinstance(error, dict):
                # {"error": {"code": ..., "message": ...}} is the 2900's form
                raise self.wrong_version_error(
                    'it answers HTTP %s like a Coffee 2900'
                    % response.status_code)
        return None, None

    def _service_unavailable(self, code, text, common):
        if code == 'busy':
            return self._error(
                CoffeeBusy,
                'the machine is busy serving other requests (it handles two '
                'at a time); retry later (HTTP 503)', **common)
        return super()._service_unavailable(code, text, common)

    # -- helpers ----------------------------------------------------------

    @staticmethod
    def _check_resource(resource):
        if resource not in RESOURCES_1900:
            raise ValueError('the Coffee 1900 lists %s, not %r'
                             % (', '.join(RESOURCES_1900), resource))

    # -- machine ----------------------------------------------------------

    def _machine_answer_problem(self, machine):
        model = machine.get('model')
        if not (isinstance(model, (str, int)) and str(model).startswith('19')
                and 'timezone' in machine):
            no_timezone = '' if 'timezone' in machine else ' and no timezone'
            return 'its machine answer has model %r%s' % (model, no_timezone)
        return None

    def normalize_machine(self, machine):
        """Flat: local time zone, one language, levels in percent."""
        return {
            'serial': machine.get('serial'),
            'firmware': machine.get('firmware'),
            'currency': machine.get('currency'),
            'timezone': machine.get('timezone'),
            'language': machine.get('language'),
            'state': machine.get('state'),
            'errors': machine.get('error_code') or None,
            'water_pct': machine.get('water_level_pct') or 0,
            'beans_pct': machine.get('beans_level_pct') or 0,
            'descaling_due': bool(machine.get('descaling_due')),
        }

    # -- lists ------------------------------------------------------------

    def list_page(self, resource, page=1, per_page=MAX_PER_PAGE_1900,
                  modified_after=None):
        """One page of drinks, cards or log entries, as the machine sent it.

        ``{"page", "per_page", "total", "items"}``; ``modified_after`` is
        inclusive (the record of that exact second comes again).
        """
        self._check_resource(resource)
        params = {'page': int(page), 'per_page': int(per_page)}
        since = format_local_timestamp(modified_after)
        if since is not None:
            params['modified_after'] = since
        body = self._json_call('GET', self._path(resource), params=params,
                               keys=('total', 'items'))
        if not isinstance(body['items'], list):
            raise self._error(CoffeeProtocolError,
                              'GET %s: "items" is not a list'
                              % self._path(resource))
        return body

    def iter_records(self, resource, modified_after=None,
                     per_page=MAX_PER_PAGE_1900):
        """Every record of ``resource``, page after page."""
        page = 1
        while True:
            body = self.list_page(resource, page=page, per_page=per_page,
                                  modified_after=modified_after)
            items = body['items']
            for item in items:
                yield item
            # the machine clamps per_page; trust what it says it used
            page_size = body.get('per_page') or per_page
            if not items or page * page_size >= body['total']:
                return
            page += 1

    # -- drinks -----------------------------------------------------------

    def get_drink(self, drink_no):
        return self._json_call(
            'GET', self._path('drinks', quote_path_part(int(drink_no))))

    def update_drink(self, drink_no, values):
        """PUT any of label, price_cents, enabled; returns the whole drink."""
        return self._json_call(
            'PUT', self._path('drinks', quote_path_part(int(drink_no))),
            json=values)

    # -- cards ------------------------------------------------------------

    def get_card(self, card_no):
        return self._json_call('GET',
                               self._path('cards', _card_path_part(card_no)))

    def create_card(self, values):
        """POST a card (``values`` holds ``card_no``); returns it."""
        _card_path_part(values.get('card_no'))
        return self._json_call('POST', self._path('cards'), json=values)

    def update_card(self, card_no, values):
        return self._json_call(
            'PUT', self._path('cards', _card_path_part(card_no)), json=values)

    def delete_card(self, card_no):
        self._call('DELETE', self._path('cards', _card_path_part(card_no)))

    # -- log --------------------------------------------------------------

    def get_log_csv(self, modified_after=None):
        """The log as the CSV text of the USB export (see :mod:`.csvlog`)."""
        params = {}
        since = format_local_timestamp(modified_after)
        if since is not None:
            params['modified_after'] = since
        path = self._path('log.csv')
        response = self._call('GET', path, params=params,
                              max_bytes=MAX_LOG_FILE_BYTES)
        try:
            # the machine says UTF-8; do not let requests guess latin-1
            return response.content.decode('utf-8')
        except UnicodeDecodeError:
            raise self._error(CoffeeProtocolError,
                              'GET %s: the CSV is not UTF-8' % path) from None

    # -- brewing ----------------------------------------------------------

    def brew(self, drink_no, card_no=None):
        """Brew a cup; returns ``{"log_no": ...}``.

        The 1900 has no idempotency: calling this twice brews two cups, so
        callers must not retry blindly after a timeout.
        """
        payload = {'drink_no': int(drink_no)}
        if card_no is not None:
            _card_path_part(card_no)
            payload['card_no'] = card_no
        return self._json_call('POST', self._path('brew'), json=payload,
                               keys=('log_no',))
