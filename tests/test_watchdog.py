# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The busy-Odoo watchdog pours a coffee when the job queue stays full."""
import datetime

from odoo import fields

from .common import CoffeeEmulatorCase


def _ago(minutes):
    return fields.Datetime.to_string(
        datetime.datetime.utcnow() - datetime.timedelta(minutes=minutes))


class WatchdogCases(object):

    espresso = None
    jane = None

    def setUp(self):
        super(WatchdogCases, self).setUp()
        self.import_model('coffee.product.product')
        self.import_model('coffee.res.partner')
        self.sim('DELETE', 'counters')
        self.product = self.env['coffee.product.product'].search(
            [('backend_id', '=', self.backend.id),
             ('coffee_id', '=', self.espresso)]).odoo_id
        jane = self.env['coffee.res.partner'].search(
            [('backend_id', '=', self.backend.id),
             ('coffee_id', '=', self.jane)]).odoo_id
        self.user = self.env['res.users'].create({
            'name': 'Responsible', 'login': 'watchdog-responsible',
            'partner_id': jane.id})
        self.backend.write({
            'watchdog_active': True,
            'watchdog_max_coffee_jobs': 5,
            'watchdog_max_jobs': 0,
            'watchdog_max_age': 0,
            'watchdog_max_failed': 0,
            'watchdog_duration': 15,
            'watchdog_cooldown': 60,
            'watchdog_product_id': self.product.id,
            'watchdog_user_id': self.user.id,
        })
        # the queue holds only what each test puts in it (not, e.g., the
        # export of the responsible's partner)
        self.env['queue.job'].search([]).unlink()

    # -- helpers -------------------------------------------------------------

    def fill_queue(self, count, created_minutes_ago=0):
        """Queue harmless jobs (imports never performed here)."""
        before = self.env['queue.job'].search([])
        for __ in range(count):
            self.env['coffee.product.product'].with_delay().import_batch(
                self.backend)
        jobs = self.env['queue.job'].search([]) - before
        self.assertEqual(len(jobs), count)
        self.env.cr.execute(
            'UPDATE queue_job SET date_created = %s WHERE id IN %s',
            (_ago(created_minutes_ago), tuple(jobs.ids)))
        jobs.invalidate_cache()
        return jobs

    def requested(self):
        return self.env['coffee.brew'].search(
            [('backend_id', '=', self.backend.id),
             ('state', '=', 'requested')])

    def checkpoints(self):
        """The checkpoints of the watchdog (not those of the imports)."""
        return self.env['connector.checkpoint'].search(
            [('backend_id', '=', 'coffee.backend,%d' % self.backend.id),
             ('message', 'ilike', 'busy')])

    def busy_for(self, minutes):
        """As if the watchdog had seen Odoo busy ``minutes`` ago."""
        self.backend.watchdog_busy_since = _ago(minutes)

    def check(self):
        return self.env['coffee.backend']._scheduler_watchdog()

    # -- tests ---------------------------------------------------------------

    def test_busy_long_enough_pours_once_per_cooldown(self):
        self.fill_queue(6)
        self.check()
        self.assertTrue(self.backend.watchdog_busy_since)
        self.assertFalse(self.requested(), 'busy for less than 15 minutes')
        self.assertFalse(self.backend.watchdog_last_pour)

        self.busy_for(16)
        self.check()
        brew = self.requested()
        self.assertEqual(len(brew), 1)
        self.assertEqual(brew.product_id, self.product)
        self.assertEqual(brew.partner_id, self.user.partner_id)
        self.assertTrue(self.backend.watchdog_last_pour)
        checkpoint = self.checkpoints()
        self.assertEqual(len(checkpoint), 1)
        self.assertEqual((checkpoint.model_id.model, checkpoint.record_id),
                         ('coffee.brew', brew.id))
        self.assertIn('busy for 16 minutes', checkpoint.message)
        self.assertIn('6 jobs wait in root.coffee (threshold 5)',
                      checkpoint.message)
        self.assertIn('A coffee was poured', checkpoint.message)

        # within the cooldown: nothing more, however long it stays busy
        self.fill_queue(4)
        self.busy_for(40)
        self.check()
        self.assertEqual(self.requested(), brew)
        self.assertEqual(len(self.checkpoints()), 1)

        # the cup is poured by its job, once
        job = self.env['queue.job'].search(
            [('method_name', '=', '_pour_on_machine')])
        self.assertEqual(len(job), 1)
        self.assertEqual(job.record_ids, [brew.id])

    def test_the_poured_job_pours_one_cup(self):
        self.fill_queue(6)
        self.busy_for(20)
        self.check()
        brew = self.requested()
        self.assertEqual(len(brew), 1)
        # the imports of the full queue run first, then the cup
        self.perform_jobs()
        self.assertEqual(self.sim('GET', 'counters')['brews_poured'], 1)
        self.assertTrue(brew.coffee_id)
        self.assertEqual(brew.partner_id, self.user.partner_id)

    def test_after_the_cooldown_pours_again(self):
        self.fill_queue(6)
        self.busy_for(20)
        self.check()
        self.assertEqual(len(self.requested()), 1)
        self.backend.watchdog_last_pour = _ago(61)
        self.check()
        self.assertEqual(len(self.requested()), 2)

    def test_not_busy_pours_nothing_and_resets(self):
        self.fill_queue(5)  # not more than the threshold
        self.busy_for(30)
        self.check()
        self.assertFalse(self.backend.watchdog_busy_since,
                         self.env['coffee.backend']._watchdog_figures())
        self.assertFalse(self.requested())
        self.assertFalse(self.checkpoints())
        self.assertEqual(self.sim('GET', 'counters')['brews_poured'], 0)

    def test_done_jobs_are_not_waiting(self):
        jobs = self.fill_queue(8)
        jobs.write({'state': 'done'})
        self.busy_for(30)
        self.check()
        self.assertFalse(self.backend.watchdog_busy_since)
        self.assertFalse(self.requested())

    def test_oldest_waiting_job(self):
        self.backend.write({'watchdog_max_coffee_jobs': 0,
                            'watchdog_max_age': 30})
        self.fill_queue(1, created_minutes_ago=10)
        self.busy_for(20)
        self.check()
        self.assertFalse(self.requested())
        self.assertFalse(self.backend.watchdog_busy_since)
        self.fill_queue(1, created_minutes_ago=45)
        self.check()
        self.busy_for(20)
        self.check()
        self.assertEqual(len(self.requested()), 1)
        self.assertIn('the oldest waiting job was created 45 minutes ago '
                      '(threshold 30)', self.checkpoints().message)

    def test_all_channels_and_failed_jobs(self):
        self.backend.write({'watchdog_max_coffee_jobs': 0,
                            'watchdog_max_jobs': 2,
                            'watchdog_max_failed': 2})
        jobs = self.fill_queue(3)
        jobs[:2].write({'state': 'failed'})
        self.busy_for(20)
        self.check()
        self.assertFalse(self.requested(), 'one waiting, two failed')
        jobs[2].write({'state': 'failed'})
        self.fill_queue(3)
        self.check()
        self.busy_for(20)
        self.check()
        message = self.checkpoints().message
        self.assertIn('3 jobs wait in all channels (threshold 2)', message)
        self.assertIn('3 jobs have failed (threshold 2)', message)

    def test_responsible_without_badge(self):
        self.user.partner_id = self.env['res.partner'].create(
            {'name': 'No Badge'})
        self.fill_queue(6)
        self.busy_for(20)
        self.check()
        self.assertFalse(self.requested())
        self.assertFalse(self.backend.watchdog_last_pour)
        self.assertIn('could not pour a coffee', self.checkpoints().message)
        self.assertIn('no badge', self.checkpoints().message)

    def test_watchdog_off(self):
        self.backend.watchdog_active = False
        self.fill_queue(6)
        self.busy_for(20)
        self.check()
        self.assertFalse(self.requested())

    def test_cron_is_installed_inactive(self):
        cron = self.env.ref('connector_coffee.ir_cron_coffee_watchdog')
        self.assertFalse(cron.active)
        self.assertEqual((cron.interval_number, cron.interval_type),
                         (1, 'minutes'))


class TestWatchdog1900(WatchdogCases, CoffeeEmulatorCase):
    coffee_version = '1900'
    espresso = '3'
    jane = '00042'


class TestWatchdog2900(WatchdogCases, CoffeeEmulatorCase):
    coffee_version = '2900'
    espresso = 'bev_espresso'
    jane = 'con_8f3a21'
