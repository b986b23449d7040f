# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Machine brews -> coffee.brew values, one mapper per version."""
from collections import namedtuple
from contextlib import contextmanager

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


Dependency = namedtuple('Dependency', 'odoo_id name')


class BrewDependencies(object):
    """The Odoo records that brews point to, found or imported by the
    importer for the mapper to read (mapping option ``dependencies``).

    A chunk holds hundreds of brews of a few beverages and consumers: each
    is looked up (or imported) once per chunk, not once per brew. An entry
    is keyed by ``(binding model, machine id)`` and holds the bound Odoo
    record's id and name; an id of 0 says that nothing is bound to that
    machine id (the machine does not know it, or the brews come from a
    file and nothing is fetched).
    """

    def __init__(self):
        self._entries = {}

    def get(self, binding_model, external_id):
        """The ``Dependency`` of ``external_id``, None when not known."""
        return self._entries.get((binding_model, external_id))

    def put(self, binding_model, external_id, odoo_id=0, name=False):
        self._entries[(binding_model, external_id)] = Dependency(
            odoo_id or 0, name or False)

    def forget(self, keys):
        for key in keys:
            self._entries.pop(key, None)

    @contextmanager
    def undo_on_failure(self):
        """What is put in the block is forgotten if it fails: the
        savepoint it ran in is rolled back, the ids may not exist."""
        known = set(self._entries)
        try:
            yield
        except Exception:
            self.forget(set(self._entries) - known)
            raise

    def load(self, env, backend, binding_model, external_ids):
        """Look ``external_ids`` up in Odoo, in one query: those bound
        are put (the others may still be imported)."""
        model = env[binding_model].with_context(active_test=False)
        bindings = model.search([('backend_id', '=', backend.id),
                                 ('coffee_id', 'in', sorted(external_ids))])
        # these two columns only, and no name_get of every partner and
        # product (a binding's fields are those of its record too)
        odoo_ids = dict(
            (row['coffee_id'], row['odoo_id'])
            for row in bindings.read(['coffee_id', 'odoo_id'],
                                     load='_classic_write')
            if row['odoo_id'])
        odoo_model = env[model._fields['odoo_id'].comodel_name]
        names = dict((row['id'], row['name']) for row in odoo_model.browse(
            sorted(set(odoo_ids.values()))).read(['name']))
        for external_id, odoo_id in odoo_ids.items():
            self.put(binding_model, external_id, odoo_id, names[odoo_id])


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

    def __init__(self, work_context):
        super(CoffeeBrewImportMapper, self).__init__(work_context)
        self._own_dependencies = None
        self._machine_cache = None

    def _machine(self):
        """What every brew of the machine is mapped with, read once: a
        mapper lives for one job (one chunk of brews), the backend does
        not change meanwhile."""
        if self._machine_cache is None:
            backend = self.backend_record
            try:
                self._check_machine_currency()
                currency_error = None
            except MappingError as err:
                currency_error = str(err)
            self._machine_cache = {
                'company_id': backend.company_id.id,
                'currency': backend.company_id.currency_id.name,
                'currency_error': currency_error,
                'timezone': backend.machine_timezone,
            }
        return self._machine_cache

    def _check_currency(self):
        """``_check_machine_currency`` of the machine, checked once."""
        error = self._machine()['currency_error']
        if error:
            raise MappingError(error)

    def beverage_ref(self, record):
        """The machine id of the brew's beverage (checked), as text."""
        raise NotImplementedError

    def consumer_ref(self, record):
        """The machine id of the brew's consumer (checked), or None."""
        raise NotImplementedError

    def references(self, record):
        """``(binding model, machine id)`` of what the brew points to."""
        refs = [(BEVERAGE_MODEL, self.beverage_ref(record))]
        consumer_ref = self.consumer_ref(record)
        if consumer_ref:
            refs.append((CONSUMER_MODEL, consumer_ref))
        return refs

    def _dependencies(self, record):
        """The importer's ``BrewDependencies`` (mapping option
        ``dependencies``). A mapper used alone (a test, the bench's ORM
        floor) looks up what the record points to in a lookup of its own,
        kept as long as the mapper."""
        dependencies = self.options.dependencies
        if dependencies is not None:
            return dependencies
        if self._own_dependencies is None:
            self._own_dependencies = BrewDependencies()
        dependencies = self._own_dependencies
        for binding_model, ref_of in ((BEVERAGE_MODEL, self.beverage_ref),
                                      (CONSUMER_MODEL, self.consumer_ref)):
            try:
                ref = ref_of(record)
            except MappingError:
                continue  # the mapping of the bad field says why
            if ref and dependencies.get(binding_model, ref) is None:
                dependencies.load(self.env, self.backend_record,
                                  binding_model, [ref])
        return dependencies

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
        product = self._dependencies(record).get(BEVERAGE_MODEL, ref)
        if not (product and product.odoo_id):
            raise MappingError('field %r is %r, a beverage that is not '
                               'imported' % (self._beverage_field, ref))
        return {'product_id': product.odoo_id}

    @mapping
    def consumer(self, record):
        ref = self.consumer_ref(record)
        partner = self._dependencies(record).get(CONSUMER_MODEL, ref) \
            if ref else None
        return {'partner_id': partner.odoo_id or False if partner else False,
                'consumer_ref': ref or False}

    @mapping
    def state(self, record):
        return {'state': self.state_of(record)}

    @mapping
    def company(self, record):
        return {'company_id': self._machine()['company_id']}

    def finalize(self, map_record, values):
        values = super(CoffeeBrewImportMapper, self).finalize(
            map_record, values)
        dependencies = self._dependencies(map_record.source)
        beverage = dependencies.get(BEVERAGE_MODEL,
                                    self.beverage_ref(map_record.source))
        consumer_ref = values.get('consumer_ref')
        consumer = dependencies.get(CONSUMER_MODEL, consumer_ref) \
            if consumer_ref else None
        values['name'] = self.env['coffee.brew']._brew_name(
            beverage.name if beverage else False,
            consumer.name if consumer else False,
            consumer_ref, values.get('date_start'),
            self._machine()['timezone'])
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
        self._check_currency()
        return {'price': cents_to_amount(record, 'price_cents')}

    @mapping
    def times(self, record):
        # ts is the entry's last change: when a cup ends, or started
        moment = local_to_utc(record, 'ts', self._machine()['timezone'])
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
        return {'price': money_to_amount(record, 'price',
                                         self._machine()['currency'])}

    @mapping
    def times(self, record):
        start = iso_to_utc(record, 'started_at')
        end = iso_to_utc(record, 'finished_at', allow_none=True)
        if self.state_of(record) == 'running':
            end = False
        elif end and end < start:
            raise MappingError("field 'finished_at' is before 'started_at'")
        return {'date_start': start, 'date_end': end}
