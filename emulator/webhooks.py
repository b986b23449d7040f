"""Webhook deliveries (Coffee 2900) and the machine's background tick.

Pending deliveries live in the ``deliveries`` table, so a restarted machine
goes on retrying.  A tick thread (every 0.1 s of real time) completes the
cup in progress when its machine time has come and starts the deliveries
that are due by the MACHINE clock; each attempt runs in its own thread
(at most 8 at once) so a slow receiver holds up nobody else.
"""
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request

from .clock import US

BACKOFF_S = (5, 15, 60, 300, 900)   # after attempts 1..5
MAX_ATTEMPTS = 6
TIMEOUT_S = 10


def signature(secret, t, body):
    """The X-Coffee-Signature header value for body (bytes) signed at t."""
    msg = ('%d.' % t).encode('ascii') + body
    digest = hmac.new(secret.encode('utf-8'), msg, hashlib.sha256).hexdigest()
    return 't=%d,v1=%s' % (t, digest)


class Ticker(object):

    def __init__(self, machine, log=None):
        self.machine = machine
        self.log = log or (lambda msg: None)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._slots = threading.BoundedSemaphore(8)
        self._opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}))
        self._thread = None
        machine.on_event = self._wake.set
        with machine.store.tx() as db:
            db.execute("UPDATE deliveries SET state = 'pending' "
                       "WHERE state = 'sending'")

    def start(self):
        self._thread = threading.Thread(target=self._run, name='ticker',
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self):
        while not self._stop.is_set():
            self._wake.wait(0.1)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self.tick()
            except Exception as exc:  # keep ticking whatever happens
                if self._stop.is_set():
                    break
                self.log('ticker error: %r' % (exc,))
                time.sleep(0.5)

    def tick(self):
        """Complete the cup whose time has come, start the due deliveries
        (a machine without webhooks has none: no query then)."""
        self.machine.settle()
        if self.machine.version.webhooks and self.machine.webhooks():
            self._start_due()

    def _start_due(self):
        m = self.machine
        now = m.now()
        with m.store.tx() as db:
            rows = db.execute(
                "SELECT d.pk, d.body, d.attempts, w.url, w.secret "
                "FROM deliveries d JOIN webhooks w ON w.pk = d.webhook_pk "
                "WHERE d.state = 'pending' AND d.next_us <= ? "
                "ORDER BY d.next_us, d.pk LIMIT 32", (now,)).fetchall()
            db.executemany("UPDATE deliveries SET state = 'sending' "
                           "WHERE pk = ?", [(r[0],) for r in rows])
        for row in rows:
            self._slots.acquire()
            threading.Thread(target=self._attempt, args=row,
                             name='delivery', daemon=True).start()

    def _attempt(self, pk, body, attempts, url, secret):
        m = self.machine
        try:
            raw = body.encode('utf-8')
            if m.config.get('signature_clock') == 'real':
                t = int(time.time())
            else:
                t = m.now() // US
            req = urllib.request.Request(url, data=raw, method='POST', headers={
                'Content-Type': 'application/json',
                'User-Agent': 'Coffee2900/%s' % m.profile['firmware'],
                'X-Coffee-Event': json.loads(body)['type'],
                'X-Coffee-Signature': signature(secret, t, raw)})
            ok = False
            result = None
            try:
                with self._opener.open(req, timeout=TIMEOUT_S) as resp:
                    resp.read()
                    result = str(resp.status)
                    ok = 200 <= resp.status < 300
            except urllib.error.HTTPError as exc:
                result = str(exc.code)
                exc.close()
            except Exception as exc:
                result = type(exc).__name__
            attempts += 1
            with m.counters.lock:
                m.counters.webhook_attempts += 1
                if ok:
                    m.counters.webhook_successes += 1
                else:
                    m.counters.webhook_failures += 1
                    if attempts >= MAX_ATTEMPTS:
                        m.counters.webhook_given_up += 1
            if ok:
                state, nxt = 'delivered', 0
            elif attempts >= MAX_ATTEMPTS:
                state, nxt = 'failed', 0
            else:
                state = 'pending'
                nxt = m.now() + BACKOFF_S[attempts - 1] * US
            self.log('webhook %s attempt %d -> %s' % (url, attempts, result))
            try:
                with m.store.tx() as db:
                    db.execute('UPDATE deliveries SET attempts = ?, state = ?, '
                               'next_us = ?, last_result = ? WHERE pk = ?',
                               (attempts, state, nxt, result, pk))
            except Exception:
                pass  # shutting down
        finally:
            self._slots.release()
