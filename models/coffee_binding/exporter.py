# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import _, api, models
from odoo.exceptions import UserError

from odoo.addons.queue_job.job import job, related_action

from ...components.core import COFFEE_CHANNEL, RETRY_PATTERN, job_errors


class CoffeeBindingExport(models.AbstractModel):
    """The export jobs of every binding."""

    _inherit = 'coffee.binding'

    @api.multi
    def _check_may_export(self, fields=None):
        """Who may change the bound Odoo record may send it to its machine.

        The values of the binding itself (a consumer's ``blocked``; every
        value when no ``fields`` are given, as when a record is created on
        the machine) need the right to change the binding too. Checked when
        the export is queued and again when it runs, as the user who queued
        it; the export's own writes are the connector's.
        """
        for binding in self:
            binding.check_access_rights('read')
            binding.check_access_rule('read')
            record = binding.odoo_id if 'odoo_id' in binding._fields \
                else binding
            record.check_access_rights('write')
            record.check_access_rule('write')
            if record._name != binding._name and (
                    not fields or set(fields) - set(record._fields)):
                binding.check_access_rights('write')
                binding.check_access_rule('write')

    @job(default_channel=COFFEE_CHANNEL, retry_pattern=RETRY_PATTERN)
    @related_action(action='related_action_unwrap_binding')
    @api.multi
    def export_record(self, fields=None):
        """Send the binding's values to its machine (only the Odoo
        ``fields`` given, when given); create it there when it has no
        machine id yet."""
        self.ensure_one()
        self._check_may_export(fields)
        binding = self.sudo()
        backend = binding.backend_id
        with job_errors(backend), backend.work_on(self._name) as work:
            exporter = work.component(usage='record.exporter')
            return exporter.run(binding, fields=fields)

    @job(default_channel=COFFEE_CHANNEL, retry_pattern=RETRY_PATTERN)
    @related_action(action='related_action_coffee_backend')
    @api.model
    def export_delete(self, backend, external_id):
        """Delete the record ``external_id`` from the machine: that of a
        binding the user may change (and archived)."""
        backend = self.env['coffee.backend'].browse(
            backend.ids if isinstance(backend, models.BaseModel) else backend)
        backend.check_access_rule('read')
        binding = self.with_context(active_test=False).search(
            [('backend_id', '=', backend.id),
             ('coffee_id', '=', external_id)], limit=1)
        if not binding:
            raise UserError(
                _('%s is not a record Odoo knows on this machine: it is not '
                  'deleted.') % external_id)
        binding._check_may_export()
        backend = backend.sudo()
        with job_errors(backend), backend.work_on(self._name) as work:
            deleter = work.component(usage='record.exporter.deleter')
            return deleter.run(external_id) or _('Deleted')
