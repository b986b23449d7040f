"""A real stack for benchmarks and drills: PostgreSQL database, emulators,
an Odoo server with prefork workers and the queue_job runner.

Standard library only; runs on any python3 >= 3.7 and never imports Odoo
(code that needs Odoo's ORM runs in a subprocess of the stack's Python,
see ``OdooServer.script``). Used by ``bin/bench`` (``--fleet`` too),
``bin/drill`` and ``bin/bench-emulator``; the one place of what they share:
the model table, the counting of records, the ports and HTTP (the latter
from ``emulator/harness.py``)::

    import harness                      # dev/ on sys.path, or importlib

    stack = harness.Stack()             # dev/lib.sh: the venv, PostgreSQL
    with harness.Emulator('2900', data='scale:1000') as emu, \\
            harness.OdooServer(stack, workers=4) as odoo:
        odoo.create_db()                # the addon, no demo data
        odoo.start()                    # its own free http port
        backend = odoo.create_backend('2900', emu.url)
        odoo.call('coffee.backend', 'import_all', [backend])
        odoo.wait_jobs(timeout=600)     # none pending/enqueued/started
        odoo.job_counts()               # {'done': 12, 'failed': 0, ...}
        odoo.worker_rss_mb()            # {pid: MB} of the worker processes
    # leaving the block stops Odoo, drops the database it created, stops
    # the emulator and removes its temporary state

API (everything else is private and may change):

``MODELS``, ``KINDS``, ``model_kinds(protocol)``, ``table_name(model)``
    The bindings an import writes, in the order it writes them; the
    machine's name of each one's records (``/_sim/snapshot?kind=``) per
    protocol; [(model, kind)] of a protocol; a model's SQL table.

``free_port()``, ``OPENER``, ``http_ok(url)``, ``FleetProcess``,
``log(message)``
    A free port of 127.0.0.1 (never one of ``RESERVED_PORTS``, a bin/up
    demo's); urllib without proxies; ``bin/emulator --fleet N`` on free
    ports; a timed line on stderr.

``protocol_module(name)``
    A plain Python module of the addon's ``protocol/`` (``signature``).

``meets(value, target)``, ``target_text(target)``, ``figure_table(columns,
rows, ...)``, ``print_report(lines, doc, json_path=None)``
    Whether a figure meets its target (``(op, bound)``: ``<=``, ``>=``,
    ``<``, ``==``) and the target as text; the lines of a table of
    figures, one row per figure; a report printed, its figures written as
    JSON.

``template_db(stack)`` -> (name, filestore directory)
    The addon installed without demo data, built once per clone, code and
    stack (``coffee_tmpl_<clone>_<code>``), kept for the next runs;
    ``createdb -T`` copies it in seconds where an install takes half a
    minute.

``Stack(verbose=False)``
    ``venv``, ``python`` (the stack's Python 3.7), ``root``,
    ``addons_path``; makes sure the venv exists (``ensure_stack``), the
    addon is linked (``ensure_addons_path``) and PostgreSQL answers
    (``ensure_postgres``; a cluster it starts is stopped by ``close()``).
    ``psql(sql, db='postgres')`` -> list of rows (lists of texts).

``Emulator(protocol, data='demo', state_dir=None, extra_args=(),
rate_limit=None)``
    The emulator's own ``EmulatorProcess`` (``emulator/harness.py``):
    ``start()``, ``stop()``, ``restart()``, ``url``, ``port``, ``pid``
    (``proc.pid``), ``sim(method, path, payload)`` (``/_sim``: faults,
    clock, snapshot...), ``log_path``. ``rate_limit`` sets the 2900's
    ``--rate-limit``. ``snapshot(kind, full=False)`` -> the ``/_sim``
    snapshot answer; ``record_counts()`` -> {model: live records on the
    machine}.

``OdooServer(stack, db=None, workers=4, channels='root:2,root.coffee:2',
cron_threads=0, extra_addons_paths=(), modules=('connector_coffee',),
log_level='warn', options=None, keep=False, nodes=1)``
    ``db`` defaults to a new ``coffee_harness_<time>_<pid>`` name.
    ``nodes`` > 1: that many Odoo servers on the database behind one nginx
    (``write_nginx_conf`` of dev/lib.sh, as ``bin/up --nodes``), each with
    ``workers`` workers; the job runner runs in the first only and sends
    the jobs through nginx; ``url``/``port`` are nginx's, ``pid`` the first
    node's. ``nodes`` may be changed between ``stop()`` and ``start()``.
    ``node_log_paths()`` -> each node's log file (the first is
    ``log_path``). ``runjob_nodes()`` -> [(job uuid, node name)] of every
    ``/queue_job/runjob`` request nginx passed on ('node1', 'node2'...;
    empty with one node, which has no nginx).
    ``create_db()`` (a copy of ``template_db``'s database, then the
    other ``modules`` installed, without demo data; refuses an existing
    database), ``start(timeout=120)`` (free port,
    ``workers`` prefork HTTP workers, the job runner), ``stop()``,
    ``drop_db()`` (only a database ``create_db`` created), ``close()``
    (stop + drop + remove the run directory unless ``keep``).
    ``url``, ``port``, ``pid`` (the main process), ``log_path``,
    ``conf_path``, ``run_dir``.
    ``call(model, method, args=(), kwargs=None)`` -> JSON-RPC
    ``execute_kw`` as admin; ``create_backend(version, location, **values)``
    -> id.
    ``job_counts(where=None)`` -> {state: count} of ``queue_job``
    (``where``: an SQL condition); ``wait_jobs(timeout=600, poll=0.1,
    where=None)`` -> seconds waited until no job is pending, enqueued or
    started (``TimeoutError`` otherwise).
    ``worker_pids()`` -> pids of the prefork workers (HTTP and cron
    children of the main process of every node; not the long-polling
    process);
    ``worker_rss_mb()`` -> {pid: RSS in MB}; ``RssSampler(odoo)`` samples
    them in a thread (``start()``, ``stop()`` -> peak MB of one worker,
    ``peak_total_mb``).
    ``sql(query)`` -> rows (psql on the database);
    ``bindings(model, backend_id, active_only=False)`` -> the machine ids
    bound (archived bindings too unless ``active_only``);
    ``bound_counts(backend_id)`` -> {model: bindings}.
    ``script(code, args=None, timeout=None)`` runs ``code`` in the stack's
    Python with ``env`` (superuser, this database), ``args`` (JSON) and
    ``result = ...``; commits; returns ``result`` (JSON).
"""
import glob
import hashlib
import importlib.util
import json
import operator
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import types
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
LIB_SH = os.path.join(ROOT, 'dev', 'lib.sh')
ODOO_BIN = os.path.join(ROOT, 'dev', 'odoo-bin')
MODULE = 'connector_coffee'
WAITING_STATES = ('pending', 'enqueued', 'started')
#: databases named so are templates (``template_db``), never dropped by
#: a run but replaced when the code changes
TEMPLATE_PREFIX = 'coffee_tmpl_'
#: directories of the clone that no install of the addon reads: its
#: tooling, tests and run state (a directory not named here counts)
_NOT_INSTALLED = ('.git', '.var', '.ci', 'bin', 'browser', 'dev', 'emulator',
                  'readme', 'setup', 'tests', '__pycache__', 'node_modules')
#: the bindings an import writes, in its order
MODELS = ('coffee.product.product', 'coffee.res.partner', 'coffee.brew')
#: the machine's name of the records of each of MODELS (/_sim/snapshot)
KINDS = {
    '1900': ('drinks', 'cards', 'log'),
    '2900': ('beverages', 'consumers', 'brews'),
}


def model_kinds(protocol):
    """[(model, the machine's kind of its records)] of ``protocol``."""
    return list(zip(MODELS, KINDS[str(protocol)]))


def table_name(model):
    return model.replace('.', '_')


def _load_emulator_harness():
    spec = importlib.util.spec_from_file_location(
        'coffee_emulator_harness_for_dev',
        os.path.join(ROOT, 'emulator', 'harness.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_emulator_harness = _load_emulator_harness()
EmulatorError = _emulator_harness.EmulatorError
free_port = _emulator_harness.free_port
RESERVED_PORTS = _emulator_harness.RESERVED_PORTS
OPENER = _emulator_harness.OPENER
http_ok = _emulator_harness.http_ok
#: ``bin/emulator --fleet N`` (emulator/harness.py)
FleetProcess = _emulator_harness.FleetProcess


def protocol_module(name):
    """A module of the addon's ``protocol/`` (``signature``, ``errors``:
    plain Python), without the package's ``__init__``, which loads the
    HTTP clients and ``requests``: the tools run on any python3."""
    package = sys.modules.get('coffee_protocol_for_dev')
    if package is None:
        package = types.ModuleType('coffee_protocol_for_dev')
        package.__path__ = [os.path.join(ROOT, 'protocol')]
        sys.modules[package.__name__] = package
    return importlib.import_module('%s.%s' % (package.__name__, name))


def _psql_binary():
    """The psql program itself: Debian's ``psql`` is a Perl wrapper whose
    start costs more CPU than the query, and the job waits run it often."""
    found = sorted(glob.glob('/usr/lib/postgresql/*/bin/psql'),
                   key=lambda path: [int(part) for part in re.findall(
                       r'\d+', path)])
    return found[-1] if found else 'psql'


_PSQL = _psql_binary()
# a /queue_job/runjob line of write_nginx_conf's access log (dev/lib.sh)
_RUNJOB_LINE = re.compile(
    r'"GET /queue_job/runjob\?[^" ]*job_uuid=(?P<uuid>[0-9a-f-]+)[^"]*" '
    r'\d+ \d+ upstream=(?P<upstream>[^\n]+)$')


def _bash(script, capture=True):
    """Run ``script`` in bash after sourcing dev/lib.sh."""
    done = subprocess.run(
        ['bash', '-c', 'set -euo pipefail; . "$1"; ' + script, 'harness',
         LIB_SH],
        stdout=subprocess.PIPE if capture else None,
        universal_newlines=True)
    if done.returncode:
        raise RuntimeError('dev/lib.sh failed (%s): %s'
                           % (done.returncode, script))
    return done.stdout


class Stack(object):
    """The pinned Odoo stack and a PostgreSQL server that answers."""

    def __init__(self, verbose=False):
        self.root = ROOT
        self.verbose = verbose
        out = _bash('ensure_stack >&2; ensure_addons_path; '
                    'echo "$VENV"; echo "$COFFEE_ADDONS"; odoo_addons_dir; '
                    'echo "$COFFEE_RUNNING_ENV"; keychain_key')
        (self.venv, self.coffee_addons, self.odoo_addons, self.running_env,
         self.keychain_key) = out.strip().splitlines()[-5:]
        self.python = os.path.join(self.venv, 'bin', 'python')
        self.addons_path = '%s,%s' % (self.coffee_addons, self.odoo_addons)
        self.pg_started = ''
        if subprocess.call(['pg_isready', '-q']) != 0:
            # started here: remember the cluster to stop it in close()
            out = _bash('ensure_postgres >&2; echo "${PG_STARTED:-}"')
            self.pg_started = out.strip()
        else:
            _bash('ensure_postgres >&2')

    def psql(self, sql, db='postgres'):
        done = subprocess.run(
            [_PSQL, '-X', '-q', '-d', db, '-v', 'ON_ERROR_STOP=1', '-tA',
             '-F', '\t', '-c', sql],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True)
        if done.returncode:
            raise RuntimeError('psql failed: %s\n%s' % (sql, done.stderr))
        return [line.split('\t') for line in done.stdout.splitlines()
                if line]

    def db_exists(self, db):
        return bool(self.psql(
            "select 1 from pg_database where datname = '%s'" % db))

    def close(self):
        if self.pg_started:
            _bash('PG_STARTED="%s"; stop_postgres' % self.pg_started)
            self.pg_started = ''


class Emulator(_emulator_harness.EmulatorProcess):
    """An emulator process on a free port, state in a temporary dir."""

    def __init__(self, protocol, data='demo', state_dir=None, extra_args=(),
                 rate_limit=None, **kwargs):
        extra_args = list(extra_args)
        if rate_limit and str(protocol) == '2900':
            extra_args += ['--rate-limit', str(rate_limit)]
        super(Emulator, self).__init__(protocol, data=data,
                                       state_dir=state_dir,
                                       extra_args=extra_args, **kwargs)

    def start(self, timeout=120):
        # scale data is seeded before the server answers
        return super(Emulator, self).start(timeout)

    @property
    def pid(self):
        return self.proc.pid if self.proc is not None else None

    def snapshot(self, kind, full=False):
        return self.sim('GET', 'snapshot?kind=%s%s'
                        % (kind, '&full=1' if full else ''), timeout=300)

    def record_counts(self):
        """{model: records of the machine} (live ones)."""
        return dict((model, len([r for r in self.snapshot(
            kind, full=True)['items'] if not r.get('deleted')]))
            for model, kind in model_kinds(self.protocol))


_SCRIPT_BOOT = r'''
import json, sys, time
import odoo
from odoo import api, SUPERUSER_ID
conf, db, code_path, args_path, result_path = sys.argv[1:6]
odoo.tools.config.parse_config(['-c', conf, '--workers=0',
                                '--max-cron-threads=0'])
with open(args_path) as f:
    args = json.load(f)
with open(code_path) as f:
    code = f.read()
registry = odoo.registry(db)
with api.Environment.manage(), registry.cursor() as cr:
    env = api.Environment(cr, SUPERUSER_ID, {})
    scope = {'env': env, 'args': args, 'result': None, 'time': time}
    exec(compile(code, '<harness script>', 'exec'), scope)
    cr.commit()
with open(result_path, 'w') as f:
    json.dump(scope['result'], f)
'''


class OdooError(Exception):
    pass


class OdooServer(object):
    """One Odoo server on one database, with the job runner."""

    def __init__(self, stack, db=None, workers=4,
                 channels='root:2,root.coffee:2', cron_threads=0,
                 extra_addons_paths=(), modules=(MODULE,), log_level='warn',
                 options=None, keep=False, nodes=1):
        if workers < 2:
            raise ValueError('the job runner needs workers >= 2')
        self.stack = stack
        self.db = db or 'coffee_harness_%s_%d' % (
            time.strftime('%Y%m%d%H%M%S'), os.getpid())
        self.workers = workers
        self.channels = channels
        self.cron_threads = cron_threads
        self.extra_addons_paths = [os.path.abspath(p)
                                   for p in extra_addons_paths]
        self.modules = list(modules)
        self.log_level = log_level
        self.options = dict(options or {})
        self.keep = keep
        self.run_dir = tempfile.mkdtemp(prefix='coffee-harness-')
        self.conf_path = os.path.join(self.run_dir, 'odoo.conf')
        self.log_path = os.path.join(self.run_dir, 'odoo.log')
        self.nodes = nodes
        self.port = None
        self.proc = None
        # with nodes > 1: every node's process and ports, and nginx
        self.procs = []
        self.node_ports = []
        self.nginx_proc = None
        self.nginx_dir = os.path.join(self.run_dir, 'nginx')
        self.db_created = False
        self._uid = None

    # -- configuration, database ------------------------------------------

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.port

    @property
    def pid(self):
        return self.proc.pid if self.proc is not None else None

    def _node_paths(self, node):
        """(configuration, log) of node ``node`` (from 1)."""
        if node == 1:
            return self.conf_path, self.log_path
        return (os.path.join(self.run_dir, 'odoo-node%d.conf' % node),
                os.path.join(self.run_dir, 'odoo-node%d.log' % node))

    def node_log_paths(self):
        """The log file of each node, the first node's first."""
        return [self._node_paths(node)[1]
                for node in range(1, self.nodes + 1)]

    def _write_conf(self, node=1, http_port=None, longpolling_port=None):
        """Node ``node``'s configuration. The job runner is the first
        node's (the others' root channel has no room: queue_job starts no
        runner there); it sends the jobs to ``self.port``, nginx's when
        there are several nodes."""
        conf_path, log_path = self._node_paths(node)
        if http_port is None:
            http_port = self.port or 0
        addons = ','.join(self.extra_addons_paths + [self.stack.addons_path])
        options = [
            ('addons_path', addons),
            ('data_dir', os.path.join(self.run_dir, 'data')),
            ('admin_passwd', 'admin'),
            ('db_host', 'False'), ('db_port', 'False'),
            ('db_user', 'False'), ('list_db', 'False'),
            ('db_name', self.db), ('dbfilter', '^%s$' % self.db),
            ('http_interface', '127.0.0.1'),
            ('http_port', str(http_port)),
            ('longpolling_port', str(longpolling_port or free_port())),
            ('workers', str(self.workers)),
            ('max_cron_threads', str(self.cron_threads)),
            ('limit_time_cpu', '900'), ('limit_time_real', '1800'),
            ('server_wide_modules', 'web,queue_job'),
            ('logfile', log_path), ('log_level', self.log_level),
            # the key of the machines' credentials (dev/lib.sh)
            ('running_env', self.stack.running_env),
            ('keychain_key_%s' % self.stack.running_env,
             self.stack.keychain_key),
        ]
        known = dict(options)
        known.update(self.options)
        lines = ['[options]'] + ['%s = %s' % (k, v) for k, v in
                                 sorted(known.items())]
        lines += ['', '[queue_job]',
                  'channels = %s' % (self.channels if node == 1 else 'root:0'),
                  'host = 127.0.0.1', 'port = %s' % (self.port or 0)]
        with open(conf_path, 'w') as f:
            f.write('\n'.join(lines) + '\n')

    def create_db(self, modules=None, timeout=900):
        """A copy of the template database of the addon (``createdb -T``,
        see ``template_db``), then the other modules installed into it,
        without demo data."""
        modules = list(modules or self.modules)
        if self.stack.db_exists(self.db):
            raise OdooError('database %s exists; refusing to touch it'
                            % self.db)
        self._write_conf()
        template, filestore = template_db(self.stack, timeout=timeout)
        subprocess.check_call(['createdb', '-T', template, self.db])
        self.db_created = True
        if os.path.isdir(filestore):
            shutil.copytree(filestore, os.path.join(
                self.run_dir, 'data', 'filestore', self.db))
        others = [m for m in modules if m != MODULE]
        if others:
            self._install(self.conf_path, self.db, others, timeout)

    def _install(self, conf, db, modules, timeout):
        done = subprocess.run(
            [self.stack.python, ODOO_BIN, '-c', conf, '-d', db,
             '-i', ','.join(modules), '--without-demo=all',
             '--stop-after-init', '--workers=0', '--max-cron-threads=0'],
            stdin=subprocess.DEVNULL, timeout=timeout)
        if done.returncode:
            raise OdooError('installing %s failed, see %s'
                            % (modules, self.log_path))

    def drop_db(self):
        """Drop the database, only when create_db() created it."""
        if self.db_created:
            subprocess.call(['dropdb', '--if-exists', self.db])
            self.db_created = False

    # -- server ---------------------------------------------------------------

    def start(self, timeout=120):
        if self.proc is not None and self.proc.poll() is None:
            return self
        deadline = time.time() + timeout
        self.port = free_port()
        if self.nodes == 1:
            self.node_ports = [self.port]
            self._write_conf()
        else:
            self.node_ports = [free_port() for __ in range(self.nodes)]
            longpolling = [free_port() for __ in range(self.nodes)]
            for node, (http, chat) in enumerate(
                    zip(self.node_ports, longpolling), 1):
                self._write_conf(node, http, chat)
        self.procs = []
        for node in range(1, self.nodes + 1):
            self.procs.append(subprocess.Popen(
                [self.stack.python, ODOO_BIN, '-c',
                 self._node_paths(node)[0]],
                stdin=subprocess.DEVNULL, start_new_session=True))
        self.proc = self.procs[0]
        for node, port in enumerate(self.node_ports, 1):
            self._wait_http(port, self.procs[node - 1],
                            self._node_paths(node)[1], deadline)
        if self.nodes > 1:
            self._start_nginx(list(zip(self.node_ports, longpolling)))
            self._wait_http(self.port, self.nginx_proc,
                            os.path.join(self.nginx_dir, 'error.log'),
                            deadline)
        self._uid = None
        return self

    @staticmethod
    def _wait_http(port, proc, log_path, deadline):
        url = 'http://127.0.0.1:%d/web/login' % port
        while True:
            if proc.poll() is not None:
                raise OdooError('%s exited with %s, see %s'
                                % (proc.args[0], proc.returncode, log_path))
            if _emulator_harness.http_ok(url):
                return
            if time.time() > deadline:
                raise OdooError('%s does not answer, see %s' % (url, log_path))
            time.sleep(0.3)

    def _start_nginx(self, nodes):
        """The nginx of dev/lib.sh's write_nginx_conf, in front of
        ``nodes`` [(http port, long-polling port)], on ``self.port``."""
        shutil.rmtree(self.nginx_dir, ignore_errors=True)
        _bash('ensure_nginx >&2; write_nginx_conf "%s" %d %s' % (
            self.nginx_dir, self.port,
            ' '.join('%d:%d' % node for node in nodes)))
        conf = os.path.join(self.nginx_dir, 'nginx.conf')
        error_log = os.path.join(self.nginx_dir, 'error.log')
        self.nginx_proc = subprocess.Popen(
            ['/usr/sbin/nginx', '-p', self.nginx_dir + '/', '-c', conf,
             '-e', error_log], stdin=subprocess.DEVNULL,
            start_new_session=True)

    def stop(self, timeout=60):
        nginx, self.nginx_proc = self.nginx_proc, None
        if nginx is not None and nginx.poll() is None:
            nginx.terminate()
            try:
                nginx.wait(timeout)
            except subprocess.TimeoutExpired:
                nginx.kill()
                nginx.wait(10)
        procs, self.procs, self.proc = self.procs, [], None
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
            # workers and the long-polling process are in its session:
            # kill what is left of them (by the group this process leads)
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass

    def runjob_nodes(self):
        """[(job uuid, node name)] of the /queue_job/runjob requests nginx
        passed on, from its access log (node1 is the first node)."""
        path = os.path.join(self.nginx_dir, 'access.log')
        if not os.path.exists(path):
            return []
        names = dict(('127.0.0.1:%d' % port, 'node%d' % node)
                     for node, port in enumerate(self.node_ports, 1))
        runs = []
        with open(path) as f:
            for line in f:
                found = _RUNJOB_LINE.search(line)
                if found:
                    # "a, b": nginx tried a, then b answered
                    upstream = found.group('upstream').split(',')[-1].strip()
                    runs.append((found.group('uuid'),
                                 names.get(upstream, upstream)))
        return runs

    def close(self):
        try:
            self.stop()
        finally:
            self.drop_db()
            if not self.keep:
                shutil.rmtree(self.run_dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # -- RPC ------------------------------------------------------------------

    def _jsonrpc(self, service, method, args, timeout=3600):
        body = json.dumps({'jsonrpc': '2.0', 'method': 'call', 'id': 1,
                           'params': {'service': service, 'method': method,
                                      'args': args}}).encode('utf-8')
        req = urllib.request.Request(
            self.url + '/jsonrpc', data=body,
            headers={'Content-Type': 'application/json'})
        with OPENER.open(req, timeout=timeout) as resp:
            answer = json.loads(resp.read().decode('utf-8'))
        if answer.get('error'):
            err = answer['error']
            data = err.get('data') or {}
            raise OdooError('%s: %s' % (data.get('name') or err.get('message'),
                                        data.get('message') or err))
        return answer.get('result')

    @property
    def uid(self):
        if self._uid is None:
            self._uid = self._jsonrpc('common', 'login',
                                      [self.db, 'admin', 'admin'])
            if not self._uid:
                raise OdooError('cannot log in as admin')
        return self._uid

    def call(self, model, method, args=(), kwargs=None, timeout=3600):
        """``execute_kw`` as admin; returns the method's result."""
        return self._jsonrpc('object', 'execute_kw', [
            self.db, self.uid, 'admin', model, method, list(args),
            kwargs or {}], timeout=timeout)

    def create_backend(self, version, location, **values):
        values.setdefault('name', 'Coffee %s %s' % (version, location))
        values.setdefault('username', 'coffee')
        values.setdefault('password', 'espresso')
        values.update(version=str(version), location=location)
        return self.call('coffee.backend', 'create', [values])

    # -- database, jobs ---------------------------------------------------

    def sql(self, query):
        return self.stack.psql(query, db=self.db)

    def bindings(self, model, backend_id, active_only=False):
        """The machine ids bound for ``backend_id``; ``active_only``:
        without the bindings archived because the machine deleted their
        record."""
        return [r[0] for r in self.sql(
            'select coffee_id from %s where backend_id = %d%s'
            % (table_name(model), backend_id,
               ' and active' if active_only else ''))]

    def bound_counts(self, backend_id):
        """{model: bindings of ``backend_id``} (archived ones too)."""
        return dict((model, int(self.sql(
            'select count(*) from %s where backend_id = %d'
            % (table_name(model), backend_id))[0][0])) for model in MODELS)

    def job_counts(self, where=None):
        rows = self.sql('select state, count(*) from queue_job%s '
                        'group by state' % (
                            ' where %s' % where if where else ''))
        return dict((state, int(count)) for state, count in rows)

    def wait_jobs(self, timeout=600, poll=0.1, where=None):
        """Wait until no job is pending, enqueued or started; returns the
        seconds waited."""
        started = time.time()
        cond = "state in ('pending', 'enqueued', 'started')"
        if where:
            cond = '%s and (%s)' % (cond, where)
        while True:
            if not self.sql('select 1 from queue_job where %s limit 1'
                            % cond):
                return time.time() - started
            if any(proc.poll() is not None for proc in self.procs):
                raise OdooError('Odoo stopped, see %s' % self.log_path)
            if time.time() - started > timeout:
                raise TimeoutError('jobs still waiting after %ss: %s'
                                   % (timeout, self.job_counts(where)))
            # a long wait is polled less often (at most 2 % of the time
            # waited late): each poll is a process of its own
            time.sleep(max(poll, min(1.0, (time.time() - started) / 50)))

    # -- processes --------------------------------------------------------

    def worker_pids(self):
        """The prefork workers: children of the main process of every
        node, without the long-polling (gevent) process."""
        mains = set(proc.pid for proc in self.procs)
        if not mains:
            return []
        pids = []
        for name in os.listdir('/proc'):
            if not name.isdigit():
                continue
            try:
                with open('/proc/%s/stat' % name) as f:
                    stat = f.read()
                ppid = int(stat[stat.rindex(')') + 2:].split()[1])
                if ppid not in mains:
                    continue
                with open('/proc/%s/cmdline' % name, 'rb') as f:
                    cmdline = f.read().split(b'\0')
            except (OSError, ValueError):
                continue
            if b'gevent' in cmdline:
                continue
            pids.append(int(name))
        return sorted(pids)

    @staticmethod
    def rss_mb(pid):
        try:
            with open('/proc/%d/status' % pid) as f:
                for line in f:
                    if line.startswith('VmRSS:'):
                        return int(line.split()[1]) / 1024.0
        except OSError:
            pass
        return None

    def worker_rss_mb(self):
        result = {}
        for pid in self.worker_pids():
            rss = self.rss_mb(pid)
            if rss is not None:
                result[pid] = rss
        return result

    # -- code in Odoo -----------------------------------------------------

    def script(self, code, args=None, timeout=None):
        """Run ``code`` in the stack's Python against this database.

        The code sees ``env`` (superuser), ``args`` and ``time``, and sets
        ``result`` (JSON-serializable); the transaction is committed.
        """
        if not os.path.exists(self.conf_path):
            self._write_conf()
        work = tempfile.mkdtemp(prefix='script-', dir=self.run_dir)
        paths = [os.path.join(work, n)
                 for n in ('harness_boot.py', 'harness_code.txt', 'args.json',
                           'result.json')]
        for path, content in zip(paths, (_SCRIPT_BOOT, code,
                                         json.dumps(args))):
            with open(path, 'w') as f:
                f.write(content)
        try:
            done = subprocess.run(
                [self.stack.python, paths[0], self.conf_path, self.db,
                 paths[1], paths[2], paths[3]],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, universal_newlines=True,
                timeout=timeout)
            if done.returncode:
                raise OdooError('script failed:\n%s' % done.stdout[-4000:])
            with open(paths[3]) as f:
                return json.load(f)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _code_digest(top):
    """What an install of the addon depends on: the names and contents of
    its files, but those of ``_NOT_INSTALLED``."""
    digest = hashlib.sha1()
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(
            d for d in dirnames if d not in _NOT_INSTALLED
            and (dirpath != top or not d.startswith('.')))
        for name in sorted(filenames):
            if name.endswith(('.pyc', '.pyo')):
                continue
            path = os.path.join(dirpath, name)
            digest.update(os.path.relpath(path, top).encode('utf-8') + b'\0')
            try:
                with open(path, 'rb') as f:
                    digest.update(f.read())
            except OSError:
                digest.update(b'unreadable')
    return digest.hexdigest()


def template_prefix():
    """The start of the names of this clone's template databases."""
    return '%s%s_' % (TEMPLATE_PREFIX,
                      hashlib.sha1(ROOT.encode('utf-8')).hexdigest()[:8])


def template_db(stack, timeout=900):
    """The database of the addon installed without demo data, for this
    clone, its code and its stack: built once (an install), then copied
    by each ``create_db`` (seconds). Returns its name and the directory of
    its filestore.

    Built under a name of its own and renamed when complete, so that a
    database of that name is always a finished install; the templates of
    older code of this clone are dropped then.
    """
    code = hashlib.sha1((stack.venv + '\0' + _code_digest(ROOT)).encode(
        'utf-8')).hexdigest()[:16]
    prefix = template_prefix()
    name = prefix + code
    state = os.path.join(os.environ.get('COFFEE_VAR') or os.path.join(
        ROOT, '.var'), 'db-templates')
    filestore = os.path.join(state, name)
    if stack.db_exists(name):
        return name, filestore
    build = '%s_b%d' % (name, os.getpid())
    log('building the template database %s (%s without demo data)'
        % (name, MODULE))
    run_dir = tempfile.mkdtemp(prefix='coffee-template-')
    try:
        conf = os.path.join(run_dir, 'odoo.conf')
        with open(conf, 'w') as f:
            f.write('\n'.join([
                '[options]', 'addons_path = %s' % stack.addons_path,
                'data_dir = %s' % os.path.join(run_dir, 'data'),
                'db_host = False', 'db_port = False', 'db_user = False',
                'list_db = False', 'server_wide_modules = web,queue_job',
                'logfile = %s' % os.path.join(run_dir, 'odoo.log'),
                'log_level = warn', 'running_env = %s' % stack.running_env,
                'keychain_key_%s = %s' % (stack.running_env,
                                          stack.keychain_key)]) + '\n')
        if stack.db_exists(build):
            subprocess.check_call(['dropdb', build])
        subprocess.check_call(['createdb', build])
        done = subprocess.run(
            [stack.python, ODOO_BIN, '-c', conf, '-d', build, '-i', MODULE,
             '--without-demo=all', '--stop-after-init', '--workers=0',
             '--max-cron-threads=0'],
            stdin=subprocess.DEVNULL, timeout=timeout)
        if done.returncode:
            with open(os.path.join(run_dir, 'odoo.log')) as f:
                sys.stderr.write(f.read()[-4000:])
            subprocess.call(['dropdb', '--if-exists', build])
            raise OdooError('installing %s into %s failed' % (MODULE, build))
        built = os.path.join(run_dir, 'data', 'filestore', build)
        if os.path.isdir(built) and not os.path.isdir(filestore):
            os.makedirs(state, exist_ok=True)
            shutil.move(built, filestore)
        try:
            stack.psql('alter database "%s" rename to "%s"' % (build, name))
        except RuntimeError:
            # built meanwhile by another run: that one is as good
            subprocess.call(['dropdb', '--if-exists', build])
            if not stack.db_exists(name):
                raise
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    for (old,) in stack.psql(
            "select datname from pg_database where datname like '%s%%' "
            "and datname <> '%s' and datname !~ '_b[0-9]+$'"
            % (prefix.replace('_', '\\_'), name)):
        if subprocess.call(['dropdb', '--if-exists', old]) == 0:
            shutil.rmtree(os.path.join(state, old), ignore_errors=True)
    return name, filestore


class RssSampler(object):
    """Samples the RSS of an OdooServer's workers in a thread."""

    def __init__(self, odoo, interval=0.2):
        self.odoo = odoo
        self.interval = interval
        self.peak_mb = 0.0
        self.peak_total_mb = 0.0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = None

    def _run(self):
        while not self._stop.is_set():
            rss = self.odoo.worker_rss_mb()
            if rss:
                self.peak_mb = max(self.peak_mb, max(rss.values()))
                self.peak_total_mb = max(self.peak_total_mb,
                                         sum(rss.values()))
                self.samples += 1
            self._stop.wait(self.interval)

    def start(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return self.peak_mb


_OPERATORS = {'<=': operator.le, '>=': operator.ge, '<': operator.lt,
              '==': operator.eq}


def meets(value, target):
    """Whether ``value`` meets ``target``, an (operator, bound) pair."""
    op, bound = target
    return _OPERATORS[op](value, bound)


def figure_table(columns, rows, figure_width=27, cell='%12s'):
    """The lines of a table of figures: a head (``figure``, ``columns``,
    ``target``), a rule, then one line per row of ``rows``: (figure, cell
    texts, target text, verdict text)."""
    head = '%-*s%s   target' % (figure_width, 'figure', ''.join(
        cell % column for column in columns))
    lines = [head, '-' * len(head)]
    for figure, cells, target, verdict in rows:
        lines.append(('%-*s%s   %s%s' % (
            figure_width, figure, ''.join(cell % text for text in cells),
            target, verdict)).rstrip())
    return lines


def target_text(target):
    """``('<=', 1.4)`` -> ``'<= 1.4'``."""
    return '%s %s' % target


def print_report(lines, doc, json_path=None):
    """Print the lines of a report; write ``doc`` as JSON to ``json_path``
    when one is given."""
    print('\n'.join(lines))
    if json_path:
        with open(json_path, 'w') as f:
            json.dump(doc, f, indent=2, sort_keys=True)
        print('JSON: %s' % json_path)


def log(message):
    sys.stderr.write('%s %s\n' % (time.strftime('%H:%M:%S'), message))
    sys.stderr.flush()
