# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The 1900's log export (CSV), uploaded from a USB stick."""
import logging

from odoo import _

from odoo.addons.component.core import Component
from odoo.addons.queue_job.exception import FailedJobError

from ...components.core import record_savepoint
from ...components.importer import RECORD_ERRORS
from ...protocol import TIMESTAMP_FORMAT_1900, CoffeeError, parse_log_csv

_logger = logging.getLogger(__name__)

# checkpoints one file may post; one more then counts the other bad lines
MAX_CHECKPOINTS_PER_FILE = 100


def csv_line_to_log_entry(values):
    """A parsed line of the file as the log entry ``GET /api/v1/log``
    would give: the columns mean what the JSON fields mean."""
    return {
        'log_no': values['log_no'],
        'drink_no': values['drink_no'],
        'card_no': values['card_no'],
        'price_cents': values['price_cents'],
        'ts': values['ts'].strftime(TIMESTAMP_FORMAT_1900),
        'result': values['result'],
    }


class Coffee1900BrewCsvImporter(Component):
    """Import a log file line by line; a bad line becomes a checkpoint."""

    _name = 'coffee.1900.brew.csv.importer'
    _inherit = ['base.importer', 'base.coffee.connector']
    _apply_on = 'coffee.brew'
    _usage = 'csv.importer'
    _coffee_version = '1900'

    def run(self, content, filename):
        """Import the log file ``content`` (bytes or text).

        Only the drinks and cards already imported are known: the file
        comes from a machine that may not be on the network.
        """
        try:
            lines = parse_log_csv(content)
        except ValueError as err:  # CsvHeaderError included
            raise FailedJobError(
                _('%(file)s is not a Coffee 1900 log file: %(reason)s') % {
                    'file': filename, 'reason': err})
        self._check_machine_info()
        # one importer for the file: the beverages and cards it looks up
        # serve every line
        importer = self.component(usage='csv.record.importer')
        imported = failed = 0
        for line in lines:
            if line.error:
                # the parser's reason starts with "line <n>: "
                failed += 1
                self._line_failed(filename, line.error, failed)
                continue
            reason = self._import_line(
                importer, csv_line_to_log_entry(line.values))
            if reason:
                failed += 1
                self._line_failed(filename, _('line %(no)d: %(reason)s') % {
                    'no': line.line_no, 'reason': reason}, failed)
            else:
                imported += 1
        if failed > MAX_CHECKPOINTS_PER_FILE:
            self._checkpoint(_(
                'Log file %(file)s of %(machine)s: %(more)d more bad lines '
                '(%(failed)d in all; the first %(max)d have a checkpoint '
                'each).') % {
                    'file': filename, 'machine': self.backend_record.name,
                    'more': failed - MAX_CHECKPOINTS_PER_FILE,
                    'failed': failed, 'max': MAX_CHECKPOINTS_PER_FILE})
        return _('%(file)s: %(imported)d lines imported, %(failed)d bad '
                 'lines') % {'file': filename, 'imported': imported,
                             'failed': failed}

    def _check_machine_info(self):
        """The file's times are local: the machine's zone must be known."""
        backend = self.backend_record
        try:
            backend._ensure_machine_info()
        except CoffeeError as err:
            raise FailedJobError(
                _('The time zone and currency of %(machine)s are not known '
                  'yet and the machine cannot be reached to read them '
                  '(%(reason)s). Test the connection once while it is on '
                  'the network.') % {'machine': backend.name, 'reason': err})

    def _import_line(self, importer, entry):
        """Import one entry in a savepoint; the reason when it is bad."""
        try:
            with record_savepoint(self.env.cr,
                                  _('log entry %s') % entry['log_no']):
                importer.run(record=entry)
        except CoffeeError as err:
            if err.retryable:
                raise
            return str(err)
        except RECORD_ERRORS as err:
            return getattr(err, 'name', None) or str(err)
        return None

    def _line_failed(self, filename, reason, count):
        """The ``count``-th bad line of the file: a checkpoint for the
        first ``MAX_CHECKPOINTS_PER_FILE``, the others are counted."""
        if count > MAX_CHECKPOINTS_PER_FILE:
            return
        self._checkpoint(_('Log file %(file)s of %(machine)s: %(reason)s') % {
            'file': filename, 'machine': self.backend_record.name,
            'reason': reason})

    def _checkpoint(self, message):
        _logger.info(message)
        self.backend_record.add_checkpoint(message=message)
