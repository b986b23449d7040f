# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Import and export mappers and the pure conversions they are made of.

A machine record is untrusted input: every value is checked for its type
and range, and a wrong one raises ``MappingError`` naming the field, so
that the importer can say which record and which field was wrong.
"""
import datetime
import re
from decimal import ROUND_HALF_UP, Decimal

import pytz

from odoo import fields

from odoo.addons.component.core import AbstractComponent
from odoo.addons.connector.components.mapper import mapping
from odoo.addons.connector.exception import MappingError

from ..protocol import TIMESTAMP_FORMAT_1900, TIMESTAMP_FORMAT_2900

AMOUNT = re.compile(r'^-?\d{1,9}\.\d\d$')


def field(record, key, kind, allow_none=False):
    """``record[key]``, which must be of ``kind`` (a type or a tuple)."""
    if not isinstance(record, dict):
        raise MappingError('the record is not an object')
    if key not in record:
        raise MappingError('field %r is missing' % key)
    value = record[key]
    if value is None and allow_none:
        return None
    # bool is an int for Python, never for the machine
    if isinstance(value, bool) and kind is not bool:
        raise MappingError('field %r is %r, expected %s'
                           % (key, value, _kind_name(kind)))
    if not isinstance(value, kind):
        raise MappingError('field %r is %s, expected %s'
                           % (key, _short(value), _kind_name(kind)))
    return value


def text(record, key, max_length=None, allow_none=False):
    """A text field; '' and None both mean "not set" and give False."""
    value = field(record, key, str, allow_none=allow_none)
    if max_length and value and len(value) > max_length:
        raise MappingError('field %r is %d characters long, at most %d '
                           'expected' % (key, len(value), max_length))
    return value or False


def cents_to_amount(record, key):
    """1900 prices: a whole number of cents >= 0, as a decimal amount."""
    cents = field(record, key, int)
    if cents < 0:
        raise MappingError('field %r is %r, expected 0 or more' % (key, cents))
    return float(Decimal(cents) / 100)


def money_to_amount(record, key, currency):
    """2900 money objects: ``{"amount": "1.20", "currency": "EUR"}``.

    The amount must be in ``currency`` (the company's): there is no
    conversion on import, a price in another currency is an error.
    """
    money = field(record, key, dict)
    amount = money.get('amount')
    if not isinstance(amount, str) or not AMOUNT.match(amount):
        raise MappingError('field %r has amount %s, expected a decimal '
                           'text with two decimals' % (key, _short(amount)))
    if money.get('currency') != currency:
        raise MappingError('field %r is in %s, the company works in %s'
                           % (key, _short(money.get('currency')), currency))
    return float(Decimal(amount))


def local_to_utc(record, key, timezone, allow_none=False):
    """1900 times: naive local machine time -> Odoo's UTC datetime text."""
    value = field(record, key, str, allow_none=allow_none)
    if value is None:
        return False
    try:
        moment = datetime.datetime.strptime(value, TIMESTAMP_FORMAT_1900)
    except ValueError:
        raise MappingError('field %r is %s, expected a time like '
                           '2026-11-20 08:31:00' % (key, _short(value)))
    try:
        zone = pytz.timezone(timezone or 'UTC')
    except pytz.UnknownTimeZoneError:
        raise MappingError('the machine time zone %r is unknown' % timezone)
    # a time in the repeated hour of autumn is read as the first one
    moment = zone.localize(moment, is_dst=True).astimezone(pytz.utc)
    return fields.Datetime.to_string(moment.replace(tzinfo=None))


def iso_to_utc(record, key, allow_none=False):
    """2900 times: ISO-8601 UTC with microseconds -> Odoo's datetime text."""
    value = field(record, key, str, allow_none=allow_none)
    if value is None:
        return False
    try:
        moment = datetime.datetime.strptime(value, TIMESTAMP_FORMAT_2900)
    except ValueError:
        raise MappingError('field %r is %s, expected a UTC time like '
                           '2026-11-20T07:31:00.120000Z'
                           % (key, _short(value)))
    return fields.Datetime.to_string(moment)


def _kind_name(kind):
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: 'a text', int: 'a whole number', bool: 'true or false',
             dict: 'an object', list: 'a list', float: 'a number'}
    return ' or '.join(names.get(k, k.__name__) for k in kinds)


def _short(value, limit=40):
    """A value as it can be quoted in a message (10 kB texts exist)."""
    text_value = repr(value)
    if len(text_value) > limit:
        text_value = text_value[:limit] + '...'
    return text_value


class CoffeeImportMapper(AbstractComponent):
    """Machine record -> values of a binding."""

    _name = 'coffee.import.mapper'
    _inherit = ['base.coffee.connector', 'base.import.mapper']
    _usage = 'import.mapper'

    @mapping
    def backend_id(self, record):
        return {'backend_id': self.backend_record.id}

    def translations(self, record):
        """Translated values by language code: ``{'fr_FR': {...}}``."""
        return {}


# -- export: binding -> values of the machine's record ------------------------

CENT = Decimal('0.01')


def to_decimal(value, name):
    """An Odoo amount (a float) as a Decimal of two decimals, >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MappingError('%s is %r, expected a number' % (name, value))
    amount = Decimal(repr(float(value))).quantize(CENT, ROUND_HALF_UP)
    if amount < 0:
        raise MappingError('%s is %s, a machine price is 0 or more'
                           % (name, amount))
    return amount


def amount_to_cents(value, name='the price'):
    """1900 money: whole cents (``1.2`` -> ``120``)."""
    return int(to_decimal(value, name) * 100)


def amount_to_money(value, currency, name='the price'):
    """2900 money: ``{"amount": "1.20", "currency": "EUR"}``."""
    if not currency:
        raise MappingError('%s has no currency' % name)
    return {'amount': str(to_decimal(value, name)), 'currency': currency}


def text_or_empty(value):
    """1900 texts: '' means "not set"."""
    return value or ''


def text_or_none(value):
    """2900 texts: null means "not set"."""
    return value or None


class CoffeeExportMapper(AbstractComponent):
    """Binding -> values of the machine's record.

    Each mapping names the Odoo fields it is made of with ``@changed_by``:
    an export of some fields sends only the keys of the mappings they
    change, and a listener queues an export only for the fields some
    mapping is changed by (``changed_by_fields()``). The keys of
    ``_partial_keys`` are objects of translations that the machine merges:
    only the languages that differ are sent.
    """

    _name = 'coffee.export.mapper'
    _inherit = ['base.coffee.connector', 'base.export.mapper']
    _usage = 'export.mapper'

    _partial_keys = ()

    def is_partial(self, key):
        """Whether the machine merges the object ``key`` (translations)."""
        return key in self._partial_keys

    def export_values(self, binding, field_names=None, for_create=False):
        """The machine values of ``binding``: every one for a creation,
        else those of the mappings changed by ``field_names`` (all of them
        when none are given)."""
        return self.map_record(binding).values(
            for_create=for_create,
            fields=None if for_create else field_names)

    def company_currency(self):
        return self.backend_record.company_id.currency_id.name
