"""SQLite persistence of one emulated machine.

One database file per state directory, one protocol per database.  The
schema is protocol neutral: each record has an integer primary key (the 1900
numbers: drink_no, log_no) and an opaque code (the 2900 ids: bev_..., con_...,
brw_...).  Every table is ordered and paged on (updated_us, pk) for the 1900
and (updated_us, code) for the 2900, both backed by an index.

Times are integer microseconds since the epoch, UTC.  On a 1900 every stored
time is a whole second (the firmware has one-second resolution).

All access goes through ``Store.lock`` (one connection shared by the request
threads, WAL journal, short transactions).
"""
import contextlib
import json
import os
import sqlite3
import threading

SCHEMA_VERSION = 1

TABLES = {
    'beverages': ('pk', 'code', 'names', 'price_cents', 'volume_ml',
                  'strength', 'active', 'updated_us'),
    'consumers': ('pk', 'code', 'badge', 'name', 'email', 'company', 'vat',
                  'credit_cents', 'blocked', 'deleted', 'updated_us'),
    'brews': ('pk', 'code', 'beverage_pk', 'beverage_code', 'consumer_pk',
              'consumer_code', 'badge', 'price_cents', 'status',
              'started_us', 'finished_us', 'updated_us'),
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS beverages (
    pk INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    names TEXT NOT NULL,
    price_cents INTEGER NOT NULL,
    volume_ml INTEGER NOT NULL,
    strength INTEGER NOT NULL,
    active INTEGER NOT NULL,
    updated_us INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS consumers (
    pk INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    badge TEXT NOT NULL,
    name TEXT,
    email TEXT,
    company TEXT,
    vat TEXT,
    credit_cents INTEGER NOT NULL,
    blocked INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    updated_us INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS consumers_live_badge
    ON consumers (badge) WHERE deleted = 0;
CREATE TABLE IF NOT EXISTS brews (
    pk INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    beverage_pk INTEGER NOT NULL,
    beverage_code TEXT NOT NULL,
    consumer_pk INTEGER,
    consumer_code TEXT,
    badge TEXT,
    price_cents INTEGER NOT NULL,
    status TEXT NOT NULL,
    started_us INTEGER NOT NULL,
    finished_us INTEGER,
    updated_us INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    brew_pk INTEGER NOT NULL,
    expires_us INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS webhooks (
    pk INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_us INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    pk INTEGER PRIMARY KEY,
    webhook_pk INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_us INTEGER NOT NULL,
    state TEXT NOT NULL,
    last_result TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, next_us);
""" + ''.join(
    # the paging indexes of every record table: <table>_upd_pk (1900) and
    # <table>_upd_code (2900), named in the listings' INDEXED BY
    'CREATE INDEX IF NOT EXISTS {0}_upd_pk ON {0} (updated_us, pk);\n'
    'CREATE INDEX IF NOT EXISTS {0}_upd_code ON {0} (updated_us, code);\n'
    .format(table) for table in TABLES)


class ProtocolMismatch(Exception):
    pass


class Store(object):

    def __init__(self, state_dir, protocol):
        if not os.path.isdir(state_dir):
            os.makedirs(state_dir)
        self.path = os.path.join(state_dir, 'machine.sqlite3')
        self.protocol = protocol
        self.lock = threading.RLock()
        self.db = sqlite3.connect(self.path, check_same_thread=False,
                                  isolation_level=None, timeout=30)
        self.db.execute('PRAGMA journal_mode=WAL')
        self.db.execute('PRAGMA synchronous=NORMAL')
        self.db.execute('PRAGMA temp_store=MEMORY')
        self.db.execute('PRAGMA cache_size=-32000')
        self.db.executescript(_SCHEMA)
        stored = self.get_meta('protocol')
        if stored is None:
            self.set_meta('protocol', protocol)
            self.set_meta('schema_version', SCHEMA_VERSION)
        elif stored != protocol:
            raise ProtocolMismatch(
                'state %s belongs to a Coffee %s, not a Coffee %s'
                % (state_dir, stored, protocol))

    def close(self):
        with self.lock:
            self.db.close()

    @contextlib.contextmanager
    def tx(self):
        """One write transaction (re-entrant: nested calls join it)."""
        with self.lock:
            if self.db.in_transaction:
                yield self.db
                return
            self.db.execute('BEGIN IMMEDIATE')
            try:
                yield self.db
            except BaseException:
                self.db.execute('ROLLBACK')
                raise
            self.db.execute('COMMIT')

    # -- meta ---------------------------------------------------------------

    def get_meta(self, key, default=None):
        with self.lock:
            row = self.db.execute('SELECT value FROM meta WHERE key = ?',
                                  (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_meta(self, key, value):
        with self.lock:
            self.db.execute(
                'INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)',
                (key, json.dumps(value)))

    # -- generic record access ---------------------------------------------

    def is_empty(self):
        with self.lock:
            for table in TABLES:
                if self.db.execute('SELECT 1 FROM %s LIMIT 1' % table).fetchone():
                    return False
        return True

    def wipe(self):
        with self.tx() as db:
            for table in ('beverages', 'consumers', 'brews', 'idempotency',
                          'webhooks', 'deliveries', 'meta'):
                db.execute('DELETE FROM %s' % table)
            db.execute('INSERT INTO meta (key, value) VALUES (?, ?)',
                       ('protocol', json.dumps(self.protocol)))
            db.execute('INSERT INTO meta (key, value) VALUES (?, ?)',
                       ('schema_version', json.dumps(SCHEMA_VERSION)))

    @staticmethod
    def _row(table, values):
        if values is None:
            return None
        rec = dict(zip(TABLES[table], values))
        if table == 'beverages':
            rec['names'] = json.loads(rec['names'])
        return rec

    def bulk_insert(self, table, rows):
        cols = TABLES[table]
        sql = 'INSERT INTO %s (%s) VALUES (%s)' % (
            table, ', '.join(cols), ', '.join('?' * len(cols)))

        def values(rec):
            if table == 'beverages':
                rec = dict(rec, names=json.dumps(rec['names'], sort_keys=True))
            if table == 'consumers':
                rec = dict(rec)
                rec.setdefault('deleted', 0)
            return tuple(rec.get(c) for c in cols)

        with self.tx() as db:
            db.executemany(sql, (values(r) for r in rows))

    def insert(self, table, rec):
        self.bulk_insert(table, [rec])

    def next_pk(self, table, floor=1):
        with self.lock:
            row = self.db.execute('SELECT MAX(pk) FROM %s' % table).fetchone()
        return max((row[0] or 0) + 1, floor)

    def update(self, table, pk, changes):
        if not changes:
            return
        changes = dict(changes)
        if 'names' in changes:
            changes['names'] = json.dumps(changes['names'], sort_keys=True)
        cols = sorted(changes)
        sql = 'UPDATE %s SET %s WHERE pk = ?' % (
            table, ', '.join('%s = ?' % c for c in cols))
        with self.tx() as db:
            db.execute(sql, tuple(changes[c] for c in cols) + (pk,))

    def get(self, table, pk=None, code=None, badge=None, with_deleted=False):
        cols = ', '.join(TABLES[table])
        if pk is not None:
            where, arg = 'pk = ?', pk
        elif code is not None:
            where, arg = 'code = ?', code
        else:
            where, arg = 'badge = ?', badge
        if table == 'consumers' and not with_deleted:
            where += ' AND deleted = 0'
        with self.lock:
            values = self.db.execute(
                'SELECT %s FROM %s WHERE %s' % (cols, table, where),
                (arg,)).fetchone()
        return self._row(table, values)

    def list_offset(self, table, since_us, offset, limit):
        """1900 paging: records with updated_us >= since_us (inclusive),
        ordered by (updated_us, pk); returns (total, records)."""
        cols = ', '.join(TABLES[table])
        where = ['updated_us >= ?']
        args = [since_us if since_us is not None else -2 ** 62]
        if table == 'consumers':
            where.append('deleted = 0')
        where = ' AND '.join(where)
        with self.lock:
            total = self.db.execute(
                'SELECT COUNT(*) FROM %s WHERE %s' % (table, where),
                args).fetchone()[0]
            rows = self.db.execute(
                'SELECT %s FROM %s INDEXED BY %s_upd_pk WHERE %s '
                'ORDER BY updated_us, pk LIMIT ? OFFSET ?'
                % (cols, table, table, where),
                args + [limit, offset]).fetchall()
        return total, [self._row(table, r) for r in rows]

    def list_cursor(self, table, since_us, after, limit, include_deleted=False):
        """2900 paging: records with updated_us > since_us (exclusive) and
        (updated_us, code) > after, ordered by (updated_us, code)."""
        cols = ', '.join(TABLES[table])
        lower = -2 ** 62
        where = []
        args = []
        if since_us is not None:
            lower = since_us + 1
        if after is not None:
            au, ac = after
            lower = max(lower, au)
            where.append('(updated_us > ? OR code > ?)')
            args.extend([au, ac])
        where.insert(0, 'updated_us >= ?')
        args.insert(0, lower)
        if table == 'consumers' and not include_deleted:
            where.append('deleted = 0')
        with self.lock:
            rows = self.db.execute(
                'SELECT %s FROM %s INDEXED BY %s_upd_code WHERE %s '
                'ORDER BY updated_us, code LIMIT ?'
                % (cols, table, table, ' AND '.join(where)),
                args + [limit]).fetchall()
        return [self._row(table, r) for r in rows]

    def all_rows(self, table, include_deleted=False, order='updated_us, pk'):
        cols = ', '.join(TABLES[table])
        where = ''
        if table == 'consumers' and not include_deleted:
            where = 'WHERE deleted = 0'
        with self.lock:
            rows = self.db.execute('SELECT %s FROM %s %s ORDER BY %s'
                                   % (cols, table, where, order)).fetchall()
        return [self._row(table, r) for r in rows]

    def count(self, table, where='1', args=()):
        with self.lock:
            return self.db.execute('SELECT COUNT(*) FROM %s WHERE %s'
                                   % (table, where), args).fetchone()[0]

    def max_updated(self):
        with self.lock:
            best = 0
            for table in TABLES:
                v = self.db.execute('SELECT MAX(updated_us) FROM %s'
                                    % table).fetchone()[0]
                best = max(best, v or 0)
        return best

    def execute(self, sql, args=()):
        with self.lock:
            return self.db.execute(sql, args).fetchall()
