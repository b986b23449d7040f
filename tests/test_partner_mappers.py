# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The consumer conversions alone, without a machine."""
import unittest

from odoo.addons.connector.exception import MappingError

from ..models.partner.mapper import badge_of, partner_values


class TestPartnerValues(unittest.TestCase):

    def test_person(self):
        values = partner_values('00042', 'Jane Doe', 'jane@example.com',
                                False, False)
        self.assertEqual(values, {
            'name': 'Jane Doe', 'email': 'jane@example.com',
            'is_company': False, 'company_name': False, 'vat': False})

    def test_company_card_when_the_holder_is_the_company(self):
        values = partner_values('1001', ' bean counters sa ', False,
                                'Bean Counters SA', False)
        self.assertTrue(values['is_company'])
        self.assertEqual(values['name'], 'Bean Counters SA')
        self.assertFalse(values['company_name'])
        self.assertFalse(values['vat'])

    def test_company_card_without_a_holder(self):
        values = partner_values('7', False, False, 'Grind & Co BV',
                                'BE0403123486')
        self.assertTrue(values['is_company'])
        self.assertEqual(values['name'], 'Grind & Co BV')
        self.assertEqual(values['vat'], 'BE0403123486')

    def test_person_of_a_company(self):
        values = partner_values('1002', 'Marc Dupont', False,
                                'Grind & Co BV', 'BE0403123486')
        self.assertFalse(values['is_company'])
        self.assertEqual(values['name'], 'Marc Dupont')
        self.assertEqual(values['company_name'], 'Grind & Co BV')
        self.assertEqual(values['vat'], 'BE0403123486')

    def test_nameless_card(self):
        values = partner_values('007', '  ', False, False, False)
        self.assertFalse(values['is_company'])
        self.assertIn('007', values['name'])


class TestBadge(unittest.TestCase):

    def test_leading_zeros_are_kept(self):
        for badge in ('0', '00', '00042', '0000000001'):
            self.assertEqual(badge_of({'card_no': badge}, 'card_no'), badge)

    def test_wrong_badges(self):
        for badge in (42, '', '12345678901', '4 2', None, True):
            with self.assertRaisesRegex(MappingError, 'badge'):
                badge_of({'badge': badge}, 'badge')
        with self.assertRaisesRegex(MappingError, 'badge'):
            badge_of({}, 'badge')
