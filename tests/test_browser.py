# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""A person's path through the connector in a real browser (browser/run).

browser/run drives Debian's Chromium, headless, through Selenium and
Debian's chromedriver (from a tool environment on the machine's newer
Python: Selenium 4.51 needs 3.9 or newer) against a real Odoo that it
brings up with bin/up on free ports, in a database of its own, with the job
runner and both demo emulators: log in; a notification brought back by
the long polling; Settings > Configure Coffee
Machines; the 2900 demo backend; Test connection; Import all, and the jobs
run by the job runner; the backends as kanban cards, the 2900's reachable
and with its lag; Connectors > Coffee > Brews as a pivot with the
imported cups; Connectors > Checkpoint with the checkpoint of the demo
company consumer without a VAT number.

Each step leaves a screenshot in .var/browser/<run>/ (.var/browser/last is
the latest run). A step fails on any error in the browser's console (none
is ignored: bin/up serves the web client through nginx, so the long
polling reaches Odoo's gevent port) or an Odoo error dialog.
"""
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_walkthrough_in_chromium():
    walk = subprocess.Popen(
        [os.path.join(ROOT, 'browser', 'run')],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, universal_newlines=True)
    try:
        output, _ = walk.communicate(timeout=1200)
    except subprocess.TimeoutExpired:
        # TERM, not KILL: the walk then stops its Odoo and drops its database
        walk.terminate()
        output, _ = walk.communicate(timeout=180)
        output += '\n(stopped after 1200s)'
    finally:
        if walk.poll() is None:
            walk.kill()
            walk.wait()
    assert walk.returncode == 0, output
