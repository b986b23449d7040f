"""HTTP server of the coffee machine emulator (one machine, one protocol
per process; fleet.py serves many from one).  Standard library only; runs
on Python 3.7 to 3.13.

Run it with bin/emulator (see emulator/README.rst and ``--help``).
"""
import argparse
import collections
import math
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

from .clock import real_now_us
from .data import is_data_set
from .machine import Machine
from .sim import Sim
from .store import ProtocolMismatch, Store
from .versions import NAMES, VERSIONS
from .web import Log, Request, Response, request_line
from .webhooks import Ticker

MAX_BODY = 1024 * 1024
SECRET_WORDS = ('token', 'password', 'secret', 'key')
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class RateLimiter(object):
    """At most ``rate`` requests per key in any sliding second (real time).
    Refused requests do not count."""

    def __init__(self):
        self.lock = threading.Lock()
        self.hits = {}

    def check(self, key, rate):
        """0 if allowed (and counted), else the Retry-After seconds."""
        now = time.monotonic()
        with self.lock:
            dq = self.hits.get(key)
            if dq is None:
                if len(self.hits) > 10000:
                    self.hits = dict((k, v) for k, v in self.hits.items()
                                     if v and v[-1] > now - 1.0)
                dq = self.hits[key] = collections.deque()
            while dq and dq[0] <= now - 1.0:
                dq.popleft()
            if len(dq) >= max(1, int(rate)):
                return max(1, int(math.ceil(dq[0] + 1.0 - now)))
            dq.append(now)
            return 0

    def reset(self):
        with self.lock:
            self.hits = {}


class App(object):

    def __init__(self, args, log_stream=None):
        self.args = args
        self.protocol = args.protocol
        self.version = VERSIONS[args.protocol]
        self.state_dir = os.path.abspath(args.state)
        self.log_stream = log_stream or sys.stderr
        self._log = Log(self.log_stream)
        self.stopping = threading.Event()
        self.store = Store(self.state_dir, self.protocol)
        config = {'brew_seconds': float(args.brew_seconds),
                  'rate_limit': float(args.rate_limit),
                  'token_ttl': int(args.token_ttl), 'delay_ms': 0.0,
                  'cursor_ttl': 3600.0, 'signature_clock': 'machine'}
        self.machine = Machine(self.version, self.store, config)
        if self.store.get_meta('data') is None:
            started = time.time()
            self.machine.seed(args.data)
            self.log('seeded %s in %.2f s' % (args.data, time.time() - started))
        self.api_prefix = self.version.api_prefix
        self.api = self.version.api(self.machine, args.username,
                                    args.password)
        self.sim = Sim(self)
        self.limiter = RateLimiter()
        self.ticker = Ticker(self.machine, self.log)
        self.in_flight_lock = threading.Lock()

    real_now_us = staticmethod(real_now_us)

    def wake(self):
        if self.machine.on_event:
            self.machine.on_event()

    def reset_limits(self):
        self.limiter.reset()

    def log(self, message):
        self._log(message)

    # -- in flight (counted; the API's admit may refuse too many) ----------

    def enter(self):
        c = self.machine.counters
        with c.lock:
            c.in_flight += 1
            c.in_flight_max = max(c.in_flight_max, c.in_flight)
            return c.in_flight

    def leave(self):
        c = self.machine.counters
        with c.lock:
            c.in_flight -= 1

    # -- one API request ----------------------------------------------------

    def api_request(self, req, in_flight):
        m = self.machine
        api = self.api
        refusal = api.admit(req, in_flight, self.limiter)
        if refusal is not None:
            return refusal
        fault = m.draw_fault(req.path)
        if fault is not None:
            resp = self.fault(fault)
            if resp is not None:
                return resp
        delay = m.config.get('delay_ms') or 0
        if delay > 0:
            self.stopping.wait(delay / 1000.0)
        m.settle()
        return api.handle(req)

    def fault(self, kind):
        api = self.api
        hang = float(self.machine.faults['hang_seconds'])
        if kind == '500':
            return api.error_response(500, 'internal error')
        if kind == '503':
            return api.unavailable()
        if kind == '429':
            return api.error_response(429, 'too many requests',
                                      [('Retry-After', '1')])
        if kind == 'slow':
            self.stopping.wait(hang)
            return None
        resp = Response(0)
        resp.drop = True
        if kind == 'hang':
            self.stopping.wait(hang)
        return resp


def _masked(target):
    parts = urlsplit(target)
    if not parts.query:
        return target
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    pairs = [(k, '***' if any(w in k.lower() for w in SECRET_WORDS) else v)
             for k, v in pairs]
    return '%s?%s' % (parts.path, urlencode(pairs, safe=':/'))


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'CoffeeMachine'
    sys_version = ''
    timeout = 120  # idle keep-alive connections are closed after that

    def setup(self):
        BaseHTTPRequestHandler.setup(self)
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP,
                                       socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, format, *args):  # silence the default logging
        pass

    def handle_one_request(self):
        app = self.server.app
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except (socket.timeout, OSError):
            self.close_connection = True
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        started = time.perf_counter()
        parts = self.raw_requestline.split()
        target = parts[1].decode('latin-1') if len(parts) >= 2 else ''
        is_sim = urlsplit(target).path.startswith('/_sim')
        in_flight = 0 if is_sim else app.enter()
        status = '-'
        try:
            if len(self.raw_requestline) > 65536:
                self.requestline = ''
                self.request_version = ''
                self.command = ''
                self.send_error(414)
                status = 414
                return
            if not self.parse_request():
                status = 400
                return
            status = self.dispatch(app, is_sim, in_flight)
            self.wfile.flush()
        except (socket.timeout, ConnectionError, BrokenPipeError) as exc:
            self.close_connection = True
            status = type(exc).__name__
        finally:
            if not is_sim:
                app.leave()
            if status != '-':
                path = urlsplit(target).path
                if not is_sim:
                    app.machine.counters.request(path, status)
                app.log(request_line(
                    self.client_address[0], getattr(self, 'command', '-'),
                    _masked(target), status, started))

    def dispatch(self, app, is_sim, in_flight):
        length = self.headers.get('Content-Length')
        if self.headers.get('Transfer-Encoding', '').lower() == 'chunked':
            self.close_connection = True
            return self.answer(Response(411, b'{"error": "length required"}',
                                        'application/json'))
        try:
            length = int(length or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            return self.answer(Response(413, b'{"error": "body too large"}',
                                        'application/json'))
        body = self.rfile.read(length) if length else b''
        req = Request(self.command, self.path, self.headers, body,
                      self.client_address[0])
        try:
            if is_sim:
                resp = app.sim.handle(req)
            elif not req.path.startswith(app.api_prefix):
                resp = app.api.error_response(404, 'not found')
            else:
                resp = app.api_request(req, in_flight)
        except Exception as exc:  # a bug: answer 500 and log it
            import traceback
            app.log('ERROR %s' % traceback.format_exc().replace('\n', ' | '))
            resp = app.api.error_response(500, 'internal error: %s'
                                          % type(exc).__name__)
        return self.answer(resp)

    def answer(self, resp):
        if resp.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return 'dropped'
        self.send_response_only(resp.status)
        self.send_header('Date', self.date_time_string())
        for name, value in resp.headers:
            self.send_header(name, value)
        self.send_header('Content-Length', str(len(resp.body)))
        if self.close_connection:
            self.send_header('Connection', 'close')
        # headers and body in one write: no Nagle / delayed-ACK stalls
        self._headers_buffer.append(b'\r\n')
        if resp.body and self.command != 'HEAD':
            self._headers_buffer.append(resp.body)
        self.flush_headers()
        return resp.status


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog='bin/emulator',
        description='Coffee machine emulator: one Coffee 1900 (/api/v1) or '
                    'Coffee 2900 (/api/v2) over HTTP, with simulation '
                    'controls under /_sim.  See emulator/README.rst.  '
                    'bin/emulator --fleet N serves N machines of both '
                    'versions from one process (bin/emulator --fleet 1 '
                    '--help).')
    p.add_argument('--protocol', choices=NAMES, required=True,
                   help='firmware protocol to speak')
    p.add_argument('--host', default='127.0.0.1',
                   help='address to listen on (default 127.0.0.1; /_sim '
                        'answers loopback clients only)')
    p.add_argument('--port', type=int, default=None,
                   help='port (default 8190 for 1900, 8290 for 2900)')
    p.add_argument('--data', default='demo',
                   help='seed of a fresh state: demo, empty, fleet or scale:N '
                        '(default demo; ignored when the state exists)')
    p.add_argument('--state', default=None,
                   help='state directory, created if needed (default '
                        '.var/emulator-<protocol> under the repository)')
    p.add_argument('--username', default='coffee', help='default coffee')
    p.add_argument('--password', default='espresso', help='default espresso')
    add_machine_options(p)
    args = p.parse_args(argv)
    if args.port is None:
        args.port = VERSIONS[args.protocol].default_port
    if args.state is None:
        args.state = os.path.join(REPO_ROOT, '.var',
                                  'emulator-%s' % args.protocol)
    check_machine_options(p, args)
    if not is_data_set(args.data):
        p.error('--data must be demo, empty, fleet or scale:N')
    return args


def add_machine_options(p):
    """The options of how a machine behaves, for one machine or a fleet."""
    p.add_argument('--rate-limit', type=float, default=20.0,
                   help='2900: requests per second per token (default 20)')
    p.add_argument('--token-ttl', type=int, default=3600,
                   help='2900: token lifetime in machine seconds '
                        '(default 3600)')
    p.add_argument('--brew-seconds', type=float, default=3.0,
                   help='machine seconds a cup takes (default 3)')


def check_machine_options(p, args):
    """Exits with a usage error when add_machine_options got a bad value."""
    if args.rate_limit <= 0 or args.token_ttl <= 0 or args.brew_seconds < 0:
        p.error('--rate-limit and --token-ttl must be > 0, --brew-seconds '
                '>= 0')


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if any(a == '--fleet' or a.startswith('--fleet=') for a in argv):
        from .fleet import main as fleet_main  # many machines, one process
        return fleet_main(argv)
    args = parse_args(argv)
    try:
        app = App(args)
    except ProtocolMismatch as exc:
        sys.stderr.write('emulator: %s\n' % exc)
        return 2
    try:
        server = Server((args.host, args.port), Handler)
    except OSError as exc:
        sys.stderr.write('emulator: cannot listen on %s:%s: %s\n'
                         % (args.host, args.port, exc))
        app.store.close()
        return 2
    server.app = app
    app.ticker.start()

    def stop(signum, frame):
        if not app.stopping.is_set():
            app.stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    app.log('Coffee %s emulator listening on http://%s:%d (state %s, pid %d)'
            % (app.protocol, args.host, server.server_address[1],
               app.state_dir, os.getpid()))
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        app.stopping.set()
        server.server_close()
        app.ticker.stop()
        app.machine.stop_activity()
        with app.store.lock:
            app.machine.save_clock()
            app.store.close()
        app.log('stopped')
    return 0


if __name__ == '__main__':
    sys.exit(main())
