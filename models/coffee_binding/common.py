# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import _, api, fields, models

from odoo.addons.connector.exception import InvalidDataError
from odoo.addons.queue_job.job import job, related_action

from ...components.core import (
    COFFEE_CHANNEL,
    RETRY_PATTERN,
    job_errors,
    record_savepoint,
)


class CoffeeBinding(models.AbstractModel):
    """A record of Odoo as it is known on one coffee machine."""

    _name = 'coffee.binding'
    _inherit = 'external.binding'
    _description = 'Coffee Binding (abstract)'

    backend_id = fields.Many2one(
        comodel_name='coffee.backend',
        string='Coffee Machine',
        required=True,
        readonly=True,
        ondelete='restrict',
    )
    # text, not a number: "0" and "00" are two different cards
    coffee_id = fields.Char(string='ID on the Machine', readonly=True,
                            index=True)
    coffee_updated_at = fields.Char(
        string='Changed on the Machine',
        readonly=True,
        help="The machine's timestamp of the version last imported, as the "
             "machine wrote it.",
    )
    # the binding's own flag: it must not archive the bound record
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ('coffee_uniq', 'unique(backend_id, coffee_id)',
         'A binding already exists with the same machine ID.'),
    ]

    @job(default_channel=COFFEE_CHANNEL, retry_pattern=RETRY_PATTERN)
    @related_action(action='related_action_coffee_backend')
    @api.model
    def import_batch(self, backend, state=None, full=False):
        """Import one chunk of the machine's records (a page or a few)
        from ``state`` and queue the job of the next chunk; without
        ``state`` a run starts from the watermark, or from scratch when
        ``full``."""
        backend = self.env['coffee.backend']._coffee_for_sync(backend)
        with job_errors(backend), backend.work_on(self._name) as work:
            importer = work.component(usage='batch.importer')
            return importer.run(state=state, full=full)

    @job(default_channel=COFFEE_CHANNEL, retry_pattern=RETRY_PATTERN)
    @related_action(action='related_action_coffee_record')
    @api.model
    def import_record(self, backend, external_id, force=False):
        """Import one record from the machine by its id.

        A record the database refuses becomes a checkpoint (its retries
        would be refused the same); one created meanwhile by another job is
        retried.
        """
        record_name = '%s %s' % (self._description, external_id)
        backend = self.env['coffee.backend']._coffee_for_sync(backend)
        with job_errors(backend), backend.work_on(self._name) as work:
            importer = work.component(usage='record.importer')
            try:
                with record_savepoint(self.env.cr, record_name):
                    binding = importer.run(external_id, force=force)
            except InvalidDataError as err:
                message = _('%(record)s of %(machine)s could not be '
                            'imported: %(reason)s') % {
                                'record': record_name,
                                'machine': backend.name, 'reason': err}
                backend.add_checkpoint(message=message)
                return message
            return _('Imported %s') % (binding.display_name or external_id)
