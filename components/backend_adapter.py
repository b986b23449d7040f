# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Backend adapters: the machine's resources as pages and records.

The HTTP conversation itself is in ``protocol/``; an adapter only knows
which resource a model lives in, how that version pages through it and
how it reads and writes one record. Paging moves forward by a *state* (a
small dict that a job can carry to the next page) and tells the highest
machine timestamp it has seen, the import watermark.
"""
import datetime

from odoo.addons.component.core import AbstractComponent

from ..protocol import (
    TIMESTAMP_FORMAT_1900,
    TIMESTAMP_FORMAT_2900,
    CoffeeValidationError,
)


class CoffeeAdapter(AbstractComponent):
    """A resource of the machine, whatever its version."""

    _name = 'coffee.adapter'
    _inherit = ['base.backend.adapter', 'base.coffee.connector']
    _usage = 'backend.adapter'

    _resource = None  # name of the resource in the machine's API
    _id_field = None  # key of the record's id in the machine's records
    _timestamp_field = None  # key of its last change
    _timestamp_format = None  # strptime format of that key

    @property
    def client(self):
        """The protocol client of the backend (see coffee.backend.work_on)."""
        return self.work.coffee_client

    def id_of(self, record):
        """The machine id of a record, as the text the binding stores."""
        value = record.get(self._id_field) if isinstance(record, dict) \
            else None
        if value is None or value == '' or isinstance(value, bool):
            return None
        return str(value)

    def timestamp_of(self, record):
        """The record's last change as the machine wrote it, or None.

        Both versions write timestamps of a fixed width, so the texts sort
        like the times they stand for.
        """
        value = record.get(self._timestamp_field) \
            if isinstance(record, dict) else None
        if not isinstance(value, str):
            return None
        # a damaged one ("2026-13-32 24:00:00") must not become the
        # watermark: it sorts after every real one and the machine refuses
        # it as a filter
        try:
            datetime.datetime.strptime(value, self._timestamp_format)
        except ValueError:
            return None
        return value

    def fetch_page(self, state):
        """One page: ``(records, next_state or None, watermark or None)``."""
        raise NotImplementedError

    def read(self, external_id):  # pylint: disable=method-required-super
        """One record by its machine id."""
        raise NotImplementedError

    # -- what an exporter needs -------------------------------------------

    def read_for_export(self, external_id):
        """``(record, etag or None)``: the record an export compares to."""
        raise NotImplementedError

    def write_changes(self, external_id, values, etag=None):
        """Write ``values``; ``(record as answered, new etag or None)``.

        Raises CoffeePreconditionFailed when ``etag`` is stale.
        """
        raise NotImplementedError

    def create_on_machine(self, values):
        """Create a record; returns it as the machine answered."""
        raise NotImplementedError

    def delete_on_machine(self, external_id):
        raise NotImplementedError


class Coffee1900Adapter(AbstractComponent):
    """Pages of a 1900: numbered, filtered by an *inclusive* second.

    The state is ``{'since': <modified_after>, 'page': n}``. After a page
    the next one starts again at page 1 from the newest second seen, which
    brings that second's records again (a no-op for the importer); only
    when a whole page shares one second does it go to the next page
    number, so records sharing a second across a page boundary are never
    skipped, and records changed meanwhile (they move to the end of the
    ordering) are seen later in the same run.
    """

    _name = 'coffee.1900.adapter'
    _inherit = 'coffee.adapter'
    _coffee_version = '1900'
    _timestamp_field = 'modified'
    _timestamp_format = TIMESTAMP_FORMAT_1900
    _per_page = 100

    def fetch_page(self, state):
        state = state or {}
        since = state.get('since')
        page = state.get('page') or 1
        body = self.client.list_page(
            self._resource, page=page, per_page=self._per_page,
            modified_after=since)
        records = body['items']
        stamps = [s for s in map(self.timestamp_of, records) if s]
        newest = max(stamps) if stamps else None
        total = body.get('total')
        last = (not records or len(records) < self._per_page
                or (isinstance(total, int) and page * self._per_page >= total))
        if last:
            next_state = None
        elif newest and newest != since:
            next_state = {'since': newest, 'page': 1}
        else:
            next_state = {'since': since, 'page': page + 1}
        return records, next_state, newest

    def read_for_export(self, external_id):
        """The 1900 has no ETag: the record alone (it writes with a plain
        ``PUT``)."""
        return self.read(external_id), None


class Coffee2900Adapter(AbstractComponent):
    """Pages of a 2900: cursors, filtered by an *exclusive* instant.

    A run starts from ``{'since': <watermark>}`` and asks for what changed
    from one microsecond before it, so a record that shares the
    watermark's instant but was not imported yet is not lost (the one that
    set the watermark comes again, a no-op). Its next pages carry
    ``{'filter': <updated_since sent>, 'cursor': c, 'mark': <newest seen>}``.

    Every read and write answers an ETag; a write is a ``PATCH`` with the
    ETag it was computed from as ``If-Match``.
    """

    _name = 'coffee.2900.adapter'
    _inherit = 'coffee.adapter'
    _coffee_version = '2900'
    _id_field = 'id'
    _timestamp_field = 'updated_at'
    _timestamp_format = TIMESTAMP_FORMAT_2900
    _limit = 500
    _include_deleted = False

    @staticmethod
    def _just_before(timestamp):
        moment = datetime.datetime.strptime(timestamp, TIMESTAMP_FORMAT_2900)
        moment -= datetime.timedelta(microseconds=1)
        return moment.strftime(TIMESTAMP_FORMAT_2900)

    def fetch_page(self, state):
        state = state or {}
        cursor = state.get('cursor')
        if cursor:
            updated_since = state.get('filter')
        else:
            since = state.get('since')
            updated_since = self._just_before(since) if since else None
        try:
            body = self.client.list_page(
                self._resource, limit=self._limit, cursor=cursor,
                updated_since=updated_since,
                include_deleted=self._include_deleted)
        except CoffeeValidationError:
            if not cursor:
                raise
            # the cursor expired (a job waited too long): go on from the
            # newest instant imported so far instead
            return self.fetch_page({'since': state.get('mark')})
        records = body['data']
        stamps = [s for s in map(self.timestamp_of, records) if s]
        newest = max(stamps + [state.get('mark') or '']) or None
        next_state = None
        if body['next_cursor'] and records:
            next_state = {'filter': updated_since,
                          'cursor': body['next_cursor'], 'mark': newest}
        return records, next_state, newest

    def read(self, external_id):  # pylint: disable=method-required-super
        record, __ = self.client.get_record(self._resource, external_id)
        return record

    def read_for_export(self, external_id):
        """The record with its ETag, for the ``If-Match`` of the write."""
        return self.client.get_record(self._resource, external_id)

    def write_changes(self, external_id, values, etag=None):
        return self.client.patch_record(
            self._resource, external_id, values, if_match=etag)
