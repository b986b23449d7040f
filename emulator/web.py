"""Small request/response helpers shared by the protocol modules."""
import json
import re
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


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


CARD_RE = re.compile(r'^[0-9]{1,10}$')
