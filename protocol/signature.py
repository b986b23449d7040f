# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Signatures of Coffee 2900 webhook deliveries.

Header ``X-Coffee-Signature: t=<unix seconds>,v1=<hex>``, where ``<hex>`` is
HMAC-SHA256 with the webhook secret over ``<t>.<raw request body>``. A
receiver must check it on the raw bytes (before any JSON decoding) and reject
a ``t`` too far from its clock, so a captured delivery cannot be replayed.
"""

import hashlib
import hmac
import time

from .errors import CoffeeSignatureError

SIGNATURE_HEADER = 'X-Coffee-Signature'
DEFAULT_TOLERANCE = 300


def _to_bytes(value):
    return value.encode('utf-8') if isinstance(value, str) else bytes(value)


def sign(secret, timestamp, body):
    """The ``v1`` hex digest of ``body`` sent at ``timestamp``."""
    message = _to_bytes(str(timestamp)) + b'.' + _to_bytes(body)
    return hmac.new(_to_bytes(secret), message, hashlib.sha256).hexdigest()


def signature_header(secret, timestamp, body):
    """The whole header value, as the machine sends it."""
    timestamp = int(timestamp)
    return 't=%d,v1=%s' % (timestamp, sign(secret, timestamp, body))


def _parse_header(header):
    """``(t text, [v1 hex, ...])`` or CoffeeSignatureError('malformed')."""
    if not header or not isinstance(header, str):
        raise CoffeeSignatureError(
            'the webhook has no %s header' % SIGNATURE_HEADER,
            code='malformed')
    timestamp, digests = None, []
    for item in header.split(','):
        key, sep, value = item.strip().partition('=')
        if not sep:
            raise CoffeeSignatureError(
                'the %s header is not of the form t=<seconds>,v1=<hex>'
                % SIGNATURE_HEADER, code='malformed')
        key, value = key.strip(), value.strip()
        if key == 't':
            timestamp = value
        elif key == 'v1':
            digests.append(value)
        # other schemes (v0, v2...) are not ours to check
    if timestamp is None or not _is_ascii_digits(timestamp):
        raise CoffeeSignatureError(
            'the %s header has no valid t=<unix seconds>' % SIGNATURE_HEADER,
            code='malformed')
    if not digests:
        raise CoffeeSignatureError(
            'the %s header has no v1 signature' % SIGNATURE_HEADER,
            code='malformed')
    return timestamp, digests


def verify_signature(secret, header, body, now=None,
                     tolerance=DEFAULT_TOLERANCE):
    """Check a delivery; return its ``t`` (int) or raise CoffeeSignatureError.

    ``body`` is the raw request body (bytes, or str taken as UTF-8). The
    comparison is constant-time. ``now`` defaults to the current time.
    """
    timestamp, digests = _parse_header(header)
    expected = sign(secret, timestamp, body)
    # compare with every v1 given, without stopping at the first match
    matches = [hmac.compare_digest(expected, _ascii_or_empty(digest))
               for digest in digests]
    if not any(matches):
        raise CoffeeSignatureError(
            'the webhook signature does not match: not signed with this '
            'webhook\'s secret, or the body was altered', code='mismatch')
    seconds = int(timestamp)
    if now is None:
        now = time.time()
    if abs(now - seconds) > tolerance:
        raise CoffeeSignatureError(
            'the webhook was signed %d s %s our clock (at most %d s allowed);'
            ' a replay, or a clock to set right' % (
                abs(now - seconds),
                'before' if seconds < now else 'after', tolerance),
            code='expired')
    return seconds


def _is_ascii_digits(text):
    return bool(text) and all('0' <= char <= '9' for char in text)


def _ascii_or_empty(text):
    """compare_digest refuses non-ASCII str; such a digest just mismatches."""
    try:
        text.encode('ascii')
    except UnicodeEncodeError:
        return ''
    return text
