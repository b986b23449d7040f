# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Coffee1900Client over real HTTP against the emulator process."""

import datetime
import logging
import threading
import time

import pytest

from ..protocol import (
    Coffee1900Client,
    CoffeeAuthError,
    CoffeeBlocked,
    CoffeeBusy,
    CoffeeConflict,
    CoffeeConnectionError,
    CoffeeError,
    CoffeeMachineError,
    CoffeeNoCredit,
    CoffeeNotFound,
    CoffeeProtocolError,
    CoffeeServerError,
    CoffeeTimeout,
    CoffeeValidationError,
    CoffeeWrongVersion,
    client_class,
    format_local_timestamp,
    parse_log_csv,
)
from ..protocol.base import parse_retry_after, strip_userinfo
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
    start_emulator,
    stub_server,
)

TS_FORMAT = '%Y-%m-%d %H:%M:%S'
KEYS = {'drinks': 'drink_no', 'cards': 'card_no', 'log': 'log_no'}


emulator = emulator_fixture('1900')
emulator_2900 = emulator_fixture('2900')


@pytest.fixture(autouse=True)
def fresh_machine(request):
    # only tests that use the 1900 emulator need it reset
    if 'emulator' in request.fixturenames:
        reset(request.getfixturevalue('emulator'))
    yield


client = client_fixture(Coffee1900Client)


# -- identity -----------------------------------------------------------------

def test_client_class_picks_the_1900():
    assert client_class('1900') is Coffee1900Client


def test_check_machine_accepts_a_1900(client):
    machine = client.check_machine()
    assert machine['model'] == '1900'
    assert machine['timezone'] == 'Europe/Brussels'
    assert machine['state'] == 'ready'


def test_normalize_machine_of_the_documented_answer():
    """The backend stores what the client normalizes, for any version."""
    answer = {'serial': 'C19-000123', 'model': '1900', 'firmware': '1.9.4',
              'timezone': 'Europe/Brussels', 'currency': 'EUR',
              'language': 'en_US', 'state': 'error', 'error_code': 'E02',
              'water_level_pct': 80, 'beans_level_pct': None,
              'cups_since_descaling': 412, 'descaling_due': 1}
    with Coffee1900Client('http://127.0.0.1:9', USERNAME, PASSWORD) as coffee:
        assert coffee.normalize_machine(answer) == {
            'serial': 'C19-000123', 'firmware': '1.9.4', 'currency': 'EUR',
            'timezone': 'Europe/Brussels', 'language': 'en_US',
            'state': 'error', 'errors': 'E02', 'water_pct': 80,
            'beans_pct': 0, 'descaling_due': True}
        answer.update(error_code=None, state='ready')
        assert coffee.normalize_machine(answer)['errors'] is None


def test_check_machine_on_a_2900_says_the_version_is_wrong(emulator_2900):
    with Coffee1900Client(emulator_2900.url, USERNAME, PASSWORD) as coffee:
        with pytest.raises(CoffeeWrongVersion) as info:
            coffee.check_machine()
    assert isinstance(info.value, CoffeeProtocolError)
    assert 'this URL does not answer as a Coffee 1900; is the version ' \
        'right?' in str(info.value)
    assert info.value.retryable is False


def test_check_machine_on_a_web_page_says_the_version_is_wrong():
    with html_server() as url:
        with Coffee1900Client(url, USERNAME, PASSWORD) as coffee:
            with pytest.raises(CoffeeProtocolError) as plain:
                coffee.get_machine()
            with pytest.raises(CoffeeWrongVersion) as checked:
                coffee.check_machine()
    assert 'not JSON' in str(plain.value)
    assert 'text/html' in str(plain.value)
    assert 'does not answer as a Coffee 1900' in str(checked.value)


# -- lists --------------------------------------------------------------------

@pytest.mark.parametrize('resource', ['drinks', 'cards', 'log'])
@pytest.mark.parametrize('per_page', [1, 7, 50, 100])
def test_iter_records_gives_every_record_once(emulator, client, resource,
                                              per_page):
    total = client.list_page(resource, per_page=1)['total']
    records = list(client.iter_records(resource, per_page=per_page))
    keys = [record[KEYS[resource]] for record in records]
    assert len(records) == total
    assert keys == snapshot_ids(emulator, resource)
    assert len(set(keys)) == total


def test_list_page_answers_the_machine_body(client):
    body = client.list_page('log', page=2, per_page=10)
    assert body['page'] == 2
    assert body['per_page'] == 10
    assert body['total'] == 64
    assert len(body['items']) == 10


def test_iter_records_copes_with_per_page_clamped_to_100(emulator, client):
    emulator.sim('POST', 'activity', {'brews': 150, 'seed': 7})
    assert client.list_page('log', per_page=500)['per_page'] == 100
    request_count_before = request_count(emulator, '/api/v1/log')
    records = list(client.iter_records('log', per_page=500))
    assert [r['log_no'] for r in records] == snapshot_ids(emulator, 'log')
    assert len(records) == 64 + 150
    # 214 records at 100 a page: 3 pages, no more
    assert request_count(emulator, '/api/v1/log') - request_count_before == 3


def test_modified_after_is_inclusive(client):
    everything = list(client.iter_records('log'))
    # entries 48..53 share one second (see the demo data)
    pivot = everything[47]['ts']
    expected = [r['log_no'] for r in everything if r['ts'] >= pivot]
    since = datetime.datetime.strptime(pivot, TS_FORMAT)
    from_datetime = [r['log_no'] for r in
                     client.iter_records('log', modified_after=since,
                                         per_page=3)]
    from_string = [r['log_no'] for r in
                   client.iter_records('log', modified_after=pivot)]
    assert from_datetime == expected
    assert from_string == expected
    assert everything[47]['log_no'] == from_datetime[0]
    assert len(expected) < len(everything)


def test_modified_after_refuses_an_aware_datetime(client):
    aware = datetime.datetime(2026, 11, 20, 8, 0, tzinfo=datetime.timezone.utc)
    with pytest.raises(ValueError):
        client.list_page('log', modified_after=aware)


def test_unknown_resource_is_refused_before_any_request(client):
    with pytest.raises(ValueError):
        client.list_page('beverages')


# -- drinks -------------------------------------------------------------------

def test_update_drink_returns_the_whole_drink(client):
    drink = client.update_drink(3, {'price_cents': 125})
    assert drink['drink_no'] == 3
    assert drink['price_cents'] == 125
    assert drink['label'] == 'Espresso'
    assert client.get_drink(3)['price_cents'] == 125


def test_wrong_type_is_a_validation_error_keeping_the_machine_message(client):
    with pytest.raises(CoffeeValidationError) as info:
        client.update_drink(3, {'price_cents': 'cheap'})
    error = info.value
    assert error.status == 400
    assert 'price_cents must be an integer' in str(error)
    assert error.retryable is False


def test_unknown_drink_is_not_found(client):
    with pytest.raises(CoffeeNotFound) as info:
        client.get_drink(999)
    assert info.value.status == 404
    assert info.value.retryable is False


# -- cards --------------------------------------------------------------------

def test_cards_0_and_00_are_two_cards(client):
    zero = client.get_card('0')
    double_zero = client.get_card('00')
    assert zero['card_no'] == '0'
    assert double_zero['card_no'] == '00'
    assert zero['holder'] != double_zero['holder']
    assert client.get_card('00042')['holder'] == 'Jane Doe'
    assert client.get_card('42')['holder'] != 'Jane Doe'


def test_card_number_must_be_a_string(client):
    with pytest.raises(TypeError):
        client.get_card(42)


def test_card_number_is_quoted_in_the_path(client):
    # unquoted, this would ask for card "00" with a query string
    with pytest.raises(CoffeeNotFound):
        client.get_card('00?x=1')


def test_card_life_cycle(client):
    created = client.create_card({'card_no': '0000777', 'holder': 'New Hire',
                                  'credit_cents': 300})
    assert created['card_no'] == '0000777'
    assert created['holder'] == 'New Hire'
    updated = client.update_card('0000777', {'holder': 'Not So New'})
    assert updated['holder'] == 'Not So New'
    assert updated['credit_cents'] == 300
    assert client.get_card('0000777')['holder'] == 'Not So New'
    assert client.delete_card('0000777') is None
    with pytest.raises(CoffeeNotFound):
        client.get_card('0000777')
    with pytest.raises(CoffeeNotFound):
        client.delete_card('0000777')
    # "777" was never created: leading zeros are significant
    with pytest.raises(CoffeeNotFound):
        client.get_card('777')


def test_creating_an_existing_card_is_a_conflict_not_to_retry(client):
    with pytest.raises(CoffeeConflict) as info:
        client.create_card({'card_no': '00', 'holder': 'Dup'})
    assert info.value.code == 'exists'
    assert info.value.status == 409
    assert info.value.retryable is False


# -- log ----------------------------------------------------------------------

def test_log_csv_download_parses(emulator, client):
    lines = list(parse_log_csv(client.get_log_csv()))
    assert [line.error for line in lines if line.error] == []
    assert [line.values['log_no'] for line in lines] == \
        sorted(snapshot_ids(emulator, 'log'))
    by_no = dict((line.values['log_no'], line.values) for line in lines)
    for entry in client.iter_records('log'):
        values = by_no[entry['log_no']]
        assert values['card_no'] == entry['card_no']
        assert values['price_cents'] == entry['price_cents']
        assert values['ts'].strftime(TS_FORMAT) == entry['ts']
        assert values['result'] == entry['result']


def test_log_csv_with_modified_after(client):
    everything = list(client.iter_records('log'))
    pivot = everything[59]['ts']
    since = datetime.datetime.strptime(pivot, TS_FORMAT)
    lines = list(parse_log_csv(client.get_log_csv(modified_after=since)))
    assert sorted(line.values['log_no'] for line in lines) == \
        sorted(r['log_no'] for r in everything if r['ts'] >= pivot)


# -- brewing ------------------------------------------------------------------

def test_brew_runs_then_completes_and_a_second_cup_must_wait(emulator,
                                                             client):
    credit = client.get_card('00042')['credit_cents']
    answer = client.brew(3, '00042')
    log_no = answer['log_no']
    entries = dict((r['log_no'], r) for r in client.iter_records('log'))
    assert entries[log_no]['result'] == 'running'
    assert entries[log_no]['card_no'] == '00042'
    assert client.get_card('00042')['credit_cents'] == credit - 120

    with pytest.raises(CoffeeConflict) as info:
        client.brew(5)
    assert info.value.code == 'brewing'
    assert info.value.retryable is True

    advance_clock(emulator, 10)
    entries = dict((r['log_no'], r) for r in client.iter_records('log'))
    assert entries[log_no]['result'] == 'ok'
    assert 'log_no' in client.brew(5)  # anonymous cup


@pytest.mark.parametrize('card_no, drink_no, error_class, retryable', [
    ('2001', 3, CoffeeBlocked, False),      # blocked card
    ('2002', 3, CoffeeNoCredit, False),     # no credit
    ('2003', 3, CoffeeNoCredit, False),     # credit below the price
    (None, 8, CoffeeConflict, False),       # disabled drink
    ('9999', 3, CoffeeNotFound, False),     # unknown card
])
def test_brew_refusals(client, card_no, drink_no, error_class, retryable):
    with pytest.raises(error_class) as info:
        client.brew(drink_no, card_no)
    assert info.value.retryable is retryable
    assert type(info.value) is error_class


def test_machine_in_error_state_refuses_to_brew(emulator, client):
    set_machine_state(emulator, 'error', 'E01')
    with pytest.raises(CoffeeMachineError) as info:
        client.brew(3)
    error = info.value
    assert error.status == 503
    assert error.code == 'E01'
    assert error.retryable is True
    assert 'E01' in str(error) and 'no water' in str(error)
    assert client.get_machine()['error_code'] == 'E01'


# -- overload and failures ----------------------------------------------------

def test_busy_fault_is_coffee_busy(emulator, client):
    set_faults(emulator, ['503'])
    with pytest.raises(CoffeeBusy) as info:
        client.list_page('drinks')
    error = info.value
    assert error.status == 503
    assert error.code == 'busy'
    assert error.retryable is True
    assert not isinstance(error, CoffeeMachineError)


def test_third_concurrent_request_is_coffee_busy(emulator):
    # every request stays 0.8 s in the machine: four at once cannot all fit
    set_config(emulator, delay_ms=800)
    outcomes = []

    def ask():
        with Coffee1900Client(emulator.url, USERNAME, PASSWORD) as coffee:
            try:
                outcomes.append(coffee.get_machine()['model'])
            except CoffeeError as exc:
                outcomes.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    busy = [o for o in outcomes if isinstance(o, CoffeeBusy)]
    served = [o for o in outcomes if o == '1900']
    assert len(outcomes) == 4
    assert len(busy) >= 1 and len(served) >= 1
    assert len(busy) + len(served) == 4


def test_server_error_is_retryable(emulator, client):
    set_faults(emulator, ['500'])
    with pytest.raises(CoffeeServerError) as info:
        client.get_machine()
    assert info.value.status == 500
    assert info.value.retryable is True


def test_hanging_machine_is_a_timeout(emulator):
    set_faults(emulator, ['hang'], hang_seconds=5)
    started = time.monotonic()
    with Coffee1900Client(emulator.url, USERNAME, PASSWORD,
                          timeout=(2, 0.5)) as coffee:
        with pytest.raises(CoffeeTimeout) as info:
            coffee.get_machine()
    assert time.monotonic() - started < 3
    assert info.value.retryable is True
    assert '0.5 s' in str(info.value)


def test_dropped_connection_is_a_connection_error(emulator, client):
    set_faults(emulator, ['drop'])
    with pytest.raises(CoffeeConnectionError) as info:
        client.get_machine()
    assert info.value.retryable is True


def test_connection_refused_is_a_connection_error():
    with Coffee1900Client(refused_url(), USERNAME, PASSWORD,
                          timeout=(2, 2)) as coffee:
        with pytest.raises(CoffeeConnectionError) as info:
            coffee.get_machine()
    assert info.value.retryable is True
    assert info.value.status is None
    assert 'cannot connect' in str(info.value)


# -- credentials --------------------------------------------------------------

def test_wrong_password_is_an_auth_error_that_hides_the_password(emulator):
    with Coffee1900Client(emulator.url, USERNAME, WRONG_PASSWORD) as coffee:
        with pytest.raises(CoffeeAuthError) as info:
            coffee.get_machine()
    error = info.value
    assert error.status == 401
    assert error.retryable is False
    assert 'the machine refused the username or password' in str(error)
    assert WRONG_PASSWORD not in str(error)
    assert WRONG_PASSWORD not in repr(error)


def test_non_ascii_password_is_sent_as_utf8():
    password = 'caf\u00e9-\u20ac'
    emu = start_emulator('1900', password=password)
    try:
        with Coffee1900Client(emu.url, USERNAME, password) as coffee:
            assert coffee.get_machine()['model'] == '1900'
        with Coffee1900Client(emu.url, USERNAME, 'cafe-EUR') as coffee:
            with pytest.raises(CoffeeAuthError):
                coffee.get_machine()
    finally:
        emu.stop()


def test_password_in_url_is_not_shown():
    url = refused_url().replace('http://', 'http://coffee:%s@'
                                % WRONG_PASSWORD)
    with Coffee1900Client(url, USERNAME, WRONG_PASSWORD,
                          timeout=(2, 2)) as coffee:
        with pytest.raises(CoffeeConnectionError) as info:
            coffee.get_machine()
        assert WRONG_PASSWORD not in repr(coffee)
    assert WRONG_PASSWORD not in str(info.value)


def test_debug_log_shows_no_credentials(client, caplog):
    caplog.set_level(logging.DEBUG, logger=Coffee1900Client.__module__
                     .rsplit('.', 1)[0])
    client.get_machine()
    with pytest.raises(CoffeeNotFound):
        client.get_card('55555')
    text = caplog.text
    assert 'GET /api/v1/machine -> 200' in text
    assert 'GET /api/v1/cards/55555 -> 404' in text
    assert PASSWORD not in text
    assert 'Authorization' not in text and 'Basic ' not in text


def test_a_password_echoed_by_the_machine_is_masked():
    secret = 'S3cret-Echo'

    def echo(method, path):
        return (400, b'{"error": "bad request: S3cret-Echo is not allowed"}',
                'application/json')

    with stub_server(echo) as (url, _seen):
        with Coffee1900Client(url, USERNAME, secret) as coffee:
            with pytest.raises(CoffeeValidationError) as info:
                coffee.update_drink(3, {'label': 'x'})
    assert secret not in str(info.value)
    assert 'bad request: *** is not allowed' in str(info.value)


# -- pure helpers ---------------------------------------------------------

def test_format_local_timestamp():
    when = datetime.datetime(2026, 3, 29, 2, 30, 5, 999999)
    assert format_local_timestamp(when) == '2026-03-29 02:30:05'
    assert format_local_timestamp('2026-11-20 08:31:00') == \
        '2026-11-20 08:31:00'
    assert format_local_timestamp(None) is None
    with pytest.raises(TypeError):
        format_local_timestamp(1795000000)


@pytest.mark.parametrize('header, seconds', [
    ('1', 1), ('  12 ', 12), ('2.5', 2.5), (None, None), ('', None),
    ('soon', None), ('-3', None),
    ('Wed, 21 Oct 2026 07:28:00 GMT', None),
])
def test_parse_retry_after(header, seconds):
    assert parse_retry_after(header) == seconds


def test_strip_userinfo():
    assert strip_userinfo('http://u:pw@host:8080/x') == 'http://host:8080/x'
    assert strip_userinfo('http://host:8080') == 'http://host:8080'


def test_client_class_refuses_unknown_versions():
    with pytest.raises(ValueError) as info:
        client_class('3900')
    assert '1900, 2900' in str(info.value)
