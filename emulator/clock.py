"""Machine clock and time formats.

The machine clock is the real clock plus an offset that the simulation
controls can move; it can also be frozen.  All internal times are integer
microseconds since the Unix epoch, UTC.

The Coffee 1900 shows naive local times of its time zone.  The standard
library of Python 3.7 has no time zone database, so the rules of
Europe/Brussels (the only zone the emulated machines use) are written here:
CET (UTC+1), and CEST (UTC+2) from the last Sunday of March 01:00 UTC to the
last Sunday of October 01:00 UTC (EU rules, in force since 1996).
"""
import calendar
import datetime
import re
import threading
import time

US = 1000000

_EPOCH = datetime.datetime(1970, 1, 1)


def real_now_us():
    return int(time.time() * US)


class MachineClock(object):
    """Real time + offset, optionally frozen.  Thread safe."""

    def __init__(self, offset_us=0, frozen_at_us=None):
        self._lock = threading.Lock()
        self.offset_us = int(offset_us)
        self.frozen_at_us = frozen_at_us

    def now_us(self):
        frozen = self.frozen_at_us
        if frozen is not None:
            return frozen
        return real_now_us() + self.offset_us

    def advance(self, seconds):
        delta = int(round(float(seconds) * US))
        with self._lock:
            if self.frozen_at_us is not None:
                self.frozen_at_us += delta
            else:
                self.offset_us += delta

    def set(self, when_us):
        with self._lock:
            if self.frozen_at_us is not None:
                self.frozen_at_us = int(when_us)
            else:
                self.offset_us = int(when_us) - real_now_us()

    def freeze(self, flag):
        with self._lock:
            if flag and self.frozen_at_us is None:
                self.frozen_at_us = real_now_us() + self.offset_us
            elif not flag and self.frozen_at_us is not None:
                self.offset_us = self.frozen_at_us - real_now_us()
                self.frozen_at_us = None

    @property
    def frozen(self):
        return self.frozen_at_us is not None


# --------------------------------------------------------------------------
# UTC ISO-8601 (Coffee 2900)

def iso_utc(us):
    """'2026-11-20T07:31:00.120000Z' for a time in microseconds."""
    s, frac = divmod(int(us), US)
    return time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(s)) + '.%06dZ' % frac


_ISO_RE = re.compile(
    r'^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})'
    r'(?:\.(\d{1,6}))?(Z|z|[+-]\d{2}:?\d{2})$')


def parse_iso(text):
    """Parse an ISO-8601 time with a zone (Z or +hh:mm) -> microseconds.

    Raises ValueError on anything else (naive times are refused: the 2900
    speaks UTC only and a naive time would be ambiguous).
    """
    if not isinstance(text, str):
        raise ValueError('not a string')
    m = _ISO_RE.match(text.strip())
    if not m:
        raise ValueError('not an ISO-8601 time with a zone: %r' % (text,))
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    frac = (m.group(7) or '').ljust(6, '0')
    dt = datetime.datetime(y, mo, d, h, mi, s)  # validates the ranges
    zone = m.group(8)
    offset = 0
    if zone not in ('Z', 'z'):
        sign = -1 if zone[0] == '-' else 1
        digits = zone[1:].replace(':', '')
        offset = sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    secs = calendar.timegm(dt.timetuple()) - offset
    return secs * US + int(frac or 0)


# --------------------------------------------------------------------------
# Europe/Brussels (Coffee 1900)

_TRANSITIONS = {}


def _last_sunday_1am_utc(year, month):
    d = datetime.date(year, month, 31)  # March and October have 31 days
    d -= datetime.timedelta(days=(d.weekday() + 1) % 7)
    return calendar.timegm((d.year, d.month, d.day, 1, 0, 0))


def dst_bounds(year):
    """(start, end) of summer time in that year, as UTC epoch seconds."""
    bounds = _TRANSITIONS.get(year)
    if bounds is None:
        bounds = (_last_sunday_1am_utc(year, 3), _last_sunday_1am_utc(year, 10))
        _TRANSITIONS[year] = bounds
    return bounds


def brussels_offset(epoch_s):
    """UTC offset in seconds of Europe/Brussels at that instant."""
    start, end = dst_bounds(time.gmtime(epoch_s).tm_year)
    return 7200 if start <= epoch_s < end else 3600


def local_str(us):
    """'YYYY-MM-DD HH:MM:SS' in Europe/Brussels for a UTC time in us."""
    s = int(us) // US
    return time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(s + brussels_offset(s)))


_LOCAL_RE = re.compile(r'^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$')


def parse_local(text):
    """Parse a naive Europe/Brussels time -> UTC microseconds (whole second).

    An ambiguous time (the repeated hour in October) gives the EARLIER
    instant, so an inclusive filter returns a superset.  A time that does
    not exist (the skipped hour in March) gives the instant of the switch,
    the first instant whose local time is later than the given one.
    Raises ValueError on a malformed or impossible time.
    """
    if not isinstance(text, str):
        raise ValueError('not a string')
    m = _LOCAL_RE.match(text.strip())
    if not m:
        raise ValueError('expected YYYY-MM-DD HH:MM:SS: %r' % (text,))
    y, mo, d, h, mi, s = (int(x) for x in m.groups())
    datetime.datetime(y, mo, d, h, mi, s)  # validates the ranges
    pseudo = calendar.timegm((y, mo, d, h, mi, s))
    candidates = [c for c in (pseudo - 7200, pseudo - 3600)
                  if c + brussels_offset(c) == pseudo]
    if candidates:
        return min(candidates) * US
    start, _end = dst_bounds(y)
    return start * US
