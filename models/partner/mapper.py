# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Consumers (1900: cards) -> partners, and back (the export section at the
end).

The shape of the partner
------------------------
The machine knows a consumer by a free-text holder name and, for some, a
free-text company name and a VAT number. It has no identity for the
company itself, so the import never creates nor guesses a parent company
(two cards saying "Grind & Co BV" may or may not be the same customer;
matching companies by name is a person's decision):

- no company: a person partner named after the holder;
- a company and no holder name, or a holder name equal to the company
  name (case and surrounding spaces ignored): the card belongs to the
  company itself, a *company* partner (``is_company``) named after the
  company, with its VAT number;
- a company and another holder name: a *person* partner named after the
  holder, with the company in ``company_name`` (Odoo's "Create company"
  button turns it into a parent company later) and the VAT number on the
  partner, the one to invoice until a parent company exists;
- neither a holder nor a company: a person partner named "Badge <badge>".

A consumer with a company and no VAT number is imported anyway; the
importer asks a person to review it (a record checkpoint).

Texts the machine leaves empty ('' on the 1900, null on the 2900) clear
the partner's value.
"""
from odoo import _

from odoo.addons.component.core import AbstractComponent, Component
from odoo.addons.connector.components.mapper import changed_by, mapping, only_create
from odoo.addons.connector.exception import MappingError

from ...components.mapper import (
    cents_to_amount,
    field,
    money_to_amount,
    text,
    text_or_empty,
    text_or_none,
)
from .adapter import CARD_NO

NAME_LENGTH = 255
EMAIL_LENGTH = 254
VAT_LENGTH = 32


def partner_values(badge, name, email, company, vat):
    """The partner of a consumer (see the module's docstring).

    ``name``, ``email``, ``company`` and ``vat`` are texts or False.
    """
    name = (name or '').strip() or False
    company = (company or '').strip() or False
    values = {'email': email or False, 'vat': vat or False}
    company_card = company and (
        not name or name.lower() == company.lower())
    if company_card:
        values.update(name=company, is_company=True, company_name=False)
    else:
        values.update(name=name or _('Badge %s') % badge, is_company=False,
                      company_name=company)
    return values


def badge_of(record, key):
    """A card number: a text of 1 to 10 digits, leading zeros kept."""
    badge = field(record, key, str)
    if not CARD_NO.match(badge):
        raise MappingError('field %r is %r, expected 1 to 10 digits'
                           % (key, badge[:40]))
    return badge


class CoffeeConsumerImportMapper(AbstractComponent):
    """What both versions make alike of a consumer.

    The versions only say where each value is (``_texts``, ``_badge``,
    ``_credit``, ``_blocked``). The time of the last change is the
    importer's to check.
    """

    _name = 'coffee.res.partner.import.mapper'
    _inherit = 'coffee.import.mapper'
    _apply_on = 'coffee.res.partner'

    @mapping
    def partner(self, record):
        badge = self._badge(record)
        name, email, company, vat = self._texts(record)
        return partner_values(badge, name, email, company, vat)

    @mapping
    def card(self, record):
        return {
            'badge': self._badge(record),
            'credit': self._credit(record),
            'blocked': self._blocked(record),
        }

    @only_create
    @mapping
    def partner_defaults(self, record):
        return {
            'customer': True,
            'supplier': False,
            'type': 'contact',
            'company_id': self.backend_record.company_id.id,
        }

    def _badge(self, record):
        raise NotImplementedError

    def _texts(self, record):
        """``(name, email, company, vat)``, texts or False."""
        raise NotImplementedError

    def _credit(self, record):
        raise NotImplementedError

    def _blocked(self, record):
        raise NotImplementedError


class Coffee1900ConsumerImportMapper(Component):
    """A 1900 card: '' means "not set", credit in cents."""

    _name = 'coffee.1900.res.partner.import.mapper'
    _inherit = 'coffee.res.partner.import.mapper'
    _coffee_version = '1900'

    def _badge(self, record):
        return badge_of(record, 'card_no')

    def _texts(self, record):
        return (text(record, 'holder', max_length=NAME_LENGTH),
                text(record, 'email', max_length=EMAIL_LENGTH),
                text(record, 'company', max_length=NAME_LENGTH),
                text(record, 'vat', max_length=VAT_LENGTH))

    def _credit(self, record):
        self._check_machine_currency()
        return cents_to_amount(record, 'credit_cents')

    def _blocked(self, record):
        blocked = field(record, 'blocked', int)
        if blocked not in (0, 1):
            raise MappingError("field 'blocked' is %r, expected 0 or 1"
                               % blocked)
        return bool(blocked)


class Coffee2900ConsumerImportMapper(Component):
    """A 2900 consumer: null means "not set", balance as money."""

    _name = 'coffee.2900.res.partner.import.mapper'
    _inherit = 'coffee.res.partner.import.mapper'
    _coffee_version = '2900'

    def _badge(self, record):
        return badge_of(record, 'badge')

    def _texts(self, record):
        return tuple(
            text(record, key, max_length=length, allow_none=True)
            for key, length in (('name', NAME_LENGTH),
                                ('email', EMAIL_LENGTH),
                                ('company_name', NAME_LENGTH),
                                ('vat', VAT_LENGTH)))

    def _credit(self, record):
        currency = self.backend_record.company_id.currency_id.name
        return money_to_amount(record, 'balance', currency)

    def _blocked(self, record):
        return field(record, 'blocked', bool)


# -- export: partners -> consumers (1900: cards) ------------------------------

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
    """The reverse of the import's partner shape (see the module's
    docstring): a company partner is a card of the company itself (holder
    and company both its name), a person holds the card, with the
    ``company_name`` as company. The credit is the machine's business: it
    is never exported.
    """

    _name = 'coffee.res.partner.export.mapper'
    _inherit = 'coffee.export.mapper'
    _apply_on = 'coffee.res.partner'


class Coffee1900ConsumerExportMapper(Component):
    """A card: '' for "not set", 0/1 for blocked."""

    _name = 'coffee.1900.res.partner.export.mapper'
    _inherit = 'coffee.res.partner.export.mapper'
    _coffee_version = '1900'

    @only_create
    @mapping
    def card_no(self, binding):
        return {'card_no': checked_badge(binding.badge)}

    @changed_by('name', 'is_company')
    @mapping
    def holder(self, binding):
        holder, __ = holder_and_company(binding.odoo_id)
        return {'holder': text_or_empty(holder)}

    @changed_by('name', 'company_name', 'is_company')
    @mapping
    def company(self, binding):
        __, company = holder_and_company(binding.odoo_id)
        return {'company': text_or_empty(company)}

    @changed_by('email')
    @mapping
    def email(self, binding):
        return {'email': text_or_empty(binding.email)}

    @changed_by('vat')
    @mapping
    def vat(self, binding):
        return {'vat': text_or_empty(binding.vat)}

    @changed_by('blocked')
    @mapping
    def blocked(self, binding):
        return {'blocked': 1 if binding.blocked else 0}


class Coffee2900ConsumerExportMapper(Component):
    """A consumer: null for "not set", booleans."""

    _name = 'coffee.2900.res.partner.export.mapper'
    _inherit = 'coffee.res.partner.export.mapper'
    _coffee_version = '2900'

    @only_create
    @mapping
    def badge(self, binding):
        return {'badge': checked_badge(binding.badge)}

    @changed_by('name', 'is_company')
    @mapping
    def name(self, binding):
        holder, __ = holder_and_company(binding.odoo_id)
        return {'name': text_or_none(holder)}

    @changed_by('name', 'company_name', 'is_company')
    @mapping
    def company_name(self, binding):
        __, company = holder_and_company(binding.odoo_id)
        return {'company_name': text_or_none(company)}

    @changed_by('email')
    @mapping
    def email(self, binding):
        return {'email': text_or_none(binding.email)}

    @changed_by('vat')
    @mapping
    def vat(self, binding):
        return {'vat': text_or_none(binding.vat)}

    @changed_by('blocked')
    @mapping
    def blocked(self, binding):
        return {'blocked': bool(binding.blocked)}
