# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Coffee 2900 webhooks: registration on the machine, signed deliveries.

The test process serves no HTTP, so the deliveries are handed to the
receiver's handling method (what the controller calls) with the headers and
the raw body; in the end-to-end test they are the real deliveries of the
emulator, captured by a small HTTP server of the test.
"""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from unittest import mock

from werkzeug.test import Client, EnvironBuilder
from werkzeug.wrappers import BaseResponse, Request

from odoo import http
from odoo.exceptions import AccessError, UserError
from odoo.tests.common import BaseCase

from odoo.addons.component.core import ComponentRegistry
from odoo.addons.component.tests.common import ComponentMixin
from odoo.addons.queue_job.job import Job

from ..protocol import CoffeeConnectionError, signature_header
from .common import CoffeeEmulatorCase, WebhookURLMixin

SECRET = 'whsec_test_0123456789'


class DeliveryCatcher(object):
    """An HTTP server on 127.0.0.1 that keeps what is posted to it."""

    def __init__(self, status=200):
        self.deliveries = []
        self.status = status
        self.lock = threading.Lock()
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length)
                with catcher.lock:
                    catcher.deliveries.append({
                        'path': self.path,
                        'headers': dict(self.headers.items()),
                        'body': body,
                    })
                self.send_response(catcher.status)
                self.send_header('Content-Length', '2')
                self.end_headers()
                self.wfile.write(b'{}')

            def log_message(self, *args):
                pass

        self.server = HTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def wait_for(self, predicate, timeout=15):
        """The first delivery whose decoded event satisfies predicate."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                for delivery in self.deliveries:
                    if predicate(json.loads(delivery['body'].decode())):
                        return delivery
            time.sleep(0.05)
        raise AssertionError('no such delivery within %s s; got %r' % (
            timeout, self.deliveries))


class TestWebhookDeliveries(CoffeeEmulatorCase):
    """The receiver's checks and what it queues."""

    coffee_version = '2900'

    @classmethod
    def setUpClass(cls):
        super(TestWebhookDeliveries, cls).setUpClass()
        cls.backend.write({'webhook_id': 'whk_test',
                           'webhook_secret': SECRET})

    # -- helpers -------------------------------------------------------------

    def event(self, event_type, object_id, event_id='evt_0001', **data):
        data['object_id'] = object_id
        return {'id': event_id, 'type': event_type,
                'created_at': '2026-11-20T07:31:12.000000Z', 'data': data}

    def deliver(self, event, secret=SECRET, t=None, backend_id=None,
                header=None, raw=None):
        """Post ``event`` as the machine would; ``(status, body)``."""
        if raw is None:
            raw = json.dumps(event).encode('utf-8')
        if t is None:
            t = int(time.time())
        headers = {'Content-Type': 'application/json',
                   'X-Coffee-Event': event.get('type', '') if event else ''}
        if header is not False:
            headers['X-Coffee-Signature'] = header or signature_header(
                secret, t, raw)
        return self.env['coffee.backend']._webhook_receive(
            backend_id or self.backend.id, headers, raw)

    def jobs(self):
        return [Job.load(self.env, job.uuid) for job in self.queued_jobs()]

    def events(self):
        return self.env['coffee.webhook.event'].search(
            [('backend_id', '=', self.backend.id)])

    def checkpoints(self):
        return self.env['connector.checkpoint'].search([
            ('backend_id', '=', 'coffee.backend,%d' % self.backend.id),
            ('state', '=', 'need_review')])

    def completed_brew_id(self):
        for brew in self.machine_records('brews'):
            if brew['status'] == 'completed':
                return brew['id']
        raise AssertionError('the demo machine has no completed brew')

    def assert_refused(self, result, status, code=None):
        self.assertEqual(result[0], status, result)
        if code:
            self.assertEqual(result[1]['error']['code'], code)
        self.assertFalse(self.queued_jobs())
        self.assertFalse(self.events())

    # -- good events ---------------------------------------------------------

    def test_brew_completed_queues_its_import(self):
        brew_id = self.completed_brew_id()
        result = self.deliver(self.event('brew.completed', brew_id))
        self.assertEqual(result, (200, {'status': 'queued'}))
        jobs = self.jobs()
        self.assertEqual(len(jobs), 1)
        self.assertEqual(jobs[0].model_name, 'coffee.brew')
        self.assertEqual(jobs[0].method_name, 'import_record')
        self.assertEqual(jobs[0].args, (self.backend, brew_id))
        self.assertEqual(self.events().mapped('event_id'), ['evt_0001'])
        self.assertFalse(self.env['coffee.brew'].search(
            [('backend_id', '=', self.backend.id),
             ('coffee_id', '=', brew_id)]), 'imported during the request')
        self.perform_jobs()
        brew = self.env['coffee.brew'].search(
            [('backend_id', '=', self.backend.id),
             ('coffee_id', '=', brew_id)])
        self.assertEqual(len(brew), 1)

    def test_consumer_and_beverage_events(self):
        consumer = self.machine_records('consumers')[0]['id']
        beverage = self.machine_records('beverages')[0]['id']
        self.deliver(self.event('consumer.updated', consumer, 'evt_c'))
        self.deliver(self.event('beverage.updated', beverage, 'evt_b'))
        queued = sorted((job.model_name, job.method_name, job.args[1])
                        for job in self.jobs())
        self.assertEqual(queued, [
            ('coffee.product.product', 'import_record', beverage),
            ('coffee.res.partner', 'import_record', consumer)])
        for job in self.jobs():
            self.assertEqual(job.args[0], self.backend)

    def test_beverage_event_imports_the_beverage(self):
        beverage = self.machine_records('beverages')[0]['id']
        self.deliver(self.event('beverage.updated', beverage))
        self.perform_jobs()
        self.assertTrue(self.env['coffee.product.product'].search(
            [('backend_id', '=', self.backend.id),
             ('coffee_id', '=', beverage)]))

    def test_redelivery_is_acknowledged_not_queued(self):
        event = self.event('brew.completed', self.completed_brew_id())
        self.assertEqual(self.deliver(event)[0], 200)
        # the machine signs every attempt afresh
        result = self.deliver(event, t=int(time.time()) + 1)
        self.assertEqual(result, (200, {'status': 'duplicate'}))
        self.assertEqual(len(self.queued_jobs()), 1)
        self.perform_jobs()
        # still a duplicate once the import is done
        self.assertEqual(self.deliver(event), (200, {'status': 'duplicate'}))
        self.assertFalse(self.queued_jobs())
        self.assertEqual(len(self.events()), 1)

    def test_same_event_id_on_another_machine_is_new(self):
        other = self.create_backend('2900', self.emulator.url,
                                    name='Other 2900')
        other.write({'webhook_secret': 'another secret'})
        event = self.event('brew.completed', self.completed_brew_id())
        self.assertEqual(self.deliver(event)[1], {'status': 'queued'})
        self.assertEqual(self.deliver(event, secret='another secret',
                                      backend_id=other.id)[1],
                         {'status': 'queued'})
        self.assertEqual(len(self.queued_jobs()), 2)

    def test_unknown_event_type_is_acknowledged(self):
        result = self.deliver(self.event('descaling.started', 'C29-1'))
        self.assertEqual(result, (200, {'status': 'ignored'}))
        self.assertFalse(self.queued_jobs())

    # -- refused deliveries --------------------------------------------------

    def test_forged_signature(self):
        event = self.event('brew.completed', self.completed_brew_id())
        self.assert_refused(self.deliver(event, secret='not the secret'),
                            401, 'signature_mismatch')

    def test_altered_body(self):
        event = self.event('brew.completed', self.completed_brew_id())
        raw = json.dumps(event).encode()
        t = int(time.time())
        header = signature_header(SECRET, t, raw)
        altered = raw.replace(b'evt_0001', b'evt_0002')
        self.assert_refused(self.deliver(event, header=header, raw=altered),
                            401, 'signature_mismatch')

    def test_missing_or_malformed_signature(self):
        event = self.event('brew.completed', self.completed_brew_id())
        self.assert_refused(self.deliver(event, header=False),
                            401, 'signature_malformed')
        self.assert_refused(self.deliver(event, header='v1=abc'),
                            401, 'signature_malformed')

    def test_stale_or_future_signature(self):
        event = self.event('brew.completed', self.completed_brew_id())
        now = int(time.time())
        self.assert_refused(self.deliver(event, t=now - 301),
                            401, 'signature_expired')
        self.assert_refused(self.deliver(event, t=now + 301),
                            401, 'signature_expired')
        # inside the window: accepted
        self.assertEqual(self.deliver(event, t=now - 290)[0], 200)
        self.assertEqual(len(self.queued_jobs()), 1)

    def test_unknown_backend(self):
        event = self.event('brew.completed', self.completed_brew_id())
        missing = self.env['coffee.backend'].search(
            [], order='id desc', limit=1).id + 1000
        self.assert_refused(self.deliver(event, backend_id=missing), 404)

    def test_backend_without_webhook(self):
        other = self.create_backend('2900', self.emulator.url,
                                    name='No webhook')
        event = self.event('brew.completed', self.completed_brew_id())
        self.assert_refused(self.deliver(event, backend_id=other.id), 404)

    def test_signed_body_that_is_no_event(self):
        self.assert_refused(self.deliver({}, raw=b'not json'), 400)
        self.assert_refused(self.deliver({}, raw=b'{"type": "x"}'), 400)

    # -- machine alerts ------------------------------------------------------

    def alert(self, event_id, code='E02', message='No beans'):
        return self.event('machine.alert', 'C29-004211', event_id,
                          state='error', code=code, message=message)

    def test_machine_alert_updates_status_once(self):
        self.sim('POST', 'state', {'state': 'error', 'error_code': 'E02'})
        self.backend.write({'machine_state': 'ready',
                            'machine_errors': False})
        event = self.alert('evt_alert_1')
        self.assertEqual(self.deliver(event)[0], 200)
        self.assertEqual(self.deliver(event, t=int(time.time()) + 5),
                         (200, {'status': 'duplicate'}))
        self.assertEqual(len(self.queued_jobs()), 1)
        self.assertEqual(self.backend.machine_state, 'ready',
                         'the status is updated by the job, not the request')
        action = self.queued_jobs().open_related_action()
        self.assertEqual((action['res_model'], action['res_id']),
                         ('coffee.backend', self.backend.id))
        self.perform_jobs()
        self.assertEqual(self.backend.machine_state, 'error')
        self.assertEqual(self.backend.machine_errors, 'E02')
        checkpoints = self.checkpoints()
        self.assertEqual(len(checkpoints), 1)
        self.assertIn('E02', checkpoints.message)
        self.assertIn('No beans', checkpoints.message)
        # the same alert again while its checkpoint waits: not posted again
        self.deliver(self.alert('evt_alert_2'))
        self.perform_jobs()
        self.assertEqual(len(self.checkpoints()), 1)
        # another alert is another checkpoint
        self.sim('POST', 'state', {'state': 'error', 'error_code': 'E03'})
        self.deliver(self.alert('evt_alert_3', 'E03', 'Brewing unit jammed'))
        self.perform_jobs()
        self.assertEqual(len(self.checkpoints()), 2)
        self.assertEqual(self.backend.machine_errors, 'E03')

    def test_machine_alert_when_machine_unreachable(self):
        self.backend.write({'machine_state': 'ready',
                            'machine_errors': False})
        self.deliver(self.alert('evt_alert_9', 'E05', 'Heater failure'))
        with mock.patch.object(
                type(self.backend), '_read_machine',
                side_effect=CoffeeConnectionError('machine unreachable')):
            self.perform_jobs()
        self.assertEqual(self.backend.machine_state, 'error')
        self.assertEqual(self.backend.machine_errors, 'E05')
        self.assertEqual(len(self.checkpoints()), 1)


class FakeSession(object):
    db = None
    uid = None
    context = {}


class TestWebhookRequestType(BaseCase):
    """Odoo 11 takes every JSON body for JSON-RPC; not the deliveries."""

    def request_for(self, path):
        httprequest = EnvironBuilder(
            path=path, method='POST', data=b'{"id": "evt_1"}',
            content_type='application/json').get_request(Request)
        httprequest.session = FakeSession()
        return http.root.get_request(httprequest)

    def test_delivery_is_an_http_request(self):
        self.assertEqual(
            type(self.request_for('/connector_coffee/webhook/7')),
            http.HttpRequest)

    def test_other_json_requests_unchanged(self):
        self.assertEqual(type(self.request_for('/web/dataset/call_kw')),
                         http.JsonRequest)


class TestWebhookURL(WebhookURLMixin, ComponentMixin, BaseCase):
    """The URL itself, through Odoo's WSGI application."""

    @classmethod
    def setUpClass(cls):
        super(TestWebhookURL, cls).setUpClass()
        cls.setUpComponent()

    def setUp(self):
        super(TestWebhookURL, self).setUp()
        self.set_up_webhook('URL test', SECRET)
        self.client = Client(http.root, BaseResponse)

    def post(self, event, secret=SECRET, path=None):
        raw = json.dumps(event).encode()
        response = self.client.post(
            path or self.path, data=raw, content_type='application/json',
            headers={'X-Coffee-Signature': signature_header(
                secret, int(time.time()), raw)})
        self.env['coffee.backend'].invalidate_cache()
        return response.status_code, json.loads(response.data.decode())

    def jobs(self):
        return self.env['queue.job'].search(
            [('model_name', '=', 'coffee.brew'),
             ('state', '=', 'pending')]).filtered(
                 lambda j: j.args[0] == self.backend)

    def events(self, event_id):
        return self.env['coffee.webhook.event'].search(
            [('backend_id', '=', self.backend.id),
             ('event_id', '=', event_id)])

    def test_delivery_over_the_url(self):
        event = {'id': 'evt_url_1', 'type': 'brew.completed',
                 'created_at': '2026-11-20T07:31:12.000000Z',
                 'data': {'object_id': 'brw_url_1'}}
        self.assertEqual(self.post(event), (200, {'status': 'queued'}))
        self.assertEqual(len(self.jobs()), 1)
        self.assertEqual(self.jobs().args[1], 'brw_url_1')
        self.assertEqual(len(self.events('evt_url_1')), 1)
        self.assertEqual(self.post(event), (200, {'status': 'duplicate'}))
        self.assertEqual(len(self.jobs()), 1)

    def test_refusals_over_the_url(self):
        event = {'id': 'evt_url_2', 'type': 'brew.completed',
                 'data': {'object_id': 'brw_url_2'}}
        status, body = self.post(event, secret='forged')
        self.assertEqual((status, body['error']['code']),
                         (401, 'signature_mismatch'))
        status, body = self.post(
            event, path='/connector_coffee/webhook/%d' % (
                self.backend.id + 1000))
        self.assertEqual((status, body['error']['code']), (404, 'not_found'))
        self.assertFalse(self.jobs())
        self.assertFalse(self.events('evt_url_2'))
        # the backend created before the requests is still there
        self.assertTrue(self.backend.exists())


class TestWebhookRegistration(CoffeeEmulatorCase):
    """register_webhook() on the emulator, and its real deliveries."""

    coffee_version = '2900'

    def machine_webhooks(self):
        return self.machine_records('webhooks')

    def delivery_states(self, delivery, timeout=5):
        """How the machine sees the attempts of a delivery, once settled."""
        event_id = json.loads(delivery['body'].decode())['id']
        deadline = time.time() + timeout
        while True:
            states = [d['state'] for d in self.sim('GET', 'deliveries')['items']
                      if d['event_id'] == event_id]
            if time.time() > deadline or not set(states) & {'pending',
                                                            'sending'}:
                return states
            time.sleep(0.05)

    def set_base_url(self, url):
        self.env['ir.config_parameter'].set_param('web.base.url', url)

    def test_only_for_2900(self):
        old = self.create_backend('1900', 'http://127.0.0.1:9', name='Old')
        with self.assertRaisesRegex(UserError, 'only the Coffee 2900'):
            old.register_webhook()
        with self.assertRaisesRegex(UserError, 'only the Coffee 2900'):
            old.unregister_webhook()

    def test_without_components_the_registry_is_named(self):
        """An empty component registry is not the 2900's fault."""
        empty = ComponentRegistry()
        empty.ready = True
        backend = self.backend.with_context(components_registry=empty)
        with self.assertRaisesRegex(UserError, 'components are not loaded') \
                as raised:
            backend.register_webhook()
        self.assertNotIn('only the Coffee 2900', str(raised.exception))

    def test_secret_only_for_managers(self):
        field = self.env['coffee.backend']._fields['webhook_secret']
        self.assertEqual(field.groups, 'connector.group_connector_manager')
        user = self.env['res.users'].create({
            'name': 'Coffee reader', 'login': 'coffee_reader',
            'groups_id': [(6, 0, [self.env.ref('base.group_user').id])]})
        backend = self.backend.sudo(user)
        self.assertNotIn('webhook_secret', backend.fields_get())
        self.assertTrue(backend.read(['webhook_id']))
        with self.assertRaises(AccessError):
            backend.read(['webhook_secret'])
        with self.assertRaises(AccessError):
            backend.register_webhook()

    def test_register_deliver_unregister(self):
        with DeliveryCatcher() as catcher:
            self.set_base_url(catcher.url + '/')
            self.assertTrue(self.backend.register_webhook())
            url = '%s/connector_coffee/webhook/%d' % (
                catcher.url, self.backend.id)
            first_id = self.backend.webhook_id
            first_secret = self.backend._coffee_secret('webhook_secret')
            self.assertTrue(first_id and first_secret)
            self.assertEqual(self.backend.webhook_url, url)
            hooks = self.machine_webhooks()
            self.assertEqual([(h['id'], h['url']) for h in hooks],
                             [(first_id, url)])
            self.assertEqual(sorted(hooks[0]['events']), [
                'beverage.updated', 'brew.completed', 'consumer.updated',
                'machine.alert'])

            # again: replaces the registration, with a new secret
            self.backend.register_webhook()
            self.assertNotEqual(self.backend.webhook_id, first_id)
            self.assertNotEqual(
                self.backend._coffee_secret('webhook_secret'), first_secret)
            self.assertEqual([h['id'] for h in self.machine_webhooks()],
                             [self.backend.webhook_id])

            # a cup on the machine, delivered for real
            with self.backend._client() as client:
                beverage = [b['id'] for b in self.machine_records('beverages')
                            if b.get('active', True)][0]
                __, brew = client.brew(beverage, idempotency_key='webhook-1')
            self.sim('POST', 'clock', {'advance': 60})
            delivery = catcher.wait_for(
                lambda e: e['type'] == 'brew.completed'
                and e['data']['object_id'] == brew['id'])
            self.assertEqual(delivery['headers'].get('Content-Type'),
                             'application/json')
            self.assertEqual(self.delivery_states(delivery), ['delivered'])
            self.assertEqual(delivery['path'],
                             '/connector_coffee/webhook/%d' % self.backend.id)
            status, body = self.env['coffee.backend']._webhook_receive(
                self.backend.id, delivery['headers'], delivery['body'])
            self.assertEqual((status, body), (200, {'status': 'queued'}))
            jobs = [Job.load(self.env, j.uuid) for j in self.queued_jobs()]
            self.assertEqual([(j.model_name, j.args[1]) for j in jobs],
                             [('coffee.brew', brew['id'])])
            self.perform_jobs()
            imported = self.env['coffee.brew'].search(
                [('backend_id', '=', self.backend.id),
                 ('coffee_id', '=', brew['id'])])
            self.assertEqual(len(imported), 1)

            # the secret of the replaced webhook no longer opens the door
            self.backend.sudo().webhook_secret = first_secret
            status, __ = self.env['coffee.backend']._webhook_receive(
                self.backend.id, delivery['headers'], delivery['body'])
            self.assertEqual(status, 401)

            self.assertTrue(self.backend.unregister_webhook())
            self.assertFalse(self.machine_webhooks())
            self.assertFalse(self.backend.webhook_id)
            self.assertFalse(self.backend.webhook_secret)
            self.assertFalse(self.backend._coffee_secret('webhook_secret'))

    def test_register_removes_a_lost_registration(self):
        """A webhook to our URL whose secret Odoo lost is replaced."""
        with DeliveryCatcher() as catcher:
            self.set_base_url(catcher.url)
            url = '%s/connector_coffee/webhook/%d' % (
                catcher.url, self.backend.id)
            with self.backend._client() as client:
                lost = client.create_webhook(url, ['brew.completed'])
                other = client.create_webhook(catcher.url + '/elsewhere',
                                              ['brew.completed'])
            self.backend.register_webhook()
            ids = sorted(h['id'] for h in self.machine_webhooks())
            self.assertEqual(ids, sorted([other['id'],
                                          self.backend.webhook_id]))
            self.assertNotIn(lost['id'], ids)

    def test_register_unreachable_machine(self):
        self.backend.location = 'http://127.0.0.1:9'
        self.set_base_url('http://odoo.example.com')
        with self.assertRaisesRegex(UserError, 'could not be registered'):
            self.backend.register_webhook()
        self.assertFalse(self.backend.webhook_id)
