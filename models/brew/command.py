# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Pour a coffee: the brew command, sent once per request.

``coffee.backend.pour_coffee`` creates a ``requested`` brew and queues one
job (``coffee.brew._pour_on_machine``); the job sends the command through
the version's ``brew.command`` component, binds the brew to the machine's
cup and fills it with the machine's record. The cup is still brewing then:
a follow-up job (``coffee.brew._follow_poured_cup``) reads it again a few
seconds later, and again until it is done, for a few minutes at most.
"""
import datetime

import pytz

from odoo import _, api, fields, models

from odoo.addons.component.core import AbstractComponent, Component
from odoo.addons.connector.exception import InvalidDataError, MappingError
from odoo.addons.queue_job.exception import FailedJobError, RetryableJobError
from odoo.addons.queue_job.job import job, related_action

from ...components.core import (
    COFFEE_CHANNEL,
    RETRY_PATTERN,
    CreatedMeanwhile,
    job_errors,
    record_savepoint,
)
from ...components.importer import RECORD_ERRORS
from ...protocol import (
    CoffeeBlocked,
    CoffeeConflict,
    CoffeeError,
    CoffeeNoCredit,
    CoffeeNotFound,
    format_local_timestamp,
)

POUR_METHOD = '_pour_on_machine'

# the follow-up of a poured cup: first read this many seconds after the
# pour (a cup takes a few), then again after a quarter of the time since
# the pour, between these bounds, until the limit; the machine's own
# errors are retried as other jobs' are, this many times
FOLLOW_UP_DELAY = 5
FOLLOW_UP_MAX_DELAY = 60
FOLLOW_UP_LIMIT = datetime.timedelta(minutes=5)
FOLLOW_UP_MAX_RETRIES = 10

# the refusals no retry can change: a person must act (top up the card,
# unblock it, enable the drink, import the beverages again)
REFUSALS = (CoffeeNoCredit, CoffeeBlocked, CoffeeNotFound, CoffeeConflict)


class CoffeeBrew(models.Model):
    _inherit = 'coffee.brew'

    state = fields.Selection(selection_add=[('requested', 'Requested')])
    failure_reason = fields.Text(
        string='Why It Was Not Poured', readonly=True,
        help="What the machine (or Odoo) answered to a coffee requested "
             "from Odoo that was not poured.")

    @job(default_channel=COFFEE_CHANNEL, retry_pattern=RETRY_PATTERN)
    @related_action(action='related_action_open_record')
    @api.multi
    def _pour_on_machine(self):
        """Send the brew command of a requested brew (one cup at most).

        A refusal the machine will repeat (no credit, blocked card, unknown
        or disabled beverage) fails the job with the machine's reason, which
        the brew shows once the job is failed (see ``queue.job.write``:
        what the job wrote is rolled back with it). A busy machine (a cup
        brewing), a machine in error state or no answer are retried later.
        """
        self.ensure_one()
        # as the user who asked for the cup; then as the connector
        self.backend_id._check_may_pour(self.partner_id)
        brew = self.sudo()
        backend = brew.backend_id
        with job_errors(backend), backend.work_on(self._name) as work:
            command = work.component(usage='brew.command')
            try:
                result = command.run(brew)
            except REFUSALS as err:
                if err.retryable:
                    raise
                raise FailedJobError(
                    _('%(brew)s was not poured: %(reason)s') % {
                        'brew': brew.name, 'reason': _refusal(err)})
        self._follow_up()
        return result

    @job(default_channel=COFFEE_CHANNEL, retry_pattern=RETRY_PATTERN)
    @related_action(action='related_action_open_record')
    @api.multi
    def _bind_poured_cup(self, external_id, record=None):
        """Bind a poured brew to its cup ``external_id`` (the machine's
        ``record`` of it, when the pour job could read it) where the pour
        job could not: an import bound the cup at the same moment. Sends
        nothing to the machine."""
        self.ensure_one()
        brew = self.sudo()
        with job_errors(), brew.backend_id.work_on(self._name) as work:
            result = work.component(usage='brew.command').bind(
                brew, external_id, record)
        self._follow_up()
        return result

    @api.multi
    def _follow_up(self):
        """Queue the follow-up of a cup the machine is still brewing, as
        the user of the job that poured it."""
        self.ensure_one()
        brew = self.sudo()
        if brew.state != 'running' or not brew.coffee_id:
            return
        self.with_delay(
            description=_('Follow %(brew)s on %(machine)s') % {
                'brew': brew.name, 'machine': brew.backend_id.name},
            eta=FOLLOW_UP_DELAY,
            max_retries=FOLLOW_UP_MAX_RETRIES,
        )._follow_poured_cup(fields.Datetime.now())

    @job(default_channel=COFFEE_CHANNEL, retry_pattern=RETRY_PATTERN)
    @related_action(action='related_action_open_record')
    @api.multi
    def _follow_poured_cup(self, poured_at):
        """Read the cup of a poured brew until the machine has done it.

        One job per cup: while the cup runs, the job is postponed (it holds
        no channel slot meanwhile, and the wait counts no retry), for
        ``FOLLOW_UP_LIMIT`` after ``poured_at`` (Odoo's time of the pour)
        at most; then it stops and the next import of brews updates the
        brew. The cup is imported as any import does: an older record of
        it (a webhook imported a newer one meanwhile) changes nothing.
        """
        self.ensure_one()
        # as the user who asked for the cup; then as the connector
        self.backend_id._check_may_pour(self.partner_id)
        brew = self.sudo()
        if brew.state != 'running' or not brew.coffee_id:
            return _('%(brew)s is %(state)s: nothing to follow.') % {
                'brew': brew.name, 'state': _state_label(brew)}
        now = fields.Datetime.from_string(fields.Datetime.now())
        elapsed = now - fields.Datetime.from_string(poured_at)
        try:
            with job_errors(), brew.backend_id.work_on(self._name) as work:
                running = work.component(usage='brew.command').follow(brew)
        except RetryableJobError as err:
            if elapsed < FOLLOW_UP_LIMIT:
                raise
            return self._follow_up_stopped(elapsed, err)
        if brew.state != 'running':
            return _('%(brew)s is %(state)s on the machine') % {
                'brew': brew.name, 'state': _state_label(brew)}
        if not running:
            return _('%s could not be followed: see its checkpoint') % (
                brew.name)
        if elapsed >= FOLLOW_UP_LIMIT:
            return self._follow_up_stopped(elapsed)
        seconds = min(FOLLOW_UP_MAX_DELAY, max(
            FOLLOW_UP_DELAY, int(elapsed.total_seconds() / 4)))
        raise RetryableJobError(
            _('%(brew)s is still brewing on the machine: checked again in '
              '%(seconds)d s') % {'brew': brew.name, 'seconds': seconds},
            seconds=seconds, ignore_retry=True)

    @api.multi
    def _follow_up_stopped(self, elapsed, error=None):
        """The follow-up's last word: the cup did not end in time."""
        self.ensure_one()
        message = _(
            '%(brew)s was still running on the machine %(minutes)d minutes '
            'after it was poured: Odoo stopped following it. The next '
            'import of brews updates it.') % {
                'brew': self.sudo().name,
                'minutes': round(elapsed.total_seconds() / 60)}
        if error is not None:
            message = '%s (%s)' % (message, error)
        return message

    @api.multi
    def _pour_job_failed(self, reason):
        """The pour job failed: a brew that got no cup is failed."""
        for brew in self:
            values = {'failure_reason': reason or _('The job failed.')}
            if brew.state == 'requested' and not brew.coffee_id:
                values['state'] = 'failed'
            brew.write(values)

    @api.multi
    def _pour_job_requeued(self):
        """A failed pour job is queued again: the brew is requested again."""
        self.filtered(
            lambda b: b.state == 'failed' and not b.coffee_id).write(
                {'state': 'requested', 'failure_reason': False})


def _state_label(brew):
    """The brew's state as the user reads it."""
    return dict(brew._fields['state']._description_selection(
        brew.env)).get(brew.state, brew.state)


def _refusal(err):
    """What a refusal of the brew command means, for a person."""
    if isinstance(err, CoffeeNotFound):
        return _('the machine does not know the beverage or the consumer '
                 '(HTTP 404); import them again')
    if isinstance(err, CoffeeConflict):
        return _('the beverage is disabled on the machine (HTTP 409 %s)') % (
            err.code or 'disabled')
    return err.reason


class CoffeeBrewCommand(AbstractComponent):
    """Send a requested brew to the machine, bind it to the cup, fill it.

    The version says how a retried job is kept from brewing a second cup.
    """

    _name = 'coffee.brew.command'
    _inherit = 'base.coffee.connector'
    _usage = 'brew.command'
    _apply_on = 'coffee.brew'

    @property
    def client(self):
        return self.work.coffee_client

    def run(self, brew):
        """Pour the cup of ``brew``; returns a sentence for the job."""
        if brew.state != 'requested' or brew.coffee_id:
            return _('%s was already sent to the machine.') % brew.name
        self.backend_record._ensure_machine_info()
        beverage_ref = self._beverage_ref(brew)
        external_id, record = self._send(
            brew, beverage_ref, brew.consumer_ref or None)
        try:
            with record_savepoint(self.env.cr, brew.name):
                self._bind(brew, external_id)
        except CreatedMeanwhile:
            # an import bound the cup at the same moment, in a transaction
            # this one cannot see: retrying this job would send the command
            # again (a second cup on a 1900); a job of its own binds it
            brew.with_delay(
                description=_('Bind %s to its cup') % brew.name,
            )._bind_poured_cup(external_id, record)
            return _('Poured %(brew)s (cup %(cup)s on the machine); a job '
                     'of its own binds it') % {
                         'brew': brew.name, 'cup': external_id}
        except InvalidDataError as err:
            self.backend_record.add_checkpoint(
                model='coffee.brew', record_id=brew.id,
                message=_('The cup of %(brew)s was poured (cup %(cup)s on '
                          'the machine), but the brew could not be bound to '
                          'it: %(reason)s') % {
                              'brew': brew.name, 'cup': external_id,
                              'reason': err})
            return _('Poured %(brew)s (cup %(cup)s), not bound') % {
                'brew': brew.name, 'cup': external_id}
        if record is not None:
            self._fill(brew, record)
        return _('Poured %(brew)s (cup %(cup)s on the machine)') % {
            'brew': brew.name, 'cup': external_id}

    def bind(self, brew, external_id, record=None):
        """Bind ``brew`` to the cup ``external_id`` poured for it, and fill
        it from the machine's ``record`` of the cup (without one, the next
        import fills it)."""
        if brew.coffee_id:
            return _('%s is bound already.') % brew.name
        with record_savepoint(self.env.cr, brew.name):
            self._bind(brew, external_id)
        if record is not None:
            self._fill(brew, record)
        return _('Bound %(brew)s to cup %(cup)s') % {
            'brew': brew.name, 'cup': external_id}

    def follow(self, brew):
        """Read the cup of the running ``brew`` again and import it.

        Returns whether the brew may still change: False when the machine's
        record could not be imported (a checkpoint says why), else whether
        the cup is still running.
        """
        return self.update(brew, self._read_cup(brew))

    def update(self, brew, record):
        """Import ``record``, the cup of ``brew`` as the machine showed it
        at some moment (None: not shown), unless the brew holds a newer
        version (a webhook's import came first); see ``follow``."""
        if record is None:
            return True
        if not self._fill(brew, record,
                          force=self._ended_meanwhile(brew, record)):
            return False
        return brew.state == 'running'

    def _ended_meanwhile(self, brew, record):
        """Whether ``record`` is newer than the running ``brew`` although
        its time says not; never by default: the machine's times tell."""
        return False

    def _read_cup(self, brew):
        """The machine's record of the cup ``brew`` is bound to, or None
        when the machine does not show it (yet)."""
        raise NotImplementedError

    def _beverage_ref(self, brew):
        binder = self.binder_for('coffee.product.product')
        binding = self.env['coffee.product.product'].search([
            ('backend_id', '=', self.backend_record.id),
            ('odoo_id', '=', brew.product_id.id),
            ('coffee_id', '!=', False),
        ], limit=1)
        ref = binder.to_external(binding) if binding else None
        if not ref:
            raise FailedJobError(
                _('%(brew)s was not poured: %(beverage)s is not a beverage '
                  'of %(machine)s any more.') % {
                    'brew': brew.name, 'beverage': brew.product_id.name,
                    'machine': self.backend_record.name})
        return ref

    def _send(self, brew, beverage_ref, consumer_ref):
        """Have the machine pour the cup (once); ``(cup id, record)``.

        ``record`` is the machine's record of the cup, or None when it
        cannot be read now (the next import fills the brew).
        """
        raise NotImplementedError

    def _bind(self, brew, external_id):
        """Bind the brew to its cup on the machine.

        When the scheduled import was faster and imported the cup as a
        brew of its own, that copy goes: the machine said the cup is the
        one of this request.
        """
        other = self.binder_for().to_internal(external_id)
        if other and other != brew:
            other.with_context(connector_no_export=True).unlink()
        brew.with_context(connector_no_export=True).write(
            {'coffee_id': external_id, 'state': 'running',
             'failure_reason': False})

    def _fill(self, brew, record, force=True):
        """Fill the brew from the machine's record of the cup; returns
        whether it was imported.

        The cup is poured whatever happens here: a record the mapper
        refuses becomes a checkpoint, and the next import tries again.
        Without ``force``, a record no newer than the brew's is skipped.
        """
        importer = self.component(usage='record.importer')
        try:
            with self.env.cr.savepoint():
                importer.run(record=record, force=force)
        except CoffeeError as err:
            if err.retryable:
                raise
            self._fill_failed(brew, err)
            return False
        except RECORD_ERRORS as err:
            self._fill_failed(brew, err)
            return False
        return True

    def _fill_failed(self, brew, err):
        self.backend_record.add_checkpoint(
            model='coffee.brew', record_id=brew.id,
            message=_('The cup of %(brew)s was poured, but its record on '
                      'the machine could not be imported: %(reason)s') % {
                          'brew': brew.name,
                          'reason': getattr(err, 'reason', None) or err})


class Coffee1900BrewCommand(Component):
    """The 1900 has no idempotency: look in the log before sending.

    A job that timed out after the machine received the command is
    retried; before any (re-)send, the log is read for a cup of the same
    drink and card, at or after the request (the brew's creation, in the
    machine's local time, less ``_margin``), that no ``coffee.brew`` is
    bound to yet. If there is one, it is this request's cup and nothing is
    sent.

    Residual risk: the log cannot tell which client asked for a cup, so
    a cup of the same drink on the same card started at the machine
    itself (or by another program) within the margin before the request,
    or before the job runs, is taken for this request's cup: one cup fewer,
    never one more. Conversely, a second cup can still be brewed when the
    cup of a timed-out attempt was meanwhile imported by the scheduled
    import as a brew of its own (it is bound then), or when the machine
    clock is more than the margin behind Odoo's.
    """

    _name = 'coffee.1900.brew.command'
    _inherit = 'coffee.brew.command'
    _coffee_version = '1900'

    _margin = datetime.timedelta(minutes=2)

    def _send(self, brew, beverage_ref, consumer_ref):
        since = self._request_time(brew)
        entry = self._poured_entry(since, beverage_ref, consumer_ref)
        if entry is not None:
            return str(entry['log_no']), entry
        answer = self.client.brew(int(beverage_ref), card_no=consumer_ref)
        log_no = str(answer['log_no'])
        for entry in self.client.iter_records('log', modified_after=since):
            if str(entry.get('log_no')) == log_no:
                return log_no, entry
        return log_no, None

    def _read_cup(self, brew):
        """The 1900 reads no single entry: the log since the brew's last
        change (inclusive: the entry itself comes again at least)."""
        since = brew.coffee_updated_at or self._request_time(brew)
        for entry in self.client.iter_records('log', modified_after=since):
            if str(entry.get('log_no')) == brew.coffee_id:
                return entry
        return None

    def _ended_meanwhile(self, brew, record):
        """The 1900 writes seconds: a cup that ended within the second of
        the entry the brew holds keeps that time. An entry that ended never
        runs again, so it is the newer one."""
        if brew.state != 'running' or not brew.coffee_updated_at:
            return False
        adapter = self.component(usage='backend.adapter')
        if adapter.timestamp_of(record) != brew.coffee_updated_at:
            return False
        try:
            state = self.component(usage='import.mapper').state_of(record)
        except MappingError:
            return False  # its import says why
        return state != 'running'

    def _request_time(self, brew):
        """When the brew was requested, in the machine's local time (less
        the margin), as the 1900 writes times."""
        created = fields.Datetime.from_string(brew.create_date)
        try:
            zone = pytz.timezone(self.backend_record.machine_timezone or 'UTC')
        except pytz.UnknownTimeZoneError:
            zone = pytz.utc
        local = pytz.utc.localize(created - self._margin).astimezone(zone)
        return format_local_timestamp(local.replace(tzinfo=None))

    def _poured_entry(self, since, beverage_ref, consumer_ref):
        """The first log entry since ``since`` of this drink and card that
        no brew is bound to, or None."""
        candidates = []
        for entry in self.client.iter_records('log', modified_after=since):
            if str(entry.get('drink_no')) != beverage_ref:
                continue
            if (entry.get('card_no') or None) != consumer_ref:
                continue
            if entry.get('log_no') is None:
                continue
            candidates.append(entry)
        if not candidates:
            return None
        bound = set(self.env['coffee.brew'].with_context(
            active_test=False).search([
                ('backend_id', '=', self.backend_record.id),
                ('coffee_id', 'in', [str(e['log_no']) for e in candidates]),
            ]).mapped('coffee_id'))
        free = [e for e in candidates if str(e['log_no']) not in bound]
        if not free:
            return None
        return min(free, key=lambda e: int(e['log_no']))


class Coffee2900BrewCommand(Component):
    """The 2900 brews once per ``Idempotency-Key``: the job's uuid.

    queue_job keeps the uuid across the retries of a job (and when a
    person requeues it), so every attempt sends the same key and the
    machine answers the first cup again instead of brewing a second one.
    Residual risk: the machine forgets a key after 24 hours, so a job
    retried later than that can brew again.
    """

    _name = 'coffee.2900.brew.command'
    _inherit = 'coffee.brew.command'
    _coffee_version = '2900'

    def _idempotency_key(self, brew):
        key = brew.env.context.get('job_uuid')
        if key:
            return key
        # not run by the job queue: a key of the brew itself, just as
        # stable
        uuid = self.env['ir.config_parameter'].sudo().get_param(
            'database.uuid', '')
        return ('odoo-%s-brew-%s' % (uuid, brew.id))[-64:]

    def _send(self, brew, beverage_ref, consumer_ref):
        __, record = self.client.brew(
            beverage_ref, consumer_id=consumer_ref,
            idempotency_key=self._idempotency_key(brew))
        return str(record['id']), record

    def _read_cup(self, brew):
        return self.component(usage='backend.adapter').read(brew.coffee_id)
