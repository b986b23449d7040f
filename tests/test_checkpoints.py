# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Message checkpoints, which connector 11.0 lacks, and the backend's way
of posting any checkpoint once."""
from .common import CoffeeTestCase


class TestCheckpoints(CoffeeTestCase):

    @classmethod
    def setUpClass(cls):
        super(TestCheckpoints, cls).setUpClass()
        cls.backend = cls.create_backend('1900', 'http://127.0.0.1:1')

    def test_message_checkpoint_is_readable(self):
        checkpoint = self.backend.add_checkpoint(
            message='log.csv line 7: price_cents \'abc\' is not a whole '
                    'number\nsecond line')
        self.assertEqual(checkpoint.state, 'need_review')
        self.assertFalse(checkpoint.model_id)
        self.assertEqual(
            checkpoint.name,
            "log.csv line 7: price_cents 'abc' is not a whole number")
        self.assertFalse(checkpoint.record)
        self.assertEqual(checkpoint.backend_id, self.backend)
        self.assertIn('is not a whole number',
                      checkpoint.message_ids[0].body)

    def test_record_checkpoint_points_at_the_record(self):
        partner = self.env['res.partner'].create({'name': 'Bean Counters SA',
                                                  'is_company': True})
        checkpoint = self.backend.add_checkpoint(
            model='res.partner', record_id=partner.id,
            message='A company without VAT number')
        self.assertEqual(checkpoint.record, partner)
        self.assertEqual(checkpoint.name, 'Bean Counters SA')

    def test_same_problem_is_posted_once_while_pending(self):
        first = self.backend.add_checkpoint(message='line 3: truncated')
        again = self.backend.add_checkpoint(message='line 3: truncated')
        self.assertEqual(first, again)
        other = self.backend.add_checkpoint(message='line 4: truncated')
        self.assertNotEqual(first, other)
        first.reviewed()
        self.assertNotEqual(
            self.backend.add_checkpoint(message='line 3: truncated'), first)
