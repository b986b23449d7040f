#!/usr/bin/env python3
# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Reads the log of an ``odoo --test-enable`` run and says how it went.

Odoo's runner logs, for every test module it runs, "Ran N tests", and for
each one with failures "Module M: F failures, E errors"; it logs failures
and errors at ERROR level. This prints, in words, how many tests ran in how many modules
and how many did not pass, then every ERROR or CRITICAL line of the log.
The exit status is 0 only when tests ran, all passed, and the log holds no
ERROR line.

Usage: odoo_test_report.py LABEL LOGFILE
"""
import re
import sys

LOG_LINE = re.compile(
    r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (?P<level>[A-Z]+) '
    r'(?P<db>\S+) (?P<logger>\S+): (?P<message>.*)$')
RAN = re.compile(r'^Ran (?P<count>\d+) tests? in ')
FAILED = re.compile(
    r'^Module \S+: (?P<failures>\d+) failures, (?P<errors>\d+) errors$')


def read_report(lines):
    """(tests run, test modules run, tests not passed, ERROR lines)."""
    ran = modules = not_passed = 0
    errors = []
    for line in lines:
        match = LOG_LINE.match(line)
        if not match:
            continue
        message = match.group('message')
        if match.group('level') in ('ERROR', 'CRITICAL'):
            errors.append(line)
        found = RAN.match(message)
        if found:
            ran += int(found.group('count'))
            modules += 1
        found = FAILED.match(message)
        if found:
            not_passed += int(found.group('failures'))
            not_passed += int(found.group('errors'))
    return ran, modules, not_passed, errors


def plural(number, word):
    return '%d %s%s' % (number, word, '' if number == 1 else 's')


def main(label, path):
    with open(path, encoding='utf-8', errors='replace') as log:
        ran, modules, not_passed, errors = read_report(log)
    if not_passed:
        outcome = '%s of them did not pass' % not_passed
    elif ran:
        outcome = 'every one of them passed'
    else:
        outcome = 'no test ran at all'
    print("Odoo's own runner %s: %s run in %s, %s." % (
        label, plural(ran, 'test'), plural(modules, 'test module'),
        outcome))
    if errors:
        print('the log (%s) holds %s:' % (path, plural(len(errors),
                                                       'ERROR line')))
        for line in errors[:40]:
            print('  ' + line)
    return 0 if ran and not not_passed and not errors else 1


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    sys.exit(main(sys.argv[1], sys.argv[2]))
