"""bin/bench: the speed of a full import, side by side with what a person
would do instead, against the targets the connector must meet (``TARGETS``,
the last column of the table; see bin/bench --help).

One database, one Odoo server (prefork workers, queue_job's runner), per
protocol an emulator with ``scale:N`` data. The same machine rows go in
five ways, each into a backend of its own:

ours_s            ``coffee.backend.import_all`` (a job per chunk of pages),
                  from the call until no job is pending, enqueued or
                  started
load_s            Odoo's ``load()`` (what the import of a file does) of
                  the rows ``ours`` wrote, exported with ``export_data``
                  as a person would, through JSON-RPC: beverages,
                  consumers, then brews
job_per_record_s  the naive pattern: one job lists the records and queues
                  one job per record (dev/bench_addons), same runner;
                  beverages and consumers, then the first
                  --per-record-brews brews, whose time is scaled
orm_floor_s       ``create()`` of the values the mappers produce, in one
                  transaction, in one process: no HTTP, no jobs, no
                  savepoints (the mapping is done before the clock runs)
ours_big_s        ``import_all`` on ``scale:50000`` while the RSS of every
                  worker process is sampled

Standard library only, any python3 >= 3.7 (Odoo runs in its own
processes, see dev/harness.py).
"""
import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import harness  # noqa: E402 pylint: disable=wrong-import-position

BENCH_ADDONS = os.path.join(harness.ROOT, 'dev', 'bench_addons')
# the naive run is slow (a job per record): it imports the beverages and
# the consumers, then this many brews, whose time is scaled to all brews
PER_RECORD_BREWS = 1000
# --quick proves that every part runs and gives its figure: a scale run
# larger than the first, with more brews than one chunk job of the importer
# takes (1000, components/importer.py), so that a chain of jobs runs
QUICK_BREWS = 300
QUICK_BIG_BREWS = 1200
QUICK_PER_RECORD_BREWS = 20
PARTS = ('ours', 'floor', 'load', 'per_record', 'big')
KEYS = ('ours_s', 'load_s', 'job_per_record_s', 'orm_floor_s',
        'ratio_vs_load', 'speedup_vs_job_per_record', 'ratio_vs_floor',
        'scale_ratio_50k_10k', 'worker_peak_rss_mb')
TARGETS = {
    'ratio_vs_load': ('<=', 1.0),
    'speedup_vs_job_per_record': ('>=', 5.0),
    'ratio_vs_floor': ('<=', 1.4),
    'scale_ratio_50k_10k': ('<=', 5.5),
    'worker_peak_rss_mb': ('<', 600.0),
}
log = harness.log


# -- in Odoo (dev/harness.py OdooServer.script) -------------------------------

FLOOR_SCRIPT = r'''
import json
import urllib.request
from odoo import fields
from odoo.addons.connector.exception import MappingError

opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
source = env['coffee.backend'].browse(args['source_backend'])
backend = env['coffee.backend'].create({
    'name': args['name'], 'version': source.version,
    'location': source.location, 'username': source.username,
    'password': source._coffee_secret('password'),
    'default_lang_id': source.default_lang_id.id,
    'company_id': source.company_id.id,
    'machine_serial': source.machine_serial,
    'machine_currency': source.machine_currency,
    'machine_timezone': source.machine_timezone,
    'machine_language': source.machine_language,
})
elapsed = 0.0
counts = {}
keys = {}
for model_name, kind in zip(args['models'], args['kinds']):
    url = '%s/_sim/snapshot?kind=%s&full=1' % (args['emulator'], kind)
    with opener.open(url, timeout=300) as resp:
        records = json.loads(resp.read().decode('utf-8'))['items']
    values_list = []
    with backend.work_on(model_name) as work:
        mapper = work.component(usage='import.mapper')
        adapter = work.component(usage='backend.adapter')
        seen = set()
        for record in records:
            external_id = adapter.id_of(record)
            if record.get('deleted') or external_id in seen:
                continue
            seen.add(external_id)
            try:
                values = mapper.map_record(record).values(for_create=True)
            except MappingError:
                continue
            values.update(
                coffee_id=external_id,
                coffee_updated_at=adapter.timestamp_of(record) or False,
                sync_date=fields.Datetime.now())
            values_list.append(values)
        model = work.model.with_context(connector_no_export=True)
        started = time.time()
        for values in values_list:
            model.create(values)
        elapsed += time.time() - started
    counts[model_name] = len(values_list)
    keys[model_name] = sorted(set().union(*values_list)) if values_list \
        else []
result = {'seconds': elapsed, 'counts': counts, 'keys': keys,
          'backend': backend.id}
'''


# -- helpers ----------------------------------------------------------------

def timed_import(odoo, method, backend_id, timeout, kwargs=None):
    """Call ``method`` on the backend, wait for every job: seconds."""
    started = time.time()
    odoo.call('coffee.backend', method, [[backend_id]], kwargs)
    odoo.wait_jobs(timeout=timeout, poll=0.1)
    return time.time() - started


def create_backend_like(odoo, source_id, name):
    """A backend of the same machine (what the mappers read included)."""
    src = odoo.call('coffee.backend', 'read', [[source_id], [
        'version', 'location', 'machine_serial', 'machine_currency',
        'machine_timezone', 'machine_language']])[0]
    values = dict((k, v) for k, v in src.items() if k != 'id')
    return odoo.create_backend(values.pop('version'), values.pop('location'),
                               name=name, **values)


def as_cell(value, ftype):
    """A value as a cell of an exported file (text)."""
    if ftype == 'boolean':
        return '1' if value else '0'
    if value is False or value is None:
        return ''
    return str(value)


def load_run(odoo, source_id, keys, name):
    """Export what ``ours`` wrote for ``source_id`` and ``load()`` it into
    a new backend; returns (seconds of the three load() calls, counts)."""
    target_id = create_backend_like(odoo, source_id, name)
    total = 0.0
    counts = {}
    product_map = {}  # product.product of the source -> of the target
    partner_map = {}
    for model_name in harness.MODELS:
        info = odoo.call(model_name, 'fields_get', [], {
            'attributes': ['type']})
        columns = [k for k in keys[model_name] if k in info]
        export = ['%s/.id' % k if info[k]['type'] == 'many2one' else k
                  for k in columns]
        ids = odoo.call(model_name, 'search', [[
            ('backend_id', '=', source_id)]], {'context': {
                'active_test': False}})
        rows = odoo.call(model_name, 'export_data', [ids, export],
                         {'context': {'active_test': False}})['datas']
        data = []
        for row in rows:
            cells = []
            for column, value in zip(columns, row):
                if column == 'backend_id':
                    value = target_id
                elif column == 'product_id':
                    value = product_map.get(int(value), value)
                elif column == 'partner_id' and value:
                    value = partner_map.get(int(value), value)
                cells.append(as_cell(value, info[column]['type']))
            data.append(cells)
        started = time.time()
        answer = odoo.call(model_name, 'load', [export, data])
        total += time.time() - started
        errors = [m for m in answer['messages'] if m.get('type') == 'error']
        if errors or answer['ids'] is False:
            raise harness.OdooError('load() of %s failed: %s'
                                    % (model_name, errors[:3]))
        counts[model_name] = len(answer['ids'])
        if model_name != 'coffee.brew':
            mapping = product_map if model_name == harness.MODELS[0] else \
                partner_map
            by_ref = {}
            for backend_id in (source_id, target_id):
                for rec in odoo.call(model_name, 'search_read', [[
                        ('backend_id', '=', backend_id)],
                        ['coffee_id', 'odoo_id']], {'context': {
                            'active_test': False}}):
                    by_ref.setdefault(rec['coffee_id'], {})[backend_id] = \
                        rec['odoo_id'][0]
            for pair in by_ref.values():
                if source_id in pair and target_id in pair:
                    mapping[pair[source_id]] = pair[target_id]
    return total, counts, target_id


class Bench(object):

    def __init__(self, args):
        self.args = args
        self.stack = None
        self.odoo = None
        self.results = {}
        self.meta = {}

    # -- set-up -------------------------------------------------------------

    def setup(self):
        started = time.time()
        self.stack = harness.Stack()
        self.odoo = harness.OdooServer(
            self.stack, workers=self.args.workers,
            extra_addons_paths=[BENCH_ADDONS],
            modules=('connector_coffee', 'connector_coffee_bench'),
            cron_threads=0, keep=self.args.keep)
        odoo = self.odoo
        log('creating database %s (connector_coffee, no demo data)'
            % odoo.db)
        odoo.create_db()
        odoo.start()
        log('Odoo on %s, %d workers, channels %s (log %s)'
            % (odoo.url, odoo.workers, odoo.channels, odoo.log_path))
        self.warm_up()
        self.meta['setup_s'] = round(time.time() - started, 1)

    def warm_up(self):
        """Every worker loads the registry, the runner starts (it waits
        5 s), and one import runs, before any clock (--quick, whose
        figures are never judged: the registries only)."""
        threads = [threading.Thread(target=self.odoo.call, args=(
            'coffee.backend', 'search_count', [[]]))
            for __ in range(self.odoo.workers * 3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self.args.quick:
            return
        with harness.Emulator('2900', data='demo', rate_limit=100000) as emu:
            backend = self.odoo.create_backend('2900', emu.url,
                                               name='warm-up')
            self.odoo.call('coffee.backend', 'import_all', [[backend]])
            self.odoo.wait_jobs(timeout=300)

    def close(self):
        if self.odoo is not None:
            self.odoo.close()
        if self.stack is not None:
            self.stack.close()

    # -- one protocol ---------------------------------------------------------

    def run_protocol(self, protocol):
        args = self.args
        odoo = self.odoo
        parts = args.parts
        res = {}
        info = {}
        timeout = args.timeout
        with harness.Emulator(protocol, data='scale:%d' % args.brews,
                              rate_limit=args.rate_limit) as emu:
            machine = emu.record_counts()
            info['machine_records'] = machine
            log('%s: scale:%d on %s: %s' % (protocol, args.brews, emu.url,
                                            machine))
            backend = None
            if 'ours' in parts or 'load' in parts:
                backend = odoo.create_backend(protocol, emu.url,
                                              name='ours %s' % protocol)
                with self.profiler('%s-ours' % protocol):
                    res['ours_s'] = timed_import(odoo, 'import_all', backend,
                                                 timeout)
                info['ours_records'] = odoo.bound_counts(backend)
                info['ours_failed_jobs'] = odoo.job_counts().get('failed', 0)
                log('%s: ours %.1f s %s' % (protocol, res['ours_s'],
                                            info['ours_records']))

            if 'floor' in parts or 'load' in parts:
                floor = odoo.script(FLOOR_SCRIPT, {
                    'source_backend': backend or odoo.create_backend(
                        protocol, emu.url, name='floor source'),
                    'name': 'floor %s' % protocol,
                    'models': harness.MODELS, 'kinds': harness.KINDS[protocol],
                    'emulator': emu.url})
                res['orm_floor_s'] = floor['seconds']
                info['orm_floor_records'] = floor['counts']
                log('%s: ORM floor %.1f s %s' % (
                    protocol, floor['seconds'], floor['counts']))

            if 'load' in parts:
                res['load_s'], info['load_records'], __ = load_run(
                    odoo, backend, floor['keys'], 'load %s' % protocol)
                log('%s: load() %.1f s %s' % (protocol, res['load_s'],
                                              info['load_records']))

            if 'per_record' in parts:
                naive = odoo.create_backend(protocol, emu.url,
                                            name='per record %s' % protocol)
                limit = args.per_record_brews
                brews = machine['coffee.brew']
                if limit and limit >= brews:
                    limit = None
                # beverages and consumers first, then the brews (a sample
                # of them, whose time alone is scaled to all the brews)
                deps_s = timed_import(
                    odoo, 'bench_import_per_record', naive, timeout,
                    kwargs={'model_names': list(harness.MODELS[:2])})
                brews_s = timed_import(
                    odoo, 'bench_import_per_record', naive, timeout,
                    kwargs={'model_names': [harness.MODELS[2]],
                            'brew_limit': limit})
                done = odoo.bound_counts(naive)
                info['job_per_record_records'] = done
                info['job_per_record_measured_s'] = round(
                    deps_s + brews_s, 3)
                info['job_per_record_brews'] = limit or brews
                res['job_per_record_s'] = \
                    deps_s + brews_s * brews / (limit or brews)
                log('%s: one job per record %.1f s (beverages and '
                    'consumers) + %.1f s (%d brews) %s%s' % (
                        protocol, deps_s, brews_s, limit or brews, done,
                        ' = %.1f s scaled to %d brews' % (
                            res['job_per_record_s'], brews)
                        if limit else ''))

        if 'big' in parts:
            with harness.Emulator(protocol, data='scale:%d' % args.big_brews,
                                  rate_limit=args.rate_limit) as emu:
                big = odoo.create_backend(protocol, emu.url,
                                          name='ours big %s' % protocol)
                sampler = harness.RssSampler(odoo).start()
                try:
                    with self.profiler('%s-big' % protocol):
                        info['ours_big_s'] = timed_import(
                            odoo, 'import_all', big, timeout)
                finally:
                    res['worker_peak_rss_mb'] = sampler.stop()
                info['worker_peak_rss_total_mb'] = round(
                    sampler.peak_total_mb, 1)
                info['ours_big_records'] = odoo.bound_counts(big)
                log('%s: ours on scale:%d %.1f s %s, worker peak %.0f MB' % (
                    protocol, args.big_brews, info['ours_big_s'],
                    info['ours_big_records'], res['worker_peak_rss_mb']))
                if 'ours' in parts:
                    res['scale_ratio_50k_10k'] = \
                        info['ours_big_s'] / res['ours_s']

        if 'ours_s' in res and 'load_s' in res:
            res['ratio_vs_load'] = res['ours_s'] / res['load_s']
        if 'ours_s' in res and 'job_per_record_s' in res:
            res['speedup_vs_job_per_record'] = \
                res['job_per_record_s'] / res['ours_s']
        if 'ours_s' in res and 'orm_floor_s' in res:
            res['ratio_vs_floor'] = res['ours_s'] / res['orm_floor_s']
        out = dict((k, round(v, 3)) for k, v in res.items())
        out.update(info)
        if 'ours_big_s' in info:
            out['ours_big_s'] = round(info['ours_big_s'], 3)
        return out

    @contextlib.contextmanager
    def profiler(self, label):
        """py-spy on every worker while the block runs (--profile)."""
        if not self.args.profile:
            yield
            return
        spy = os.environ.get('PY_SPY') or shutil.which('py-spy')
        if not spy:
            raise SystemExit('--profile needs py-spy (PATH or PY_SPY)')
        os.makedirs(self.args.profile, exist_ok=True)
        procs = []
        for pid in self.odoo.worker_pids():
            out = os.path.join(self.args.profile, '%s-%d.txt' % (label, pid))
            procs.append(subprocess.Popen(
                [spy, 'record', '--pid', str(pid), '--rate', '50',
                 '--format', 'raw', '--output', out, '--nonblocking'],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        try:
            yield
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGINT)
            for proc in procs:
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()

    def run(self):
        started = time.time()
        try:
            self.setup()
            for protocol in self.args.protocols:
                self.results[protocol] = self.run_protocol(protocol)
        finally:
            self.close()
        self.meta['total_s'] = round(time.time() - started, 1)
        return self.report()

    # -- output ---------------------------------------------------------------

    def report(self):
        args = self.args
        doc = dict(self.results)
        doc['_meta'] = dict(self.meta, brews=args.brews,
                            big_brews=args.big_brews, workers=args.workers,
                            channels='root:2,root.coffee:2',
                            rate_limit_2900=args.rate_limit,
                            quick=args.quick, targets=dict(
                                (k, harness.target_text(v))
                                for k, v in TARGETS.items()))
        protocols = list(self.results)
        lines = ['', 'bin/bench: %d brews (%d for the scale ratio), %d '
                 'workers, channels root:2,root.coffee:2' % (
                     args.brews, args.big_brews, args.workers), '']
        rows = []
        missed = []
        for key in KEYS + ('ours_big_s',):
            cells = []
            for p in protocols:
                value = self.results[p].get(key)
                cells.append('-' if value is None else '%.2f' % value)
                if value is not None and key in TARGETS and \
                        not harness.meets(value, TARGETS[key]):
                    missed.append('%s %s' % (p, key))
            target = harness.target_text(TARGETS[key]) \
                if key in TARGETS else ''
            rows.append((key, cells, target, ''))
        lines += harness.figure_table(protocols, rows)
        for p in protocols:
            r = self.results[p]
            brews = r['machine_records']['coffee.brew']
            if r.get('job_per_record_brews', brews) != brews:
                lines.append(
                    '%s job_per_record_s: beverages and consumers, then %d '
                    'of the %d brews (%.1f s measured), the brews\' time '
                    'scaled linearly' % (
                        p, r['job_per_record_brews'], brews,
                        r['job_per_record_measured_s']))
        lines += ['', 'targets missed: %s' % (', '.join(missed) or 'none'),
                  'total run time: %.0f s' % self.meta['total_s']]
        harness.print_report(lines, doc, args.json)
        return 0


def main(argv=None):
    if '--fleet' in (sys.argv[1:] if argv is None else argv):
        # the fleet bench is a script of its own (dev/fleet_bench.py)
        import fleet_bench  # pylint: disable=import-outside-toplevel
        return fleet_bench.main(argv)
    p = argparse.ArgumentParser(
        prog='bin/bench',
        description='Speed of a full import against load(), one job per '
                    'record and the ORM floor; prints a table of the '
                    'figures and their targets.')
    p.add_argument('--json', metavar='PATH', help='write the figures here')
    p.add_argument('--quick', action='store_true',
                   help='smoke test: %d brews, %d for the scale ratio'
                   % (QUICK_BREWS, QUICK_BIG_BREWS))
    p.add_argument('--brews', type=int, help='default 10000 (%d quick)'
                   % QUICK_BREWS)
    p.add_argument('--big-brews', type=int,
                   help='the scale run, default 50000 (%d quick)'
                   % QUICK_BIG_BREWS)
    p.add_argument('--protocols', default='1900,2900')
    p.add_argument('--workers', type=int, default=4)
    p.add_argument('--rate-limit', type=int, default=100000,
                   help="the 2900's requests per second per token (the "
                        "default keeps the limit out of the figures)")
    p.add_argument('--timeout', type=int, default=1800,
                   help='seconds one import may take')
    p.add_argument('--per-record-brews', type=int,
                   help='brews of the one-job-per-record run, whose time '
                        'is then scaled to all the brews (default %d, %d '
                        'quick; 0: all)' % (PER_RECORD_BREWS,
                                            QUICK_PER_RECORD_BREWS))
    p.add_argument('--parts', default=','.join(PARTS),
                   help='a development aid: run only these parts (%s); '
                        'figures that need a missing part are left out'
                        % ','.join(PARTS))
    p.add_argument('--profile', metavar='DIR',
                   help='record py-spy flame graphs of the workers during '
                        'the ours runs into DIR (needs py-spy on PATH or '
                        'PY_SPY)')
    p.add_argument('--keep', action='store_true',
                   help="keep Odoo's run directory (configuration, log)")
    args = p.parse_args(argv)
    args.brews = args.brews or (QUICK_BREWS if args.quick else 10000)
    args.big_brews = args.big_brews or (QUICK_BIG_BREWS if args.quick
                                        else 50000)
    if args.per_record_brews is None:
        args.per_record_brews = QUICK_PER_RECORD_BREWS if args.quick \
            else PER_RECORD_BREWS
    args.parts = [x.strip() for x in args.parts.split(',') if x]
    args.protocols = [x.strip() for x in args.protocols.split(',') if x]
    for protocol in args.protocols:
        if protocol not in harness.KINDS:
            p.error('unknown protocol %s' % protocol)
    return Bench(args).run()


if __name__ == '__main__':
    sys.exit(main())
