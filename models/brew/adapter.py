# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import datetime

from odoo import _
from odoo.addons.component.core import Component
from odoo.exceptions import UserError

from ...components.mapper import ISO_FORMAT, LOCAL_FORMAT


def _checked_stamp(value, time_format):
    """``value`` when it is a time of ``time_format``, else None.

    A damaged time such as "2026-02-30 25:61:00" must not become the
    import watermark (it would sort after every real time) nor the mark
    that makes the importer skip the record: the record is then imported
    and its mapper says what is wrong with it.
    """
    if not isinstance(value, str):
        return None
    try:
        datetime.datetime.strptime(value, time_format)
    except ValueError:
        return None
    return value


class Coffee1900BrewAdapter(Component):
    """The 1900's log: ``log_no`` entries, ``ts`` is their last change."""

    _name = 'coffee.1900.brew.adapter'
    _inherit = 'coffee.1900.adapter'
    _apply_on = 'coffee.brew'
    _resource = 'log'
    _id_field = 'log_no'
    _timestamp_field = 'ts'

    def timestamp_of(self, record):
        return _checked_stamp(
            super(Coffee1900BrewAdapter, self).timestamp_of(record),
            LOCAL_FORMAT)

    def read(self, external_id):
        raise UserError(
            _('A Coffee 1900 cannot read one log entry (%s): import the '
              'brews of the machine instead.') % external_id)

    def log_csv(self, modified_after=None):
        """The log export as the machine serves it (text)."""
        return self.client.get_log_csv(modified_after=modified_after)


class Coffee2900BrewAdapter(Component):
    _name = 'coffee.2900.brew.adapter'
    _inherit = 'coffee.2900.adapter'
    _apply_on = 'coffee.brew'
    _resource = 'brews'

    def timestamp_of(self, record):
        return _checked_stamp(
            super(Coffee2900BrewAdapter, self).timestamp_of(record),
            ISO_FORMAT)
