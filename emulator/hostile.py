"""A hostile "machine": whatever answers at a machine's address on an
office network (a replaced device, a firmware bug, a proxy, an attacker).

Standard library only; each server runs in a thread of the process that
starts it, on 127.0.0.1 and a free port. Every request, whatever its path,
gets the answer of the server's ``mode``:

``redirect``       307 to the same path on ``target`` (a ``Listener``)
``huge``           200 JSON, 50 MiB, with its Content-Length
``huge_chunked``   200 JSON, 50 MiB, chunked (no Content-Length)
``trickle``        the status line and headers, one byte a second
``trickle_body``   headers at once, then the body one byte a second
``retry_after:V``  429 with ``Retry-After: V`` (``inf``, ``1e12``, ...)
``html_502``       502 with a proxy's HTML page
``json_as_html``   200 with a JSON body labelled ``text/html``

``Listener`` answers 200 and keeps every request it gets (method, path,
headers, body): what a redirect would have delivered to another host.
"""
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ('redirect', 'huge', 'huge_chunked', 'trickle', 'trickle_body',
         'retry_after:inf', 'retry_after:1e12', 'retry_after:-5',
         'retry_after:soon', 'html_502', 'json_as_html')
HUGE_BYTES = 50 * 1024 * 1024
#: a trickle ends after this many seconds (a test never waits longer)
TRICKLE_SECONDS = 120
HTML_502 = (b'<html><head><title>502 Bad Gateway</title></head><body>'
            b'<center><h1>502 Bad Gateway</h1></center><hr><center>nginx'
            b'</center></body></html>')
MACHINE_JSON = (b'{"model": "1900", "serial": "HOSTILE", "timezone": "UTC", '
                b'"status": {"state": "ready"}}')


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler):
        super().__init__(('127.0.0.1', 0), handler)
        self.seen = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()


class _Base(object):
    """Start/stop of a server in a thread."""

    handler = None

    def __init__(self):
        self.server = _Server(self.handler)
        self.server.owner = self
        self.port = self.server.server_address[1]
        self.url = 'http://127.0.0.1:%d' % self.port
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        daemon=True)

    @property
    def seen(self):
        with self.server.lock:
            return list(self.server.seen)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self.server.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, format, *args):
        pass

    def _record(self):
        length = self.headers.get('Content-Length')
        body = self.rfile.read(int(length)) if length and \
            length.isdigit() and int(length) < 1024 * 1024 else b''
        with self.server.lock:
            self.server.seen.append({
                'method': self.command, 'path': self.path,
                'headers': dict(self.headers.items()), 'body': body})

    def _handle(self):
        self._record()
        self.answer()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def answer(self):
        raise NotImplementedError

    def simple(self, status, body, content_type='application/json',
               headers=()):
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class _ListenerHandler(_Handler):
    def answer(self):
        self.simple(200, b'{"access_token": "stolen", "expires_in": 60}')


class Listener(_Base):
    """Keeps what reaches it (``seen``)."""

    handler = _ListenerHandler


class _HostileHandler(_Handler):

    def answer(self):
        mode = self.server.owner.mode
        if mode.startswith('retry_after:'):
            # an error body of the version asked (/api/v1 is the 1900's)
            body = b'{"error": "rate_limited"}' if \
                self.path.startswith('/api/v1') else \
                b'{"error": {"code": "rate_limited", "message": "slow down"}}'
            self.simple(429, body,
                        headers=[('Retry-After', mode.split(':', 1)[1])])
        else:
            getattr(self, 'answer_' + mode)()

    def answer_redirect(self):
        self.send_response(307)
        self.send_header('Location', self.server.owner.target + self.path)
        self.send_header('Content-Length', '0')
        self.end_headers()

    def _huge(self, chunked):
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        if chunked:
            self.send_header('Transfer-Encoding', 'chunked')
        else:
            self.send_header('Content-Length', str(HUGE_BYTES))
        self.end_headers()
        piece = b'{"items": [' + b'0,' * 32768
        sent = 0
        try:
            while sent < HUGE_BYTES and not self.server.stopping.is_set():
                part = piece[:HUGE_BYTES - sent]
                if chunked:
                    self.wfile.write(b'%x\r\n%s\r\n' % (len(part), part))
                else:
                    self.wfile.write(part)
                sent += len(part)
            if chunked:
                self.wfile.write(b'0\r\n\r\n')
        except OSError:
            pass  # the client gave up: what it should do
        self.close_connection = True

    def answer_huge(self):
        self._huge(chunked=False)

    def answer_huge_chunked(self):
        self._huge(chunked=True)

    def _trickle(self, data):
        ends = time.monotonic() + TRICKLE_SECONDS
        try:
            for byte in data:
                if self.server.stopping.is_set() or time.monotonic() > ends:
                    break
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(1)
        except OSError:
            pass
        self.close_connection = True

    def answer_trickle(self):
        head = (b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n'
                b'X-Padding: ' + b'.' * 200 + b'\r\nContent-Length: %d\r\n'
                b'\r\n' % len(MACHINE_JSON))
        self._trickle(head + MACHINE_JSON)

    def answer_trickle_body(self):
        body = MACHINE_JSON + b' ' * 400
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.flush()
        self._trickle(body)

    def answer_html_502(self):
        self.simple(502, HTML_502, content_type='text/html')

    def answer_json_as_html(self):
        self.simple(200, MACHINE_JSON, content_type='text/html')


class HostileMachine(_Base):
    """Answers every request as its ``mode`` says (see the module)."""

    handler = _HostileHandler

    def __init__(self, mode, target=None):
        if mode not in MODES and not mode.startswith('retry_after:'):
            raise ValueError('unknown hostile mode %r' % mode)
        if mode == 'redirect' and not target:
            raise ValueError('a redirect needs a target URL')
        self.mode = mode
        self.target = (target or '').rstrip('/')
        super().__init__()
