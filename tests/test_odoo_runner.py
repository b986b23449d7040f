# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""How bin/test reads the log of Odoo's own runner (dev/odoo_test_report.py).

The pass itself runs in bin/test, before pytest; this checks the reader on
lines as Odoo 11's runner writes them.
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPORT = os.path.join(ROOT, 'dev', 'odoo_test_report.py')
HEAD = '2026-12-01 08:20:27,660 12643 %s db %s: %s'
TESTS = 'odoo.addons.connector_coffee.tests.test_%s'


def report(tmp_path, lines):
    log = tmp_path / 'odoo.log'
    log.write_text('\n'.join(HEAD % line for line in lines) + '\n')
    done = subprocess.run(
        [sys.executable, REPORT, 'at install (-i)', str(log)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        universal_newlines=True)
    return done.returncode, done.stdout


def test_counts_runs_and_failures(tmp_path):
    status, text = report(tmp_path, [
        ('INFO', TESTS % 'a', 'Ran 6 tests in 0.345s'),
        ('ERROR', TESTS % 'a', 'FAILED'),
        ('INFO', TESTS % 'a', ' (failures=1, errors=2)'),
        ('ERROR', 'odoo.modules.module',
         'Module connector_coffee: 1 failures, 2 errors'),
        ('INFO', TESTS % 'b', 'Ran 4 tests in 1.000s'),
        ('INFO', TESTS % 'b', 'OK'),
    ])
    assert status == 1
    assert ("Odoo's own runner at install (-i): 10 tests run in 2 test "
            "modules, 3 of them did not pass.") in text
    assert 'holds 2 ERROR lines' in text
    assert 'passed' not in text.splitlines()[0]


def test_all_passed(tmp_path):
    status, text = report(tmp_path, [
        ('INFO', TESTS % 'a', 'Ran 1 test in 0.3s'),
        ('INFO', TESTS % 'a', 'OK'),
    ])
    assert (status, text.strip()) == (0, (
        "Odoo's own runner at install (-i): 1 test run in 1 test module, "
        "every one of them passed."))


def test_an_error_line_fails_a_green_run(tmp_path):
    status, text = report(tmp_path, [
        ('INFO', TESTS % 'a', 'Ran 3 tests in 0.3s'),
        ('ERROR', 'odoo.sql_db', 'bad query: DELETE FROM coffee_backend'),
    ])
    assert status == 1
    assert 'bad query' in text


def test_no_test_is_no_success(tmp_path):
    status, text = report(tmp_path, [
        ('INFO', 'odoo.modules.loading', 'Modules loaded.')])
    assert status == 1
    assert 'no test ran at all' in text
