# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""A machine job that ends frees its machine for the jobs waiting for it.

A job whose machine works for another job waits a few seconds and looks
again (models/queue_job/machine_jobs.py). The import chains of a machine
take turns so: without a word from the job that ends, each turn would
cost that wait. queue_job commits a job's work in ``_try_perform_job``;
right after that commit, in a transaction of its own, the machine's
waiting jobs are told to look now.
"""
import logging

from psycopg2 import OperationalError

from odoo.addons.queue_job.controllers.main import RunJobController

_logger = logging.getLogger(__name__)


class CoffeeRunJobController(RunJobController):

    def _try_perform_job(self, env, job):
        super(CoffeeRunJobController, self)._try_perform_job(env, job)
        jobs = env['queue.job']
        if not hasattr(jobs, '_coffee_wake_machine_jobs'):
            # a database of this server without the addon
            return
        try:
            jobs.sudo()._coffee_wake_machine_jobs(job.uuid)
            env.cr.commit()
        except OperationalError:
            # a waiting job changed meanwhile: it looks again at its time,
            # and this job is done and committed whatever happens here
            env.cr.rollback()
            _logger.debug('job %s: its machine\'s waiting jobs not woken',
                          job.uuid, exc_info=True)
