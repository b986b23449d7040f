# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The 1900 log CSV parser, on the damaged files people bring on USB sticks."""

import datetime

import pytest

from ..protocol import CsvHeaderError, CsvLine, parse_log_csv

HEADER = 'log_no;drink_no;card_no;price_cents;ts;result'

GOOD_FILE = (
    HEADER + '\n'
    '100231;3;00042;120;2026-11-20 08:31:12;ok\n'
    '100232;5;;90;2026-11-20 08:33:40;aborted\n'
    '100233;3;0;120;2026-11-20 08:35:00;running\n'
)


def test_good_file_gives_typed_values():
    lines = list(parse_log_csv(GOOD_FILE))
    assert [line.line_no for line in lines] == [2, 3, 4]
    assert all(line.error is None for line in lines)
    first = lines[0].values
    assert first == {
        'log_no': 100231, 'drink_no': 3, 'card_no': '00042',
        'price_cents': 120, 'ts': datetime.datetime(2026, 11, 20, 8, 31, 12),
        'result': 'ok',
    }
    assert first['ts'].tzinfo is None


def test_empty_card_is_anonymous_and_zero_card_is_a_card():
    lines = list(parse_log_csv(GOOD_FILE))
    assert lines[1].values['card_no'] is None
    assert lines[1].values['result'] == 'aborted'
    # "0" is a valid card, not "no card"
    assert lines[2].values['card_no'] == '0'


def test_leading_zeros_of_card_numbers_are_kept():
    text = HEADER + '\n1;3;00;120;2026-11-20 08:31:12;ok\n'
    (line,) = parse_log_csv(text)
    assert line.values['card_no'] == '00'


def test_bom_and_crlf_in_bytes_are_accepted():
    data = ('\ufeff' + GOOD_FILE.replace('\n', '\r\n')).encode('utf-8')
    lines = list(parse_log_csv(data))
    assert [line.values for line in lines] == \
        [line.values for line in parse_log_csv(GOOD_FILE)]


def test_bom_in_text_is_accepted():
    lines = list(parse_log_csv('\ufeff' + GOOD_FILE))
    assert len(lines) == 3 and all(line.values for line in lines)


def test_bad_lines_are_reported_and_the_rest_goes_on():
    text = (
        HEADER + '\n'
        '100231;3;00042;120;2026-11-20 08:31:12;ok\n'      # line 2
        '100232;5;;abc;2026-11-20 08:33:40;aborted\n'      # line 3
        '100233;3;00042;2026-11-20 08:35:00;ok\n'          # line 4
        'x;3;00042;120;2026-11-20 08:36:00;ok\n'           # line 5
        '100235;3;00042;120;2026-13-20 08:37:00;ok\n'      # line 6
        '100236;3;00042;120;2026-11-20 08:38:00;spilled\n'  # line 7
        '100237;3;0004a;120;2026-11-20 08:39:00;ok\n'      # line 8
        '100238;3;00042;-5;2026-11-20 08:40:00;ok\n'       # line 9
        '100239;3;00042;120;2026-11-20 08:41:00;ok;extra\n'  # line 10
        '100240;4;;150;2026-11-20 08:42:00;ok\n'           # line 11
        '100241;3;000'                                     # line 12, cut
    )
    lines = list(parse_log_csv(text))
    assert all(isinstance(line, CsvLine) for line in lines)
    good = [line.line_no for line in lines if line.error is None]
    assert good == [2, 11]
    errors = {line.line_no: line.error for line in lines if line.error}
    assert all(line.values is None for line in lines if line.error)
    assert errors == {
        3: "line 3: price_cents 'abc' is not a whole number",
        4: 'line 4: 5 columns, 6 expected (truncated line?)',
        5: "line 5: log_no 'x' is not a whole number",
        6: "line 6: ts '2026-13-20 08:37:00' is not a time like "
           "2026-11-20 08:31:12",
        7: "line 7: result 'spilled' is not one of ok, aborted, running",
        8: "line 8: card_no '0004a' is not a card number (1 to 10 digits)",
        9: "line 9: price_cents '-5' is not a whole number",
        10: 'line 10: 7 columns, 6 expected',
        12: 'line 12: 3 columns, 6 expected (truncated line?)',
    }


def test_unknown_drink_is_not_the_parsers_business():
    text = HEADER + '\n1;999999;;120;2026-11-20 08:31:12;ok\n'
    (line,) = parse_log_csv(text)
    assert line.values['drink_no'] == 999999


def test_blank_lines_are_skipped_but_numbering_follows_the_file():
    text = HEADER + '\n\n1;3;;120;2026-11-20 08:31:12;ok\n\n'
    lines = list(parse_log_csv(text))
    assert [(line.line_no, line.values['log_no']) for line in lines] == \
        [(3, 1)]


def test_header_only_gives_nothing():
    assert list(parse_log_csv(HEADER + '\n')) == []
    assert list(parse_log_csv(HEADER)) == []


@pytest.mark.parametrize('text', [
    '',
    'log_no,drink_no,card_no,price_cents,ts,result\n',
    'log_no;drink_no;card_no;price;ts;result\n',
    '100231;3;00042;120;2026-11-20 08:31:12;ok\n',
])
def test_wrong_header_refuses_the_file(text):
    with pytest.raises(CsvHeaderError) as info:
        parse_log_csv(text)
    assert 'line 1' in str(info.value)


def test_bytes_that_are_not_utf8_refuse_the_file():
    data = (HEADER + '\n1;3;;120;2026-11-20 08:31:12;ok\n').encode('utf-8') \
        + b'\xff\xfe'
    with pytest.raises(ValueError) as info:
        parse_log_csv(data)
    assert 'UTF-8' in str(info.value)
