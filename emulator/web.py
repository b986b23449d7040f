"""Small request/response helpers shared by the protocol modules, the
loopback JSON controls (/_sim, /_fleet) and the log of a process."""
import ipaddress
import json
import re
import threading
import time
from urllib.parse import parse_qsl, urlsplit


class Request(object):

    def __init__(self, method, target, headers, body, client):
        parts = urlsplit(target)
        self.method = method
        self.target = target
        self.path = parts.path
        self.query = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.headers = headers
        self.body = body
        self.client = client

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def json(self):
        """The body parsed as JSON; raises ValueError if it is not JSON."""
        if not self.body:
            raise ValueError('empty body')
        text = self.body.decode('utf-8')
        return json.loads(text)


class Response(object):

    def __init__(self, status, body=b'', content_type=None, headers=None):
        self.status = status
        self.body = body
        self.headers = list(headers or [])
        if content_type:
            self.headers.insert(0, ('Content-Type', content_type))
        self.drop = False  # close the connection without answering


def json_response(status, obj, headers=None):
    body = json.dumps(obj, ensure_ascii=False, separators=(', ', ': '))
    return Response(status, body.encode('utf-8'),
                    'application/json; charset=utf-8', headers)


def no_content():
    return Response(204)


class Router(object):
    """Maps (method, path) to handlers; path patterns are regular
    expressions with named groups."""

    def __init__(self):
        self.routes = []

    def add(self, pattern, **methods):
        self.routes.append((re.compile('^' + pattern + '$'), methods))

    def match(self, method, path):
        """(handler, kwargs), (None, 'method') or (None, 'path')."""
        for regex, methods in self.routes:
            m = regex.match(path)
            if m:
                handler = methods.get(method)
                if handler is None:
                    return None, 'method'
                return handler, m.groupdict()
        return None, 'path'


class ControlError(Exception):
    """A control request refused: the message says why, ``status`` is the
    HTTP status of the answer."""

    def __init__(self, message, status=400):
        Exception.__init__(self, message)
        self.status = status


class Controls(object):
    """JSON controls under ``prefix`` for loopback clients only (the
    simulation controls of a machine, those of a fleet): routing, the JSON
    object of a body, and the errors.  A handler takes (req, body, **path
    groups) and returns the object of a 200 answer, or raises
    ControlError."""

    def __init__(self, prefix, what):
        self.prefix = prefix
        self.what = what  # 'simulation': "no such simulation control"
        self.router = Router()

    def add(self, path, **methods):
        self.router.add(self.prefix + path, **methods)

    def handle(self, req):
        try:
            loopback = ipaddress.ip_address(req.client).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            return json_response(403, {'error': '%s answers loopback '
                                                'clients only' % self.prefix})
        handler, kwargs = self.router.match(req.method, req.path)
        if handler is None:
            if kwargs == 'method':
                return json_response(405, {'error': 'method not allowed'})
            return json_response(404, {'error': 'no such %s control'
                                                % self.what})
        body = {}
        if req.method in ('POST', 'PUT', 'PATCH') and req.body:
            try:
                body = req.json()
            except (ValueError, UnicodeDecodeError):
                return json_response(400, {'error': 'body is not JSON'})
            if not isinstance(body, dict):
                return json_response(400, {'error': 'body is not an object'})
        try:
            return json_response(200, handler(req, body, **kwargs))
        except ControlError as exc:
            return json_response(exc.status, {'error': str(exc)})


class Log(object):
    """A process's log: one line per message, stamped in UTC, written
    whole by one thread at a time; a closed stream loses the line."""

    def __init__(self, stream):
        self.stream = stream
        self._lock = threading.Lock()

    def __call__(self, message):
        stamp = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())
        with self._lock:
            try:
                self.stream.write('%s %s\n' % (stamp, message))
                self.stream.flush()
            except (ValueError, OSError):
                pass


def request_line(client, method, target, status, started):
    """A request as the logs show it; started is its time.perf_counter()."""
    return '%s %s %s %s %.1fms' % (client, method, target, status,
                                   (time.perf_counter() - started) * 1000)


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


CARD_RE = re.compile(r'^[0-9]{1,10}$')
