"""bin/bench --fleet: one scheduled import of a fleet of machines.

One database, Odoo with prefork workers and queue_job's runner, one
``bin/emulator --fleet N`` process serving N machines (both versions), a
backend per machine. Every machine is imported in full first (not
measured); then each scenario makes a small delta on every machine that is
on (``POST /_fleet/delta``: 5 brews, 1 consumer change), runs the scheduled
import once the way the cron does (``method_direct_trigger`` of the
addon's cron, as admin over JSON-RPC) and waits until every job it queued
(or a job queued by one of those) is done or failed.

healthy, N small then N large (50 and 200 by default)
    ``fleet_cycle_s`` (the trigger until no job of the cycle waits),
    ``cycle_ms_per_machine``, ``lag_p95_s`` (from the delta's ``at`` on the
    machine to the ``create_date`` of its coffee.brew), and
    ``fleet_scale_ratio`` (large over small). When the projection made
    after the small N says the run would not end within ``--budget``
    seconds, the large N is lowered to what fits (the output says so).
outage, N large, 10 % offline and 10 % flaky
    ``cycle_slowdown`` (until the healthy machines' jobs are done, first
    cycle, over the healthy cycle of the same N), ``failed_jobs`` (jobs of
    the scenario's cycles that failed), ``machines_offline``,
    ``outage_checkpoints`` (checkpoints of the offline machines created
    during the scenario). A machine is found unreachable after a few
    failed tries: the scenario runs OUTAGE_CYCLES cycles, each until its
    jobs are done or failed (their retries included) or --outage-wait
    seconds have passed.
two nodes, N large, healthy
    Odoo again as two nodes behind nginx (dev/harness.py
    ``OdooServer(nodes=2)``): ``jobs_per_node`` (from nginx's access log)
    and ``duplicates`` (jobs whose tries ended more often than queue_job
    counted them, seen by a trigger on queue_job, plus brews bound
    twice).
``worker_peak_rss_mb``: the largest worker RSS seen during the cycles.

Standard library only, any python3 >= 3.7 (Odoo runs in its own
processes, see dev/harness.py).
"""
import argparse
import json
import math
import os
import re
import sys
import time
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import harness  # noqa: E402 pylint: disable=wrong-import-position

CRON_XMLID = 'connector_coffee.ir_cron_coffee_import_all'
DELTA = {'brews': 5, 'consumers': 1}
OFFLINE_SHARE = 0.1
FLAKY_SHARE = 0.1
OUTAGE_CYCLES = 2
# seconds a restart of Odoo costs, for the projection of --budget
RESTART_S = 30
FULL_SMALL, FULL_LARGE = 50, 200
KEYS = ('fleet_cycle_s', 'cycle_ms_per_machine', 'lag_p95_s',
        'fleet_scale_ratio', 'failed_jobs', 'machines_offline',
        'outage_checkpoints', 'cycle_slowdown', 'jobs_per_node',
        'duplicates', 'worker_peak_rss_mb')
TARGETS = {
    'fleet_scale_ratio': ('<=', 4.4),
    'failed_jobs': ('==', 0),
    'cycle_slowdown': ('<=', 1.2),
    'duplicates': ('==', 0),
}
BACKEND_IN_JOB = re.compile(r'coffee\.backend\((\d+),\)')
SKIPPED_RUN = re.compile(r'job (\S+) is in state \w+ instead of enqueued')
log = harness.log
# every end of a try of a job (done, failed or retried: its retry went up),
# whatever node ran it; a job that only waited for its machine (the fair
# share) or was found no longer enqueued ends none
WATCH_RUNS_SQL = """
CREATE TABLE IF NOT EXISTS bench_job_tries (uuid varchar, new_retry int);
CREATE OR REPLACE FUNCTION bench_job_try() RETURNS trigger AS $$
BEGIN
    INSERT INTO bench_job_tries VALUES (NEW.uuid, NEW.retry);
    RETURN NEW;
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS bench_job_try ON queue_job;
CREATE TRIGGER bench_job_try AFTER UPDATE ON queue_job FOR EACH ROW
    WHEN (OLD.state = 'started' AND NEW.state <> 'started'
          AND NEW.retry > OLD.retry)
    EXECUTE PROCEDURE bench_job_try();
"""


def _parse_utc(text):
    """An ISO UTC time of the emulator or of PostgreSQL, naive UTC."""
    text = text.strip().replace('T', ' ').rstrip('Z')
    text = re.sub(r'[+-]00(:?00)?$', '', text)
    for fmt in ('%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%d %H:%M:%S'):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            pass
    raise ValueError('not a time: %r' % text)


def _percentile(values, share):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1,
                       int(math.ceil(share * len(ordered))) - 1)]


class FleetBench(object):

    def __init__(self, args):
        self.args = args
        self.results = {}
        self.notes = []
        self.stack = None
        self.odoo = None
        self.fleet = None
        self.backends = {}      # machine index -> backend id
        self.rss = None
        self.cron_id = None
        self.first_import_s = 0.0
        self.large = args.large

    # -- set-up -------------------------------------------------------------

    def setup(self):
        args = self.args
        self.stack = harness.Stack()
        log('fleet emulator: %d machines' % args.large)
        self.fleet = harness.FleetProcess(args.large, seed=15).start(
            timeout=120)
        self.machines = [m.entry for m in self.fleet.machines()]
        # --quick saves a restart: two nodes from the start
        self.odoo = harness.OdooServer(
            self.stack, workers=args.workers, channels=args.channels,
            keep=args.keep, nodes=2 if args.quick else 1)
        started = time.time()
        self.odoo.create_db()
        log('database %s in %.0f s' % (self.odoo.db, time.time() - started))
        self.odoo.start()
        self.cron_id = self.odoo.call('ir.model.data', 'xmlid_to_res_id',
                                      [CRON_XMLID])
        self.rss = harness.RssSampler(self.odoo).start()

    def close(self):
        if self.rss is not None:
            self.rss.stop()
        if self.odoo is not None:
            self.odoo.close()
        if self.fleet is not None:
            self.fleet.stop()
        if self.stack is not None:
            self.stack.close()

    def add_backends(self, count):
        """Backends for the first ``count`` machines, then their first full
        import (not measured)."""
        started = time.time()
        new = []
        for machine in self.machines[:count]:
            if machine['index'] in self.backends:
                continue
            backend = self.odoo.create_backend(
                machine['version'], machine['url'], name=machine['name'],
                username=machine['username'], password=machine['password'])
            self.backends[machine['index']] = backend
            new.append(backend)
        if new:
            self.odoo.call('coffee.backend', 'import_all', [new])
            self.odoo.wait_jobs(timeout=self.args.timeout)
        self.first_import_s = time.time() - started
        log('%d backends, first import of %d in %.0f s' % (
            len(self.backends), len(new), self.first_import_s))

    def fit_large(self, small, elapsed):
        """The large N: --large, or fewer machines when the rest of the run
        would not end within --budget seconds, projected from the small
        scenario (per machine: its first import, and four cycles: healthy,
        two of the outage, two nodes; plus a restart). The retries of the
        outage's offline machines are not foreseen."""
        args = self.args
        if args.quick or not small['fleet_cycle_s']:
            return args.large
        first = self.first_import_s / args.small
        cycle = small['fleet_cycle_s'] / args.small
        left = args.budget - elapsed - RESTART_S
        fits = int((left + first * args.small) / (first + 4 * cycle))
        projected = RESTART_S + first * (args.large - args.small) \
            + 4 * cycle * args.large
        if fits >= args.large:
            return args.large
        large = max(args.small, fits)
        self.notes.append(
            'N = %d instead of %d: the rest of the run with %d machines was '
            'projected at %.0f s (first import %.2f s, cycle %.2f s per '
            'machine), %.0f s were left of the %d s budget' % (
                large, args.large, args.large, projected, first, cycle, left,
                args.budget))
        log(self.notes[-1])
        return large

    def restart_odoo(self, nodes):
        self.rss.stop()
        self.odoo.stop()
        self.odoo.nodes = nodes
        self.odoo.start()
        self.rss = harness.RssSampler(self.odoo).start()

    # -- one cycle ------------------------------------------------------------

    def last_id(self, table):
        """The last id of ``table``: what comes after it is new (a job's
        date_created has whole seconds only)."""
        return int(self.odoo.sql(
            'select coalesce(max(id), 0) from %s' % table)[0][0])

    def cycle_jobs(self, since):
        """[(uuid, state, backend id or None, retry)] of the jobs queued
        after the job ``since``."""
        rows = self.odoo.sql(
            "select uuid, state, coalesce(func_string, ''), retry "
            "from queue_job where id > %d" % since)
        jobs = []
        for uuid, state, func, retry in rows:
            found = BACKEND_IN_JOB.search(func)
            jobs.append((uuid, state, int(found.group(1)) if found else None,
                         int(retry or 0)))
        return jobs

    def run_cycle(self, watch=None, timeout=None):
        """Trigger the scheduled import once; wait until no job of the cycle
        waits (or ``timeout``). ``watch``: backend ids whose jobs' end is
        timed too. Returns (since, seconds until all ended or None, seconds
        until the watched ended or None)."""
        timeout = timeout or self.args.timeout
        since = self.last_id('queue_job')
        started = time.time()
        self.odoo.call('ir.cron', 'method_direct_trigger', [[self.cron_id]])
        watched_s = None
        while True:
            waiting = [job for job in self.cycle_jobs(since)
                       if job[1] in harness.WAITING_STATES]
            elapsed = time.time() - started
            if watch is not None and watched_s is None and not any(
                    job[2] in watch or job[2] is None for job in waiting):
                watched_s = elapsed
            if not waiting:
                return since, elapsed, watched_s
            if elapsed > timeout:
                log('cycle: %d jobs still waiting after %.0f s' % (
                    len(waiting), elapsed))
                return since, None, watched_s
            time.sleep(0.5)

    def delta(self, backends):
        """The delta on every machine that is on; {backend: (at, ids)}."""
        answer = self.fleet.delta(**DELTA)
        made = {}
        for index, done in answer.items():
            backend = self.backends.get(int(index))
            if backend in backends:
                made[backend] = (_parse_utc(done['at']),
                                 [str(b) for b in done.get('brews', [])])
        return made

    def lags(self, made):
        """Seconds from each delta brew on its machine to its record in
        Odoo; and how many are not in Odoo."""
        if not made:
            return [], 0
        rows = self.odoo.sql(
            "select backend_id, coffee_id, create_date from coffee_brew "
            "where backend_id in (%s)" % ','.join(str(b) for b in made))
        created = dict(((int(b), c), _parse_utc(d)) for b, c, d in rows)
        lags, missing = [], 0
        for backend, (at, ids) in made.items():
            for brew in ids:
                when = created.get((backend, brew))
                if when is None:
                    missing += 1
                else:
                    lags.append(max(0.0, (when - at).total_seconds()))
        return lags, missing

    # -- scenarios -------------------------------------------------------------

    def healthy(self, count):
        self.add_backends(count)
        backends = set(self.backends[m['index']]
                       for m in self.machines[:count])
        made = self.delta(backends)
        since, cycle_s, __ = self.run_cycle()
        lags, missing = self.lags(made)
        counts = self._states(since)
        result = {
            'machines': count,
            'fleet_cycle_s': round(cycle_s, 2) if cycle_s else None,
            'cycle_ms_per_machine': round(cycle_s * 1000.0 / count, 1)
            if cycle_s else None,
            'lag_p95_s': round(_percentile(lags, 0.95), 2) if lags else None,
            'brews_missing': missing, 'jobs': counts,
        }
        log('healthy N=%d: %s' % (count, result))
        return result

    def _states(self, since):
        counts = {}
        for job in self.cycle_jobs(since):
            counts[job[1]] = counts.get(job[1], 0) + 1
        return counts

    def outage(self, count, healthy_cycle_s):
        indexes = [m['index'] for m in self.machines[:count]]
        offline = indexes[3::int(round(1 / OFFLINE_SHARE))]
        flaky = indexes[7::int(round(1 / FLAKY_SHARE))]
        self.fleet.mode(offline, 'offline')
        self.fleet.mode(flaky, 'flaky')
        offline_backends = [self.backends[i] for i in offline]
        healthy = set(self.backends[i] for i in indexes
                      if i not in offline and i not in flaky)
        started = self.last_id('queue_job')
        first_checkpoint = self.last_id('connector_checkpoint')
        cycles = []
        for number in range(1, OUTAGE_CYCLES + 1):
            self.delta(set(self.backends.values()))
            since, cycle_s, healthy_s = self.run_cycle(
                watch=healthy, timeout=self.args.outage_wait)
            cycles.append({
                'cycle_s': round(cycle_s, 2) if cycle_s else None,
                'healthy_s': round(healthy_s, 2) if healthy_s else None,
                'jobs': self._states(since)})
            log('outage cycle %d: %s' % (number, cycles[-1]))
        jobs = self.cycle_jobs(started)
        failed = sum(1 for job in jobs if job[1] == 'failed')
        # still retrying when the scenario ends: not failed (yet)
        unfinished = sum(1 for job in jobs
                         if job[1] in harness.WAITING_STATES)
        checkpoints = int(self.odoo.sql(
            "select count(*) from connector_checkpoint where backend_id in "
            "(%s) and id > %d" % (
                ','.join("'coffee.backend,%d'" % b
                         for b in offline_backends) or "''",
                first_checkpoint))[0][0])
        first_healthy = cycles[0]['healthy_s']
        result = {
            'machines': count, 'machines_offline': len(offline),
            'machines_flaky': len(flaky), 'cycles': cycles,
            'failed_jobs': failed, 'jobs_unfinished': unfinished,
            'outage_checkpoints': checkpoints,
            'cycle_slowdown': round(first_healthy / healthy_cycle_s, 2)
            if first_healthy and healthy_cycle_s else None,
        }
        # back on for the next scenario; what still waits ends first
        self.fleet.mode(offline + flaky, 'healthy')
        self.odoo.wait_jobs(timeout=self.args.timeout)
        log('outage N=%d: %s' % (count, result))
        return result

    def two_nodes(self, count):
        if self.odoo.nodes != 2:
            self.restart_odoo(nodes=2)
        backends = set(self.backends[m['index']]
                       for m in self.machines[:count])
        made = self.delta(backends)
        self.odoo.sql(WATCH_RUNS_SQL)
        since, cycle_s, __ = self.run_cycle()
        jobs = self.cycle_jobs(since)
        uuids = set(job[0] for job in jobs)
        runs = [run for run in self.odoo.runjob_nodes() if run[0] in uuids]
        # a job sent to a node that found it no longer enqueued did not
        # run there (queue_job logs a warning)
        skipped = []
        for node, path in enumerate(self.odoo.node_log_paths(), 1):
            with open(path) as f:
                skipped += [(found.group(1), 'node%d' % node)
                            for found in SKIPPED_RUN.finditer(f.read())]
        per_node = dict(('node%d' % n, 0)
                        for n in range(1, self.odoo.nodes + 1))
        ran = {}
        for uuid, node in runs:
            per_node[node] = per_node.get(node, 0) + 1
            ran[uuid] = ran.get(uuid, 0) + 1
        for uuid, node in skipped:
            if uuid in ran:
                per_node[node] -= 1
                ran[uuid] -= 1
        # a job's work ran twice when it ended more tries than queue_job
        # counted (each try adds one to its retry, a wait for its machine
        # none): what the trigger saw of every job of the cycle
        jobs_twice = int(self.odoo.sql(
            "select count(*) from (select uuid from bench_job_tries "
            "group by uuid having count(*) > max(new_retry)) twice")[0][0])
        brews_twice = int(self.odoo.sql(
            "select count(*) from (select 1 from coffee_brew group by "
            "backend_id, coffee_id having count(*) > 1) twice")[0][0])
        lags, missing = self.lags(made)
        result = {
            'machines': count, 'nodes': self.odoo.nodes,
            'fleet_cycle_s': round(cycle_s, 2) if cycle_s else None,
            'jobs_per_node': per_node,
            'duplicates': jobs_twice + brews_twice,
            'jobs_run_twice': jobs_twice, 'brews_bound_twice': brews_twice,
            'jobs_sent_again': len(runs) - len(set(run[0] for run in runs)),
            'lag_p95_s': round(_percentile(lags, 0.95), 2) if lags else None,
            'brews_missing': missing, 'jobs': self._states(since),
        }
        log('two nodes N=%d: %s' % (count, result))
        return result

    # -- run, output ------------------------------------------------------------

    def run(self):
        args = self.args
        started = time.time()
        try:
            self.setup()
            small = self.healthy(args.small)
            self.results['healthy_small'] = small
            self.large = self.fit_large(small, time.time() - started)
            large = self.healthy(self.large)
            self.results['healthy_large'] = large
            self.results['outage'] = self.outage(
                self.large, large['fleet_cycle_s'])
            rss_one_node = self.rss.peak_mb
            self.results['two_nodes'] = self.two_nodes(self.large)
            self.results['worker_peak_rss_mb'] = round(
                max(rss_one_node, self.rss.peak_mb), 1)
        finally:
            self.close()
        self.total_s = time.time() - started
        return self.report()

    def figures(self):
        r = self.results
        small, large = r['healthy_small'], r['healthy_large']
        ratio = None
        if small['fleet_cycle_s'] and large['fleet_cycle_s']:
            ratio = round(large['fleet_cycle_s'] / small['fleet_cycle_s'], 2)
        return {
            'fleet_cycle_s': {str(small['machines']): small['fleet_cycle_s'],
                              str(large['machines']): large['fleet_cycle_s']},
            'cycle_ms_per_machine': {
                str(small['machines']): small['cycle_ms_per_machine'],
                str(large['machines']): large['cycle_ms_per_machine']},
            'lag_p95_s': {str(small['machines']): small['lag_p95_s'],
                          str(large['machines']): large['lag_p95_s']},
            'fleet_scale_ratio': ratio,
            'failed_jobs': r['outage']['failed_jobs'],
            'machines_offline': r['outage']['machines_offline'],
            'outage_checkpoints': r['outage']['outage_checkpoints'],
            'cycle_slowdown': r['outage']['cycle_slowdown'],
            'jobs_per_node': r['two_nodes']['jobs_per_node'],
            'duplicates': r['two_nodes']['duplicates'],
            'worker_peak_rss_mb': r['worker_peak_rss_mb'],
        }

    def report(self):
        args = self.args
        figures = self.figures()
        doc = dict(figures)
        doc['_scenarios'] = self.results
        doc['_meta'] = {
            'machines_small': args.small, 'machines_large': self.large,
            'budget_s': args.budget,
            'workers': args.workers, 'channels': args.channels,
            'delta': DELTA, 'quick': args.quick,
            'outage_cycles': OUTAGE_CYCLES, 'outage_wait_s': args.outage_wait,
            'total_s': round(self.total_s, 1),
            'targets': dict((k, harness.target_text(v))
                            for k, v in TARGETS.items()),
        }
        checks = self._checks(figures)
        lines = ['', 'bin/bench --fleet: N = %d and %d machines, %d workers, '
                 'channels %s, delta %s per machine and cycle' % (
                     args.small, self.large, args.workers, args.channels,
                     json.dumps(DELTA)), '']
        rows = []
        for key in KEYS:
            value = figures[key]
            if isinstance(value, dict):
                text = ', '.join('%s: %s' % (k, '-' if v is None else v)
                                 for k, v in sorted(value.items()))
            else:
                text = '-' if value is None else str(value)
            target, met = checks.get(key, ('', None))
            verdict = '' if met is None else ('  met' if met else
                                              '  NOT MET')
            rows.append((key, [text], target, verdict))
        lines += harness.figure_table(['value'], rows, figure_width=24,
                                      cell='%-34s')
        outage = self.results['outage']
        lines += [
            '',
            'outage: %d offline, %d flaky of %d; %d cycles, each until its '
            'jobs ended (retries included) or %d s passed; jobs still '
            'waiting at the end (neither done nor failed): %d; cycles: %s' % (
                outage['machines_offline'], outage['machines_flaky'],
                outage['machines'], OUTAGE_CYCLES, args.outage_wait,
                outage['jobs_unfinished'],
                '; '.join('%s (healthy machines %s s), jobs %s' % (
                    '%s s' % c['cycle_s'] if c['cycle_s'] is not None else
                    'not ended in %d s' % args.outage_wait, c['healthy_s'],
                    c['jobs'])
                    for c in outage['cycles'])),
            'two nodes: %s s for the cycle, jobs sent to a node again '
            '(queue_job re-sends a job not answered within 1 s) %d' % (
                self.results['two_nodes']['fleet_cycle_s'],
                self.results['two_nodes']['jobs_sent_again']),
        ]
        missing = sum(self.results[s].get('brews_missing', 0) for s in (
            'healthy_small', 'healthy_large', 'two_nodes'))
        if missing:
            lines.append('brews of a delta not in Odoo after their cycle: %d'
                         % missing)
        if self.large != FULL_LARGE and not args.quick:
            lines.append('N = %d, not %d: fleet_scale_ratio is %d over %d'
                         % (self.large, FULL_LARGE, self.large, args.small))
        lines += self.notes
        missed = [k for k, (__, met) in checks.items() if met is False]
        lines += ['', 'targets missed: %s' % (', '.join(missed) or 'none'),
                  'total run time: %.0f s' % self.total_s]
        harness.print_report(lines, doc, args.json)
        return 0

    @staticmethod
    def _checks(figures):
        checks = {}
        for key, target in TARGETS.items():
            value = figures[key]
            met = None if value is None else harness.meets(value, target)
            checks[key] = (harness.target_text(target), met)
        offline = figures['machines_offline']
        checks['outage_checkpoints'] = (
            '== machines_offline (%s)' % offline,
            figures['outage_checkpoints'] == offline)
        nodes = figures['jobs_per_node']
        checks['jobs_per_node'] = ('every node > 0',
                                   bool(nodes) and all(nodes.values()))
        return checks


def main(argv=None):
    p = argparse.ArgumentParser(
        prog='bin/bench --fleet',
        description='One scheduled import of a fleet of machines: healthy, '
                    'with machines off or flaky, on two Odoo nodes; '
                    'prints a table.')
    p.add_argument('--fleet', action='store_true', help=argparse.SUPPRESS)
    p.add_argument('--json', metavar='PATH', help='write the figures here')
    p.add_argument('--quick', action='store_true',
                   help='smoke test: 10 machines (5 for the small N), every '
                        'scenario on the two nodes')
    p.add_argument('--small', type=int, help='the small N (default 50)')
    p.add_argument('--large', type=int, help='the large N (default 200)')
    p.add_argument('--workers', type=int,
                   help='workers of each Odoo node (default 4, 2 quick)')
    p.add_argument('--channels', default='root:2,root.coffee:2')
    p.add_argument('--timeout', type=int, default=1200,
                   help='seconds an import may take')
    p.add_argument('--outage-wait', type=int,
                   help='seconds one outage cycle may take (default 300, '
                        '10 quick)')
    p.add_argument('--budget', type=int, default=1200,
                   help='seconds the whole run should take (default 1200): '
                        'the large N is lowered when the projection after '
                        'the small N says it would not fit')
    p.add_argument('--keep', action='store_true',
                   help="keep Odoo's run directory (configuration, logs)")
    args = p.parse_args(argv)
    args.small = args.small or (5 if args.quick else FULL_SMALL)
    args.large = args.large or (10 if args.quick else FULL_LARGE)
    args.workers = args.workers or (2 if args.quick else 4)
    if args.outage_wait is None:
        args.outage_wait = 10 if args.quick else 300
    if not 0 < args.small <= args.large:
        p.error('--small must be between 1 and --large')
    return FleetBench(args).run()


if __name__ == '__main__':
    sys.exit(main())
