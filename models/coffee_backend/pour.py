# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import _, api, models
from odoo.exceptions import AccessError, UserError

# a machine busy with another cup answers 409 for a few seconds: enough
# attempts for a queue of cups in front of this one
POUR_MAX_RETRIES = 20


class CoffeeBackend(models.Model):
    _inherit = 'coffee.backend'

    @api.multi
    def pour_coffee(self, product_id, partner_id=False):
        """Ask the machine for a cup; returns the id of its ``coffee.brew``.

        ``product_id`` is a product bound to this machine (a beverage),
        ``partner_id`` an optional partner with a badge on it, charged for
        the cup. The brew is created at once (state ``requested``) and one
        job sends the command: the cup is poured once, even when the job
        is retried (see the ``brew.command`` components).

        Open to the internal users of the machine's company, for an
        anonymous cup or one charged to their own badge; charging anyone
        else's badge is for connector managers.
        """
        self.ensure_one()
        partner = self.env['res.partner'].browse(partner_id).exists() \
            if partner_id else self.env['res.partner']
        self._check_may_pour(partner)
        self._check_credentials()
        product = self.env['product.product'].browse(product_id).exists() \
            if product_id else self.env['product.product']
        beverage = self.env['coffee.product.product'].search([
            ('backend_id', '=', self.id),
            ('odoo_id', '=', product.id),
            ('coffee_id', '!=', False),
        ], limit=1) if product else None
        if not beverage:
            raise UserError(
                _('%(product)s is not a beverage of %(machine)s: import its '
                  'beverages first, or choose one of them.') % {
                    'product': product.display_name or product_id,
                    'machine': self.name})
        consumer = self.env['coffee.res.partner']
        if partner_id:
            consumer = consumer.search([
                ('backend_id', '=', self.id),
                ('odoo_id', '=', partner.id),
                ('coffee_id', '!=', False),
            ], order='id', limit=1) if partner else consumer
            if not consumer:
                raise UserError(
                    _('%(partner)s has no badge on %(machine)s: the cup '
                      'cannot be charged to them.') % {
                        'partner': partner.display_name or partner_id,
                        'machine': self.name})
        # the connector creates the brew; the job runs as the user
        brews = self.env['coffee.brew'].sudo().with_context(
            connector_no_export=True)
        brew = brews.create({
            'backend_id': self.id,
            'product_id': product.id,
            'partner_id': partner.id or False,
            'consumer_ref': consumer.coffee_id or False,
            'company_id': self.company_id.id,
            'state': 'requested',
            'name': brews._brew_name(
                product.name, partner.name, consumer.coffee_id, False,
                self.machine_timezone),
        })
        brew.sudo(self.env.uid).with_delay(
            description=_('Pour %(brew)s on %(machine)s') % {
                'brew': brew.name, 'machine': self.name},
            max_retries=POUR_MAX_RETRIES,
        )._pour_on_machine()
        return brew.id

    @api.multi
    def _check_may_pour(self, partner):
        """Internal users of the machine's company pour anonymous cups and
        cups on their own badge; other badges need a connector manager."""
        self.ensure_one()
        self.check_access_rights('read')
        self.check_access_rule('read')
        user = self.env.user
        if not (self._is_connector_manager()
                or user.has_group('base.group_user')):
            raise AccessError(_('Only internal users may pour a coffee.'))
        if partner and partner != user.partner_id \
                and not self._is_connector_manager():
            raise AccessError(
                _('Only a connector manager may charge a cup to the badge '
                  'of %s: choose your own badge or an anonymous cup.')
                % partner.display_name)
