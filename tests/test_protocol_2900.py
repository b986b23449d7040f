# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Coffee2900Client over real HTTP against the emulator process."""

import datetime
import logging
import threading
import time

import pytest

from ..protocol import (
    Coffee2900Client,
    CoffeeAuthError,
    CoffeeBlocked,
    CoffeeBusy,
    CoffeeConflict,
    CoffeeConnectionError,
    CoffeeMachineError,
    CoffeeNoCredit,
    CoffeeNotFound,
    CoffeePreconditionFailed,
    CoffeeProtocolError,
    CoffeeServerError,
    CoffeeTimeout,
    CoffeeValidationError,
    CoffeeWrongVersion,
    clear_token_cache,
    client_class,
    format_utc_timestamp,
)
from .protocol_common import (
    PASSWORD,
    USERNAME,
    WRONG_PASSWORD,
    advance_clock,
    client_fixture,
    emulator_fixture,
    html_server,
    refused_url,
    request_count,
    reset,
    set_config,
    set_faults,
    set_machine_state,
    snapshot_ids,
    stub_server,
)

TOKEN_PATH = '/api/v2/auth/token'
MACHINE_PATH = '/api/v2/machine'


emulator = emulator_fixture('2900')
emulator_1900 = emulator_fixture('1900')


@pytest.fixture(autouse=True)
def fresh_machine(request):
    if 'emulator' in request.fixturenames:
        reset(request.getfixturevalue('emulator'))
    # the reset forgot the machine's tokens: start each test without any
    clear_token_cache()
    yield
    clear_token_cache()


client = client_fixture(Coffee2900Client)


# -- identity -----------------------------------------------------------------

def test_client_class_picks_the_2900():
    assert client_class('2900') is Coffee2900Client


def test_check_machine_accepts_a_2900(client):
    machine = client.check_machine()
    assert machine['model'] == '2900'
    assert machine['status']['state'] == 'ready'


def test_normalize_machine_of_the_documented_answer():
    """The same words as the 1900's (no language: it has several)."""
    answer = {'serial': 'C29-004211', 'model': '2900', 'firmware': '2.9.1',
              'currency': 'EUR', 'languages': ['en_US', 'fr_FR', 'nl_BE'],
              'status': {'state': 'ready', 'water_ml': 1800,
                         'water_capacity_ml': 2000, 'beans_g': 420,
                         'beans_capacity_g': 0, 'descaling_due': False,
                         'errors': [{'code': 'E07', 'message': 'Drip tray'},
                                    'E99', {'code': 'E01'}]}}
    with Coffee2900Client('http://127.0.0.1:9', USERNAME, PASSWORD) as coffee:
        assert coffee.normalize_machine(answer) == {
            'serial': 'C29-004211', 'firmware': '2.9.1', 'currency': 'EUR',
            'timezone': 'UTC', 'state': 'ready', 'errors': 'E07, E01',
            'water_pct': 90, 'beans_pct': 0, 'descaling_due': False}
        answer['status']['errors'] = []
        assert coffee.normalize_machine(answer)['errors'] is None


def test_check_machine_on_a_1900_says_the_version_is_wrong(emulator_1900):
    with Coffee2900Client(emulator_1900.url, USERNAME, PASSWORD) as coffee:
        with pytest.raises(CoffeeWrongVersion) as info:
            coffee.check_machine()
    assert isinstance(info.value, CoffeeProtocolError)
    assert 'this URL does not answer as a Coffee 2900; is the version ' \
        'right?' in str(info.value)
    assert info.value.retryable is False


def test_check_machine_on_a_web_page_says_the_version_is_wrong():
    with html_server() as url:
        with Coffee2900Client(url, USERNAME, PASSWORD) as coffee:
            with pytest.raises(CoffeeWrongVersion) as info:
                coffee.check_machine()
    assert 'does not answer as a Coffee 2900' in str(info.value)
    assert 'not JSON' in str(info.value)


# -- lists --------------------------------------------------------------------

@pytest.mark.parametrize('resource', ['beverages', 'consumers', 'brews'])
@pytest.mark.parametrize('limit', [1, 7, 100, 500])
def test_iter_records_gives_every_record_once(emulator, client, resource,
                                              limit):
    # 64 brews one by one would exceed the default 20 requests per second
    set_config(emulator, rate_limit=1000)
    ids = [record['id'] for record in
           client.iter_records(resource, limit=limit)]
    assert ids == snapshot_ids(emulator, resource)
    assert len(set(ids)) == len(ids)


def test_list_page_follows_cursors(client):
    first = client.list_page('brews', limit=10)
    assert len(first['data']) == 10 and first['next_cursor']
    second = client.list_page('brews', limit=10, cursor=first['next_cursor'])
    assert len(second['data']) == 10
    assert not set(r['id'] for r in first['data']) & \
        set(r['id'] for r in second['data'])


def test_iter_records_copes_with_limit_clamped_to_500(emulator, client):
    emulator.sim('POST', 'activity', {'brews': 500, 'seed': 3})
    assert len(client.list_page('brews', limit=5000)['data']) == 500
    before = request_count(emulator, '/api/v2/brews')
    ids = [r['id'] for r in client.iter_records('brews', limit=5000)]
    assert ids == snapshot_ids(emulator, 'brews')
    assert len(ids) == 564
    assert request_count(emulator, '/api/v2/brews') - before == 2


def test_updated_since_is_exclusive_and_accepts_datetimes(client):
    everything = list(client.iter_records('consumers'))
    pivot = everything[4]['updated_at']
    expected = [r['id'] for r in everything if r['updated_at'] > pivot]
    assert 0 < len(expected) < len(everything)
    aware = datetime.datetime.strptime(
        pivot, '%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=datetime.timezone.utc)
    brussels = datetime.timezone(datetime.timedelta(hours=1))
    for since in (pivot, aware, aware.astimezone(brussels),
                  aware.replace(tzinfo=None)):  # naive = UTC, as in Odoo
        ids = [r['id'] for r in
               client.iter_records('consumers', updated_since=since, limit=2)]
        assert ids == expected, since


def test_deleted_consumers_come_back_as_tombstones_on_request(emulator,
                                                              client):
    live = snapshot_ids(emulator, 'consumers')
    with_deleted = [r['id'] for r in
                    client.iter_records('consumers', include_deleted=True)]
    assert with_deleted == snapshot_ids(emulator, 'consumers',
                                        include_deleted=True)
    assert set(with_deleted) - set(live) == {'con_dead01'}
    last_change = max(r['updated_at'] for r in client.iter_records(
        'consumers', include_deleted=True))

    client.delete_consumer('con_42b0c7')
    delta = list(client.iter_records('consumers', updated_since=last_change,
                                     include_deleted=True))
    assert [(r['id'], r.get('deleted')) for r in delta] == \
        [('con_42b0c7', True)]
    assert list(client.iter_records('consumers',
                                    updated_since=last_change)) == []


def test_unknown_resource_is_refused_before_any_request(client):
    with pytest.raises(ValueError):
        client.list_page('drinks')


# -- records, ETags -----------------------------------------------------------

def test_get_record_returns_the_etag(client):
    record, etag = client.get_record('beverages', 'bev_espresso')
    assert record['id'] == 'bev_espresso'
    assert record['name']['fr_FR'] == 'Expresso'
    assert etag


def test_patch_with_a_stale_etag_fails_the_precondition(client):
    record, etag = client.get_record('beverages', 'bev_espresso')
    price = {'amount': '1.30', 'currency': 'EUR'}
    patched, new_etag = client.patch_record('beverages', 'bev_espresso',
                                            {'price': price}, if_match=etag)
    assert patched['price'] == price
    assert patched['name'] == record['name']
    assert new_etag and new_etag != etag
    with pytest.raises(CoffeePreconditionFailed) as info:
        client.patch_record('beverages', 'bev_espresso',
                            {'active': False}, if_match=etag)
    assert info.value.status == 412
    assert info.value.retryable is False
    assert client.get_record('beverages', 'bev_espresso')[0]['active'] is True
    # without If-Match the last writer wins
    patched, _etag = client.patch_record('beverages', 'bev_espresso',
                                         {'active': False})
    assert patched['active'] is False


def test_other_currency_is_a_validation_error_with_the_machine_code(client):
    with pytest.raises(CoffeeValidationError) as info:
        client.patch_record('beverages', 'bev_espresso',
                            {'price': {'amount': '1.30', 'currency': 'USD'}})
    error = info.value
    assert error.status == 422
    assert error.code == 'currency_mismatch'
    assert 'EUR' in str(error)


def test_consumer_life_cycle(client):
    created = client.create_consumer({'badge': '0000777', 'name': 'New Hire'})
    assert created['badge'] == '0000777'
    record, etag = client.get_record('consumers', created['id'])
    assert record['name'] == 'New Hire'
    patched, _etag = client.patch_record('consumers', created['id'],
                                         {'name': 'Not So New'},
                                         if_match=etag)
    assert patched['name'] == 'Not So New'
    assert client.delete_consumer(created['id']) is None
    with pytest.raises(CoffeeNotFound):
        client.get_record('consumers', created['id'])
    with pytest.raises(CoffeeNotFound):
        client.delete_consumer(created['id'])


def test_existing_badge_is_a_conflict_not_to_retry(client):
    with pytest.raises(CoffeeConflict) as info:
        client.create_consumer({'badge': '00', 'name': 'Dup'})
    assert info.value.status == 409
    assert info.value.retryable is False
    assert info.value.code


def test_ids_are_quoted_in_the_path(client):
    with pytest.raises(CoffeeNotFound):
        client.get_record('consumers', 'con_8f3a21/../con_000000')


# -- brewing ------------------------------------------------------------------

def test_same_idempotency_key_brews_one_cup(emulator, client):
    created, brew = client.brew('bev_espresso', 'con_8f3a21',
                                idempotency_key='order-0001')
    assert created is True
    assert brew['status'] == 'running'
    # again while the cup is brewing, and again once it is done
    again, same = client.brew('bev_espresso', 'con_8f3a21',
                              idempotency_key='order-0001')
    assert again is False
    assert same['id'] == brew['id']
    advance_clock(emulator, 10)
    again, same = client.brew('bev_espresso', 'con_8f3a21',
                              idempotency_key='order-0001')
    assert again is False
    assert same['id'] == brew['id'] and same['status'] == 'completed'
    assert emulator.sim('GET', 'counters')['brews_poured'] == 1


def test_new_key_while_brewing_is_a_retryable_conflict(client):
    client.brew('bev_lungo', idempotency_key='order-0002')
    with pytest.raises(CoffeeConflict) as info:
        client.brew('bev_lungo', idempotency_key='order-0003')
    assert info.value.code == 'busy'
    assert info.value.retryable is True


def test_refused_brew_does_not_bind_its_key(emulator, client):
    set_machine_state(emulator, 'error', 'E01')
    with pytest.raises(CoffeeMachineError) as info:
        client.brew('bev_espresso', idempotency_key='order-0004')
    error = info.value
    assert error.status == 503
    assert error.code == 'E01'
    assert error.retryable is True
    assert 'no water' in str(error).lower()
    set_machine_state(emulator, 'ready')
    created, _brew = client.brew('bev_espresso',
                                 idempotency_key='order-0004')
    assert created is True


@pytest.mark.parametrize('consumer_id, beverage_id, error_class', [
    ('con_b10c4d', 'bev_espresso', CoffeeBlocked),
    ('con_00c4ed', 'bev_espresso', CoffeeNoCredit),
    (None, 'bev_decaf', CoffeeConflict),
    ('con_dead01', 'bev_espresso', CoffeeNotFound),
])
def test_brew_refusals(client, consumer_id, beverage_id, error_class):
    with pytest.raises(error_class) as info:
        client.brew(beverage_id, consumer_id, idempotency_key='refused')
    assert type(info.value) is error_class
    assert info.value.retryable is False


@pytest.mark.parametrize('key', [None, '', 'k' * 65])
def test_brew_needs_a_usable_idempotency_key(client, key):
    with pytest.raises(ValueError):
        client.brew('bev_espresso', idempotency_key=key)


# -- webhooks -----------------------------------------------------------------

def test_webhook_life_cycle(client):
    events = ['brew.completed', 'consumer.updated']
    created = client.create_webhook('http://127.0.0.1:9/hook', events)
    assert created['id'] and created['secret']
    listed = client.list_webhooks()
    assert listed == [{'id': created['id'], 'url': 'http://127.0.0.1:9/hook',
                       'events': events}]
    assert client.delete_webhook(created['id']) is None
    assert client.list_webhooks() == []
    with pytest.raises(CoffeeNotFound):
        client.delete_webhook(created['id'])


def test_bad_webhook_event_is_a_validation_error(client):
    with pytest.raises(CoffeeValidationError):
        client.create_webhook('http://127.0.0.1:9/hook', ['brew.spilled'])


# -- tokens -------------------------------------------------------------------

def test_clients_of_one_machine_share_one_token(emulator):
    for _ in range(3):
        with Coffee2900Client(emulator.url, USERNAME, PASSWORD) as coffee:
            coffee.get_machine()
    assert request_count(emulator, TOKEN_PATH) == 1
    assert request_count(emulator, MACHINE_PATH, 200) == 3


def test_threads_starting_together_fetch_one_token(emulator):
    set_config(emulator, delay_ms=200)  # keep the token request in flight
    models = []

    def ask():
        with Coffee2900Client(emulator.url, USERNAME, PASSWORD) as coffee:
            models.append(coffee.get_machine()['model'])

    threads = [threading.Thread(target=ask) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert models == ['2900'] * 5
    assert request_count(emulator, TOKEN_PATH) == 1


def test_expired_token_is_renewed_once_and_the_request_retried(emulator,
                                                               client):
    client.get_machine()
    # the machine's clock jumps past the token's hour; ours does not
    advance_clock(emulator, 2 * 3600)
    assert client.get_machine()['model'] == '2900'
    assert request_count(emulator, TOKEN_PATH, 200) == 2
    assert request_count(emulator, MACHINE_PATH, 401) == 1
    assert request_count(emulator, MACHINE_PATH, 200) == 2


def test_token_about_to_expire_is_renewed_before_use(emulator, client):
    set_config(emulator, token_ttl=2)
    client.get_machine()
    time.sleep(2.1)
    client.get_machine()
    assert request_count(emulator, TOKEN_PATH, 200) == 2
    assert request_count(emulator, MACHINE_PATH, 401) == 0


def test_changed_password_does_not_reuse_the_cached_token(emulator, client):
    client.get_machine()
    with Coffee2900Client(emulator.url, USERNAME, WRONG_PASSWORD) as coffee:
        with pytest.raises(CoffeeAuthError):
            coffee.get_machine()


def test_wrong_password_is_an_auth_error_that_hides_the_password(emulator):
    with Coffee2900Client(emulator.url, USERNAME, WRONG_PASSWORD) as coffee:
        with pytest.raises(CoffeeAuthError) as info:
            coffee.list_page('consumers')
    error = info.value
    assert error.status == 401
    assert error.retryable is False
    assert 'the machine refused the username or password' in str(error)
    assert WRONG_PASSWORD not in str(error)
    assert WRONG_PASSWORD not in repr(error)


def test_debug_log_shows_no_token_nor_password(client, caplog):
    caplog.set_level(logging.DEBUG, logger=Coffee2900Client.__module__
                     .rsplit('.', 1)[0])
    client.get_machine()
    with pytest.raises(CoffeeNotFound):
        client.get_record('consumers', 'con_nobody')
    token = client._get_token()
    text = caplog.text
    assert 'POST /api/v2/auth/token -> 200' in text
    assert 'GET /api/v2/consumers/con_nobody -> 404' in text
    assert token not in text and PASSWORD not in text
    assert 'Bearer' not in text


# -- overload and failures ----------------------------------------------------

def test_rate_limit_is_coffee_busy_with_retry_after(emulator, client):
    set_config(emulator, rate_limit=2)
    client.get_machine()
    client.get_machine()
    before = request_count(emulator, MACHINE_PATH)
    with pytest.raises(CoffeeBusy) as info:
        client.get_machine()
    error = info.value
    assert error.status == 429
    assert error.retryable is True
    assert isinstance(error.retry_after, int) and error.retry_after >= 1
    assert 'retry in %d s' % error.retry_after in str(error)
    # the client does not wait and try again by itself
    assert request_count(emulator, MACHINE_PATH) - before == 1


def test_unavailable_machine_is_a_retryable_server_error(emulator, client):
    client.get_machine()  # token first: faults hit every API path
    set_faults(emulator, ['503'], paths=['/api/v2/beverages'])
    with pytest.raises(CoffeeServerError) as info:
        client.list_page('beverages')
    error = info.value
    assert not isinstance(error, CoffeeMachineError)
    assert error.status == 503
    assert error.retryable is True
    assert error.retry_after == 1


def test_hanging_machine_is_a_timeout(emulator):
    with Coffee2900Client(emulator.url, USERNAME, PASSWORD,
                          timeout=(2, 0.5)) as coffee:
        coffee.get_machine()
        set_faults(emulator, ['hang'], hang_seconds=5)
        started = time.monotonic()
        with pytest.raises(CoffeeTimeout) as info:
            coffee.get_machine()
    assert time.monotonic() - started < 3
    assert info.value.retryable is True


def test_connection_refused_is_a_connection_error():
    with Coffee2900Client(refused_url(), USERNAME, PASSWORD,
                          timeout=(2, 2)) as coffee:
        with pytest.raises(CoffeeConnectionError) as info:
            coffee.get_machine()
    assert info.value.retryable is True
    assert 'cannot connect' in str(info.value)


def test_token_refused_again_after_renewal_is_not_retried_forever():
    def always_expired(method, path):
        if path == TOKEN_PATH:
            return 200, (b'{"access_token": "t0k3n-abc", "token_type": '
                         b'"Bearer", "expires_in": 3600}'), 'application/json'
        return 401, (b'{"error": {"code": "token_expired", "message": '
                     b'"the token is expired or unknown"}}'), \
            'application/json'

    with stub_server(always_expired) as (url, seen):
        with Coffee2900Client(url, USERNAME, PASSWORD) as coffee:
            with pytest.raises(CoffeeAuthError) as info:
                coffee.get_machine()
    assert seen == [('POST', TOKEN_PATH), ('GET', MACHINE_PATH),
                    ('POST', TOKEN_PATH), ('GET', MACHINE_PATH)]
    assert info.value.code == 'token_expired'
    assert info.value.retryable is False
    assert 't0k3n-abc' not in str(info.value)


def test_format_utc_timestamp():
    utc = datetime.timezone.utc
    brussels = datetime.timezone(datetime.timedelta(hours=1))
    expected = '2026-11-20T07:31:00.120000Z'
    assert format_utc_timestamp(
        datetime.datetime(2026, 11, 20, 7, 31, 0, 120000, tzinfo=utc)) == \
        expected
    assert format_utc_timestamp(
        datetime.datetime(2026, 11, 20, 8, 31, 0, 120000,
                          tzinfo=brussels)) == expected
    assert format_utc_timestamp(
        datetime.datetime(2026, 11, 20, 7, 31, 0, 120000)) == expected
    assert format_utc_timestamp(expected) == expected
    assert format_utc_timestamp(None) is None
