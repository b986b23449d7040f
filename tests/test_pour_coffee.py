# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Pour a coffee from Odoo: one cup per request, on both versions."""
import datetime
import json
import time

from odoo import fields
from odoo.exceptions import AccessError, UserError

from ..protocol import signature_header
from .common import CoffeeEmulatorCase

FOLLOW_METHOD = '_follow_poured_cup'
WEBHOOK_SECRET = 'whsec_pour_0123456789'


class PourCoffeeCases(object):
    """The same expectations for both protocols; subclasses name the
    machine's ids of the demo data."""

    espresso = None  # machine id of the espresso (1.20)
    decaf = None  # a disabled / inactive beverage
    jane = None  # Jane Doe's consumer id on the machine (credit)
    blocked = None  # a blocked card
    no_credit = None  # a card without credit
    log_kind = None  # snapshot kind of the machine's cups
    brew_path = None  # path of the brew command

    def setUp(self):
        super(PourCoffeeCases, self).setUp()
        self.import_model('coffee.product.product')
        self.import_model('coffee.res.partner')
        self.sim('DELETE', 'counters')

    # -- helpers -------------------------------------------------------------

    def product(self, coffee_id):
        binding = self.env['coffee.product.product'].with_context(
            active_test=False).search([('backend_id', '=', self.backend.id),
                                       ('coffee_id', '=', coffee_id)])
        self.assertEqual(len(binding), 1)
        return binding.odoo_id

    def partner(self, coffee_id):
        binding = self.env['coffee.res.partner'].search(
            [('backend_id', '=', self.backend.id),
             ('coffee_id', '=', coffee_id)])
        self.assertEqual(len(binding), 1)
        return binding.odoo_id

    def pour(self, beverage, consumer=None):
        brew_id = self.backend.pour_coffee(
            self.product(beverage).id,
            self.partner(consumer).id if consumer else False)
        return self.env['coffee.brew'].browse(brew_id)

    def poured(self):
        return self.sim('GET', 'counters')['brews_poured']

    def pour_job(self, brew, method='_pour_on_machine'):
        jobs = self.env['queue.job'].search(
            [('model_name', '=', 'coffee.brew'),
             ('method_name', '=', method)])
        jobs = jobs.filtered(lambda j: j.record_ids == [brew.id])
        self.assertEqual(len(jobs), 1)
        return jobs

    def follow_job(self, brew):
        return self.pour_job(brew, method=FOLLOW_METHOD)

    def poured_running(self, consumer=None, cup_seconds=None):
        """A cup poured through its job, still brewing on the machine;
        ``cup_seconds`` of machine time for it (and the next cups)."""
        if cup_seconds is not None:
            before = self.sim('GET', 'config')['brew_seconds']
            self.addCleanup(self.sim, 'POST', 'brew-seconds',
                            {'seconds': before})
            self.sim('POST', 'brew-seconds', {'seconds': cup_seconds})
        brew = self.pour(self.espresso, consumer)
        self.assertEqual(self.outcome(self.pour_job(brew)), 'done')
        self.assertEqual(brew.state, 'running')
        return brew

    def outcome(self, job_record):
        """Run a job as the runner does (``run_job``): 'done', 'retried'
        (pending again) or 'failed'."""
        state = self.run_job(job_record).state
        return {'pending': 'retried'}.get(state, state)

    def cups(self):
        return self.machine_records(self.log_kind)

    def wait_for_cups(self, count, seconds=15):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.poured() >= count:
                return
            time.sleep(0.1)
        self.fail('the machine poured %d cups, not %d'
                  % (self.poured(), count))

    # -- tests ---------------------------------------------------------------

    def test_pour_coffee_pours_one_cup_and_binds_the_brew(self):
        brew = self.pour(self.espresso, self.jane)
        self.assertEqual(brew.state, 'requested')
        self.assertEqual(brew.partner_id, self.partner(self.jane))
        self.assertFalse(brew.coffee_id)
        self.assertEqual(self.poured(), 0)
        job = self.pour_job(brew)
        self.assertEqual(job.channel, 'root.coffee')
        self.assertEqual(job.state, 'pending')
        action = job.open_related_action()
        self.assertEqual((action['res_model'], action['res_id']),
                         ('coffee.brew', brew.id))

        self.assertEqual(self.outcome(job), 'done')
        self.assertEqual(self.poured(), 1)
        cup = self.cups()[-1]
        self.assertEqual(brew.coffee_id, self.cup_id(cup))
        self.assertEqual(brew.consumer_ref, self.jane)
        self.assertEqual(brew.partner_id, self.partner(self.jane))
        self.assertEqual(brew.product_id, self.product(self.espresso))
        self.assertAlmostEqual(brew.price, 1.20, places=2)
        self.assertTrue(brew.date_start)
        # the cup is still brewing on the machine
        self.assertEqual(brew.state, 'running')
        self.assertFalse(brew.failure_reason)
        self.assertEqual(self.pour_job(brew).state, 'done')

    def test_anonymous_cup(self):
        brew = self.pour(self.espresso)
        self.assertEqual(self.outcome(self.pour_job(brew)), 'done')
        self.assertEqual(self.poured(), 1)
        self.assertEqual(brew.coffee_id, self.cup_id(self.cups()[-1]))
        self.assertFalse(brew.partner_id)
        self.assertFalse(brew.consumer_ref)

    def test_one_cup_after_a_simulated_timeout(self):
        """The machine gets the command but answers too late: the job is
        retried, and the machine still pours one cup."""
        self.backend.timeout = 1
        self.sim('POST', 'faults', {'rate': 1, 'kinds': ['slow'],
                                    'hang_seconds': 2.5,
                                    'paths': [self.brew_path]})
        brew = self.pour(self.espresso, self.jane)
        job = self.pour_job(brew)
        self.assertEqual(self.outcome(job), 'retried')
        self.assertIn('did not answer', job.result)
        self.assertEqual(job.state, 'pending')
        self.assertEqual(brew.state, 'requested')
        self.assertFalse(brew.coffee_id)
        # the command reached the machine: the cup is being brewed
        self.wait_for_cups(1)
        self.sim('POST', 'faults', {'rate': 0})
        # and is finished when the job is retried: a second command would
        # brew a second cup at once
        self.sim('POST', 'clock', {'advance': 10})
        self.assertEqual(self.outcome(job), 'done')
        self.assertEqual(self.poured(), 1)
        self.assertEqual(len([c for c in self.cups()
                              if self.cup_id(c) == brew.coffee_id]), 1)
        self.assertEqual(brew.coffee_id, self.cup_id(self.cups()[-1]))
        self.assertEqual(brew.state, 'done')
        self.assertTrue(brew.date_end)

    def test_retry_while_the_cup_is_brewing(self):
        """Retried at once, the timed-out command's cup is still running."""
        self.backend.timeout = 1
        self.sim('POST', 'faults', {'rate': 1, 'kinds': ['slow'],
                                    'hang_seconds': 1.5,
                                    'paths': [self.brew_path]})
        brew = self.pour(self.espresso, self.jane)
        job = self.pour_job(brew)
        self.assertEqual(self.outcome(job), 'retried')
        self.wait_for_cups(1)
        self.sim('POST', 'faults', {'rate': 0})
        self.assertEqual(self.outcome(job), 'done')
        self.assertEqual(self.poured(), 1)
        self.assertEqual(brew.coffee_id, self.cup_id(self.cups()[-1]))
        self.assertEqual(brew.state, 'running')

    def assert_refused(self, consumer, beverage, reason):
        brew = self.pour(beverage, consumer)
        job = self.pour_job(brew)
        self.assertEqual(self.outcome(job), 'failed')
        self.assertEqual(self.poured(), 0)
        self.assertEqual(job.state, 'failed')
        self.assertEqual(brew.state, 'failed')
        self.assertFalse(brew.coffee_id)
        self.assertIn(reason, brew.failure_reason)
        self.assertIn('was not poured', brew.failure_reason)
        self.assertNotIn('Traceback', brew.failure_reason)
        self.assertIn(brew.failure_reason, job.exc_info)
        return brew, job

    def test_no_credit(self):
        self.assert_refused(self.no_credit, self.espresso,
                            "credit is lower than the price")

    def test_blocked_card(self):
        self.assert_refused(self.blocked, self.espresso, 'blocked')

    def test_disabled_beverage(self):
        self.assert_refused(self.jane, self.decaf, 'disabled on the machine')

    def test_requeued_failed_job_requests_again(self):
        brew, job = self.assert_refused(self.blocked, self.espresso,
                                        'blocked')
        job.requeue()
        self.assertEqual(brew.state, 'requested')
        self.assertFalse(brew.failure_reason)

    def test_busy_machine_retries_later(self):
        first = self.pour(self.espresso, self.jane)
        self.assertEqual(self.outcome(self.pour_job(first)), 'done')
        second = self.pour(self.espresso, self.jane)
        job = self.pour_job(second)
        # the first cup is still brewing: 409
        self.assertEqual(self.outcome(job), 'retried')
        self.assertIn('another cup is being brewed', job.result)
        self.assertEqual(job.state, 'pending')
        self.assertEqual(second.state, 'requested')
        self.assertEqual(self.poured(), 1)
        self.sim('POST', 'clock', {'advance': 10})
        self.assertEqual(self.outcome(job), 'done')
        self.assertEqual(self.poured(), 2)
        self.assertTrue(second.coffee_id)
        self.assertNotEqual(second.coffee_id, first.coffee_id)

    def test_machine_error_retries_later(self):
        self.sim('POST', 'state', {'state': 'error', 'error_code': 'E01'})
        brew = self.pour(self.espresso, self.jane)
        job = self.pour_job(brew)
        self.assertEqual(self.outcome(job), 'retried')
        self.assertIn('E01', job.result)
        self.assertEqual(brew.state, 'requested')
        self.sim('POST', 'state', {'state': 'ready'})
        self.assertEqual(self.outcome(job), 'done')
        self.assertEqual(self.poured(), 1)

    def test_unknown_beverage_or_consumer(self):
        stranger = self.env['res.partner'].create({'name': 'No Badge'})
        with self.assertRaisesRegex(UserError, 'no badge'):
            self.backend.pour_coffee(self.product(self.espresso).id,
                                     stranger.id)
        product = self.env['product.product'].create({'name': 'Tea'})
        with self.assertRaisesRegex(UserError, 'not a beverage'):
            self.backend.pour_coffee(product.id)
        self.assertFalse(self.env['coffee.brew'].search(
            [('state', '=', 'requested')]))

    # -- the follow-up of a poured cup ----------------------------------------

    def test_poured_cup_is_done_through_its_follow_up(self):
        """No import: the follow-up of the cup reads it when it is done."""
        watermark = self.backend._get_watermark('coffee.brew')
        brew = self.poured_running(self.jane)
        job = self.follow_job(brew)
        self.assertEqual(job.state, 'pending')
        self.assertEqual(job.channel, 'root.coffee')
        self.assertEqual(job.user_id, self.env.user)
        # a few seconds after the pour, not at once
        self.assertGreater(job.eta, fields.Datetime.now())
        action = job.open_related_action()
        self.assertEqual((action['res_model'], action['res_id']),
                         ('coffee.brew', brew.id))
        self.sim('POST', 'clock', {'advance': 10})
        self.assertEqual(self.poured(), 1)
        self.reset_machine_requests()
        self.assertEqual(self.outcome(job), 'done')
        self.assertEqual(brew.state, 'done')
        self.assertTrue(brew.date_end)
        self.assertIn('Done', job.result)
        # one read of that cup, no import of the brews
        self.assertEqual(self.machine_requests(),
                         {self.cup_path(brew): {'200': 1}})
        self.assertEqual(self.backend._get_watermark('coffee.brew'),
                         watermark)
        self.assertFalse(self.queued_jobs())

    def test_running_cup_is_checked_again(self):
        brew = self.poured_running(cup_seconds=60)
        job = self.follow_job(brew)
        self.assertEqual(self.outcome(job), 'retried')
        self.assertEqual(job.state, 'pending')
        self.assertIn('still brewing', job.result)
        self.assertGreater(job.eta, fields.Datetime.now())
        # waiting for the cup is no failure of the machine
        self.assertEqual(job.retry, 0)
        self.assertEqual(brew.state, 'running')
        self.sim('POST', 'clock', {'advance': 61})
        self.assertEqual(self.outcome(job), 'done')
        self.assertEqual(brew.state, 'done')
        self.assertEqual(self.poured(), 1)

    def test_follow_up_of_an_unreachable_machine_is_not_run(self):
        """The follow-up reads the machine: it is one of the machine's
        jobs, which a machine known to be off does not run."""
        brew = self.poured_running(cup_seconds=60)
        job = self.follow_job(brew)
        self.backend.sudo().write({
            'reachability': 'unreachable',
            'unreachable_since': fields.Datetime.now()})
        self.reset_machine_requests()
        self.assertEqual(self.outcome(job), 'done')
        self.assertIn('Not run', job.result)
        self.assertEqual(self.machine_requests(), {})
        self.assertEqual(brew.state, 'running')

    def follow_up_queued_at(self, brew, minutes_ago):
        """A follow-up of ``brew`` as the pour job queued it then."""
        poured_at = fields.Datetime.to_string(
            fields.Datetime.from_string(fields.Datetime.now())
            - datetime.timedelta(minutes=minutes_ago))
        brew.with_delay()._follow_poured_cup(poured_at)
        jobs = self.env['queue.job'].search(
            [('method_name', '=', FOLLOW_METHOD)], order='id desc', limit=1)
        return jobs

    def test_follow_up_stops_after_its_limit(self):
        brew = self.poured_running(cup_seconds=3600)
        late = self.follow_up_queued_at(brew, minutes_ago=6)
        self.assertEqual(self.outcome(late), 'done')
        self.assertIn('still running on the machine 6 minutes after it was '
                      'poured', late.result)
        self.assertIn('stopped following', late.result)
        self.assertEqual(brew.state, 'running')
        # the machine does not answer at the end either: it stops all the
        # same, and says why
        self.sim('POST', 'faults', {'rate': 1, 'kinds': ['500']})
        late = self.follow_up_queued_at(brew, minutes_ago=6)
        self.assertEqual(self.outcome(late), 'done')
        self.assertIn('stopped following', late.result)
        self.assertIn('500', late.result)

    def test_follow_up_checks_rights_when_it_runs(self):
        """Queued for a manager's cup on Jane's badge; the manager is not
        one any more when it runs: it fails before the machine."""
        user = self.create_user(
            'pour_manager_%s' % self.coffee_version,
            self.env.user.company_id,
            ('base.group_user', 'connector.group_connector_manager'))
        brew_id = self.call_as(
            user, 'coffee.backend', 'pour_coffee', [self.backend.id],
            self.product(self.espresso).id, self.partner(self.jane).id)
        brew = self.env['coffee.brew'].browse(brew_id)
        self.assertEqual(self.outcome(self.pour_job(brew)), 'done')
        job = self.follow_job(brew)
        self.assertEqual(job.user_id, user)
        user.groups_id = [(3, self.env.ref(
            'connector.group_connector_manager').id)]
        self.sim('POST', 'clock', {'advance': 10})
        self.reset_machine_requests()
        with self.assertRaises(AccessError):
            self.run_job(job, raise_error=True)
        self.assertEqual(self.machine_requests(), {})
        self.assertEqual(brew.state, 'running')

    def test_wizard(self):
        wizard = self.env['coffee.pour.coffee'].with_context(
            active_model='coffee.backend', active_id=self.backend.id).create({
                'product_id': self.product(self.espresso).id,
                'partner_id': self.partner(self.jane).id,
            })
        self.assertEqual(wizard.backend_id, self.backend)
        action = wizard.action_pour()
        brew = self.env['coffee.brew'].browse(action['res_id'])
        self.assertEqual(brew.state, 'requested')
        self.perform_jobs()
        self.assertEqual(self.poured(), 1)


class TestPourCoffee1900(PourCoffeeCases, CoffeeEmulatorCase):
    coffee_version = '1900'
    espresso = '3'
    decaf = '8'
    jane = '00042'
    blocked = '2001'
    no_credit = '2002'
    log_kind = 'log'
    brew_path = '/api/v1/brew'

    @staticmethod
    def cup_id(cup):
        return str(cup['log_no'])

    @staticmethod
    def cup_path(brew):
        """What the machine is asked for the cup of ``brew``: its log."""
        return '/api/v1/log'

    def test_cup_ended_within_the_second_of_its_running_entry(self):
        """The 1900 writes seconds: a cup that ended within the second the
        pour read it running keeps that time, and is done all the same."""
        start = fields.Datetime.from_string(fields.Datetime.now()) \
            + datetime.timedelta(seconds=2)
        self.sim('POST', 'clock', {
            'freeze': True, 'set': start.strftime('%Y-%m-%dT%H:%M:%SZ')})
        brew = self.poured_running(cup_seconds=0.5)
        self.sim('POST', 'clock', {'advance': 0.6})
        entry = [c for c in self.cups() if self.cup_id(c) == brew.coffee_id]
        self.assertEqual(entry[0]['result'], 'ok')
        self.assertEqual(entry[0]['ts'], brew.coffee_updated_at)
        self.assertEqual(self.outcome(self.follow_job(brew)), 'done')
        self.assertEqual(brew.state, 'done')

    def test_a_cup_bound_to_another_brew_is_not_taken(self):
        """A cup of the same drink and card that a brew already holds is
        not the cup of a new request."""
        first = self.pour(self.espresso, self.jane)
        self.assertEqual(self.outcome(self.pour_job(first)), 'done')
        self.sim('POST', 'clock', {'advance': 10})
        second = self.pour(self.espresso, self.jane)
        self.assertEqual(self.outcome(self.pour_job(second)), 'done')
        self.assertEqual(self.poured(), 2)
        self.assertNotEqual(first.coffee_id, second.coffee_id)


class TestPourCoffee2900(PourCoffeeCases, CoffeeEmulatorCase):
    coffee_version = '2900'
    espresso = 'bev_espresso'
    decaf = 'bev_decaf'
    jane = 'con_8f3a21'
    blocked = 'con_b10c4d'
    no_credit = 'con_00c4ed'
    log_kind = 'brews'
    brew_path = '/api/v2/brews'

    @staticmethod
    def cup_id(cup):
        return cup['id']

    @staticmethod
    def cup_path(brew):
        return '/api/v2/brews/%s' % brew.coffee_id

    def test_webhook_first_is_not_overwritten_by_an_older_read(self):
        """The follow-up read the cup while it ran; the webhook's import of
        the finished cup came first: the older read changes nothing."""
        self.backend.write({'webhook_id': 'whk_test',
                            'webhook_secret': WEBHOOK_SECRET})
        brew = self.poured_running(self.jane)
        with self.backend.work_on('coffee.brew') as work:
            command = work.component(usage='brew.command')
            older = command._read_cup(brew.sudo())
            self.assertEqual(older['status'], 'running')
            self.sim('POST', 'clock', {'advance': 10})
            raw = json.dumps({
                'id': 'evt_pour_1', 'type': 'brew.completed',
                'created_at': '2026-11-20T07:31:12.000000Z',
                'data': {'object_id': brew.coffee_id}}).encode('utf-8')
            status, __ = self.env['coffee.backend']._webhook_receive(
                self.backend.id, {'X-Coffee-Signature': signature_header(
                    WEBHOOK_SECRET, int(time.time()), raw)}, raw)
            self.assertEqual(status, 200)
            webhook_job = self.queued_jobs()
            self.assertEqual(webhook_job.method_name, 'import_record')
            self.assertEqual(self.outcome(webhook_job), 'done')
            self.assertEqual(brew.state, 'done')
            done_at = brew.date_end
            stamp = brew.coffee_updated_at
            self.assertTrue(done_at)
            self.assertFalse(command.update(brew.sudo(), older))
        self.assertEqual(brew.state, 'done')
        self.assertEqual(brew.date_end, done_at)
        self.assertEqual(brew.coffee_updated_at, stamp)
        # and the follow-up, when it runs, finds the brew done
        job = self.follow_job(brew)
        self.reset_machine_requests()
        self.assertEqual(self.outcome(job), 'done')
        self.assertEqual(brew.state, 'done')
        self.assertEqual(self.machine_requests(), {})
