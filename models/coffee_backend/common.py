# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from contextlib import contextmanager

from odoo import api, fields, models


class CoffeeBackend(models.Model):
    """One coffee machine, the collection its components work on."""

    _name = 'coffee.backend'
    _inherit = 'connector.backend'
    _description = 'Coffee Machine Backend'
    _backend_type = 'coffee'

    @api.model
    def _select_versions(self):
        """Protocols the connector speaks; inherit to add one."""
        return [('1900', 'Version 1900'), ('2900', 'Version 2900')]

    @api.model
    def _default_lang(self):
        lang = self.env['res.lang'].search(
            [('code', '=', self.env.lang or 'en_US')], limit=1)
        return lang or self.env.ref('base.lang_en', raise_if_not_found=False)

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    version = fields.Selection(
        selection='_select_versions',
        required=True,
        help="Firmware generation of the machine: it decides the protocol.",
    )
    location = fields.Char(
        string='Location',
        required=True,
        help="Base URL of the machine, e.g. http://10.0.0.12:8080",
    )
    username = fields.Char()
    password = fields.Char(groups='connector.group_connector_manager')
    default_lang_id = fields.Many2one(
        comodel_name='res.lang',
        string='Default Language',
        default=lambda self: self._default_lang(),
        help="Language of the texts the machine sends when it does not "
             "say which one they are in.",
    )
    company_id = fields.Many2one(
        comodel_name='res.company',
        string='Company',
        required=True,
        default=lambda self: self.env['res.company']._company_default_get(
            'coffee.backend'),
    )

    @contextmanager
    @api.multi
    def work_on(self, model_name, **kwargs):
        """Work on the backend in its default language."""
        self.ensure_one()
        lang = self.default_lang_id.code or self.env.lang
        with super(CoffeeBackend, self.with_context(lang=lang)).work_on(
                model_name, **kwargs) as work:
            yield work
