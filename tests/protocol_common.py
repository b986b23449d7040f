# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""What the protocol tests share: emulator start-up and its /_sim controls.

Kept out of a conftest.py on purpose: pytest-odoo imports the test modules as
``odoo.addons.connector_coffee.tests.*``, where a conftest would not be found.
"""

import contextlib
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from ..emulator.harness import EmulatorProcess, free_port

USERNAME = 'coffee'
PASSWORD = 'espresso'
#: a wrong password that cannot appear in a message by accident
WRONG_PASSWORD = 'wr0ng-P4ssw0rd-xyzzy'


def start_emulator(protocol, **kwargs):
    """A started emulator of ``protocol`` ('1900'/'2900') on demo data."""
    kwargs.setdefault('data', 'demo')
    kwargs.setdefault('username', USERNAME)
    kwargs.setdefault('password', PASSWORD)
    return EmulatorProcess(protocol, **kwargs).start()


def emulator_fixture(protocol):
    """A pytest fixture of module scope: an emulator of ``protocol`` for
    the module's tests, stopped after them (``emulator =
    emulator_fixture('1900')``: the fixture takes the name it is given)."""
    def started_emulator():
        emu = start_emulator(protocol)
        yield emu
        emu.stop()
    return pytest.fixture(scope='module')(started_emulator)


def client_fixture(client_class):
    """A pytest fixture: a ``client_class`` client of the module's
    ``emulator`` fixture, closed after the test."""
    def client(emulator):
        with client_class(emulator.url, USERNAME, PASSWORD,
                          timeout=(5, 15)) as coffee:
            yield coffee
    return pytest.fixture(client)


def refused_url():
    """A loopback URL where nothing listens (the port was just freed)."""
    return 'http://127.0.0.1:%d' % free_port()


def set_faults(emulator, kinds, rate=1.0, seed=1, **extra):
    """Make the machine misbehave on API requests (never on /_sim)."""
    payload = {'rate': rate, 'kinds': list(kinds), 'seed': seed}
    payload.update(extra)
    emulator.sim('POST', 'faults', payload)


def clear_faults(emulator):
    emulator.sim('POST', 'faults', {'rate': 0.0})


def set_machine_state(emulator, state, error_code=None):
    payload = {'state': state}
    if error_code is not None:
        payload['error_code'] = error_code
    emulator.sim('POST', 'state', payload)


def advance_clock(emulator, seconds):
    emulator.sim('POST', 'clock', {'advance': seconds})


def set_config(emulator, **settings):
    """brew_seconds, rate_limit, token_ttl, delay_ms... (see emulator)."""
    emulator.sim('POST', 'config', settings)


#: the emulator's settings as the tests start it (see bin/emulator --help)
DEFAULT_CONFIG = {'brew_seconds': 3.0, 'rate_limit': 20.0, 'token_ttl': 3600,
                  'delay_ms': 0.0}


def reset(emulator):
    """Demo data, state ready, default settings, no faults, zero counters."""
    emulator.sim('POST', 'reset', {'data': 'demo'})
    emulator.sim('POST', 'state', {'state': 'ready'})
    emulator.sim('POST', 'config', DEFAULT_CONFIG)


def request_count(emulator, path, status=None):
    """How many API requests the machine answered on ``path``.

    The machine counts a request just after writing its answer, so a count
    read right after a response may miss it: read until it holds still.
    """
    def read():
        counts = emulator.sim('GET', 'counters')['requests'].get(path, {})
        if status is not None:
            return counts.get(str(status), 0)
        return sum(counts.values())

    value = read()
    for _ in range(20):
        time.sleep(0.05)
        again = read()
        if again == value:
            break
        value = again
    return value


def snapshot_ids(emulator, kind, include_deleted=False):
    """The machine's own list of ids of ``kind``, in listing order."""
    query = 'snapshot?kind=%s' % kind
    if include_deleted:
        query += '&include_deleted=1'
    return emulator.sim('GET', query)['ids']


class _StubHandler(BaseHTTPRequestHandler):
    """Lets a test function answer: ``answer(method, path) ->
    (status, body bytes, content type)``; records what it was asked."""

    def _answer(self):
        length = int(self.headers.get('Content-Length') or 0)
        if length:
            self.rfile.read(length)
        self.server.seen.append((self.command, self.path))
        status, body, content_type = self.server.answer(self.command,
                                                        self.path)
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, format, *args):
        pass


@contextlib.contextmanager
def stub_server(answer):
    """A local HTTP server answering with ``answer``; yields (url, seen).

    For answers the emulator never gives on purpose: another product's web
    page, or a machine that keeps refusing fresh tokens.
    """
    server = HTTPServer(('127.0.0.1', 0), _StubHandler)
    server.answer = answer
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield 'http://127.0.0.1:%d' % server.server_address[1], server.seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _web_page(method, path):
    return 200, b'<html><body>Router login</body></html>', 'text/html'


@contextlib.contextmanager
def html_server():
    """A local web server that is not a coffee machine, for wrong URLs."""
    with stub_server(_web_page) as (url, _seen):
        yield url
