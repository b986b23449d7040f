# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""OCA's pre-commit hooks pass (bin/lint), and they run offline."""
import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_lint_is_clean():
    done = subprocess.run(
        [os.path.join(ROOT, 'bin', 'lint')],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        universal_newlines=True, timeout=900)
    assert done.returncode == 0, done.stdout


def test_hooks_fetch_no_repository():
    """Every hook is local: pre-commit clones nothing."""
    with open(os.path.join(ROOT, '.pre-commit-config.yaml')) as f:
        config = f.read()
    repos = re.findall(r'^\s*- repo:\s*(\S+)', config, re.M)
    assert repos == ['local']
    languages = set(re.findall(r'^\s*language:\s*(\S+)', config, re.M))
    assert languages == {'system'}
    hooks = set(re.findall(r'^\s*- id:\s*(\S+)', config, re.M))
    assert {'oca-checks-odoo-module', 'oca-checks-po', 'flake8', 'isort',
            'pylint_odoo', 'pylint_odoo_optional'} <= hooks
