# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The code is clean for flake8 and pylint-odoo (bin/lint)."""
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_lint_is_clean():
    done = subprocess.run(
        [os.path.join(ROOT, 'bin', 'lint')],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        universal_newlines=True, timeout=900)
    assert done.returncode == 0, done.stdout
