"""Fixtures and helpers of the emulator conformance suite.

No conftest.py: test modules import what they use from here, e.g.
``from .common import emulator_1900, v1  # noqa: F401``.

Each module gets its own emulator process (module scope); the ``v1`` and
``v2`` fixtures reset it to fresh demo data before every test, so tests do
not depend on each other.  The suite talks to the emulator over real HTTP
only (requests), and to its simulation controls through the harness.
"""
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests

from ..harness import EmulatorProcess

BREW_SECONDS = 2
USERNAME = 'coffee'
PASSWORD = 'espresso'


def start_emulator(protocol, data='demo', extra_args=(), state_dir=None):
    args = ['--brew-seconds', str(BREW_SECONDS)]
    if protocol == '2900':
        args += ['--rate-limit', '1000']
    emu = EmulatorProcess(protocol, data=data, state_dir=state_dir,
                          extra_args=args + list(extra_args))
    return emu.start()


@pytest.fixture(scope='module')
def emulator_1900():
    emu = start_emulator('1900')
    yield emu
    emu.stop()


@pytest.fixture(scope='module')
def emulator_2900():
    emu = start_emulator('2900')
    yield emu
    emu.stop()


def session():
    s = requests.Session()
    s.trust_env = False  # never a proxy for 127.0.0.1
    return s


class _Client(object):
    """The verbs of a test client; ``request`` is the protocol's."""

    def __init__(self, emu):
        self.emu = emu
        self.s = session()

    def get(self, path, **kw):
        return self.request('GET', path, **kw)

    def post(self, path, body=None, **kw):
        return self.request('POST', path, json=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request('PUT', path, json=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request('PATCH', path, json=body, **kw)

    def delete(self, path, **kw):
        return self.request('DELETE', path, **kw)

    def ok(self, path, **params):
        r = self.get(path, params=params)
        assert r.status_code == 200, r.text
        return r.json()


class V1(_Client):
    """A Coffee 1900 client as the tests need it (Basic auth)."""

    def __init__(self, emu):
        _Client.__init__(self, emu)
        self.s.auth = (USERNAME, PASSWORD)

    def request(self, method, path, **kw):
        kw.setdefault('timeout', 15)
        return self.s.request(method, self.emu.url + path, **kw)

    def all(self, path, **params):
        """Every item of a list, page by page."""
        items = []
        page = 1
        while True:
            body = self.ok(path, page=page, **params)
            items.extend(body['items'])
            if page * body['per_page'] >= body['total']:
                return items
            page += 1


class V2(_Client):
    """A Coffee 2900 client: fetches a token, renews it once on
    token_expired, like the documented clients."""

    def __init__(self, emu):
        _Client.__init__(self, emu)
        self.token = None

    def new_token(self):
        r = self.s.post(self.emu.url + '/api/v2/auth/token', timeout=15,
                        json={'username': USERNAME, 'password': PASSWORD})
        assert r.status_code == 200, r.text
        self.token = r.json()['access_token']
        return self.token

    def request(self, method, path, headers=None, **kw):
        kw.setdefault('timeout', 15)
        for attempt in (1, 2):
            if self.token is None:
                self.new_token()
            h = {'Authorization': 'Bearer ' + self.token}
            h.update(headers or {})
            r = self.s.request(method, self.emu.url + path, headers=h, **kw)
            if r.status_code == 401 and attempt == 1 and \
                    r.json()['error']['code'] == 'token_expired':
                self.token = None
                continue
            return r

    def all(self, path, **params):
        """Every item of a list, cursor by cursor."""
        items = []
        cursor = None
        while True:
            p = dict(params)
            if cursor:
                p['cursor'] = cursor
            body = self.ok(path, **p)
            items.extend(body['data'])
            cursor = body['next_cursor']
            if cursor is None:
                return items


@pytest.fixture
def v1(emulator_1900):
    emulator_1900.sim('POST', 'reset', {'data': 'demo'})
    emulator_1900.sim('POST', 'config', {'brew_seconds': BREW_SECONDS,
                                         'delay_ms': 0})
    return V1(emulator_1900)


@pytest.fixture
def v2(emulator_2900):
    emulator_2900.sim('POST', 'reset', {'data': 'demo'})
    emulator_2900.sim('POST', 'config', {
        'brew_seconds': BREW_SECONDS, 'delay_ms': 0, 'rate_limit': 1000,
        'token_ttl': 3600, 'signature_clock': 'machine'})
    return V2(emulator_2900)


def finish_brewing(emu):
    """Let the cup in progress complete by moving the machine clock."""
    emu.sim('POST', 'clock', {'advance': BREW_SECONDS + 1})


def error_code(response):
    """The code of a 2900 error answer (and check the error body shape)."""
    body = response.json()
    assert set(body) == {'error'}, body
    assert set(body['error']) == {'code', 'message'}, body
    assert isinstance(body['error']['message'], str)
    return body['error']['code']


def error_text(response):
    """The text of a 1900 error answer (and check the error body shape)."""
    body = response.json()
    assert set(body) == {'error'}, body
    assert isinstance(body['error'], str)
    return body['error']


def wait_for(predicate, timeout=5.0, interval=0.02):
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() >= deadline:
            return value
        time.sleep(interval)


# -- webhook receiver -------------------------------------------------------

class Receiver(object):
    """A tiny HTTP server on 127.0.0.1 that records what it gets and answers
    the statuses of ``script`` in turn (then ``default``)."""

    def __init__(self, script=(), default=200):
        self.script = list(script)
        self.default = default
        self.received = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length)
                with outer.lock:
                    outer.received.append({
                        'headers': dict(self.headers.items()),
                        'body': body, 'at': time.time()})
                    status = outer.script.pop(0) if outer.script \
                        else outer.default
                self.send_response(status)
                self.send_header('Content-Length', '0')
                self.end_headers()

        self.server = HTTPServer(('127.0.0.1', 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={'poll_interval': 0.05})
        self.thread.daemon = True

    @property
    def url(self):
        return 'http://127.0.0.1:%d/hook' % self.server.server_address[1]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        return False

    def count(self):
        with self.lock:
            return len(self.received)

    def wait(self, n, timeout=5.0):
        """Wait until n deliveries arrived; return them."""
        wait_for(lambda: self.count() >= n, timeout)
        with self.lock:
            return list(self.received)

    def events(self):
        with self.lock:
            return [json.loads(r['body'].decode('utf-8'))
                    for r in self.received]


def check_signature(secret, delivery, tolerance=None, now=None):
    """Verify X-Coffee-Signature as a receiver must; returns t."""
    header = delivery['headers']['X-Coffee-Signature']
    parts = dict(p.split('=', 1) for p in header.split(','))
    t = int(parts['t'])
    expected = hmac.new(secret.encode('utf-8'),
                        ('%d.' % t).encode('ascii') + delivery['body'],
                        hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts['v1'], expected), header
    if tolerance is not None:
        assert abs(now - t) <= tolerance
    return t
