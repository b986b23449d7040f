"""Simulation controls under /_sim (JSON in and out, no authentication,
answered to loopback clients only, never counted, limited or faulted)."""
import os
import re

from .clock import US, iso_utc, parse_iso
from .data import NAMED_SETS
from .web import ControlError, Controls

CONFIG_TYPES = {
    'brew_seconds': float, 'rate_limit': float, 'token_ttl': int,
    'delay_ms': float, 'cursor_ttl': float, 'signature_clock': str,
}
FAULT_KINDS = ('500', '503', '429', 'hang', 'drop', 'slow')


class SimError(ControlError):
    """A /_sim request refused."""


def _number(body, key, minimum=None):
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SimError('%s must be a number' % key)
    if minimum is not None and value < minimum:
        raise SimError('%s must be >= %s' % (key, minimum))
    return value


class Sim(Controls):
    """The simulation controls of one machine."""

    def __init__(self, app):
        Controls.__init__(self, '/_sim', 'simulation')
        self.app = app
        self.machine = app.machine
        self.add('/health', GET=self.health)
        self.add('/clock', GET=self.get_clock, POST=self.post_clock)
        self.add('/state', GET=self.get_state, POST=self.post_state)
        self.add('/faults', GET=self.get_faults, POST=self.post_faults)
        self.add('/activity', GET=self.get_activity, POST=self.post_activity)
        self.add('/config', GET=self.get_config, POST=self.post_config)
        self.add('/brew-seconds', POST=self.post_brew_seconds)
        self.add('/counters', GET=self.get_counters,
                 POST=self.reset_counters, DELETE=self.reset_counters)
        self.add('/snapshot', GET=self.snapshot)
        self.add('/deliveries', GET=self.deliveries)
        self.add('/reset', POST=self.reset)

    # -- controls ------------------------------------------------------------

    def health(self, req, body):
        m = self.machine
        return {'ok': True, 'protocol': m.protocol, 'pid': os.getpid(),
                'serial': m.profile['serial'],
                'data': m.store.get_meta('data'),
                'state_dir': self.app.state_dir,
                'now': iso_utc(m.now()), 'state': m.state()}

    def clock_info(self):
        m = self.machine
        now = m.now()
        if m.clock.frozen:
            offset = now - self.app.real_now_us()
        else:
            offset = m.clock.offset_us
        info = {'now': iso_utc(now), 'unix': now / float(US),
                'offset_seconds': offset / float(US),
                'frozen': m.clock.frozen}
        info.update(m.version.clock_info(m, now))
        return info

    def get_clock(self, req, body):
        return self.clock_info()

    def post_clock(self, req, body):
        m = self.machine
        unknown = set(body) - {'advance', 'set', 'freeze'}
        if unknown:
            raise SimError('unknown keys: %s' % ', '.join(sorted(unknown)))
        when = None
        if 'set' in body:
            try:
                when = parse_iso(body['set'])
            except ValueError as exc:
                raise SimError('set: %s' % exc)
        if 'advance' in body:
            _number(body, 'advance')
        if 'freeze' in body and not isinstance(body['freeze'], bool):
            raise SimError('freeze must be true or false')
        with m.store.lock:
            m.settle()
            if body.get('freeze') is True:
                m.clock.freeze(True)
            if when is not None:
                m.clock.set(when)
            if 'advance' in body:
                m.clock.advance(body['advance'])
            if body.get('freeze') is False:
                m.clock.freeze(False)
            m.save_clock()
            m.settle()
        self.app.wake()
        return self.clock_info()

    def state_info(self):
        m = self.machine
        info = dict(m.status)
        info['reported_state'] = m.state()
        return info

    def get_state(self, req, body):
        return self.state_info()

    def post_state(self, req, body):
        m = self.machine
        levels = {}
        for key in ('water_ml', 'water_capacity_ml', 'beans_g',
                    'beans_capacity_g', 'cups_total', 'cups_since_descaling'):
            if key in body:
                value = body[key]
                if isinstance(value, bool) or not isinstance(value, int) \
                        or value < 0:
                    raise SimError('%s must be a whole number >= 0' % key)
                levels[key] = value
        if 'descaling_due' in body:
            if not isinstance(body['descaling_due'], bool):
                raise SimError('descaling_due must be true or false')
            levels['descaling_due'] = body['descaling_due']
        unknown = set(body) - set(levels) - {'state', 'error_code'}
        if unknown:
            raise SimError('unknown keys: %s' % ', '.join(sorted(unknown)))
        state = body.get('state', m.status['state'])
        if state not in m.version.states:
            raise SimError('state must be one of %s'
                           % ', '.join(m.version.states))
        code = body.get('error_code')
        if code is not None and not isinstance(code, str):
            raise SimError('error_code must be a string or null')
        if state == 'error' and not code:
            code = 'E01'
        m.set_state(state, code, levels)
        self.app.wake()
        return self.state_info()

    def faults_info(self):
        m = self.machine
        info = dict(m.faults)
        info['malformed'] = m.malformed['rate']
        info['malformed_seed'] = m.malformed['seed']
        return info

    def get_faults(self, req, body):
        return self.faults_info()

    def post_faults(self, req, body):
        unknown = set(body) - {'rate', 'kinds', 'seed', 'hang_seconds',
                               'paths', 'malformed'}
        if unknown:
            raise SimError('unknown keys: %s' % ', '.join(sorted(unknown)))
        rate = malformed = None
        if 'rate' in body:
            rate = _number(body, 'rate', 0)
            if rate > 1:
                raise SimError('rate is a fraction between 0 and 1')
        if 'malformed' in body:
            malformed = _number(body, 'malformed', 0)
            if malformed > 1:
                raise SimError('malformed is a fraction between 0 and 1')
        kinds = body.get('kinds')
        if kinds is not None:
            if (not isinstance(kinds, list) or not kinds
                    or any(k not in FAULT_KINDS for k in kinds)):
                raise SimError('kinds must be a non-empty list among %s'
                               % ', '.join(FAULT_KINDS))
        paths = body.get('paths')
        if paths is not None and (not isinstance(paths, list) or any(
                not isinstance(p, str) for p in paths)):
            raise SimError('paths must be a list of path prefixes')
        seed = body.get('seed')
        if seed is not None and (isinstance(seed, bool)
                                 or not isinstance(seed, int)):
            raise SimError('seed must be an integer')
        hang = None
        if 'hang_seconds' in body:
            hang = _number(body, 'hang_seconds', 0)
        self.machine.set_faults(rate=rate, kinds=kinds, seed=seed,
                                hang_seconds=hang, paths=paths,
                                malformed=malformed)
        return self.faults_info()

    def get_activity(self, req, body):
        return {'running': self.machine.activity_running()}

    def post_activity(self, req, body):
        m = self.machine
        unknown = set(body) - {'brews', 'consumers', 'beverages', 'seed',
                               'rate_per_s', 'seconds', 'stop'}
        if unknown:
            raise SimError('unknown keys: %s' % ', '.join(sorted(unknown)))
        counts = {}
        for key in ('brews', 'consumers', 'beverages'):
            if key in body:
                value = body[key]
                if isinstance(value, bool) or not isinstance(value, int) \
                        or not 0 <= value <= 1000000:
                    raise SimError('%s must be a whole number >= 0' % key)
                counts[key] = value
        seed = body.get('seed')
        if seed is not None and (isinstance(seed, bool)
                                 or not isinstance(seed, int)):
            raise SimError('seed must be an integer')
        if body.get('stop'):
            m.stop_activity()
            return {'running': False}
        if 'rate_per_s' in body:
            rate = _number(body, 'rate_per_s', 0.001)
            seconds = _number(body, 'seconds', 0) if 'seconds' in body \
                else 10
            m.start_background_activity(rate, seconds, counts, seed)
            return {'running': True, 'rate_per_s': rate, 'seconds': seconds,
                    'weights': counts or {'brews': 1}}
        done = m.activity(seed=seed, **counts)
        self.app.wake()
        return {'done': done, 'now': iso_utc(m.now())}

    def config_info(self):
        return dict(self.machine.config)

    def get_config(self, req, body):
        return self.config_info()

    def post_config(self, req, body):
        config = self.machine.config
        new = {}
        for key, value in body.items():
            if key not in CONFIG_TYPES:
                raise SimError('unknown setting %r (known: %s)'
                               % (key, ', '.join(sorted(CONFIG_TYPES))))
            kind = CONFIG_TYPES[key]
            if kind is str:
                if value not in ('machine', 'real'):
                    raise SimError('signature_clock is "machine" or "real"')
            else:
                if isinstance(value, bool) or not isinstance(value,
                                                             (int, float)):
                    raise SimError('%s must be a number' % key)
                if value < 0 or (key in ('rate_limit', 'token_ttl')
                                 and value <= 0):
                    raise SimError('%s is out of range' % key)
                value = kind(value)
            new[key] = value
        config.update(new)
        return self.config_info()

    def post_brew_seconds(self, req, body):
        seconds = _number(body, 'seconds', 0)
        self.machine.config['brew_seconds'] = float(seconds)
        return self.config_info()

    def get_counters(self, req, body):
        return self.machine.counters.snapshot()

    def reset_counters(self, req, body):
        self.machine.counters.reset()
        return self.machine.counters.snapshot()

    def snapshot(self, req, body):
        m = self.machine
        kind = req.query.get('kind', 'brews')
        full = req.query.get('full', '0').lower() in ('1', 'true')
        include_deleted = req.query.get('include_deleted', '0').lower() in (
            '1', 'true')
        api = self.app.api
        if kind == 'webhooks':
            hooks = [{'id': h['id'], 'url': h['url'], 'events': h['events']}
                     for h in m.webhooks()]
            return {'kind': kind, 'count': len(hooks), 'items': hooks}
        aliases = {'beverages': 'drinks', 'consumers': 'cards',
                   'brews': 'log', 'drinks': 'beverages', 'cards': 'consumers',
                   'log': 'brews'}
        names = m.version.snapshot_kinds
        if kind not in names:
            kind = aliases.get(kind, kind)
        if kind not in names:
            raise SimError('kind must be one of %s' % ', '.join(sorted(names)))
        table = names[kind]
        rows = m.store.all_rows(table, include_deleted=include_deleted,
                                order=m.version.snapshot_order)
        pairs = [api.snapshot_item(table, r) for r in rows]
        out = {'kind': kind, 'count': len(pairs),
               'ids': [rid for rid, _item in pairs]}
        if full:
            out['items'] = [item for _rid, item in pairs]
        return out

    def deliveries(self, req, body):
        rows = self.machine.store.execute(
            'SELECT d.pk, w.code, d.event_id, d.event_type, d.attempts, '
            'd.state, d.next_us, d.last_result FROM deliveries d '
            'LEFT JOIN webhooks w ON w.pk = d.webhook_pk ORDER BY d.pk')
        return {'count': len(rows), 'items': [
            {'webhook_id': r[1], 'event_id': r[2], 'type': r[3],
             'attempts': r[4], 'state': r[5],
             'next_attempt_at': iso_utc(r[6]) if r[5] == 'pending' else None,
             'last_result': r[7]} for r in rows]}

    def reset(self, req, body):
        spec = body.get('data', self.machine.store.get_meta('data') or 'demo')
        if not isinstance(spec, str):
            raise SimError('data must be demo, empty, fleet or scale:N')
        if not (spec in NAMED_SETS or re.match(r'^scale:[0-9]{1,7}$', spec)):
            raise SimError('data must be demo, empty, fleet or scale:N')
        self.machine.reset(spec)
        self.machine.counters.reset()
        self.machine.set_faults(rate=0, malformed=0)
        self.app.reset_limits()
        return self.health(req, body)
