# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Installing and upgrading the addon in a new database is quiet.

Runs Odoo as a user would, in its own process, and reads its log: any
WARNING or ERROR that names this addon, its models or its files fails.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid

import odoo
from odoo.tools import config

ODOO_BIN = os.path.join(os.path.dirname(__file__), '..', 'dev', 'odoo-bin')
LOG_LINE = re.compile(
    r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (?P<level>[A-Z]+) '
    r'(?P<db>\S+) (?P<logger>\S+): (?P<message>.*)$')
# the addon's loggers and files, its module name, its models
OURS = re.compile(
    r'odoo\.addons\.connector_coffee|addons/connector_coffee/'
    r'|module connector_coffee\b|\bcoffee\.[a-z]')


def keychain_options():
    """This server's key of the machines' credentials, as configuration
    lines (the demo data sets passwords)."""
    env = config.get('running_env')
    key_option = 'keychain_key_%s' % env if env else 'keychain_key'
    lines = ['running_env = %s' % env] if env else []
    return lines + ['%s = %s' % (key_option, config.get(key_option))]


def keychain_conf(directory):
    """A configuration file holding only ``keychain_options()``; its
    path."""
    path = os.path.join(directory, 'keychain.conf')
    with open(path, 'w') as conf:
        conf.write('\n'.join(['[options]'] + keychain_options()) + '\n')
    return path


def run_odoo(database, *args):
    with tempfile.TemporaryDirectory() as directory:
        return _run_odoo(keychain_conf(directory), database, *args)


def _run_odoo(conf, database, *args):
    command = [
        sys.executable, ODOO_BIN, '-c', conf,
        '--addons-path', config['addons_path'],
        '--data-dir', config['data_dir'],
        '-d', database, '--stop-after-init', '--log-level', 'info',
    ] + list(args)
    done = subprocess.run(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        universal_newlines=True, timeout=900)
    assert done.returncode == 0, done.stdout[-4000:]
    return done.stdout


def complaints(log):
    """WARNING and worse lines of an Odoo log that concern this addon."""
    found = []
    lines = log.splitlines()
    for index, line in enumerate(lines):
        match = LOG_LINE.match(line)
        if not match or match.group('level') in ('DEBUG', 'INFO'):
            continue
        # a traceback follows its log line: read it with the line
        following = []
        for next_line in lines[index + 1:]:
            if LOG_LINE.match(next_line):
                break
            following.append(next_line)
        text = '\n'.join([line] + following)
        if OURS.search(text):
            found.append(text)
    return found


def create_database(database, data_dir):
    """A database holding the addon's dependencies only: under bin/test
    a copy of its own made just after it installed them
    (``COFFEE_TEST_DEPS_DB``), with its filestore under ``data_dir``;
    else an empty one (``-i`` then installs them too)."""
    template = os.environ.get('COFFEE_TEST_DEPS_DB')
    if not template:
        odoo.service.db._create_empty_database(database)
        return
    with odoo.sql_db.db_connect('postgres').cursor() as cr:
        cr.autocommit(True)
        cr.execute('CREATE DATABASE "%s" ENCODING \'unicode\' '
                   'TEMPLATE "%s"' % (database, template))
    filestore = os.path.join(config['data_dir'], 'filestore', template)
    if os.path.isdir(filestore):
        shutil.copytree(filestore, os.path.join(data_dir, 'filestore',
                                                database))


def test_install_and_upgrade_are_quiet():
    database = 'coffee_install_%s' % uuid.uuid4().hex[:10]
    create_database(database, config['data_dir'])
    try:
        install_log = run_odoo(database, '-i', 'connector_coffee')
        assert 'odoo.modules.loading: Modules loaded.' in install_log
        assert complaints(install_log) == []
        upgrade_log = run_odoo(database, '-u', 'connector_coffee')
        assert 'odoo.modules.loading: Modules loaded.' in upgrade_log
        assert complaints(upgrade_log) == []
    finally:
        drop_database(database)


def drop_database(database):
    """Drop the database this test created (no database manager here)."""
    odoo.sql_db.close_db(database)
    with odoo.sql_db.db_connect('postgres').cursor() as cr:
        cr.autocommit(True)
        cr.execute('DROP DATABASE IF EXISTS "%s"' % database)
    shutil.rmtree(os.path.join(config['data_dir'], 'filestore', database),
                  ignore_errors=True)


def test_complaints_reads_our_lines_only():
    """The log reader itself: it must see what the test relies on."""
    log = '\n'.join([
        '2026-11-25 12:00:00,000 1 INFO db odoo.modules.loading: '
        'loading connector_coffee',
        '2026-11-25 12:00:00,000 1 WARNING db odoo.models: '
        'coffee.backend: field x has no string',
        '2026-11-25 12:00:00,000 1 ERROR db odoo.modules.graph: '
        'module website_crm: Unmet dependencies',
        '2026-11-25 12:00:00,000 1 ERROR db odoo.sql_db: bad query',
        'Traceback (most recent call last):',
        '  File "/x/odoo/addons/connector_coffee/models/a.py", line 1',
        '2026-11-25 12:00:00,000 1 WARNING db py.warnings: '
        '/root/.cache/connector_coffee/venv/lib/yaml.py: unsafe load',
    ])
    found = complaints(log)
    assert len(found) == 2
    assert 'coffee.backend' in found[0]
    assert 'connector_coffee/models/a.py' in found[1]
