# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo.addons.component.core import AbstractComponent, Component
from odoo.addons.connector.components.mapper import changed_by, mapping, only_create
from odoo.addons.connector.exception import MappingError

from ...components.mapper import (
    amount_to_cents,
    amount_to_money,
    cents_to_amount,
    field,
    money_to_amount,
    text,
)


def _number(record, key, low, high):
    value = field(record, key, int)
    if not low <= value <= high:
        raise MappingError('field %r is %r, expected %d to %d'
                           % (key, value, low, high))
    return value


class CoffeeBeverageImportMapper(AbstractComponent):
    """What both versions say alike of a beverage."""

    _name = 'coffee.product.product.import.mapper'
    _inherit = 'coffee.import.mapper'
    _apply_on = 'coffee.product.product'

    @mapping
    def measures(self, record):
        return {
            'volume_ml': _number(record, 'volume_ml', 0, 10000),
            'strength': _number(record, 'strength', 1, 5),
        }

    @only_create
    @mapping
    def product_defaults(self, record):
        return {
            'type': 'consu',
            'sale_ok': True,
            'purchase_ok': False,
            'company_id': False,
        }


class Coffee1900BeverageImportMapper(Component):
    """A 1900 drink: one label in the machine's language, cents."""

    _name = 'coffee.1900.product.product.import.mapper'
    _inherit = 'coffee.product.product.import.mapper'
    _coffee_version = '1900'

    @mapping
    def name(self, record):
        return {'name': self._label(record)}

    @mapping
    def price(self, record):
        self._check_machine_currency()
        return {'list_price': cents_to_amount(record, 'price_cents')}

    @mapping
    def enabled(self, record):
        enabled = field(record, 'enabled', int)
        if enabled not in (0, 1):
            raise MappingError("field 'enabled' is %r, expected 0 or 1"
                               % enabled)
        return {'machine_enabled': bool(enabled)}

    def translations(self, record):
        language = self.backend_record.machine_language
        if not language:
            return {}
        return {language: {'name': self._label(record)}}

    @staticmethod
    def _label(record):
        label = text(record, 'label', max_length=255)
        if not label:
            raise MappingError("field 'label' is empty")
        return label


class Coffee2900BeverageImportMapper(Component):
    """A 2900 beverage: names in several languages, money objects."""

    _name = 'coffee.2900.product.product.import.mapper'
    _inherit = 'coffee.product.product.import.mapper'
    _coffee_version = '2900'

    @mapping
    def name(self, record):
        names = self._names(record)
        lang = self.env.lang or 'en_US'
        name = names.get(lang) or names.get('en_US') or \
            names[sorted(names)[0]]
        return {'name': name}

    @mapping
    def price(self, record):
        currency = self.backend_record.company_id.currency_id.name
        return {'list_price': money_to_amount(record, 'price', currency)}

    @mapping
    def enabled(self, record):
        return {'machine_enabled': field(record, 'active', bool)}

    def translations(self, record):
        return dict((lang, {'name': name})
                    for lang, name in self._names(record).items())

    @staticmethod
    def _names(record):
        names = field(record, 'name', dict)
        if not names:
            raise MappingError("field 'name' has no translation")
        for lang, name in names.items():
            if not isinstance(name, str) or not name or len(name) > 255:
                raise MappingError("field 'name' has %r for %s, expected a "
                                   "text of 1 to 255 characters"
                                   % (name if not isinstance(name, str)
                                      else name[:40], lang))
        return names


# -- export: products -> beverages (1900: drinks): name, price, enabled -------

# the machine's limit of a name (1900 label, 2900 translation)
NAME_LENGTH = 100


def _template(binding):
    """Where a product's name is read in a given language.

    Odoo 11 caches the name of a ``product.product`` (a field delegated to
    its template) once for every language: read through the variant, the
    first language read would be sent for all of them.
    """
    return binding.odoo_id.product_tmpl_id


def _name(name, lang):
    if not name:
        raise MappingError('the product has no name in %s' % lang)
    if len(name) > NAME_LENGTH:
        raise MappingError('the name in %s has %d characters, the machine '
                           'takes %d at most' % (lang, len(name), NAME_LENGTH))
    return name


class CoffeeBeverageExportMapper(AbstractComponent):
    _name = 'coffee.product.product.export.mapper'
    _inherit = 'coffee.export.mapper'
    _apply_on = 'coffee.product.product'


class Coffee1900BeverageExportMapper(Component):
    """A drink: its label in the machine's language, cents, 0/1."""

    _name = 'coffee.1900.product.product.export.mapper'
    _inherit = 'coffee.product.product.export.mapper'
    _coffee_version = '1900'

    @changed_by('name')
    @mapping
    def label(self, binding):
        lang = self.backend_record.machine_language or self.env.lang
        name = _template(binding).with_context(lang=lang).name
        return {'label': _name(name, lang)}

    @changed_by('list_price')
    @mapping
    def price(self, binding):
        self._check_machine_currency()
        return {'price_cents': amount_to_cents(binding.list_price)}

    @changed_by('active')
    @mapping
    def enabled(self, binding):
        return {'enabled': 1 if binding.odoo_id.active else 0}


class Coffee2900BeverageExportMapper(Component):
    """A beverage: a name per active Odoo language, money, a boolean."""

    _name = 'coffee.2900.product.product.export.mapper'
    _inherit = 'coffee.product.product.export.mapper'
    _coffee_version = '2900'
    _partial_keys = ('name',)

    @changed_by('name')
    @mapping
    def name(self, binding):
        template = _template(binding)
        names = {}
        for lang in self.env['res.lang'].search([]).mapped('code'):
            names[lang] = _name(template.with_context(lang=lang).name, lang)
        return {'name': names}

    @changed_by('list_price')
    @mapping
    def price(self, binding):
        return {'price': amount_to_money(binding.list_price,
                                         self.company_currency())}

    @changed_by('active')
    @mapping
    def active(self, binding):
        return {'active': bool(binding.odoo_id.active)}
