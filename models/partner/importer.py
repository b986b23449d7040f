# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import logging

from odoo import _

from odoo.addons.component.core import Component

_logger = logging.getLogger(__name__)


class CoffeeConsumerImporter(Component):
    """One consumer, for both versions.

    A deleted consumer (2900 tombstone) archives its binding, and its
    partner unless another machine still binds it; a consumer that comes
    back reactivates both. A company consumer without a VAT number asks a
    person for a review of its partner.
    """

    _name = 'coffee.res.partner.importer'
    _inherit = 'coffee.importer'
    _apply_on = 'coffee.res.partner'

    def _must_skip(self, binding):
        # an archived binding whose record is back is never up to date
        if binding and not binding.active:
            return False
        return super(CoffeeConsumerImporter, self)._must_skip(binding)

    def _import_deleted(self, binding):
        binding._coffee_removed()
        return binding

    def _after_import(self, binding):
        result = super(CoffeeConsumerImporter, self)._after_import(binding)
        binding._coffee_back()
        self._check_vat(binding)
        return result

    def _check_vat(self, binding):
        """A company consumer without a VAT number: ask for a review.

        ``add_checkpoint`` posts it once while it waits for review.
        """
        partner = binding.odoo_id
        company = partner.company_name or (partner.is_company and partner.name)
        if not company or partner.vat:
            return
        message = _('Consumer %(badge)s of %(machine)s belongs to the '
                    'company %(company)s, which has no VAT number on the '
                    'machine.') % {'badge': binding.badge,
                                   'machine': self.backend_record.name,
                                   'company': company}
        self.backend_record.add_checkpoint(
            model='res.partner', record_id=partner.id, message=message)


class Coffee1900ConsumerBatchImporter(Component):
    """1900 cards; a full listing then looks for the removed ones."""

    _name = 'coffee.1900.res.partner.batch.importer'
    _inherit = 'coffee.batch.importer'
    _apply_on = 'coffee.res.partner'
    _coffee_version = '1900'

    def _after_last_page(self, full):
        result = super(Coffee1900ConsumerBatchImporter,
                       self)._after_last_page(full)
        if full:
            self.model.with_delay(
                description=_('Archive the consumers removed from %s')
                % self.backend_record.name,
            ).import_removed(self.backend_record)
        return result


class Coffee2900ConsumerBatchImporter(Component):
    """2900 consumers: deletions come in the listing as tombstones."""

    _name = 'coffee.2900.res.partner.batch.importer'
    _inherit = 'coffee.batch.importer'
    _apply_on = 'coffee.res.partner'
    _coffee_version = '2900'


class Coffee1900ConsumerRemovedImporter(Component):
    """Cards removed from a 1900, found by comparing a full listing.

    The 1900 says nothing when a card is removed. A card bound in Odoo
    that the listing lacks is asked for once more by its number (the
    listing is paged by change time, so a card changed during the walk
    can move past a page boundary and be missed): only a "not found"
    archives it.
    """

    _name = 'coffee.1900.res.partner.removed.importer'
    _inherit = ['base.importer', 'base.coffee.connector']
    _apply_on = 'coffee.res.partner'
    _usage = 'removed.importer'
    _coffee_version = '1900'

    def run(self):
        adapter = self.backend_adapter
        listed, unreadable = adapter.listed_ids()
        bindings = self.model.search(
            [('backend_id', '=', self.backend_record.id)])
        missing = bindings.filtered(lambda b: b.coffee_id not in listed)
        removed = missing.filtered(lambda b: not adapter.exists(b.coffee_id))
        removed._coffee_removed()
        _logger.info('%s: %d cards listed, %d removed', self.backend_record.name,
                     len(listed), len(removed))
        message = _('%(listed)d cards on the machine, %(removed)d '
                    'removed: %(cards)s') % {
            'listed': len(listed), 'removed': len(removed),
            'cards': ', '.join(removed.mapped('coffee_id')) or _('none')}
        if unreadable:
            message += _(' (%d records without a readable card number)') \
                % unreadable
        return message
