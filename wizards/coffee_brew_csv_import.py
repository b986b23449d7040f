# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import base64
import binascii

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..protocol import parse_log_csv


class CoffeeBrewCsvImport(models.TransientModel):
    """Upload the log file a Coffee 1900 wrote on a USB stick."""

    _name = 'coffee.brew.csv.import'
    _description = 'Import a Coffee 1900 Log File'

    @api.model
    def _default_backend(self):
        if self.env.context.get('active_model') == 'coffee.backend':
            return self.env['coffee.backend'].browse(
                self.env.context.get('active_id'))
        return self.env['coffee.backend'].browse()

    backend_id = fields.Many2one(
        comodel_name='coffee.backend',
        string='Coffee Machine',
        required=True,
        default=lambda self: self._default_backend(),
        domain=[('version', '=', '1900')],
    )
    data_file = fields.Binary(
        string='Log File', required=True, attachment=False,
        help="The coffee1900-<serial>-log.csv file of the machine's "
             "service menu.")
    filename = fields.Char()

    @api.multi
    def action_import(self):
        """Check the file is a log export and queue its import."""
        self.ensure_one()
        data = self.data_file
        if isinstance(data, bytes):
            data = data.decode('ascii')
        try:
            content = base64.b64decode(data)
        except (binascii.Error, ValueError):
            raise UserError(_('The file could not be read.'))
        filename = self.filename or _('log file')
        try:
            # checks the encoding and the header; lines are the job's
            parse_log_csv(content)
        except ValueError as err:
            raise UserError(
                _('%(file)s is not a Coffee 1900 log file: %(reason)s') % {
                    'file': filename, 'reason': err})
        self.env['coffee.brew'].with_delay(
            description=_('Import the log file %(file)s into %(machine)s')
            % {'file': filename, 'machine': self.backend_id.name},
        ).import_log_csv(self.backend_id, data, filename)
        return {'type': 'ir.actions.act_window_close'}
