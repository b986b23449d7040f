# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Uninstalling removes what the addon left in other addons' tables.

Odoo drops the addon's own tables, but its records in queue_job's and
keychain's would stay behind: job functions that pin the connector's
channel (which then cannot be deleted), jobs whose arguments name backends
that no longer exist (recomputing their stored ``coffee_backend_id`` breaks
the next install), and the backends' passwords. The hook runs before Odoo
deletes the addon's records, so it also empties the tables of the bindings,
which keep the backends from being deleted.
"""
import logging

from odoo import SUPERUSER_ID, api

_logger = logging.getLogger(__name__)

MODULE = 'connector_coffee'
# the models of the addon are named coffee.*; so are the job functions of
# their methods, '<coffee.backend>.import_batch'
JOB_FUNCTION_PATTERN = '<coffee.%'
KEYCHAIN_NAMESPACE = 'connector_coffee'


def _backend_rows_models(env):
    """The addon's stored models that point at a backend."""
    for model in env.registry.values():
        field = model._fields.get('backend_id')
        if model._name.startswith('coffee.') and model._auto \
                and not model._abstract and not model._transient \
                and field is not None and field.type == 'many2one' \
                and field.comodel_name == 'coffee.backend':
            yield model


def uninstall_hook(cr, registry):
    env = api.Environment(cr, SUPERUSER_ID, {})
    # plain SQL: unlinking bindings through the ORM would tell the machines
    # to delete what they bind, and uninstalling must not touch a machine
    for model in _backend_rows_models(env):
        cr.execute('DELETE FROM "%s"' % model._table)  # pylint: disable=sql-injection
        _logger.info('%s rows of %s removed', cr.rowcount, model._name)
    cr.execute("DELETE FROM queue_job WHERE model_name LIKE 'coffee.%%'")
    _logger.info('%s jobs of %s removed', cr.rowcount, MODULE)
    channel = env.ref('%s.channel_coffee' % MODULE, raise_if_not_found=False)
    cr.execute('DELETE FROM queue_job_function WHERE name LIKE %s'
               + (' OR channel_id = %s' if channel else ''),
               (JOB_FUNCTION_PATTERN,) + ((channel.id,) if channel else ()))
    _logger.info('%s job functions of %s removed', cr.rowcount, MODULE)
    if channel:
        channel.unlink()
    if 'keychain.account' in env:
        accounts = env['keychain.account'].search(
            [('namespace', '=', KEYCHAIN_NAMESPACE)])
        _logger.info('%s keychain accounts of %s removed',
                     len(accounts), MODULE)
        accounts.unlink()
