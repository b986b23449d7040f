# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""README.rst and the Apps description are rendered from readme/*.rst."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_readme_is_rendered_from_fragments():
    done = subprocess.run(
        [sys.executable, os.path.join(ROOT, 'dev', 'render_readme.py'),
         '--check'],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        universal_newlines=True)
    assert done.returncode == 0, done.stdout


def test_readme_gives_the_two_commands():
    with open(os.path.join(ROOT, 'README.rst'), encoding='utf-8') as readme:
        text = readme.read()
    assert 'bin/up' in text and 'bin/test' in text
