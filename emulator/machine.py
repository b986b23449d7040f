"""Protocol-neutral machine logic: status, brewing, events, activity,
faults and counters.  The protocol modules (v1900, v2900) parse requests,
check and serialize; everything that changes the machine happens here, and
what differs between the versions (profile, time resolution, webhooks) is
asked of ``Machine.version``.
"""
import collections
import hashlib
import json
import os
import random
import threading
import time

from . import data as seed_data
from .clock import US, MachineClock, iso_utc

EVENT_TYPES = ('brew.completed', 'consumer.updated', 'beverage.updated',
               'machine.alert')

ERROR_MESSAGES = {
    'E01': 'No water',
    'E02': 'No beans',
    'E03': 'Brewing unit jammed',
    'E05': 'Heater failure',
    'E07': 'Drip tray full',
}

STATUS_KEYS = ('state', 'error_code', 'current_brew', 'current_due',
               'cups_total', 'cups_since_descaling', 'water_ml',
               'water_capacity_ml', 'beans_g', 'beans_capacity_g',
               'descaling_due')


class Version(object):
    """What the protocol-neutral code (server, machine, simulation controls,
    webhooks) asks of a firmware version, instead of testing its name; each
    version module has one (v1900.Coffee1900, v2900.Coffee2900)."""

    name = None            # --protocol, the state's protocol
    api = None             # the API class: api(machine, username, password)
    api_prefix = None      # the paths that API answers
    default_port = None
    profile = None         # what it says of itself; the levels of a new one
    states = None          # the states /_sim/state can set
    webhooks = None        # whether events are recorded for webhooks
    snapshot_kinds = None  # /_sim/snapshot: {kind in its words: table}
    snapshot_order = None  # /_sim/snapshot: the order of the rows

    @staticmethod
    def stored_time(t):
        """A time of the seed data as this firmware keeps it."""
        raise NotImplementedError

    @staticmethod
    def next_stamp(t, last):
        """The time of a change at t, the previous change being at last."""
        raise NotImplementedError

    @staticmethod
    def clock_info(machine, now):
        """What /_sim/clock shows of this version's own idea of time."""
        raise NotImplementedError


class Refusal(Exception):
    """A business refusal; ``kind`` is one of: disabled, error, busy,
    blocked, no_credit."""

    def __init__(self, kind, detail=None):
        Exception.__init__(self, kind)
        self.kind = kind
        self.detail = detail


class Counters(object):
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.requests = collections.defaultdict(collections.Counter)
            self.statuses = collections.Counter()
            self.brews_poured = 0
            self.activity = collections.Counter()
            self.in_flight = 0
            self.in_flight_max = 0
            self.faults = collections.Counter()
            self.webhook_attempts = 0
            self.webhook_successes = 0
            self.webhook_failures = 0
            self.webhook_given_up = 0
            self.malformed = collections.defaultdict(set)
            self.started = time.time()

    def request(self, path, status):
        with self.lock:
            self.requests[path][str(status)] += 1
            self.statuses[str(status)] += 1

    def snapshot(self):
        with self.lock:
            return {
                'requests': dict((p, dict(c)) for p, c in
                                 sorted(self.requests.items())),
                'statuses': dict(self.statuses),
                'brews_poured': self.brews_poured,
                'activity': dict(self.activity),
                'busy_503': self.statuses.get('503', 0),
                'rate_limited_429': self.statuses.get('429', 0),
                'in_flight': self.in_flight,
                'in_flight_max': self.in_flight_max,
                'faults': dict(self.faults),
                'webhooks': {'attempts': self.webhook_attempts,
                             'successes': self.webhook_successes,
                             'failures': self.webhook_failures,
                             'given_up': self.webhook_given_up},
                'malformed_served': dict((k, sorted(v, key=str)) for k, v in
                                         sorted(self.malformed.items())),
                'since': iso_utc(int(self.started * US)),
            }


class Machine(object):

    def __init__(self, version, store, config):
        self.version = version    # a Version
        self.protocol = version.name
        self.store = store
        self.profile = version.profile
        self.config = config      # dict, see server.DEFAULT_CONFIG
        self.counters = Counters()
        self.clock = MachineClock(store.get_meta('clock_offset_us', 0),
                                  store.get_meta('clock_frozen_at_us'))
        self._last_stamp = store.max_updated()
        self.status = self._load_status()
        self.faults = {'rate': 0.0, 'kinds': ['500'], 'seed': None,
                       'hang_seconds': 30.0, 'paths': None}
        self._fault_rnd = random.Random(0)
        self.malformed = {'rate': 0.0, 'seed': 0}
        self.tokens = {}
        self._webhooks = None
        self.on_event = None      # set by the webhook deliverer
        self._activity_thread = None
        self._activity_stop = threading.Event()

    # -- status ------------------------------------------------------------

    def _load_status(self):
        status = self.store.get_meta('status')
        if status is None:
            status = self.default_status()
        return status

    def default_status(self):
        p = self.profile
        return {'state': 'ready', 'error_code': None, 'current_brew': None,
                'current_due': None, 'cups_total': p['cups_total'],
                'cups_since_descaling': p['cups_since_descaling'],
                'water_ml': p['water_ml'],
                'water_capacity_ml': p['water_capacity_ml'],
                'beans_g': p['beans_g'],
                'beans_capacity_g': p['beans_capacity_g'],
                'descaling_due': False}

    def save_status(self):
        self.store.set_meta('status', self.status)

    def save_clock(self):
        self.store.set_meta('clock_offset_us', self.clock.offset_us)
        self.store.set_meta('clock_frozen_at_us', self.clock.frozen_at_us)

    def state(self):
        """Reported state: error / descaling / brewing / ready."""
        base = self.status['state']
        if base in ('error', 'descaling'):
            return base
        if self.status['current_brew'] is not None:
            return 'brewing'
        return 'ready'

    # -- seeding -----------------------------------------------------------

    def seed(self, spec):
        records = seed_data.generate(spec)
        stored = self.version.stored_time
        for rows in records.values():
            for rec in rows:
                for key in ('updated_us', 'started_us', 'finished_us'):
                    if rec.get(key) is not None:
                        rec[key] = stored(rec[key])
        with self.store.tx():
            for table in ('beverages', 'consumers', 'brews'):
                self.store.bulk_insert(table, records[table])
            self.store.set_meta('data', spec)
        self._last_stamp = self.store.max_updated()
        self.status = self.default_status()
        self.save_status()

    def reset(self, spec):
        """Wipe everything and seed again (clock back to real time)."""
        self.stop_activity()
        with self.store.lock:
            self.store.wipe()
            self.clock = MachineClock(0, None)
            self._last_stamp = 0
            self.tokens.clear()
            self._webhooks = None
            self.seed(spec)
            self.save_clock()

    # -- time ----------------------------------------------------------------

    def now(self):
        return self.clock.now_us()

    def stamp(self, at_us=None):
        """Time of a change: never earlier than the previous change, in the
        resolution of the version (see its ``next_stamp``)."""
        t = self.clock.now_us() if at_us is None else at_us
        with self.store.lock:
            t = self._last_stamp = self.version.next_stamp(
                t, self._last_stamp)
        return t

    # -- brewing -----------------------------------------------------------

    def settle(self):
        """Complete the cup in progress once its machine time has come."""
        cur = self.status['current_brew']
        if cur is None:
            return
        with self.store.tx():
            cur = self.status['current_brew']
            if cur is None or self.clock.now_us() < self.status['current_due']:
                return
            due = self.status['current_due']
            brew = self.store.get('brews', pk=cur)
            self.status['current_brew'] = None
            self.status['current_due'] = None
            if brew is not None and brew['status'] == 'running':
                t = self.stamp(due)
                self.store.update('brews', cur, {
                    'status': 'completed', 'finished_us': t, 'updated_us': t})
                self.status['cups_total'] += 1
                self.status['cups_since_descaling'] += 1
                self.emit('brew.completed', brew['code'])
            self.save_status()

    def check_brew(self, bev, con):
        """Refusals after the 404s, in the documented order."""
        if not bev['active']:
            raise Refusal('disabled')
        if self.status['state'] == 'error':
            raise Refusal('error', self.status['error_code'] or 'E00')
        if self.state() in ('brewing', 'descaling'):
            raise Refusal('busy')
        if con is not None and con['blocked']:
            raise Refusal('blocked')
        if con is not None and con['credit_cents'] < bev['price_cents']:
            raise Refusal('no_credit')

    def start_brew(self, bev, con):
        """Check and start a cup; returns the new brew record."""
        with self.store.tx():
            self.settle()
            self.check_brew(bev, con)
            pk = self.store.next_pk('brews', seed_data.DEMO_FIRST_LOG_NO)
            t = self.stamp()
            rec = seed_data.brew_record(pk, bev, con, 'running', t, None, t)
            self.store.insert('brews', rec)
            if con is not None and bev['price_cents']:
                self.change_consumer(con, {
                    'credit_cents': con['credit_cents'] - bev['price_cents']})
            self.status['current_brew'] = pk
            self.status['current_due'] = self.clock.now_us() + int(
                round(float(self.config['brew_seconds']) * US))
            self.save_status()
            with self.counters.lock:
                self.counters.brews_poured += 1
        return rec

    def abort_current(self):
        """The cup in progress fails (machine went to error): refund it."""
        with self.store.tx():
            cur = self.status['current_brew']
            if cur is None:
                return
            brew = self.store.get('brews', pk=cur)
            self.status['current_brew'] = None
            self.status['current_due'] = None
            if brew is not None and brew['status'] == 'running':
                t = self.stamp()
                self.store.update('brews', cur, {
                    'status': 'failed', 'finished_us': t, 'updated_us': t})
                if brew['consumer_pk'] and brew['price_cents']:
                    con = self.store.get('consumers', pk=brew['consumer_pk'])
                    if con is not None:
                        self.change_consumer(con, {
                            'credit_cents': con['credit_cents']
                            + brew['price_cents']})
            self.save_status()

    def set_state(self, state, error_code=None, levels=None):
        with self.store.tx():
            self.settle()
            if state != 'ready':
                self.abort_current()
            self.status['state'] = state
            self.status['error_code'] = error_code
            for key, value in (levels or {}).items():
                self.status[key] = value
            if state == 'descaling':
                self.status['cups_since_descaling'] = 0
                self.status['descaling_due'] = False
            self.save_status()
            if state == 'error':
                self.emit('machine.alert', self.profile['serial'], {
                    'state': 'error', 'code': error_code,
                    'message': ERROR_MESSAGES.get(error_code,
                                                  'Error %s' % error_code)})

    # -- record changes (all bump updated_us) ------------------------------

    def change_consumer(self, con, changes, emit=True):
        changes = dict(changes)
        if not any(con.get(k) != v for k, v in changes.items()):
            return con
        changes['updated_us'] = self.stamp()
        self.store.update('consumers', con['pk'], changes)
        con = dict(con, **changes)
        if emit:
            self.emit('consumer.updated', con['code'])
        return con

    def create_consumer(self, values):
        with self.store.tx():
            self.settle()
            pk = self.store.next_pk('consumers')
            rnd = random.Random('%s:%d' % (self.profile['serial'], pk))
            while True:
                code = 'con_%06x' % rnd.getrandbits(24)
                if self.store.get('consumers', code=code,
                                  with_deleted=True) is None:
                    break
            rec = {'pk': pk, 'code': code, 'badge': values['badge'],
                   'name': values.get('name'), 'email': values.get('email'),
                   'company': values.get('company'), 'vat': values.get('vat'),
                   'credit_cents': values.get('credit_cents', 0),
                   'blocked': values.get('blocked', 0), 'deleted': 0,
                   'updated_us': self.stamp()}
            self.store.insert('consumers', rec)
            self.emit('consumer.updated', code)
        return rec

    def delete_consumer(self, con):
        with self.store.tx():
            self.settle()
            t = self.stamp()
            self.store.update('consumers', con['pk'],
                              {'deleted': 1, 'updated_us': t})
            self.emit('consumer.updated', con['code'])

    def change_beverage(self, bev, changes, emit=True):
        changes = dict(changes)
        if not any(bev.get(k) != v for k, v in changes.items()):
            return bev
        changes['updated_us'] = self.stamp()
        self.store.update('beverages', bev['pk'], changes)
        bev = dict(bev, **changes)
        if emit:
            self.emit('beverage.updated', bev['code'])
        return bev

    # -- idempotency (2900) ------------------------------------------------

    def idempotent_brew(self, key):
        rows = self.store.execute(
            'SELECT brew_pk, expires_us FROM idempotency WHERE key = ?', (key,))
        if rows and rows[0][1] > self.clock.now_us():
            return self.store.get('brews', pk=rows[0][0])
        return None

    def bind_key(self, key, brew_pk):
        with self.store.tx() as db:
            now = self.clock.now_us()
            db.execute('DELETE FROM idempotency WHERE expires_us <= ?', (now,))
            db.execute('INSERT OR REPLACE INTO idempotency (key, brew_pk, '
                       'expires_us) VALUES (?, ?, ?)',
                       (key, brew_pk, now + 24 * 3600 * US))

    # -- webhooks & events (2900) ------------------------------------------

    def webhooks(self):
        if self._webhooks is None:
            rows = self.store.execute(
                'SELECT pk, code, url, events, secret FROM webhooks ORDER BY pk')
            self._webhooks = [
                {'pk': r[0], 'id': r[1], 'url': r[2],
                 'events': json.loads(r[3]), 'secret': r[4]} for r in rows]
        return self._webhooks

    def add_webhook(self, url, events):
        code = 'whk_' + os.urandom(6).hex()
        secret = 'whsec_' + os.urandom(16).hex()
        with self.store.tx() as db:
            db.execute('INSERT INTO webhooks (code, url, events, secret, '
                       'created_us) VALUES (?, ?, ?, ?, ?)',
                       (code, url, json.dumps(events), secret,
                        self.clock.now_us()))
            self._webhooks = None
        return {'id': code, 'url': url, 'events': events, 'secret': secret}

    def delete_webhook(self, code):
        with self.store.tx() as db:
            rows = db.execute('SELECT pk FROM webhooks WHERE code = ?',
                              (code,)).fetchall()
            if not rows:
                return False
            db.execute('DELETE FROM webhooks WHERE pk = ?', (rows[0][0],))
            db.execute("DELETE FROM deliveries WHERE webhook_pk = ? AND "
                       "state IN ('pending', 'sending')", (rows[0][0],))
            self._webhooks = None
        return True

    def emit(self, event_type, object_id, extra=None):
        if not self.version.webhooks:
            return
        hooks = [h for h in self.webhooks() if event_type in h['events']]
        if not hooks:
            return
        now = self.clock.now_us()
        payload = {'object_id': object_id}
        payload.update(extra or {})
        body = json.dumps({'id': 'evt_' + os.urandom(8).hex(),
                           'type': event_type, 'created_at': iso_utc(now),
                           'data': payload}, separators=(',', ':'),
                          ensure_ascii=False)
        event_id = json.loads(body)['id']
        with self.store.tx() as db:
            db.executemany(
                'INSERT INTO deliveries (webhook_pk, event_id, event_type, '
                "body, attempts, next_us, state) VALUES (?, ?, ?, ?, 0, ?, "
                "'pending')",
                [(h['pk'], event_id, event_type, body, now) for h in hooks])
        if self.on_event is not None:
            self.on_event()

    # -- faults ------------------------------------------------------------

    def set_faults(self, rate=None, kinds=None, seed=None, hang_seconds=None,
                   paths=None, malformed=None):
        if rate is not None:
            self.faults['rate'] = float(rate)
            if kinds is not None:
                self.faults['kinds'] = list(kinds)
            if hang_seconds is not None:
                self.faults['hang_seconds'] = float(hang_seconds)
            self.faults['paths'] = paths
            self.faults['seed'] = seed
            self._fault_rnd = random.Random(seed)
        if malformed is not None:
            self.malformed = {'rate': float(malformed),
                              'seed': seed if seed is not None else 0}
            with self.counters.lock:
                self.counters.malformed.clear()

    def draw_fault(self, path):
        """None or the kind of fault to inflict on this API request."""
        f = self.faults
        if f['rate'] <= 0:
            return None
        if f['paths'] and not any(path.startswith(p) for p in f['paths']):
            return None
        with self.counters.lock:
            hit = self._fault_rnd.random() < f['rate']
            kind = self._fault_rnd.choice(f['kinds']) if hit else None
            if kind:
                self.counters.faults[kind] += 1
        return kind

    def malformed_variant(self, kind, rec_id):
        """None, or a stable integer choosing how this record is damaged."""
        m = self.malformed
        if m['rate'] <= 0:
            return None
        digest = hashlib.sha1(('%s|%s|%s' % (m['seed'], kind, rec_id))
                              .encode('utf-8')).digest()
        value = int.from_bytes(digest[:8], 'big')
        if value / float(2 ** 64) >= m['rate']:
            return None
        with self.counters.lock:
            self.counters.malformed[kind].add(rec_id)
        return int.from_bytes(digest[8:12], 'big')

    # -- simulated activity ------------------------------------------------

    def activity(self, brews=0, consumers=0, beverages=0, seed=None):
        if seed is None:
            seed = self.store.get_meta('activity_seq', 0) + 1
            self.store.set_meta('activity_seq', seed)
        rnd = random.Random(seed)
        done = collections.Counter()
        with self.store.tx():
            self.settle()
            for _ in range(int(beverages)):
                self._activity_beverage(rnd)
                done['beverages'] += 1
            for _ in range(int(consumers)):
                self._activity_consumer(rnd)
                done['consumers'] += 1
            for _ in range(int(brews)):
                self._activity_brew(rnd)
                done['brews'] += 1
        with self.counters.lock:
            self.counters.activity.update(done)
        return dict(done)

    def _activity_beverage(self, rnd):
        bevs = self.store.all_rows('beverages')
        if not bevs or (len(bevs) < 20 and rnd.random() < 0.02):
            pk = self.store.next_pk('beverages')
            bev = {'pk': pk, 'code': 'bev_special_%d' % pk,
                   'names': {'en_US': 'Special %d' % pk,
                             'fr_FR': 'Spéciale %d' % pk},
                   'price_cents': 150, 'volume_ml': 150, 'strength': 3,
                   'active': 1, 'updated_us': self.stamp()}
            self.store.insert('beverages', bev)
            self.emit('beverage.updated', bev['code'])
            return
        bev = rnd.choice(bevs)
        r = rnd.random()
        if r < 0.6 and bev['price_cents'] > 0:
            price = max(10, bev['price_cents'] + rnd.choice([-20, -10, 10, 20]))
            if price == bev['price_cents']:
                price += 10
            self.change_beverage(bev, {'price_cents': price})
        elif r < 0.9 or bev['pk'] <= 9:
            names = dict(bev['names'])
            lang = rnd.choice(sorted(names))
            base = names[lang].split(' #')[0]
            new = names[lang]
            while new == names[lang]:
                new = '%s #%d' % (base, rnd.randint(1, 99))
            names[lang] = new
            self.change_beverage(bev, {'names': names})
        else:
            self.change_beverage(bev, {'active': 0 if bev['active'] else 1})

    def _activity_consumer(self, rnd):
        cons = self.store.all_rows('consumers')
        r = rnd.random()
        if not cons or r < 0.15:
            while True:
                badge = str(rnd.randint(10000, 9999999)).zfill(7)
                if self.store.get('consumers', badge=badge) is None:
                    break
            first = rnd.choice(seed_data._FIRST)
            last = rnd.choice(seed_data._LAST)
            self.create_consumer({
                'badge': badge, 'name': '%s %s' % (first, last),
                'email': None, 'credit_cents': rnd.choice([0, 500, 1000])})
            return
        con = rnd.choice(cons)
        if r < 0.25 and con['pk'] > 12 and len(cons) > 12:
            t = self.stamp()
            self.store.update('consumers', con['pk'],
                              {'deleted': 1, 'updated_us': t})
            self.emit('consumer.updated', con['code'])
        elif r < 0.7:
            self.change_consumer(con, {'credit_cents': con['credit_cents']
                                       + rnd.choice([200, 500, 1000])})
        elif r < 0.9 or con['pk'] <= 12:
            user = (con['name'] or 'someone').lower().split(' ')[0]
            email = con['email']
            while email == con['email']:
                email = '%s.%d@example.com' % (user, rnd.randint(1, 999))
            self.change_consumer(con, {'email': email})
        else:
            self.change_consumer(con, {'blocked': 0 if con['blocked'] else 1})

    def _activity_brew(self, rnd):
        bevs = [b for b in self.store.all_rows('beverages') if b['active']]
        if not bevs:
            self._activity_beverage(rnd)
            bevs = [b for b in self.store.all_rows('beverages') if b['active']]
            if not bevs:
                return
        bev = rnd.choice(bevs)
        con = None
        if rnd.random() >= 0.25:
            cons = [c for c in self.store.all_rows('consumers')
                    if not c['blocked']
                    and c['credit_cents'] >= bev['price_cents']]
            con = rnd.choice(cons) if cons else None
        s = rnd.random()
        status = 'completed' if s < 0.85 else 'cancelled' if s < 0.93 \
            else 'failed'
        t = self.stamp()
        pk = self.store.next_pk('brews', seed_data.DEMO_FIRST_LOG_NO)
        started = t - int(round(float(self.config['brew_seconds']) * US))
        if status != 'completed':
            started = t - US
        rec = seed_data.brew_record(pk, bev, con, status, started, t, t)
        self.store.insert('brews', rec)
        if status == 'completed':
            if con is not None and bev['price_cents']:
                self.change_consumer(con, {
                    'credit_cents': con['credit_cents'] - bev['price_cents']})
            self.status['cups_total'] += 1
            self.status['cups_since_descaling'] += 1
            self.save_status()
            self.emit('brew.completed', rec['code'])

    def start_background_activity(self, rate_per_s, seconds, weights, seed):
        self.stop_activity()
        stop = self._activity_stop = threading.Event()
        kinds = [k for k in ('brews', 'consumers', 'beverages')
                 if weights.get(k)]
        if not kinds:
            kinds, weights = ['brews'], {'brews': 1}
        rnd = random.Random(seed)
        interval = 1.0 / float(rate_per_s)

        def run():
            end = time.time() + float(seconds)
            nxt = time.time()
            while not stop.is_set() and time.time() < end:
                kind = rnd.choices(kinds, [float(weights[k]) for k in kinds])[0]
                try:
                    self.activity(seed=rnd.getrandbits(32), **{kind: 1})
                except Exception:  # the store may close at shutdown
                    return
                nxt += interval
                stop.wait(max(0.0, nxt - time.time()))

        thread = threading.Thread(target=run, name='activity', daemon=True)
        self._activity_thread = thread
        thread.start()

    def stop_activity(self):
        self._activity_stop.set()
        thread = self._activity_thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(5)
        self._activity_thread = None

    def activity_running(self):
        t = self._activity_thread
        return bool(t and t.is_alive())
