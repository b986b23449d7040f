# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""HTTP plumbing shared by the Coffee 1900 and Coffee 2900 clients.

One ``requests.Session`` per client (keeps connections alive across the many
small calls of an import), every transport failure and error status turned
into one of the errors of :mod:`.errors`, and logging that never shows
credentials: only method, path, status and duration, at debug level.
"""

import logging
import math
import re
import socket
import threading
import time
from urllib.parse import quote, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .errors import (
    CoffeeAuthError,
    CoffeeBlocked,
    CoffeeBusy,
    CoffeeConflict,
    CoffeeConnectionError,
    CoffeeError,
    CoffeeMachineError,
    CoffeeNoCredit,
    CoffeeNotFound,
    CoffeePreconditionFailed,
    CoffeeProtocolError,
    CoffeeServerError,
    CoffeeTimeout,
    CoffeeValidationError,
    CoffeeWrongVersion,
)

_logger = logging.getLogger(__name__)

#: (seconds to connect, seconds for the whole exchange: connect, headers
#: and body)
DEFAULT_TIMEOUT = (5, 30)
MIN_REDACTED_LENGTH = 4
#: the largest JSON answer read; a larger one is refused
MAX_JSON_BYTES = 16 * 1024 * 1024
#: bytes read from the network at a time
READ_CHUNK_BYTES = 64 * 1024
#: a machine's Retry-After is kept within these bounds (seconds)
MIN_RETRY_AFTER = 1
MAX_RETRY_AFTER = 3600
#: how much of an unexpected answer a message quotes
QUOTED_BODY_CHARS = 80
#: delay-seconds of HTTP, with the decimals some firmwares send
RETRY_AFTER_RE = re.compile(r'^[0-9]+(\.[0-9]+)?$')
JSON_CONTENT_TYPE_RE = re.compile(
    r'^\s*application/([\w.+-]+\+)?json\s*(;|$)', re.I)

#: what the documented machine error codes mean, for messages
MACHINE_ERROR_TEXTS = {
    'E01': 'no water',
    'E02': 'no beans',
    'E07': 'drip tray full',
}


def quote_path_part(value):
    """Quote one path segment completely, so '/' or '?' in an id stay data."""
    return quote(str(value), safe='')


def strip_userinfo(location):
    """Drop ``user:password@`` from a URL, for messages and logs."""
    try:
        parts = urlsplit(location)
    except ValueError:
        return location
    if '@' not in parts.netloc:
        return location
    netloc = parts.netloc.rsplit('@', 1)[1]
    return urlunsplit(parts._replace(netloc=netloc))


def parse_retry_after(value):
    """Seconds from a ``Retry-After`` header, or None when absent/unreadable.

    Only plain seconds are read ('inf', '1e12', '-5' or 'soon' are not
    seconds: absent), and they are clamped to between MIN_RETRY_AFTER and
    MAX_RETRY_AFTER: a job must neither retry at once in a loop nor be
    postponed to a date the job queue cannot store. An HTTP date (allowed
    by HTTP, not used by the machines) is not worth a date parser here and
    gives None.
    """
    if not isinstance(value, str) or not RETRY_AFTER_RE.match(value.strip()):
        return None
    seconds = float(value.strip())
    if not math.isfinite(seconds):
        return None
    seconds = min(max(seconds, MIN_RETRY_AFTER), MAX_RETRY_AFTER)
    return int(seconds) if seconds == int(seconds) else seconds


class _Watchdog(object):
    """Ends an exchange at its deadline, whatever the machine sends.

    A socket timeout counts per read: a machine sending a byte a second
    never reaches it. The watchdog shuts the connection's socket down at
    the deadline instead, which ends any read in progress.
    """

    def __init__(self, seconds):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.fired = False
        self._connections = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def remaining(self):
        return self.deadline - time.monotonic()

    def watch(self, connection):
        with self._lock:
            self._connections.append(connection)
            fired = self.fired
        if fired:
            self._shut(connection)

    def _fire(self):
        with self._lock:
            self.fired = True
            connections = list(self._connections)
        for connection in connections:
            self._shut(connection)

    @staticmethod
    def _shut(connection):
        sock = getattr(connection, 'sock', None)
        if sock is None:
            return
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError as err:  # closed meanwhile: nothing left to end
            _logger.debug('watchdog: %s', err)

    def __enter__(self):
        _CURRENT.watchdog = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info):
        self._timer.cancel()
        _CURRENT.watchdog = None
        return False


#: the watchdog of the exchange this thread is in (a client is used by one
#: thread at a time)
_CURRENT = threading.local()


def _watch_connection(connection):
    watchdog = getattr(_CURRENT, 'watchdog', None)
    if watchdog is not None:
        watchdog.watch(connection)
    return connection


class _WatchedHTTPPool(HTTPConnectionPool):
    def _get_conn(self, timeout=None):
        return _watch_connection(super()._get_conn(timeout=timeout))


class _WatchedHTTPSPool(HTTPSConnectionPool):
    def _get_conn(self, timeout=None):
        return _watch_connection(super()._get_conn(timeout=timeout))


class _WatchedAdapter(HTTPAdapter):
    """Connections the exchange's watchdog can end; never a retry."""

    def init_poolmanager(self, *args, **kwargs):
        result = super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            'http': _WatchedHTTPPool, 'https': _WatchedHTTPSPool}
        return result


def _is_read_timeout(exc):
    """True when requests wrapped a read timeout in a ConnectionError.

    requests raises ``ConnectionError(ReadTimeoutError(...))`` when the body
    (not the headers) stalls; for a person that is still a timeout.
    """
    for arg in getattr(exc, 'args', ()):
        for klass in type(arg).__mro__:
            if klass.__name__ in ('ReadTimeoutError', 'TimeoutError'):
                return True
    return False


class BaseClient(object):
    """What both protocol versions share; subclasses say how they differ."""

    #: '1900' or '2900'
    version = None
    #: e.g. '/api/v1'
    api_prefix = None
    #: 409 codes that mean "a cup is being brewed", worth retrying later
    retryable_conflict_codes = ()

    def __init__(self, location, timeout=DEFAULT_TIMEOUT):
        if not location or not isinstance(location, str):
            raise ValueError('the machine location must be a URL such as '
                             'http://coffee.example.com:8080')
        self.location = location.rstrip('/')
        self.timeout = timeout
        self.session = requests.Session()
        adapter = _WatchedAdapter()
        self.session.mount('http://', adapter)
        self.session.mount('https://', adapter)

    # -- life cycle -------------------------------------------------------

    def close(self):
        """Release the pooled connections."""
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self.close()
        return False

    def __repr__(self):
        return '<%s %s>' % (type(self).__name__,
                            strip_userinfo(self.location))

    # -- naming things for people ---------------------------------------

    @property
    def model_name(self):
        return 'Coffee %s' % self.version

    def describe(self):
        """'Coffee 1900 at http://host:port', for the start of messages."""
        return '%s at %s' % (self.model_name, strip_userinfo(self.location))

    def _secrets(self):
        """Strings that must never appear in a message (overridden)."""
        return ()

    def _redact(self, text):
        """Last guard: mask any secret that a message may have picked up.

        Messages are built without secrets in the first place; this catches
        a machine echoing one back. Secrets under 4 characters are left
        alone: masking every 'a' would garble messages and hide nothing.
        """
        text = str(text)
        for secret in self._secrets():
            if secret and len(secret) >= MIN_REDACTED_LENGTH:
                text = text.replace(secret, '***')
        return text

    def _error(self, klass, text, **kwargs):
        """An error whose message names the machine; ``reason`` omits it."""
        text = self._redact(text)
        error = klass('%s: %s' % (self._redact(self.describe()), text),
                      **kwargs)
        error.reason = text
        return error

    def wrong_version_error(self, detail=None):
        """The clear message for a URL that speaks another protocol."""
        text = ('this URL does not answer as a %s; is the version right?'
                % self.model_name)
        if detail:
            text = '%s (%s)' % (text, detail)
        return self._error(CoffeeWrongVersion, text)

    # -- machine ----------------------------------------------------------

    def get_machine(self):
        """Identity and live status of the machine."""
        return self._json_call('GET', self._path('machine'))

    def check_machine(self):
        """``get_machine()``, checked to be an answer of this version.

        Used by the backend's "Test connection" button: a URL of the other
        version (or of anything else) must read as a wrong version, not as
        a vague error.
        """
        try:
            machine = self.get_machine()
        except CoffeeNotFound:
            raise self.wrong_version_error(
                'its %s API answers HTTP 404' % self.api_prefix) from None
        except CoffeeWrongVersion:
            raise
        except CoffeeProtocolError as exc:
            raise self.wrong_version_error(exc.reason) from None
        problem = self._machine_answer_problem(machine)
        if problem:
            raise self.wrong_version_error(problem)
        return machine

    def _machine_answer_problem(self, machine):
        """Why ``machine`` is not this version's answer, or None."""
        raise NotImplementedError

    def normalize_machine(self, machine):
        """What ``machine`` (this version's answer of ``get_machine()``)
        says, in the same words for every version.

        A dict of ``serial``, ``firmware``, ``currency``, ``timezone``,
        ``state``, ``errors`` (the error codes, comma-separated, or None),
        ``water_pct`` and ``beans_pct`` (0 when not known),
        ``descaling_due``, and ``language`` when the machine has one
        language.
        """
        raise NotImplementedError

    # -- sending ----------------------------------------------------------

    def _url(self, path):
        return self.location + path

    def _send(self, method, path, params=None, json=None, headers=None,
              max_bytes=MAX_JSON_BYTES):
        """One HTTP exchange; returns the response, body read, whatever its
        status.

        Nothing of the machine is trusted: no redirect is followed (a 3xx
        is an error naming where it pointed: following it would send the
        request, credentials included, to another host), the body is read
        up to ``max_bytes`` and refused above, and the whole exchange ends
        at one deadline. Transport failures become CoffeeConnectionError /
        CoffeeTimeout.
        """
        started = time.monotonic()
        connect, total = self._timeouts()
        with _Watchdog(total) as watchdog:
            try:
                response = self.session.request(
                    method, self._url(path), params=params, json=json,
                    headers=headers, allow_redirects=False, stream=True,
                    timeout=(min(connect, total), total))
                try:
                    self._read_body(response, method, path, max_bytes,
                                    watchdog)
                finally:
                    response.close()
            except requests.exceptions.RequestException as exc:
                elapsed = (time.monotonic() - started) * 1000
                _logger.debug('%s %s %s -> %s (%d ms)', self.model_name,
                              method, path, type(exc).__name__, elapsed)
                if watchdog.fired:
                    raise self._deadline_error(total) from None
                raise self._transport_error(exc) from None
        elapsed = (time.monotonic() - started) * 1000
        _logger.debug('%s %s %s -> %s (%d ms)', self.model_name, method,
                      path, response.status_code, elapsed)
        if 300 <= response.status_code < 400:
            raise self._redirect_error(response, method, path)
        return response

    def _read_body(self, response, method, path, max_bytes, watchdog):
        """Read the body in chunks, at most ``max_bytes`` of it."""
        declared = response.headers.get('Content-Length')
        if declared and declared.strip().isdigit() \
                and int(declared) > max_bytes:
            raise self._too_large_error(method, path, max_bytes,
                                        response.status_code)
        chunks = []
        size = 0
        for chunk in response.iter_content(READ_CHUNK_BYTES):
            size += len(chunk)
            if size > max_bytes:
                raise self._too_large_error(method, path, max_bytes,
                                            response.status_code)
            chunks.append(chunk)
            if watchdog.fired or watchdog.remaining() <= 0:
                raise self._deadline_error(watchdog.seconds)
        if watchdog.fired:
            raise self._deadline_error(watchdog.seconds)
        # what requests keeps of a body it read itself
        response._content = b''.join(chunks)
        response._content_consumed = True

    def _too_large_error(self, method, path, max_bytes, status):
        return self._error(
            CoffeeProtocolError,
            '%s %s answered HTTP %s with a body larger than %s; refused '
            'unread' % (method, path, status, _size_text(max_bytes)),
            status=status)

    def _deadline_error(self, seconds):
        return self._error(
            CoffeeTimeout,
            'the machine did not answer within %s s (the whole answer, '
            'however slowly it came)' % seconds)

    def _redirect_error(self, response, method, path):
        location = strip_userinfo(response.headers.get('Location') or '')
        return self._error(
            CoffeeProtocolError,
            '%s %s answered HTTP %s, a redirect to %s; redirects are not '
            'followed (they would carry the request to another address): '
            'set the machine\'s own address as its location'
            % (method, path, response.status_code,
               _quote_text(location) if location else 'nowhere'),
            status=response.status_code)

    def _transport_error(self, exc):
        """Map a requests exception to ours, with a sentence for a person."""
        exceptions = requests.exceptions
        connect, read = self._timeouts()
        if isinstance(exc, exceptions.ConnectTimeout):
            return self._error(
                CoffeeTimeout,
                'could not connect within %s s; is the machine switched on '
                'and reachable from this server?' % connect)
        if isinstance(exc, exceptions.ReadTimeout) or (
                isinstance(exc, exceptions.ConnectionError)
                and _is_read_timeout(exc)):
            return self._error(
                CoffeeTimeout,
                'the machine did not answer within %s s' % read)
        if isinstance(exc, (exceptions.MissingSchema,
                            exceptions.InvalidSchema,
                            exceptions.InvalidURL)):
            return self._error(
                CoffeeConnectionError,
                'the location is not a valid http(s) URL', retryable=False)
        if isinstance(exc, exceptions.SSLError):
            return self._error(
                CoffeeConnectionError,
                'the secure (TLS) connection failed; check the certificate '
                'and the URL scheme')
        if isinstance(exc, exceptions.ConnectionError):
            return self._error(
                CoffeeConnectionError,
                'cannot connect to the machine (connection refused, unknown '
                'host name or network unreachable): %s' % _short_reason(exc))
        return self._error(
            CoffeeConnectionError,
            'the exchange with the machine failed: %s' % _short_reason(exc))

    def _timeouts(self):
        if isinstance(self.timeout, (tuple, list)):
            return self.timeout[0], self.timeout[1]
        return self.timeout, self.timeout

    # -- reading answers --------------------------------------------------

    def _decode_json(self, response, method, path):
        """The JSON body, or CoffeeProtocolError saying what came instead.

        A body is JSON when the machine says so (``application/json``) and
        it parses: an HTML page of a proxy or a router is named as such.
        """
        content_type = response.headers.get('Content-Type')
        body = _json_or_none(response) \
            if _is_json_type(content_type) else None
        if body is None:
            raise self._error(
                CoffeeProtocolError,
                '%s %s answered HTTP %s with a body that is not JSON '
                '(content type %s, starting %s); is the URL that of the '
                'machine\'s API?' % (
                    method, path, response.status_code,
                    _quote_text(content_type or 'none'),
                    _first_chars(response.content)),
                status=response.status_code)
        return body

    def _expect_dict(self, body, method, path, keys=()):
        """Check the body is an object holding ``keys``."""
        if not isinstance(body, dict):
            raise self._error(
                CoffeeProtocolError,
                '%s %s answered a JSON %s where an object was expected'
                % (method, path, type(body).__name__))
        missing = [key for key in keys if key not in body]
        if missing:
            raise self._error(
                CoffeeProtocolError,
                '%s %s answered without %s' % (
                    method, path, ', '.join(repr(k) for k in missing)))
        return body

    def _check_status(self, response, method, path):
        """Raise the error matching an error status; return on success."""
        if response.status_code < 400:
            return response
        code, text = self._read_error(response)
        raise self._status_error(response, method, path, code, text)

    def _read_error(self, response):
        """(code, message) from this version's error body (overridden).

        Raises CoffeeProtocolError when the body is clearly the other
        version's, so a wrong version setting reads as such and not as, say,
        a wrong password.
        """
        raise NotImplementedError

    def _json_or_none(self, response):
        """The JSON of a JSON answer, or None."""
        if not _is_json_type(response.headers.get('Content-Type')):
            return None
        return _json_or_none(response)

    def _status_error(self, response, method, path, code, text):
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get('Retry-After'))
        common = dict(status=status, code=code, retry_after=retry_after)
        machine_says = (': %s' % text) if text else ''
        if status in (401, 403):
            return self._error(
                CoffeeAuthError,
                'the machine refused the username or password (HTTP %s)'
                % status, **common)
        if status == 404:
            return self._error(
                CoffeeNotFound,
                '%s %s: the machine does not know this record (HTTP 404)'
                % (method, path), **common)
        if status == 409:
            retryable = code in self.retryable_conflict_codes
            if retryable:
                explanation = 'another cup is being brewed; try again later'
            else:
                explanation = 'the machine refused because of a conflict'
            return self._error(
                CoffeeConflict, '%s %s: %s%s (HTTP 409)' % (
                    method, path, explanation, machine_says),
                retryable=retryable, **common)
        if status in (400, 422):
            return self._error(
                CoffeeValidationError,
                '%s %s: the machine refused the values%s (HTTP %s)'
                % (method, path, machine_says, status), **common)
        if status == 412:
            return self._error(
                CoffeePreconditionFailed,
                '%s %s: the record was changed on the machine since it was '
                'read (HTTP 412)' % (method, path), **common)
        if status == 402:
            return self._error(
                CoffeeNoCredit,
                'the card\'s credit is lower than the price (HTTP 402)',
                **common)
        if status == 423:
            return self._error(
                CoffeeBlocked, 'the card is blocked (HTTP 423)', **common)
        if status == 429:
            later = ('in %s s' % retry_after) if retry_after is not None \
                else 'later'
            return self._error(
                CoffeeBusy,
                'the machine is over its request rate limit; retry %s '
                '(HTTP 429)' % later, **common)
        if status == 503:
            return self._service_unavailable(code, text, common)
        if status >= 500:
            return self._error(
                CoffeeServerError,
                '%s %s: the machine failed (HTTP %s)%s'
                % (method, path, status,
                   machine_says or self._not_json_says(response)),
                **common)
        return self._error(
            CoffeeError,
            '%s %s: unexpected answer HTTP %s%s'
            % (method, path, status,
               machine_says or self._not_json_says(response)), **common)

    def _not_json_says(self, response):
        """What an error answer that is not the machine's JSON holds."""
        if self._json_or_none(response) is not None:
            return ''
        return '; it sent %s content starting %s' % (
            _quote_text(response.headers.get('Content-Type') or 'untyped'),
            _first_chars(response.content))

    def _service_unavailable(self, code, text, common):
        """503: overload or machine in error state (overridden per version)."""
        if code:
            meaning = MACHINE_ERROR_TEXTS.get(code) or text or code
            if meaning == code:
                described = code
            else:
                described = '%s (%s)' % (code, meaning)
            return self._error(
                CoffeeMachineError,
                'the machine is in error state %s; it brews again once '
                'someone has fixed it (HTTP 503)' % described, **common)
        return self._error(
            CoffeeServerError,
            'the machine is unavailable (HTTP 503)', **common)

    # -- convenience ------------------------------------------------------

    def _path(self, *parts):
        """API path from parts that the caller has already quoted."""
        return self.api_prefix + ''.join('/' + part for part in parts)

    def _call(self, method, path, params=None, json=None, headers=None,
              max_bytes=MAX_JSON_BYTES):
        """Send, raise on error status, return the response."""
        response = self._send(method, path, params=params, json=json,
                              headers=headers, max_bytes=max_bytes)
        return self._check_status(response, method, path)

    def _json_call(self, method, path, params=None, json=None, headers=None,
                   keys=()):
        """Send, raise on error status, return the JSON object answered."""
        response = self._call(method, path, params=params, json=json,
                              headers=headers)
        body = self._decode_json(response, method, path)
        return self._expect_dict(body, method, path, keys=keys)


def _is_json_type(content_type):
    return bool(content_type) and bool(
        JSON_CONTENT_TYPE_RE.match(content_type))


def _json_or_none(response):
    try:
        return response.json()
    except ValueError:
        return None


def _quote_text(text):
    """``text`` quoted, cut, on one line: a machine's words in a message."""
    text = str(text)
    if len(text) > QUOTED_BODY_CHARS:
        text = text[:QUOTED_BODY_CHARS] + '...'
    return repr(text)


def _first_chars(content):
    """The start of a body, for a person: an HTML page reads as such."""
    if not content:
        return "'' (an empty body)"
    text = content[:QUOTED_BODY_CHARS * 4].decode('utf-8', 'replace')
    return _quote_text(' '.join(text.split()))


def _size_text(size):
    if size >= 1024 * 1024 and not size % (1024 * 1024):
        return '%d MiB' % (size // (1024 * 1024))
    return '%d bytes' % size


def _short_reason(exc):
    """The innermost reason of a requests exception, without the URL noise."""
    reason = exc
    for _ in range(5):
        args = getattr(reason, 'args', ())
        inner = getattr(reason, 'reason', None)
        if inner is not None and inner is not reason:
            reason = inner
            continue
        if args and isinstance(args[0], BaseException):
            reason = args[0]
            continue
        break
    text = str(reason)
    # urllib3 prefixes "<urllib3.connection.HTTPConnection object at 0x..>: "
    if '>: ' in text:
        text = text.split('>: ', 1)[1]
    return text
