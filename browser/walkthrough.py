# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""A person's walk through the Coffee Connector in a real Chromium.

Runs on the machine's newer Python (Selenium 4.51 needs 3.9 or newer), from
the environment that ``ensure_browser_tools`` (dev/lib.sh) builds; start it
with ``browser/run``. Unless ``--url`` names an Odoo that already runs, it
brings one up with ``bin/up`` on free ports (Odoo, and both demo emulators,
which the demo backends are pointed at), in a database of its own that it
drops afterwards; so it runs beside a developer's ``bin/up`` demo (8069,
8190, 8290) and beside other tests.

The steps, each with a screenshot (NN-step.png, NN-step-FAILED.png when it
fails) in the output folder:

1. log in as admin;
2. a notification posted on the bus comes back by the long polling;
3. open Settings and follow "Configure Coffee Machines" to the backends;
4. open the Coffee 2900 demo backend;
5. press Test connection (the Machine tab then shows the machine's serial);
6. press Import all, and wait until the job runner has run every job (over
   JSON-RPC), none failed;
7. open Connectors > Coffee > Backends as kanban cards: the 2900's card
   says it is reachable, and its lag;
8. open Connectors > Coffee > Brews, switch to the pivot and see cups;
9. open Connectors > Connectors > Checkpoint and see, then open, the
   checkpoint for the demo company consumer without a VAT number.

Any error in the browser's console fails the step it happened in, and so
does an Odoo error or warning dialog; no console message is ignored. bin/up
serves the web client through nginx, long polling included, so a person's
notifications and chat arrive and the long polling logs no error.
"""
import argparse
import datetime
import http.cookiejar
import json
import os
import re
import runpy
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import types
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import (
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: emulator/harness.py (standard library only): its ports and HTTP
harness = types.SimpleNamespace(**runpy.run_path(
    os.path.join(ROOT, 'emulator', 'harness.py')))
VAR = os.environ.get('COFFEE_VAR') or os.path.join(ROOT, '.var')
# Debian's browser and driver, named explicitly: without these paths
# Selenium Manager would try to download a driver (and there is no network
# for that here, nor should a test fetch a browser).
CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'

MODULE = 'connector_coffee'
BACKEND_2900 = 'Demo Coffee 2900 (kitchen)'
SERIAL_2900 = 'C29-004211'          # the 2900 emulator's demo machine
NO_VAT_COMPANY = 'Bean Counters SA'  # demo consumer 1001: company, no VAT
NO_VAT_BADGE = '1001'

STEP_TIMEOUT = 30      # seconds for one page to do what a step waits for
JOBS_TIMEOUT = 180     # seconds for the job runner to run the imports
UP_TIMEOUT = 420       # seconds for bin/up to install and serve


def say(message):
    sys.stderr.write('%s %s\n' % (time.strftime('%H:%M:%S'), message))
    sys.stderr.flush()


class StepFailed(Exception):
    pass


# -- Odoo over HTTP ----------------------------------------------------------

class OdooRPC(object):
    """JSON-RPC as the web client speaks it, with its own session."""

    def __init__(self, url, db, login, password):
        self.url = url.rstrip('/')
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self._call('/web/session/authenticate',
                   {'db': db, 'login': login, 'password': password})

    def _call(self, path, params):
        body = json.dumps({'jsonrpc': '2.0', 'method': 'call', 'id': 1,
                           'params': params}).encode()
        request = urllib.request.Request(
            self.url + path, body, {'Content-Type': 'application/json'})
        with self.opener.open(request, timeout=60) as response:
            answer = json.loads(response.read().decode())
        if answer.get('error'):
            data = answer['error'].get('data') or {}
            raise StepFailed('%s: %s' % (path, data.get('message')
                                         or answer['error']))
        # a method that returns None gets no 'result' at all
        return answer.get('result')

    def call(self, model, method, *args, **kwargs):
        return self._call('/web/dataset/call_kw', {
            'model': model, 'method': method, 'args': list(args),
            'kwargs': kwargs})

    def xmlid(self, xmlid):
        return self.call('ir.model.data', 'xmlid_to_res_id', xmlid, True)

    def poll(self, channels):
        """The bus's notifications, as the web client's long polling asks
        for them."""
        return self._call('/longpolling/poll',
                          {'channels': channels, 'last': 0})


class OwnOdoo(object):
    """bin/up on free ports with a fresh database and emulator state."""

    def __init__(self, out, keep):
        self.out = out
        self.keep = keep
        self.db = os.path.basename(out)
        # bin/up --port N: nginx on N, Odoo's workers on N+1, long
        # polling on N+2
        self.port = harness.free_port_range(3)
        self.ports = (harness.free_port(), harness.free_port())
        self.state = tempfile.mkdtemp(prefix='emulators-', dir=out)
        self.url = 'http://127.0.0.1:%d' % self.port
        self.process = None
        self.log = None

    def start(self):
        command = [
            os.path.join(ROOT, 'bin', 'up'), '--port', str(self.port),
            '--db', self.db, '--workers', '2',
            '--emulator-ports', '%d,%d' % self.ports,
            '--emulator-state', self.state]
        say('==> %s' % ' '.join(command))
        self.log = open(os.path.join(self.out, 'up.log'), 'w')
        # its own process group: the fallback kill reaches only what it ran
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + UP_TIMEOUT
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise StepFailed('bin/up stopped (status %s); see %s/up.log'
                                 % (self.process.returncode, self.out))
            if harness.http_ok(self.url + '/web/login'):
                return
            time.sleep(1)
        raise StepFailed('Odoo did not answer within %ds; see %s/up.log'
                         % (UP_TIMEOUT, self.out))

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                say('bin/up did not stop within 60s: killing its group')
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        if self.log:
            self.log.close()
        run_dir = os.path.join(VAR, 'up')
        moves = [('odoo-%s.log' % self.db, 'odoo.log')] + [
            ('emulator-%s-%d.log' % (protocol, port),
             'emulator-%s.log' % protocol)
            for protocol, port in zip(('1900', '2900'), self.ports)]
        for name, target in moves:
            source = os.path.join(run_dir, name)
            if os.path.exists(source):
                shutil.move(source, os.path.join(self.out, target))
        if self.keep:
            say('kept the database %s and the emulator state %s'
                % (self.db, self.state))
            return
        conf = os.path.join(run_dir, 'odoo-%s.conf' % self.db)
        if os.path.exists(conf):
            os.remove(conf)
        subprocess.call(['dropdb', '--if-exists', '--force', self.db])
        shutil.rmtree(os.path.join(VAR, 'data', 'filestore', self.db),
                      ignore_errors=True)
        shutil.rmtree(self.state, ignore_errors=True)


# -- the browser --------------------------------------------------------------

def new_driver():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ('--headless=new', '--no-sandbox',
                     '--disable-dev-shm-usage', '--window-size=1400,1000',
                     '--lang=en-US', '--no-first-run'):
        options.add_argument(argument)
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(STEP_TIMEOUT)
    return driver


class Walk(object):

    def __init__(self, driver, url, db, rpc, out):
        self.driver = driver
        self.url = url.rstrip('/')
        self.db = db
        self.rpc = rpc
        self.out = out
        self.number = 0
        self.console = []       # every browser log entry, for console.log
        self.results = []       # (step, passed, seconds, screenshot)

    # helpers

    def wait(self, condition, message, timeout=STEP_TIMEOUT):
        def check(driver):
            try:
                return condition(driver)
            except StaleElementReferenceException:
                return False
        try:
            return WebDriverWait(self.driver, timeout, 0.2).until(check)
        except WebDriverException:
            raise StepFailed('waited %ds: %s' % (timeout, message))

    def idle(self):
        """No RPC of the web client pending, the UI not blocked, the
        Loading sign gone: twice in a row, 0.3s apart (a view that has
        just loaded often asks for more, e.g. the chatter)."""
        script = (
            "var loading = document.querySelector('.o_loading');"
            "return document.readyState === 'complete'"
            " && !document.querySelector('.oe_wait, .blockUI')"
            " && !(loading && loading.offsetParent);")
        calm = []

        def settled(driver):
            calm.append(bool(driver.execute_script(script)))
            return calm[-2:] == [True, True]
        self.wait(settled, 'the web client to finish its requests')

    def visible(self, by, selector, message=None):
        def find(driver):
            for element in driver.find_elements(by, selector):
                if element.is_displayed():
                    return element
            return False
        return self.wait(find, message or 'a visible %s' % selector)

    def click(self, by, selector, message=None):
        element = self.visible(by, selector, message)
        self.driver.execute_script(
            'arguments[0].scrollIntoView({block: "center"});', element)
        element.click()
        self.idle()
        return element

    def menu(self, xmlid):
        """Click a menu by its XML id: the top bar, or the left one."""
        selector = 'a[data-menu-xmlid="%s"]' % xmlid
        if not any(e.is_displayed() for e in
                   self.driver.find_elements(By.CSS_SELECTOR, selector)):
            more = self.driver.find_elements(
                By.CSS_SELECTOR, '#menu_more_container > a')
            if more and more[0].is_displayed():
                more[0].click()
        self.click(By.CSS_SELECTOR, selector, 'the menu %s' % xmlid)

    def header_button(self, name):
        """The form's header button that the view declares with this name
        (Odoo 11 renders a header button without its name: find the
        button's label in the view, then the button with that label)."""
        if not hasattr(self, '_backend_arch'):
            view = self.rpc.call('coffee.backend', 'fields_view_get',
                                 view_type='form')
            self._backend_arch = view['arch']
        match = re.search(r'<button\b[^>]*\bname="%s"[^>]*>' % name,
                          self._backend_arch)
        label = match and re.search(r'\bstring="([^"]*)"', match.group(0))
        if not label:
            raise StepFailed('the backend form has no button named %s'
                             % name)
        return ('//div[contains(@class, "o_statusbar_buttons")]'
                '/button[normalize-space()="%s"]' % label.group(1))

    def breadcrumb(self):
        return ' / '.join(e.text for e in self.driver.find_elements(
            By.CSS_SELECTOR, '.o_control_panel .breadcrumb li'))

    def check_dialogs(self):
        for dialog in self.driver.find_elements(
                By.CSS_SELECTOR, '.modal .o_dialog_warning, '
                                 '.modal .o_dialog_error'):
            if dialog.is_displayed():
                title = self.driver.find_elements(
                    By.CSS_SELECTOR, '.modal .modal-title')
                raise StepFailed('Odoo shows a dialog: %s: %s' % (
                    title[0].text if title else '', dialog.text[:1500]))

    def check_console(self):
        errors = []
        for entry in self.driver.get_log('browser'):
            self.console.append(entry)
            if entry.get('level') != 'SEVERE':
                continue
            message = entry.get('message', '')
            errors.append('%s: %s' % (entry.get('source'), message[:1500]))
        if errors:
            raise StepFailed('errors in the browser console:\n  '
                             + '\n  '.join(errors))

    def shot(self, name):
        path = os.path.join(self.out, '%02d-%s.png' % (self.number, name))
        self.driver.save_screenshot(path)
        return path

    def step(self, name, function):
        self.number += 1
        started = time.time()
        say('step %d: %s' % (self.number, name))
        try:
            function()
            self.idle()
            self.check_dialogs()
            self.check_console()
        except Exception as err:
            path = self.shot(name + '-FAILED')
            try:
                self.check_console()
            except StepFailed as console:
                err = StepFailed('%s\n%s' % (err, console))
            say('FAIL step %d: %s (%.1fs; %s)\n%s' % (
                self.number, name, time.time() - started, path,
                err if isinstance(err, StepFailed)
                else traceback.format_exc()))
            self.results.append((name, False, time.time() - started, path))
            return False
        path = self.shot(name)
        say('PASS step %d: %s (%.1fs; %s)' % (
            self.number, name, time.time() - started, path))
        self.results.append((name, True, time.time() - started, path))
        return True

    # the steps

    def log_in(self):
        self.driver.get(self.url + '/web/login')
        self.visible(By.CSS_SELECTOR, 'input#login').send_keys('admin')
        self.visible(By.CSS_SELECTOR, 'input#password').send_keys('admin')
        self.click(By.CSS_SELECTOR, 'form.oe_login_form button[type=submit]')
        self.visible(By.CSS_SELECTOR, '.o_web_client #oe_main_menu_navbar',
                     'the web client after logging in')
        self.visible(By.CSS_SELECTOR, '.oe_topbar_name',
                     'the user menu')
        self.idle()

    def notification(self):
        """A notification posted for this session comes back by the long
        polling the web client uses (nginx sends it to Odoo's gevent
        port; a prefork worker would answer 'bus.Bus unavailable')."""
        channel = '%s.walkthrough.%s' % (MODULE, self.db)
        message = {'walkthrough': 'notification %s' % time.time()}
        self.rpc.call('bus.bus', 'sendone', channel, message)
        answer = self.rpc.poll([channel])
        if not any(n.get('message') == message for n in answer):
            raise StepFailed('the long polling did not bring the '
                             'notification back: %r' % (answer,))

    def settings_to_backends(self):
        self.menu('base.menu_administration')
        self.menu('base_setup.menu_config')     # General Settings
        button = self.visible(
            By.XPATH, '//button[normalize-space()="Configure Coffee Machines"]',
            'a "Configure Coffee Machines" button in Settings (the Coffee '
            'Machines block)')
        self.driver.execute_script(
            'arguments[0].scrollIntoView({block: "center"});', button)
        self.shot('settings')
        button.click()
        self.idle()
        self.visible(By.CSS_SELECTOR, '.o_list_view', 'the backends list')
        action = self.rpc.xmlid(MODULE + '.coffee_backend_action')
        self.wait(lambda d: re.search(r'action=%d\b' % action,
                                      d.current_url),
                  'the URL of action %s.coffee_backend_action (%s)'
                  % (MODULE, action))
        self.visible(By.XPATH, '//tr[contains(@class, "o_data_row")]'
                     '[.//td[normalize-space()="%s"]]' % BACKEND_2900,
                     'the 2900 demo backend in the list')

    def open_backend(self):
        if not self.driver.find_elements(
                By.CSS_SELECTOR, '.o_list_view .o_data_row'):
            # the previous step failed: the menu (the OCA place) instead
            say('  (through Connectors > Coffee > Backends)')
            self.menu('connector.menu_connector_root')
            self.menu(MODULE + '.menu_coffee_backend')
        self.click(By.XPATH, '//tr[contains(@class, "o_data_row")]'
                   '/td[normalize-space()="%s"]' % BACKEND_2900)
        self.visible(By.CSS_SELECTOR, '.o_form_view', 'the backend form')
        self.wait(lambda d: BACKEND_2900 in d.find_element(
            By.CSS_SELECTOR, '.o_form_view .oe_title').text,
            'the form of %s' % BACKEND_2900)
        self.visible(By.XPATH, self.header_button('action_test_connection'))
        self.visible(By.XPATH, self.header_button('import_all'))

    def test_connection(self):
        backend = self.rpc.call('coffee.backend', 'search',
                                [('name', '=', BACKEND_2900)])
        before = self.rpc.call('coffee.backend', 'read', backend,
                               ['machine_status_date'])
        self.click(By.XPATH, self.header_button('action_test_connection'),
                   'the Test Connection button')
        self.check_dialogs()
        after = self.rpc.call('coffee.backend', 'read', backend,
                              ['machine_status_date'])
        if not after[0]['machine_status_date'] or after == before:
            raise StepFailed('Test Connection did not read the machine '
                             '(Status Read On: %s, before %s)' % (
                                 after[0]['machine_status_date'],
                                 before[0]['machine_status_date']))
        self.click(By.XPATH, '//div[contains(@class, "o_notebook")]'
                   '//a[normalize-space()="Machine"]', 'the Machine tab')
        self.wait(lambda d: SERIAL_2900 in d.find_element(
            By.CSS_SELECTOR, '.o_form_view .o_notebook').text,
            'the machine serial %s on the Machine tab' % SERIAL_2900)

    def import_all(self):
        # only the jobs queued from here on (with --url, older ones exist)
        last = self.rpc.call('queue.job', 'search_read', [], fields=['id'],
                             order='id desc', limit=1)
        last = last[0]['id'] if last else 0
        self.click(By.XPATH, self.header_button('import_all'),
                   'the Import All button')
        self.check_dialogs()
        active = ['pending', 'enqueued', 'started']
        deadline = time.time() + JOBS_TIMEOUT
        while True:
            jobs = self.rpc.call('queue.job', 'search_read',
                                 [('id', '>', last)],
                                 fields=['name', 'state', 'exc_info'])
            waiting = [j for j in jobs if j['state'] in active]
            if jobs and not waiting:
                break
            if time.time() > deadline:
                raise StepFailed('%d of %d jobs still waiting after %ds: %s'
                                 % (len(waiting), len(jobs), JOBS_TIMEOUT,
                                    [j['name'] for j in waiting][:10]))
            time.sleep(1)
        failed = [j for j in jobs if j['state'] == 'failed']
        if failed:
            raise StepFailed('%d job(s) failed:\n%s' % (len(failed), '\n'.join(
                '%s\n%s' % (j['name'], (j['exc_info'] or '')[-800:])
                for j in failed)))
        say('  %d jobs done' % len(jobs))
        # what a person sees next: the form again, counting the brews
        backend = self.rpc.call('coffee.backend', 'search',
                                [('name', '=', BACKEND_2900)])
        brews = self.rpc.call('coffee.brew', 'search_count',
                              [('backend_id', 'in', backend)])
        if not brews:
            raise StepFailed('the jobs imported no brew')
        self.driver.refresh()
        self.idle()
        self.visible(By.CSS_SELECTOR, '.o_form_view', 'the backend form')
        self.visible(By.XPATH, '//button[contains(@class, "oe_stat_button")]'
                     '[.//*[normalize-space()="Brews"]]'
                     '[.//*[normalize-space()="%d"]]' % brews,
                     'the Brews button of the form counting %d' % brews)

    def fleet_kanban(self):
        self.menu('connector.menu_connector_root')
        self.menu(MODULE + '.menu_coffee_backend')
        self.visible(By.CSS_SELECTOR, '.o_list_view', 'the backends list')
        self.click(By.CSS_SELECTOR, '.o_cp_switch_kanban',
                   'the kanban view button')
        card = ('//div[contains(@class, "o_kanban_record")]'
                '[.//*[normalize-space()="%s"]]' % BACKEND_2900)
        self.visible(By.XPATH, card, 'the card of %s' % BACKEND_2900)

        def says_how_it_is(driver):
            text = driver.find_element(By.XPATH, card).text
            return 'Reachable' in text and 'Lag:' in text
        self.wait(says_how_it_is, 'the card of %s saying Reachable and its '
                  'lag (its import is done)' % BACKEND_2900)

    def brews_pivot(self):
        self.menu('connector.menu_connector_root')
        link = ('//div[contains(@class, "oe_secondary_menu_section")]'
                '[normalize-space()="Coffee"]/following-sibling::ul[1]'
                '//a[normalize-space()="Brews"]')
        self.click(By.XPATH, link, 'the menu Connectors > Coffee > Brews')
        action = self.rpc.xmlid(MODULE + '.coffee_brew_action')
        self.wait(lambda d: re.search(r'action=%d\b' % action,
                                      d.current_url),
                  'the URL of action %s.coffee_brew_action (%s)'
                  % (MODULE, action))
        if not self.driver.find_elements(By.CSS_SELECTOR, '.o_pivot'):
            self.click(By.CSS_SELECTOR, '.o_cp_switch_pivot',
                       'the pivot view button')
        self.visible(By.CSS_SELECTOR, '.o_pivot table', 'the pivot table')
        brews = self.rpc.call('coffee.brew', 'search_count', [])
        if not brews:
            raise StepFailed('no brew was imported')
        values = [c.text.strip() for c in self.driver.find_elements(
            By.CSS_SELECTOR, '.o_pivot td.o_pivot_cell_value')]
        numbers = [float(v.replace(',', '').split()[0])
                   for v in values if re.match(r'^[\d.,]+', v)]
        if not numbers or not max(numbers) > 0:
            raise StepFailed('the pivot shows no data: %r' % values[:20])
        headers = [h.text.strip() for h in self.driver.find_elements(
            By.CSS_SELECTOR, '.o_pivot th.o_pivot_measure_row')]
        if headers and headers[-1] == 'Count' and values[len(headers) - 1] \
                != str(brews):
            raise StepFailed('the pivot counts %s brews in all, not %d'
                             % (values[len(headers) - 1], brews))
        say('  %d brews; the pivot shows %s' % (brews, values[:6]))

    def checkpoint(self):
        self.menu('connector.menu_connector_root')
        self.menu('connector.menu_checkpoint')
        self.visible(By.CSS_SELECTOR, '.o_list_view', 'the checkpoint list')
        row = ('//tr[contains(@class, "o_data_row")]'
               '[.//td[contains(., "%s")]][.//td[normalize-space()="%s"]]'
               % (NO_VAT_COMPANY, BACKEND_2900))
        self.visible(By.XPATH, row, 'a checkpoint row naming %s, from %s'
                     % (NO_VAT_COMPANY, BACKEND_2900))
        self.shot('checkpoint-list')
        self.click(By.XPATH, row + '/td[contains(., "%s")]' % NO_VAT_COMPANY)
        self.visible(By.CSS_SELECTOR, '.o_form_view', 'the checkpoint form')

        def says_why(driver):
            text = driver.find_element(By.CSS_SELECTOR, '.o_form_view').text
            return all(word in text for word in (
                'VAT', NO_VAT_BADGE, NO_VAT_COMPANY, BACKEND_2900))
        self.wait(says_why, 'the checkpoint saying that consumer %s of %s '
                  '(%s) has no VAT number' % (NO_VAT_BADGE, BACKEND_2900,
                                              NO_VAT_COMPANY))

    def run(self):
        steps = [
            ('login', self.log_in),
            ('notification', self.notification),
            ('settings-to-backends', self.settings_to_backends),
            ('backend-2900', self.open_backend),
            ('test-connection', self.test_connection),
            ('import-all', self.import_all),
            ('fleet-kanban', self.fleet_kanban),
            ('brews-pivot', self.brews_pivot),
            ('checkpoint', self.checkpoint),
        ]
        # the later steps find their own way when an earlier one failed, so
        # that one run tells about every step; without a login, none can
        for name, function in steps:
            if not self.step(name, function) and name == 'login':
                break
        return len(self.results) == len(steps) and all(
            passed for _, passed, _, _ in self.results)


def output_folder(base, db):
    out = os.path.join(base, db)
    os.makedirs(out)
    runs = sorted(d for d in os.listdir(base)
                  if d.startswith('coffee_browser_')
                  and os.path.isdir(os.path.join(base, d)))
    for old in runs[:-5]:       # keep the last five runs
        shutil.rmtree(os.path.join(base, old), ignore_errors=True)
    last = os.path.join(base, 'last')
    if os.path.islink(last) or os.path.exists(last):
        os.remove(last)
    os.symlink(db, last)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default=os.path.join(VAR, 'browser'),
                        help='folder of the runs (default .var/browser)')
    parser.add_argument('--keep', action='store_true',
                        help='keep the database and the emulators\' state')
    parser.add_argument('--url', help='an Odoo that runs already (its '
                        'demo data is changed: imports, checkpoints)')
    parser.add_argument('--db', help='its database (with --url)')
    args = parser.parse_args()
    if args.url and not args.db:
        parser.error('--url needs --db')
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            parser.error('%s is missing (apt-get install chromium '
                         'chromium-driver)' % path)

    # a TERM (bin/test stopped, a timeout) ends the walk through its
    # cleanup: the browser closed, bin/up stopped, the database dropped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.time()
    db = 'coffee_browser_%s_%d' % (
        datetime.datetime.now().strftime('%Y%m%d%H%M%S'), os.getpid())
    out = output_folder(os.path.abspath(args.out), db)
    say('screenshots and logs: %s' % out)
    odoo = driver = walk = None
    passed = False
    try:
        if args.url:
            url, db = args.url, args.db
        else:
            odoo = OwnOdoo(out, args.keep)
            odoo.start()
            url = odoo.url
            say('Odoo is up on %s after %.0fs' % (url, time.time() - started))
        rpc = OdooRPC(url, db, 'admin', 'admin')
        driver = new_driver()
        walk = Walk(driver, url, db, rpc, out)
        passed = walk.run()
    except Exception:
        say('FAIL: %s' % traceback.format_exc())
    finally:
        if walk:
            for number, (name, ok, seconds, path) in enumerate(walk.results):
                say('%s  %d %-22s %5.1fs  %s' % (
                    'PASS' if ok else 'FAIL', number + 1, name, seconds,
                    os.path.relpath(path, ROOT)))
            with open(os.path.join(out, 'console.log'), 'w') as log:
                for entry in walk.console:
                    log.write(json.dumps(entry) + '\n')
        if driver:
            driver.quit()
        if odoo:
            odoo.stop()
        say('%s in %.0fs; screenshots in %s' % (
            'PASSED' if passed else 'FAILED', time.time() - started, out))
    return 0 if passed else 1


if __name__ == '__main__':
    sys.exit(main())
