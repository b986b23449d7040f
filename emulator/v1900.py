"""Coffee 1900 protocol (/api/v1): Basic auth, page/per_page/total,
local naive times, integer cents, {"error": "text"} bodies."""
import base64
import binascii
import hmac

from .clock import US, local_str, parse_local
from .machine import Refusal, Version
from .web import CARD_RE, Response, Router, is_int, json_response, no_content

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 50
MAX_IN_FLIGHT = 2  # more requests at once are answered 503 busy
BIG = 10240  # length of the "10 kB strings" of malformed records


class ApiError(Exception):
    def __init__(self, status, text, headers=None):
        Exception.__init__(self, text)
        self.status = status
        self.text = text
        self.headers = headers or []


def error(status, text, headers=None):
    return json_response(status, {'error': text}, headers)


def bad(detail):
    return ApiError(400, 'bad request: %s' % detail)


NOT_FOUND = 'not found'


class Api1900(object):

    def __init__(self, machine, username, password):
        self.machine = machine
        self.store = machine.store
        self.username = username
        self.password = password
        r = self.router = Router()
        r.add('/api/v1/machine', GET=self.get_machine)
        r.add('/api/v1/drinks', GET=self.list_drinks)
        r.add(r'/api/v1/drinks/(?P<drink_no>[^/]+)', GET=self.get_drink,
              PUT=self.put_drink)
        r.add('/api/v1/cards', GET=self.list_cards, POST=self.post_card)
        r.add(r'/api/v1/cards/(?P<card_no>[^/]+)', GET=self.get_card,
              PUT=self.put_card, DELETE=self.delete_card)
        r.add('/api/v1/log', GET=self.list_log)
        r.add(r'/api/v1/log\.csv', GET=self.log_csv)
        r.add('/api/v1/brew', POST=self.post_brew)

    # -- plumbing ------------------------------------------------------------

    def error_response(self, status, text, headers=None):
        return error(status, text, headers)

    def admit(self, req, in_flight, limiter):
        """None, or the refusal of a request beyond the firmware's few
        requests at once (this firmware has no rate limit)."""
        if in_flight > MAX_IN_FLIGHT:
            return error(503, 'busy')
        return None

    def unavailable(self):
        """The answer of a transient fault: the same 503 as when busy."""
        return error(503, 'busy')

    def authorized(self, req):
        value = req.header('Authorization') or ''
        if not value.startswith('Basic '):
            return False
        try:
            decoded = base64.b64decode(value[6:].strip(), validate=True)
            user, _, pw = decoded.decode('utf-8').partition(':')
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return False
        ok_user = hmac.compare_digest(user.encode('utf-8'),
                                      self.username.encode('utf-8'))
        ok_pw = hmac.compare_digest(pw.encode('utf-8'),
                                    self.password.encode('utf-8'))
        return ok_user and ok_pw

    def handle(self, req):
        if not self.authorized(req):
            return error(401, 'unauthorized',
                         [('WWW-Authenticate', 'Basic realm="coffee1900"')])
        handler, kwargs = self.router.match(req.method, req.path)
        if handler is None:
            if kwargs == 'method':
                return error(405, 'method not allowed')
            return error(404, NOT_FOUND)
        try:
            return handler(req, **kwargs)
        except ApiError as exc:
            return error(exc.status, exc.text, exc.headers)

    def body(self, req):
        try:
            value = req.json()
        except (ValueError, UnicodeDecodeError):
            raise bad('body is not JSON')
        if not isinstance(value, dict):
            raise bad('body is not a JSON object')
        return value

    # -- serialization -------------------------------------------------------

    def label(self, bev):
        names = bev['names']
        lang = self.machine.profile['language']
        if lang in names:
            return names[lang]
        return names[sorted(names)[0]] if names else ''

    def drink(self, bev, damage=True):
        rec = {'drink_no': bev['pk'], 'label': self.label(bev),
               'price_cents': bev['price_cents'],
               'volume_ml': bev['volume_ml'], 'strength': bev['strength'],
               'enabled': 1 if bev['active'] else 0,
               'modified': local_str(bev['updated_us'])}
        if damage:
            variant = self.machine.malformed_variant('drinks', bev['pk'])
            if variant is not None:
                rec = _damage(rec, variant, [
                    ('missing', 'price_cents'), ('value', 'price_cents', '1,20'),
                    ('value', 'modified', '2026-02-30 25:61:00'),
                    ('value', 'label', 'L' * BIG), ('value', 'enabled', 'yes'),
                    ('missing', 'label')])
        return rec

    def card(self, con, damage=True):
        rec = {'card_no': con['badge'], 'holder': con['name'] or '',
               'email': con['email'] or '', 'company': con['company'] or '',
               'vat': con['vat'] or '', 'credit_cents': con['credit_cents'],
               'blocked': 1 if con['blocked'] else 0,
               'modified': local_str(con['updated_us'])}
        if damage:
            variant = self.machine.malformed_variant('cards', con['badge'])
            if variant is not None:
                as_int = int(con['badge'])
                rec = _damage(rec, variant, [
                    ('missing', 'credit_cents'), ('value', 'card_no', as_int),
                    ('value', 'credit_cents', '5.00'),
                    ('value', 'modified', '2026-13-32 24:00:00'),
                    ('value', 'holder', 'H' * BIG), ('missing', 'modified')])
        return rec

    def log_entry(self, brew, damage=True):
        result = {'completed': 'ok', 'running': 'running'}.get(
            brew['status'], 'aborted')
        rec = {'log_no': brew['pk'], 'drink_no': brew['beverage_pk'],
               'card_no': brew['badge'], 'price_cents': brew['price_cents'],
               'ts': local_str(brew['updated_us']), 'result': result}
        if damage:
            variant = self.machine.malformed_variant('log', brew['pk'])
            if variant is not None:
                rec = _damage(rec, variant, [
                    ('missing', 'drink_no'), ('value', 'price_cents', 'abc'),
                    ('value', 'ts', '2026-02-30 25:61:00'),
                    ('value', 'card_no', '9' * BIG),
                    ('value', 'drink_no', '3'), ('missing', 'ts')])
        return rec

    def brew_id(self, brew):
        """The id this protocol gives a brew (a log_no, as text)."""
        return str(brew['pk'])

    def snapshot_item(self, table, rec):
        """(id, record) as this protocol shows a row, never damaged: what
        /_sim/snapshot lists."""
        if table == 'beverages':
            item = self.drink(rec, damage=False)
            return item['drink_no'], item
        if table == 'consumers':
            item = self.card(rec, damage=False)
            return item['card_no'], item
        item = self.log_entry(rec, damage=False)
        return item['log_no'], item

    # -- lists ---------------------------------------------------------------

    def paging(self, req):
        q = req.query
        try:
            page = int(q.get('page', '1'))
            per_page = int(q.get('per_page', str(DEFAULT_PER_PAGE)))
        except ValueError:
            raise bad('page and per_page must be whole numbers')
        if page < 1 or per_page < 1:
            raise bad('page and per_page start at 1')
        per_page = min(per_page, MAX_PER_PAGE)
        since = None
        if q.get('modified_after') is not None:
            try:
                since = parse_local(q['modified_after'])
            except ValueError:
                raise bad('modified_after must be YYYY-MM-DD HH:MM:SS')
        return page, per_page, since

    def listing(self, req, table, serialize):
        page, per_page, since = self.paging(req)
        total, rows = self.store.list_offset(table, since,
                                             (page - 1) * per_page, per_page)
        return json_response(200, {'page': page, 'per_page': per_page,
                                   'total': total,
                                   'items': [serialize(r) for r in rows]})

    # -- machine ---------------------------------------------------------------

    def get_machine(self, req):
        m = self.machine
        st = m.status
        p = m.profile
        return json_response(200, {
            'serial': p['serial'], 'model': p['model'],
            'firmware': p['firmware'], 'timezone': p['timezone'],
            'currency': p['currency'], 'language': p['language'],
            'state': m.state(), 'error_code': st['error_code'],
            'water_level_pct': int(round(100.0 * st['water_ml']
                                         / max(1, st['water_capacity_ml']))),
            'beans_level_pct': int(round(100.0 * st['beans_g']
                                         / max(1, st['beans_capacity_g']))),
            'cups_since_descaling': st['cups_since_descaling'],
            'descaling_due': bool(st['descaling_due'])})

    # -- drinks ----------------------------------------------------------------

    def list_drinks(self, req):
        return self.listing(req, 'beverages', self.drink)

    def find_drink(self, drink_no):
        if not drink_no.isdigit() or len(drink_no) > 9:
            raise ApiError(404, NOT_FOUND)
        bev = self.store.get('beverages', pk=int(drink_no))
        if bev is None:
            raise ApiError(404, NOT_FOUND)
        return bev

    def get_drink(self, req, drink_no):
        return json_response(200, self.drink(self.find_drink(drink_no)))

    def put_drink(self, req, drink_no):
        body = self.body(req)
        changes = {}
        for key, value in body.items():
            if key == 'label':
                if not isinstance(value, str) or not 1 <= len(value) <= 100:
                    raise bad('label must be a string of 1 to 100 characters')
            elif key == 'price_cents':
                if not is_int(value) or not 0 <= value < 2 ** 31:
                    raise bad('price_cents must be an integer >= 0')
                changes['price_cents'] = value
            elif key == 'enabled':
                if not is_int(value) or value not in (0, 1):
                    raise bad('enabled must be 0 or 1')
                changes['active'] = value
            else:
                raise bad('unknown field %r' % key)
        with self.store.tx():
            bev = self.find_drink(drink_no)
            if 'label' in body:
                names = dict(bev['names'])
                names[self.machine.profile['language']] = body['label']
                changes['names'] = names
            bev = self.machine.change_beverage(bev, changes)
        return json_response(200, self.drink(bev, damage=False))

    # -- cards -----------------------------------------------------------------

    def list_cards(self, req):
        return self.listing(req, 'consumers', self.card)

    def find_card(self, card_no):
        if not CARD_RE.match(card_no):
            raise ApiError(404, NOT_FOUND)
        con = self.store.get('consumers', badge=card_no)
        if con is None:
            raise ApiError(404, NOT_FOUND)
        return con

    def get_card(self, req, card_no):
        return json_response(200, self.card(self.find_card(card_no)))

    def card_values(self, body, creating):
        values = {}
        for key, value in body.items():
            if key == 'card_no':
                if not isinstance(value, str) or not CARD_RE.match(value):
                    raise bad('card_no must be a string of 1 to 10 digits')
                values['badge'] = value
            elif key in ('holder', 'email', 'company', 'vat'):
                if not isinstance(value, str) or len(value) > 200:
                    raise bad('%s must be a string (at most 200 characters)'
                              % key)
                values[{'holder': 'name'}.get(key, key)] = value or None
            elif key == 'credit_cents':
                if not is_int(value) or not 0 <= value < 2 ** 31:
                    raise bad('credit_cents must be an integer >= 0')
                values['credit_cents'] = value
            elif key == 'blocked':
                if not is_int(value) or value not in (0, 1):
                    raise bad('blocked must be 0 or 1')
                values['blocked'] = value
            else:
                raise bad('unknown field %r' % key)
        if creating and 'badge' not in values:
            raise bad('card_no is required')
        return values

    def post_card(self, req):
        values = self.card_values(self.body(req), creating=True)
        with self.store.tx():
            if self.store.get('consumers', badge=values['badge']) is not None:
                raise ApiError(409, 'exists')
            con = self.machine.create_consumer(values)
        return json_response(201, self.card(con, damage=False))

    def put_card(self, req, card_no):
        values = self.card_values(self.body(req), creating=False)
        with self.store.tx():
            con = self.find_card(card_no)
            if values.get('badge', card_no) != card_no:
                raise bad('card_no cannot be changed')
            values.pop('badge', None)
            con = self.machine.change_consumer(con, values)
        return json_response(200, self.card(con, damage=False))

    def delete_card(self, req, card_no):
        with self.store.tx():
            con = self.find_card(card_no)
            self.machine.delete_consumer(con)
        return no_content()

    # -- log -------------------------------------------------------------------

    def list_log(self, req):
        return self.listing(req, 'brews', self.log_entry)

    def log_csv(self, req):
        since = None
        if req.query.get('modified_after') is not None:
            try:
                since = parse_local(req.query['modified_after'])
            except ValueError:
                raise bad('modified_after must be YYYY-MM-DD HH:MM:SS')
        rows = self.store.execute(
            'SELECT pk, beverage_pk, badge, price_cents, updated_us, status '
            'FROM brews WHERE updated_us >= ? ORDER BY pk',
            (since if since is not None else -2 ** 62,))
        lines = ['log_no;drink_no;card_no;price_cents;ts;result']
        results = {'completed': 'ok', 'running': 'running'}
        damaged = self.machine.malformed_variant
        for pk, drink_no, badge, price, upd, status in rows:
            cols = [str(pk), str(drink_no), badge or '', str(price),
                    local_str(upd), results.get(status, 'aborted')]
            variant = damaged('log', pk)
            if variant is not None:
                kind = variant % 4
                if kind == 0:
                    cols = cols[:-1]                 # a missing column
                elif kind == 1:
                    cols[3] = '1,20'                 # non-numeric price
                elif kind == 2:
                    cols[4] = '2026-02-30 25:61:00'  # impossible time
                else:
                    cols[1] = '9999'                 # unknown drink_no
            lines.append(';'.join(cols))
        body = ('\n'.join(lines) + '\n').encode('utf-8')
        name = 'coffee1900-%s-log.csv' % self.machine.profile['serial']
        return Response(200, body, 'text/csv; charset=utf-8', [
            ('Content-Disposition', 'attachment; filename="%s"' % name)])

    # -- brew ------------------------------------------------------------------

    def post_brew(self, req):
        body = self.body(req)
        for key in body:
            if key not in ('drink_no', 'card_no'):
                raise bad('unknown field %r' % key)
        drink_no = body.get('drink_no')
        card_no = body.get('card_no')
        if not is_int(drink_no):
            raise bad('drink_no must be an integer')
        if card_no is not None and (not isinstance(card_no, str)
                                    or not CARD_RE.match(card_no)):
            raise bad('card_no must be a string of 1 to 10 digits')
        with self.store.tx():
            bev = self.store.get('beverages', pk=drink_no)
            if bev is None:
                raise ApiError(404, NOT_FOUND)
            con = None
            if card_no is not None:
                con = self.store.get('consumers', badge=card_no)
                if con is None:
                    raise ApiError(404, NOT_FOUND)
            try:
                brew = self.machine.start_brew(bev, con)
            except Refusal as exc:
                status, text = {
                    'disabled': (409, 'disabled'),
                    'error': (503, exc.detail or 'E00'),
                    'busy': (409, 'brewing'),
                    'blocked': (423, 'blocked'),
                    'no_credit': (402, 'no credit')}[exc.kind]
                raise ApiError(status, text)
        return json_response(202, {'log_no': brew['pk']})


def _damage(rec, variant, choices):
    """Apply one of the damage ``choices`` (chosen by variant) to rec."""
    rec = dict(rec)
    choice = choices[variant % len(choices)]
    if choice[0] == 'missing':
        rec.pop(choice[1], None)
    else:
        rec[choice[1]] = choice[2]
    return rec


class Coffee1900(Version):
    """What sets the Coffee 1900 apart (see machine.Version)."""

    name = '1900'
    api = Api1900
    api_prefix = '/api/v1/'
    default_port = 8190
    profile = {
        'serial': 'C19-000123', 'model': '1900', 'firmware': '1.9.4',
        'timezone': 'Europe/Brussels', 'currency': 'EUR',
        'language': 'en_US', 'languages': ['en_US'],
        'water_ml': 1600, 'water_capacity_ml': 2000,
        'beans_g': 550, 'beans_capacity_g': 1000,
        'cups_total': 9120, 'cups_since_descaling': 412,
    }
    #: the states /_sim/state can set (the firmware cannot descale)
    states = ('ready', 'error')
    #: no webhooks: events are not recorded
    webhooks = False
    #: /_sim/snapshot: the kinds by this protocol's names, and their order
    snapshot_kinds = {'drinks': 'beverages', 'cards': 'consumers',
                      'log': 'brews'}
    snapshot_order = 'updated_us, pk'

    @staticmethod
    def stored_time(t):
        """A seed time as the firmware keeps it: whole seconds."""
        return t - t % US

    @staticmethod
    def next_stamp(t, last):
        """Time of a change at t after one at last: whole seconds, never
        earlier than last (several changes share a second)."""
        return max(t - t % US, last)

    @staticmethod
    def clock_info(machine, now):
        """What /_sim/clock adds: the naive local time the API shows."""
        return {'local': local_str(now),
                'timezone': machine.profile['timezone']}
