"""Conformance of the Coffee 2900 (/api/v2) emulator with the vendor
document, over real HTTP."""
import base64
import json
import re
import time

from .common import (  # noqa: F401
    BREW_SECONDS,
    emulator_2900,
    error_code,
    finish_brewing,
    session,
    v2,
)

ISO = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$')
BEVERAGE_KEYS = {'id', 'name', 'price', 'volume_ml', 'strength', 'active',
                 'updated_at'}
CONSUMER_KEYS = {'id', 'badge', 'name', 'email', 'company_name', 'vat',
                 'balance', 'blocked', 'updated_at'}
BREW_KEYS = {'id', 'beverage_id', 'consumer_id', 'price', 'status',
             'started_at', 'finished_at', 'updated_at'}
JANE = 'con_8f3a21'


def money_ok(m):
    return (isinstance(m, dict) and set(m) == {'amount', 'currency'}
            and m['currency'] == 'EUR' and isinstance(m['amount'], str)
            and re.match(r'^\d+\.\d{2}$', m['amount']))


def by_badge(v2, badge):
    return [c for c in v2.all('/api/v2/consumers') if c['badge'] == badge][0]


# -- authentication ----------------------------------------------------------

def test_token(v2):
    url = v2.emu.url + '/api/v2/auth/token'
    s = session()
    for body in ({'username': 'coffee', 'password': 'latte'},
                 {'username': 'tea', 'password': 'espresso'},
                 {'username': 'coffee'}, {}):
        r = s.post(url, json=body, timeout=10)
        assert r.status_code == 401, body
        assert error_code(r) == 'unauthorized'
    r = s.post(url, json={'username': 'coffee', 'password': 'espresso'},
               timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {'access_token', 'token_type', 'expires_in'}
    assert body['token_type'] == 'Bearer' and body['expires_in'] == 3600
    r = s.get(v2.emu.url + '/api/v2/machine', timeout=10, headers={
        'Authorization': 'Bearer ' + body['access_token']})
    assert r.status_code == 200


def test_missing_unknown_and_expired_tokens(v2):
    s = session()
    url = v2.emu.url + '/api/v2/beverages'
    r = s.get(url, timeout=10)
    assert r.status_code == 401 and error_code(r) == 'unauthorized'
    r = s.get(url, timeout=10, headers={'Authorization': 'Basic Y29mZmVl'})
    assert r.status_code == 401
    r = s.get(url, timeout=10, headers={'Authorization': 'Bearer nonsense'})
    assert r.status_code == 401 and error_code(r) == 'token_expired'
    # a short-lived token expires with the machine clock
    v2.emu.sim('POST', 'config', {'token_ttl': 30})
    token = v2.new_token()
    auth = {'Authorization': 'Bearer ' + token}
    assert s.get(url, headers=auth, timeout=10).status_code == 200
    v2.emu.sim('POST', 'clock', {'advance': 29})
    assert s.get(url, headers=auth, timeout=10).status_code == 200
    v2.emu.sim('POST', 'clock', {'advance': 2})
    r = s.get(url, headers=auth, timeout=10)
    assert r.status_code == 401 and error_code(r) == 'token_expired'
    # the client fetches a new token and retries once
    assert v2.get('/api/v2/beverages').status_code == 200
    assert v2.token != token


def test_unknown_endpoint_and_method(v2):
    r = v2.get('/api/v2/nothing')
    assert r.status_code == 404 and error_code(r) == 'not_found'
    r = v2.delete('/api/v2/beverages/bev_espresso')
    assert r.status_code == 405
    error_code(r)


def test_machine(v2):
    body = v2.ok('/api/v2/machine')
    assert set(body) == {'serial', 'model', 'firmware', 'currency',
                         'languages', 'status', 'counters'}
    assert body['model'] == '2900' and body['currency'] == 'EUR'
    assert body['languages'] == ['en_US', 'fr_FR', 'nl_BE']
    assert set(body['status']) == {'state', 'water_ml', 'water_capacity_ml',
                                   'beans_g', 'beans_capacity_g',
                                   'descaling_due', 'errors'}
    assert body['status']['state'] == 'ready'
    assert body['status']['errors'] == []
    assert set(body['counters']) == {'cups_total', 'cups_since_descaling'}
    v2.emu.sim('POST', 'state', {'state': 'ready', 'error_code': 'E07'})
    status = v2.ok('/api/v2/machine')['status']
    assert status['state'] == 'ready'
    assert status['errors'] == [{'code': 'E07', 'message': 'Drip tray full'}]
    v2.emu.sim('POST', 'state', {'state': 'descaling'})
    assert v2.ok('/api/v2/machine')['status']['state'] == 'descaling'


# -- records -----------------------------------------------------------------

def test_record_shapes_and_demo_edges(v2):
    bevs = v2.all('/api/v2/beverages')
    assert len(bevs) == 9
    for b in bevs:
        assert set(b) == BEVERAGE_KEYS
        assert b['id'].startswith('bev_') and money_ok(b['price'])
        assert ISO.match(b['updated_at'])
        assert 'en_US' in b['name'] and 'fr_FR' in b['name']
        assert isinstance(b['active'], bool)
    by_id = dict((b['id'], b) for b in bevs)
    assert by_id['bev_espresso']['name'] == {
        'en_US': 'Espresso', 'fr_FR': 'Expresso', 'nl_BE': 'Espresso'}
    assert by_id['bev_espresso']['price'] == {'amount': '1.20',
                                              'currency': 'EUR'}
    assert by_id['bev_hot_water']['price']['amount'] == '0.00'
    assert by_id['bev_decaf']['active'] is False
    assert 'nl_BE' not in by_id['bev_ristretto']['name']
    cons = v2.all('/api/v2/consumers')
    assert len(cons) == 11
    for c in cons:
        assert set(c) == CONSUMER_KEYS
        assert c['id'].startswith('con_') and money_ok(c['balance'])
        assert re.match(r'^\d{1,10}$', c['badge'])
    badges = dict((c['badge'], c) for c in cons)
    for badge in ('0', '00', '00042', '42', '0000000001'):
        assert badge in badges
    assert badges['00042']['id'] == JANE
    company = badges['1001']
    assert company['company_name'] == 'Bean Counters SA'
    assert company['vat'] is None
    assert badges['2001']['blocked'] is True
    assert badges['2002']['balance']['amount'] == '0.00'
    brews = v2.all('/api/v2/brews')
    assert len(brews) == 64
    for b in brews:
        assert set(b) == BREW_KEYS and money_ok(b['price'])
        assert ISO.match(b['started_at']) and ISO.match(b['updated_at'])
        if b['status'] == 'running':
            assert b['finished_at'] is None
        else:
            assert ISO.match(b['finished_at'])
    assert set(b['status'] for b in brews) == {'running', 'completed',
                                               'cancelled', 'failed'}
    assert None in [b['consumer_id'] for b in brews]


def test_single_records_and_404(v2):
    for path in ('/api/v2/beverages/bev_espresso', '/api/v2/consumers/' + JANE):
        r = v2.get(path)
        assert r.status_code == 200
        assert r.headers['ETag'].startswith('"')
    brew_id = v2.ok('/api/v2/brews', limit=1)['data'][0]['id']
    r = v2.get('/api/v2/brews/' + brew_id)
    assert r.status_code == 200 and r.json()['id'] == brew_id
    assert 'ETag' in r.headers
    for method, path in [('GET', '/api/v2/beverages/bev_nope'),
                         ('PATCH', '/api/v2/beverages/bev_nope'),
                         ('GET', '/api/v2/consumers/con_nope'),
                         ('PATCH', '/api/v2/consumers/con_nope'),
                         ('DELETE', '/api/v2/consumers/con_nope'),
                         ('GET', '/api/v2/consumers/con_dead01'),
                         ('GET', '/api/v2/brews/brw_nope'),
                         ('DELETE', '/api/v2/webhooks/whk_nope')]:
        r = v2.request(method, path, json={} if method == 'PATCH' else None)
        assert r.status_code == 404, (method, path)
        assert error_code(r) == 'not_found'


# -- lists -------------------------------------------------------------------

def test_cursor_walk_is_complete_and_ordered(v2):
    items = v2.all('/api/v2/brews', limit=7)
    ids = [b['id'] for b in items]
    assert len(ids) == len(set(ids)) == 64
    keys = [(b['updated_at'], b['id']) for b in items]
    assert keys == sorted(keys)
    snapshot = v2.emu.sim('GET', 'snapshot?kind=brews')
    assert snapshot['ids'] == ids
    first = v2.ok('/api/v2/brews')
    assert len(first['data']) == 64 and first['next_cursor'] is None
    page = v2.ok('/api/v2/brews', limit=64)
    assert page['next_cursor'] is None
    page = v2.ok('/api/v2/brews', limit=63)
    assert page['next_cursor'] is not None
    assert v2.ok('/api/v2/brews', cursor=page['next_cursor'])['data'] == [
        items[-1]]
    # ties on updated_at are ordered by id
    bevs = v2.all('/api/v2/beverages', limit=1)
    assert [b['id'] for b in bevs[:3]] == ['bev_lungo', 'bev_ristretto',
                                           'bev_espresso']


def test_cursor_validity(v2):
    page = v2.ok('/api/v2/brews', limit=10)
    cursor = page['next_cursor']
    v2.emu.sim('POST', 'clock', {'advance': 601})      # > 10 minutes later
    later = v2.ok('/api/v2/brews', limit=10, cursor=cursor)
    assert later['data'][0]['id'] not in [b['id'] for b in page['data']]
    for bad in ('nonsense', base64.urlsafe_b64encode(b'[1,2]').decode(),
                cursor[:-3]):
        r = v2.get('/api/v2/brews', params={'cursor': bad})
        assert r.status_code == 400, bad
        assert error_code(r) == 'invalid_cursor'
    # a cursor belongs to its list
    r = v2.get('/api/v2/consumers', params={'cursor': cursor})
    assert r.status_code == 400 and error_code(r) == 'invalid_cursor'
    # valid for an hour of machine time (the document promises >= 10 min)
    v2.emu.sim('POST', 'clock', {'advance': 2900})   # 3501 s old
    assert v2.get('/api/v2/brews', params={'cursor': cursor}
                  ).status_code == 200
    v2.emu.sim('POST', 'clock', {'advance': 100})    # 3601 s old
    r = v2.get('/api/v2/brews', params={'cursor': cursor})
    assert r.status_code == 400 and error_code(r) == 'cursor_expired'


def test_limit_default_and_clamping(v2):
    v2.emu.sim('POST', 'activity', {'brews': 560, 'seed': 3})
    page = v2.ok('/api/v2/brews')
    assert len(page['data']) == 100
    page = v2.ok('/api/v2/brews', limit=5000)
    assert len(page['data']) == 500 and page['next_cursor']
    rest = v2.ok('/api/v2/brews', limit=500, cursor=page['next_cursor'])
    assert len(rest['data']) == 64 + 560 - 500 and rest['next_cursor'] is None
    for bad in ('0', '-1', 'ten'):
        r = v2.get('/api/v2/brews', params={'limit': bad})
        assert r.status_code == 400 and error_code(r) == 'invalid_parameter'


def test_updated_since_is_exclusive(v2):
    tie = '2026-01-15T08:00:00.000000Z'           # lungo and ristretto
    ids = [b['id'] for b in v2.all('/api/v2/beverages', updated_since=tie)]
    assert 'bev_lungo' not in ids and 'bev_ristretto' not in ids
    assert ids[0] == 'bev_espresso' and len(ids) == 7
    just_before = '2026-01-15T07:59:59.999999Z'
    ids = [b['id'] for b in v2.all('/api/v2/beverages',
                                   updated_since=just_before)]
    assert ids[:2] == ['bev_lungo', 'bev_ristretto'] and len(ids) == 9
    # other spellings of the same instant
    for spelling in ('2026-01-15T09:00:00+01:00', '2026-01-15T08:00:00Z',
                     '2026-01-15T08:00:00.0Z'):
        got = [b['id'] for b in v2.all('/api/v2/beverages',
                                       updated_since=spelling)]
        assert len(got) == 7, spelling
    r = v2.get('/api/v2/beverages?updated_since=2026-01-15T09:00:00+01:00')
    assert r.status_code == 200 and len(r.json()['data']) == 7
    # the last seen updated_at as updated_since gives only later changes
    brews = v2.all('/api/v2/brews')
    last = brews[-1]['updated_at']
    assert v2.ok('/api/v2/brews', updated_since=last)['data'] == []
    for bad in ('2026-01-15 08:00:00', 'yesterday', '2026-02-30T00:00:00Z'):
        r = v2.get('/api/v2/brews', params={'updated_since': bad})
        assert r.status_code == 400 and error_code(r) == 'invalid_parameter'


def test_tombstones_of_deleted_consumers(v2):
    live = v2.all('/api/v2/consumers')
    assert 'con_dead01' not in [c['id'] for c in live]
    every = v2.all('/api/v2/consumers', include_deleted='true')
    tomb = [c for c in every if c['id'] == 'con_dead01']
    assert tomb == [{'id': 'con_dead01', 'deleted': True,
                     'updated_at': '2026-11-22T09:30:00.000000Z'}]
    keys = [(c['updated_at'], c['id']) for c in every]
    assert keys == sorted(keys)
    # a deletion now is seen by a delta import after the last sync
    since = every[-1]['updated_at']
    v2.emu.sim('POST', 'clock', {'set': '2027-01-05T10:00:00Z',
                                 'freeze': True})
    assert v2.delete('/api/v2/consumers/' + JANE).status_code == 204
    delta = v2.ok('/api/v2/consumers', updated_since=since,
                  include_deleted='true')['data']
    assert delta == [{'id': JANE, 'deleted': True,
                      'updated_at': '2027-01-05T10:00:00.000000Z'}]
    assert v2.ok('/api/v2/consumers', updated_since=since)['data'] == []
    v2.emu.sim('POST', 'clock', {'freeze': False})


# -- ETag / If-Match / 422 -----------------------------------------------------

def test_etag_and_if_match(v2):
    path = '/api/v2/beverages/bev_espresso'
    r = v2.get(path)
    etag = r.headers['ETag']
    assert v2.get(path).headers['ETag'] == etag          # stable
    r = v2.patch(path, {'price': {'amount': '1.30', 'currency': 'EUR'}},
                 headers={'If-Match': etag})
    assert r.status_code == 200
    new = r.headers['ETag']
    assert new != etag
    body = r.json()
    assert set(body) == BEVERAGE_KEYS
    assert body['price']['amount'] == '1.30'
    assert v2.get(path).headers['ETag'] == new
    # someone changed it meanwhile
    r = v2.patch(path, {'active': False}, headers={'If-Match': etag})
    assert r.status_code == 412 and error_code(r) == 'precondition_failed'
    assert v2.ok(path)['active'] is True
    # partial translations; without If-Match the change just applies
    r = v2.patch(path, {'name': {'fr_FR': 'Petit noir', 'de_DE': 'Espresso'}})
    assert r.status_code == 200
    assert r.json()['name'] == {'en_US': 'Espresso', 'fr_FR': 'Petit noir',
                                'nl_BE': 'Espresso', 'de_DE': 'Espresso'}
    assert v2.patch(path, {'active': False},
                    headers={'If-Match': r.headers['ETag']}).status_code == 200
    # the same on consumers
    cpath = '/api/v2/consumers/' + JANE
    etag = v2.get(cpath).headers['ETag']
    r = v2.patch(cpath, {'name': 'Jane Roe'}, headers={'If-Match': etag})
    assert r.status_code == 200 and r.json()['name'] == 'Jane Roe'
    r = v2.patch(cpath, {'name': 'Jane Poe'}, headers={'If-Match': etag})
    assert r.status_code == 412
    r = v2.delete(cpath, headers={'If-Match': etag})
    assert r.status_code == 412


def test_patch_updates_updated_at_and_order(v2):
    v2.emu.sim('POST', 'clock', {'set': '2027-02-01T12:00:00.5Z',
                                 'freeze': True})
    body = v2.patch('/api/v2/beverages/bev_lungo',
                    {'price': {'amount': '1.50', 'currency': 'EUR'}}).json()
    assert body['updated_at'] == '2027-02-01T12:00:00.500000Z'
    assert v2.all('/api/v2/beverages')[-1]['id'] == 'bev_lungo'
    # two changes in the same machine microsecond still get distinct times
    body2 = v2.patch('/api/v2/beverages/bev_latte', {'active': False}).json()
    assert body2['updated_at'] > body['updated_at']
    v2.emu.sim('POST', 'clock', {'freeze': False})


def test_422_wrong_types_and_currency(v2):
    path = '/api/v2/beverages/bev_espresso'
    before = v2.ok(path)
    for body in ({'price': {'amount': 1.2, 'currency': 'EUR'}},
                 {'price': {'amount': '1.2', 'currency': 'EUR'}},
                 {'price': {'amount': '1,20', 'currency': 'EUR'}},
                 {'price': {'amount': '-1.20', 'currency': 'EUR'}},
                 {'price': '1.20'}, {'price': {'amount': '1.20'}},
                 {'active': 'yes'}, {'active': 1}, {'name': 'Espresso'},
                 {'name': {'english': 'x'}}, {'name': {'en_US': 5}},
                 {'name': {}}, {'volume_ml': 50}, {'id': 'bev_x'}, [1]):
        r = v2.patch(path, body)
        assert r.status_code == 422, body
        assert error_code(r) in ('validation_error', 'invalid_body')
    r = v2.patch(path, {'price': {'amount': '1.20', 'currency': 'USD'}})
    assert r.status_code == 422 and error_code(r) == 'currency_mismatch'
    r = v2.request('PATCH', path, data=b'{"active": tru',
                   headers={'Content-Type': 'application/json'})
    assert r.status_code == 422 and error_code(r) == 'invalid_body'
    assert v2.ok(path) == before


# -- consumers -----------------------------------------------------------------

def test_consumer_crud(v2):
    r = v2.post('/api/v2/consumers', {
        'badge': '0000', 'name': 'Quad Zero', 'email': 'q@example.com',
        'company_name': 'Bean Counters SA', 'vat': None,
        'balance': {'amount': '3.00', 'currency': 'EUR'}})
    assert r.status_code == 201 and 'ETag' in r.headers
    con = r.json()
    assert set(con) == CONSUMER_KEYS
    assert con['id'].startswith('con_') and con['badge'] == '0000'
    assert con['balance'] == {'amount': '3.00', 'currency': 'EUR'}
    assert con['blocked'] is False and con['vat'] is None
    assert v2.ok('/api/v2/consumers/' + con['id']) == con
    for badge in ('0000', '0', '00', '00042'):
        r = v2.post('/api/v2/consumers', {'badge': badge})
        assert r.status_code == 409, badge
        assert error_code(r) == 'badge_exists'
    r = v2.patch('/api/v2/consumers/' + con['id'], {'badge': '00042'})
    assert r.status_code == 409 and error_code(r) == 'badge_exists'
    r = v2.patch('/api/v2/consumers/' + con['id'],
                 {'blocked': True, 'vat': 'BE0403123486', 'badge': '00000'})
    assert r.status_code == 200
    assert (r.json()['blocked'], r.json()['vat'], r.json()['badge']) == \
        (True, 'BE0403123486', '00000')
    assert r.json()['name'] == 'Quad Zero'
    assert len(v2.all('/api/v2/consumers')) == 12
    r = v2.delete('/api/v2/consumers/' + con['id'])
    assert r.status_code == 204 and r.content == b''
    assert len(v2.all('/api/v2/consumers')) == 11
    for method in ('GET', 'PATCH', 'DELETE'):
        r = v2.request(method, '/api/v2/consumers/' + con['id'],
                       json={'name': 'x'} if method == 'PATCH' else None)
        assert r.status_code == 404 and error_code(r) == 'not_found'
    # the badge can be given out again, to a new id
    again = v2.post('/api/v2/consumers', {'badge': '00000'})
    assert again.status_code == 201 and again.json()['id'] != con['id']
    assert again.json()['name'] is None


def test_consumer_422(v2):
    for body in ({'badge': 42}, {'badge': '12345678901'}, {'badge': '4a'},
                 {'name': 'No Badge'}, {'badge': '777', 'blocked': 'no'},
                 {'badge': '777', 'balance': {'amount': '5',
                                              'currency': 'EUR'}},
                 {'badge': '777', 'balance': 5},
                 {'badge': '777', 'email': 5},
                 {'badge': '777', 'credit_cents': 5}):
        r = v2.post('/api/v2/consumers', body)
        assert r.status_code == 422, body
        assert error_code(r) == 'validation_error'
    r = v2.post('/api/v2/consumers', {'badge': '777', 'balance': {
        'amount': '5.00', 'currency': 'CHF'}})
    assert r.status_code == 422 and error_code(r) == 'currency_mismatch'
    r = v2.patch('/api/v2/consumers/' + JANE, {'balance': {
        'amount': '5.00', 'currency': 'USD'}})
    assert r.status_code == 422 and error_code(r) == 'currency_mismatch'
    # a malformed body is refused before the unknown id
    r = v2.patch('/api/v2/consumers/con_nope', {'blocked': 'no'})
    assert r.status_code == 422


# -- brews -------------------------------------------------------------------

def brew(v2, key, body):
    headers = {} if key is None else {'Idempotency-Key': key}
    return v2.post('/api/v2/brews', body, headers=headers)


def test_brew_runs_then_completes(v2):
    emu = v2.emu
    emu.sim('POST', 'clock', {'freeze': True})
    r = brew(v2, 'cup-1', {'beverage_id': 'bev_espresso', 'consumer_id': JANE})
    assert r.status_code == 201 and 'ETag' in r.headers
    cup = r.json()
    assert set(cup) == BREW_KEYS
    assert (cup['status'], cup['finished_at'], cup['consumer_id']) == \
        ('running', None, JANE)
    assert cup['price'] == {'amount': '1.20', 'currency': 'EUR'}
    assert v2.ok('/api/v2/machine')['status']['state'] == 'brewing'
    assert v2.ok('/api/v2/consumers/' + JANE)['balance']['amount'] == '3.80'
    assert v2.all('/api/v2/brews')[-1]['id'] == cup['id']
    r = brew(v2, 'cup-2', {'beverage_id': 'bev_lungo'})
    assert r.status_code == 409 and error_code(r) == 'busy'
    emu.sim('POST', 'clock', {'advance': BREW_SECONDS})
    done = v2.ok('/api/v2/brews/' + cup['id'])
    assert done['status'] == 'completed'
    assert done['finished_at'] > done['started_at']
    assert v2.ok('/api/v2/machine')['status']['state'] == 'ready'
    assert v2.ok('/api/v2/brews', updated_since=cup['updated_at'])[
        'data'] == [done]
    # anonymous cup, no consumer_id at all or null
    assert brew(v2, 'cup-3', {'beverage_id': 'bev_lungo',
                              'consumer_id': None}).status_code == 201
    finish_brewing(emu)
    r = brew(v2, 'cup-4', {'beverage_id': 'bev_lungo'})
    assert r.status_code == 201 and r.json()['consumer_id'] is None
    finish_brewing(emu)
    emu.sim('POST', 'clock', {'freeze': False})


def test_idempotency_key(v2):
    emu = v2.emu
    emu.sim('POST', 'clock', {'freeze': True})
    body = {'beverage_id': 'bev_espresso', 'consumer_id': JANE}
    for key in (None, '', 'k' * 65):
        r = brew(v2, key, body)
        assert r.status_code == 400, key
        assert error_code(r) == 'idempotency_key_invalid'
    first = brew(v2, 'k' * 64, body)
    assert first.status_code == 201
    # same key: the first brew again, even while the machine is busy
    again = brew(v2, 'k' * 64, body)
    assert again.status_code == 200 and again.json() == first.json()
    # ... and whatever the body says
    other = brew(v2, 'k' * 64, {'beverage_id': 'bev_lungo'})
    assert other.status_code == 200 and other.json()['id'] == first.json()['id']
    # a refused request does not bind its key
    refused = brew(v2, 'retry-me', {'beverage_id': 'bev_lungo'})
    assert refused.status_code == 409
    finish_brewing(emu)
    later = brew(v2, 'k' * 64, body)
    assert later.status_code == 200
    assert later.json()['id'] == first.json()['id']
    assert later.json()['status'] == 'completed'
    retried = brew(v2, 'retry-me', {'beverage_id': 'bev_lungo'})
    assert retried.status_code == 201
    assert retried.json()['id'] != first.json()['id']
    finish_brewing(emu)
    # a bound key answers before any other check, even in error state
    emu.sim('POST', 'state', {'state': 'error', 'error_code': 'E01'})
    assert brew(v2, 'retry-me', {}).status_code == 200
    emu.sim('POST', 'state', {'state': 'ready'})
    # one cup per key only: Jane paid twice? no, once (lungo was anonymous)
    assert v2.ok('/api/v2/consumers/' + JANE)['balance']['amount'] == '3.80'
    # a key is bound for 24 hours of machine time
    emu.sim('POST', 'clock', {'advance': 24 * 3600 - 60})
    assert brew(v2, 'k' * 64, body).status_code == 200
    emu.sim('POST', 'clock', {'advance': 61})
    fresh = brew(v2, 'k' * 64, body)
    assert fresh.status_code == 201
    assert fresh.json()['id'] != first.json()['id']
    finish_brewing(emu)
    emu.sim('POST', 'clock', {'freeze': False})


def test_brew_refusals_in_documented_order(v2):
    emu = v2.emu
    n = [0]

    def attempt(body):
        n[0] += 1
        r = brew(v2, 'order-%d' % n[0], body)
        return r.status_code, error_code(r)

    blocked = by_badge(v2, '2001')['id']
    broke = by_badge(v2, '2002')['id']
    low = by_badge(v2, '2003')['id']
    emu.sim('POST', 'state', {'state': 'error', 'error_code': 'E02'})
    for body in ({'beverage_id': 5}, {}, {'beverage_id': 'bev_espresso',
                 'consumer_id': 42}, {'beverage_id': 'bev_espresso',
                                      'sugar': 1}):
        assert attempt(body)[0] == 422, body
    assert attempt({'beverage_id': 'bev_nope'}) == (404, 'not_found')
    assert attempt({'beverage_id': 'bev_espresso',
                    'consumer_id': 'con_dead01'}) == (404, 'not_found')
    assert attempt({'beverage_id': 'bev_decaf', 'consumer_id': blocked}) == \
        (409, 'beverage_inactive')
    status, code = attempt({'beverage_id': 'bev_espresso',
                            'consumer_id': blocked})
    assert status == 503
    emu.sim('POST', 'state', {'state': 'ready'})
    assert brew(v2, 'filler', {'beverage_id': 'bev_hot_water'}
                ).status_code == 201
    assert attempt({'beverage_id': 'bev_espresso', 'consumer_id': blocked}) \
        == (409, 'busy')
    finish_brewing(emu)
    assert attempt({'beverage_id': 'bev_espresso', 'consumer_id': blocked}) \
        == (423, 'blocked')
    assert attempt({'beverage_id': 'bev_espresso', 'consumer_id': broke}) \
        == (402, 'no_credit')
    assert attempt({'beverage_id': 'bev_espresso', 'consumer_id': low}) \
        == (402, 'no_credit')
    emu.sim('POST', 'state', {'state': 'descaling'})
    assert attempt({'beverage_id': 'bev_espresso'}) == (409, 'busy')
    emu.sim('POST', 'state', {'state': 'ready'})
    # free drink with no credit
    assert brew(v2, 'free', {'beverage_id': 'bev_hot_water',
                             'consumer_id': broke}).status_code == 201
    finish_brewing(emu)
    assert len(v2.all('/api/v2/brews')) == 64 + 2


# -- rate limit ----------------------------------------------------------------

def test_rate_limit_429(v2):
    emu = v2.emu
    emu.sim('POST', 'config', {'rate_limit': 5})
    time.sleep(1.05)
    statuses = []
    retry_after = []
    for _ in range(12):
        r = v2.get('/api/v2/machine')
        statuses.append(r.status_code)
        if r.status_code == 429:
            retry_after.append(r.headers['Retry-After'])
            assert error_code(r) == 'rate_limited'
    assert statuses[:5] == [200] * 5, statuses
    assert 429 in statuses
    assert all(re.match(r'^[1-9][0-9]*$', v) for v in retry_after)
    # /_sim is never limited; another token has its own budget
    for _ in range(10):
        assert emu.sim('GET', 'health')['ok']
    other = type(v2)(emu)
    assert other.get('/api/v2/machine').status_code == 200
    # the token endpoint counts per client address
    s = session()
    time.sleep(1.05)
    codes = [s.post(emu.url + '/api/v2/auth/token', timeout=10,
                    json={'username': 'coffee', 'password': 'espresso'}
                    ).status_code for _ in range(8)]
    assert codes == [200] * 5 + [429] * 3, codes
    # honouring Retry-After works
    time.sleep(int(retry_after[-1]))
    assert v2.get('/api/v2/machine').status_code == 200
    counters = emu.sim('GET', 'counters')
    assert counters['rate_limited_429'] >= statuses.count(429)
    emu.sim('POST', 'config', {'rate_limit': 1000})


# -- webhooks registry -------------------------------------------------------

def test_webhook_registry(v2):
    r = v2.post('/api/v2/webhooks', {'url': 'http://127.0.0.1:9/hook',
                                     'events': ['brew.completed',
                                                'machine.alert']})
    assert r.status_code == 201
    hook = r.json()
    assert set(hook) == {'id', 'url', 'events', 'secret'}
    assert hook['id'].startswith('whk_') and len(hook['secret']) >= 16
    listed = v2.ok('/api/v2/webhooks')
    assert listed == {'data': [{'id': hook['id'], 'url': hook['url'],
                                'events': hook['events']}]}
    for body in ({'url': 'ftp://x', 'events': ['brew.completed']},
                 {'url': 'http://127.0.0.1:9/', 'events': []},
                 {'url': 'http://127.0.0.1:9/', 'events': ['brew.started']},
                 {'url': 'http://127.0.0.1:9/', 'events': 'brew.completed'},
                 {'events': ['brew.completed']}):
        r = v2.post('/api/v2/webhooks', body)
        assert r.status_code == 422, body
        error_code(r)
    assert v2.delete('/api/v2/webhooks/' + hook['id']).status_code == 204
    assert v2.ok('/api/v2/webhooks') == {'data': []}
    r = v2.delete('/api/v2/webhooks/' + hook['id'])
    assert r.status_code == 404 and error_code(r) == 'not_found'


def test_malformed_records_are_stable_and_counted(v2):
    emu = v2.emu

    def well_formed(c):
        return (set(c) == CONSUMER_KEYS and isinstance(c['badge'], str)
                and money_ok(c['balance']) and ISO.match(c['updated_at'])
                and c['updated_at'][5:7] <= '12'
                and len(c['name'] or '') < 200)

    emu.sim('POST', 'faults', {'malformed': 0.5, 'seed': 11})
    first = v2.all('/api/v2/consumers')
    bad = sorted(c['id'] for c in first if not well_formed(c))
    assert 2 <= len(bad) <= 10
    assert [c['id'] for c in first if c['id'] in bad] != []
    second = v2.all('/api/v2/consumers')
    assert sorted(c['id'] for c in second if not well_formed(c)) == bad
    for cid in bad:
        single = v2.ok('/api/v2/consumers/' + cid)
        assert not well_formed(single)
    served = emu.sim('GET', 'counters')['malformed_served']
    assert served['consumers'] == bad
    emu.sim('POST', 'faults', {'malformed': 0})
    assert all(well_formed(c) for c in v2.all('/api/v2/consumers'))
    # ids stay intact, so a client can name what it skipped
    assert all(json.dumps(c['id']).startswith('"con_') for c in first)
