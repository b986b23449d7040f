# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The URL Coffee 2900 machines post their webhook events to."""
import json
import logging
import socket
import threading

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

import odoo
from odoo import api, http
from odoo.http import request

from ..models.coffee_backend.webhook import WEBHOOK_PREFIX, WEBHOOK_REFUSALS

_logger = logging.getLogger(__name__)

#: the largest delivery read: a machine's event is about 1 KiB
WEBHOOK_MAX_BYTES = 64 * 1024
#: seconds a delivery's body may take to arrive, however it trickles
WEBHOOK_BODY_SECONDS = 5
#: bytes read from the connection at a time
WEBHOOK_READ_CHUNK = 8 * 1024


def _get_request(self, httprequest):
    """An Odoo 11 ``http`` request for a webhook delivery, body read.

    Odoo 11 makes every ``application/json`` request a JSON-RPC one, which
    an ``http`` route refuses with a JSON-RPC error answered as ``200``: the
    machine would take it for a success and never deliver the event again.
    Deliveries are plain HTTP, whatever their content type.

    This is also the first place a delivery's body can be refused, before
    any backend is looked up or any body parsed (Odoo 11 sets no size
    limit): a delivery too large or too slow is answered here.
    """
    if httprequest.path.startswith(WEBHOOK_PREFIX):
        _read_delivery(httprequest)
        return http.HttpRequest(httprequest)
    return _get_request.origin(self, httprequest)


class _Refused(HTTPException):
    """A delivery answered before it reaches the route."""

    def __init__(self, status, code, message):
        super(_Refused, self).__init__(description=message)
        self.code = status
        # Odoo's own Response needs a request, which does not exist yet;
        # the rest of the body is never read: the connection ends
        self.response = Response(
            json.dumps({'error': {'code': code, 'message': message}}),
            status=status, headers=[('Content-Type', 'application/json'),
                                    ('Cache-Control', 'no-store'),
                                    ('Connection', 'close')])


def _read_delivery(httprequest):
    """Read a delivery's body (at most WEBHOOK_MAX_BYTES + 1 bytes, within
    WEBHOOK_BODY_SECONDS) for the route, or refuse it."""
    length = httprequest.content_length
    if length is not None and length > WEBHOOK_MAX_BYTES:
        raise _too_large(httprequest)
    environ = httprequest.environ
    chunked = environ.get('wsgi.input_terminated')
    if length is None and not chunked:
        httprequest._cached_data = b''
        return
    wanted = WEBHOOK_MAX_BYTES + 1 if length is None else length
    stream = environ['wsgi.input']
    chunks = []
    size = 0
    broken = False
    with _BodyDeadline(stream) as deadline:
        try:
            while size < wanted:
                chunk = stream.read(min(WEBHOOK_READ_CHUNK, wanted - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except (OSError, ValueError):
            # a malformed chunked body, or the connection ended mid-way
            broken = True
    if deadline.expired:
        WEBHOOK_REFUSALS.refused('too slow')
        raise _Refused(408, 'too_slow', 'the delivery did not arrive '
                       'within %d s' % WEBHOOK_BODY_SECONDS)
    if size > WEBHOOK_MAX_BYTES:
        raise _too_large(httprequest)
    if broken or (size < wanted and length is not None):
        WEBHOOK_REFUSALS.refused('cut short')
        raise _Refused(400, 'incomplete', 'the delivery ended before its '
                       'end, or its chunks are malformed')
    # werkzeug reads the body (get_data, form) from here on
    httprequest._cached_data = b''.join(chunks)


def _too_large(httprequest):
    WEBHOOK_REFUSALS.refused('too large')
    return _Refused(413, 'too_large', 'a delivery is at most %d bytes'
                    % WEBHOOK_MAX_BYTES)


class _BodyDeadline(object):
    """Ends the reading of a body at its deadline.

    The server's socket timeout counts per read: a client sending a byte
    a second never reaches it. At the deadline the connection is shut for
    reading, which ends the read in progress.
    """

    def __init__(self, stream):
        self.sock = _socket_of(stream)
        self.expired = False
        self._timer = threading.Timer(WEBHOOK_BODY_SECONDS, self._expire)
        self._timer.daemon = True

    def _expire(self):
        self.expired = True
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RD)
            except OSError as err:  # the client left meanwhile
                _logger.debug('webhook delivery: %s', err)

    def __enter__(self):
        self._timer.start()
        return self

    def __exit__(self, *exc_info):
        self._timer.cancel()
        return False


def _socket_of(stream):
    """The socket under a WSGI input stream (werkzeug's server), or None
    (a test client's in-memory body)."""
    for __ in range(4):
        if isinstance(stream, socket.socket):
            return stream
        stream = getattr(stream, '_rfile', None) or getattr(
            stream, 'raw', None) or getattr(stream, '_sock', None)
        if stream is None:
            return None
    return None


if not hasattr(http.Root.get_request, 'origin'):
    _get_request.origin = http.Root.get_request
    http.Root.get_request = _get_request


def _json_response(status, body):
    return http.Response(
        json.dumps(body), status=status,
        headers=[('Content-Type', 'application/json'),
                 ('Cache-Control', 'no-store')])


class CoffeeWebhookController(http.Controller):

    @http.route(WEBHOOK_PREFIX + '<int:backend_id>', type='http',
                auth='none', methods=['POST'], csrf=False)
    def webhook(self, backend_id, **kwargs):
        """Check and acknowledge one delivery; the work goes to jobs.

        The machine is no Odoo user: the delivery is proven by its
        signature alone, then handled as superuser in a transaction of its
        own, committed only when the answer is a success.
        """
        httprequest = request.httprequest
        db = request.db or http.db_monodb(httprequest)
        if not db:
            WEBHOOK_REFUSALS.refused('no database')
            return _json_response(404, {'error': {
                'code': 'not_found', 'message': 'no database'}})
        # read (and size-checked) by _get_request
        raw_body = httprequest.get_data()
        with api.Environment.manage(), \
                odoo.registry(db).cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            if 'coffee.backend' not in env:
                return _json_response(404, {'error': {
                    'code': 'not_found', 'message': 'no such webhook'}})
            status, body = env['coffee.backend']._webhook_receive(
                backend_id, httprequest.headers, raw_body)
            if not 200 <= status < 300:
                cr.rollback()
        return _json_response(status, body)
