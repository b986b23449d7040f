"""Many machines in one process: ``bin/emulator --fleet N``.

Machine i (from 0) listens on port P+1+i (P = ``--port``), speaks
VERSIONS[i % 2] and has its own state, credentials and /_sim controls,
exactly as a machine of its own process would.  Port P answers the fleet
controls (/_fleet, loopback only).  One thread accepts the connections of
every port, one ticks every machine, one makes the trickle and the
schedule: two hundred machines cost a few threads, not six hundred.

Modes are made of what a machine already has: ``flaky`` is its request
faults (503), ``slow`` its ``delay_ms``, ``offline`` a closed listening
socket (and its open connections cut), ``healthy`` none of these.
"""
import argparse
import json
import os
import random
import selectors
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler

from .clock import iso_utc, real_now_us
from .data import DEMO_FIRST_LOG_NO, is_data_set
from .server import App, Handler, Server, add_machine_options, check_machine_options
from .store import ProtocolMismatch
from .versions import NAMES as VERSIONS  # machine i speaks VERSIONS[i % 2]
from .web import ControlError, Controls, Log, Request, json_response, request_line

MODES = ('healthy', 'offline', 'flaky', 'slow')
DRAWN_MODES = MODES[1:]              # drawn at start (--offline F, ...)
DEFAULT_PORT = 8400
MAX_MACHINES = 1000
USERNAME = 'coffee'
PASSWORD_FORMAT = 'espresso-%d'
NAME_FORMAT = 'fleet-%03d'
SERIAL_FORMAT = '%sF%05d'            # model prefix of the serial + index
FLAKY_FAULT = '503'                  # the transient error of both versions
TICK_SECONDS = 0.1
CLOSE_WAIT_SECONDS = 3


class FleetError(ControlError):
    """A /_fleet request refused."""


class MachineApp(App):
    """One machine of the fleet: a single machine's App whose log lines
    carry the machine's name."""

    def __init__(self, fleet, index, args):
        self.fleet = fleet
        self.index = index
        self.name = NAME_FORMAT % index
        App.__init__(self, args)
        profile = self.machine.profile
        self.machine.profile = dict(profile, serial=SERIAL_FORMAT % (
            profile['serial'][:4], index))
        self.machine.on_event = fleet.wake_ticker

    def log(self, message):
        self.fleet.log('%s %s' % (self.name, message))


class MachineServer(Server):
    """A machine's listening socket; remembers its open connections so that
    going offline can cut them (an unplugged machine answers nothing, not
    even on a kept-alive connection)."""

    def __init__(self, address, app):
        Server.__init__(self, address, Handler)
        self.socket.setblocking(False)  # one acceptor for all: never block
        self.app = app
        self.connections = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request, client_address):
        with self._connections_lock:
            self.connections.add(request)
        Server.process_request(self, request, client_address)

    def shutdown_request(self, request):
        with self._connections_lock:
            self.connections.discard(request)
        Server.shutdown_request(self, request)

    def cut(self):
        """Stop listening and cut every open connection."""
        self.server_close()
        with self._connections_lock:
            connections = list(self.connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Member(object):
    """A machine of the fleet, its port and its mode."""

    def __init__(self, fleet, index, args, state_dir):
        self.fleet = fleet
        self.index = index
        self.version = VERSIONS[index % len(VERSIONS)]
        self.port = args.port + 1 + index
        self.password = PASSWORD_FORMAT % index
        machine_args = argparse.Namespace(
            protocol=self.version, state=state_dir, data=args.data,
            username=USERNAME, password=self.password,
            brew_seconds=args.brew_seconds, rate_limit=args.rate_limit,
            token_ttl=args.token_ttl)
        self.app = MachineApp(fleet, index, machine_args)
        self.machine = self.app.machine
        self.server = None
        self.mode = 'healthy'

    @property
    def name(self):
        return self.app.name

    def info(self):
        return {'index': self.index, 'name': self.name,
                'version': self.version,
                'url': 'http://%s:%d' % (self.fleet.host, self.port),
                'username': USERNAME, 'password': self.password,
                'mode': self.mode}

    def listening(self):
        return self.server is not None

    def open(self):
        if self.server is None:
            self.server = MachineServer((self.fleet.host, self.port),
                                        self.app)
            self.fleet.selector.register(self.server.socket,
                                         selectors.EVENT_READ, self.server)

    def close(self):
        server, self.server = self.server, None
        if server is not None:
            try:
                self.fleet.selector.unregister(server.socket)
            except (KeyError, ValueError):
                pass
            server.cut()

    def set_mode(self, mode):
        """Raises OSError when the port cannot be opened again."""
        if mode == 'offline':
            self.close()
        else:
            self.open()
        m = self.machine
        if mode == 'flaky':
            m.set_faults(rate=self.fleet.flaky_rate, kinds=[FLAKY_FAULT],
                         seed=self.fleet.seed * MAX_MACHINES + self.index)
        else:
            m.set_faults(rate=0)
        m.config['delay_ms'] = (self.fleet.slow_seconds * 1000.0
                                if mode == 'slow' else 0.0)
        self.mode = mode

    def delta(self, brews, consumers):
        """New finished brews and consumer changes, now; the new brews'
        ids and the real time they exist from."""
        m = self.machine
        with m.store.lock:
            first = m.store.next_pk('brews', DEMO_FIRST_LOG_NO)
            m.activity(brews=brews, consumers=consumers)
            rows = m.store.execute(
                'SELECT pk, code FROM brews WHERE pk >= ? ORDER BY pk',
                (first,))
        at = iso_utc(real_now_us())
        self.app.wake()
        api = self.app.api
        return {'brews': [api.brew_id({'pk': r[0], 'code': r[1]})
                          for r in rows], 'at': at}


def assign_modes(n, fractions, rnd):
    """A seeded draw: round(F * n) machines in each mode of ``fractions``
    (offline, flaky, slow in that order), healthy for the others."""
    order = list(range(n))
    rnd.shuffle(order)
    modes = ['healthy'] * n
    start = 0
    for mode, fraction in fractions:
        count = int(round(fraction * n))
        for index in order[start:start + count]:
            modes[index] = mode
        start += count
    return modes


class Fleet(object):

    def __init__(self, args, log_stream=None):
        self.args = args
        self.host = args.host
        self.seed = args.seed
        self.flaky_rate = args.flaky_rate
        self.slow_seconds = args.slow_seconds
        self.fractions = [(mode, getattr(args, mode)) for mode in DRAWN_MODES]
        self.log_stream = log_stream or sys.stderr
        self.log = Log(self.log_stream)
        self._mode_lock = threading.Lock()
        self.stopping = threading.Event()
        self._tick_wake = threading.Event()
        self.selector = selectors.DefaultSelector()
        self.own_state = args.state is None
        self.state_dir = os.path.abspath(
            args.state or tempfile.mkdtemp(prefix='coffee-fleet-'))
        self.members = []
        self.control = None
        self._threads = []
        self._schedule_rnd = random.Random(self.seed)

    def wake_ticker(self):
        self._tick_wake.set()

    # -- start and stop ------------------------------------------------------

    def build(self):
        for index in range(self.args.fleet):
            state = os.path.join(self.state_dir, NAME_FORMAT % index)
            self.members.append(Member(self, index, self.args, state))

    def listen(self):
        """The control port, then every machine in its initial mode."""
        self.control = ControlServer((self.host, self.args.port), self)
        self.control.socket.setblocking(False)
        self.selector.register(self.control.socket, selectors.EVENT_READ,
                               self.control)
        modes = assign_modes(len(self.members), self.fractions,
                             self._schedule_rnd)
        for member, mode in zip(self.members, modes):
            member.set_mode(mode)

    def start_threads(self):
        for target, name in ((self._tick, 'fleet-ticker'),
                             (self._clockwork, 'fleet-clockwork')):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def serve(self):
        """Accept the connections of every port until stopped."""
        while not self.stopping.is_set():
            try:
                ready = self.selector.select(0.2)
            except OSError:  # a socket closed while selecting
                continue
            for key, _events in ready:
                try:
                    key.data._handle_request_noblock()
                except Exception as exc:  # a closed socket, a refused accept
                    self.log('accept error: %r' % (exc,))

    def close(self):
        self.stopping.set()
        self._tick_wake.set()
        for thread in self._threads:
            thread.join(5)
        if self.control is not None:
            self.control.server_close()
        servers = [m.server for m in self.members if m.server is not None]
        for member in self.members:
            member.app.stopping.set()  # ends the waits of slow answers
            member.close()
            member.machine.stop_activity()
        # let the requests being answered finish before their store closes
        deadline = time.monotonic() + CLOSE_WAIT_SECONDS
        while any(s.connections for s in servers) and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        for member in self.members:
            with member.machine.store.lock:
                member.machine.save_clock()
                member.machine.store.close()
        self.selector.close()
        if self.own_state:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    # -- background ----------------------------------------------------------

    def _tick(self):
        """Complete due cups and start due webhook deliveries of every
        machine that is not offline (an unplugged machine does nothing)."""
        while not self.stopping.is_set():
            self._tick_wake.wait(TICK_SECONDS)
            self._tick_wake.clear()
            for member in self.members:
                if self.stopping.is_set():
                    return
                if member.mode == 'offline':
                    continue
                try:
                    member.app.ticker.tick()
                except Exception as exc:  # keep ticking whatever happens
                    if self.stopping.is_set():
                        return
                    member.app.log('ticker error: %r' % (exc,))

    def _clockwork(self):
        """The trickle (one brew per healthy machine every --trickle
        seconds) and the schedule (modes drawn again every --schedule
        seconds)."""
        trickle = self.args.trickle
        schedule = self.args.schedule
        now = time.monotonic()
        next_trickle = now + trickle if trickle > 0 else None
        next_schedule = now + schedule if schedule > 0 else None
        while True:
            due = [t for t in (next_trickle, next_schedule) if t is not None]
            wait = min(due) - time.monotonic() if due else 3600
            if self.stopping.wait(max(0.0, wait)):
                return
            now = time.monotonic()
            if next_trickle is not None and now >= next_trickle:
                next_trickle = max(next_trickle + trickle, now)
                self.trickle()
            if next_schedule is not None and now >= next_schedule:
                next_schedule = max(next_schedule + schedule, now)
                self.redraw()

    def trickle(self):
        for member in self.members:
            if self.stopping.is_set():
                return
            if member.mode == 'healthy':
                try:
                    member.machine.activity(brews=1)
                    member.app.wake()
                except Exception as exc:  # the store closes at shutdown
                    if not self.stopping.is_set():
                        member.app.log('trickle error: %r' % (exc,))

    def redraw(self):
        modes = assign_modes(len(self.members), self.fractions,
                             self._schedule_rnd)
        by_mode = {}
        for index, mode in enumerate(modes):
            by_mode.setdefault(mode, []).append(index)
        for mode, indexes in sorted(by_mode.items()):
            try:
                self.set_mode(indexes, mode)
            except FleetError as exc:
                self.log('schedule: %s' % exc)
        self.log('schedule: %s' % ', '.join(
            '%d %s' % (len(v), k) for k, v in sorted(by_mode.items())))

    # -- controls ------------------------------------------------------------

    def machines(self):
        return {'machines': [m.info() for m in self.members]}

    def set_mode(self, indexes, mode):
        failed = []
        with self._mode_lock:
            for index in indexes:
                member = self.members[index]
                if member.mode == mode:
                    continue
                try:
                    member.set_mode(mode)
                except OSError as exc:
                    failed.append('%s: port %d: %s'
                                  % (member.name, member.port, exc))
        if failed:
            raise FleetError('cannot listen again: %s' % '; '.join(failed),
                             409)
        return {'machines': [self.members[i].info() for i in indexes]}

    def delta(self, brews, consumers):
        out = {}
        for member in self.members:
            if member.mode != 'offline':
                out[str(member.index)] = member.delta(brews, consumers)
        return {'machines': out}

    def write_manifest(self, path):
        tmp = '%s.tmp-%d' % (path, os.getpid())
        with open(tmp, 'w') as f:
            json.dump(self.machines(), f, indent=1)
        os.replace(tmp, path)


# -- the control API (port P) -----------------------------------------------

def _indexes(body, n):
    indexes = body.get('indexes')
    if not isinstance(indexes, list) or any(
            isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < n
            for i in indexes):
        raise FleetError('indexes must be a list of machine indexes '
                         '(0 to %d)' % (n - 1))
    return sorted(set(indexes))


def _count(body, key):
    value = body.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) \
            or not 0 <= value <= 10000:
        raise FleetError('%s must be a whole number from 0 to 10000' % key)
    return value


class FleetControls(Controls):
    """The controls of the fleet (port P)."""

    def __init__(self, fleet):
        Controls.__init__(self, '/_fleet', 'fleet')
        self.fleet = fleet
        self.add('/health', GET=self.health)
        self.add('/machines', GET=self.machines)
        self.add('/mode', POST=self.mode)
        self.add('/delta', POST=self.delta)

    def health(self, req, body):
        return {'ok': True, 'machines': len(self.fleet.members),
                'pid': os.getpid()}

    def machines(self, req, body):
        return self.fleet.machines()

    def mode(self, req, body):
        unknown = set(body) - {'indexes', 'mode'}
        if unknown:
            raise FleetError('unknown keys: %s' % ', '.join(sorted(unknown)))
        indexes = _indexes(body, len(self.fleet.members))
        mode = body.get('mode')
        if mode not in MODES:
            raise FleetError('mode must be one of %s' % ', '.join(MODES))
        return self.fleet.set_mode(indexes, mode)

    def delta(self, req, body):
        unknown = set(body) - {'brews', 'consumers'}
        if unknown:
            raise FleetError('unknown keys: %s' % ', '.join(sorted(unknown)))
        return self.fleet.delta(_count(body, 'brews'),
                                _count(body, 'consumers'))


class ControlHandler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'CoffeeFleet'
    sys_version = ''
    timeout = 120

    def log_message(self, format, *args):  # one line per request, below
        pass

    def _answer(self):
        started = time.perf_counter()
        try:
            length = int(self.headers.get('Content-Length') or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= 1024 * 1024:
            resp = json_response(413, {'error': 'body too large'})
            self.close_connection = True
        else:
            body = self.rfile.read(length) if length else b''
            req = Request(self.command, self.path, self.headers, body,
                          self.client_address[0])
            resp = self.server.controls.handle(req)
        self.send_response_only(resp.status)
        self.send_header('Date', self.date_time_string())
        for name, value in resp.headers:
            self.send_header(name, value)
        self.send_header('Content-Length', str(len(resp.body)))
        self.end_headers()
        self.wfile.write(resp.body)
        self.server.fleet.log('control ' + request_line(
            self.client_address[0], self.command, self.path, resp.status,
            started))

    do_GET = do_POST = _answer


class ControlServer(Server):

    def __init__(self, address, fleet):
        Server.__init__(self, address, ControlHandler)
        self.fleet = fleet
        self.controls = FleetControls(fleet)


# -- command line ------------------------------------------------------------

def _fraction(text):
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError('a fraction from 0 to 1')
    return value


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog='bin/emulator --fleet',
        description='N coffee machines in one process: machine i on port '
                    'P+i, Coffee 1900 for even i and 2900 for odd i, user '
                    'coffee, password espresso-<i>; fleet controls under '
                    '/_fleet on port P.  See emulator/README.rst.')
    p.add_argument('--fleet', type=int, required=True, metavar='N',
                   help='number of machines (1 to %d)' % MAX_MACHINES)
    p.add_argument('--seed', type=int, default=0,
                   help='seed of the mode draws and the flaky errors '
                        '(default 0)')
    for mode in DRAWN_MODES:
        p.add_argument('--' + mode, type=_fraction, default=0.0, metavar='F',
                       help='fraction of the machines %s at start' % mode)
    p.add_argument('--flaky-rate', type=_fraction, default=0.3, metavar='R',
                   help='fraction of the API requests of a flaky machine '
                        'that answer 503 (default 0.3)')
    p.add_argument('--slow-seconds', type=float, default=2.0, metavar='X',
                   help='delay of every API answer of a slow machine '
                        '(default 2)')
    p.add_argument('--trickle', type=float, default=0.0, metavar='SECONDS',
                   help='every that many seconds each healthy machine makes '
                        'one brew by itself (default 0: off)')
    p.add_argument('--schedule', type=float, default=0.0, metavar='SECONDS',
                   help='every that many seconds the modes are drawn again '
                        '(same fractions, seeded; default 0: off)')
    p.add_argument('--host', default='127.0.0.1',
                   help='address to listen on (default 127.0.0.1)')
    p.add_argument('--port', type=int, default=DEFAULT_PORT, metavar='P',
                   help='control port; machine i listens on P+1+i '
                        '(default %d)' % DEFAULT_PORT)
    p.add_argument('--manifest', default=None, metavar='PATH',
                   help='write the /_fleet/machines answer there once all '
                        'machines listen')
    p.add_argument('--state', default=None, metavar='DIR',
                   help='state directory, one sub-directory per machine '
                        '(default: a temporary one, removed at exit)')
    p.add_argument('--data', default='fleet',
                   help='seed of every new machine state: fleet, demo, '
                        'empty or scale:N (default fleet)')
    add_machine_options(p)
    args = p.parse_args(argv)
    if not 1 <= args.fleet <= MAX_MACHINES:
        p.error('--fleet must be from 1 to %d' % MAX_MACHINES)
    if not 1 <= args.port <= 65535 - args.fleet:
        p.error('--port must leave room for %d ports above it' % args.fleet)
    if args.offline + args.flaky + args.slow > 1.0 + 1e-9:
        p.error('--offline, --flaky and --slow add up to more than 1')
    if args.slow_seconds < 0 or args.trickle < 0 or args.schedule < 0:
        p.error('--slow-seconds, --trickle and --schedule must be >= 0')
    check_machine_options(p, args)
    if not is_data_set(args.data):
        p.error('--data must be fleet, demo, empty or scale:N')
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    fleet = Fleet(args)
    started = time.time()

    def stop(signum, frame):
        fleet.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        fleet.build()
        fleet.listen()
    except (OSError, ProtocolMismatch) as exc:
        sys.stderr.write('emulator: fleet: %s\n' % exc)
        fleet.close()
        return 2
    if fleet.stopping.is_set():  # stopped while starting
        fleet.close()
        return 0
    fleet.start_threads()
    counts = {}
    for member in fleet.members:
        counts[member.mode] = counts.get(member.mode, 0) + 1
    fleet.log('Coffee fleet of %d machines on ports %d..%d of %s, controls '
              'on http://%s:%d/_fleet (%s; state %s, pid %d) up in %.1f s'
              % (len(fleet.members), args.port + 1, args.port + args.fleet,
                 args.host, args.host, args.port,
                 ', '.join('%d %s' % (v, k) for k, v in sorted(counts.items())),
                 fleet.state_dir, os.getpid(), time.time() - started))
    if args.manifest:
        fleet.write_manifest(args.manifest)
    try:
        fleet.serve()
    finally:
        fleet.close()
        fleet.log('stopped')
    return 0
