"""Seed data: ``demo`` (small, hand written, every edge case), ``fleet``
(a smaller demo, for the machines of a fleet) and ``scale:N`` (N brews,
deterministic, fast).

Records are protocol neutral (see store.TABLES); times are UTC microseconds.
The seeding code (machine.Machine.seed) rounds times down to whole seconds
on a 1900.
"""
import calendar
import random

from .clock import US

CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
NAMED_SETS = ('demo', 'empty', 'fleet')  # and scale:N


def brew_code(pk):
    """'brw_' + 8 Crockford base-32 digits of the log number (sorts like it)."""
    digits = []
    n = pk
    for _ in range(8):
        n, r = divmod(n, 32)
        digits.append(CROCKFORD[r])
    return 'brw_' + ''.join(reversed(digits))


def brew_record(pk, bev, con, status, started_us, finished_us, updated_us):
    """A brews row (see store.TABLES): a cup of bev for consumer con (None:
    an anonymous cup) at the beverage's price."""
    return {'pk': pk, 'code': brew_code(pk),
            'beverage_pk': bev['pk'], 'beverage_code': bev['code'],
            'consumer_pk': con['pk'] if con else None,
            'consumer_code': con['code'] if con else None,
            'badge': con['badge'] if con else None,
            'price_cents': bev['price_cents'], 'status': status,
            'started_us': started_us, 'finished_us': finished_us,
            'updated_us': updated_us}


def utc(y, mo, d, h=0, mi=0, s=0, micro=0):
    return calendar.timegm((y, mo, d, h, mi, s)) * US + micro


# --------------------------------------------------------------------------
# demo

# (drink_no, code, names, price_cents, volume_ml, strength, active, updated)
_DEMO_BEVERAGES = [
    (1, 'bev_ristretto', {'en_US': 'Ristretto', 'fr_FR': 'Ristretto'},
     130, 25, 5, 1, utc(2026, 1, 15, 8, 0, 0, 0)),
    (2, 'bev_lungo', {'en_US': 'Lungo', 'fr_FR': 'Café allongé',
                      'nl_BE': 'Lungo'},
     140, 110, 3, 1, utc(2026, 1, 15, 8, 0, 0, 0)),
    (3, 'bev_espresso', {'en_US': 'Espresso', 'fr_FR': 'Expresso',
                         'nl_BE': 'Espresso'},
     120, 40, 4, 1, utc(2026, 1, 15, 8, 0, 0, 120000)),
    (4, 'bev_cappuccino', {'en_US': 'Cappuccino', 'fr_FR': 'Cappuccino',
                           'nl_BE': 'Cappuccino'},
     180, 150, 3, 1, utc(2026, 1, 15, 8, 5, 12, 500000)),
    (5, 'bev_chocolate', {'en_US': 'Hot chocolate', 'fr_FR': 'Chocolat chaud',
                          'nl_BE': 'Warme chocolade'},
     90, 200, 1, 1, utc(2026, 1, 15, 8, 7, 0, 0)),
    (6, 'bev_latte', {'en_US': 'Latte macchiato', 'fr_FR': 'Latte macchiato'},
     200, 200, 2, 1, utc(2026, 2, 2, 10, 0, 0, 0)),
    # free drink: a card without credit can still have one
    (7, 'bev_hot_water', {'en_US': 'Hot water', 'fr_FR': 'Eau chaude',
                          'nl_BE': 'Heet water'},
     0, 200, 1, 1, utc(2026, 2, 2, 10, 0, 1, 0)),
    # disabled drink / inactive beverage (it has history in the log)
    (8, 'bev_decaf', {'en_US': 'Decaf', 'fr_FR': 'Déca'},
     120, 40, 2, 0, utc(2026, 10, 1, 6, 30, 0, 0)),
    # non-ASCII label in the machine language
    (9, 'bev_cafe_creme', {'en_US': 'Café crème', 'fr_FR': 'Café crème',
                           'nl_BE': 'Koffie verkeerd'},
     160, 120, 3, 1, utc(2026, 11, 20, 7, 31, 0, 0)),
]

# (pk, code, badge, name, email, company, vat, credit_cents, blocked,
#  deleted, updated).  None = not set (the 1900 shows "").
_DEMO_CONSUMERS = [
    (1, 'con_000000', '0', 'Otto Zero', 'otto@example.com', None, None,
     1000, 0, 0, utc(2026, 11, 19, 9, 0, 0, 0)),
    (2, 'con_0000aa', '00', 'Dora Double-Zero', 'dora@example.com', None, None,
     250, 0, 0, utc(2026, 11, 19, 9, 0, 0, 0)),
    (3, 'con_8f3a21', '00042', 'Jane Doe', 'jane@example.com', None, None,
     500, 0, 0, utc(2026, 11, 21, 16, 2, 44, 0)),
    (4, 'con_42b0c7', '42', 'John Fortytwo', 'john@example.com', None, None,
     300, 0, 0, utc(2026, 11, 19, 9, 0, 0, 350000)),
    (5, 'con_99e1d3', '0000000001', 'Max Length', None, None, None,
     2000, 0, 0, utc(2026, 11, 19, 9, 15, 0, 0)),
    # company without VAT
    (6, 'con_b3a7c0', '1001', 'Bean Counters SA', 'office@beancounters.example',
     'Bean Counters SA', None, 5000, 0, 0, utc(2026, 11, 19, 10, 0, 0, 0)),
    # company with VAT
    (7, 'con_c0ffee', '1002', 'Marc Dupont', 'marc@grind.example',
     'Grind & Co BV', 'BE0403123486', 1500, 0, 0,
     utc(2026, 11, 19, 10, 0, 0, 0)),
    # blocked (has credit)
    (8, 'con_b10c4d', '2001', 'Blocked Bob', 'bob@example.com', None, None,
     800, 1, 0, utc(2026, 11, 20, 8, 0, 0, 0)),
    # no credit at all
    (9, 'con_00c4ed', '2002', 'Penny Less', 'penny@example.com', None, None,
     0, 0, 0, utc(2026, 11, 20, 8, 0, 0, 0)),
    # some credit, less than an espresso
    (10, 'con_10ca1c', '2003', 'Lou Low', 'lou@example.com', None, None,
     100, 0, 0, utc(2026, 11, 20, 8, 0, 1, 0)),
    (11, 'con_2e0e5a', '3001', 'Zoë Ångström', None, None, None,
     350, 0, 0, utc(2026, 11, 20, 12, 0, 0, 0)),
    # deleted: a tombstone on the 2900, simply gone on the 1900 (its cups
    # stay in the log with its card number)
    (12, 'con_dead01', '3002', 'Gone Gary', 'gary@example.com', None, None,
     150, 0, 1, utc(2026, 11, 22, 9, 30, 0, 0)),
]

# Demo log: 64 entries on 2026-06-12 (summer time: local = UTC+2) and
# 2026-11-20 (winter time).  Entries 48..53 (1-based, in listing order)
# share one second, so the boundary of page 1 at per_page=50 falls inside
# that second; entries 11..13 share another second.
_DEMO_BREW_COUNT = 64
DEMO_FIRST_LOG_NO = 100200


def _demo_brews(beverages, consumers):
    bev_by_pk = dict((b['pk'], b) for b in beverages)
    con_by_pk = dict((c['pk'], c) for c in consumers)
    # beverage and consumer patterns (consumer None = anonymous cup)
    bev_cycle = [3, 4, 2, 3, 1, 5, 6, 3, 7, 9, 3, 4, 8, 2]
    con_cycle = [3, None, 1, 2, 4, 5, 6, 7, None, 8, 9, 10, 11, 12, 3, None]
    status_of = {5: 'cancelled', 17: 'failed', 30: 'cancelled', 40: 'running',
                 49: 'failed', 50: 'cancelled', 58: 'failed', 63: 'running'}
    rows = []
    t = utc(2026, 6, 12, 6, 0, 0, 0)
    for i in range(_DEMO_BREW_COUNT):
        pos = i + 1  # 1-based listing position
        if pos in (12, 13):
            t += 137000          # same second as entry 11
        elif 49 <= pos <= 53:
            t += 0 if pos == 49 else 211000  # 48 and 49 share a microsecond
        elif pos == 60:
            t = utc(2026, 11, 20, 7, 31, 12, 0)  # winter time, like the doc
        elif pos == 48:
            t = (t // US + 97) * US + 1000
        else:
            t = (t // US + 37 + (i * 53) % 251) * US + (i * 7919) % 1000 * 1000
        bev = bev_by_pk[bev_cycle[i % len(bev_cycle)]]
        con_pk = con_cycle[i % len(con_cycle)]
        con = con_by_pk[con_pk] if con_pk else None
        status = status_of.get(pos, 'completed')
        if status == 'running':
            started, finished = t, None
        elif status == 'completed':
            started, finished = t - 3 * US, t
        else:
            started, finished = t - 1 * US, t
        rows.append(brew_record(DEMO_FIRST_LOG_NO + i, bev, con, status,
                                started, finished, t))
    return rows


def _bev_dict(t):
    return dict(zip(('pk', 'code', 'names', 'price_cents', 'volume_ml',
                     'strength', 'active', 'updated_us'), t))


def _con_dict(t):
    return dict(zip(('pk', 'code', 'badge', 'name', 'email', 'company', 'vat',
                     'credit_cents', 'blocked', 'deleted', 'updated_us'), t))


def demo():
    beverages = [_bev_dict(t) for t in _DEMO_BEVERAGES]
    consumers = [_con_dict(t) for t in _DEMO_CONSUMERS]
    brews = _demo_brews(beverages, consumers)
    return {'beverages': beverages, 'consumers': consumers, 'brews': brews}


def empty():
    return {'beverages': [], 'consumers': [], 'brews': []}


FLEET_BREWS = 20


def fleet():
    """One small machine of a fleet: the demo beverages and consumers and
    the first FLEET_BREWS demo brews (a cancelled and a failed one among
    them), so that a first import of a hundred machines stays quick."""
    records = demo()
    records['brews'] = records['brews'][:FLEET_BREWS]
    return records


# --------------------------------------------------------------------------
# scale:N

_EXTRA_BEVERAGES = [
    ('doppio', 'Doppio', 'Doppio', 'Doppio'),
    ('americano', 'Americano', 'Américain', 'Americano'),
    ('flat_white', 'Flat white', 'Flat white', None),
    ('cortado', 'Cortado', 'Cortado', 'Cortado'),
    ('mocha', 'Mocha', 'Moka', 'Mokka'),
    ('macchiato', 'Macchiato', 'Macchiato', None),
    ('chai', 'Chai latte', 'Chaï latte', 'Chai latte'),
    ('tea', 'Black tea', 'Thé noir', 'Zwarte thee'),
    ('green_tea', 'Green tea', 'Thé vert', 'Groene thee'),
    ('milk', 'Warm milk', 'Lait chaud', 'Warme melk'),
    ('irish', 'Irish coffee (no whisky)', 'Irish coffee (sans whisky)', None),
]

_FIRST = ['Ann', 'Bart', 'Chloé', 'Dirk', 'Emma', 'François', 'Greet', 'Hugo',
          'Inès', 'Jan', 'Katrien', 'Luc', 'Marie', 'Noah', 'Olivia', 'Pieter',
          'Quentin', 'Rita', 'Sofie', 'Thomas', 'Ursula', 'Victor', 'Wout',
          'Xavier', 'Yasmine', 'Zeno']
_LAST = ['Peeters', 'Janssens', 'Maes', 'Jacobs', 'Dubois', 'Lambert',
         'Dupont', 'Claes', 'Goossens', 'Wouters', 'De Smet', 'Martin',
         'Willems', 'Leclercq', 'Mertens', "D'Hondt", 'Van den Broeck']
_COMPANIES = ['Bean Counters SA', 'Grind & Co BV', 'Arabica Partners NV',
              'Roast Logistics SRL', 'Crema Consulting']


def scale(n, seed=2900):
    """n brews, ~n/50 consumers, 20 beverages; same input, same output."""
    rnd = random.Random(seed)
    base = demo()
    beverages = list(base['beverages'])
    t0 = utc(2026, 2, 1)
    for i, (slug, en, fr, nl) in enumerate(_EXTRA_BEVERAGES):
        names = {'en_US': en, 'fr_FR': fr}
        if nl:
            names['nl_BE'] = nl
        beverages.append({
            'pk': 10 + i, 'code': 'bev_' + slug, 'names': names,
            'price_cents': rnd.choice([80, 100, 120, 150, 180, 220, 250]),
            'volume_ml': rnd.choice([40, 80, 150, 200, 250]),
            'strength': rnd.randint(1, 5), 'active': 0 if i == 5 else 1,
            'updated_us': t0 + rnd.randint(0, 86400) * US})
    consumers = [c for c in base['consumers']]
    want = max(len(consumers), n // 50)
    badges = set(c['badge'] for c in consumers)
    codes = set(c['code'] for c in consumers)
    pk = len(consumers)
    while len(consumers) < want:
        pk += 1
        badge = str(rnd.randint(0, 10 ** rnd.randint(1, 10) - 1)).zfill(
            rnd.choice([1, 1, 1, 4, 5, 6, 8, 10]))[-10:]
        code = 'con_%06x' % rnd.getrandbits(24)
        if badge in badges or code in codes:
            continue
        badges.add(badge)
        codes.add(code)
        first, last = rnd.choice(_FIRST), rnd.choice(_LAST)
        company = vat = None
        if rnd.random() < 0.1:
            company = rnd.choice(_COMPANIES)
            if rnd.random() < 0.6:
                num = rnd.randint(2000000, 8999999)
                vat = 'BE0%d%02d' % (num, 97 - num % 97)
        consumers.append({
            'pk': pk, 'code': code, 'badge': badge,
            'name': '%s %s' % (first, last),
            'email': ('%s.%s@example.com' % (first, last)).lower()
            .replace(' ', '').replace("'", '')
            if rnd.random() < 0.9 else None,
            'company': company, 'vat': vat,
            'credit_cents': rnd.choice([0, 50, 100, 500, 1000, 2500, 5000]),
            'blocked': 1 if rnd.random() < 0.02 else 0,
            'deleted': 1 if rnd.random() < 0.01 else 0,
            'updated_us': t0 + rnd.randint(0, 20 * 86400) * US
            + rnd.randint(0, 999999)})
    # brews from 2026-03-01 on, one every ~60 s (closer for a huge n), so
    # the log spans both switches of summer time
    start = utc(2026, 3, 1)
    span = utc(2026, 11, 15) - start
    gap = max(0.002, min(60.0, span / float(max(n, 1))))
    t = float(start)
    bev_pool = [b for b in beverages]
    live = [c for c in consumers]
    brews = []
    first = DEMO_FIRST_LOG_NO
    for i in range(n):
        r = rnd.random()
        if r >= 0.1:  # 10 % share a second with the previous entry
            t += rnd.uniform(0.5, 2 * gap) * US
        ts = int(t)
        bev = bev_pool[rnd.randrange(len(bev_pool))]
        con = None if rnd.random() < 0.25 else live[rnd.randrange(len(live))]
        s = rnd.random()
        status = ('completed' if s < 0.9 else 'cancelled' if s < 0.95
                  else 'failed' if s < 0.998 else 'running')
        if status == 'running':
            started, finished = ts, None
        else:
            started, finished = ts - 3 * US, ts
        brews.append(brew_record(first + i, bev, con, status, started,
                                 finished, ts))
    return {'beverages': beverages, 'consumers': consumers, 'brews': brews}


def is_data_set(spec):
    """Whether spec names a data set of ``generate`` (scale:N any N)."""
    return spec in NAMED_SETS or (
        spec.startswith('scale:') and spec[6:].isdigit())


def generate(spec):
    """'demo', 'empty', 'fleet' or 'scale:N' -> dict of record lists."""
    if spec == 'demo':
        return demo()
    if spec == 'empty':
        return empty()
    if spec == 'fleet':
        return fleet()
    if spec.startswith('scale:'):
        try:
            n = int(spec.split(':', 1)[1])
        except ValueError:
            n = -1
        if n < 0:
            raise ValueError('scale:N needs a whole number N >= 0')
        return scale(n)
    raise ValueError('unknown data set %r (demo, empty, fleet or scale:N)'
                     % spec)
