# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Checkpoints that are a message, not a record.

connector 11.0 only reviews records; a line of a damaged file or a record
that could not be imported has no Odoo record to point to, so a checkpoint
may carry a message alone.

A message is text, built from what a machine or a file said: it is posted
escaped, never as HTML (a link or an image from a machine must not reach
the managers' inboxes in a mail sent as the administrator).
"""
from odoo import _, api, fields, models
from odoo.tools import html_escape


def message_html(text):
    """Plain ``text`` as the HTML body of a message: escaped, lines kept."""
    return html_escape(text).replace('\n', '<br/>')


class ConnectorCheckpoint(models.Model):
    _inherit = 'connector.checkpoint'

    record_id = fields.Integer(required=False)
    model_id = fields.Many2one(required=False)
    message = fields.Text(readonly=True)

    @api.depends('model_id', 'record_id')
    def _compute_record(self):
        with_record = self.filtered(lambda c: c.model_id and c.record_id)
        for check in self - with_record:
            check.record = False
        return super(ConnectorCheckpoint, with_record)._compute_record()

    @api.depends('model_id', 'record_id', 'message')
    def _compute_name(self):
        with_record = self.filtered(lambda c: c.model_id and c.record_id)
        for check in self - with_record:
            check.name = (check.message or '').split('\n')[0][:120]
        return super(ConnectorCheckpoint, with_record)._compute_name()

    @api.model
    def create(self, vals):
        if vals.get('model_id') and vals.get('record_id'):
            record = super(ConnectorCheckpoint, self).create(vals)
            if record.message:
                record.message_post(body=message_html(record.message),
                                    subtype='mail.mt_comment')
            return record
        # the parent posts "A <model> needs a review.": there is no model
        record = super(ConnectorCheckpoint, self.with_context(
            coffee_message_checkpoint=True)).create(vals)
        return record

    @api.multi
    def message_post(self, body='', subject=None, **kwargs):
        if self.env.context.get('coffee_message_checkpoint') \
                and not self.model_id:
            body = message_html(self.message) if self.message \
                else _('A message needs a review.')
        return super(ConnectorCheckpoint, self).message_post(
            body=body, subject=subject, **kwargs)
