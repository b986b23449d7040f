# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The addon as integrators get it: a wheel, and its life in a database.

bin/build-wheel builds the wheel; it is installed with pip ``--no-deps``
into a virtual environment that holds nothing else and sees the Odoo 11
stack (the OCA wheels included) through a ``.pth`` file, as if both were
installed side by side. From there, with this repository on no addons
path, the addon goes through what an integrator does to a live database,
each step in an Odoo process of its own whose log must hold no ERROR line:
install (with the demo data), an import from a Coffee 2900 emulator,
upgrade (``-u``), uninstall, install again.
"""
import json
import os
import re
import subprocess
import sys
import sysconfig
import uuid
import zipfile

import pytest

import odoo

from ..emulator.harness import EmulatorProcess
from .test_install import (
    LOG_LINE,
    complaints,
    create_database,
    drop_database,
    keychain_options,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULE = 'connector_coffee'
PREFIX = 'odoo/addons/%s/' % MODULE
WHEEL_NAME = re.compile(
    r'^odoo11_addon_connector_coffee-(?P<version>11\.0\.\d+\.\d+\.\d+)'
    r'(\.99\.dev\d+)?-py3-none-any\.whl$')
# the development tooling, absent from the wheel, and the tests that run it
TOOLING = ('.ci/', '.var/', 'bin/', 'browser/', 'dev/', 'setup/')
TOOLING_TESTS = (
    'test_bench_fleet_quick', 'test_bench_quick', 'test_browser',
    'test_drill_quick', 'test_install', 'test_lint', 'test_odoo_runner',
    'test_readme', 'test_wheel')
# the stack's Odoo and OCA addons: where the addon is not
STACK_ADDONS = os.path.join(os.path.dirname(odoo.__file__), 'addons')

RUN_ODOO = 'import odoo.cli; odoo.cli.main()'
# an Odoo script: sys.argv is [config file, database, ...]
SCRIPT_HEAD = '''
import json, sys
import odoo
conf, db = sys.argv[1:3]
odoo.tools.config.parse_config(['-c', conf, '-d', db])
'''
WHERE_IS_THE_ADDON = SCRIPT_HEAD + '''
import odoo.addons.connector_coffee as addon
print(addon.__file__)
'''
IMPORT_ALL = SCRIPT_HEAD + '''
from odoo.addons.queue_job.job import Job
url = sys.argv[3]
with odoo.api.Environment.manage(), odoo.registry(db).cursor() as cr:
    env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
    backend = env.ref('connector_coffee.coffee_backend_demo_2900')
    backend.location = url
    backend.import_all()
    # as the job runner would, one job after the other
    for __ in range(200):
        pending = env['queue.job'].search(
            [('state', '=', 'pending')], order='date_created, id', limit=1)
        if not pending:
            break
        job = Job.load(env, pending.uuid)
        job.set_started()
        job.store()
        job.set_done(result=job.perform())
        job.store()
    print(json.dumps({
        model: env[model].search_count([('backend_id', '=', backend.id)])
        for model in ('coffee.product.product', 'coffee.res.partner',
                      'coffee.brew')}))
'''
UNINSTALL = SCRIPT_HEAD + '''
with odoo.api.Environment.manage(), odoo.registry(db).cursor() as cr:
    env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
    env['ir.module.module'].search(
        [('name', '=', 'connector_coffee')]).button_immediate_uninstall()
'''
# what the addon may have left in other addons' tables
LEFTOVERS = {
    'job functions': "SELECT count(*) FROM queue_job_function "
                     "WHERE name LIKE '<coffee.%%'",
    'channels': "SELECT count(*) FROM queue_job_channel "
                "WHERE name = 'coffee'",
    'jobs': "SELECT count(*) FROM queue_job WHERE model_name LIKE 'coffee.%%'",
    'records': "SELECT count(*) FROM ir_model_data "
               "WHERE module = 'connector_coffee'",
}
KEYCHAIN_LEFTOVERS = ("SELECT count(*) FROM keychain_account "
                      "WHERE namespace = 'connector_coffee'")


def manifest():
    with open(os.path.join(ROOT, '__manifest__.py')) as f:
        return eval(f.read())  # pylint: disable=eval-used


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    dist = tmp_path_factory.mktemp('dist')
    done = subprocess.run(
        [os.path.join(ROOT, 'bin', 'build-wheel'), str(dist)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        universal_newlines=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_wheel_holds_the_addon_and_not_its_tooling(wheel):
    match = WHEEL_NAME.match(os.path.basename(wheel))
    assert match, wheel
    assert match.group('version') == manifest()['version']
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(next(
            n for n in names if n.endswith('.dist-info/METADATA'))).decode()
    addon = {name[len(PREFIX):] for name in names if name.startswith(PREFIX)}
    assert not [name for name in names
                if not name.startswith(PREFIX) and '.dist-info/' not in name]
    tracked = subprocess.run(
        ['git', 'ls-files'], cwd=ROOT, stdout=subprocess.PIPE,
        universal_newlines=True, check=True).stdout.split()
    expected = {
        name for name in tracked
        if not name.startswith(TOOLING) and not name.startswith('.')
        and name not in ['tests/%s.py' % test for test in TOOLING_TESTS]}
    # what Odoo needs to install and run it, and nothing of the tooling
    assert sorted(expected - addon) == []
    assert sorted(addon - expected) == []
    assert {'__manifest__.py', 'hooks.py', 'security/ir.model.access.csv',
            'static/description/icon.png', 'emulator/harness.py'} <= addon
    requires = set(re.findall(r'^Requires-Dist: (\S+)', metadata, re.M))
    assert {'odoo11-addon-connector', 'odoo11-addon-component-event',
            'odoo11-addon-queue-job', 'requests'} <= requires
    author = re.search(r'^Author: (.*)$', metadata, re.M).group(1)
    assert author == 'Coffee Connector Authors'
    assert 'OCA' not in re.search(r'^Home-page: (.*)$', metadata, re.M).group(1)


def make_wheel_venv(path, wheel):
    """A venv with the wheel alone, on top of the stack's packages."""
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', path],
                   check=True)
    python = os.path.join(path, 'bin', 'python')
    site = subprocess.run(
        [python, '-c', 'import sysconfig; print(sysconfig.get_paths()'
                       '["purelib"])'],
        stdout=subprocess.PIPE, universal_newlines=True,
        check=True).stdout.strip()
    with open(os.path.join(site, 'odoo11_stack.pth'), 'w') as pth:
        pth.write(sysconfig.get_paths()['purelib'] + '\n')
    # like the OCA wheels, it requires an `odoo` distribution that none is
    done = subprocess.run(
        [sys.executable, '-m', 'pip', '--python', python, 'install',
         '--quiet', '--disable-pip-version-check', '--no-deps', '--no-index',
         wheel],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        universal_newlines=True)
    assert done.returncode == 0, done.stdout
    return python, site


class Lifecycle(object):
    """Odoo processes run from the wheel's venv on one database."""

    def __init__(self, python, directory, database):
        self.python = python
        self.directory = directory
        self.database = database
        self.conf = os.path.join(directory, 'odoo.conf')
        with open(self.conf, 'w') as f:
            f.write('\n'.join([
                '[options]',
                # the stack's addons only: not this repository
                'addons_path = %s' % STACK_ADDONS,
                'data_dir = %s' % os.path.join(directory, 'data'),
                'db_host = False', 'db_port = False', 'db_user = False',
                'list_db = False', 'log_level = info',
                'http_interface = 127.0.0.1'] + keychain_options() + ['']))

    def run(self, step, code, *args):
        """Run ``code`` in a process of its own; returns (stdout, log)."""
        log_path = os.path.join(self.directory, '%s.log' % step)
        if code is RUN_ODOO:
            args = ('-c', self.conf, '-d', self.database,
                    '--stop-after-init', '--logfile', log_path) + args
        else:
            args = (self.conf + '.' + step, self.database) + args
            with open(self.conf) as f, open(args[0], 'w') as step_conf:
                step_conf.write(f.read() + 'logfile = %s\n' % log_path)
        done = subprocess.run(
            [self.python, '-c', code] + list(args), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, universal_newlines=True, timeout=900)
        log = ''
        if os.path.exists(log_path):
            with open(log_path) as f:
                log = f.read()
        assert done.returncode == 0, '%s failed:\n%s\n%s' % (
            step, done.stdout[-3000:], log[-6000:])
        errors = [line for line in log.splitlines()
                  if LOG_LINE.match(line)
                  and LOG_LINE.match(line).group('level') in ('ERROR',
                                                              'CRITICAL')]
        assert errors == [], '%s logged errors:\n%s' % (step, log[-8000:])
        return done.stdout, log

    def leftovers(self):
        with odoo.sql_db.db_connect(self.database).cursor() as cr:
            found = {}
            for what, query in LEFTOVERS.items():
                cr.execute(query)
                found[what] = cr.fetchone()[0]
            cr.execute("SELECT to_regclass('keychain_account')")
            if cr.fetchone()[0]:
                cr.execute(KEYCHAIN_LEFTOVERS)
                found['keychain accounts'] = cr.fetchone()[0]
        odoo.sql_db.close_db(self.database)
        return found


def test_from_the_wheel_install_import_upgrade_uninstall_reinstall(
        wheel, tmp_path):
    python, site = make_wheel_venv(str(tmp_path / 'venv'), wheel)
    database = 'coffee_wheel_%s' % uuid.uuid4().hex[:10]
    create_database(database, str(tmp_path / 'data'))
    emulator = EmulatorProcess('2900', data='demo').start()
    try:
        cycle = Lifecycle(python, str(tmp_path), database)
        where, _ = cycle.run('where', WHERE_IS_THE_ADDON)
        assert where.strip().startswith(os.path.join(site, 'odoo', 'addons'))

        __, log = cycle.run('install', RUN_ODOO, '-i', MODULE)
        assert 'odoo.modules.loading: Modules loaded.' in log
        assert complaints(log) == []

        counts, _ = cycle.run('import', IMPORT_ALL, emulator.url)
        counts = json.loads(counts.strip().splitlines()[-1])
        assert all(counts.values()), counts

        __, log = cycle.run('upgrade', RUN_ODOO, '-u', MODULE)
        assert 'odoo.modules.loading: Modules loaded.' in log
        assert complaints(log) == []

        cycle.run('uninstall', UNINSTALL)
        leftovers = cycle.leftovers()
        assert set(leftovers.values()) == {0}, leftovers

        __, log = cycle.run('reinstall', RUN_ODOO, '-i', MODULE)
        assert 'odoo.modules.loading: Modules loaded.' in log
        assert complaints(log) == []
        counts, _ = cycle.run('import again', IMPORT_ALL, emulator.url)
        counts = json.loads(counts.strip().splitlines()[-1])
        assert all(counts.values()), counts
    finally:
        emulator.stop()
        drop_database(database)
