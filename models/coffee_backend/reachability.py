# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Whether a machine answers: a machine that is off costs one probe per
scheduled import, not jobs that retry and fail.

Where the count is written: in the transaction of the job (or of the
request) that talked to the machine. A connection failure or a time-out is
a ``RetryableJobError``, and ``/queue_job/runjob`` commits the job's
transaction when the job raises one (the request ends normally), so the
count survives; a success is committed with the job. A job that fails is
rolled back (see ``queue.job._coffee_perform``): what it counted goes with
it, so the failure itself is recorded by the write of the failed job
(``queue.job.write``), which runs in the runner's own transaction. No
separate cursor: the jobs of one machine never run at once (the fair
share), and the tests, which run jobs in their own transaction, see it all.
"""
from odoo import _, api, fields, models

from odoo.addons.queue_job.job import identity_exact, job, related_action

from ...components.core import COFFEE_CHANNEL
from ...protocol import CoffeeConnectionError, CoffeeError, CoffeeTimeout
from .common import CONNECTOR_MANAGER, _last_line

#: connection failures or time-outs in a row that make a machine unreachable
UNREACHABLE_AFTER = 3
#: seconds the probe of an unreachable machine waits for its answer
PROBE_TIMEOUT = 5


class CoffeeBackend(models.Model):
    _inherit = 'coffee.backend'

    reachability = fields.Selection(
        selection=[('reachable', 'Reachable'),
                   ('unreachable', 'Unreachable')],
        required=True, default='reachable', readonly=True, copy=False,
        help="Unreachable: the machine did not answer %d times in a row. "
             "Scheduled imports then only probe it." % UNREACHABLE_AFTER)
    unreachable_since = fields.Datetime(readonly=True, copy=False)
    reachability_error = fields.Text(
        string='Last Connection Error', readonly=True, copy=False)
    reachability_failures = fields.Integer(
        string='Connection Failures', readonly=True, copy=False,
        help="Connection failures and time-outs in a row.")
    machine_slow = fields.Boolean(
        string='Slow', readonly=True, copy=False,
        help="Its last job worked long: the jobs of slow machines run one "
             "at a time, so that they leave the other machines room.")
    reachability_checkpoint_id = fields.Many2one(
        comodel_name='connector.checkpoint', string='Outage Checkpoint',
        readonly=True, copy=False, ondelete='set null')
    # a job's error may quote what the machine answered
    last_error = fields.Text(
        readonly=True, copy=False, groups=CONNECTOR_MANAGER,
        help="Why the last failed job of this machine failed.")
    last_error_date = fields.Datetime(
        string='Last Error On', readonly=True, copy=False,
        groups=CONNECTOR_MANAGER)

    @api.multi
    def _coffee_connection_failed(self, error):
        """The machine did not answer (``error``): count it; the
        ``UNREACHABLE_AFTER``-th in a row starts an outage, with one
        checkpoint that says since when and why."""
        self.ensure_one()
        backend = self.sudo()
        reason = getattr(error, 'reason', None) or str(error)
        values = {'reachability_failures': backend.reachability_failures + 1,
                  'reachability_error': reason}
        if backend.reachability == 'reachable' and \
                values['reachability_failures'] >= UNREACHABLE_AFTER:
            since = fields.Datetime.now()
            checkpoint = backend.add_checkpoint(message=_(
                '%(machine)s is unreachable since %(since)s (UTC): '
                '%(reason)s\nIts imports wait: each scheduled import only '
                'probes it, and the first import after it answers again '
                'catches up.') % {
                    'machine': backend.name, 'since': since,
                    'reason': reason})
            values.update(reachability='unreachable',
                          unreachable_since=since,
                          reachability_checkpoint_id=checkpoint.id)
        backend.write(values)

    @api.multi
    def _coffee_machine_answered(self):
        """The machine answered (whatever it said): the count starts
        again; an outage ends, and its checkpoint says when."""
        self.ensure_one()
        backend = self.sudo()
        if backend.reachability == 'reachable' and \
                not backend.reachability_failures:
            return  # the common case writes nothing
        values = {'reachability_failures': 0}
        if backend.reachability == 'unreachable':
            values.update(reachability='reachable', unreachable_since=False)
            checkpoint = backend.reachability_checkpoint_id
            if checkpoint:
                checkpoint.message = '%s\n%s' % (checkpoint.message, _(
                    'Back on %s (UTC): the machine answered again.')
                    % fields.Datetime.now())
        backend.write(values)

    @api.multi
    def _unreachable_message(self):
        self.ensure_one()
        return _('%(machine)s is unreachable since %(since)s (UTC): '
                 '%(reason)s') % {
                     'machine': self.name, 'since': self.unreachable_since,
                     'reason': self.reachability_error}

    @api.multi
    def _queue_import(self, model_name, full=False):
        """An unreachable machine is not imported from: its probe is
        queued instead (once), and brings the import when it answers."""
        if self.reachability == 'unreachable':
            self._queue_probe()
            return _('%s: not imported; a probe looks whether it is back, '
                     'and the import after it comes back catches up.') % (
                         self._unreachable_message())
        return super(CoffeeBackend, self)._queue_import(
            model_name, full=full)

    @api.multi
    def _queue_probe(self):
        """One probe job of the machine waiting at a time."""
        self.ensure_one()
        self.with_delay(
            description=_('Probe %s (unreachable)') % self.name,
            identity_key=identity_exact,
        ).probe_machine()

    @job(default_channel=COFFEE_CHANNEL)
    @related_action(action='related_action_open_record')
    @api.multi
    def probe_machine(self):
        """Ask an unreachable machine who it is (its ``machine`` endpoint,
        ``PROBE_TIMEOUT`` at most). An answer ends the outage and queues
        its import; no answer ends the probe too (done, not failed): the
        next scheduled import probes again."""
        backend = self.env['coffee.backend']._coffee_for_sync(self)
        if backend.reachability == 'reachable':
            return _('%s is reachable: not probed.') % backend.name
        try:
            backend._read_machine(timeout=PROBE_TIMEOUT)
        except (CoffeeConnectionError, CoffeeTimeout) as err:
            backend._coffee_connection_failed(err)
            return _('%(unreachable)s; still no answer: %(reason)s') % {
                'unreachable': backend._unreachable_message(),
                'reason': err.reason}
        except CoffeeError as err:
            # an answer, if not a good one: the imports will say more
            backend.import_all()
            return _('%(machine)s answered again (%(reason)s): reachable; '
                     'its import is queued.') % {
                         'machine': backend.name, 'reason': err.reason}
        backend.import_all()
        return _('%s answered again: reachable; its import is '
                 'queued.') % backend.name

    @api.multi
    def _coffee_job_failed(self, job_record, answered=False):
        """A job of the machine failed: store why (``job_record`` is its
        ``queue.job``). ``answered``: the machine answered it (the job was
        rolled back, and the count it cleared with it)."""
        self.ensure_one()
        values = {
            'last_error': '%s\n%s' % (job_record.name,
                                      _last_line(job_record.exc_info)),
            'last_error_date': fields.Datetime.now(),
        }
        if answered:
            values['reachability_failures'] = 0
        self.sudo().write(values)
