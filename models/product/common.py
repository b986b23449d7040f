# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import api, fields, models


class CoffeeProductProduct(models.Model):
    """A beverage (1900: drink) of a machine, bound to a product."""

    _name = 'coffee.product.product'
    _inherit = 'coffee.binding'
    _inherits = {'product.product': 'odoo_id'}
    _description = 'Coffee Beverage'

    odoo_id = fields.Many2one(
        comodel_name='product.product',
        string='Product',
        required=True,
        ondelete='restrict',
    )
    volume_ml = fields.Integer(string='Volume (ml)', readonly=True)
    strength = fields.Integer(readonly=True)
    machine_enabled = fields.Boolean(
        string='Enabled on the Machine', readonly=True,
        help="Whether the machine offers this beverage.")


class ProductProduct(models.Model):
    _inherit = 'product.product'

    coffee_bind_ids = fields.One2many(
        comodel_name='coffee.product.product',
        inverse_name='odoo_id',
        string='Coffee Machines',
        context={'active_test': False},
    )


class ProductTemplate(models.Model):
    _inherit = 'product.template'

    coffee_bind_ids = fields.One2many(
        comodel_name='coffee.product.product',
        compute='_compute_coffee_bind_ids',
        string='Coffee Machines',
        help="The machines' beverages of the template's variants.",
    )

    @api.depends('product_variant_ids.coffee_bind_ids')
    def _compute_coffee_bind_ids(self):
        """With variants disabled, a product's form is its template's:
        it shows the bindings of its (single) variant."""
        for template in self:
            template.coffee_bind_ids = template.product_variant_ids.mapped(
                'coffee_bind_ids')
