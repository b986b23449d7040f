"""Start and stop an emulator process from tests (Python 3.7+, stdlib only).

    from ..emulator.harness import EmulatorProcess      # inside the addon

    with EmulatorProcess('2900', extra_args=['--brew-seconds', '1']) as emu:
        emu.url                        # 'http://127.0.0.1:PORT'
        emu.sim('POST', 'clock', {'advance': 60})

    with FleetProcess(6, offline=0.2) as fleet:   # bin/emulator --fleet 6
        fleet.machines()               # the /_fleet/machines list
        fleet.machine(3).sim('GET', 'health')
        fleet.mode([0, 1], 'offline')
        fleet.delta(brews=5, consumers=1)

The server runs ``bin/emulator`` in a subprocess (it never runs inside the
test process); its log goes to ``emulator.log`` in the state directory.

Also the ports and HTTP of every tool of the repository that starts
servers (dev/harness.py, browser/walkthrough.py load this file):
``free_port()``, ``free_port_range(count)``, ``OPENER`` (urllib, never
through a proxy), ``http_ok(url)``.
"""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.realpath(__file__))
LAUNCHER = os.path.normpath(os.path.join(HERE, '..', 'bin', 'emulator'))

#: every server started here is on loopback: never through a proxy
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
#: a developer's bin/up demo may use these
RESERVED_PORTS = (8069, 8072, 8190, 8290)


class EmulatorError(Exception):
    """A /_sim call answered an error status, or the process failed."""

    def __init__(self, message, status=None, body=None):
        Exception.__init__(self, message)
        self.status = status
        self.body = body


def free_port():
    """A free TCP port of 127.0.0.1 (never one of a bin/up demo)."""
    while True:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(('127.0.0.1', 0))
            port = sock.getsockname()[1]
        finally:
            sock.close()
        if port not in RESERVED_PORTS:
            return port


def _port_free(port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(('127.0.0.1', port))
        return True
    except OSError:
        return False
    finally:
        sock.close()


# consecutive ports for a fleet are looked for below Linux's ephemeral range
# (32768 and up), where no client socket takes one meanwhile
FLEET_PORTS = (20000, 32000)


def free_port_range(count, tries=50):
    """The first of ``count`` consecutive free ports."""
    low, high = FLEET_PORTS
    for _ in range(tries):
        base = random.randint(low, high - count)
        if all(_port_free(base + i) for i in range(count)):
            return base
    raise EmulatorError('no %d consecutive free ports in %d..%d'
                        % (count, low, high))


def http_ok(url, timeout=5):
    """Whether ``url`` answers 200 (a server that is up)."""
    try:
        with OPENER.open(url, timeout=timeout) as resp:
            return resp.status == 200
    except (OSError, ValueError):
        return False


def _call(url, method, what, payload=None, timeout=30):
    """One JSON control call (/_sim or /_fleet); the parsed answer."""
    data = None
    headers = {}
    if payload is not None:
        data = json.dumps(payload).encode('utf-8')
        headers['Content-Type'] = 'application/json'
    req = urllib.request.Request(url, data=data, method=method.upper(),
                                 headers=headers)
    try:
        with OPENER.open(req, timeout=timeout) as resp:
            return json.loads(resp.read().decode('utf-8'))
    except urllib.error.HTTPError as exc:
        body = exc.read().decode('utf-8', 'replace')
        exc.close()
        raise EmulatorError('%s answered %s: %s' % (what, exc.code, body),
                            exc.code, body)
    except urllib.error.URLError as exc:
        raise EmulatorError('%s: %s' % (what, exc.reason))


class _EmulatorChild(object):
    """What a single machine and a fleet share: a child process with a
    state directory (temporary unless given) and a log, started on free
    ports (again on other ports when one was taken meanwhile), stopped by
    SIGTERM."""

    #: seconds the child is given to stop before it is killed
    stop_seconds = 10

    def _init_child(self, state_dir):
        self._own_dir = state_dir is None
        self.state_dir = state_dir
        self.port = None
        self.proc = None
        self._log = None

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.port

    @property
    def log_path(self):
        return os.path.join(self.state_dir, 'emulator.log')

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def _state_prefix(self):
        raise NotImplementedError

    def _port_to_try(self, attempt):
        raise NotImplementedError

    def _spawn(self, port, deadline):
        raise NotImplementedError

    def start(self, timeout=20):
        if self.running:
            return self
        if self.state_dir is None:
            self.state_dir = tempfile.mkdtemp(prefix=self._state_prefix())
        elif not os.path.isdir(self.state_dir):
            os.makedirs(self.state_dir)
        deadline = time.time() + timeout
        last_error = None
        for attempt in range(3):
            try:
                self._spawn(self._port_to_try(attempt), deadline)
                return self
            except EmulatorError as exc:  # port taken meanwhile: try another
                last_error = exc
                self._terminate()
                if time.time() >= deadline:
                    break
        raise last_error

    def _popen(self, cmd):
        self._log = open(self.log_path, 'ab')
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=self._log,
                                     close_fds=True)

    def _terminate(self):
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(self.stop_seconds)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def stop(self, keep_state=False):
        """SIGTERM, wait, kill if needed; a temporary state dir is removed
        unless keep_state (or COFFEE_EMULATOR_KEEP_STATE is set: debugging,
        keep the database and the log)."""
        self._terminate()
        if os.environ.get('COFFEE_EMULATOR_KEEP_STATE'):
            keep_state = True
        if self._own_dir and not keep_state and self.state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)
            self.state_dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def __del__(self):
        try:
            if self.running:
                self.stop()
        except Exception:
            pass


class EmulatorProcess(_EmulatorChild):

    def __init__(self, protocol, data='demo', state_dir=None,
                 username='coffee', password='espresso', extra_args=()):
        self.protocol = str(protocol)
        self.data = data
        self.username = username
        self.password = password
        self.extra_args = list(extra_args)
        self._init_child(state_dir)

    def _state_prefix(self):
        return 'coffee-emulator-%s-' % self.protocol

    def _port_to_try(self, attempt):
        return self.port if (attempt == 0 and self.port) else free_port()

    def _spawn(self, port, deadline):
        self.port = port
        cmd = [LAUNCHER, '--protocol', self.protocol, '--host', '127.0.0.1',
               '--port', str(port), '--data', self.data,
               '--state', self.state_dir, '--username', self.username,
               '--password', self.password] + self.extra_args
        self._popen(cmd)
        while True:
            if self.proc.poll() is not None:
                raise EmulatorError('emulator exited with %s (see %s)'
                                    % (self.proc.returncode, self.log_path))
            try:
                health = self.sim('GET', 'health', timeout=2)
                if health.get('ok') and health.get('pid') == self.proc.pid:
                    return
            except (EmulatorError, OSError, ValueError):
                pass
            if time.time() >= deadline:
                raise EmulatorError('emulator not up after the timeout '
                                    '(see %s)' % self.log_path)
            time.sleep(0.05)

    def restart(self, timeout=20):
        """Stop and start again on the same state (and port if possible)."""
        self.stop(keep_state=True)
        return self.start(timeout)

    def sim(self, method, path, payload=None, timeout=30):
        """Call /_sim/<path>; return the parsed JSON answer."""
        return _call('%s/_sim/%s' % (self.url, path.lstrip('/')), method,
                     '/_sim/%s' % path, payload, timeout)


class FleetMachine(object):
    """One machine of a fleet, as its /_fleet/machines entry tells it:
    ``url``, ``version`` (also as ``protocol``), ``username``,
    ``password``, ``index``, ``name``, ``mode`` (when listed), and its own
    ``sim()`` like an EmulatorProcess."""

    def __init__(self, entry):
        self.entry = dict(entry)
        for key in ('index', 'name', 'version', 'url', 'username',
                    'password', 'mode'):
            setattr(self, key, entry[key])
        self.protocol = self.version

    def sim(self, method, path, payload=None, timeout=30):
        """Call /_sim/<path> of this machine; the parsed JSON answer."""
        return _call('%s/_sim/%s' % (self.url, path.lstrip('/')), method,
                     '%s /_sim/%s' % (self.name, path), payload, timeout)


class FleetProcess(_EmulatorChild):
    """``bin/emulator --fleet N`` in a subprocess, on free consecutive
    ports, with a temporary state directory unless one is given."""

    def __init__(self, n, seed=None, offline=0, flaky=0, slow=0,
                 slow_seconds=None, flaky_rate=None, trickle=0, schedule=0,
                 data=None, state_dir=None, extra_args=()):
        self.n = int(n)
        options = [('--seed', seed), ('--offline', offline or None),
                   ('--flaky', flaky or None), ('--slow', slow or None),
                   ('--slow-seconds', slow_seconds),
                   ('--flaky-rate', flaky_rate), ('--trickle', trickle or None),
                   ('--schedule', schedule or None), ('--data', data)]
        self.options = []
        for flag, value in options:
            if value is not None:
                self.options += [flag, str(value)]
        self.options += list(extra_args)
        self.manifest = None
        self._init_child(state_dir)

    @property
    def manifest_path(self):
        return os.path.join(self.state_dir, 'manifest.json')

    #: a fleet lets its machines' answers in progress end first
    stop_seconds = 20

    def start(self, timeout=60):
        """Start and wait for the manifest (every machine listening); the
        control port is ``url`` (/_fleet)."""
        return super(FleetProcess, self).start(timeout)

    def _state_prefix(self):
        return 'coffee-fleet-'

    def _port_to_try(self, attempt):
        return free_port_range(self.n + 1)

    def _spawn(self, port, deadline):
        self.port = port
        if os.path.exists(self.manifest_path):
            os.unlink(self.manifest_path)
        cmd = [LAUNCHER, '--fleet', str(self.n), '--host', '127.0.0.1',
               '--port', str(port), '--state', self.state_dir,
               '--manifest', self.manifest_path] + self.options
        self._popen(cmd)
        while not os.path.exists(self.manifest_path):
            if self.proc.poll() is not None:
                raise EmulatorError('fleet emulator exited with %s (see %s)'
                                    % (self.proc.returncode, self.log_path))
            if time.time() >= deadline:
                raise EmulatorError('fleet emulator not up after the timeout '
                                    '(see %s)' % self.log_path)
            time.sleep(0.05)
        with open(self.manifest_path) as f:
            self.manifest = json.load(f)

    def call(self, method, path, payload=None, timeout=60):
        """Call /_fleet/<path>; the parsed JSON answer."""
        return _call('%s/_fleet/%s' % (self.url, path.lstrip('/')), method,
                     '/_fleet/%s' % path, payload, timeout)

    def health(self):
        return self.call('GET', 'health')

    def machines(self):
        """Every machine with its current mode (FleetMachine objects)."""
        return [FleetMachine(e) for e in self.call('GET', 'machines')
                ['machines']]

    def machine(self, index):
        """Machine ``index`` as the manifest tells it (no request)."""
        return FleetMachine(self.manifest['machines'][index])

    def mode(self, indexes, mode):
        """Put these machines in that mode; their new entries."""
        return [FleetMachine(e) for e in self.call(
            'POST', 'mode', {'indexes': list(indexes), 'mode': mode})
            ['machines']]

    def delta(self, brews=5, consumers=1):
        """New brews and consumer changes on every machine not offline:
        {index: {"brews": [ids], "at": ISO UTC}} (int keys)."""
        answer = self.call('POST', 'delta', {'brews': brews,
                                             'consumers': consumers})
        return dict((int(k), v) for k, v in answer['machines'].items())
