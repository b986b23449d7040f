# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The busy-Odoo watchdog: pour a coffee when Odoo is busy for too long.

Busy means that the job queue is beyond one of the machine's thresholds:
too many jobs waiting in the connector's channel or overall, a waiting job
too old, too many failed jobs. It is measured from queue_job's own table.
"""
import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.queue_job.job import FAILED

from ...components.core import COFFEE_CHANNEL
from .common import OPEN_JOB_STATES

_logger = logging.getLogger(__name__)


class CoffeeBackend(models.Model):
    _inherit = 'coffee.backend'

    watchdog_active = fields.Boolean(
        string='Watchdog',
        help="Pour a coffee when Odoo has been busy for too long (the "
             "scheduled action \"Coffee: busy-Odoo watchdog\" must run).")
    watchdog_max_coffee_jobs = fields.Integer(
        string='Waiting Coffee Jobs', default=100,
        help="Busy when more jobs than this wait (or run) in the "
             "root.coffee channel. 0: not checked.")
    watchdog_max_jobs = fields.Integer(
        string='Waiting Jobs', default=500,
        help="Busy when more jobs than this wait (or run) in all channels. "
             "0: not checked.")
    watchdog_max_age = fields.Integer(
        string='Oldest Waiting Job (minutes)', default=60,
        help="Busy when a job due to run was created longer ago than this. "
             "0: not checked.")
    watchdog_max_failed = fields.Integer(
        string='Failed Jobs', default=0,
        help="Busy when more jobs than this have failed. 0: not checked.")
    watchdog_duration = fields.Integer(
        string='Busy For (minutes)', default=15,
        help="How long Odoo must stay beyond a threshold before a coffee "
             "is poured.")
    watchdog_cooldown = fields.Integer(
        string='Cooldown (minutes)', default=60,
        help="At most one coffee this often.")
    watchdog_product_id = fields.Many2one(
        comodel_name='product.product', string='Beverage',
        help="What the watchdog pours: a beverage of this machine.")
    watchdog_user_id = fields.Many2one(
        comodel_name='res.users', string='Responsible',
        help="Who gets the coffee: the cup is charged to the badge of this "
             "user's partner on this machine. Empty: an anonymous cup.")
    watchdog_busy_since = fields.Datetime(
        string='Busy Since', readonly=True,
        help="When the job queue went beyond a threshold; empty when it "
             "is not.")
    watchdog_last_pour = fields.Datetime(
        string='Last Coffee Poured', readonly=True)

    @api.model
    def _scheduler_watchdog(self):
        self.search([('watchdog_active', '=', True)])._watchdog_check()

    @api.model
    def _watchdog_figures(self):
        """What the job queue looks like now, from queue_job's table."""
        now = fields.Datetime.now()
        cr = self.env.cr
        cr.execute("""
            SELECT count(*),
                   count(*) FILTER (WHERE channel = %(coffee)s
                                    OR channel LIKE %(coffee_sub)s),
                   min(date_created) FILTER (WHERE eta IS NULL
                                             OR eta <= %(now)s)
              FROM queue_job
             WHERE state IN %(waiting)s
        """, {'coffee': COFFEE_CHANNEL, 'coffee_sub': COFFEE_CHANNEL + '.%',
              'now': now, 'waiting': OPEN_JOB_STATES})
        waiting, coffee_waiting, oldest = cr.fetchone()
        cr.execute("SELECT count(*) FROM queue_job WHERE state = %s",
                   (FAILED,))
        failed = cr.fetchone()[0]
        age = 0
        if oldest:
            if isinstance(oldest, str):
                oldest = fields.Datetime.from_string(oldest)
            age = int((fields.Datetime.from_string(now) - oldest)
                      .total_seconds() // 60)
        return {'waiting': waiting, 'coffee_waiting': coffee_waiting,
                'oldest_age': age, 'failed': failed}

    @api.multi
    def _watchdog_reasons(self, figures):
        """The thresholds the figures are beyond, as sentences."""
        self.ensure_one()
        reasons = []
        if self.watchdog_max_coffee_jobs and \
                figures['coffee_waiting'] > self.watchdog_max_coffee_jobs:
            reasons.append(
                _('%(count)d jobs wait in %(channel)s (threshold '
                  '%(max)d)') % {'count': figures['coffee_waiting'],
                                 'channel': COFFEE_CHANNEL,
                                 'max': self.watchdog_max_coffee_jobs})
        if self.watchdog_max_jobs and \
                figures['waiting'] > self.watchdog_max_jobs:
            reasons.append(
                _('%(count)d jobs wait in all channels (threshold '
                  '%(max)d)') % {'count': figures['waiting'],
                                 'max': self.watchdog_max_jobs})
        if self.watchdog_max_age and \
                figures['oldest_age'] > self.watchdog_max_age:
            reasons.append(
                _('the oldest waiting job was created %(age)d minutes ago '
                  '(threshold %(max)d)') % {'age': figures['oldest_age'],
                                            'max': self.watchdog_max_age})
        if self.watchdog_max_failed and \
                figures['failed'] > self.watchdog_max_failed:
            reasons.append(
                _('%(count)d jobs have failed (threshold %(max)d)') % {
                    'count': figures['failed'],
                    'max': self.watchdog_max_failed})
        return reasons

    @api.multi
    def _watchdog_check(self):
        """Measure the job queue; pour a coffee when Odoo has been busy
        for longer than ``watchdog_duration`` and the cooldown is over.

        Returns the ids of the brews poured.
        """
        poured = []
        if not self:
            return poured
        figures = self._watchdog_figures()
        now_text = fields.Datetime.now()
        now = fields.Datetime.from_string(now_text)
        for backend in self.filtered('watchdog_active'):
            reasons = backend._watchdog_reasons(figures)
            if not reasons:
                if backend.watchdog_busy_since:
                    backend.watchdog_busy_since = False
                continue
            if not backend.watchdog_busy_since:
                backend.watchdog_busy_since = now_text
            since = fields.Datetime.from_string(backend.watchdog_busy_since)
            if now - since < timedelta(minutes=backend.watchdog_duration):
                continue
            if backend.watchdog_last_pour and now - fields.Datetime.from_string(
                    backend.watchdog_last_pour) < timedelta(
                        minutes=backend.watchdog_cooldown):
                continue
            brew_id = backend._watchdog_pour(reasons, since, now)
            if brew_id:
                poured.append(brew_id)
        return poured

    @api.multi
    def _watchdog_pour(self, reasons, since, now):
        """Pour the watchdog's coffee and say why in a checkpoint."""
        self.ensure_one()
        partner = self.watchdog_user_id.partner_id
        busy = _('Odoo has been busy for %(minutes)d minutes (since '
                 '%(since)s UTC): %(reasons)s.') % {
            'minutes': int((now - since).total_seconds() // 60),
            'since': fields.Datetime.to_string(since),
            'reasons': '; '.join(reasons)}
        try:
            brew_id = self.pour_coffee(self.watchdog_product_id.id,
                                       partner.id or False)
        except UserError as err:
            # e.g. no beverage chosen, or the responsible has no badge:
            # said once (the same message) while it waits for review
            self.add_checkpoint(
                message=_('Odoo is busy, but the watchdog could not pour a '
                          'coffee: %s') % err.name)
            _logger.warning('%s: watchdog could not pour: %s',
                            self.name, err.name)
            return False
        self.watchdog_last_pour = fields.Datetime.to_string(now)
        brew = self.env['coffee.brew'].browse(brew_id)
        self.add_checkpoint(
            model='coffee.brew', record_id=brew_id,
            message=_('%(busy)s A coffee was poured: %(brew)s.') % {
                'busy': busy, 'brew': brew.name})
        _logger.info('%s: watchdog poured %s', self.name, brew.name)
        return brew_id
