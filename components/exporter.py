# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Exporters: Odoo's changes of one binding, sent to its machine.

An export reads the machine's record first and sends only the values that
differ from it. The 2900 answers every read and write with an ETag, and a
write carries the ETag of the record it was computed from (``If-Match``):
when someone changed the record on the machine in between, the machine
answers ``412``; the exporter reads the record again and

- when the machine changed one of the values being exported, keeps the
  machine's value, posts a checkpoint on the Odoo record naming the field
  and both values (nothing is lost, a person decides);
- otherwise sends its values again with the new ETag: the changes of both
  sides are merged.

The 1900 has no ETag: its adapters answer ``None`` for one and write with
a plain ``PUT``, so it never comes to a ``412``.
"""
import logging

from odoo import _, fields

from odoo.addons.component.core import AbstractComponent
from odoo.addons.queue_job.exception import FailedJobError, RetryableJobError

from ..protocol import CoffeeConflict, CoffeeNotFound, CoffeePreconditionFailed
from .core import CHANGING_RETRY_SECONDS, EXPORT_LOCK_RETRY_SECONDS

_logger = logging.getLogger(__name__)

# how many times a write refused with 412 is tried again with a fresh ETag
# before the job is retried later
MAX_PRECONDITION_RETRIES = 3


class CoffeeExporter(AbstractComponent):
    """Export one binding: create its record on the machine, or update
    the values that differ."""

    _name = 'coffee.exporter'
    _inherit = ['base.exporter', 'base.coffee.connector']
    _usage = 'record.exporter'

    def __init__(self, work_context):
        super(CoffeeExporter, self).__init__(work_context)
        self.binding = None
        self.external_id = None

    # -- hooks -----------------------------------------------------------

    def _lock(self):
        """No two exports of one binding run at once (the other job is
        retried when this transaction ends)."""
        self.component(usage='record.locker').lock(
            self.binding, seconds=EXPORT_LOCK_RETRY_SECONDS)

    def _has_to_skip(self):
        """An archived binding is not on the machine any more."""
        return not self.binding.active

    def _after_export(self, record):
        """Hook after a successful export; ``record`` as the machine
        answered it."""

    # -- flow ------------------------------------------------------------

    def run(self, binding, fields=None):
        """Export ``binding``; only the Odoo ``fields`` given, when given.

        Returns a message for the job's result.
        """
        self.binding = binding
        self.external_id = self.binder.to_external(binding)
        self._lock()
        if self._has_to_skip():
            return _('%s is archived: nothing to export.') % \
                binding.display_name
        self.backend_record._ensure_machine_info()
        if not self.external_id:
            record = self._create_on_machine()
            self._stamp(record, None)
            self._after_export(record)
            return _('%(record)s created on the machine as %(id)s.') % {
                'record': binding.display_name, 'id': self.external_id}
        return self._update_on_machine(fields)

    def _create_on_machine(self):
        values = self.mapper.export_values(self.binding, for_create=True)
        try:
            record = self.backend_adapter.create_on_machine(values)
        except CoffeeConflict as err:
            if err.retryable:
                raise
            raise FailedJobError(self._conflict_message(values, err))
        external_id = self.backend_adapter.id_of(record)
        if not external_id:
            raise FailedJobError(
                _('%s: the machine created the record but its answer has no '
                  'id.') % self.binding.display_name)
        self.external_id = external_id
        self.binder.bind(external_id, self.binding)
        return record

    def _conflict_message(self, values, error):
        """The machine refused a creation with 409."""
        return _('%(record)s could not be created on %(machine)s: it '
                 'already has this record (%(reason)s).') % {
            'record': self.binding.display_name,
            'machine': self.backend_record.name,
            'reason': error}

    def _read_current(self):
        """``(record, etag)`` of the machine; a removed record fails the
        job, the import archives its binding."""
        try:
            record, etag = self.backend_adapter.read_for_export(
                self.external_id)
        except CoffeeNotFound:
            record, etag = {'deleted': True}, None
        if record.get('deleted') is True:
            raise FailedJobError(
                _('%(record)s is no longer on %(machine)s (id %(id)s): '
                  'nothing exported.') % {
                    'record': self.binding.display_name,
                    'machine': self.backend_record.name,
                    'id': self.external_id})
        return record, etag

    def _update_on_machine(self, field_names):
        values = self.mapper.export_values(self.binding, field_names)
        record, etag = self._read_current()
        base = record
        changes = self._changes(values, record)
        conflicts = []
        answer = None
        for __ in range(MAX_PRECONDITION_RETRIES + 1):
            if not changes:
                break
            try:
                answer, etag = self.backend_adapter.write_changes(
                    self.external_id, changes, etag)
                break
            except CoffeePreconditionFailed:
                fresh, etag = self._read_current()
                changed = self._changed_meanwhile(changes, base, fresh)
                for key, lang in changed:
                    conflicts.append((key, lang, changes, base, fresh))
                values = self._without(values, changed)
                base = fresh
                changes = self._changes(values, fresh)
        else:
            raise RetryableJobError(
                _('%s keeps changing on the machine; the export will be '
                  'tried again later.') % self.binding.display_name,
                seconds=CHANGING_RETRY_SECONDS)
        for conflict in conflicts:
            self._post_conflict(*conflict)
        if answer is None:
            if conflicts:
                return _('Nothing exported: the machine changed the same '
                         'values meanwhile (see the checkpoint).')
            return _('Nothing to export: the machine has the same values.')
        self._stamp(answer, base)
        self._after_export(answer)
        return _('Exported %(keys)s of %(record)s.') % {
            'keys': ', '.join(sorted(changes)),
            'record': self.binding.display_name}

    # -- values ------------------------------------------------------------

    def _changes(self, values, record):
        """The values that differ from the machine's ``record``."""
        changes = {}
        for key, value in values.items():
            current = record.get(key)
            if self.mapper.is_partial(key) and isinstance(value, dict):
                current = current if isinstance(current, dict) else {}
                part = dict((lang, text) for lang, text in value.items()
                            if current.get(lang) != text)
                if part:
                    changes[key] = part
            elif current != value:
                changes[key] = value
        return changes

    def _changed_meanwhile(self, changes, before, after):
        """``[(key, lang or None)]`` of the values being exported that the
        machine changed between ``before`` and ``after``."""
        changed = []
        for key, value in changes.items():
            if self.mapper.is_partial(key) and isinstance(value, dict):
                old = before.get(key) if isinstance(
                    before.get(key), dict) else {}
                new = after.get(key) if isinstance(
                    after.get(key), dict) else {}
                changed.extend((key, lang) for lang in sorted(value)
                               if old.get(lang) != new.get(lang))
            elif before.get(key) != after.get(key):
                changed.append((key, None))
        return changed

    @staticmethod
    def _without(values, changed):
        values = dict(values)
        for key, lang in changed:
            if lang is None:
                values.pop(key, None)
            elif isinstance(values.get(key), dict):
                part = dict(values[key])
                part.pop(lang, None)
                if part:
                    values[key] = part
                else:
                    values.pop(key)
        return values

    # -- results -------------------------------------------------------------

    def _stamp(self, record, base):
        """Remember the machine's timestamp of what we wrote, so the next
        import takes it as up to date.

        Only when the record we wrote over (``base``) held nothing the
        import has not seen: otherwise the next import must still bring the
        machine's other changes.
        """
        adapter = self.backend_adapter
        known = self.binding.coffee_updated_at
        values = {'sync_date': fields.Datetime.now()}
        base_stamp = adapter.timestamp_of(base) if base else None
        unseen = bool(base_stamp and known and base_stamp > known)
        stamp = adapter.timestamp_of(record)
        if stamp and not unseen:
            values['coffee_updated_at'] = stamp
        self.binding.with_context(connector_no_export=True).write(values)

    def _post_conflict(self, key, lang, changes, before, after):
        """A record checkpoint: the machine changed ``key`` meanwhile; its
        value is kept, Odoo's too."""
        field_label = '%s (%s)' % (key, lang) if lang else key
        ours = changes[key].get(lang) if lang else changes[key]
        theirs = after.get(key)
        if lang and isinstance(theirs, dict):
            theirs = theirs.get(lang)
        record = self.binding.odoo_id
        message = _(
            '%(machine)s changed %(field)s of %(record)s while Odoo was '
            'exporting it: the machine keeps %(theirs)s, Odoo keeps '
            '%(ours)s. Please decide which one is right.') % {
            'machine': self.backend_record.name,
            'field': field_label,
            'record': record.display_name,
            'theirs': self._show(theirs),
            'ours': self._show(ours)}
        _logger.info(message)
        self.backend_record.add_checkpoint(
            model=record._name, record_id=record.id, message=message)

    @staticmethod
    def _show(value):
        if isinstance(value, dict) and 'amount' in value:
            return '%s %s' % (value.get('amount'), value.get('currency'))
        return repr(value)
