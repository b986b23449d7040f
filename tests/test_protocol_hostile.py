# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The clients against hostile machines (emulator/hostile.py): nothing
followed, nothing read without bound, nothing waited for without end, and
every refusal says what the machine did."""

import pytest

from ..emulator.hostile import HostileMachine, Listener
from ..protocol import (
    Coffee1900Client,
    Coffee2900Client,
    CoffeeBusy,
    CoffeeProtocolError,
    CoffeeServerError,
    CoffeeTimeout,
    clear_token_cache,
)
from ..protocol.base import MAX_RETRY_AFTER, parse_retry_after
from .protocol_common import USERNAME

SECRET_PASSWORD = 'hostile-S3cret-pw'


def client_for(version, url, timeout=(2, 4)):
    clear_token_cache()
    klass = Coffee1900Client if version == '1900' else Coffee2900Client
    return klass(url, USERNAME, SECRET_PASSWORD, timeout=timeout)


@pytest.mark.parametrize('version', ['1900', '2900'])
def test_a_redirect_is_not_followed(version):
    with Listener() as listener, \
            HostileMachine('redirect', target=listener.url) as machine:
        with client_for(version, machine.url) as coffee:
            with pytest.raises(CoffeeProtocolError) as info:
                coffee.get_machine()
        assert listener.seen == []
    message = str(info.value)
    assert 'HTTP 307' in message and 'redirect' in message
    assert listener.url in message
    assert SECRET_PASSWORD not in message


@pytest.mark.parametrize('mode', ['huge', 'huge_chunked'])
def test_a_huge_body_is_refused(mode):
    with HostileMachine(mode) as machine:
        with client_for('1900', machine.url, timeout=(2, 60)) as coffee:
            with pytest.raises(CoffeeProtocolError) as info:
                coffee.get_machine()
    assert 'larger than 16 MiB' in str(info.value)


@pytest.mark.parametrize('mode', ['trickle', 'trickle_body'])
def test_a_trickle_ends_at_the_deadline(mode):
    # the trickle would complete a valid answer in a few minutes: a
    # client without a deadline for the whole exchange returns it
    with HostileMachine(mode) as machine:
        with client_for('1900', machine.url, timeout=(2, 3)) as coffee:
            with pytest.raises(CoffeeTimeout) as info:
                coffee.get_machine()
    assert info.value.retryable is True
    assert 'did not answer within 3 s' in str(info.value)


@pytest.mark.parametrize('value', ['inf', '1e12', '-5', 'soon'])
def test_retry_after_that_is_no_delay_is_absent(value):
    with HostileMachine('retry_after:%s' % value) as machine:
        with client_for('2900', machine.url) as coffee:
            with pytest.raises(CoffeeBusy) as info:
                coffee.get_machine()
    assert info.value.retry_after is None
    assert 'HTTP 429' in str(info.value)


@pytest.mark.parametrize('header, seconds', [
    ('inf', None), ('nan', None), ('1e12', None), ('3e11', None),
    ('-5', None), ('soon', None), ('0', 1), ('0.2', 1), ('7', 7),
    ('99999999999', MAX_RETRY_AFTER), ('9' * 400, None),
])
def test_retry_after_is_clamped(header, seconds):
    assert parse_retry_after(header) == seconds


def test_an_html_error_page_says_what_came():
    with HostileMachine('html_502') as machine:
        with client_for('1900', machine.url) as coffee:
            with pytest.raises(CoffeeServerError) as info:
                coffee.get_machine()
    message = str(info.value)
    assert 'HTTP 502' in message
    assert "'text/html'" in message
    assert '502 Bad Gateway' in message


def test_json_labelled_as_html_is_refused():
    with HostileMachine('json_as_html') as machine:
        with client_for('1900', machine.url) as coffee:
            with pytest.raises(CoffeeProtocolError) as info:
                coffee.get_machine()
    message = str(info.value)
    assert 'not JSON' in message and "'text/html'" in message
    assert 'HTTP 200' in message


def test_the_2900_password_never_leaves_for_a_redirect():
    with Listener() as listener, \
            HostileMachine('redirect', target=listener.url) as machine:
        with client_for('2900', machine.url) as coffee:
            with pytest.raises(CoffeeProtocolError):
                coffee.list_page('consumers')
        assert machine.seen[0]['path'] == '/api/v2/auth/token'
        assert not any(SECRET_PASSWORD.encode() in seen['body']
                       for seen in listener.seen)
        assert listener.seen == []
