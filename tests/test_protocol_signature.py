# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Webhook signatures: what a receiver accepts and what it must reject."""

import hashlib
import hmac

import pytest

from ..protocol import CoffeeSignatureError, sign, signature_header, verify_signature

SECRET = 'whsec_test_0123456789'
BODY = (b'{"id": "evt_1", "type": "brew.completed", '
        b'"created_at": "2026-11-20T07:31:12.000000Z", '
        b'"data": {"object_id": "brw_01HF3K"}}')
T = 1795000000


def test_sign_is_hmac_sha256_over_t_dot_body():
    # computed independently of the module under test
    expected = hmac.new(SECRET.encode(), b'%d.' % T + BODY,
                        hashlib.sha256).hexdigest()
    assert sign(SECRET, T, BODY) == expected
    assert sign(SECRET.encode(), str(T), BODY.decode()) == expected
    assert signature_header(SECRET, T, BODY) == 't=%d,v1=%s' % (T, expected)


def test_good_signature_returns_its_time():
    header = signature_header(SECRET, T, BODY)
    assert verify_signature(SECRET, header, BODY, now=T + 10) == T


def test_spaces_and_unknown_schemes_in_header_are_tolerated():
    digest = sign(SECRET, T, BODY)
    header = ' t=%d , v0=deadbeef, v1=%s ' % (T, digest)
    assert verify_signature(SECRET, header, BODY, now=T) == T


def test_any_of_several_v1_may_match():
    digest = sign(SECRET, T, BODY)
    header = 't=%d,v1=%s,v1=%s' % (T, '0' * 64, digest)
    assert verify_signature(SECRET, header, BODY, now=T) == T


def _reason(secret, header, body, now=T, tolerance=300):
    with pytest.raises(CoffeeSignatureError) as info:
        verify_signature(secret, header, body, now=now, tolerance=tolerance)
    return info.value


def test_altered_body_is_rejected():
    header = signature_header(SECRET, T, BODY)
    error = _reason(SECRET, header, BODY.replace(b'evt_1', b'evt_2'))
    assert error.code == 'mismatch'
    assert 'does not match' in str(error)
    assert error.retryable is False


def test_other_secret_is_rejected_and_not_shown():
    header = signature_header('someone-elses-secret', T, BODY)
    error = _reason(SECRET, header, BODY)
    assert error.code == 'mismatch'
    assert SECRET not in str(error)
    assert 'someone-elses-secret' not in str(error)


def test_changed_timestamp_breaks_the_signature():
    digest = sign(SECRET, T, BODY)
    error = _reason(SECRET, 't=%d,v1=%s' % (T + 1, digest), BODY, now=T)
    assert error.code == 'mismatch'


@pytest.mark.parametrize('offset', [301, -301, 100000, -100000])
def test_time_too_far_from_now_is_rejected_in_both_directions(offset):
    header = signature_header(SECRET, T, BODY)
    error = _reason(SECRET, header, BODY, now=T + offset)
    assert error.code == 'expired'
    assert ('before' if offset > 0 else 'after') in str(error)


@pytest.mark.parametrize('offset', [300, -300, 0])
def test_time_at_the_tolerance_is_accepted(offset):
    header = signature_header(SECRET, T, BODY)
    assert verify_signature(SECRET, header, BODY, now=T + offset) == T


def test_tolerance_is_a_parameter():
    header = signature_header(SECRET, T, BODY)
    assert _reason(SECRET, header, BODY, now=T + 11,
                   tolerance=10).code == 'expired'


def test_default_now_is_the_clock():
    long_ago = 1000000000  # 2001-09-09
    header = signature_header(SECRET, long_ago, BODY)
    with pytest.raises(CoffeeSignatureError) as info:
        verify_signature(SECRET, header, BODY)
    assert info.value.code == 'expired'


@pytest.mark.parametrize('header', [
    None,
    '',
    'garbage',
    'v1=abcdef',
    't=,v1=abcdef',
    't=12a,v1=abcdef',
    't=-5,v1=abcdef',
    't=1795000000',
    't=1795000000,v1',
])
def test_malformed_header_is_rejected(header):
    error = _reason(SECRET, header, BODY)
    assert error.code == 'malformed'
    assert 'X-Coffee-Signature' in str(error)


def test_non_ascii_digest_is_a_mismatch_not_a_crash():
    error = _reason(SECRET, 't=%d,v1=\u00e9\u00e9' % T, BODY)
    assert error.code == 'mismatch'
