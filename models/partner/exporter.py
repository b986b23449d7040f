# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Partners -> consumers (1900: cards).

The reverse of the import's partner shape (see ``mapper.py``): a company
partner is a card of the company itself (holder and company both its
name), a person holds the card, with the ``company_name`` as company.
The credit is the machine's business: it is never exported.
"""
from odoo import _

from odoo.addons.component.core import AbstractComponent, Component
from odoo.addons.connector.components.mapper import mapping, only_create
from odoo.addons.connector.exception import MappingError

from ...components.exporter import text_or_empty, text_or_none
from .adapter import CARD_NO


def holder_and_company(partner):
    """``(holder, company)`` texts or False of a partner."""
    if partner.is_company:
        return partner.name, partner.name
    return partner.name, partner.company_name or False


def checked_badge(badge):
    if not isinstance(badge, str) or not CARD_NO.match(badge):
        raise MappingError('the badge is %r, expected 1 to 10 digits'
                           % (badge,))
    return badge


class CoffeeConsumerExportMapper(AbstractComponent):
    _name = 'coffee.res.partner.export.mapper'
    _inherit = 'coffee.export.mapper'
    _apply_on = 'coffee.res.partner'


class Coffee1900ConsumerExportMapper(Component):
    """A card: '' for "not set", 0/1 for blocked."""

    _name = 'coffee.1900.res.partner.export.mapper'
    _inherit = 'coffee.res.partner.export.mapper'
    _coffee_version = '1900'
    _field_keys = {
        'name': ('holder', 'company'),
        'company_name': ('company',),
        'is_company': ('holder', 'company'),
        'email': ('email',),
        'vat': ('vat',),
        'blocked': ('blocked',),
    }

    @only_create
    @mapping
    def card_no(self, binding):
        return {'card_no': checked_badge(binding.badge)}

    @mapping
    def texts(self, binding):
        holder, company = holder_and_company(binding.odoo_id)
        return {
            'holder': text_or_empty(holder),
            'company': text_or_empty(company),
            'email': text_or_empty(binding.email),
            'vat': text_or_empty(binding.vat),
        }

    @mapping
    def blocked(self, binding):
        return {'blocked': 1 if binding.blocked else 0}


class Coffee2900ConsumerExportMapper(Component):
    """A consumer: null for "not set", booleans."""

    _name = 'coffee.2900.res.partner.export.mapper'
    _inherit = 'coffee.res.partner.export.mapper'
    _coffee_version = '2900'
    _field_keys = {
        'name': ('name', 'company_name'),
        'company_name': ('company_name',),
        'is_company': ('name', 'company_name'),
        'email': ('email',),
        'vat': ('vat',),
        'blocked': ('blocked',),
    }

    @only_create
    @mapping
    def badge(self, binding):
        return {'badge': checked_badge(binding.badge)}

    @mapping
    def texts(self, binding):
        holder, company = holder_and_company(binding.odoo_id)
        return {
            'name': text_or_none(holder),
            'company_name': text_or_none(company),
            'email': text_or_none(binding.email),
            'vat': text_or_none(binding.vat),
        }

    @mapping
    def blocked(self, binding):
        return {'blocked': bool(binding.blocked)}


class CoffeeConsumerExporter(Component):
    _name = 'coffee.res.partner.exporter'
    _inherit = 'coffee.exporter'
    _apply_on = 'coffee.res.partner'

    def _conflict_message(self, values, error):
        return _('The badge %(badge)s already exists on %(machine)s: '
                 'import the consumers to bind it, or choose another '
                 'badge (%(reason)s).') % {
            'badge': self.binding.badge,
            'machine': self.backend_record.name,
            'reason': error}
