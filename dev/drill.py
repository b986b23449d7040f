"""bin/drill: reliability drill of the connector, one run.

Real parts only: a PostgreSQL database with the addon, Odoo with prefork
workers, the job runner and a cron worker (the requeue of dead jobs runs as
its cron, every minute; ``--quick`` runs that cron by hand as soon as the
killed worker's jobs may be judged, where the full drill waits for the
cron worker), emulator processes on free ports, and the drill
talking to them over HTTP (JSON-RPC, webhook deliveries, ``/_sim``).

Sections (each prints a table row; ``--json PATH`` writes every figure).
The two ``faults`` imports run at the same time, and the other sections
run while they do (one Odoo, channel ``root.coffee:2``): a busy server;
the two ``bad_input`` imports run at the same time too.

``faults``
    Per protocol: a full import of ``scale:N`` while the emulator fails
    20 % of the API requests (500/503/429/hangs, seeded) and one Odoo
    worker is killed with SIGKILL while it runs an import job of that
    backend. The drill then acts as the scheduler would: when no job of the
    backend is left waiting and the bindings differ from the machine, it
    calls ``import_all`` again. ``lost`` / ``extra`` (machine ids without a
    binding / bindings without a machine record), ``duplicates``,
    ``stuck_jobs`` (jobs nobody will run: started by a worker that is
    gone, or enqueued for over a minute), the seconds to converge, the
    rounds of ``import_all`` needed, ``clean_s`` (the same import of the
    same data without faults nor kill, after it) and ``fault_cost``
    (``converge_s`` over ``clean_s``); the JSON adds the jobs still in
    flight at the end and what became of the killed worker's jobs.
``concurrency``
    A 2900 with a registered webhook: two ``import_all`` at the same
    instant, then a second press while their chains run, while signed
    events for the same records are delivered and the machine changes
    records (its own webhook deliveries). Duplicates, jobs failed on a
    deadlock or a serialization failure, lost records; ``chains_started``
    (3: one per object) and ``second_press_queued`` (0).
``webhooks``
    Deliveries to the controller: new events, 10 % re-deliveries, 5 %
    forged signatures, 5 % replays signed outside the 300 s window.
    ``forged_accepted``, ``stale_accepted``, ``imported_twice``, p95 ms.
``bad_input``
    Per protocol: an import while the emulator serves a fraction of
    malformed records. Every damaged record must be explained by a
    checkpoint or a failed job naming it (``unexplained``), and none may
    be written wrong or in part (``half_written``).
``hostile``
    After the others: backends of both protocols on hostile machines
    (emulator/hostile.py: redirects to a listener that keeps what reaches
    it, 50 MiB bodies, a 1 byte/s trickle, ``Retry-After`` of ``inf``,
    ``1e12``, ``-5`` and ``soon``, HTML 502 pages, JSON labelled
    ``text/html``), Test Connection and imports on each, and oversized or
    slow webhook deliveries to Odoo's own port, while a healthy machine is
    imported again and again. ``credentials_leaked`` (requests with the
    password that reached the listener), ``stuck_jobs``,
    ``worker_peak_rss_mb``, ``channel_blocked_s`` (the longest time coffee
    jobs were ready and none could start), ``healthy_wait_max_s`` (the
    longest a job of the healthy machine waited), ``unexplained`` (hostile
    backends whose failed or postponed jobs or Test Connection do not say
    what the machine did), ``oversized_accepted``, ``odoo_answering``.

Standard library only (python3 >= 3.7), via dev/harness.py.
"""
import argparse
import collections
import json
import os
import random
import re
import signal
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  pylint: disable=wrong-import-position

log = harness.log
_OPENER = harness.OPENER
signature = harness.protocol_module('signature')
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load(name, path):
    """A module of the addon that needs no Odoo, by its file."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, os.path.join(
        ROOT, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _addon_constant(path, name):
    """An integer constant of an addon file that imports Odoo."""
    with open(os.path.join(ROOT, path)) as f:
        return int(re.search(r'^%s = (\d+)$' % name, f.read(),
                             re.M).group(1))


hostile = _load('coffee_hostile_for_drill', 'emulator/hostile.py')
REQUEUE_GRACE_SECONDS = _addon_constant('models/queue_job/requeue.py',
                                        'REQUEUE_GRACE_SECONDS')
REQUEUE_CRON = 'connector_coffee.ir_cron_queue_job_requeue_dead'

FULL = {'faults_n': 20000, 'concurrency_n': 5000, 'webhooks_n': 1000,
        'bad_n': 3000, 'bad_rate': 0.1, 'timeout': 900,
        'concurrency_events': 200, 'activity_s': 20,
        'hostile_modes': hostile.MODES, 'hostile_versions': {},
        'hostile_s': 90,
        'hostile_deliveries': 200, 'hostile_slow': 20,
        'run_requeue_cron': False}
QUICK = {'faults_n': 300, 'concurrency_n': 200, 'webhooks_n': 100,
         'bad_n': 150, 'bad_rate': 0.2, 'timeout': 400,
         'concurrency_events': 30, 'activity_s': 8,
         # one mode per kind of lie (where it points, how slowly, what it
         # is): --quick proves the section runs, the full run measures
         'hostile_modes': ('redirect', 'trickle', 'json_as_html'),
         # and each on one version but the redirect, where the
         # credentials of both could leak: a trickle of each version
         # would fill the channel with its retries
         'hostile_versions': {'redirect': ('1900', '2900'),
                              'trickle': ('1900',),
                              'json_as_html': ('2900',)},
         'hostile_s': 8, 'hostile_deliveries': 10, 'hostile_slow': 2,
         'run_requeue_cron': True}
# what a message must say for each hostile mode: the machine's deed
HOSTILE_SAYS = {
    'redirect': r'HTTP 307, a redirect to',
    'huge': r'larger than \d+ MiB',
    'huge_chunked': r'larger than \d+ MiB',
    'trickle': r'did not answer within',
    'trickle_body': r'did not answer within',
    'retry_after': r'request rate limit.*HTTP 429',
    'html_502': r'HTTP 502.*text/html.*502 Bad Gateway',
    'json_as_html': r'not JSON .*text/html',
}
PASSWORD = 'espresso'

WAITING = "state in ('pending', 'enqueued', 'started')"
SEED = 8


def one_line(column):
    """SQL: a text column on one line (psql's rows are lines)."""
    return "translate(coalesce(%s, ''), E'\\n\\r\\t', '   ')" % column


def q(text):
    """An SQL string literal."""
    return "'%s'" % str(text).replace("'", "''")


class Drill(object):

    def __init__(self, odoo, quick):
        self.odoo = odoo
        self.quick = quick
        self.sizes = QUICK if quick else FULL
        self.results = collections.OrderedDict()

    # -- helpers -----------------------------------------------------------

    def backend(self, name, version, emu, **values):
        values.setdefault('timeout', 5)
        values.setdefault('full_import_interval', 0)
        return self.odoo.create_backend(version, emu.url, name=name,
                                        **values)

    def jobs_of(self, name):
        """SQL condition: the jobs of backend ``name`` (by description)."""
        return "name like %s" % q('%% %s%%' % name)

    def job_counts(self, name):
        return self.odoo.job_counts(self.jobs_of(name))

    def first_pages(self, name):
        """The first pages of import chains queued for backend ``name``."""
        return int(self.odoo.sql(
            "select count(*) from queue_job where method_name = "
            "'import_batch' and name not like '%%(continued)' and %s"
            % self.jobs_of(name))[0][0])

    def waiting(self, name):
        return bool(self.odoo.sql('select 1 from queue_job where %s and %s '
                                  'limit 1' % (WAITING, self.jobs_of(name))))

    def bindings(self, model, backend_id, active_only=False):
        return self.odoo.bindings(model, backend_id, active_only)

    def compare(self, version, emu, backend_id, exclude=None):
        """{kind: (lost, extra, duplicates)} against the machine's ids."""
        exclude = exclude or {}
        out = collections.OrderedDict()
        for model, kind in harness.model_kinds(version):
            machine = set(str(i) for i in emu.snapshot(kind)['ids'])
            machine -= set(str(i) for i in exclude.get(kind, ()))
            bound = self.bindings(model, backend_id, active_only=True)
            dup = len(bound) - len(set(bound))
            out[kind] = (len(machine - set(bound)),
                         len(set(bound) - machine), dup)
        return out

    def duplicates(self, version, backend_id, since):
        """Bindings of one machine id twice, Odoo records bound twice, and
        partners/products created since ``since`` that no binding holds."""
        total = 0
        for model, __ in harness.model_kinds(version):
            table = harness.table_name(model)
            rows = self.odoo.sql(
                'select count(*) - count(distinct coffee_id) from %s '
                'where backend_id = %d' % (table, backend_id))
            total += int(rows[0][0])
            if model != 'coffee.brew':
                rows = self.odoo.sql(
                    'select count(odoo_id) - count(distinct odoo_id) from %s'
                    ' where backend_id = %d' % (table, backend_id))
                total += int(rows[0][0])
        for table, binding in (('res_partner', 'coffee_res_partner'),
                               ('product_product', 'coffee_product_product')):
            rows = self.odoo.sql(
                "select count(*) from %s r where r.create_date >= %s "
                "and not exists (select 1 from %s b where b.odoo_id = r.id)"
                % (table, q(since), binding))
            total += int(rows[0][0])
        return total

    def db_now(self):
        return self.odoo.sql(
            "select to_char(now() at time zone 'UTC', "
            "'YYYY-MM-DD HH24:MI:SS')")[0][0]

    def import_all(self, backend_id):
        self.odoo.call('coffee.backend', 'import_all', [[backend_id]])

    def converge(self, version, emu, backend_id, name, timeout, started,
                 exclude=None, on_idle=None):
        """Wait for the jobs; call import_all again (the scheduler's part)
        while the bindings differ. Returns (seconds, rounds, diff)."""
        rounds = 1
        deadline = started + timeout
        while True:
            if not self.waiting(name):
                if on_idle:
                    on_idle()
                diff = self.compare(version, emu, backend_id, exclude)
                if not any(lost or extra or dup
                           for lost, extra, dup in diff.values()):
                    return time.time() - started, rounds, diff
                if time.time() > deadline:
                    return None, rounds, diff
                log('  %s: no job left, differences %s: import_all again'
                    % (name, dict(diff)))
                rounds += 1
                self.import_all(backend_id)
            elif time.time() > deadline:
                return None, rounds, self.compare(version, emu, backend_id,
                                                  exclude)
            time.sleep(0.5)

    # -- killing a worker in the middle of a job ---------------------------

    def _sockets_to(self, pid, port):
        """Does process ``pid`` hold a TCP connection to ``port``?"""
        try:
            inodes = set()
            for fd in os.listdir('/proc/%d/fd' % pid):
                try:
                    target = os.readlink('/proc/%d/fd/%s' % (pid, fd))
                except OSError:
                    continue
                if target.startswith('socket:['):
                    inodes.add(target[8:-1])
        except OSError:
            return False
        for table in ('/proc/net/tcp', '/proc/net/tcp6'):
            try:
                with open(table) as f:
                    next(f)
                    for line in f:
                        parts = line.split()
                        remote_port = int(parts[2].rsplit(':', 1)[1], 16)
                        # 01: established
                        if remote_port == port and parts[3] == '01' \
                                and parts[9] in inodes:
                            return True
            except OSError:
                continue
        return False

    def kill_worker_in_job(self, name, emu, timeout=300):
        """SIGKILL the worker that is talking to ``emu`` for a started job
        of backend ``name``; returns the worker's pid and the jobs it held
        (uuid, description)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            started = self.odoo.sql(
                "select uuid, name from queue_job where state = 'started' "
                "and %s" % self.jobs_of(name))
            if started:
                for pid in self.odoo.worker_pids():
                    if self._sockets_to(pid, emu.port):
                        os.kill(pid, signal.SIGKILL)
                        return pid, started
            time.sleep(0.05)
        return None, []

    def watch_requeue(self, uuids, since):
        """In a thread: when the killed jobs leave ``started`` (the
        cron requeued them), and to which state."""
        out = {'seconds': None, 'states': {}}

        def run():
            deadline = time.time() + 600
            while uuids and time.time() < deadline:
                rows = self.odoo.sql(
                    'select uuid, state from queue_job where uuid in (%s)'
                    % ','.join(q(u) for u in uuids))
                if all(state != 'started' for __, state in rows):
                    out['seconds'] = round(time.time() - since, 1)
                    out['states'] = dict(rows)
                    return
                time.sleep(0.5)

        out['thread'] = threading.Thread(target=run, daemon=True)
        out['thread'].start()
        return out

    def run_requeue_cron(self, killed_at):
        """In a thread: once the killed worker's jobs are of age, run the
        requeue cron now, as its Run Manually button does (--quick: the
        cron worker wakes once a minute, a wait that proves nothing more).
        """
        def run():
            time.sleep(max(0.0, killed_at + REQUEUE_GRACE_SECONDS + 0.5
                           - time.time()))
            cron_id = self.odoo.call('ir.model.data', 'xmlid_to_res_id',
                                     [REQUEUE_CRON], {'raise_if_not_found':
                                                      True})
            self.odoo.call('ir.cron', 'method_direct_trigger', [[cron_id]])

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    def failed_sample(self, name, limit=5):
        """Failed jobs of backend ``name``: description and last line."""
        rows = self.odoo.sql(
            "select name, right(%s, 240) from queue_job where "
            "state = 'failed' and %s order by id limit %d"
            % (one_line('exc_info'), self.jobs_of(name), limit))
        return ['%s: %s' % (n, exc.strip()) for n, exc in rows]

    def stuck_jobs(self, where):
        """Jobs nobody will run: started ones whose run lock is free (their
        worker is gone; the lock is probed as the requeue cron probes it)
        or that have no lock, and jobs enqueued for over a minute."""
        old = ("j.date_started < (now() at time zone 'UTC') - interval "
               "'%d seconds'" % REQUEUE_GRACE_SECONDS)
        free = self.odoo.sql(
            "select count(*) from (select l.id from queue_job_run_lock l "
            "join queue_job j on j.id = l.job_id where j.state = 'started' "
            "and %s and %s for update of l skip locked) s" % (old, where))
        unlocked = self.odoo.sql(
            "select count(*) from queue_job j where j.state = 'started' and "
            "%s and %s and not exists (select 1 from queue_job_run_lock l "
            "where l.job_id = j.id)" % (old, where))
        enqueued = self.odoo.sql(
            "select count(*) from queue_job j where j.state = 'enqueued' "
            "and j.date_enqueued < (now() at time zone 'UTC') - interval "
            "'60 seconds' and %s" % where)
        return sum(int(rows[0][0]) for rows in (free, unlocked, enqueued))

    # -- faults --------------------------------------------------------------

    def faults(self, version):
        n = self.sizes['faults_n']
        name = 'drill-faults-%s' % version
        log('faults %s: scale:%d, 20 %% of requests fail' % (version, n))
        with harness.Emulator(version, data='scale:%d' % n) as emu:
            backend_id = self.backend(name, version, emu)
            self.odoo.call('coffee.backend', 'action_test_connection',
                           [[backend_id]])
            emu.sim('POST', 'faults', {
                'rate': 0.2, 'kinds': ['500', '503', '429', 'hang'],
                'seed': SEED, 'hang_seconds': 7})
            since = self.db_now()
            started = time.time()
            self.import_all(backend_id)
            pid, killed_jobs = self.kill_worker_in_job(name, emu)
            killed_at = time.time()
            log('  killed worker %s during %s' % (
                pid, [j[1] for j in killed_jobs]))
            requeue = self.watch_requeue([j[0] for j in killed_jobs],
                                         killed_at)
            if self.sizes['run_requeue_cron']:
                self.run_requeue_cron(killed_at)
            seconds, rounds, diff = self.converge(
                version, emu, backend_id, name,
                timeout=self.sizes['timeout'], started=started)
            requeue['thread'].join(5)
            counters = emu.sim('GET', 'counters')
            emu.sim('POST', 'faults', {'rate': 0})
            stuck = self.stuck_jobs(self.jobs_of(name))
            in_flight = self.odoo.sql(
                'select count(*) from queue_job where %s and %s'
                % (WAITING, self.jobs_of(name)))[0][0]
            counts = self.job_counts(name)
            retries = self.odoo.sql(
                'select coalesce(sum(retry), 0) from queue_job where %s'
                % self.jobs_of(name))[0][0]
            requests = sum(sum(v.values()) for v in
                           counters['requests'].values())
            res = collections.OrderedDict([
                ('records', sum(len(emu.snapshot(k)['ids'])
                                for __, k in harness.model_kinds(version))),
                ('lost', sum(d[0] for d in diff.values())),
                ('extra', sum(d[1] for d in diff.values())),
                ('duplicates', self.duplicates(version, backend_id, since)),
                ('stuck_jobs', int(stuck)),
                ('jobs_in_flight_at_end', int(in_flight)),
                ('converge_s', round(seconds, 1) if seconds else None),
                ('import_all_rounds', rounds),
                ('killed_worker', pid),
                ('killed_jobs', len(killed_jobs)),
                ('requeued_jobs', len(requeue['states'])),
                ('requeue_s', requeue['seconds']),
                ('requeue_run_by', 'hand' if self.sizes['run_requeue_cron']
                 else 'cron worker'),
                ('killed_jobs_after', requeue['states']),
                ('failed_jobs_sample', self.failed_sample(name)),
                ('jobs', counts),
                ('job_retries', int(retries)),
                ('api_requests', requests),
                ('faults_injected', counters.get('faults', {})),
            ])
            self.odoo.call('coffee.backend', 'write',
                           [[backend_id], {'active': False}])
        res['clean_s'] = self.clean_import(version)
        res['fault_cost'] = (round(res['converge_s'] / res['clean_s'], 2)
                             if res['converge_s'] and res['clean_s']
                             else None)
        return res

    def clean_import(self, version):
        """The seconds of the same import (same data, same Odoo) without
        faults nor a killed worker: what ``converge_s`` is compared to."""
        n = self.sizes['faults_n']
        name = 'drill-clean-%s' % version
        log('faults %s: the same import without faults' % version)
        with harness.Emulator(version, data='scale:%d' % n) as emu:
            backend_id = self.backend(name, version, emu)
            self.odoo.call('coffee.backend', 'action_test_connection',
                           [[backend_id]])
            started = time.time()
            self.import_all(backend_id)
            seconds, __, __ = self.converge(
                version, emu, backend_id, name,
                timeout=self.sizes['timeout'], started=started)
            self.odoo.call('coffee.backend', 'write',
                           [[backend_id], {'active': False}])
        return round(seconds, 1) if seconds else None

    # -- webhooks ------------------------------------------------------------

    def register_webhook(self, backend_id):
        self.odoo.call('ir.config_parameter', 'set_param',
                       ['web.base.url', self.odoo.url])
        self.odoo.call('coffee.backend', 'register_webhook', [[backend_id]])
        # nobody reads the secret over RPC (it is encrypted): the machine's
        # side of the drill takes it as the connector does
        return self.odoo.script(
            "result = env['coffee.backend'].browse(args['id'])"
            "._coffee_secret('webhook_secret')", {'id': backend_id})

    def post(self, backend_id, body, header):
        """POST one delivery; (status, JSON answer or None, ms)."""
        req = urllib.request.Request(
            '%s/connector_coffee/webhook/%d' % (self.odoo.url, backend_id),
            data=body, method='POST', headers={
                'Content-Type': 'application/json',
                'X-Coffee-Event': json.loads(body.decode())['type'],
                signature.SIGNATURE_HEADER: header})
        begin = time.time()
        try:
            with _OPENER.open(req, timeout=60) as resp:
                status, answer = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, answer = exc.code, exc.read()
            exc.close()
        ms = (time.time() - begin) * 1000
        try:
            answer = json.loads(answer.decode('utf-8'))
        except ValueError:
            answer = None
        return status, answer, ms

    def deliver(self, backend_id, body, secret, t):
        return self.post(backend_id, body,
                         signature.signature_header(secret, t, body))

    @staticmethod
    def event(event_id, event_type, object_id):
        return json.dumps({
            'id': event_id, 'type': event_type,
            'created_at': time.strftime('%Y-%m-%dT%H:%M:%S.000000Z',
                                        time.gmtime()),
            'data': {'object_id': object_id}},
            separators=(',', ':')).encode('utf-8')

    def webhook_plan(self, emu, secret, n):
        """The deliveries: (kind, event id, body sent, body signed, key,
        seconds added to the signature time), in sending order."""
        rnd = random.Random(SEED)
        brews = emu.snapshot('brews')['ids']
        consumers = emu.snapshot('consumers')['ids']
        n_dup, n_forged, n_stale = n // 10, n // 20, n // 20
        plan = []
        for i in range(n - n_dup - n_forged - n_stale):
            event_id = 'evt_drill_new_%05d' % i
            if rnd.random() < 0.8:
                body = self.event(event_id, 'brew.completed',
                                  rnd.choice(brews))
            else:
                body = self.event(event_id, 'consumer.updated',
                                  rnd.choice(consumers))
            plan.append(('new', event_id, body, body, secret, 0))
        news = list(plan)
        # a re-delivery comes after the first delivery of its event
        for __ in range(n_dup):
            pos = rnd.randrange(len(plan) // 2, len(plan) + 1)
            first = rnd.choice(news[:max(1, pos // 2)])
            plan.insert(pos, ('duplicate',) + first[1:])
        for i in range(n_forged):
            event_id = 'evt_drill_forged_%05d' % i
            body = self.event(event_id, 'brew.completed', rnd.choice(brews))
            signed, key = body, secret
            if i % 3 == 0:      # another secret
                key = 'whsec_forged_%d' % i
            elif i % 3 == 1:    # the secret, one character short
                key = secret[:-1]
            else:               # the secret's signature of another body
                body = body.replace(b'brew.completed', b'consumer.updated')
            plan.insert(rnd.randrange(len(plan) + 1),
                        ('forged', event_id, body, signed, key, 0))
        for i in range(n_stale):
            event_id = 'evt_drill_stale_%05d' % i
            body = self.event(event_id, 'brew.completed', rnd.choice(brews))
            age = -rnd.randint(301, 7200)
            plan.insert(rnd.randrange(len(plan) + 1),
                        ('stale', event_id, body, body, secret, age))
        return plan

    def webhooks(self, emu, backend_id, secret, name):
        n = self.sizes['webhooks_n']
        log('webhooks: %d deliveries' % n)
        plan = self.webhook_plan(emu, secret, n)
        answers = [None] * len(plan)
        queue = collections.deque(enumerate(plan))

        def sender():
            while True:
                try:
                    i, (__, __, body, signed, key, age) = queue.popleft()
                except IndexError:
                    return
                header = signature.signature_header(
                    key, int(time.time()) + age, signed)
                answers[i] = self.post(backend_id, body, header)

        threads = [threading.Thread(target=sender) for __ in range(4)]
        begin = time.time()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        send_s = time.time() - begin
        self.odoo.wait_jobs(timeout=900, where=self.jobs_of(name))
        accepted = collections.Counter()
        queued = collections.Counter()
        statuses = collections.Counter()
        for item, (status, answer, __) in zip(plan, answers):
            statuses['%s %s' % (item[0], status)] += 1
            if 200 <= status < 300:
                accepted[item[0]] += 1
                if (answer or {}).get('status') == 'queued':
                    queued[item[1]] += 1

        def stored(kind):
            ids = [item[1] for item in plan if item[0] == kind]
            return int(self.odoo.sql(
                'select count(*) from coffee_webhook_event where '
                'backend_id = %d and event_id in (%s)' % (
                    backend_id, ','.join(q(i) for i in ids)))[0][0])

        rows = self.odoo.sql(
            "select event_id, count(*) from coffee_webhook_event where "
            "backend_id = %d and event_id like 'evt_drill_new_%%' "
            "group by event_id" % backend_id)
        times = sorted(a[2] for a in answers)
        return collections.OrderedDict([
            ('deliveries', len(plan)),
            ('sent', dict(collections.Counter(item[0] for item in plan))),
            ('forged_accepted', accepted['forged'] + stored('forged')),
            ('stale_accepted', accepted['stale'] + stored('stale')),
            ('imported_twice', sum(1 for c in queued.values() if c > 1)
             + sum(1 for __, c in rows if int(c) > 1)),
            ('new_accepted', accepted['new']),
            ('duplicates_acknowledged', accepted['duplicate']),
            ('events_stored', len(rows)),
            ('p95_ms', round(times[max(0, -(-95 * len(times) // 100) - 1)],
                             1)),
            ('median_ms', round(times[len(times) // 2], 1)),
            ('max_ms', round(times[-1], 1)),
            ('send_s', round(send_s, 1)),
            ('statuses', dict(statuses)),
            ('jobs', self.job_counts(name)),
            ('failed_jobs_sample', self.failed_sample(name)),
        ])

    # -- concurrency -----------------------------------------------------------

    def concurrency_and_webhooks(self):
        n = self.sizes['concurrency_n']
        name = 'drill-concurrency-2900'
        log('concurrency: scale:%d, two import_all at once, webhook events '
            'for the same records' % n)
        with harness.Emulator('2900', data='scale:%d' % n,
                              rate_limit=1000) as emu:
            emu.sim('POST', 'config', {'signature_clock': 'real'})
            backend_id = self.backend(name, '2900', emu)
            secret = self.register_webhook(backend_id)
            since = self.db_now()
            brews = emu.snapshot('brews')['ids']
            consumers = emu.snapshot('consumers')['ids']
            beverages = emu.snapshot('beverages')['ids']
            rnd = random.Random(SEED + 1)
            barrier = threading.Barrier(2)
            errors = []

            def both():
                barrier.wait()
                try:
                    self.import_all(backend_id)
                except Exception as exc:  # pylint: disable=broad-except
                    errors.append(str(exc))

            started = time.time()
            threads = [threading.Thread(target=both) for __ in range(2)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            # one chain per object: the two presses at once started three;
            # a second press while they run starts none
            chains_started = self.first_pages(name)
            self.import_all(backend_id)
            second_press_queued = self.first_pages(name) - chains_started
            # during the imports: signed events naming the records being
            # imported, and real changes the machine delivers itself
            sent = collections.Counter()
            emu.sim('POST', 'activity', {
                'rate_per_s': 4, 'seconds': self.sizes['activity_s'],
                'brews': 3, 'consumers': 1})
            for i in range(self.sizes['concurrency_events']):
                kind = rnd.random()
                if kind < 0.6:
                    evt = ('brew.completed', rnd.choice(brews))
                elif kind < 0.9:
                    evt = ('consumer.updated', rnd.choice(consumers))
                else:
                    evt = ('beverage.updated', rnd.choice(beverages))
                status, __, __ = self.deliver(
                    backend_id, self.event('evt_drill_conc_%05d' % i, *evt),
                    secret, int(time.time()))
                sent[status] += 1
                time.sleep(0.02)
            # let the machine's own activity end, then converge
            deadline = time.time() + 60
            while emu.sim('GET', 'activity').get('running') \
                    and time.time() < deadline:
                time.sleep(0.5)

            def settle_deliveries():
                wait_until = time.time() + 60
                while time.time() < wait_until:
                    pending = [d for d in emu.sim('GET', 'deliveries')[
                        'items'] if d['state'] in ('pending', 'sending')]
                    if not pending:
                        return
                    time.sleep(0.5)

            seconds, rounds, diff = self.converge(
                '2900', emu, backend_id, name, timeout=self.sizes['timeout'],
                started=started,
                on_idle=settle_deliveries)
            failed = self.odoo.sql(
                "select %s from queue_job where state = 'failed' and %s"
                % (one_line('exc_info'), self.jobs_of(name)))
            deadlocks = sum(1 for (exc,) in failed if re.search(
                r'deadlock|could not serialize|concurrent update|'
                r'IntegrityError|duplicate key', exc, re.I))
            deliveries = emu.sim('GET', 'deliveries')['items']
            res = collections.OrderedDict([
                ('records', sum(len(emu.snapshot(k)['ids'])
                                for __, k in harness.model_kinds('2900'))),
                ('duplicates', self.duplicates('2900', backend_id, since)),
                ('deadlocks_failed', deadlocks),
                ('failed_jobs', len(failed)),
                ('failed_jobs_sample', self.failed_sample(name)),
                ('lost', sum(d[0] for d in diff.values())),
                ('extra', sum(d[1] for d in diff.values())),
                ('converge_s', round(seconds, 1) if seconds else None),
                ('import_all_rounds', rounds),
                ('import_all_errors', errors),
                ('chains_started', chains_started),
                ('second_press_queued', second_press_queued),
                ('events_sent', dict(sent)),
                ('machine_deliveries', dict(collections.Counter(
                    d['state'] for d in deliveries))),
                ('jobs', self.job_counts(name)),
            ])
            self.results['concurrency'] = res
            self.print_row('concurrency', res)
            self.results['webhooks'] = self.webhooks(emu, backend_id, secret,
                                                     name)
            self.print_row('webhooks', self.results['webhooks'])
            self.odoo.call('coffee.backend', 'write',
                           [[backend_id], {'active': False}])

    # -- hostile machines ------------------------------------------------------

    def hostile(self):
        """Backends on hostile machines (emulator/hostile.py) and a healthy
        one, Test Connection and imports on all of them, and oversized or
        slow webhook deliveries to Odoo's own port, for ``hostile_s``."""
        pairs = [(version, mode) for version in ('1900', '2900')
                 for mode in self.sizes['hostile_modes']
                 if version in self.sizes['hostile_versions'].get(
                     mode, (version,))]
        log('hostile: %d backends (%d modes) for %d s, %d webhook '
            'deliveries' % (len(pairs), len(self.sizes['hostile_modes']),
                            self.sizes['hostile_s'],
                            self.sizes['hostile_deliveries']))
        listener = hostile.Listener().start()
        machines = []
        sampler = harness.RssSampler(self.odoo).start()
        try:
            for version, mode in pairs:
                machine = hostile.HostileMachine(
                    mode, target=listener.url).start()
                # no name is the start of another (jobs_of)
                name = 'drill-hostile-%s-%s' % (mode, version)
                machines.append((version, mode, machine, name,
                                 self.backend(name, version, machine)))
            with harness.Emulator('2900', data='scale:200',
                                  rate_limit=1000) as emu:
                res = self._hostile_run(machines, emu)
        finally:
            peak = sampler.stop()
            for __, __, machine, __, __ in machines:
                machine.stop()
            listener.stop()
        leaked = [seen for seen in listener.seen
                  if PASSWORD.encode() in seen['body']
                  or any(PASSWORD in value or 'Basic ' in value
                         for value in seen['headers'].values())]
        res.update([
            ('credentials_leaked', len(leaked)),
            ('listener_requests', len(listener.seen)),
            ('worker_peak_rss_mb', round(peak, 1)),
        ])
        order = ('credentials_leaked', 'stuck_jobs', 'worker_peak_rss_mb',
                 'channel_blocked_s', 'unexplained', 'oversized_accepted',
                 'odoo_answering')
        return collections.OrderedDict(
            [(k, res[k]) for k in order]
            + [(k, v) for k, v in res.items() if k not in order])

    def _hostile_run(self, machines, emu):
        healthy = self.backend('drill-hostile-healthy', '2900', emu)
        self.odoo.call('coffee.backend', 'action_test_connection',
                       [[healthy]])
        connection = {}
        begin = time.time()
        for version, mode, __, name, backend_id in machines:
            started = time.time()
            try:
                self.odoo.call('coffee.backend', 'action_test_connection',
                               [[backend_id]], timeout=120)
                said = 'connected'
            except harness.OdooError as exc:
                said = str(exc)
            connection[name] = (said, round(time.time() - started, 1))
        test_connection_max_s = max(s for __, s in connection.values())
        watch = self.watch_channel()
        for __, __, __, __, backend_id in machines:
            self.import_all(backend_id)
        deliveries = self.bad_deliveries(healthy)
        # the healthy machine's imports, again and again: how long does a
        # coffee job wait for a place while the hostile ones are tried?
        while time.time() - begin < self.sizes['hostile_s']:
            self.import_all(healthy)
            time.sleep(5)
        deliveries['thread'].join()
        hostile_jobs = "name like '%% drill-hostile-%%' and not (%s)" % (
            self.jobs_of('drill-hostile-healthy'))
        # every hostile job tried once at least, none running: then their
        # messages are read
        deadline = time.time() + 180
        while time.time() < deadline and self.odoo.sql(
                "select 1 from queue_job where %s and (state in ("
                "'started', 'enqueued') or (state = 'pending' and retry = 0))"
                " limit 1" % hostile_jobs):
            time.sleep(1)
        self.odoo.wait_jobs(timeout=300,
                            where=self.jobs_of('drill-hostile-healthy'))
        watch['stop'].set()
        watch['thread'].join()
        explained = {}
        unexplained = []
        for version, mode, __, name, backend_id in machines:
            pattern = HOSTILE_SAYS[mode.split(':')[0]]
            texts = [connection[name][0]] + [r[0] for r in self.odoo.sql(
                "select %s || ' ' || %s from queue_job where %s and "
                "(state = 'failed' or (state = 'pending' and retry > 0))"
                % (one_line('exc_info'), one_line('result'),
                   self.jobs_of(name)))]
            tried = int(self.odoo.sql(
                "select count(*) from queue_job where %s and (retry > 0 or "
                "state in ('failed', 'done'))" % self.jobs_of(name))[0][0])
            bad = [t for t in texts if not re.search(pattern, t, re.S)]
            explained[name] = {'messages': len(texts), 'jobs_tried': tried,
                               'unexplained': len(bad)}
            if bad or not tried:
                unexplained.append((name, (bad or ['no job tried'])[0][-300:]))
        stuck = self.stuck_jobs("name like '%% drill-hostile-%%'")
        healthy_wait = self.odoo.sql(
            "select coalesce(max(extract(epoch from date_started - "
            "greatest(date_created, coalesce(eta, date_created)))), 0) "
            "from queue_job where channel like 'root.coffee%%' and "
            "date_started is not null and %s"
            % self.jobs_of('drill-hostile-healthy'))[0][0]
        # the hostile backends go, their jobs waiting for a retry too
        self.odoo.call('coffee.backend', 'write',
                       [[m[4] for m in machines], {'active': False}])
        self.odoo.sql(
            "update queue_job set state = 'done', result = 'cancelled by "
            "the drill' where state = 'pending' and %s" % hostile_jobs)
        answering = harness.http_ok(self.odoo.url + '/web/login',
                                    timeout=30)
        return collections.OrderedDict([
            ('stuck_jobs', stuck),
            ('channel_blocked_s', round(watch['blocked_s'], 1)),
            ('healthy_wait_max_s', round(float(healthy_wait), 1)),
            ('unexplained', len(unexplained)),
            ('oversized_accepted', deliveries['accepted']),
            ('odoo_answering', answering),
            ('test_connection_max_s', test_connection_max_s),
            ('deliveries', deliveries['statuses']),
            ('backends', len(machines)),
            ('unexplained_sample', unexplained[:5]),
            ('by_backend', explained),
            ('healthy_jobs', self.job_counts('drill-hostile-healthy')),
        ])

    def watch_channel(self, every=1.0):
        """In a thread: the longest time no coffee job could start, that
        is, jobs were ready to run in ``root.coffee`` and none started
        since the oldest of them became ready (or since the last start)."""
        out = {'blocked_s': 0.0, 'stop': threading.Event()}
        query = (
            "with ready as (select min(case when state = 'enqueued' then "
            "date_enqueued else greatest(date_created, coalesce(eta, "
            "date_created)) end) as since from queue_job where channel "
            "like 'root.coffee%%' and (state = 'enqueued' or (state = "
            "'pending' and coalesce(eta, date_created) <= now() at time "
            "zone 'UTC'))), started as (select max(date_started) as last "
            "from queue_job where channel like 'root.coffee%%') "
            "select coalesce(extract(epoch from (now() at time zone 'UTC') "
            "- greatest(ready.since, started.last)), 0) from ready, started "
            "where ready.since is not null")

        def run():
            while not out['stop'].wait(every):
                rows = self.odoo.sql(query)
                if rows:
                    out['blocked_s'] = max(out['blocked_s'],
                                           float(rows[0][0]))

        out['thread'] = threading.Thread(target=run, daemon=True)
        out['thread'].start()
        return out

    def bad_deliveries(self, backend_id):
        """In a thread: oversized deliveries (by Content-Length, chunked)
        and slow ones (a byte a second) to Odoo's own port."""
        n = self.sizes['hostile_deliveries']
        slow = self.sizes['hostile_slow']
        kinds = ['slow'] * slow + [
            'length' if i % 2 else 'chunked' for i in range(n - slow)]
        random.Random(SEED).shuffle(kinds)
        out = {'statuses': collections.Counter(), 'accepted': 0}
        lock = threading.Lock()
        todo = collections.deque(kinds)

        def send():
            while True:
                try:
                    kind = todo.popleft()
                except IndexError:
                    return
                status = self._bad_delivery(backend_id, kind)
                with lock:
                    out['statuses']['%s %s' % (kind, status)] += 1
                    if isinstance(status, int) and 200 <= status < 300:
                        out['accepted'] += 1

        threads = [threading.Thread(target=send) for __ in range(3)]
        for th in threads:
            th.start()

        def join():
            for th in threads:
                th.join()
            out['statuses'] = dict(out['statuses'])

        out['thread'] = threading.Thread(target=join)
        out['thread'].start()
        return out

    def _bad_delivery(self, backend_id, kind):
        """One delivery over a socket of its own; the status answered, or
        what became of the connection."""
        import socket
        path = '/connector_coffee/webhook/%d' % backend_id
        head = ('POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n'
                'Content-Type: application/json\r\nX-Coffee-Event: '
                'brew.completed\r\nX-Coffee-Signature: t=1,v1=00\r\n'
                % (path, self.odoo.port))
        size = 4 * 1024 * 1024
        if kind == 'length':
            head += 'Content-Length: %d\r\n\r\n' % size
        elif kind == 'chunked':
            head += 'Transfer-Encoding: chunked\r\n\r\n'
        else:
            head += 'Content-Length: 200\r\n\r\n'
        sock = socket.create_connection(('127.0.0.1', self.odoo.port),
                                        timeout=60)
        try:
            sock.sendall(head.encode('ascii'))
            piece = b'x' * 16384
            try:
                if kind == 'length':
                    for __ in range(size // len(piece)):
                        sock.sendall(piece)
                elif kind == 'chunked':
                    for __ in range(size // len(piece)):
                        sock.sendall(b'%x\r\n%s\r\n' % (len(piece), piece))
                    sock.sendall(b'0\r\n\r\n')
                else:
                    for __ in range(200):
                        sock.sendall(b'x')
                        time.sleep(1)
            except OSError:
                pass  # refused before the end: what should happen
            try:
                answer = sock.recv(4096)
            except OSError as exc:
                return type(exc).__name__
            match = re.match(rb'HTTP/1\.[01] (\d{3})', answer)
            return int(match.group(1)) if match else 'closed'
        finally:
            sock.close()

    # -- bad input -------------------------------------------------------------

    def bad_input(self, version):
        n = self.sizes['bad_n']
        name = 'drill-bad-%s' % version
        log('bad_input %s: scale:%d, %d %% malformed' % (
            version, n, self.sizes['bad_rate'] * 100))
        with harness.Emulator(version, data='scale:%d' % n,
                              rate_limit=1000) as emu:
            backend_id = self.backend(name, version, emu)
            self.odoo.call('coffee.backend', 'action_test_connection',
                           [[backend_id]])
            emu.sim('POST', 'faults', {'malformed': self.sizes['bad_rate'],
                                       'seed': SEED})
            since = self.db_now()
            self.import_all(backend_id)
            self.odoo.wait_jobs(timeout=900, where=self.jobs_of(name))
            served = emu.sim('GET', 'counters')['malformed_served']
            emu.sim('POST', 'faults', {'malformed': 0})
            messages = [r[0] for r in self.odoo.sql(
                "select %s from connector_checkpoint where backend_id = %s"
                % (one_line('message'), q('coffee.backend,%d'
                                          % backend_id)))]
            failed = [r[0] for r in self.odoo.sql(
                "select %s || ' ' || %s || ' ' || %s from queue_job where "
                "state = 'failed' and %s" % (
                    one_line('name'), one_line('exc_info'),
                    one_line('result'), self.jobs_of(name)))]
            named = set()
            for text in messages:
                for match in re.finditer(r'(\S+) of %s could not be imported'
                                         % re.escape(name), text):
                    named.add(match.group(1))
                for match in re.finditer(r'served as (\S+?)[):]', text):
                    named.add(match.group(1))
            unexplained = []
            half = []
            explained = 0
            by_kind = {}
            intact = {}
            for model, kind in harness.model_kinds(version):
                bad = [str(i) for i in served.get(kind, [])]
                bound = set(self.bindings(model, backend_id))
                items = emu.snapshot(kind, full=True)['items']
                key = {'log': 'log_no', 'cards': 'card_no',
                       'drinks': 'drink_no'}.get(kind, 'id')
                intact[kind] = {str(rec[key]): rec for rec in items}
                kind_unexplained = 0
                for ext in bad:
                    said = ext in named or any(
                        re.search(r'(?<![\w-])%s(?![\w-])' % re.escape(ext),
                                  text) for text in failed)
                    if not said and kind == 'cards' and \
                            str(int(ext)) in named:
                        # a card number served as a number names itself so
                        said = True
                    if ext in bound:
                        # written although it was served damaged: only
                        # right if what was written is the intact record
                        half.append((kind, ext))
                    elif said:
                        explained += 1
                    else:
                        unexplained.append((kind, ext))
                        kind_unexplained += 1
                by_kind[kind] = {'served_bad': len(bad),
                                 'unexplained': kind_unexplained}
            wrong = self.check_values(version, backend_id, intact, half)
            # bindings of the good records: every good record imported,
            # or named by a checkpoint (a good brew of a damaged consumer)
            diff = self.compare(version, emu, backend_id, exclude=served)
            not_named_lost = 0
            for model, kind in harness.model_kinds(version):
                machine = set(intact[kind]) - set(
                    str(i) for i in served.get(kind, []))
                bound = set(self.bindings(model, backend_id))
                for ext in machine - bound:
                    if ext not in named and not any(
                            re.search(r'(?<![\w-])%s(?![\w-])'
                                      % re.escape(ext), t) for t in failed):
                        not_named_lost += 1
            res = collections.OrderedDict([
                ('records', sum(len(v) for v in intact.values())),
                ('served_bad', sum(len(v) for v in served.values())),
                ('explained', explained),
                ('unexplained', len(unexplained)),
                ('half_written', len(wrong['wrong'])),
                ('bad_but_imported_intact', wrong['intact']),
                ('good_not_imported_unexplained', not_named_lost),
                ('duplicates', self.duplicates(version, backend_id, since)),
                ('checkpoints', len(messages)),
                ('failed_jobs', len(failed)),
                ('by_kind', by_kind),
                ('good_records_diff', {k: v[:2] for k, v in diff.items()}),
                ('unexplained_sample', unexplained[:10]),
                ('half_written_sample', wrong['wrong'][:10]),
            ])
            self.odoo.call('coffee.backend', 'write',
                           [[backend_id], {'active': False}])
        return res

    def check_values(self, version, backend_id, intact, written):
        """Of the damaged records that were written anyway, which hold the
        machine's intact values and which do not (half or wrongly
        written)."""
        out = {'intact': 0, 'wrong': []}
        for kind, ext in written:
            rec = intact[kind][ext]
            if self._same(backend_id, kind, ext, rec):
                out['intact'] += 1
            else:
                out['wrong'].append((kind, ext))
        return out

    def _same(self, backend_id, kind, ext, rec):
        """Compare what the binding holds with the intact record."""
        if kind in ('log', 'brews'):
            row = self._bound_row(
                "select coalesce(price::text, ''), coffee_updated_at from "
                "coffee_brew where backend_id = %d and coffee_id = %s",
                backend_id, ext)
            if not row:
                return False
            price, stamp = row
            want = (rec['price_cents'] / 100.0 if kind == 'log'
                    else float(rec['price']['amount']))
            want_stamp = rec['ts'] if kind == 'log' else rec['updated_at']
            return abs(float(price or 0) - want) < 0.005 and \
                stamp == want_stamp
        if kind in ('cards', 'consumers'):
            row = self._bound_row(
                "select p.name, coalesce(b.coffee_updated_at, '') from "
                "coffee_res_partner b join res_partner p on p.id = b.odoo_id"
                " where b.backend_id = %d and b.coffee_id = %s",
                backend_id, ext)
            if not row:
                return False
            name, stamp = row
            want = rec['holder'] if kind == 'cards' else rec['name']
            company = rec.get('company') or rec.get('company_name')
            want_stamp = rec['modified'] if kind == 'cards' \
                else rec['updated_at']
            return stamp == want_stamp and (
                name == (want or '').strip() or name == company
                or name.endswith(ext))
        row = self._bound_row(
            "select coalesce(b.coffee_updated_at, '') from "
            "coffee_product_product b where b.backend_id = %d and "
            "b.coffee_id = %s", backend_id, ext)
        if not row:
            return False
        want_stamp = rec['modified'] if kind == 'drinks' \
            else rec['updated_at']
        return row[0] == want_stamp

    def _bound_row(self, query, backend_id, ext):
        """The first row of ``query`` (``%d``: the backend, ``%s``: the
        machine id), or None."""
        rows = self.odoo.sql(query % (backend_id, q(ext)))
        return rows[0] if rows else None

    # -- output ----------------------------------------------------------------

    FIELDS = {
        'faults': ('records', 'lost', 'extra', 'duplicates', 'stuck_jobs',
                   'converge_s', 'clean_s', 'fault_cost',
                   'import_all_rounds', 'requeued_jobs', 'requeue_s',
                   'job_retries'),
        'concurrency': ('records', 'duplicates', 'deadlocks_failed',
                        'failed_jobs', 'lost', 'converge_s',
                        'import_all_rounds', 'chains_started',
                        'second_press_queued'),
        'webhooks': ('deliveries', 'forged_accepted', 'stale_accepted',
                     'imported_twice', 'p95_ms', 'median_ms'),
        'bad_input': ('records', 'served_bad', 'unexplained',
                      'half_written', 'bad_but_imported_intact',
                      'good_not_imported_unexplained', 'duplicates'),
        'hostile': ('credentials_leaked', 'stuck_jobs', 'worker_peak_rss_mb',
                    'channel_blocked_s', 'unexplained', 'oversized_accepted',
                    'odoo_answering', 'healthy_wait_max_s',
                    'test_connection_max_s'),
    }

    def print_row(self, section, res, label=None):
        fields = self.FIELDS[section]
        text = ', '.join('%s %s' % (f, res.get(f)) for f in fields)
        log('  %s%s: %s' % (section, ' ' + label if label else '', text))


class BothVersions(object):
    """``function(version)`` of each version at once, each in a thread of
    its own; ``join(drill, section)`` waits for them, prints their rows and
    returns their results by version."""

    VERSIONS = ('1900', '2900')

    def __init__(self, function):
        self.out = {}
        self.threads = [threading.Thread(target=self._run,
                                         args=(function, version))
                        for version in self.VERSIONS]
        for thread in self.threads:
            thread.start()

    def _run(self, function, version):
        try:
            self.out[version] = function(version)
        except Exception as exc:  # pylint: disable=broad-except
            self.out[version] = {'error': repr(exc)}
            raise

    def join(self, drill, section):
        for thread in self.threads:
            thread.join()
        results = collections.OrderedDict()
        for version in self.VERSIONS:
            results[version] = self.out.get(version)
            drill.print_row(section, results[version] or {}, version)
        return results


def print_table(results, seconds, out=sys.stdout):
    rows = []
    for section, fields in Drill.FIELDS.items():
        res = results.get(section)
        if res is None:
            continue
        per = res if section in ('faults', 'bad_input') else {'': res}
        for label, values in per.items():
            if not isinstance(values, dict):
                continue
            title = ('%s %s' % (section, label)).strip()
            for i, f in enumerate(fields):
                rows.append((title if i == 0 else '', f, values.get(f)))
    width = max(len(r[0]) for r in rows) if rows else 10
    fwidth = max(len(r[1]) for r in rows) if rows else 10
    out.write('%s  %s  %s\n' % ('section'.ljust(width),
                                'figure'.ljust(fwidth), 'value'))
    out.write('%s  %s  %s\n' % ('-' * width, '-' * fwidth, '-' * 10))
    for section, f, value in rows:
        out.write('%s  %s  %s\n' % (section.ljust(width), f.ljust(fwidth),
                                    value))
    out.write('run time: %.0f s\n' % seconds)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='bin/drill', description=__doc__.split('\n\n')[0])
    parser.add_argument('--quick', action='store_true',
                        help='a small version (inside bin/test)')
    parser.add_argument('--json', metavar='PATH',
                        help='write the figures to PATH')
    parser.add_argument('--only', default='faults,concurrency,webhooks,'
                        'bad_input,hostile', help='comma-separated sections')
    parser.add_argument('--keep', action='store_true',
                        help='keep the database and the Odoo run directory')
    args = parser.parse_args(argv)
    only = set(args.only.split(','))
    begin = time.time()
    stack = harness.Stack()
    results = collections.OrderedDict()
    try:
        with harness.OdooServer(stack, workers=4, cron_threads=1,
                                keep=args.keep) as odoo:
            log('creating the database %s' % odoo.db)
            odoo.create_db()
            odoo.start()
            drill = Drill(odoo, args.quick)
            drill.results = results
            faults = None
            if 'faults' in only:
                # both machines at once, as two machines of one company;
                # the other sections run meanwhile: the fault chains
                # mostly wait for their retries
                results['faults'] = collections.OrderedDict()
                faults = BothVersions(drill.faults)
            if only & {'concurrency', 'webhooks'}:
                drill.concurrency_and_webhooks()
            if 'bad_input' in only:
                # both machines at once: the section measures no time
                results['bad_input'] = BothVersions(drill.bad_input).join(
                    drill, 'bad_input')
            if faults is not None:
                results['faults'].update(faults.join(drill, 'faults'))
            if 'hostile' in only:
                # after the others: their figures stay those of before
                results['hostile'] = drill.hostile()
                drill.print_row('hostile', results['hostile'])
            if args.keep:
                log('kept: database %s, run directory %s'
                    % (odoo.db, odoo.run_dir))
    finally:
        stack.close()
    seconds = time.time() - begin
    results['run_s'] = round(seconds, 1)
    results['quick'] = args.quick
    print_table(results, seconds)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
