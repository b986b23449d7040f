"""Benchmark of the coffee machine emulator (a benchmark, not a test).

Starts a Coffee 2900 and a Coffee 1900 with scale:N data in temporary state
directories, prints how long seeding took, then walks the whole brew list
sequentially with one keep-alive client and prints requests per second and
median / p95 latency:
  - 2900: GET /api/v2/brews?limit=500, following next_cursor
  - 1900: GET /api/v1/log?per_page=100, page after page
Standard library only.  Usage: bin/bench-emulator [--scale N] [--walks N]
[--only 1900|2900]
"""
import argparse
import base64
import contextlib
import http.client
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import harness  # noqa: E402 pylint: disable=wrong-import-position


def percentile(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def seeded_seconds(emu):
    with open(emu.log_path) as f:
        m = re.search(r'seeded \S+ in ([0-9.]+) s', f.read())
    return float(m.group(1)) if m else float('nan')


class Client(object):
    def __init__(self, port, headers):
        self.conn = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
        self.headers = headers
        self.times = []

    def get(self, path):
        started = time.perf_counter()
        self.conn.request('GET', path, headers=self.headers)
        resp = self.conn.getresponse()
        body = resp.read()
        self.times.append((time.perf_counter() - started) * 1000.0)
        if resp.status != 200:
            raise SystemExit('GET %s -> %s %s' % (path, resp.status, body[:200]))
        return json.loads(body.decode('utf-8'))


def report(label, client, records, walks, wall):
    t = client.times
    print('  %s' % label)
    print('    %d walks, %d requests, %d records per walk, %.2f s'
          % (walks, len(t), records, wall))
    print('    %.1f requests/s   median %.1f ms   p95 %.1f ms   max %.1f ms'
          % (len(t) / wall, percentile(t, 0.5), percentile(t, 0.95), max(t)))


@contextlib.contextmanager
def started(protocol, scale, **kwargs):
    """An emulator of ``protocol`` on scale:N data, stopped after."""
    begin = time.time()
    emu = harness.Emulator(protocol, data='scale:%d' % scale, **kwargs)
    emu.start(timeout=120)
    try:
        print('Coffee %s, scale:%d: seeded in %.2f s, ready in %.2f s'
              % (protocol, scale, seeded_seconds(emu), time.time() - begin))
        yield emu
    finally:
        emu.stop()


def timed_walks(label, client, first_path, walks, walk):
    """``walks`` times ``walk()`` (records per walk) after one warm-up
    request; prints the report."""
    client.get(first_path)  # warm up
    client.times = []
    wall = time.perf_counter()
    for _ in range(walks):
        count = walk()
    report(label, client, count, walks, time.perf_counter() - wall)


def bench_2900(scale, walks):
    with started('2900', scale, rate_limit=100000) as emu:
        conn = http.client.HTTPConnection('127.0.0.1', emu.port, timeout=60)
        conn.request('POST', '/api/v2/auth/token', headers={
            'Content-Type': 'application/json'}, body=json.dumps({
                'username': 'coffee', 'password': 'espresso'}))
        token = json.loads(conn.getresponse().read())['access_token']
        conn.close()
        client = Client(emu.port, {'Authorization': 'Bearer ' + token})

        def walk():
            count = 0
            path = '/api/v2/brews?limit=500'
            while True:
                body = client.get(path)
                count += len(body['data'])
                if not body['next_cursor']:
                    return count
                path = '/api/v2/brews?limit=500&cursor=' + body['next_cursor']

        timed_walks('GET /api/v2/brews?limit=500 (cursor walk)', client,
                    '/api/v2/brews?limit=500', walks, walk)


def bench_1900(scale, walks):
    with started('1900', scale) as emu:
        auth = base64.b64encode(b'coffee:espresso').decode('ascii')
        client = Client(emu.port, {'Authorization': 'Basic ' + auth})

        def walk():
            count = 0
            page = 1
            while True:
                body = client.get('/api/v1/log?per_page=100&page=%d' % page)
                count += len(body['items'])
                if page * body['per_page'] >= body['total']:
                    return count
                page += 1

        timed_walks('GET /api/v1/log?per_page=100 (page walk)', client,
                    '/api/v1/log?per_page=100', walks, walk)


def main(argv=None):
    p = argparse.ArgumentParser(prog='bin/bench-emulator',
                                description=__doc__.split('\n')[0])
    p.add_argument('--scale', type=int, default=50000)
    p.add_argument('--walks', type=int, default=3)
    p.add_argument('--only', choices=('1900', '2900'))
    args = p.parse_args(argv)
    print('Python %s (emulator: %s)' % (sys.version.split()[0],
                                        os.environ.get('PYTHON', 'python3')))
    if args.only != '1900':
        bench_2900(args.scale, args.walks)
    if args.only != '2900':
        bench_1900(args.scale, args.walks)


if __name__ == '__main__':
    main()
