"""bin/emulator --fleet: many machines in one process, over real HTTP."""
import datetime
import time

import pytest
import requests

from ..harness import EmulatorError, FleetProcess
from .common import session, wait_for

N = 6
SLOW_SECONDS = 0.5
TRICKLE_SECONDS = 0.3
DONE = ('completed', 'cancelled', 'failed')


@pytest.fixture(scope='module')
def fleet_process():
    fleet = FleetProcess(N, seed=7, offline=0.17, flaky=0.17, slow=0.17,
                         slow_seconds=SLOW_SECONDS, trickle=TRICKLE_SECONDS,
                         extra_args=['--rate-limit', '1000'])
    fleet.start()
    yield fleet
    fleet.stop()


@pytest.fixture
def fleet(fleet_process):
    fleet_process.mode(range(N), 'healthy')
    return fleet_process


class Client1900(object):
    """A Coffee 1900 client of one machine (Basic auth)."""
    prefix = '/api/v1'

    def __init__(self, machine, password=None):
        self.machine = machine
        self.s = session()
        self.s.auth = (machine.username, password or machine.password)

    def ready(self):
        return self

    def refused(self):
        """Are these credentials refused?"""
        return self.get('/machine').status_code == 401

    def get(self, path, **kw):
        return self.s.get(self.machine.url + self.prefix + path, timeout=10,
                          **kw)

    def busy_answer(self, response):
        assert response.json() == {'error': 'busy'}

    def done_brew_ids(self):
        """The ids of the machine's finished brews, through its API."""
        ids, page = set(), 1
        while True:
            body = self.get('/log', params={'per_page': 100,
                                            'page': page}).json()
            ids.update(str(e['log_no']) for e in body['items']
                       if e['result'] != 'running')
            if page * 100 >= body['total']:
                return ids
            page += 1


class Client2900(object):
    """A Coffee 2900 client of one machine (bearer token)."""
    prefix = '/api/v2'

    def __init__(self, machine, password=None):
        self.machine = machine
        self.password = password or machine.password
        self.s = session()
        self.token = None

    def login(self):
        r = self.s.post(self.machine.url + '/api/v2/auth/token', timeout=10,
                        json={'username': self.machine.username,
                              'password': self.password})
        if r.status_code == 200:
            self.token = r.json()['access_token']
        return r

    def ready(self):
        assert self.login().status_code == 200
        return self

    def refused(self):
        return self.login().status_code == 401

    def get(self, path, **kw):
        headers = {}
        if self.token:
            headers['Authorization'] = 'Bearer ' + self.token
        return self.s.get(self.machine.url + self.prefix + path,
                          headers=headers, timeout=10, **kw)

    def busy_answer(self, response):
        assert response.json()['error']['code'] == 'unavailable'
        assert response.headers['Retry-After'] == '1'

    def done_brew_ids(self):
        """The ids of the machine's finished brews, through its API."""
        ids, cursor = set(), None
        while True:
            params = {'limit': 500}
            if cursor:
                params['cursor'] = cursor
            body = self.get('/brews', params=params).json()
            ids.update(b['id'] for b in body['data'] if b['status'] in DONE)
            cursor = body['next_cursor']
            if cursor is None:
                return ids


CLIENTS = {'1900': Client1900, '2900': Client2900}


def client_of(machine, password=None):
    return CLIENTS[machine.version](machine, password)


def ready_client(machine):
    return client_of(machine).ready()


def test_fleet_starts_with_seeded_modes(fleet_process):
    assert fleet_process.health() == {
        'ok': True, 'machines': N, 'pid': fleet_process.proc.pid}
    entries = fleet_process.manifest['machines']
    assert [e['index'] for e in entries] == list(range(N))
    assert [e['version'] for e in entries] == ['1900', '2900'] * (N // 2)
    for e in entries:
        assert e['name'] == 'fleet-%03d' % e['index']
        assert e['url'] == 'http://127.0.0.1:%d' % (
            fleet_process.port + 1 + e['index'])
        assert (e['username'], e['password']) == (
            'coffee', 'espresso-%d' % e['index'])
    # the manifest holds the modes drawn at start: one of each of 1/6
    modes = sorted(e['mode'] for e in entries)
    assert modes == ['flaky', 'healthy', 'healthy', 'healthy', 'offline',
                     'slow']


def test_each_machine_has_its_own_state_and_credentials(fleet):
    serials = set()
    machines = fleet.machines()
    for machine in machines:
        assert machine.mode == 'healthy'
        other = machines[(machine.index + 2) % N]  # same version, other one
        client = ready_client(machine)
        r = client.get('/machine')
        assert r.status_code == 200, r.text
        serials.add(r.json()['serial'])
        assert client_of(machine, password=other.password).refused()
        stranger = ready_client(other)   # a token, or a password, of another
        stranger.machine = machine
        assert stranger.get('/machine').status_code == 401
        assert machine.sim('GET', 'health')['protocol'] == machine.version
    assert len(serials) == N


def test_offline_refuses_connections_and_comes_back(fleet):
    m0, m1 = fleet.machine(0), fleet.machine(1)
    clients = [ready_client(m0), ready_client(m1)]
    serials = [c.get('/machine').json()['serial'] for c in clients]
    made = fleet.delta(brews=1, consumers=0)
    entries = fleet.mode([0, 1], 'offline')
    assert [e.mode for e in entries] == ['offline', 'offline']
    assert [m.mode for m in fleet.machines()][:2] == ['offline', 'offline']
    for client, machine in zip(clients, (m0, m1)):
        with pytest.raises(requests.ConnectionError):
            client.get('/machine')               # the kept-alive connection
        with pytest.raises(requests.ConnectionError):
            client_of(machine).get('/machine')   # a new one is refused
        with pytest.raises(EmulatorError):
            machine.sim('GET', 'health', timeout=2)
    assert set(fleet.delta(brews=1, consumers=0)) == set(range(2, N))
    fleet.mode([0, 1], 'healthy')
    clients = [ready_client(m0), ready_client(m1)]
    assert [c.get('/machine').json()['serial'] for c in clients] == serials
    for index, client in enumerate(clients):
        assert set(made[index]['brews']) <= client.done_brew_ids()


def _statuses(client, count):
    return [client.get('/machine').status_code for _ in range(count)]


def test_flaky_answers_seeded_503s(fleet):
    for index in (2, 3):
        machine = fleet.machine(index)
        client = ready_client(machine)  # the login before the errors
        fleet.mode([index], 'flaky')
        first = _statuses(client, 40)
        assert set(first) == {200, 503}, first
        r = client.get('/machine')
        while r.status_code != 503:
            r = client.get('/machine')
        client.busy_answer(r)
        fleet.mode([index], 'healthy')
        assert _statuses(client, 5) == [200] * 5
        fleet.mode([index], 'flaky')   # the same seed: the same errors
        assert _statuses(client, 40) == first


def test_slow_delays_every_answer(fleet):
    machine = fleet.machine(4)
    client = ready_client(machine)
    fleet.mode([4], 'slow')
    assert machine.sim('GET', 'config')['delay_ms'] == SLOW_SECONDS * 1000
    started = time.monotonic()
    r = client.get('/machine')
    assert r.status_code == 200
    assert time.monotonic() - started >= SLOW_SECONDS
    fleet.mode([4], 'healthy')
    assert machine.sim('GET', 'config')['delay_ms'] == 0


def test_delta_makes_brews_visible_through_each_api(fleet):
    fleet.mode([5], 'offline')
    consumers_before = dict(
        (m.index, m.sim('GET', 'counters')['activity'].get('consumers', 0))
        for m in fleet.machines() if m.mode != 'offline')
    made = fleet.delta(brews=3, consumers=1)
    assert set(made) == set(range(N)) - {5}
    for index, answer in sorted(made.items()):
        machine = fleet.machine(index)
        assert len(answer['brews']) == 3
        at = datetime.datetime.strptime(answer['at'],
                                        '%Y-%m-%dT%H:%M:%S.%fZ')
        assert abs((datetime.datetime.utcnow() - at).total_seconds()) < 60
        assert set(answer['brews']) <= ready_client(machine).done_brew_ids()
        counters = machine.sim('GET', 'counters')['activity']
        assert counters['consumers'] == consumers_before[index] + 1
    with pytest.raises(EmulatorError) as info:
        fleet.call('POST', 'delta', {'brews': -1})
    assert info.value.status == 400


def test_trickle_brews_on_healthy_machines(fleet):
    machine = fleet.machine(1)
    start = machine.sim('GET', 'snapshot?kind=brews')['count']
    assert wait_for(lambda: machine.sim('GET', 'snapshot?kind=brews')[
        'count'] >= start + 2, timeout=10)


def test_each_machine_keeps_its_sim_controls(fleet):
    machine = fleet.machine(3)
    machine.sim('POST', 'activity', {'brews': 4})
    health = machine.sim('POST', 'reset', {})   # back to its own seed
    assert health['data'] == 'fleet' and health['protocol'] == '2900'
    assert machine.sim('GET', 'snapshot?kind=brews')['count'] >= 20
    machine.sim('POST', 'state', {'state': 'error', 'error_code': 'E02'})
    r = ready_client(machine).get('/machine')
    assert r.json()['status']['state'] == 'error'
    assert ready_client(fleet.machine(1)).get('/machine').json()[
        'status']['state'] == 'ready'
    machine.sim('POST', 'state', {'state': 'ready'})


def test_control_refuses_bad_input(fleet):
    for path, body in (('mode', {'indexes': [N], 'mode': 'offline'}),
                       ('mode', {'indexes': [0], 'mode': 'asleep'}),
                       ('mode', {'indexes': 0, 'mode': 'slow'}),
                       ('delta', {'brews': 'five'}),
                       ('delta', {'cups': 1})):
        with pytest.raises(EmulatorError) as info:
            fleet.call('POST', path, body)
        assert info.value.status == 400, (path, body)
    with pytest.raises(EmulatorError) as info:
        fleet.call('GET', 'nothing')
    assert info.value.status == 404


def test_schedule_draws_the_modes_again():
    with FleetProcess(4, seed=3, offline=0.5, schedule=0.2) as fleet:
        initial = [e['mode'] for e in fleet.manifest['machines']]
        assert initial.count('offline') == 2

        def changed():
            modes = [m.mode for m in fleet.machines()]
            assert modes.count('offline') == 2
            return modes != initial and modes
        assert wait_for(changed, timeout=10)
