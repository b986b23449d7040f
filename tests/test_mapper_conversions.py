# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The pure conversions the import mappers are made of."""
import pytest

from odoo.addons.connector.exception import MappingError

from ..components.mapper import (
    cents_to_amount,
    field,
    iso_to_utc,
    local_to_utc,
    money_to_amount,
    text,
)


def test_field_checks_presence_and_type():
    assert field({'a': 3}, 'a', int) == 3
    with pytest.raises(MappingError, match="field 'a' is missing"):
        field({}, 'a', int)
    with pytest.raises(MappingError, match="expected a whole number"):
        field({'a': '3'}, 'a', int)
    # JSON true is no number of cents
    with pytest.raises(MappingError, match="True"):
        field({'a': True}, 'a', int)
    with pytest.raises(MappingError, match='not an object'):
        field(['a'], 'a', int)
    assert field({'a': None}, 'a', int, allow_none=True) is None


def test_text_empty_means_not_set_and_long_texts_are_refused():
    assert text({'vat': ''}, 'vat') is False
    assert text({'vat': None}, 'vat', allow_none=True) is False
    assert text({'name': 'Zoë'}, 'name') == 'Zoë'
    with pytest.raises(MappingError, match='10000 characters long'):
        text({'name': 'x' * 10000}, 'name', max_length=255)


def test_cents():
    assert cents_to_amount({'p': 120}, 'p') == 1.2
    assert cents_to_amount({'p': 0}, 'p') == 0.0
    with pytest.raises(MappingError, match='expected 0 or more'):
        cents_to_amount({'p': -5}, 'p')
    with pytest.raises(MappingError, match='whole number'):
        cents_to_amount({'p': 'abc'}, 'p')


def test_money_objects_are_checked_against_the_company_currency():
    price = {'price': {'amount': '1.20', 'currency': 'EUR'}}
    assert money_to_amount(price, 'price', 'EUR') == 1.2
    with pytest.raises(MappingError, match="in 'USD', the company works in"):
        money_to_amount({'price': {'amount': '1.20', 'currency': 'USD'}},
                        'price', 'EUR')
    for amount in ('1.2', '1,20', 1.2, None, '1.200'):
        with pytest.raises(MappingError, match='two decimals'):
            money_to_amount(
                {'price': {'amount': amount, 'currency': 'EUR'}},
                'price', 'EUR')


def test_local_machine_time_to_utc_across_summer_and_winter():
    # Brussels is UTC+2 in June, UTC+1 in November
    assert local_to_utc({'ts': '2026-06-12 08:00:00'}, 'ts',
                        'Europe/Brussels') == '2026-06-12 06:00:00'
    assert local_to_utc({'ts': '2026-11-20 08:31:12'}, 'ts',
                        'Europe/Brussels') == '2026-11-20 07:31:12'
    # the repeated hour of October is read as the first (summer) one
    assert local_to_utc({'ts': '2026-10-25 02:30:00'}, 'ts',
                        'Europe/Brussels') == '2026-10-25 00:30:00'
    with pytest.raises(MappingError, match='expected a time like'):
        local_to_utc({'ts': '2026-13-45 25:00:00'}, 'ts', 'Europe/Brussels')
    with pytest.raises(MappingError, match='time zone'):
        local_to_utc({'ts': '2026-11-20 08:31:12'}, 'ts', 'Mars/Olympus')


def test_iso_utc_times():
    assert iso_to_utc({'t': '2026-11-20T07:31:00.120000Z'}, 't') \
        == '2026-11-20 07:31:00'
    assert iso_to_utc({'t': None}, 't', allow_none=True) is False
    with pytest.raises(MappingError, match='UTC time like'):
        iso_to_utc({'t': '2026-11-20 07:31:00'}, 't')
