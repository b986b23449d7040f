"""Simulation controls (/_sim), persistence, seeding, process behaviour."""
import os
import shutil
import signal
import tempfile
import time

import pytest
import requests

from ..harness import EmulatorError, EmulatorProcess
from .common import (  # noqa: F401
    V1,
    V2,
    emulator_1900,
    emulator_2900,
    error_code,
    error_text,
    finish_brewing,
    session,
    start_emulator,
    v1,
    v2,
)


def test_health(emulator_1900, emulator_2900):
    for emu, protocol in ((emulator_1900, '1900'), (emulator_2900, '2900')):
        health = emu.sim('GET', 'health')
        assert health['ok'] is True and health['protocol'] == protocol
        assert health['pid'] == emu.proc.pid
        r = session().get(emu.url + '/_sim/health', timeout=5)
        assert r.status_code == 200
        assert r.headers['Content-Type'].startswith('application/json')


def test_sim_is_not_part_of_the_api(v1, v2):
    assert v1.get('/api/v1/_sim/health').status_code == 404
    assert session().get(v1.emu.url + '/api/v1/_sim/health',
                         timeout=5).status_code == 401
    r = v2.get('/api/v2/_sim/health')
    assert r.status_code == 404 and error_code(r) == 'not_found'
    with pytest.raises(EmulatorError) as info:
        v1.emu.sim('GET', 'nothing')
    assert info.value.status == 404


def test_clock_controls(v1):
    emu = v1.emu
    clock = emu.sim('GET', 'clock')
    assert set(clock) >= {'now', 'unix', 'offset_seconds', 'frozen', 'local'}
    assert abs(clock['unix'] - time.time()) < 5 and clock['frozen'] is False
    moved = emu.sim('POST', 'clock', {'advance': 3600})
    assert 3595 < moved['unix'] - clock['unix'] < 3605
    assert 3595 < moved['offset_seconds'] < 3605
    at = emu.sim('POST', 'clock', {'set': '2027-06-01T12:00:00Z',
                                   'freeze': True})
    assert at['now'] == '2027-06-01T12:00:00.000000Z' and at['frozen']
    assert at['local'] == '2027-06-01 14:00:00'
    time.sleep(0.2)
    assert emu.sim('GET', 'clock')['now'] == at['now']
    assert emu.sim('POST', 'clock', {'advance': 1.5})['now'] == \
        '2027-06-01T12:00:01.500000Z'
    emu.sim('POST', 'clock', {'freeze': False})
    time.sleep(0.1)
    assert emu.sim('GET', 'clock')['unix'] > at['unix'] + 1.5
    for body in ({'set': 'tomorrow'}, {'advance': 'x'}, {'jump': 1},
                 {'freeze': 'yes'}, {'set': '2027-06-01T12:00:00'}):
        with pytest.raises(EmulatorError) as info:
            emu.sim('POST', 'clock', body)
        assert info.value.status == 400, body


def test_state_controls(v1, v2):
    state = v1.emu.sim('POST', 'state', {'state': 'error'})
    assert state['state'] == 'error' and state['error_code'] == 'E01'
    assert v1.ok('/api/v1/machine')['error_code'] == 'E01'
    v1.emu.sim('POST', 'state', {'state': 'ready', 'water_ml': 500,
                                 'descaling_due': True})
    machine = v1.ok('/api/v1/machine')
    assert (machine['state'], machine['water_level_pct'],
            machine['descaling_due']) == ('ready', 25, True)
    for body in ({'state': 'descaling'}, {'state': 'brewing'},
                 {'state': 'ready', 'water_ml': -1}, {'mood': 'grumpy'}):
        with pytest.raises(EmulatorError) as info:
            v1.emu.sim('POST', 'state', body)
        assert info.value.status == 400, body
    v2.emu.sim('POST', 'state', {'state': 'descaling'})
    assert v2.emu.sim('GET', 'state')['reported_state'] == 'descaling'
    counters = v2.ok('/api/v2/machine')['counters']
    assert counters['cups_since_descaling'] == 0


def statuses(client, path, n):
    return [client.get(path).status_code for _ in range(n)]


def test_faults_are_reproducible_with_a_seed(v1):
    emu = v1.emu
    emu.sim('POST', 'faults', {'rate': 0.5, 'kinds': ['500', '503', '429'],
                               'seed': 42})
    first = statuses(v1, '/api/v1/machine', 30)
    assert {200, 500, 503, 429} <= set(first)
    assert 6 <= first.count(200) <= 24
    emu.sim('POST', 'faults', {'rate': 0.5, 'kinds': ['500', '503', '429'],
                               'seed': 42})
    assert statuses(v1, '/api/v1/machine', 30) == first
    emu.sim('POST', 'faults', {'rate': 0.5, 'kinds': ['500', '503', '429'],
                               'seed': 43})
    assert statuses(v1, '/api/v1/machine', 30) != first
    # bodies of the version; Retry-After on 429
    emu.sim('POST', 'faults', {'rate': 1.0, 'kinds': ['429'], 'seed': 1})
    r = v1.get('/api/v1/machine')
    assert r.status_code == 429 and r.headers['Retry-After'] == '1'
    error_text(r)
    emu.sim('POST', 'faults', {'rate': 1.0, 'kinds': ['503'], 'seed': 1})
    r = v1.get('/api/v1/machine')
    assert r.status_code == 503 and r.json() == {'error': 'busy'}
    # /_sim is never faulted
    for _ in range(5):
        assert emu.sim('GET', 'health')['ok']
    counters = emu.sim('GET', 'counters')
    assert counters['faults']['503'] >= 1
    emu.sim('POST', 'faults', {'rate': 0})
    assert statuses(v1, '/api/v1/machine', 10) == [200] * 10
    assert emu.sim('GET', 'faults')['rate'] == 0
    with pytest.raises(EmulatorError):
        emu.sim('POST', 'faults', {'rate': 2})
    with pytest.raises(EmulatorError):
        emu.sim('POST', 'faults', {'rate': 0.1, 'kinds': ['teapot']})


def test_fault_kinds_on_the_2900_and_path_filter(v2):
    emu = v2.emu
    v2.new_token()
    emu.sim('POST', 'faults', {'rate': 1.0, 'kinds': ['500'], 'seed': 3,
                               'paths': ['/api/v2/brews']})
    assert v2.get('/api/v2/machine').status_code == 200
    r = v2.get('/api/v2/brews')
    assert r.status_code == 500 and error_code(r) == 'internal_error'
    emu.sim('POST', 'faults', {'rate': 1.0, 'kinds': ['503'], 'seed': 3})
    r = v2.get('/api/v2/machine')
    assert r.status_code == 503 and error_code(r) == 'unavailable'
    emu.sim('POST', 'faults', {'rate': 1.0, 'kinds': ['drop'], 'seed': 3})
    with pytest.raises(requests.ConnectionError):
        v2.get('/api/v2/machine')
    emu.sim('POST', 'faults', {'rate': 1.0, 'kinds': ['slow'], 'seed': 3,
                               'hang_seconds': 0.3})
    started = time.time()
    assert v2.get('/api/v2/machine').status_code == 200
    assert time.time() - started >= 0.3
    emu.sim('POST', 'faults', {'rate': 1.0, 'kinds': ['hang'], 'seed': 3,
                               'hang_seconds': 5})
    with pytest.raises(requests.Timeout):
        v2.get('/api/v2/machine', timeout=0.3)
    emu.sim('POST', 'faults', {'rate': 0})
    assert v2.get('/api/v2/machine').status_code == 200


def test_activity_makes_real_changes(v1, v2):
    before = v1.emu.sim('GET', 'clock')['local']
    done = v1.emu.sim('POST', 'activity', {'brews': 5, 'consumers': 3,
                                           'beverages': 2, 'seed': 9})
    assert done['done'] == {'brews': 5, 'consumers': 3, 'beverages': 2}
    assert v1.ok('/api/v1/log')['total'] == 64 + 5
    changed = v1.ok('/api/v1/log', modified_after=before)
    assert changed['total'] >= 5
    assert v1.ok('/api/v1/drinks', modified_after=before)['total'] >= 1
    assert v1.ok('/api/v1/cards', modified_after=before)['total'] >= 1
    # the 2900: updated_at of the changes is after everything seen before
    last = v2.all('/api/v2/consumers', include_deleted='true')[-1][
        'updated_at']
    v2.emu.sim('POST', 'activity', {'consumers': 6, 'seed': 4})
    delta = v2.ok('/api/v2/consumers', updated_since=last,
                  include_deleted='true')['data']
    assert 1 <= len(delta) <= 6
    brews_before = len(v2.all('/api/v2/brews'))
    v2.emu.sim('POST', 'activity', {'brews': 7})
    assert len(v2.all('/api/v2/brews')) == brews_before + 7
    counters = v2.emu.sim('GET', 'counters')
    assert counters['activity']['brews'] == 7
    assert counters['brews_poured'] == 0      # not through the API


def test_background_activity(v2):
    emu = v2.emu
    started = emu.sim('POST', 'activity', {'rate_per_s': 40, 'seconds': 0.5,
                                           'brews': 1, 'seed': 1})
    assert started['running'] is True
    time.sleep(1.0)
    assert emu.sim('GET', 'activity')['running'] is False
    made = len(v2.all('/api/v2/brews')) - 64
    assert 10 <= made <= 25
    emu.sim('POST', 'activity', {'rate_per_s': 10, 'seconds': 60})
    assert emu.sim('POST', 'activity', {'stop': True})['running'] is False


def test_counters(v1):
    emu = v1.emu
    emu.sim('DELETE', 'counters')
    v1.get('/api/v1/machine')
    v1.get('/api/v1/cards/999')
    v1.post('/api/v1/brew', {'drink_no': 3})
    v1.post('/api/v1/brew', {'drink_no': 3})
    finish_brewing(emu)
    c = emu.sim('GET', 'counters')
    assert c['requests']['/api/v1/machine'] == {'200': 1}
    assert c['requests']['/api/v1/cards/999'] == {'404': 1}
    assert c['requests']['/api/v1/brew'] == {'202': 1, '409': 1}
    assert c['brews_poured'] == 1
    assert c['in_flight'] == 0 and c['in_flight_max'] == 1
    assert set(c) >= {'busy_503', 'rate_limited_429', 'webhooks',
                      'malformed_served', 'faults', 'statuses'}
    assert not any(p.startswith('/_sim') for p in c['requests'])
    emu.sim('POST', 'counters', {})
    assert emu.sim('GET', 'counters')['requests'] == {}


def test_snapshot_matches_the_api(v1, v2):
    emu = v1.emu
    for kind, path, key in (('log', '/api/v1/log', 'log_no'),
                            ('cards', '/api/v1/cards', 'card_no'),
                            ('drinks', '/api/v1/drinks', 'drink_no')):
        snap = emu.sim('GET', 'snapshot?kind=%s&full=1' % kind)
        items = v1.all(path, per_page=100)
        assert snap['ids'] == [i[key] for i in items]
        assert snap['items'] == items and snap['count'] == len(items)
    for kind in ('brews', 'consumers', 'beverages'):
        snap = v2.emu.sim('GET', 'snapshot?kind=%s&full=1' % kind)
        assert snap['items'] == v2.all('/api/v2/' + kind, limit=500)
    snap = v2.emu.sim('GET', 'snapshot?kind=consumers&include_deleted=1')
    assert 'con_dead01' in snap['ids'] and snap['count'] == 12
    with pytest.raises(EmulatorError):
        v2.emu.sim('GET', 'snapshot?kind=cats')


def test_brew_seconds_and_config(v1):
    emu = v1.emu
    assert emu.sim('POST', 'brew-seconds', {'seconds': 10})[
        'brew_seconds'] == 10
    emu.sim('POST', 'clock', {'freeze': True})
    assert v1.post('/api/v1/brew', {'drink_no': 4}).status_code == 202
    emu.sim('POST', 'clock', {'advance': 9})
    assert v1.ok('/api/v1/machine')['state'] == 'brewing'
    emu.sim('POST', 'clock', {'advance': 1})
    assert v1.ok('/api/v1/machine')['state'] == 'ready'
    config = emu.sim('POST', 'config', {'brew_seconds': 1, 'delay_ms': 0})
    assert config['brew_seconds'] == 1
    assert set(config) >= {'brew_seconds', 'rate_limit', 'token_ttl',
                           'delay_ms', 'cursor_ttl', 'signature_clock'}
    for body in ({'brew_seconds': 'slow'}, {'colour': 1},
                 {'rate_limit': 0}, {'signature_clock': 'sundial'}):
        with pytest.raises(EmulatorError):
            emu.sim('POST', 'config', body)
    emu.sim('POST', 'clock', {'freeze': False})


def test_reset(v1):
    emu = v1.emu
    v1.delete('/api/v1/cards/00042')
    emu.sim('POST', 'reset', {'data': 'empty'})
    assert v1.ok('/api/v1/log')['total'] == 0
    assert v1.ok('/api/v1/cards')['items'] == []
    # activity on an empty machine creates what it needs
    emu.sim('POST', 'activity', {'brews': 2, 'consumers': 1})
    assert v1.ok('/api/v1/log')['total'] == 2
    emu.sim('POST', 'reset', {'data': 'demo'})
    assert v1.ok('/api/v1/cards/00042')['holder'] == 'Jane Doe'
    with pytest.raises(EmulatorError):
        emu.sim('POST', 'reset', {'data': 'lots'})


def test_big_body_is_refused(v1):
    r = v1.request('PUT', '/api/v1/drinks/3', data=b'x' * (2 * 1024 * 1024),
                   headers={'Content-Type': 'application/json'})
    assert r.status_code == 413


# -- processes: persistence, seeding, stopping ---------------------------------

@pytest.fixture
def state_dir():
    path = tempfile.mkdtemp(prefix='coffee-emulator-test-')
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_restart_keeps_the_state_1900(state_dir):
    emu = start_emulator('1900', state_dir=state_dir)
    try:
        c = V1(emu)
        assert c.post('/api/v1/cards', {'card_no': '0077',
                                        'holder': 'Kept'}).status_code == 201
        assert c.delete('/api/v1/cards/42').status_code == 204
        emu.sim('POST', 'clock', {'advance': 86400})
        log_no = c.post('/api/v1/brew', {'drink_no': 3,
                                         'card_no': '0077'}).status_code
        assert log_no == 402
        log_no = c.post('/api/v1/brew', {'drink_no': 7,
                                         'card_no': '0077'}).json()['log_no']
        emu.restart()
        c = V1(emu)
        assert emu.sim('GET', 'clock')['offset_seconds'] > 86000
        assert c.ok('/api/v1/cards/0077')['holder'] == 'Kept'
        assert c.get('/api/v1/cards/42').status_code == 404
        finish_brewing(emu)
        last = c.ok('/api/v1/log', per_page=100)['items'][-1]
        assert (last['log_no'], last['result']) == (log_no, 'ok')
        assert c.ok('/api/v1/log')['total'] == 65
        # --data only seeds an empty state
        emu.stop(keep_state=True)
        emu2 = start_emulator('1900', data='empty', state_dir=state_dir)
        try:
            assert V1(emu2).ok('/api/v1/log')['total'] == 65
        finally:
            emu2.stop()
        # a state belongs to one protocol
        with pytest.raises(EmulatorError):
            start_emulator('2900', state_dir=state_dir)
    finally:
        emu.stop()


def test_restart_keeps_the_state_2900(state_dir):
    emu = start_emulator('2900', state_dir=state_dir)
    try:
        c = V2(emu)
        hook = c.post('/api/v2/webhooks', {'url': 'http://127.0.0.1:9/x',
                                           'events': ['brew.completed']})
        cup = c.post('/api/v2/brews', {'beverage_id': 'bev_lungo'},
                     headers={'Idempotency-Key': 'persist'}).json()
        assert c.delete('/api/v2/consumers/con_8f3a21').status_code == 204
        emu.restart()
        c = V2(emu)
        assert c.ok('/api/v2/webhooks')['data'][0]['id'] == hook.json()['id']
        again = c.post('/api/v2/brews', {'beverage_id': 'bev_lungo'},
                       headers={'Idempotency-Key': 'persist'})
        assert again.status_code == 200 and again.json()['id'] == cup['id']
        tombs = [x for x in c.all('/api/v2/consumers', include_deleted='1')
                 if x.get('deleted')]
        assert sorted(t['id'] for t in tombs) == ['con_8f3a21', 'con_dead01']
    finally:
        emu.stop()


def test_sigterm_stops_cleanly_and_logs_without_secrets(state_dir):
    emu = start_emulator('2900', state_dir=state_dir)
    c = V2(emu)
    token = c.new_token()
    c.get('/api/v2/machine')
    c.get('/api/v2/brews', params={'limit': 3})
    proc = emu.proc
    emu.stop(keep_state=True)
    assert proc.returncode == 0
    with open(os.path.join(state_dir, 'emulator.log')) as f:
        log = f.read()
    assert 'POST /api/v2/auth/token 200' in log
    lines = [x for x in log.splitlines() if 'GET /api/v2/machine 200' in x]
    assert len(lines) == 1 and lines[0].endswith('ms')
    assert 'GET /api/v2/brews?limit=3 200' in log
    assert token not in log and 'espresso' not in log
    assert log.rstrip().endswith('stopped')


def test_sigint_stops_cleanly_too(state_dir):
    emu = start_emulator('1900', state_dir=state_dir)
    proc = emu.proc
    proc.send_signal(signal.SIGINT)
    assert proc.wait(10) == 0
    emu.stop(keep_state=True)
    with open(os.path.join(state_dir, 'emulator.log')) as f:
        assert f.read().rstrip().endswith('stopped')


def test_scale_data_is_generated_deterministically_and_fast():
    started = time.time()
    big = start_emulator('2900', data='scale:50000')
    try:
        elapsed = time.time() - started
        assert elapsed < 10, elapsed
        assert big.sim('GET', 'snapshot?kind=brews')['count'] == 50000
        assert big.sim('GET', 'snapshot?kind=beverages')['count'] == 20
        consumers = big.sim('GET', 'snapshot?kind=consumers'
                            '&include_deleted=1')['count']
        assert consumers == 1000
    finally:
        big.stop()
    one = start_emulator('1900', data='scale:300')
    two = start_emulator('1900', data='scale:300')
    try:
        for kind in ('log', 'cards', 'drinks'):
            a = one.sim('GET', 'snapshot?kind=%s&full=1' % kind)
            b = two.sim('GET', 'snapshot?kind=%s&full=1' % kind)
            assert a == b
        assert a['count'] == 20
        assert one.sim('GET', 'snapshot?kind=log')['count'] == 300
        page = V1(one).ok('/api/v1/log', per_page=100)
        assert page['total'] == 300 and len(page['items']) == 100
    finally:
        one.stop()
        two.stop()
