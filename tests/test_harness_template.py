# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""dev/harness.py copies a template database of the addon, named by what
an install reads: a template of older code must never be copied."""
import importlib.util
import os
import shutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _harness():
    spec = importlib.util.spec_from_file_location(
        'coffee_harness_for_tests', os.path.join(ROOT, 'dev', 'harness.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


def test_template_follows_what_an_install_reads(tmp_path):
    digest = _harness()._code_digest
    top = str(tmp_path / 'addon')
    for name in ('__manifest__.py', 'models/backend.py', 'data/cron.xml',
                 'dev/bench.py', 'tests/test_x.py', '.var/up/odoo.log'):
        _write(os.path.join(top, name), name)
    first = digest(top)
    assert digest(top) == first
    # tooling, tests and run state: the same install
    for name in ('dev/bench.py', 'tests/test_x.py', '.var/up/odoo.log'):
        _write(os.path.join(top, name), 'changed')
    _write(os.path.join(top, 'emulator', 'server.py'), 'new')
    assert digest(top) == first
    # what Odoo reads, and a directory nobody listed: another install
    for name in ('models/backend.py', 'data/cron.xml', 'report/new.xml'):
        _write(os.path.join(top, name), 'changed')
        second = digest(top)
        assert second != first, name
        first = second
    os.rename(os.path.join(top, 'data', 'cron.xml'),
              os.path.join(top, 'data', 'cron2.xml'))
    assert digest(top) != first
    shutil.rmtree(os.path.join(top, 'models'))
    assert digest(top) != first
