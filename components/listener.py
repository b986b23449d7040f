# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""What the export listeners of every model share.

A change queues one export job per active binding, a few seconds later:
the jobs are identified by their arguments (``identity_exact``), so a
burst of edits of one record gives one pending job. What an edit exports
is what the export mapper of the binding's machine says: the fields its
mappings are changed by (``@changed_by``); an edit of none of them queues
nothing. Writes done with ``connector_no_export`` in the context
(imports, exports storing what the machine answered) queue nothing. The
user who edits is checked when the export is queued (see
``coffee.binding._check_may_export``).
"""
from odoo import _

from odoo.addons.component.core import AbstractComponent
from odoo.addons.queue_job.job import identity_exact

# seconds an export waits, so that the edits of a burst land in one job
EXPORT_DELAY = 5


class CoffeeExportListener(AbstractComponent):
    _name = 'coffee.export.listener'
    _inherit = 'base.connector.listener'

    @staticmethod
    def _mapper_fields(binding, known):
        """The Odoo fields the export mapper of ``binding``'s machine is
        changed by; ``known`` keeps them by backend and model.

        The mapper is a version component: each machine answers for its
        own. No client is needed to ask it.
        """
        key = (binding.backend_id.id, binding._name)
        if key not in known:
            backend = binding.sudo().backend_id
            with backend.work_on(binding._name, coffee_client=None) as work:
                mapper = work.component(usage='export.mapper')
                known[key] = mapper.changed_by_fields()
        return known[key]

    def export_bindings(self, bindings, fields):
        """Queue the export of each active binding, for the ``fields``
        written that its export mapper is changed by, sorted (the same
        edits give the same job arguments)."""
        if not fields:
            return
        known = {}
        for binding in bindings.filtered('active'):
            field_names = sorted(
                set(fields) & self._mapper_fields(binding, known))
            if not field_names:
                continue
            binding._check_may_export(field_names)
            binding.with_delay(
                eta=EXPORT_DELAY,
                identity_key=identity_exact,
                description=_('Export %(fields)s of %(record)s to '
                              '%(machine)s') % {
                    'fields': ', '.join(field_names),
                    'record': binding.display_name,
                    'machine': binding.backend_id.name},
            ).export_record(fields=field_names)
