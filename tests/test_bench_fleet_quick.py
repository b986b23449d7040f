# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""bin/bench --fleet --quick produces every figure (a smoke test: the
figures are printed by bin/bench, never asserted here)."""
import json
import numbers
import os
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

NUMBERS = ('fleet_scale_ratio', 'failed_jobs', 'machines_offline',
           'outage_checkpoints', 'cycle_slowdown', 'duplicates',
           'worker_peak_rss_mb')
PER_N = ('fleet_cycle_s', 'cycle_ms_per_machine', 'lag_p95_s')


def _is_figure(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool) \
        and value == value and value >= 0


def test_bench_fleet_quick_produces_every_figure():
    with tempfile.TemporaryDirectory(prefix='coffee-bench-fleet-') as tmp:
        path = os.path.join(tmp, 'fleet.json')
        done = subprocess.run(
            [os.path.join(ROOT, 'bin', 'bench'), '--fleet', '--quick',
             '--json', path],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            universal_newlines=True, timeout=600)
        assert done.returncode == 0, done.stdout[-5000:]
        with open(path) as f:
            figures = json.load(f)
    for key in NUMBERS:
        assert _is_figure(figures.get(key)), (key, figures.get(key),
                                              done.stdout[-3000:])
    for key in PER_N:
        values = figures.get(key)
        assert isinstance(values, dict) and len(values) == 2, (key, values)
        for n, value in values.items():
            assert _is_figure(value), (key, n, value)
    nodes = figures.get('jobs_per_node')
    assert isinstance(nodes, dict) and sorted(nodes) == ['node1', 'node2'], \
        nodes
    for node, jobs in nodes.items():
        assert isinstance(jobs, int) and jobs >= 0, (node, jobs)
