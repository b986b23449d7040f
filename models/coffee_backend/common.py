# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import logging
from contextlib import contextmanager
from datetime import datetime, timedelta

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.queue_job.job import DONE, ENQUEUED, PENDING, STARTED

from ...components.core import IMPORT_MAX_RETRIES
from ...protocol import CoffeeConnectionError, CoffeeError, CoffeeTimeout, client_class

_logger = logging.getLogger(__name__)

# the states a machine reports (GET /machine, the 2900's alerts)
MACHINE_STATE_SELECTION = [
    ('ready', 'Ready'),
    ('brewing', 'Brewing'),
    ('descaling', 'Descaling'),
    ('error', 'Error'),
]
MACHINE_STATES = tuple(state for state, __ in MACHINE_STATE_SELECTION)
# a job that waits to run or runs
OPEN_JOB_STATES = (PENDING, ENQUEUED, STARTED)
CONNECTOR_MANAGER = 'connector.group_connector_manager'


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
    timeout = fields.Integer(
        string='Timeout (s)',
        default=30,
        help="How long to wait for the machine's answer before the job "
             "tries again later.",
    )
    currency_id = fields.Many2one(
        related='company_id.currency_id', readonly=True)

    # what the machine says of itself (Test connection, imports)
    machine_serial = fields.Char(string='Serial Number', readonly=True)
    machine_firmware = fields.Char(string='Firmware', readonly=True)
    machine_currency = fields.Char(string='Machine Currency', readonly=True)
    machine_timezone = fields.Char(
        string='Machine Time Zone', readonly=True,
        help="The 1900 speaks in local time, in this zone.")
    machine_language = fields.Char(
        string='Machine Language', readonly=True,
        help="Language code of the 1900's labels.")
    machine_state = fields.Selection(
        selection=MACHINE_STATE_SELECTION + [('unknown', 'Unknown')],
        string='Machine State', readonly=True)
    machine_errors = fields.Char(string='Error Codes', readonly=True)
    machine_water_pct = fields.Integer(string='Water (%)', readonly=True)
    machine_beans_pct = fields.Integer(string='Beans (%)', readonly=True)
    machine_descaling_due = fields.Boolean(
        string='Descaling Due', readonly=True)
    machine_status_date = fields.Datetime(
        string='Status Read On', readonly=True)

    watermark_ids = fields.One2many(
        comodel_name='coffee.backend.watermark',
        inverse_name='backend_id',
        string='Last Imports',
        readonly=True,
    )
    full_import_interval = fields.Integer(
        string='Full Import Every (hours)',
        default=24,
        help="The 1900 does not say when a card is removed: a full listing "
             "of the cards reveals it. The scheduled import runs one this "
             "often, and imports what changed the rest of the time. "
             "0: never.",
    )
    last_full_import = fields.Datetime(readonly=True)

    # what the form's smart buttons and status area show
    product_count = fields.Integer(compute='_compute_counts')
    consumer_count = fields.Integer(compute='_compute_counts')
    brew_count = fields.Integer(compute='_compute_counts')
    job_count = fields.Integer(
        string='Open Jobs', compute='_compute_counts')
    checkpoint_count = fields.Integer(
        string='Checkpoints to Review', compute='_compute_counts')

    # -- smart buttons and status --------------------------------------

    @api.multi
    def _checkpoint_domain(self):
        self.ensure_one()
        return [('backend_id', '=', '%s,%s' % (self._name, self.id))]

    @api.multi
    def _open_job_domain(self):
        self.ensure_one()
        return [('coffee_backend_id', '=', self.id), ('state', '!=', DONE)]

    @api.multi
    def _compute_counts(self):
        """Counted with the user's rights: what the opened list shows.

        A model the user may not read counts 0 (its button is hidden).
        """
        def counter(model_name):
            model = self.env[model_name]
            if not model.check_access_rights('read', raise_exception=False):
                return lambda domain: 0
            return model.search_count

        count_products = counter('coffee.product.product')
        count_consumers = counter('coffee.res.partner')
        count_brews = counter('coffee.brew')
        count_jobs = counter('queue.job')
        count_checkpoints = counter('connector.checkpoint')
        for backend in self:
            if not backend.id:
                continue
            domain = [('backend_id', '=', backend.id)]
            backend.product_count = count_products(domain)
            backend.consumer_count = count_consumers(domain)
            backend.brew_count = count_brews(domain)
            backend.job_count = count_jobs(backend._open_job_domain())
            backend.checkpoint_count = count_checkpoints(
                backend._checkpoint_domain() +
                [('state', '=', 'need_review')])

    @api.multi
    def _open_list(self, name, model_name, domain, context=None):
        self.ensure_one()
        return {
            'name': name,
            'type': 'ir.actions.act_window',
            'res_model': model_name,
            'view_type': 'form',
            'view_mode': 'tree,form',
            'domain': domain,
            'context': dict(context or {}),
        }

    @api.multi
    def action_open_products(self):
        return self._open_list(
            _('Beverages of %s') % self.name, 'coffee.product.product',
            [('backend_id', '=', self.id)])

    @api.multi
    def action_open_consumers(self):
        return self._open_list(
            _('Consumers of %s') % self.name, 'coffee.res.partner',
            [('backend_id', '=', self.id)])

    @api.multi
    def action_open_brews(self):
        action = self.env.ref('connector_coffee.coffee_brew_action').read()[0]
        action.update(
            name=_('Brews of %s') % self.name,
            domain=[('backend_id', '=', self.id)],
        )
        return action

    @api.multi
    def action_open_jobs(self):
        return self._open_list(
            _('Open Jobs of %s') % self.name, 'queue.job',
            self._open_job_domain())

    @api.multi
    def action_open_checkpoints(self):
        action = self.env.ref(
            'connector.action_connector_checkpoint').read()[0]
        action.update(
            name=_('Checkpoints of %s') % self.name,
            domain=self._checkpoint_domain(),
        )
        return action

    @contextmanager
    @api.multi
    def work_on(self, model_name, **kwargs):
        """Work on the backend in its default language, with its client.

        One protocol client (one HTTP session, one token) serves every
        component of the work.
        """
        self.ensure_one()
        lang = self.default_lang_id.code or self.env.lang
        backend = self.with_context(lang=lang)
        if 'coffee_client' in kwargs:
            with super(CoffeeBackend, backend).work_on(
                    model_name, **kwargs) as work:
                yield work
            return
        with backend._client() as client, super(
                CoffeeBackend, backend).work_on(
                    model_name, coffee_client=client, **kwargs) as work:
            yield work

    @contextmanager
    def _client(self, timeout=None):
        """A protocol client for the machine (closed after use), that
        waits ``timeout`` seconds at most (the backend's by default)."""
        self.ensure_one()
        backend = self.sudo()
        timeout = timeout or backend.timeout or 30
        client = client_class(backend.version)(
            backend.location, backend.username or '',
            backend._coffee_secret('password'),
            timeout=(min(5, timeout), timeout))
        try:
            yield client
        finally:
            client.close()

    # -- machine status ---------------------------------------------------

    @api.multi
    def _read_machine(self, timeout=None):
        """Read the machine's identity and status and store them (an
        answer: the machine is reachable)."""
        self.ensure_one()
        with self._client(timeout=timeout) as client:
            try:
                machine = client.check_machine()
            except (CoffeeConnectionError, CoffeeTimeout):
                raise
            except CoffeeError:
                self.sudo()._coffee_machine_answered()
                raise
            normalized = client.normalize_machine(machine)
        self.sudo().write(self._machine_values(normalized))
        self.sudo()._coffee_machine_answered()
        return machine

    @api.multi
    def _machine_values(self, machine):
        """Backend values from the machine's answer, as its protocol
        client normalizes it (the same words for both versions)."""
        values = {
            'machine_serial': machine['serial'],
            'machine_firmware': machine['firmware'],
            'machine_currency': machine['currency'],
            'machine_timezone': machine['timezone'],
            'machine_state': machine['state'],
            'machine_errors': machine['errors'] or False,
            'machine_water_pct': machine['water_pct'],
            'machine_beans_pct': machine['beans_pct'],
            'machine_descaling_due': machine['descaling_due'],
            'machine_status_date': fields.Datetime.now(),
        }
        if 'language' in machine:
            values['machine_language'] = machine['language']
        if values['machine_state'] not in MACHINE_STATES:
            values['machine_state'] = 'unknown'
        return values

    @api.multi
    def _ensure_machine_info(self):
        """Imports need the machine's time zone and currency."""
        for backend in self:
            if not backend.machine_currency:
                backend._read_machine()

    @api.multi
    def action_test_connection(self):
        """Check the URL, the credentials and the version against the
        machine; say what is wrong in words a person understands."""
        self._check_may_sync()
        for backend in self:
            try:
                backend._read_machine()
            except CoffeeError as err:
                raise UserError(
                    _('%(machine)s: the connection failed.\n%(reason)s') % {
                        'machine': backend.name, 'reason': err})
        return True

    # -- imports ----------------------------------------------------------

    @api.model
    def _is_connector_manager(self):
        return self.env.uid == SUPERUSER_ID or self.env.user.has_group(
            CONNECTOR_MANAGER)

    @api.multi
    def _check_may_sync(self):
        """Imports, Test Connection, webhooks, log files and checkpoints
        make the machine act, queue jobs or mail people: for connector
        managers of the machine's company only."""
        if not self._is_connector_manager():
            raise AccessError(_(
                'Only a connector manager may make a coffee machine act, '
                'import from it or post its checkpoints.'))
        self.check_access_rights('write')
        self.check_access_rule('write')

    @api.model
    def _coffee_for_sync(self, backend):
        """The backend of a job (a record or an id), checked for the user
        who runs it, then with the connector's own rights.

        A job runs as the user who queued it (queue_job): it checks them
        again before the machine; the sync's own writes are the
        connector's.
        """
        if isinstance(backend, models.BaseModel):
            backend = backend.ids
        backend = self.browse(backend)
        backend.ensure_one()
        backend._check_may_sync()
        return backend.sudo()

    @api.multi
    def _import(self, model_name, full=False):
        """Queue an import of ``model_name`` from each machine.

        Returns True, or, when a machine's import was not queued (its
        chain is still running), an action that tells the person why.
        """
        self._check_may_sync()
        self._check_credentials()
        return self._tell([backend._queue_import(model_name, full=full)
                           for backend in self])

    @api.multi
    def _queue_import(self, model_name, full=False):
        """Queue the first page of a chain of ``import_batch`` jobs, unless
        a chain of the machine and object is still waiting or running.

        Returns None when queued, else why not. Race-safe: the row of
        the machine and object in ``coffee.import.chain`` is written first,
        so that of two transactions queueing at once (REPEATABLE READ) the
        second waits for the first and then fails to serialize; Odoo's RPC
        layer runs it again (the job runner postpones a job), in a
        transaction that sees the first chain. Jobs never write that row.
        """
        self.ensure_one()
        self.env['coffee.import.chain']._claim(self, model_name)
        description = self.env[model_name]._description
        if self._open_import_chain(model_name):
            return _('%(machine)s: the import of %(model)s is still running; '
                     'not queued again.') % {
                         'machine': self.name, 'model': description}
        self.env[model_name].with_delay(
            description=(
                _('Import %(model)s from %(machine)s (full)') if full
                else _('Import %(model)s from %(machine)s')) % {
                    'model': description, 'machine': self.name},
            max_retries=IMPORT_MAX_RETRIES,
        ).import_batch(self, full=full)
        return None

    @api.multi
    def _open_import_chain(self, model_name):
        """The waiting or running pages (the first one or a continuation)
        of an import of ``model_name`` from the machine."""
        self.ensure_one()
        return self.env['queue.job'].sudo().search([
            ('coffee_backend_id', '=', self.id),
            ('model_name', '=', model_name),
            ('method_name', '=', 'import_batch'),
            ('state', 'in', OPEN_JOB_STATES),
        ], limit=1)

    @api.model
    def _tell(self, messages):
        """True, or an action showing the ``messages`` that are set."""
        messages = [message for message in messages if message]
        if not messages:
            return True
        return self.env['coffee.message']._action_show('\n'.join(messages))

    @api.multi
    def import_beverages(self):
        return self._import('coffee.product.product')

    @api.multi
    def import_consumers(self):
        return self._import('coffee.res.partner')

    @api.multi
    def import_brews(self):
        return self._import('coffee.brew')

    @api.multi
    def import_all(self):
        """Queue the import of everything that changed on the machine.

        When the full import interval has passed, consumers are listed in
        full, which reveals the cards removed from a 1900. An import whose
        chain is still running is not queued again (the person is told).
        """
        self._check_may_sync()
        self._check_credentials()
        messages = []
        for backend in self:
            full = backend._full_import_due()
            messages.append(backend._queue_import('coffee.product.product'))
            not_queued = backend._queue_import('coffee.res.partner',
                                               full=full)
            messages.append(not_queued)
            messages.append(backend._queue_import('coffee.brew'))
            if full and not not_queued:
                backend.last_full_import = fields.Datetime.now()
        return self._tell(messages)

    @api.multi
    def _full_import_due(self):
        self.ensure_one()
        if not self.full_import_interval:
            return False
        if not self.last_full_import:
            return True
        last = fields.Datetime.from_string(self.last_full_import)
        return datetime.now() - last >= timedelta(
            hours=self.full_import_interval)

    @api.model
    def _scheduler_import_all(self):
        """Machines whose credentials this server cannot read are left
        alone (said once per run in the log)."""
        backends = self.search([])
        unavailable = backends.filtered('credentials_problem')
        for backend in unavailable:
            _logger.warning('%s: not imported: %s', backend.name,
                            backend.credentials_problem)
        (backends - unavailable).import_all()

    # -- watermarks -------------------------------------------------------

    @api.multi
    def _get_watermark(self, model_name):
        self.ensure_one()
        mark = self.env['coffee.backend.watermark'].search(
            [('backend_id', '=', self.id), ('model', '=', model_name)])
        return mark.value or None

    @api.multi
    def _watermark_row(self, model_name):
        """The watermark row of ``model_name``, created when missing."""
        self.ensure_one()
        marks = self.env['coffee.backend.watermark']
        mark = marks.search(
            [('backend_id', '=', self.id), ('model', '=', model_name)])
        return mark or marks.create(
            {'backend_id': self.id, 'model': model_name})

    @api.multi
    def _set_watermark(self, model_name, value):
        """Move the watermark forward, never back."""
        mark = self._watermark_row(model_name)
        if not mark.value or value > mark.value:
            mark.value = value

    @api.multi
    def _set_last_sync(self, model_name):
        """The import chain of ``model_name`` ended well: said on the
        object's own row, which the chains of the other objects never
        write (a write on the backend's row would make them collide)."""
        self._watermark_row(model_name).last_sync = fields.Datetime.now()

    # -- checkpoints ------------------------------------------------------

    @api.multi
    def add_checkpoint(self, model=None, record_id=None, message=None):
        """Ask a person to review a record, or to read a message.

        The same problem is posted once while it waits for review. The
        checkpoint mails the connector managers: for connector managers
        (and the connector's own jobs) only.
        """
        self.ensure_one()
        self._check_may_sync()
        checkpoints = self.env['connector.checkpoint'].sudo()
        model_id = False
        if model:
            model_id = self.env['ir.model']._get_id(model)
        backend_ref = '%s,%s' % (self._name, self.id)
        pending = checkpoints.search([
            ('backend_id', '=', backend_ref),
            ('state', '=', 'need_review'),
            ('model_id', '=', model_id),
            # an Integer field stores "not set" as 0
            ('record_id', '=', record_id or 0),
            ('message', '=', message or False),
        ], limit=1)
        if pending:
            return pending
        return checkpoints.create({
            'backend_id': backend_ref,
            'model_id': model_id,
            'record_id': record_id or False,
            'message': message or False,
        })


class CoffeeBackendWatermark(models.Model):
    """How far the imports of one model from one machine have come.

    One row per model, so that the import chains of different models never
    write the same row.
    """

    _name = 'coffee.backend.watermark'
    _description = 'Coffee Import Watermark'
    _order = 'backend_id, model'

    backend_id = fields.Many2one(
        comodel_name='coffee.backend', required=True, ondelete='cascade')
    model = fields.Char(required=True)
    value = fields.Char(
        string='Changed Up To',
        help="The machine's timestamp of the newest record imported.")
    last_sync = fields.Datetime(
        string='Imported On', readonly=True,
        help="End of the last import of this object that succeeded.")
    model_description = fields.Char(
        string='Object', compute='_compute_model_description')

    @api.depends('model')
    def _compute_model_description(self):
        """'Coffee Brew' rather than 'coffee.brew', in the user's
        language."""
        models = self.env['ir.model']
        for mark in self:
            mark.model_description = models._get(mark.model).name or \
                mark.model

    _sql_constraints = [
        ('backend_model_uniq', 'unique(backend_id, model)',
         'One watermark per machine and model.'),
    ]


class CoffeeImportChain(models.Model):
    """When an import chain of a machine and object was last queued.

    The row the transactions that queue a chain write, so that two of
    them at once serialize (see ``coffee.backend._queue_import``).
    """

    _name = 'coffee.import.chain'
    _description = 'Coffee Import Chain'
    _log_access = False

    backend_id = fields.Many2one(
        comodel_name='coffee.backend', required=True, ondelete='cascade')
    model = fields.Char(required=True)
    queued_date = fields.Datetime(string='Last Queued On')

    _sql_constraints = [
        ('backend_model_uniq', 'unique(backend_id, model)',
         'One row per machine and model.'),
    ]

    @api.model
    def _claim(self, backend, model_name):
        """Write the row of ``backend`` and ``model_name`` (created the
        first time)."""
        self.env.cr.execute("""
            INSERT INTO coffee_import_chain (backend_id, model, queued_date)
            VALUES (%s, %s, now() AT TIME ZONE 'UTC')
            ON CONFLICT (backend_id, model)
            DO UPDATE SET queued_date = EXCLUDED.queued_date
        """, (backend.id, model_name), log_exceptions=False)


def _last_line(text):
    """The exception of a traceback: its last line that is not empty."""
    lines = [line for line in (text or '').splitlines() if line.strip()]
    return lines[-1] if lines else ''
