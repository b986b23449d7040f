# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import _

from odoo.addons.component.core import Component
from odoo.addons.component_event import skip_if


class CoffeePartnerExportListener(Component):
    """A change of a bound partner queues an export per binding."""

    _name = 'coffee.res.partner.export.listener'
    _inherit = 'coffee.export.listener'
    _apply_on = ['res.partner']

    @skip_if(lambda self, record, **kwargs: self.no_connector_export(record))
    def on_record_write(self, record, fields=None):
        self.export_bindings(record.coffee_bind_ids, fields)


class CoffeeConsumerBindingListener(Component):
    """A consumer binding: created by a person, it is created on the
    machine; archived by a person, it is deleted there; blocked or
    unblocked, the machine is told."""

    _name = 'coffee.res.partner.binding.listener'
    _inherit = 'coffee.export.listener'
    _apply_on = ['coffee.res.partner']

    @skip_if(lambda self, record, **kwargs: self.no_connector_export(record))
    def on_record_create(self, record, fields=None):
        if record.active and not record.coffee_id:
            record._check_may_export()
            record.with_delay(
                description=_('Create badge %(badge)s on %(machine)s') % {
                    'badge': record.badge,
                    'machine': record.backend_id.name},
            ).export_record()

    @skip_if(lambda self, record, **kwargs: self.no_connector_export(record))
    def on_record_write(self, record, fields=None):
        if 'active' in (fields or ()) and not record.active:
            if record.coffee_id:
                record._check_may_export()
                record.with_delay(
                    description=_('Delete badge %(badge)s from '
                                  '%(machine)s') % {
                        'badge': record.badge,
                        'machine': record.backend_id.name},
                ).export_delete(record.backend_id, record.coffee_id)
            return
        # the partner's fields, written through the binding, are exported
        # by the partner's listener
        own = [name for name in fields or ()
               if name in record._fields and not record._fields[name].inherited]
        self.export_bindings(record, own)
