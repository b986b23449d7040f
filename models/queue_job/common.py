# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import _, api, fields, models


class QueueJob(models.Model):
    """The jobs of the coffee machines.

    Each concern that follows a job's state (its run lock, its machine,
    the brew it pours) extends ``_coffee_state_written``, in its own module
    of this package; ``write`` calls it once.
    """

    _inherit = 'queue.job'

    # which machine a job works for, so that a backend can list its jobs
    # (the job's arguments are not searchable)
    coffee_backend_id = fields.Many2one(
        comodel_name='coffee.backend', string='Coffee Machine',
        compute='_compute_coffee_backend_id', store=True, readonly=True,
        index=True, ondelete='set null')

    @api.multi
    def write(self, vals):
        result = super(QueueJob, self).write(vals)
        if vals.get('state') and self.ids:
            self._coffee_state_written(vals['state'])
        return result

    @api.multi
    def _coffee_state_written(self, state):
        """The jobs of ``self`` were just written in ``state`` (a
        queue_job state constant), in the transaction that writes them."""

    @api.depends('model_name', 'record_ids', 'args')
    def _compute_coffee_backend_id(self):
        """The backend given as argument, else the backend of the job's
        bindings (exports, brew commands); none when it no longer exists
        (old jobs, computed again when the addon is installed again)."""
        for job in self:
            job.coffee_backend_id = job._coffee_backend()

    @api.multi
    def _coffee_backend(self):
        self.ensure_one()
        backends = self.env['coffee.backend']
        for arg in self.args or ():
            if getattr(arg, '_name', None) == 'coffee.backend':
                return arg[:1].exists()
        if not self.model_name or self.model_name not in self.env:
            return backends
        model = self.env[self.model_name]
        if self.model_name == 'coffee.backend':
            return model.browse(self.record_ids or []).exists()[:1]
        if 'backend_id' in model._fields and \
                model._fields['backend_id'].comodel_name == 'coffee.backend':
            records = model.with_context(active_test=False).browse(
                self.record_ids or []).exists()
            return records.mapped('backend_id')[:1]
        return backends

    @api.multi
    def related_action_coffee_backend(self):
        """Open the coffee machine a job works for (its first argument)."""
        self.ensure_one()
        backend = self.args[0] if self.args else None
        if getattr(backend, '_name', None) != 'coffee.backend' \
                or not backend.exists():
            return None
        return {
            'name': _('Coffee Machine'),
            'type': 'ir.actions.act_window',
            'res_model': 'coffee.backend',
            'view_type': 'form',
            'view_mode': 'form',
            'res_id': backend.id,
        }

    @api.multi
    def related_action_coffee_record(self):
        """Open what a job imported or exported by a machine id.

        ``import_record(backend, external_id)`` runs on the model, not on
        a binding: connector's ``related_action_unwrap_binding`` finds no
        record there. The binding is looked up by its machine id (the Odoo
        record it binds is opened, or the brew itself); before the job has
        created it, the machine is opened.
        """
        self.ensure_one()
        if self.record_ids:
            return self.related_action_unwrap_binding()
        args = self.args or ()
        if len(args) < 2 or \
                getattr(args[0], '_name', None) != 'coffee.backend':
            return None
        backend = args[0].exists()
        if not backend:
            return None
        model = self.env[self.model_name]
        binding = model.with_context(active_test=False).search(
            [('backend_id', '=', backend.id),
             ('coffee_id', '=', str(args[1]))], limit=1)
        if not binding:
            return self.related_action_coffee_backend()
        odoo_record = binding.odoo_id if 'odoo_id' in binding._fields \
            else binding
        return {
            'name': _('Related Record'),
            'type': 'ir.actions.act_window',
            'res_model': odoo_record._name,
            'view_type': 'form',
            'view_mode': 'form',
            'res_id': odoo_record.id,
        }
