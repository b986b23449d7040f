# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""A pour job's end is the brew's: a failed pour fails its brew with the
reason, a pour queued again makes its brew requested again."""
import re

from odoo import api, models

from odoo.addons.queue_job.job import FAILED, PENDING

from ..brew.command import POUR_METHOD

# "odoo.addons.queue_job.exception.FailedJobError: message"
EXCEPTION_LINE = re.compile(r'^[A-Za-z_][\w.]*(Error|Exception|Job)\w*: ')


class QueueJob(models.Model):
    _inherit = 'queue.job'

    @api.multi
    def _coffee_state_written(self, state):
        if state in (FAILED, PENDING):
            pours = self.filtered(lambda j: j.model_name == 'coffee.brew'
                                  and j.method_name == POUR_METHOD)
            for record in pours:
                brews = self.env['coffee.brew'].sudo().browse(
                    record.record_ids).exists()
                if state == FAILED:
                    brews._pour_job_failed(
                        _exception_message(record.exc_info))
                else:
                    brews._pour_job_requeued()
        return super(QueueJob, self)._coffee_state_written(state)


def _exception_message(exc_info):
    """The message of the exception that ended a traceback, without the
    exception's class (queue_job keeps the whole traceback)."""
    lines = [line for line in (exc_info or '').splitlines() if line.strip()]
    if not lines:
        return False
    return EXCEPTION_LINE.sub('', lines[-1].strip(), count=1)
