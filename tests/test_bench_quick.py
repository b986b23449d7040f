# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""bin/bench --quick produces every figure (a smoke test: the figures are
printed by bin/bench, never asserted here)."""
import json
import numbers
import os
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

KEYS = ('ours_s', 'load_s', 'job_per_record_s', 'orm_floor_s',
        'ratio_vs_load', 'speedup_vs_job_per_record', 'ratio_vs_floor',
        'scale_ratio_50k_10k', 'worker_peak_rss_mb')


def test_bench_quick_produces_every_figure():
    with tempfile.TemporaryDirectory(prefix='coffee-bench-') as tmp:
        path = os.path.join(tmp, 'bench.json')
        done = subprocess.run(
            [os.path.join(ROOT, 'bin', 'bench'), '--quick', '--json', path],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            universal_newlines=True, timeout=1200)
        assert done.returncode == 0, done.stdout[-5000:]
        with open(path) as f:
            figures = json.load(f)
    for protocol in ('1900', '2900'):
        assert protocol in figures, done.stdout[-3000:]
        for key in KEYS:
            value = figures[protocol].get(key)
            assert isinstance(value, numbers.Real) and \
                not isinstance(value, bool), (protocol, key, value)
            assert value == value and value >= 0, (protocol, key, value)
