# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The webhook URL reads little: a delivery above 64 KiB is answered 413
before any backend is looked up or any body parsed, at most 64 KiB + 1
bytes of it are read, and refusals are logged as a count."""
import io
import json
import time

from werkzeug.serving import DechunkedInput
from werkzeug.test import Client, EnvironBuilder, run_wsgi_app
from werkzeug.wrappers import BaseResponse

from odoo import http
from odoo.tests.common import BaseCase

from ..controllers.main import WEBHOOK_MAX_BYTES
from ..models.coffee_backend.webhook import WEBHOOK_REFUSALS
from ..protocol import signature_header
from .common import WebhookURLMixin

SECRET = 'whsec_limits_0123456789'
WEBHOOK_LOGGER = 'odoo.addons.connector_coffee.models.coffee_backend.webhook'


class CountingStream(io.RawIOBase):
    """A body of ``size`` bytes that counts what is read of it."""

    def __init__(self, size):
        super(CountingStream, self).__init__()
        self.size = size
        self.read_bytes = 0

    def readable(self):
        return True

    def readinto(self, buf):
        n = min(len(buf), self.size - self.read_bytes)
        buf[:n] = b' ' * n
        self.read_bytes += n
        return n


class TestWebhookLimits(WebhookURLMixin, BaseCase):

    def setUp(self):
        super(TestWebhookLimits, self).setUp()
        self.set_up_webhook('Limits test', SECRET)
        WEBHOOK_REFUSALS.reset()

    def send(self, stream, path=None, length=None, chunked=False):
        environ = EnvironBuilder(path=path or self.path, method='POST',
                                 content_type='application/json',
                                 ).get_environ()
        environ['wsgi.input'] = stream
        environ.pop('CONTENT_LENGTH', None)
        if length is not None:
            environ['CONTENT_LENGTH'] = str(length)
        if chunked:
            environ['wsgi.input_terminated'] = True
            environ['HTTP_TRANSFER_ENCODING'] = 'chunked'
        app_iter, status, __ = run_wsgi_app(http.root, environ)
        body = b''.join(app_iter)
        return int(status.split()[0]), json.loads(body.decode())

    def test_too_large_by_content_length_is_refused_unread(self):
        stream = CountingStream(WEBHOOK_MAX_BYTES + 1)
        # an id no backend has: the size is checked before the lookup
        status, body = self.send(
            stream, path='/connector_coffee/webhook/%d'
            % (self.backend.id + 1000), length=WEBHOOK_MAX_BYTES + 1)
        self.assertEqual((status, body['error']['code']),
                         (413, 'too_large'))
        self.assertEqual(stream.read_bytes, 0)

    def test_too_large_chunked_is_refused_after_limit_plus_one(self):
        stream = CountingStream(10 * WEBHOOK_MAX_BYTES)
        status, body = self.send(stream, chunked=True)
        self.assertEqual((status, body['error']['code']),
                         (413, 'too_large'))
        self.assertEqual(stream.read_bytes, WEBHOOK_MAX_BYTES + 1)

    def test_malformed_chunks_are_refused(self):
        stream = DechunkedInput(io.BufferedReader(io.BytesIO(
            b'zz\r\n{"id": "evt_chunk"}\r\n0\r\n\r\n')))
        status, body = self.send(stream, chunked=True)
        self.assertEqual((status, body['error']['code']),
                         (400, 'incomplete'))

    def test_a_delivery_at_the_limit_is_handled(self):
        event = {'id': 'evt_limit_1', 'type': 'machine.alert',
                 'data': {'object_id': 'x', 'padding': ''}}
        raw = json.dumps(event).encode()
        event['data']['padding'] = 'p' * (WEBHOOK_MAX_BYTES - len(raw))
        raw = json.dumps(event).encode()
        self.assertEqual(len(raw), WEBHOOK_MAX_BYTES)
        client = Client(http.root, BaseResponse)
        response = client.post(
            self.path, data=raw, content_type='application/json',
            headers={'X-Coffee-Signature': signature_header(
                SECRET, int(time.time()), raw)})
        self.assertEqual(response.status_code, 200, response.data)

    def test_refusals_are_logged_as_a_count(self):
        with self.assertLogs(WEBHOOK_LOGGER, 'WARNING') as logs:
            for __ in range(5):
                self.send(CountingStream(10), length=WEBHOOK_MAX_BYTES * 2)
            self.send(io.BytesIO(b'{}'), path='/connector_coffee/webhook/%d'
                      % (self.backend.id + 1000), length=2)
        # the first refusal of the minute is logged, the others counted
        # for the next line, a minute later
        self.assertEqual(len(logs.records), 1, logs.output)
        self.assertIn('1 deliveries refused', logs.output[0])
        WEBHOOK_REFUSALS._logged_at -= 61
        with self.assertLogs(WEBHOOK_LOGGER, 'WARNING') as logs:
            self.send(CountingStream(10), length=WEBHOOK_MAX_BYTES * 2)
        self.assertEqual(len(logs.records), 1, logs.output)
        self.assertIn('6 deliveries refused', logs.output[0])
        self.assertIn('5 too large', logs.output[0])
        self.assertIn('1 unknown webhook', logs.output[0])
