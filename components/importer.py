# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Importers: one record, and one chunk of pages of records at a time.

A batch import is a chain of jobs, one per chunk of pages: each job imports
its chunk, moves the object's watermark and queues the job of the next
chunk, all in one transaction. A failed chunk is retried alone; the
watermark never gets ahead of what is committed. The last chunk says on the
watermark's row when the chain ended (the object's last sync).
"""
import hashlib
import logging
import sys
from contextlib import contextmanager

import psycopg2

from odoo import _, fields
from odoo.exceptions import UserError, ValidationError

from odoo.addons.component.core import AbstractComponent
from odoo.addons.connector.exception import InvalidDataError, MappingError
from odoo.addons.queue_job.exception import RetryableJobError

from ..protocol import CoffeeError
from .core import IMPORT_LOCK_RETRY_SECONDS, IMPORT_MAX_RETRIES, record_savepoint

_logger = logging.getLogger(__name__)

# what a machine record can do wrong; anything else is a bug and fails the
# job with its traceback
RECORD_ERRORS = (MappingError, InvalidDataError, UserError, ValidationError,
                 psycopg2.DataError)


def import_lock_name(backend, model_name, external_id):
    """The advisory lock of the import of one machine record."""
    return 'coffee-import %s %s %s' % (backend.id, model_name, external_id)


def advisory_lock_key(name):
    """The bigint key connector's ``pg_try_advisory_lock`` takes for
    ``name``: a chunk locks its records in one query, and must exclude the
    jobs that lock them one by one."""
    digest = hashlib.sha1(str(name).encode()).digest()
    return int.from_bytes(digest[:8], sys.byteorder, signed=True)


@contextmanager
def _nothing_to_undo():
    yield


class CoffeeImporter(AbstractComponent):
    """Import one machine record (fetched, or given by a page)."""

    _name = 'coffee.importer'
    _inherit = ['base.importer', 'base.coffee.connector']
    _usage = 'record.importer'

    def __init__(self, work_context):
        super(CoffeeImporter, self).__init__(work_context)
        self.external_id = None
        self.coffee_record = None
        self.coffee_stamp = None
        # the same for every record the importer imports
        self._write_model = None
        self._languages = None

    def _lock(self):
        """No two jobs import the same machine record at once.

        The binding may not exist yet, so there is no row to lock: an
        advisory lock on the machine id stands for it, and the job that
        does not get it is retried (and then finds the binding).
        """
        self.advisory_lock_or_retry(
            import_lock_name(self.backend_record, self.model._name,
                             self.external_id),
            retry_seconds=IMPORT_LOCK_RETRY_SECONDS)

    def _must_skip(self, binding):
        """The binding already holds this version of the record."""
        stamp = self.coffee_stamp
        return bool(binding and stamp and binding.coffee_updated_at
                    and binding.coffee_updated_at >= stamp)

    def _check_timestamp(self, record):
        """The record's time of its last change (the machine's text).

        A record without a valid one is damaged: imported anyway, it would
        be imported again on every run and nobody would hear of it. It is
        refused (a checkpoint says why). The mappers leave this check to
        the importer.
        """
        adapter = self.backend_adapter
        stamp = adapter.timestamp_of(record)
        if stamp is None:
            value = record.get(adapter._timestamp_field) \
                if isinstance(record, dict) else None
            raise MappingError(
                _('field %(field)r is %(value)r, not a time of the machine')
                % {'field': adapter._timestamp_field,
                   'value': value[:40] if isinstance(value, str) else value})
        return stamp

    def _is_deleted(self):
        """The machine says the record is gone (a 2900 tombstone)."""
        return self.coffee_record.get('deleted') is True

    def _import_deleted(self, binding):
        """What a deleted record does to its binding; nothing by default."""
        return binding

    def _import_dependencies(self):
        """Import the records this one points to; nothing by default."""

    def _import_dependency(self, external_id, binding_model):
        """Import ``external_id`` of ``binding_model`` unless it is known."""
        if not external_id:
            return self.env[binding_model].browse()
        binder = self.binder_for(binding_model)
        binding = binder.to_internal(external_id)
        if not binding:
            importer = self.component(usage='record.importer',
                                      model_name=binding_model)
            binding = importer.run(external_id)
        return binding

    # what an import writes is the machine's, not a person's: no export
    # back, and no chatter message nor follower per imported record
    _write_context = {
        'connector_no_export': True,
        'tracking_disable': True,
        'mail_create_nolog': True,
        'mail_create_nosubscribe': True,
    }

    def _undo_on_failure(self):
        """A context manager that undoes what the importer keeps beyond
        the database when the import fails (its savepoint is rolled
        back); nothing by default."""
        return _nothing_to_undo()

    def _map_options(self):
        """Options of the mapper (``map_record.values(**options)``)."""
        return {}

    def _create(self, values):
        if self._write_model is None:
            self._write_model = self.model.with_context(**self._write_context)
        return self._write_model.create(values)

    def _update(self, binding, values):
        binding.with_context(**self._write_context).write(values)

    def _after_import(self, binding):
        """Write the texts the machine has in other languages."""
        if self._languages is None:
            self._languages = set(
                self.env['res.lang'].search([]).mapped('code'))
        languages = self._languages
        for lang, values in self.mapper.translations(
                self.coffee_record).items():
            if lang in languages and lang != self.env.lang:
                self._update(binding.with_context(lang=lang), values)

    def run(self, external_id=None, record=None, force=False, binding=None,
            locked=False):
        """Import a record by id, or the ``record`` a page gave.

        ``binding`` is the record's binding when the caller looked it up
        already (an empty recordset: there is none). ``locked``: the caller
        holds the record's lock (a chunk takes all of them at once).
        Returns the binding (empty when there is nothing to bind).
        """
        if record is not None:
            external_id = self.backend_adapter.id_of(record)
            if external_id is None:
                raise MappingError(_('the record has no id'))
        self.external_id = external_id
        if not locked:
            self._lock()
        self.backend_record._ensure_machine_info()
        if record is None:
            record = self.backend_adapter.read(external_id)
        self.coffee_record = record
        self.coffee_stamp = None
        with self._undo_on_failure():
            return self._import(record, binding, force)

    def _import(self, record, binding, force):
        external_id = self.external_id
        if binding is None:
            binding = self.binder.to_internal(external_id)
        if self._is_deleted():
            return self._import_deleted(binding)
        self.coffee_stamp = self._check_timestamp(record)
        if not force and self._must_skip(binding):
            return binding
        self._import_dependencies()
        map_record = self.mapper.map_record(record)
        sync = {
            'coffee_updated_at': self.coffee_stamp,
            'sync_date': fields.Datetime.now(),
        }
        if binding:
            values = map_record.values(**self._map_options())
            values.update(sync)
            self._update(binding, values)
        else:
            values = map_record.values(for_create=True,
                                       **self._map_options())
            values.update(sync, coffee_id=external_id)
            # coffee_id is written with the record instead of through
            # binder.bind(), which would cost a second write
            binding = self._create(values)
        self._after_import(binding)
        return binding


class CoffeeBatchImporter(AbstractComponent):
    """Import one chunk of a model's records (a page or a few), then
    queue the next chunk."""

    _name = 'coffee.batch.importer'
    _inherit = ['base.importer', 'base.coffee.connector']
    _usage = 'batch.importer'

    # a job fetches pages until it holds this many records: a machine with
    # small pages (the 1900 sends 100 at most) gives fewer, larger jobs
    _chunk_size = 1000
    # records written in one savepoint (see _import_records)
    _savepoint_size = 100

    def run(self, state=None, full=False):
        """``state`` None starts a run: from scratch when ``full``, else
        from the watermark (what changed since the last import)."""
        backend = self.backend_record
        backend._ensure_machine_info()
        if state is None:
            state = {} if full else {
                'since': backend._get_watermark(self.model._name)}
        records, next_state, watermark = self._fetch_chunk(state)
        self._lock_records(records)
        # one record importer (and mapper) for the chunk: what it looks up
        # once serves every record
        importer = self.component(usage='record.importer')
        self._prefetch(records, importer)
        bindings = self._bindings_of(records)
        failed = self._import_records(importer, records, bindings)
        if watermark:
            backend._set_watermark(self.model._name, watermark)
        if next_state:
            self.model.with_delay(
                description=self._next_chunk_description(),
                max_retries=IMPORT_MAX_RETRIES,
            ).import_batch(backend, state=next_state, full=full)
        else:
            self._after_last_page(full)
            backend._set_last_sync(self.model._name)
        summary = _('%(count)d records, %(failed)d failed') % {
            'count': len(records), 'failed': failed}
        return summary if next_state else _('%s, last page') % summary

    def _fetch_chunk(self, state):
        """Pages from ``state`` until ``_chunk_size`` records or the end:
        ``(records, next state or None, watermark or None)``.

        A record the machine sends twice (the 1900 repeats the newest second
        of a page on the next) is imported once, in its last version. A page
        that fails with a passing error ends the chunk early.
        """
        by_id = {}
        watermark = None
        while True:
            try:
                page, next_state, page_watermark = \
                    self.backend_adapter.fetch_page(state)
            except CoffeeError as err:
                if not (err.retryable and by_id):
                    raise
                # what was fetched is imported, the next job goes on from
                # the page that failed: a passing error costs one page
                _logger.info('%s: chunk cut at a failed page (%s)',
                             self.backend_record.name, err)
                return list(by_id.values()), state, watermark
            state = next_state
            for record in page:
                external_id = self.backend_adapter.id_of(record)
                key = external_id if external_id is not None else id(record)
                by_id.pop(key, None)
                by_id[key] = record
            if page_watermark and (not watermark
                                   or page_watermark > watermark):
                watermark = page_watermark
            if not state or len(by_id) >= self._chunk_size:
                return list(by_id.values()), state, watermark

    def _bindings_of(self, records):
        """The existing bindings of ``records``, by machine id, in one
        query instead of one per record."""
        external_ids = [i for i in map(self.backend_adapter.id_of, records)
                        if i is not None]
        if not external_ids:
            return {}
        # archived bindings too, returned in the importer's context, as
        # the binder's to_internal() does
        bindings = self.model.with_context(active_test=False).search([
            ('backend_id', '=', self.backend_record.id),
            ('coffee_id', 'in', external_ids),
        ]).with_env(self.model.env)
        return dict((b.coffee_id, b) for b in bindings)

    def _lock_records(self, records):
        """Take the import lock of every record of the chunk in one query
        (the lock ``CoffeeImporter._lock`` takes for one record): another
        job importing one of them makes this one retry."""
        keys = [advisory_lock_key(import_lock_name(
            self.backend_record, self.model._name, external_id))
            for external_id in map(self.backend_adapter.id_of, records)
            if external_id is not None]
        if not keys:
            return
        self.env.cr.execute(
            'SELECT bool_and(pg_try_advisory_xact_lock(key)) '
            'FROM unnest(%s::bigint[]) AS key', (keys,))
        if not self.env.cr.fetchone()[0]:
            raise RetryableJobError(
                _('another job imports records of this chunk'),
                seconds=IMPORT_LOCK_RETRY_SECONDS, ignore_retry=True)

    def _prefetch(self, records, importer):
        """Read in a few queries what the chunk's records will look up one
        by one, for ``importer`` (a hook; nothing by default)."""

    def _next_chunk_description(self):
        return _('Import %(model)s from %(machine)s (continued)') % {
            'model': self.model._description,
            'machine': self.backend_record.name}

    def _after_last_page(self, full):
        """Hook for what needs the whole listing (removed records)."""

    def _import_records(self, importer, records, bindings):
        """Import the chunk's records; returns how many failed.

        The records are written a group at a time in one savepoint. A
        group where a record fails is rolled back whole and written again
        one record per savepoint: each record is imported whole or not at
        all, a bad one becomes a checkpoint and the others go on.
        """
        failed = 0
        size = self._savepoint_size
        for start in range(0, len(records), size):
            group = [(record, bindings.get(self.backend_adapter.id_of(record),
                                           self.model.browse()))
                     for record in records[start:start + size]]
            if len(group) > 1 and self._import_group(importer, group):
                continue
            for record, binding in group:
                if not self._import_record(importer, record, binding):
                    failed += 1
        return failed

    def _import_group(self, importer, group):
        """Import ``group`` (records and their bindings) in one savepoint:
        False when one of them fails, and then nothing of it is written."""
        try:
            with self.env.cr.savepoint(), importer._undo_on_failure():
                for record, binding in group:
                    importer.run(record=record, binding=binding, locked=True)
        except CoffeeError as err:
            if err.retryable:
                raise
            reason = err
        except RECORD_ERRORS + (psycopg2.IntegrityError,) as err:
            reason = err
        else:
            return True
        _logger.debug('%s: %d records written again one by one (%s)',
                      self.backend_record.name, len(group), reason)
        # the records of the group created in this transaction are gone
        self.env.clear()
        return False

    def _import_record(self, importer, record, binding):
        """Import one record of the chunk; a bad one becomes a checkpoint.

        The record is written in a savepoint: it is imported whole or not
        at all, and the rest of the chunk goes on.
        """
        try:
            with record_savepoint(self.env.cr, self._record_name(record)):
                importer.run(record=record, binding=binding, locked=True)
        except CoffeeError as err:
            if err.retryable:
                raise
            self._record_failed(record, err)
            return False
        except RECORD_ERRORS as err:
            self._record_failed(record, err)
            return False
        return True

    def _record_name(self, record):
        return '%s %s' % (self.model._description,
                          self.backend_adapter.id_of(record) or _('(no id)'))

    def _record_failed(self, record, error):
        external_id = self.backend_adapter.id_of(record)
        reason = getattr(error, 'name', None) or str(error)
        message = _('%(model)s %(id)s of %(machine)s could not be imported: '
                    '%(reason)s') % {
            'model': self.model._description,
            'id': external_id or _('(no id)'),
            'machine': self.backend_record.name,
            'reason': reason}
        _logger.info(message)
        self.backend_record.add_checkpoint(message=message)
