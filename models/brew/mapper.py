# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Machine brews -> coffee.brew values, one mapper per version."""
from odoo.addons.component.core import AbstractComponent, Component
from odoo.addons.connector.components.mapper import mapping
from odoo.addons.connector.exception import MappingError

from ...components.mapper import (
    cents_to_amount,
    field,
    iso_to_utc,
    local_to_utc,
    money_to_amount,
    text,
)

BEVERAGE_MODEL = 'coffee.product.product'
CONSUMER_MODEL = 'coffee.res.partner'

MAX_CARD_NO_LENGTH = 10
MAX_ID_LENGTH = 64


def dependency_cache(component):
    """Odoo ids of the beverages and consumers met during one work.

    A page holds hundreds of brews of a few beverages and consumers: each
    is looked up (or imported) once per job, not once per brew. The cache
    lives on the work context, which lives as long as the job; its keys
    are ``(binding model, machine id)`` and its values an Odoo id, or 0
    when it is known that nothing is bound to that id (the machine does
    not know it, or the brews come from a file and are not fetched).
    The key ``('name', model, id)`` holds the record's name.
    """
    work = component.work
    cache = getattr(work, '_coffee_dependencies', None)
    if cache is None:
        cache = work._coffee_dependencies = {}
    return cache


def _reference(record, key, max_length):
    """A machine id a brew points to: a non-empty text, or None."""
    value = text(record, key, max_length=max_length, allow_none=True)
    if value is False and record.get(key) is not None:
        raise MappingError('field %r is empty' % key)
    return value or None


class CoffeeBrewImportMapper(AbstractComponent):
    """What both versions say alike of a brew."""

    _name = 'coffee.brew.import.mapper'
    _inherit = 'coffee.import.mapper'
    _apply_on = 'coffee.brew'

    _beverage_field = None  # key of the beverage's id in a brew
    _consumer_field = None  # key of the consumer's id in a brew
    _states = {}  # machine status -> state of the brew
    _state_field = None

    def beverage_ref(self, record):
        """The machine id of the brew's beverage (checked), as text."""
        raise NotImplementedError

    def consumer_ref(self, record):
        """The machine id of the brew's consumer (checked), or None."""
        raise NotImplementedError

    def dependency(self, binding_model, external_id):
        """The Odoo record bound to ``external_id`` (empty if unknown)."""
        cache = dependency_cache(self)
        key = (binding_model, external_id)
        model = self.env[binding_model]
        odoo_model = self.env[model._fields['odoo_id'].comodel_name]
        if key not in cache:
            binder = self.binder_for(binding_model)
            found = binder.to_internal(external_id, unwrap=True).id
            if not found:
                # the importer may still import it
                return odoo_model.browse()
            cache[key] = found
        return odoo_model.browse(cache[key] or [])

    def state_of(self, record):
        status = field(record, self._state_field, str)
        if status not in self._states:
            raise MappingError('field %r is %r, expected one of %s' % (
                self._state_field, status[:40],
                ', '.join(sorted(self._states))))
        return self._states[status]

    @mapping
    def beverage(self, record):
        ref = self.beverage_ref(record)
        product = self.dependency(BEVERAGE_MODEL, ref)
        if not product:
            raise MappingError('field %r is %r, a beverage that is not '
                               'imported' % (self._beverage_field, ref))
        return {'product_id': product.id}

    @mapping
    def consumer(self, record):
        ref = self.consumer_ref(record)
        partner = self.dependency(CONSUMER_MODEL, ref) if ref else None
        return {'partner_id': partner.id if partner else False,
                'consumer_ref': ref or False}

    @mapping
    def state(self, record):
        return {'state': self.state_of(record)}

    @mapping
    def company(self, record):
        return {'company_id': self.backend_record.company_id.id}

    def name_of(self, record):
        """The name of a beverage or consumer, read once per job."""
        if not record:
            return False
        cache = dependency_cache(self)
        key = ('name', record._name, record.id)
        if key not in cache:
            cache[key] = record.name
        return cache[key]

    def finalize(self, map_record, values):
        values = super(CoffeeBrewImportMapper, self).finalize(
            map_record, values)
        brews = self.env['coffee.brew']
        values['name'] = brews._brew_name(
            self.name_of(self.env['product.product'].browse(
                values.get('product_id'))),
            self.name_of(self.env['res.partner'].browse(
                values.get('partner_id'))),
            values.get('consumer_ref'), values.get('date_start'),
            self.backend_record.machine_timezone)
        return values


class Coffee1900BrewImportMapper(Component):
    """A 1900 log entry: integer drink, card number, cents, local time."""

    _name = 'coffee.1900.brew.import.mapper'
    _inherit = 'coffee.brew.import.mapper'
    _coffee_version = '1900'

    _beverage_field = 'drink_no'
    _consumer_field = 'card_no'
    _state_field = 'result'
    _states = {'ok': 'done', 'aborted': 'cancelled', 'running': 'running'}

    def beverage_ref(self, record):
        drink_no = field(record, 'drink_no', int)
        if drink_no < 0:
            raise MappingError("field 'drink_no' is %r, expected 0 or more"
                               % drink_no)
        return str(drink_no)

    def consumer_ref(self, record):
        card_no = _reference(record, 'card_no', MAX_CARD_NO_LENGTH)
        if card_no is not None and not card_no.isdigit():
            raise MappingError("field 'card_no' is %r, expected 1 to %d "
                               "digits" % (card_no, MAX_CARD_NO_LENGTH))
        return card_no

    @mapping
    def price(self, record):
        self._check_machine_currency()
        return {'price': cents_to_amount(record, 'price_cents')}

    @mapping
    def times(self, record):
        # ts is the entry's last change: when a cup ends, or started
        moment = local_to_utc(record, 'ts',
                              self.backend_record.machine_timezone)
        running = self.state_of(record) == 'running'
        return {'date_start': moment,
                'date_end': False if running else moment}


class Coffee2900BrewImportMapper(Component):
    """A 2900 brew: opaque ids, money object, UTC start and end."""

    _name = 'coffee.2900.brew.import.mapper'
    _inherit = 'coffee.brew.import.mapper'
    _coffee_version = '2900'

    _beverage_field = 'beverage_id'
    _consumer_field = 'consumer_id'
    _state_field = 'status'
    _states = {'running': 'running', 'completed': 'done',
               'cancelled': 'cancelled', 'failed': 'failed'}

    def beverage_ref(self, record):
        ref = _reference(record, 'beverage_id', MAX_ID_LENGTH)
        if ref is None:
            raise MappingError("field 'beverage_id' is null")
        return ref

    def consumer_ref(self, record):
        return _reference(record, 'consumer_id', MAX_ID_LENGTH)

    @mapping
    def price(self, record):
        currency = self.backend_record.company_id.currency_id.name
        return {'price': money_to_amount(record, 'price', currency)}

    @mapping
    def times(self, record):
        # the brew's version: checked, though the importer keeps it as text
        iso_to_utc(record, 'updated_at')
        start = iso_to_utc(record, 'started_at')
        end = iso_to_utc(record, 'finished_at', allow_none=True)
        if self.state_of(record) == 'running':
            end = False
        elif end and end < start:
            raise MappingError("field 'finished_at' is before 'started_at'")
        return {'date_start': start, 'date_end': end}
