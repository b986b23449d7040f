# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import re

from odoo.addons.component.core import Component

from ...protocol import CoffeeNotFound

# a card number: 1 to 10 digits, leading zeros significant
CARD_NO = re.compile(r'^[0-9]{1,10}$')


class Coffee1900ConsumerAdapter(Component):
    """1900 cards: the card number is the id."""

    _name = 'coffee.1900.res.partner.adapter'
    _inherit = 'coffee.1900.adapter'
    _apply_on = 'coffee.res.partner'
    _resource = 'cards'
    _id_field = 'card_no'

    def id_of(self, record):
        """Only a text of digits is a card number.

        A number (42) cannot tell card "42" from card "00042": such a
        record has no usable id rather than the id of another card.
        """
        value = record.get(self._id_field) if isinstance(record, dict) \
            else None
        if isinstance(value, str) and CARD_NO.match(value):
            return value
        return None

    def read(self, external_id):  # pylint: disable=method-required-super
        """The card, or a tombstone when the machine does not know it:
        a removed card is unknown from then on."""
        try:
            return self.client.get_card(external_id)
        except CoffeeNotFound:
            return {self._id_field: external_id, 'deleted': True}

    def listed_ids(self):
        """``(card numbers, count of unreadable records)`` of a full
        listing of the machine's cards."""
        card_nos, unreadable = set(), 0
        for record in self.client.iter_records(self._resource):
            card_no = self.id_of(record)
            if card_no is None:
                unreadable += 1
            else:
                card_nos.add(card_no)
        return card_nos, unreadable

    def exists(self, external_id):
        """Whether the machine still has the card (one request)."""
        return not self.read(external_id).get('deleted')

    def write_changes(self, external_id, values, etag=None):
        """``PUT /cards/<no>``."""
        return self.client.update_card(external_id, values), None

    def create_on_machine(self, values):
        """``POST /cards``."""
        return self.client.create_card(values)

    def delete_on_machine(self, external_id):
        """``DELETE /cards/<no>``."""
        self.client.delete_card(external_id)


class Coffee2900ConsumerAdapter(Component):
    """2900 consumers, tombstones of deleted ones included."""

    _name = 'coffee.2900.res.partner.adapter'
    _inherit = 'coffee.2900.adapter'
    _apply_on = 'coffee.res.partner'
    _resource = 'consumers'
    _include_deleted = True

    def read(self, external_id):
        """The consumer, or a tombstone when the machine does not know it
        (a webhook of a deletion asks for the deleted consumer)."""
        try:
            return super(Coffee2900ConsumerAdapter, self).read(external_id)
        except CoffeeNotFound:
            return {self._id_field: external_id, 'deleted': True}

    def create_on_machine(self, values):
        """``POST /consumers``."""
        return self.client.create_consumer(values)

    def delete_on_machine(self, external_id):
        """``DELETE /consumers/<id>``."""
        self.client.delete_consumer(external_id)
