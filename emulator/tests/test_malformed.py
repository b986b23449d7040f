"""Malformed records (``/_sim/faults`` ``malformed``): every damage the
issue names is served, on every list of both protocols, while the ids and
the snapshots stay intact."""
import datetime

from .common import emulator_1900, emulator_2900, v1, v2  # noqa: F401

BIG = 10240
DATE_KEYS = {'modified', 'ts', 'updated_at', 'started_at', 'finished_at'}


def _flat(rec, prefix=''):
    out = {}
    for key, value in rec.items():
        if isinstance(value, dict):
            out.update(_flat(value, prefix + key + '.'))
        else:
            out[prefix + key] = value
    return out


def _valid_date(text):
    for fmt in ('%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S.%fZ'):
        try:
            datetime.datetime.strptime(text, fmt)
            return True
        except ValueError:
            pass
    return False


def damage_of(served, intact):
    """How ``served`` differs from ``intact``: a set of damage kinds."""
    got, want = _flat(served), _flat(intact)
    kinds = set()
    for key, value in want.items():
        if key not in got:
            if not any(k.startswith(key + '.') for k in got):
                kinds.add('missing')
            continue
        new = got[key]
        if new == value:
            continue
        last = key.split('.')[-1]
        if isinstance(new, str) and len(new) >= BIG:
            kinds.add('10kB')
        elif last == 'currency':
            kinds.add('currency')
        elif last in DATE_KEYS and isinstance(new, str) \
                and not _valid_date(new):
            kinds.add('date')
        elif type(new) is not type(value) or isinstance(new, str):
            kinds.add('type')
        else:
            kinds.add('value')
    # a whole object missing (the 2900's price, balance, name)
    for key in set(want) - set(got):
        if '.' in key and key.rsplit('.', 1)[0] not in got:
            kinds.add('missing')
    return kinds


def _check(emu, listing, kind, id_key):
    """Every record of the listing is damaged; returns the kinds seen."""
    intact = emu.sim('GET', 'snapshot?kind=%s&full=1' % kind)['items']
    assert len(listing) == len(intact)
    seen = set()
    # the listing order is the snapshot's
    for rec, want in zip(listing, intact):
        if rec[id_key] != want[id_key]:
            # a 1900 card number served as a number (00042 -> 42)
            assert id_key == 'card_no' and rec[id_key] == int(want[id_key])
            seen.add('type')
        kinds = damage_of(rec, want)
        assert kinds and 'value' not in kinds, (rec, kinds)
        seen |= kinds
    served = emu.sim('GET', 'counters')['malformed_served'][kind]
    assert sorted(served, key=str) == sorted(
        (rec[id_key] for rec in intact), key=str)
    return seen


def test_every_damage_on_the_1900(v1):
    emu = v1.emu
    emu.sim('POST', 'faults', {'malformed': 1.0, 'seed': 3})
    seen = set()
    for path, kind, id_key in (('/api/v1/log', 'log', 'log_no'),
                               ('/api/v1/cards', 'cards', 'card_no'),
                               ('/api/v1/drinks', 'drinks', 'drink_no')):
        seen |= _check(emu, v1.all(path, per_page=100), kind, id_key)
    assert {'missing', 'type', 'date', '10kB'} <= seen, seen
    # the snapshot is never damaged; a single read is damaged alike
    drink = v1.ok('/api/v1/drinks/3')
    assert damage_of(drink, [d for d in emu.sim(
        'GET', 'snapshot?kind=drinks&full=1')['items']
        if d['drink_no'] == 3][0])
    emu.sim('POST', 'faults', {'malformed': 0})


def test_every_damage_on_the_2900(v2):
    emu = v2.emu
    emu.sim('POST', 'faults', {'malformed': 1.0, 'seed': 3})
    seen = set()
    for path, kind in (('/api/v2/brews', 'brews'),
                       ('/api/v2/consumers', 'consumers'),
                       ('/api/v2/beverages', 'beverages')):
        seen |= _check(emu, v2.all(path), kind, 'id')
    assert {'missing', 'type', 'date', 'currency', '10kB'} <= seen, seen
    # answers of writes are never damaged
    jane = 'con_8f3a21'
    r = v2.patch('/api/v2/consumers/' + jane, {'email': 'jane@example.com'})
    assert r.status_code == 200, r.text
    assert not damage_of(r.json(), [c for c in emu.sim(
        'GET', 'snapshot?kind=consumers&full=1')['items']
        if c['id'] == jane][0])
    emu.sim('POST', 'faults', {'malformed': 0})
