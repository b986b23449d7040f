# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""What the tests of every flow share."""
from odoo.tests import common


class CoffeeTestCase(common.SavepointCase):
    """A database with one backend per protocol, rolled back after each
    test class."""

    @classmethod
    def setUpClass(cls):
        super(CoffeeTestCase, cls).setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.backend_model = cls.env['coffee.backend']

    @classmethod
    def create_backend(cls, version, location, **values):
        values.update(
            name='Test %s' % version,
            version=version,
            location=location,
            username=values.get('username', 'coffee'),
            password=values.get('password', 'espresso'),
        )
        return cls.backend_model.create(values)
