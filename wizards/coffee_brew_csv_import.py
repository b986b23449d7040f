# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import base64
import binascii

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..protocol import MAX_LOG_FILE_BYTES, parse_log_csv

MAX_FILENAME = 100


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
        """Check the file is a log export and queue its import.

        For connector managers. The file is kept as an attachment of the
        machine until the job has imported it: the job's arguments hold its
        id, not the file.
        """
        self.ensure_one()
        backend = self.backend_id
        backend._check_may_sync()
        data = self.data_file or b''
        if isinstance(data, str):
            data = data.encode('ascii')
        # the name goes into messages: a name, not a text
        filename = (self.filename or _('log file'))[:MAX_FILENAME]
        # base64: 4 characters for 3 bytes; said before decoding it all
        if len(data) * 3 // 4 > MAX_LOG_FILE_BYTES + 2:
            raise UserError(_(
                '%(file)s is too large: a Coffee 1900 log file has at most '
                '%(max)d MiB.') % {'file': filename,
                                   'max': MAX_LOG_FILE_BYTES // 2 ** 20})
        try:
            content = base64.b64decode(data)
        except (binascii.Error, ValueError):
            raise UserError(_('The file could not be read.'))
        try:
            # checks the encoding and the header; lines are the job's
            parse_log_csv(content)
        except ValueError as err:
            raise UserError(
                _('%(file)s is not a Coffee 1900 log file: %(reason)s') % {
                    'file': filename, 'reason': err})
        attachment = self.env['ir.attachment'].create({
            'name': filename,
            'datas_fname': filename,
            'datas': data,
            'res_model': backend._name,
            'res_id': backend.id,
        })
        self.env['coffee.brew'].with_delay(
            description=_('Import the log file %(file)s into %(machine)s')
            % {'file': filename, 'machine': backend.name},
        ).import_log_csv(backend, attachment.id, filename)
        return {'type': 'ir.actions.act_window_close'}
