# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import _, api, models
from odoo.addons.queue_job.job import job, related_action

from ...components.core import RETRY_PATTERN, job_errors


class CoffeeBindingExport(models.AbstractModel):
    """The export jobs of every binding."""

    _inherit = 'coffee.binding'

    @job(default_channel='root.coffee', retry_pattern=RETRY_PATTERN)
    @related_action(action='related_action_unwrap_binding')
    @api.multi
    def export_record(self, fields=None):
        """Send the binding's values to its machine (only the Odoo
        ``fields`` given, when given); create it there when it has no
        machine id yet."""
        self.ensure_one()
        with job_errors(), self.backend_id.work_on(self._name) as work:
            exporter = work.component(usage='record.exporter')
            return exporter.run(self, fields=fields)

    @job(default_channel='root.coffee', retry_pattern=RETRY_PATTERN)
    @related_action(action='related_action_coffee_backend')
    @api.model
    def export_delete(self, backend, external_id):
        """Delete the record ``external_id`` from the machine."""
        with job_errors(), backend.work_on(self._name) as work:
            deleter = work.component(usage='record.exporter.deleter')
            return deleter.run(external_id) or _('Deleted')
