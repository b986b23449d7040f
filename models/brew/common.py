# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Brews: the machine's log of cups (1900: log entries, 2900: brews)."""
import base64

import pytz

from odoo import _, api, fields, models

from odoo.addons.component.exception import NoComponentError
from odoo.addons.queue_job.exception import FailedJobError
from odoo.addons.queue_job.job import job, related_action

from ...components.core import COFFEE_CHANNEL, RETRY_PATTERN, job_errors

BREW_STATES = [
    ('running', 'Running'),
    ('done', 'Done'),
    ('cancelled', 'Cancelled'),
    ('failed', 'Failed'),
]


class CoffeeBrew(models.Model):
    """One cup brewed (or not) by a machine.

    A brew exists only on the machine, so the binding is the record: there
    is no Odoo model behind it.
    """

    _name = 'coffee.brew'
    _inherit = 'coffee.binding'
    _description = 'Coffee Brew'
    _order = 'date_start desc, id desc'

    # written by the import (a computed field would cost a recomputation
    # and an UPDATE per brew, and rewrite thousands of brews on a rename)
    name = fields.Char(
        readonly=True,
        help="What was brewed for whom and when (machine time), as it was "
             "when the cup was imported.")
    product_id = fields.Many2one(
        comodel_name='product.product',
        string='Beverage',
        required=True,
        readonly=True,
        ondelete='restrict',
        index=True,
    )
    partner_id = fields.Many2one(
        comodel_name='res.partner',
        string='Consumer',
        readonly=True,
        ondelete='set null',
        index=True,
        help="Empty for an anonymous cup, or when the machine does not know "
             "the consumer any more.",
    )
    consumer_ref = fields.Char(
        string='Consumer on the Machine',
        readonly=True,
        help="The card number (1900) or consumer id (2900) the machine "
             "charged the cup to, kept even when the consumer is unknown.",
    )
    # the machine's company when the cup was imported; a stored related
    # field would cost a read and an UPDATE per brew on import
    company_id = fields.Many2one(
        comodel_name='res.company', string='Company', readonly=True,
        index=True)
    currency_id = fields.Many2one(
        related='backend_id.company_id.currency_id', readonly=True)
    price = fields.Monetary(readonly=True, currency_field='currency_id')
    date_start = fields.Datetime(string='Started', readonly=True, index=True)
    date_end = fields.Datetime(string='Finished', readonly=True)
    state = fields.Selection(
        selection=BREW_STATES, required=True, readonly=True, default='done')

    @api.model
    def _brew_name(self, beverage, consumer, consumer_ref, date_start,
                   timezone):
        """'Espresso for Jane Doe, 2026-11-20 08:31' (machine time)."""
        beverage = beverage or _('Unknown beverage')
        if consumer:
            who = _('%(beverage)s for %(consumer)s') % {
                'beverage': beverage, 'consumer': consumer}
        elif consumer_ref:
            who = _('%(beverage)s for consumer %(ref)s') % {
                'beverage': beverage, 'ref': consumer_ref}
        else:
            who = _('%s (anonymous)') % beverage
        if not date_start:
            return who
        try:
            zone = pytz.timezone(timezone or 'UTC')
        except pytz.UnknownTimeZoneError:
            zone = pytz.utc
        moment = pytz.utc.localize(fields.Datetime.from_string(date_start))
        return '%s, %s' % (
            who, moment.astimezone(zone).strftime('%Y-%m-%d %H:%M'))

    # -- log file of the 1900 ---------------------------------------------

    @job(default_channel=COFFEE_CHANNEL, retry_pattern=RETRY_PATTERN)
    @related_action(action='related_action_coffee_backend')
    @api.model
    def import_log_csv(self, backend, attachment_id, filename):
        """Import a 1900 log export, uploaded as the attachment
        ``attachment_id`` of the backend (the job's arguments keep its id,
        not the file).

        Bad lines become message checkpoints, the rest of the file is
        imported; a file that is not a log export fails the job. The
        attachment is removed once the file is imported.
        """
        backend = self.env['coffee.backend']._coffee_for_sync(backend)
        attachment = self.env['ir.attachment'].browse(attachment_id).exists()
        if not attachment or attachment.res_model != backend._name \
                or attachment.res_id != backend.id:
            raise FailedJobError(
                _('The log file %(file)s uploaded for %(machine)s is gone.')
                % {'file': filename, 'machine': backend.name})
        content = base64.b64decode(attachment.datas or b'')
        with job_errors(), backend.work_on(self._name) as work:
            result = self._csv_importer(work).run(content, filename)
        attachment.sudo().unlink()
        return result

    @api.model
    def _csv_importer(self, work):
        """The version's log file importer; only the 1900 has one."""
        try:
            return work.component(usage='csv.importer')
        except NoComponentError:
            raise FailedJobError(
                _('%s does not write log files: only a Coffee 1900 '
                  'does.') % work.collection.name)
