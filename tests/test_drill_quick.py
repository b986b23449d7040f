# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""bin/drill --quick: the reliability drill, small, on a stack of its own.

Only correctness is asserted (nothing lost, doubled, stuck, forged or
unexplained); the times it prints are figures, never checked here.
"""
import json
import os
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_drill_quick():
    with tempfile.TemporaryDirectory(prefix='drill-quick-') as tmp:
        path = os.path.join(tmp, 'drill.json')
        env = dict(os.environ)
        env.pop('PYTHON', None)
        done = subprocess.run(
            [os.path.join(ROOT, 'bin', 'drill'), '--quick', '--json', path],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            universal_newlines=True, timeout=1800, env=env)
        assert done.returncode == 0, done.stdout[-6000:]
        with open(path) as f:
            figures = json.load(f)
    # on a failure: every figure, then the end of the drill's output
    report = json.dumps(figures, indent=1)[:8000] + '\n' + done.stdout[-3000:]
    for version in ('1900', '2900'):
        faults = figures['faults'][version]
        for key in ('lost', 'extra', 'duplicates', 'stuck_jobs'):
            assert faults[key] == 0, (version, key, report)
        assert faults['killed_worker'], (version, report)
        assert faults['converge_s'] is not None, (version, report)
        bad = figures['bad_input'][version]
        for key in ('unexplained', 'half_written', 'duplicates',
                    'good_not_imported_unexplained'):
            assert bad[key] == 0, (version, key, report)
        assert bad['served_bad'] > 0, (version, report)
    concurrency = figures['concurrency']
    for key in ('duplicates', 'deadlocks_failed', 'lost', 'extra'):
        assert concurrency[key] == 0, (key, report)
    assert concurrency['converge_s'] is not None, report
    webhooks = figures['webhooks']
    for key in ('forged_accepted', 'stale_accepted', 'imported_twice'):
        assert webhooks[key] == 0, (key, report)
    assert webhooks['new_accepted'] == webhooks['sent']['new'], report
    hostile = figures['hostile']
    for key in ('credentials_leaked', 'stuck_jobs', 'unexplained',
                'oversized_accepted'):
        assert hostile[key] == 0, (key, report)
    assert hostile['odoo_answering'] is True, report
