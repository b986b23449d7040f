# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""What the export listeners of every model share.

A change queues one export job per active binding, a few seconds later:
the jobs are identified by their arguments (``identity_exact``), so a
burst of edits of one record gives one pending job. Writes done with
``connector_no_export`` in the context (imports, exports storing what the
machine answered) queue nothing. The user who edits is checked when the
export is queued (see ``coffee.binding._check_may_export``).
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
    def exported(fields, relevant):
        """The ``relevant`` fields among the ``fields`` written, sorted
        (the same edits give the same job arguments)."""
        return sorted(set(fields or ()) & set(relevant))

    def export_bindings(self, bindings, field_names):
        """Queue the export of ``field_names`` of each active binding."""
        if not field_names:
            return
        for binding in bindings.filtered('active'):
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
