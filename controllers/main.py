# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The URL Coffee 2900 machines post their webhook events to."""
import json
import logging

import odoo
from odoo import api, http
from odoo.http import request

_logger = logging.getLogger(__name__)

WEBHOOK_PREFIX = '/connector_coffee/webhook/'


def _get_request(self, httprequest):
    """An Odoo 11 ``http`` request for a webhook delivery.

    Odoo 11 makes every ``application/json`` request a JSON-RPC one, which
    an ``http`` route refuses with a JSON-RPC error answered as ``200``: the
    machine would take it for a success and never deliver the event again.
    Deliveries are plain HTTP, whatever their content type.
    """
    if httprequest.path.startswith(WEBHOOK_PREFIX):
        return http.HttpRequest(httprequest)
    return _get_request.origin(self, httprequest)


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
            _logger.warning('coffee webhook for backend %s: no database',
                            backend_id)
            return _json_response(404, {'error': {
                'code': 'not_found', 'message': 'no database'}})
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
