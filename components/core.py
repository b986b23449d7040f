# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from contextlib import contextmanager

import psycopg2
from psycopg2 import errorcodes

from odoo import _
from odoo.exceptions import UserError

from odoo.addons.component.core import AbstractComponent
from odoo.addons.connector.exception import InvalidDataError, MappingError
from odoo.addons.queue_job.exception import FailedJobError, RetryableJobError

from ..protocol import CoffeeConnectionError, CoffeeError, CoffeeTimeout

#: the channel of every job of this connector (data/queue_job_channel_data.xml)
COFFEE_CHANNEL = 'root.coffee'
# seconds before a job retries after a machine error that says nothing of
# when to come back, by tries done: queue_job runs a retried job before any
# new one, so a machine that keeps failing comes back less often after a
# few tries; passing errors (a busy machine) are retried quickly, as a
# chain of import jobs waits for each of them
RETRY_PATTERN = {1: 10, 8: 30, 12: 60}
# tries of an import job before its chain of pages stops (until the next
# scheduled import): a flaky machine's passing errors must not end it
IMPORT_MAX_RETRIES = 15
# seconds before a job retries after another transaction created the same
# record first
UNIQUE_RETRY_SECONDS = 2
# seconds before an import retries while another job imports its records
IMPORT_LOCK_RETRY_SECONDS = 2
# seconds before an export retries while another job exports its binding
EXPORT_LOCK_RETRY_SECONDS = 5
# seconds before an export retries when the machine's record kept changing
# while it was compared
CHANGING_RETRY_SECONDS = 10


class CoffeeCredentialsUnavailable(UserError):
    """The machine's credentials are stored, but this server has no key
    to read them (a copy of the database on another server)."""


class BaseCoffeeConnectorComponent(AbstractComponent):
    """Base of every component of this connector.

    A component that sets ``_coffee_version`` is used only for backends of
    that version: this is where the 1900 and 2900 protocols part ways.
    """

    _name = 'base.coffee.connector'
    _inherit = 'base.connector'
    _collection = 'coffee.backend'
    _coffee_version = None

    @classmethod
    def _component_match(cls, work, usage=None, model_name=None, **kw):
        return cls._coffee_version in (None, work.collection.version)

    def _check_machine_currency(self):
        """A machine that counts in plain numbers (the 1900's cents) must
        count in the company's currency: there is no conversion."""
        backend = self.backend_record
        company_currency = backend.company_id.currency_id.name
        if backend.machine_currency and \
                backend.machine_currency != company_currency:
            raise MappingError(
                'the machine counts in %s, the company in %s'
                % (backend.machine_currency, company_currency))


@contextmanager
def job_errors(backend=None):
    """Turn the machine's refusals into what the job queue understands.

    Overload, time-outs and server errors are retried later (after the
    machine's Retry-After when it gives one, else as the job's
    RETRY_PATTERN says); anything else fails the job with the machine's
    reason, which never holds a password or a token. Credentials this
    server cannot read fail the job at once: no retry would find the key.

    With the ``backend`` the job talks to, its reachability is kept: a
    connection failure or a time-out counts against the machine, any
    answer (an error answer too) clears the count.
    """
    try:
        yield
    except CoffeeCredentialsUnavailable as err:
        raise FailedJobError(err.name)
    except (CoffeeConnectionError, CoffeeTimeout) as err:
        if backend is not None:
            backend._coffee_connection_failed(err)
        raise RetryableJobError(str(err), seconds=err.retry_after)
    except CoffeeError as err:
        if backend is not None:
            backend._coffee_machine_answered()
        if err.retryable:
            raise RetryableJobError(str(err), seconds=err.retry_after)
        raise FailedJobError(str(err))
    else:
        if backend is not None:
            backend._coffee_machine_answered()


class CreatedMeanwhile(RetryableJobError):
    """Another transaction created the same record meanwhile: this
    transaction cannot see it, the job's next try will."""


@contextmanager
def record_savepoint(cr, record_name):
    """Write one record in a savepoint: whole or not at all.

    A unique violation means another transaction created the same record
    meanwhile (a batch import and a webhook job, say): the job retries
    later, in a new transaction that sees that record. Any other integrity
    error (NOT NULL, CHECK, foreign key) is the record's own and would come
    again on every retry: it is raised as InvalidDataError naming
    ``record_name``, for the caller to make a checkpoint of.
    """
    try:
        with cr.savepoint():
            yield
    except psycopg2.IntegrityError as err:
        reason = (err.diag.message_primary or str(err)).strip()
        if err.pgcode == errorcodes.UNIQUE_VIOLATION:
            raise CreatedMeanwhile(
                _('%(record)s was created by another job meanwhile (%(reason)s)'
                  '; retried') % {'record': record_name, 'reason': reason},
                seconds=UNIQUE_RETRY_SECONDS)
        raise InvalidDataError(
            _('the database refused %(record)s: %(reason)s') % {
                'record': record_name, 'reason': reason})
