# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Parser of the Coffee 1900 log export (``coffee1900-<serial>-log.csv``).

The file comes either from ``GET /api/v1/log.csv`` or from a USB stick that
went through people's computers, so it may carry a byte-order mark, ``\\r\\n``
line ends, truncated or damaged lines. One bad line must not stop the rest:
the parser yields every line, good or bad, and lets the importer decide.
It knows nothing of drinks or cards; an unknown ``drink_no`` is the
importer's business.
"""

import collections
import datetime

from .timestamps import TIMESTAMP_FORMAT_1900

LOG_CSV_COLUMNS = ('log_no', 'drink_no', 'card_no', 'price_cents', 'ts',
                   'result')
LOG_CSV_DELIMITER = ';'
LOG_RESULTS = ('ok', 'aborted', 'running')
MAX_CARD_NO_LENGTH = 10
#: the largest log file read, from the machine or from a person (a log
#: file is a few MiB a year; a larger one is not the machine's)
MAX_LOG_FILE_BYTES = 20 * 2 ** 20
# a log line is some 60 characters; a longer one is damaged, not read
MAX_LINE_LENGTH = 500
# characters of a bad value quoted in a message
MAX_QUOTED = 40

#: One line of the file: ``values`` (a dict) when good, else ``error`` (str).
CsvLine = collections.namedtuple('CsvLine', 'line_no values error')


class CsvHeaderError(ValueError):
    """The file does not start with the 1900 log header: not a log export."""


def quoted(text):
    """``text`` as a message quotes it: repr, cut to MAX_QUOTED."""
    if len(text) > MAX_QUOTED:
        return '%r...' % text[:MAX_QUOTED]
    return repr(text)


def _whole_number(name, text):
    # int() would also take ' 12', '+12', '1_2' or '１２'; the machine writes
    # plain ASCII digits
    if not _is_ascii_digits(text):
        raise ValueError('%s %s is not a whole number' % (name, quoted(text)))
    return int(text)


def _parse_values(fields):
    values = {}
    values['log_no'] = _whole_number('log_no', fields[0])
    values['drink_no'] = _whole_number('drink_no', fields[1])
    card_no = fields[2]
    if card_no and not (_is_ascii_digits(card_no)
                        and len(card_no) <= MAX_CARD_NO_LENGTH):
        raise ValueError('card_no %s is not a card number (1 to %d digits)'
                         % (quoted(card_no), MAX_CARD_NO_LENGTH))
    values['card_no'] = card_no or None
    values['price_cents'] = _whole_number('price_cents', fields[3])
    try:
        values['ts'] = datetime.datetime.strptime(fields[4],
                                                  TIMESTAMP_FORMAT_1900)
    except ValueError:
        raise ValueError('ts %s is not a time like 2026-11-20 08:31:12'
                         % quoted(fields[4])) from None
    if fields[5] not in LOG_RESULTS:
        raise ValueError('result %s is not one of %s'
                         % (quoted(fields[5]), ', '.join(LOG_RESULTS)))
    values['result'] = fields[5]
    return values


def _is_ascii_digits(text):
    return bool(text) and all('0' <= char <= '9' for char in text)


def _to_text(text_or_bytes):
    if isinstance(text_or_bytes, bytes):
        try:
            return text_or_bytes.decode('utf-8-sig')
        except UnicodeDecodeError as exc:
            raise ValueError('the file is not UTF-8 (byte %d); the Coffee '
                             '1900 writes UTF-8' % exc.start) from None
    if text_or_bytes.startswith('\ufeff'):
        return text_or_bytes[1:]
    return text_or_bytes


def parse_log_csv(text_or_bytes):
    """Yield a :class:`CsvLine` for each entry line of the export.

    Good line: ``CsvLine(line_no, {"log_no": int, "drink_no": int,
    "card_no": str or None, "price_cents": int, "ts": naive datetime,
    "result": str}, None)``. Bad line: ``CsvLine(line_no, None, reason)``
    where ``reason`` reads like "line 7: price_cents 'abc' is not a whole
    number". Line numbers count from 1 with the header as line 1, as a text
    editor shows them. Blank lines are skipped.

    Raises :class:`CsvHeaderError` (before yielding anything) when the first
    line is not the log header, and ``ValueError`` for bytes that are not
    UTF-8 or a file larger than ``MAX_LOG_FILE_BYTES``: then the whole file
    is unusable, not one line. A line longer than ``MAX_LINE_LENGTH`` is a
    bad line, and a message quotes at most ``MAX_QUOTED`` characters of a
    value.
    """
    if len(text_or_bytes) > MAX_LOG_FILE_BYTES:
        raise ValueError('the file has more than %d MiB; a Coffee 1900 log '
                         'file is much smaller' % (MAX_LOG_FILE_BYTES // 2 ** 20))
    text = _to_text(text_or_bytes)
    # splitlines() would also split on \x1c, \u2028...; only \n and \r\n
    # (and a lone \r) are line ends in this file
    lines = text.replace('\r\n', '\n').replace('\r', '\n').split('\n')
    header = [name.strip() for name in lines[0].split(LOG_CSV_DELIMITER)] \
        if lines else []
    if tuple(header) != LOG_CSV_COLUMNS:
        raise CsvHeaderError(
            'line 1 is %s, not the Coffee 1900 log header %r'
            % (quoted(lines[0]) if lines else "''",
               LOG_CSV_DELIMITER.join(LOG_CSV_COLUMNS)))
    return _iter_lines(lines)


def _iter_lines(lines):
    expected = len(LOG_CSV_COLUMNS)
    for index, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        if len(line) > MAX_LINE_LENGTH:
            yield CsvLine(index, None, 'line %d: %d characters, a log line '
                          'has at most %d' % (index, len(line),
                                              MAX_LINE_LENGTH))
            continue
        fields = line.split(LOG_CSV_DELIMITER)
        if len(fields) != expected:
            hint = ' (truncated line?)' if len(fields) < expected else ''
            yield CsvLine(index, None, 'line %d: %d columns, %d expected%s'
                          % (index, len(fields), expected, hint))
            continue
        try:
            values = _parse_values([field.strip() for field in fields])
        except ValueError as exc:
            yield CsvLine(index, None, 'line %d: %s' % (index, exc))
            continue
        yield CsvLine(index, values, None)
