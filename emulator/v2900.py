"""Coffee 2900 protocol (/api/v2): bearer tokens, cursors, UTC ISO times,
money objects, translations, ETags, idempotent brews, webhooks."""
import base64
import hashlib
import hmac
import json
import os
import re

from .clock import US, iso_utc, parse_iso
from .machine import ERROR_MESSAGES, EVENT_TYPES, Refusal, Version
from .web import CARD_RE, Router, json_response, no_content

MAX_LIMIT = 500
DEFAULT_LIMIT = 100
BIG = 10240
LANG_RE = re.compile(r'^[a-z]{2,3}(_[A-Z]{2})?(@[a-z]+)?$')
AMOUNT_RE = re.compile(r'^[0-9]{1,9}\.[0-9]{2}$')
KIND_TAG = {'beverages': 'b', 'consumers': 'c', 'brews': 'w'}


class ApiError(Exception):
    def __init__(self, status, code, message, headers=None):
        Exception.__init__(self, message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or []


def error(status, code, message, headers=None):
    return json_response(status, {'error': {'code': code, 'message': message}},
                         headers)


def invalid(message, code='validation_error'):
    return ApiError(422, code, message)


def not_found(what='record'):
    return ApiError(404, 'not_found', '%s not found' % what)


def etag_of(rec):
    digest = hashlib.sha1(json.dumps(rec, sort_keys=True).encode('utf-8'))
    return '"%s"' % digest.hexdigest()[:24]


class Api2900(object):

    def __init__(self, machine, username, password):
        self.machine = machine
        self.store = machine.store
        self.username = username
        self.password = password
        self.currency = machine.profile['currency']
        r = self.router = Router()
        r.add('/api/v2/auth/token', POST=self.post_token)
        r.add('/api/v2/machine', GET=self.get_machine)
        r.add('/api/v2/beverages', GET=self.list_beverages)
        r.add('/api/v2/beverages/(?P<rid>[^/]+)', GET=self.get_beverage,
              PATCH=self.patch_beverage)
        r.add('/api/v2/consumers', GET=self.list_consumers,
              POST=self.post_consumer)
        r.add('/api/v2/consumers/(?P<rid>[^/]+)', GET=self.get_consumer,
              PATCH=self.patch_consumer, DELETE=self.delete_consumer)
        r.add('/api/v2/brews', GET=self.list_brews, POST=self.post_brew)
        r.add('/api/v2/brews/(?P<rid>[^/]+)', GET=self.get_brew)
        r.add('/api/v2/webhooks', GET=self.list_webhooks,
              POST=self.post_webhook)
        r.add('/api/v2/webhooks/(?P<rid>[^/]+)', DELETE=self.delete_webhook)

    # -- plumbing ------------------------------------------------------------

    def error_response(self, status, text, headers=None):
        code = {404: 'not_found', 500: 'internal_error', 503: 'unavailable',
                429: 'rate_limited'}.get(status, 'error')
        return error(status, code, text, headers)

    def admit(self, req, in_flight, limiter):
        """None, or the 429 of a request beyond the rate limit (per token,
        per address for a token request or a request without one)."""
        rate = self.machine.config['rate_limit']
        auth = req.header('Authorization') or ''
        if req.path == '/api/v2/auth/token' or not auth.startswith('Bearer '):
            key = 'addr:' + req.client
        else:
            key = 'token:' + auth[7:].strip()
        retry = limiter.check(key, rate)
        if retry:
            return self.error_response(
                429, 'rate limit of %g requests per second exceeded' % rate,
                [('Retry-After', str(retry))])
        return None

    def unavailable(self):
        """The answer of a transient fault."""
        return self.error_response(503, 'temporarily unavailable',
                                   [('Retry-After', '1')])

    def check_token(self, req):
        value = req.header('Authorization') or ''
        if not value.startswith('Bearer ') or not value[7:].strip():
            raise ApiError(401, 'unauthorized',
                           'Authorization: Bearer <token> required',
                           [('WWW-Authenticate', 'Bearer')])
        token = value[7:].strip()
        expires = self.machine.tokens.get(token)
        if expires is None or expires <= self.machine.now():
            self.machine.tokens.pop(token, None)
            raise ApiError(401, 'token_expired',
                           'the token is expired or unknown',
                           [('WWW-Authenticate',
                             'Bearer error="invalid_token"')])

    def handle(self, req):
        handler, kwargs = self.router.match(req.method, req.path)
        try:
            if handler != self.post_token:
                self.check_token(req)
            if handler is None:
                if kwargs == 'method':
                    raise ApiError(405, 'method_not_allowed',
                                   'method not allowed')
                raise ApiError(404, 'not_found', 'no such endpoint')
            return handler(req, **kwargs)
        except ApiError as exc:
            return error(exc.status, exc.code, exc.message, exc.headers)

    def body(self, req):
        try:
            value = req.json()
        except (ValueError, UnicodeDecodeError):
            raise invalid('body is not JSON', 'invalid_body')
        if not isinstance(value, dict):
            raise invalid('body is not a JSON object', 'invalid_body')
        return value

    def money(self, cents):
        return {'amount': '%d.%02d' % divmod(cents, 100),
                'currency': self.currency}

    def parse_money(self, field, value):
        if not isinstance(value, dict) or set(value) != {'amount', 'currency'}:
            raise invalid('%s must be {"amount": "0.00", "currency": "%s"}'
                          % (field, self.currency))
        amount, currency = value['amount'], value['currency']
        if not isinstance(amount, str) or not AMOUNT_RE.match(amount):
            raise invalid('%s.amount must be a decimal string with two '
                          'decimals, like "1.20"' % field)
        if not isinstance(currency, str):
            raise invalid('%s.currency must be a string' % field)
        if currency != self.currency:
            raise invalid('%s.currency must be %s, the machine currency'
                          % (field, self.currency), 'currency_mismatch')
        units, cents = amount.split('.')
        return int(units) * 100 + int(cents)

    def with_etag(self, status, rec, damaged):
        return json_response(status, damaged, [('ETag', etag_of(rec))])

    def check_if_match(self, req, rec):
        wanted = req.header('If-Match')
        if wanted is None:
            return
        tags = [t.strip() for t in wanted.split(',')]
        current = etag_of(rec)
        if '*' in tags:
            return
        for tag in tags:
            if tag.startswith('W/'):
                tag = tag[2:]
            if tag == current:
                return
        raise ApiError(412, 'precondition_failed',
                       'the record changed: its ETag is now %s' % current)

    # -- serialization -------------------------------------------------------

    def damage(self, kind, rec, choices):
        variant = self.machine.malformed_variant(kind, rec['id'])
        if variant is None:
            return rec
        rec = json.loads(json.dumps(rec))
        choice = choices[variant % len(choices)]
        target = rec
        path = choice[1].split('.')
        for part in path[:-1]:
            target = target[part]
        if choice[0] == 'missing':
            target.pop(path[-1], None)
        else:
            target[path[-1]] = choice[2]
        return rec

    def beverage(self, bev):
        return {'id': bev['code'], 'name': dict(bev['names']),
                'price': self.money(bev['price_cents']),
                'volume_ml': bev['volume_ml'], 'strength': bev['strength'],
                'active': bool(bev['active']),
                'updated_at': iso_utc(bev['updated_us'])}

    def damaged_beverage(self, rec):
        return self.damage('beverages', rec, [
            ('missing', 'price'), ('value', 'price.amount', 1.2),
            ('value', 'price.currency', 'USD'),
            ('value', 'updated_at', '2026-02-30T25:61:00.000000Z'),
            ('value', 'name.en_US', 'N' * BIG), ('value', 'active', 'yes'),
            ('missing', 'name')])

    def consumer(self, con):
        if con['deleted']:
            return {'id': con['code'], 'deleted': True,
                    'updated_at': iso_utc(con['updated_us'])}
        return {'id': con['code'], 'badge': con['badge'], 'name': con['name'],
                'email': con['email'], 'company_name': con['company'],
                'vat': con['vat'], 'balance': self.money(con['credit_cents']),
                'blocked': bool(con['blocked']),
                'updated_at': iso_utc(con['updated_us'])}

    def damaged_consumer(self, rec):
        if rec.get('deleted'):
            return rec
        return self.damage('consumers', rec, [
            ('missing', 'badge'), ('value', 'balance.currency', 'USD'),
            ('value', 'badge', int(rec['badge'])),
            ('value', 'updated_at', '2026-13-32T24:00:00.000000Z'),
            ('value', 'name', 'N' * BIG), ('value', 'balance.amount', 5),
            ('missing', 'balance')])

    def brew(self, brew):
        return {'id': brew['code'], 'beverage_id': brew['beverage_code'],
                'consumer_id': brew['consumer_code'],
                'price': self.money(brew['price_cents']),
                'status': brew['status'],
                'started_at': iso_utc(brew['started_us']),
                'finished_at': (iso_utc(brew['finished_us'])
                                if brew['finished_us'] is not None else None),
                'updated_at': iso_utc(brew['updated_us'])}

    def brew_id(self, brew):
        """The id this protocol gives a brew."""
        return brew['code']

    def snapshot_item(self, table, rec):
        """(id, record) as this protocol shows a row, never damaged: what
        /_sim/snapshot lists."""
        item = {'beverages': self.beverage, 'consumers': self.consumer,
                'brews': self.brew}[table](rec)
        return item['id'], item

    def damaged_brew(self, rec):
        return self.damage('brews', rec, [
            ('missing', 'beverage_id'), ('value', 'price.currency', 'USD'),
            ('value', 'started_at', '2026-02-30T25:61:00.000000Z'),
            ('value', 'status', 7), ('value', 'beverage_id', 'b' * BIG),
            ('value', 'price.amount', '1.2.0'), ('missing', 'updated_at')])

    # -- lists ---------------------------------------------------------------

    def encode_cursor(self, table, rec):
        raw = json.dumps([KIND_TAG[table], rec['updated_us'], rec['code'],
                          self.machine.now() // US], separators=(',', ':'))
        return base64.urlsafe_b64encode(raw.encode('utf-8')).decode(
            'ascii').rstrip('=')

    def decode_cursor(self, table, cursor):
        try:
            pad = '=' * (-len(cursor) % 4)
            raw = base64.urlsafe_b64decode((cursor + pad).encode('ascii'))
            tag, updated, code, issued = json.loads(raw.decode('utf-8'))
            if (tag != KIND_TAG[table] or not isinstance(updated, int)
                    or not isinstance(code, str)
                    or not isinstance(issued, int)):
                raise ValueError(tag)
        except (ValueError, TypeError, UnicodeError):
            raise ApiError(400, 'invalid_cursor', 'the cursor is not valid')
        ttl = float(self.machine.config.get('cursor_ttl', 3600))
        if self.machine.now() // US - issued > ttl:
            raise ApiError(400, 'cursor_expired',
                           'the cursor is older than %d seconds' % ttl)
        return updated, code

    def listing(self, req, table, serialize, damage):
        q = req.query
        try:
            limit = int(q.get('limit', str(DEFAULT_LIMIT)))
        except ValueError:
            raise ApiError(400, 'invalid_parameter',
                           'limit must be a whole number')
        if limit < 1:
            raise ApiError(400, 'invalid_parameter', 'limit starts at 1')
        limit = min(limit, MAX_LIMIT)
        since = None
        if q.get('updated_since') is not None:
            text = q['updated_since']
            # a '+' that was not percent-encoded arrives as a space
            text = re.sub(r' (\d{2}:?\d{2})$', r'+\1', text)
            try:
                since = parse_iso(text)
            except ValueError:
                raise ApiError(400, 'invalid_parameter',
                               'updated_since must be an ISO-8601 time with '
                               'a zone, like 2026-11-20T07:31:00.000000Z')
        after = None
        if q.get('cursor'):
            after = self.decode_cursor(table, q['cursor'])
        flag = q.get('include_deleted', 'false').lower()
        if flag not in ('true', 'false', '1', '0'):
            raise ApiError(400, 'invalid_parameter',
                           'include_deleted must be true or false')
        include_deleted = flag in ('true', '1')
        rows = self.store.list_cursor(table, since, after, limit + 1,
                                      include_deleted)
        more = len(rows) > limit
        rows = rows[:limit]
        nxt = self.encode_cursor(table, rows[-1]) if more else None
        return json_response(200, {
            'data': [damage(serialize(r)) for r in rows],
            'next_cursor': nxt})

    # -- auth ----------------------------------------------------------------

    def post_token(self, req):
        body = self.body(req)
        user = body.get('username')
        pw = body.get('password')
        if not isinstance(user, str) or not isinstance(pw, str) or not (
                hmac.compare_digest(user.encode('utf-8'),
                                    self.username.encode('utf-8'))
                & hmac.compare_digest(pw.encode('utf-8'),
                                      self.password.encode('utf-8'))):
            raise ApiError(401, 'unauthorized', 'wrong username or password')
        m = self.machine
        ttl = int(m.config['token_ttl'])
        token = base64.urlsafe_b64encode(os.urandom(24)).decode('ascii')
        now = m.now()
        for old, expires in list(m.tokens.items()):
            if expires <= now:
                m.tokens.pop(old, None)
        m.tokens[token] = now + ttl * US
        return json_response(200, {'access_token': token,
                                   'token_type': 'Bearer', 'expires_in': ttl})

    # -- machine ---------------------------------------------------------------

    def get_machine(self, req):
        m = self.machine
        st = m.status
        p = m.profile
        errors = []
        if st['error_code']:
            errors.append({'code': st['error_code'],
                           'message': ERROR_MESSAGES.get(
                               st['error_code'], 'Error %s' % st['error_code'])})
        return json_response(200, {
            'serial': p['serial'], 'model': p['model'],
            'firmware': p['firmware'], 'currency': p['currency'],
            'languages': list(p['languages']),
            'status': {'state': m.state(), 'water_ml': st['water_ml'],
                       'water_capacity_ml': st['water_capacity_ml'],
                       'beans_g': st['beans_g'],
                       'beans_capacity_g': st['beans_capacity_g'],
                       'descaling_due': bool(st['descaling_due']),
                       'errors': errors},
            'counters': {'cups_total': st['cups_total'],
                         'cups_since_descaling': st['cups_since_descaling']}})

    # -- beverages ---------------------------------------------------------------

    def list_beverages(self, req):
        return self.listing(req, 'beverages', self.beverage,
                            self.damaged_beverage)

    def find(self, table, rid, what):
        rec = self.store.get(table, code=rid)
        if rec is None:
            raise not_found(what)
        return rec

    def get_beverage(self, req, rid):
        rec = self.beverage(self.find('beverages', rid, 'beverage'))
        return self.with_etag(200, rec, self.damaged_beverage(rec))

    def patch_beverage(self, req, rid):
        body = self.body(req)
        changes = {}
        for key, value in body.items():
            if key == 'name':
                if not isinstance(value, dict) or not value:
                    raise invalid('name must be an object of translations')
                for lang, text in value.items():
                    if not LANG_RE.match(lang):
                        raise invalid('%r is not a language code like fr_FR'
                                      % lang)
                    if not isinstance(text, str) or not 1 <= len(text) <= 100:
                        raise invalid('name.%s must be a string of 1 to 100 '
                                      'characters' % lang)
            elif key == 'price':
                changes['price_cents'] = self.parse_money('price', value)
            elif key == 'active':
                if not isinstance(value, bool):
                    raise invalid('active must be true or false')
                changes['active'] = 1 if value else 0
            else:
                raise invalid('unknown or read-only field %r' % key)
        with self.store.tx():
            bev = self.find('beverages', rid, 'beverage')
            self.check_if_match(req, self.beverage(bev))
            if 'name' in body:
                names = dict(bev['names'])
                names.update(body['name'])
                changes['names'] = names
            bev = self.machine.change_beverage(bev, changes)
        rec = self.beverage(bev)
        return self.with_etag(200, rec, rec)

    # -- consumers ---------------------------------------------------------------

    def list_consumers(self, req):
        return self.listing(req, 'consumers', self.consumer,
                            self.damaged_consumer)

    def get_consumer(self, req, rid):
        rec = self.consumer(self.find('consumers', rid, 'consumer'))
        return self.with_etag(200, rec, self.damaged_consumer(rec))

    def consumer_values(self, body, creating):
        values = {}
        for key, value in body.items():
            if key == 'badge':
                if not isinstance(value, str) or not CARD_RE.match(value):
                    raise invalid('badge must be a string of 1 to 10 digits')
                values['badge'] = value
            elif key in ('name', 'email', 'company_name', 'vat'):
                if value is not None and (not isinstance(value, str)
                                          or len(value) > 200):
                    raise invalid('%s must be a string (at most 200 '
                                  'characters) or null' % key)
                values[{'company_name': 'company'}.get(key, key)] = \
                    value or None
            elif key == 'balance':
                values['credit_cents'] = self.parse_money('balance', value)
            elif key == 'blocked':
                if not isinstance(value, bool):
                    raise invalid('blocked must be true or false')
                values['blocked'] = 1 if value else 0
            else:
                raise invalid('unknown or read-only field %r' % key)
        if creating and 'badge' not in values:
            raise invalid('badge is required')
        return values

    def badge_taken(self, badge, pk=None):
        other = self.store.get('consumers', badge=badge)
        return other is not None and other['pk'] != pk

    def post_consumer(self, req):
        values = self.consumer_values(self.body(req), creating=True)
        with self.store.tx():
            if self.badge_taken(values['badge']):
                raise ApiError(409, 'badge_exists',
                               'a consumer already has badge %s'
                               % values['badge'])
            con = self.machine.create_consumer(values)
        rec = self.consumer(con)
        return self.with_etag(201, rec, rec)

    def patch_consumer(self, req, rid):
        values = self.consumer_values(self.body(req), creating=False)
        with self.store.tx():
            con = self.find('consumers', rid, 'consumer')
            self.check_if_match(req, self.consumer(con))
            taken = 'badge' in values and self.badge_taken(
                values['badge'], con['pk'])
            if taken:
                raise ApiError(409, 'badge_exists',
                               'a consumer already has badge %s'
                               % values['badge'])
            con = self.machine.change_consumer(con, values)
        rec = self.consumer(con)
        return self.with_etag(200, rec, rec)

    def delete_consumer(self, req, rid):
        with self.store.tx():
            con = self.find('consumers', rid, 'consumer')
            self.check_if_match(req, self.consumer(con))
            self.machine.delete_consumer(con)
        return no_content()

    # -- brews -------------------------------------------------------------------

    def list_brews(self, req):
        return self.listing(req, 'brews', self.brew, self.damaged_brew)

    def get_brew(self, req, rid):
        rec = self.brew(self.find('brews', rid, 'brew'))
        return self.with_etag(200, rec, self.damaged_brew(rec))

    def post_brew(self, req):
        key = req.header('Idempotency-Key')
        if key is None or not 1 <= len(key) <= 64:
            raise ApiError(400, 'idempotency_key_invalid',
                           'an Idempotency-Key header of 1 to 64 characters '
                           'is required')
        m = self.machine
        with self.store.tx():
            bound = m.idempotent_brew(key)
            if bound is not None:
                rec = self.brew(bound)
                return self.with_etag(200, rec, rec)
            body = self.body(req)
            for field in body:
                if field not in ('beverage_id', 'consumer_id'):
                    raise invalid('unknown field %r' % field)
            bev_id = body.get('beverage_id')
            con_id = body.get('consumer_id')
            if not isinstance(bev_id, str):
                raise invalid('beverage_id must be a string')
            if con_id is not None and not isinstance(con_id, str):
                raise invalid('consumer_id must be a string or null')
            bev = self.find('beverages', bev_id, 'beverage')
            con = None
            if con_id is not None:
                con = self.find('consumers', con_id, 'consumer')
            try:
                brew = m.start_brew(bev, con)
            except Refusal as exc:
                if exc.kind == 'error':
                    code = exc.detail or 'E00'
                    raise ApiError(503, 'machine_error',
                                   'machine in error state: %s (%s)' % (
                                       code, ERROR_MESSAGES.get(code, 'error')))
                status, code, message = {
                    'disabled': (409, 'beverage_inactive',
                                 'the beverage is inactive'),
                    'busy': (409, 'busy', 'the machine is busy'),
                    'blocked': (423, 'blocked', 'the consumer is blocked'),
                    'no_credit': (402, 'no_credit',
                                  'the balance is lower than the price')
                }[exc.kind]
                raise ApiError(status, code, message)
            m.bind_key(key, brew['pk'])
        rec = self.brew(brew)
        return self.with_etag(201, rec, rec)

    # -- webhooks ------------------------------------------------------------------

    def list_webhooks(self, req):
        return json_response(200, {'data': [
            {'id': h['id'], 'url': h['url'], 'events': h['events']}
            for h in self.machine.webhooks()]})

    def post_webhook(self, req):
        body = self.body(req)
        for key in body:
            if key not in ('url', 'events'):
                raise invalid('unknown field %r' % key)
        url = body.get('url')
        events = body.get('events')
        if not isinstance(url, str) or not re.match(r'^https?://[^\s/]+',
                                                    url) or len(url) > 2000:
            raise invalid('url must be an http(s) URL')
        if (not isinstance(events, list) or not events
                or any(e not in EVENT_TYPES for e in events)
                or len(set(events)) != len(events)):
            raise invalid('events must be a non-empty list of distinct '
                          'events among %s' % ', '.join(EVENT_TYPES))
        return json_response(201, self.machine.add_webhook(url, events))

    def delete_webhook(self, req, rid):
        if not self.machine.delete_webhook(rid):
            raise not_found('webhook')
        return no_content()


class Coffee2900(Version):
    """What sets the Coffee 2900 apart (see machine.Version)."""

    name = '2900'
    api = Api2900
    api_prefix = '/api/v2/'
    default_port = 8290
    profile = {
        'serial': 'C29-004211', 'model': '2900', 'firmware': '2.9.1',
        'timezone': 'UTC', 'currency': 'EUR',
        'language': 'en_US', 'languages': ['en_US', 'fr_FR', 'nl_BE'],
        'water_ml': 1800, 'water_capacity_ml': 2000,
        'beans_g': 420, 'beans_capacity_g': 1000,
        'cups_total': 18211, 'cups_since_descaling': 512,
    }
    #: the states /_sim/state can set
    states = ('ready', 'error', 'descaling')
    #: events are recorded and delivered to the webhooks
    webhooks = True
    #: /_sim/snapshot: the kinds by this protocol's names, and their order
    snapshot_kinds = {'beverages': 'beverages', 'consumers': 'consumers',
                      'brews': 'brews'}
    snapshot_order = 'updated_us, code'

    @staticmethod
    def stored_time(t):
        """A seed time as the firmware keeps it: microseconds."""
        return t

    @staticmethod
    def next_stamp(t, last):
        """Time of a change at t after one at last: strictly increasing
        microseconds (no two changes share one)."""
        return max(t, last + 1)

    @staticmethod
    def clock_info(machine, now):
        """What /_sim/clock adds: nothing, the API shows UTC."""
        return {}
