# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Products -> beverages (1900: drinks): name, price, enabled."""
from odoo.addons.component.core import AbstractComponent, Component
from odoo.addons.connector.components.mapper import mapping
from odoo.addons.connector.exception import MappingError

from ...components.exporter import amount_to_cents, amount_to_money

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
    _field_keys = {
        'name': ('label',),
        'list_price': ('price_cents',),
        'active': ('enabled',),
    }

    @mapping
    def label(self, binding):
        lang = self.backend_record.machine_language or self.env.lang
        name = _template(binding).with_context(lang=lang).name
        return {'label': _name(name, lang)}

    @mapping
    def price(self, binding):
        self._check_machine_currency()
        return {'price_cents': amount_to_cents(binding.list_price)}

    @mapping
    def enabled(self, binding):
        return {'enabled': 1 if binding.odoo_id.active else 0}


class Coffee2900BeverageExportMapper(Component):
    """A beverage: a name per active Odoo language, money, a boolean."""

    _name = 'coffee.2900.product.product.export.mapper'
    _inherit = 'coffee.product.product.export.mapper'
    _coffee_version = '2900'
    _field_keys = {
        'name': ('name',),
        'list_price': ('price',),
        'active': ('active',),
    }
    _partial_keys = ('name',)

    @mapping
    def name(self, binding):
        template = _template(binding)
        names = {}
        for lang in self.env['res.lang'].search([]).mapped('code'):
            names[lang] = _name(template.with_context(lang=lang).name, lang)
        return {'name': names}

    @mapping
    def price(self, binding):
        return {'price': amount_to_money(binding.list_price,
                                         self.company_currency())}

    @mapping
    def active(self, binding):
        return {'active': bool(binding.odoo_id.active)}


class CoffeeBeverageExporter(Component):
    _name = 'coffee.product.product.exporter'
    _inherit = 'coffee.exporter'
    _apply_on = 'coffee.product.product'
