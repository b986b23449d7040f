"""Coffee 2900 webhook deliveries to a local receiver: signatures,
retries on the machine clock, event types."""
import json
import re
import time

from .common import (  # noqa: F401
    Receiver,
    check_signature,
    emulator_2900,
    finish_brewing,
    v2,
)

JANE = 'con_8f3a21'
BACKOFF = (5, 15, 60, 300, 900)


def register(v2, url, events):
    r = v2.post('/api/v2/webhooks', {'url': url, 'events': events})
    assert r.status_code == 201, r.text
    return r.json()


def machine_seconds(emu):
    return int(emu.sim('GET', 'clock')['unix'])


def quiet(receiver, n, seconds=0.4):
    """Nothing more than n deliveries arrives within a short while."""
    time.sleep(seconds)
    return receiver.count() == n


def test_signed_delivery_retried_after_5_machine_seconds(v2):
    emu = v2.emu
    emu.sim('POST', 'clock', {'set': '2027-03-01T08:00:00Z', 'freeze': True})
    with Receiver(script=[500, 200]) as rx:
        hook = register(v2, rx.url, ['consumer.updated'])
        assert v2.patch('/api/v2/consumers/' + JANE,
                        {'name': 'Jane Roe'}).status_code == 200
        first = rx.wait(1)[0]
        assert first['headers']['Content-Type'] == 'application/json'
        t1 = check_signature(hook['secret'], first)
        assert t1 == machine_seconds(emu)
        event = json.loads(first['body'].decode('utf-8'))
        assert set(event) == {'id', 'type', 'created_at', 'data'}
        assert event['id'].startswith('evt_')
        assert event['type'] == 'consumer.updated'
        assert event['data'] == {'object_id': JANE}
        assert event['created_at'] == '2027-03-01T08:00:00.000000Z'
        # a wrong secret does not verify
        try:
            check_signature('whsec_wrong', first)
        except AssertionError:
            pass
        else:
            raise AssertionError('a wrong secret verified')
        # not retried before 5 s of machine time, whatever the real time
        emu.sim('POST', 'clock', {'advance': 4})
        assert quiet(rx, 1)
        emu.sim('POST', 'clock', {'advance': 1})
        second = rx.wait(2)[1]
        assert second['body'] == first['body']          # same event id
        t2 = check_signature(hook['secret'], second)
        assert t2 == t1 + 5
        assert second['headers']['X-Coffee-Signature'] != \
            first['headers']['X-Coffee-Signature']
        # delivered: no more attempts
        emu.sim('POST', 'clock', {'advance': 1000})
        assert quiet(rx, 2)
    deliveries = emu.sim('GET', 'deliveries')['items']
    assert [(d['state'], d['attempts'], d['event_id']) for d in deliveries] \
        == [('delivered', 2, event['id'])]
    counters = emu.sim('GET', 'counters')['webhooks']
    assert (counters['attempts'], counters['successes']) == (2, 1)
    emu.sim('POST', 'clock', {'freeze': False})


def test_six_attempts_at_most_on_the_documented_schedule(v2):
    emu = v2.emu
    emu.sim('POST', 'clock', {'set': '2027-03-02T08:00:00Z', 'freeze': True})
    with Receiver(default=503) as rx:
        hook = register(v2, rx.url, ['machine.alert'])
        emu.sim('POST', 'state', {'state': 'error', 'error_code': 'E01'})
        first = rx.wait(1)[0]
        times = [check_signature(hook['secret'], first)]
        for n, delay in enumerate(BACKOFF, start=2):
            emu.sim('POST', 'clock', {'advance': delay - 1})
            assert quiet(rx, n - 1, 0.3), 'attempt %d came early' % n
            emu.sim('POST', 'clock', {'advance': 1})
            got = rx.wait(n)
            assert len(got) == n, 'attempt %d did not come' % n
            assert got[-1]['body'] == first['body']
            times.append(check_signature(hook['secret'], got[-1]))
        assert [b - a for a, b in zip(times, times[1:])] == list(BACKOFF)
        emu.sim('POST', 'clock', {'advance': 7200})
        assert quiet(rx, 6)
        event = json.loads(first['body'].decode('utf-8'))
        assert event['type'] == 'machine.alert'
        assert event['data']['code'] == 'E01'
        assert event['data']['object_id'] == v2.ok('/api/v2/machine')['serial']
    deliveries = emu.sim('GET', 'deliveries')['items']
    assert [(d['state'], d['attempts']) for d in deliveries] == [('failed', 6)]
    assert deliveries[0]['last_result'] == '503'
    emu.sim('POST', 'state', {'state': 'ready'})
    emu.sim('POST', 'clock', {'freeze': False})


def test_events_of_each_type_reach_their_subscribers(v2):
    emu = v2.emu
    with Receiver() as every, Receiver() as bev_only:
        register(v2, every.url, ['brew.completed', 'consumer.updated',
                                 'beverage.updated', 'machine.alert'])
        register(v2, bev_only.url, ['beverage.updated'])
        r = v2.post('/api/v2/brews', {'beverage_id': 'bev_espresso',
                                      'consumer_id': JANE},
                    headers={'Idempotency-Key': 'evt-1'})
        brew_id = r.json()['id']
        every.wait(1)                     # Jane's balance changed
        finish_brewing(emu)               # the cup completes
        every.wait(2)
        v2.patch('/api/v2/beverages/bev_lungo', {'active': False})
        every.wait(3)
        emu.sim('POST', 'state', {'state': 'error', 'error_code': 'E07'})
        every.wait(4)
        emu.sim('POST', 'state', {'state': 'ready'})
        emu.sim('POST', 'activity', {'beverages': 2, 'seed': 5})
        every.wait(6)
        bev_only.wait(3)
        assert quiet(every, 6) and quiet(bev_only, 3, 0.1)
        got = [(e['type'], e['data']['object_id']) for e in every.events()]
        assert got[:4] == [('consumer.updated', JANE),
                           ('brew.completed', brew_id),
                           ('beverage.updated', 'bev_lungo'),
                           ('machine.alert', 'C29-004211')]
        assert [t for t, _ in got[4:]] == ['beverage.updated'] * 2
        assert [e['type'] for e in bev_only.events()] == \
            ['beverage.updated'] * 3
        ids = [e['id'] for e in every.events()]
        assert len(set(ids)) == 6
        for e in every.events():
            assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$',
                            e['created_at'])
    # the brew the event names is there, completed
    assert v2.ok('/api/v2/brews/' + brew_id)['status'] == 'completed'


def test_deleted_webhook_gets_nothing_more(v2):
    emu = v2.emu
    emu.sim('POST', 'clock', {'freeze': True})
    with Receiver(default=500) as rx:
        hook = register(v2, rx.url, ['consumer.updated'])
        v2.patch('/api/v2/consumers/' + JANE, {'blocked': True})
        rx.wait(1)
        assert v2.delete('/api/v2/webhooks/' + hook['id']).status_code == 204
        emu.sim('POST', 'clock', {'advance': 10})
        v2.patch('/api/v2/consumers/' + JANE, {'blocked': False})
        assert quiet(rx, 1)
    emu.sim('POST', 'clock', {'freeze': False})


def test_signature_clock_can_be_real_time(v2):
    emu = v2.emu
    emu.sim('POST', 'clock', {'advance': 3 * 86400})
    emu.sim('POST', 'config', {'signature_clock': 'real'})
    with Receiver() as rx:
        hook = register(v2, rx.url, ['beverage.updated'])
        v2.patch('/api/v2/beverages/bev_latte', {'active': False})
        t = check_signature(hook['secret'], rx.wait(1)[0], tolerance=300,
                            now=time.time())
        assert abs(t - machine_seconds(emu)) > 86400
    emu.sim('POST', 'config', {'signature_clock': 'machine'})
