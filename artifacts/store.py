"""The SQLite artifact store: the only code that knows table layouts.

One schema serves both a device shard (written by one device's processing, in its own process) and the case store
(into which shards are merged by a single writer). Record tables are derived from the dataclasses in
``artifacts.records``; the inventory and bookkeeping tables are declared here. Every row of every table carries
``device_id``, so re-ingesting a device is "delete that device's rows, insert the shard's" inside one transaction.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import sqlite3
import sys
from collections import Counter
from pathlib import Path
from typing import Iterable


def _import_sqlite_utils():
    """sqlite-utils imports pandas and numpy when they are installed, only to map their scalar types to columns;
    no row here holds one, and the import cost a third of a second of every command. They are hidden from it while
    it loads (anything that imports them later gets them as usual)."""
    hidden = [name for name in ("pandas", "numpy") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # an import of it raises ImportError, which sqlite-utils expects
    try:
        import sqlite_utils
    finally:
        for name in hidden:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]
    return sqlite_utils


sqlite_utils = _import_sqlite_utils()

from artifacts import split_insert, timestamps  # noqa: E402  (after the import above, which must come first)
from artifacts.records import RECORD_TYPES, Record, column_kinds  # noqa: E402
from artifacts.sql_quoting import ident, sqlite_uri  # noqa: E402

_SQL_TYPES = {"text": str, "int": int, "float": float, "bool": int, "json": str}

# Columns every record table starts with: where the row came from.
PROVENANCE_COLUMNS: dict[str, type] = {
    "device_id": str, "evidence_id": str, "partition": str, "source_path": str, "source_inode": str,
    "source_table": str, "source_row": str, "parser": str, "parser_version": str, "from_wal": int, "recovered": int,
    "source_deleted": int, "wal_deleted": int, "recovered_from": str, "missing_fields": str, "older_version": int,
}

FIXED_TABLES: dict[str, dict[str, type]] = {
    "devices": {
        "device_id": str, "label": str, "status": str, "error": str, "platform": str,
        "evidence_sha256": str, "evidence_md5": str, "stored_md5": str, "stored_sha1": str, "hash_verified": int,
        "file_count": int, "model": str, "os_version": str, "serial": str, "udid": str, "phone_number": str,
        "device_name": str, "time_zone": str, "facts": str, "default_region": str, "region_reason": str,
    },
    "evidence": {
        "evidence_id": str, "device_id": str, "paths": str, "container": str, "media_size": int,
        "sha256": str, "md5": str, "stored_md5": str, "stored_sha1": str, "hash_verified": int,
        "segments": str, "layers": str,
    },
    "files": {
        "id": int, "device_id": str, "evidence_id": str, "partition": str, "path": str, "name": str,
        "inode": str, "size": int, "kind": str, "allocated": int, "recoverable": int,
        "mtime": str, "mtime_raw": str, "mtime_encoding": str, "atime": str, "atime_raw": str, "atime_encoding": str,
        "ctime": str, "ctime_raw": str, "ctime_encoding": str, "crtime": str, "crtime_raw": str,
        "crtime_encoding": str, "mtime_local": str, "atime_local": str, "ctime_local": str, "crtime_local": str,
        "sha256": str, "md5": str, "mime_type": str, "link_target": str, "note": str,
    },
    "parser_runs": {
        "id": int, "device_id": str, "evidence_id": str, "partition": str, "source_path": str, "source_inode": str,
        "parser": str, "parser_version": str, "app": str, "outcome": str, "records": int, "message": str,
        "recovered": int, "wal_records": int, "wal_deleted_records": int, "live_records": int,
        "carved_records": int, "carved_unmapped": int, "warnings": int,
    },
    # Everything unusual any layer met on a device (docs/problems.md lists the kinds): shown, never only logged.
    "problems": {"id": int, "device_id": str, "evidence_id": str, "kind": str, "where": str, "what": str},
    # One row per SQLCipher database the framework decrypted: that a key was used and how it was obtained (``how``);
    # ``key`` only when the examiner asked for it (``forensics ingest --record-keys``), otherwise NULL.
    "database_keys": {
        "id": int, "device_id": str, "evidence_id": str, "partition": str, "source_path": str, "source_inode": str,
        "parser": str, "app": str, "how": str, "key": str,
    },
    # One row per identifier per record that names it (artifacts.sightings), written with the device's shard.
    "sightings": {
        "id": int, **PROVENANCE_COLUMNS, "identifier": str, "kind": str, "platform": str, "artifact": str,
        "record_id": int, "role": str, "ts": str, "written_as": str, "tied_to": str,
    },
}
# Tables of the case store alone (never in a shard, never replaced by a merge): each device's state in the
# batch/ingest life cycle and every attempt to process it (failed and interrupted ones included); the case-wide
# identifiers built from the sightings by cases.links, and the record of each build.
CASE_TABLES: dict[str, dict[str, type]] = {
    "device_states": {
        "device_id": str, "state": str, "error": str, "run_id": str, "attempts": int, "evidence": str,
        "extra": str, "evidence_state": str, "evidence_hashes": str, "seconds": float, "queued_at": str,
        "started_at": str, "finished_at": str, "host": str, "pid": int, "engine": str, "problem": str,
    },
    "device_runs": {
        "id": int, "device_id": str, "run_id": str, "state": str, "error": str, "kept_earlier": int,
        "evidence": str, "evidence_hashes": str, "files": int, "records": int, "seconds": float,
        "started_at": str, "finished_at": str, "host": str, "pid": int, "engine": str, "log": str,
    },
    # Case-wide: one row per normalised identifier, rebuilt from sightings by cases.links (no device_id: not merged).
    "identifiers": {
        "id": int, "identifier": str, "kind": str, "platforms": str, "devices": str, "device_count": int,
        "sighting_count": int, "also_known_as": str, "flagged": str, "watchlist": str,
    },
    "link_runs": {
        "id": int, "ts": str, "sightings": int, "last_sighting_id": int, "registry_digest": str,
        "identifiers": int, "seconds": float,
    },
}
PRIMARY_KEYS = {"devices": "device_id", "evidence": "evidence_id", "device_states": "device_id"}
BOOL_COLUMNS = {"allocated", "recoverable", "hash_verified", "from_wal", "recovered", "source_deleted", "wal_deleted",
                "deleted", "answered", "older_version"}


def record_columns(record_type: type[Record]) -> dict[str, type]:
    """Columns of a record table: id, provenance, then the record's own fields flattened."""
    columns: dict[str, type] = {"id": int, **PROVENANCE_COLUMNS}
    for name, kind in column_kinds(record_type).items():
        if kind == "prov":
            continue
        if kind == "time":
            columns.update({name: str, f"{name}_raw": str, f"{name}_encoding": str})
        else:
            columns[name] = _SQL_TYPES[kind]
    return columns


RECORD_TABLES: dict[str, type[Record]] = {t.TABLE: t for t in RECORD_TYPES}
ALL_TABLES: dict[str, dict[str, type]] = {
    **FIXED_TABLES, **{t.TABLE: record_columns(t) for t in RECORD_TYPES}
}
JSON_COLUMNS: dict[str, set[str]] = {
    table: {n for n, k in column_kinds(t).items() if k == "json"} | {"missing_fields"}
    for table, t in RECORD_TABLES.items()
}
JSON_COLUMNS.update({"devices": {"facts"}, "evidence": {"paths", "segments", "layers"}, "sightings": {"tied_to"},
                     "identifiers": {"platforms", "devices", "also_known_as", "flagged", "watchlist"},
                     "device_states": {"evidence", "extra", "evidence_state", "evidence_hashes"},
                     "device_runs": {"evidence", "evidence_hashes"}})
# Every table the case store holds, and its indexes (where rows are looked up; a shard gets them once complete).
SCHEMA: dict[str, dict[str, type]] = {**ALL_TABLES, **CASE_TABLES}
INDEXES: list[tuple[str, tuple[str, ...]]] = [
    *((name, ("device_id",)) for name, cols in SCHEMA.items() if name not in PRIMARY_KEYS and "device_id" in cols),
    ("files", ("device_id", "path")),
]


@functools.cache
def _converter_parts(record_type: type[Record]):
    """What a record type's converter needs, worked out once per type: its (field, kind) pairs in column order, the
    provenance columns and the JSON encoder."""
    kinds = [(n, k) for n, k in column_kinds(record_type).items() if k != "prov"]
    return kinds, list(PROVENANCE_COLUMNS), json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str).encode


def _row_converter(record_type: type[Record], undecoded: Counter):
    """Build a fast function record → tuple in column order (the store's hot path on million-row databases); built
    once per record type and writer. Empty lists and dicts (most list/dict fields of most records) skip the JSON
    encoder: it would write exactly ``[]`` and ``{}``. A time kept undecoded (no ISO text) is counted in
    ``undecoded`` under ``table.field``."""
    kinds, prov_names, dumps = _converter_parts(record_type)
    table = record_type.TABLE

    def convert(record: Record) -> tuple:
        p = record.prov
        values = [getattr(p, n) for n in prov_names]
        values[9] = int(p.from_wal)
        values[10] = int(p.recovered)
        values[11] = int(p.source_deleted)
        values[12] = int(p.wal_deleted)
        values[15] = int(p.older_version)
        for name, kind in kinds:
            v = getattr(record, name)
            if kind == "time":
                if v is None:
                    values += (None, None, None)
                else:
                    if v.iso is None:
                        undecoded[f"{table}.{name}"] += 1
                    values += (v.iso, v.raw, v.encoding)
            elif kind == "json":
                if v is None:
                    values.append(None)
                elif not v and v.__class__ is list:
                    values.append("[]")
                elif not v and v.__class__ is dict:
                    values.append("{}")
                else:
                    values.append(dumps(v))
            elif kind == "bool":
                values.append(None if v is None else int(v))
            else:
                values.append(v)
        return tuple(values)

    return convert


@functools.cache
def _insert_sql(record_type: type[Record]) -> str:
    columns = [c for c in record_columns(record_type) if c != "id"]
    return (f"INSERT INTO {ident(record_type.TABLE)} ({', '.join(ident(c) for c in columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})")


SCRATCH_PAGE_SIZE = 65536


class Store:
    """An open store file (shard or case). Creates its schema on open."""

    def __init__(self, path: str | Path, scratch: bool = False):
        """``scratch``: a shard being written, which is only used after it was renamed complete — so it needs no
        durability on disk, only working rollback (journal in memory, no fsync)."""
        self.path = Path(path)
        # URI filenames, so that read-only ATTACH of source databases (file:...?mode=ro) is possible
        self.db = sqlite_utils.Database(sqlite3.connect(sqlite_uri(self.path, readonly=False), uri=True))
        self.db.conn.isolation_level = None  # explicit transactions: one parser run is all or nothing
        # times kept undecoded (out of range, not a number) by what was written, per ``table.field``: the parser
        # framework reads and resets it for each run (``parsers.framework._write``)
        self.undecoded_times: Counter = Counter()
        _configure(self.db.conn, self.undecoded_times)
        self._split_left: list = []  # scratch databases of a split insert, detached when the transaction ends
        if scratch:
            # big pages for a file written once front to back (a million-message shard is ~450 MB): a sixteenth of
            # the write calls of 4 KiB pages; it only takes effect on a new, empty file
            self.db.execute(f"PRAGMA page_size={SCRATCH_PAGE_SIZE}")
            self.db.execute("PRAGMA journal_mode=MEMORY")
            self.db.execute("PRAGMA synchronous=OFF")
        else:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
        # evidence text is stored as found; reading it back never fails on bytes that are not UTF-8
        self.db.conn.text_factory = lambda b: b.decode("utf-8", "replace")
        self._ensure_schema(indexes=not scratch)

    def _ensure_schema(self, indexes: bool) -> None:
        """Create what the file lacks of the declared schema: tables, columns, and (not in a shard being written:
        ``add_indexes`` once it is complete) indexes. This is also the migration of a store written by an older
        version — generic, so a table or column declared here or in ``artifacts.records`` needs no migration code;
        nothing is dropped."""
        existing = set(self.db.table_names())
        for name, columns in SCHEMA.items():
            if name not in existing:
                self.db[name].create(columns, pk=PRIMARY_KEYS.get(name, "id"))
                continue
            present = {r[1] for r in self.db.execute(f"PRAGMA table_info({ident(name)})")}
            for column, kind in columns.items():
                if column not in present:
                    self.db[name].add_column(column, kind)
        if indexes:
            self.add_indexes()

    def add_indexes(self) -> None:
        """Create the declared indexes the file lacks. A shard is written without them and given them once it is
        complete (a one-off sort, in the device's own process): then ``merge_shard`` can copy its rows and index
        entries as they are into a case table that is still empty."""
        for name, cols in INDEXES:
            self.db[name].create_index(list(cols), if_not_exists=True)

    @property
    def schema_version(self) -> int:
        """The schema version written into the file (SQLite's user_version; 0 for files of the first version)."""
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def set_schema_version(self, version: int) -> None:
        self.db.execute(f"PRAGMA user_version = {int(version)}")

    def close(self) -> None:
        split_insert.release(self.db.conn, self._split_left)
        self.db.close()

    # -- writing -----------------------------------------------------------------------------------------------
    def upsert(self, table: str, row: dict) -> None:
        """Insert or replace one row of a keyed table (devices, evidence)."""
        self.db[table].upsert(_encode(table, row), pk=PRIMARY_KEYS[table], alter=False)

    def put(self, table: str, row: dict) -> int:
        """INSERT OR REPLACE one row with plain SQL (safe inside an explicit transaction); returns its rowid."""
        row = _encode(table, {k: v for k, v in row.items() if k in SCHEMA[table]})
        cursor = self.db.conn.execute(
            f"INSERT OR REPLACE INTO {ident(table)} ({', '.join(f'{ident(c)}' for c in row)}) "
            f"VALUES ({', '.join('?' * len(row))})", list(row.values()))
        return cursor.lastrowid

    def insert_rows(self, table: str, rows: Iterable[dict]) -> None:
        """Insert plain dict rows (files, parser_runs); keys missing from a row are NULL, unknown keys an error."""
        columns = [c for c in SCHEMA[table] if c != "id"]
        known = set(columns)
        encoded = []
        for row in rows:
            unknown = set(row) - known
            if unknown:
                raise KeyError(f"{table} has no column(s) {sorted(unknown)}")
            row = _encode(table, row)
            encoded.append(tuple(row.get(c) for c in columns))
        sql = (f"INSERT INTO {ident(table)} ({', '.join(f'{ident(c)}' for c in columns)}) "
               f"VALUES ({', '.join('?' * len(columns))})")
        if self.db.conn.in_transaction:
            self.db.conn.executemany(sql, encoded)
        else:
            with self.transaction():  # in autocommit mode every row would otherwise be a transaction of its own
                self.db.conn.executemany(sql, encoded)

    def record_writer(self, batch_size: int = 5000, before_write=None) -> "RecordWriter":
        return RecordWriter(self, batch_size, before_write)

    # -- reading -----------------------------------------------------------------------------------------------
    def rows(self, table: str, device_id: str | None = None) -> Iterable[dict]:
        """Rows of ``table`` in insertion order, JSON columns decoded and flags as booleans."""
        if table not in SCHEMA:
            raise KeyError(table)
        order = PRIMARY_KEYS.get(table, "id")
        where, args = ("WHERE device_id = ?", [device_id]) if device_id else ("", [])
        if device_id and table == "identifiers":
            where = "WHERE EXISTS (SELECT 1 FROM json_each(\"devices\") WHERE value = ?)"
        elif device_id and "device_id" not in SCHEMA[table]:
            where, args = "", []
        cursor = self.db.execute(f"SELECT * FROM {ident(table)} {where} ORDER BY {ident(order)}", args)
        names = [d[0] for d in cursor.description]
        for values in cursor:
            yield _decode(table, dict(zip(names, values)))

    def count(self, table: str, device_id: str | None = None) -> int:
        where, args = ("WHERE device_id = ?", [device_id]) if device_id else ("", [])
        return self.db.execute(f"SELECT count(*) FROM {ident(table)} {where}", args).fetchone()[0]

    # -- shards ------------------------------------------------------------------------------------------------
    def insert_select(self, record_type: type[Record], select_sql: str, params, provenance: dict,
                      times: dict[str, str], wal_main_rows: str | None = None,
                      only_rows: str | None = None, order_by: str | None = None, split_on: str | None = None,
                      interrupt=None) -> tuple[int, int]:
        """Map rows to records inside SQLite: ``INSERT INTO <table> SELECT ...`` over a parser's query.

        The query names its result columns after the record's fields (``source_row`` for the row id; a time field
        gives its raw value, decoded here with ``times[field]``'s encoding, in SQL, identically to the Python
        decoders; list/dict fields as JSON text). ``provenance`` gives the constant provenance columns.
        ``wal_main_rows`` names a temporary table of the row ids the main database file holds, when the database
        has a -wal: rows not in it are flagged ``from_wal``. ``only_rows`` names a temporary table of row ids: only
        those rows are inserted, flagged ``wal_deleted`` (rows of the main file the -wal removed). ``order_by``
        names a result column whose ascending order is the query's own row order (see ``parsers.framework.Bulk``).
        ``split_on`` (``schema.table``, with ``order_by`` "source_row" the row ids of that table): a big insert
        may be split over threads by ranges of source rows (``artifacts.split_insert``; same rows, ids and order),
        whose statements stop when ``interrupt()`` is true. Returns (records, WAL-only records).
        """
        kinds = {n: k for n, k in column_kinds(record_type).items() if k != "prov"}
        probe = self.db.conn.execute(f"SELECT * FROM ({select_sql}) LIMIT 0", params)
        given = [d[0] for d in probe.description]
        unknown = set(given) - set(kinds) - {"source_row"}
        if unknown or "source_row" not in given or set(times) - set(given) or (order_by and order_by not in given):
            raise ValueError(f"bulk query columns {sorted(given)} do not fit {record_type.__name__} "
                             f"(unknown {sorted(unknown)}, times {sorted(times)}, order by {order_by})")
        wal = f"CASE WHEN CAST(x.[source_row] AS TEXT) IN (SELECT r FROM temp.{ident(wal_main_rows)}) " \
              "THEN 0 ELSE 1 END" \
            if wal_main_rows else "0"
        names, values, args = [], [], []
        for column in PROVENANCE_COLUMNS:
            names.append(column)
            if column == "source_row":
                values.append("CAST(x.[source_row] AS TEXT)")
            elif column == "from_wal":
                values.append(wal)
            elif column == "wal_deleted":
                values.append("1" if only_rows else "0")
            else:
                values.append("?")
                args.append(provenance.get(column))
        defaults = {f.name: f for f in dataclasses.fields(record_type)}
        for name, kind in kinds.items():
            if kind == "time":
                names += [name, f"{name}_raw", f"{name}_encoding"]
                if name in times:  # raw integers as SQLite writes them (= str(int)); other values via Python
                    values += timestamps.sql_time(times[name], f"x.{ident(name)}", f"{record_type.TABLE}.{name}")
                else:
                    values += ["NULL", "NULL", "NULL"]
                continue
            names.append(name)
            if name in given:
                values.append(f"x.{ident(name)}")
            elif name == "app":
                values.append("?")
                args.append(provenance.get("app"))
            elif kind == "json":
                values.append("?")
                factory = defaults[name].default_factory
                args.append(json.dumps(factory()) if factory is not dataclasses.MISSING else None)
            else:
                default = defaults[name].default
                values.append("?")
                args.append(None if default is dataclasses.MISSING else default)
        # Every value a co-routine hands to the next query level is copied (text into a new allocation), a cost
        # on every row; SQLite merges ("flattens") the parser's query into the INSERT instead when nothing stops
        # it, but its ORDER BY does (the INSERT computes its values with functions): unless the order is given
        # as a column, so that this query orders by it and SQLite drops the inner ORDER BY. Flattened, each use
        # of a column re-evaluates the parser's expression (a time's raw value is used a dozen times). Without
        # ``order_by``, OFFSET 0 keeps the query one co-routine whatever its form.
        inner = f"({select_sql})" if order_by else f"(SELECT * FROM ({select_sql}) LIMIT -1 OFFSET 0)"
        head = f"({', '.join(f'{ident(n)}' for n in names)}) SELECT {', '.join(values)} FROM {inner} AS x"
        sql = f"INSERT INTO main.{ident(record_type.TABLE)} {head}"
        if only_rows:
            sql += f" WHERE CAST(x.[source_row] AS TEXT) IN (SELECT r FROM temp.{ident(only_rows)})"
        if order_by:
            sql += f" ORDER BY x.{ident(order_by)}"
        before = self.db.conn.total_changes
        starts = split_insert.plan(self.db.conn, split_on) \
            if split_on and order_by == "source_row" and not wal_main_rows and not only_rows else []
        if starts:
            def statement(where: str) -> str:
                return f"INSERT INTO main.{ident(record_type.TABLE)} {head} WHERE {where} ORDER BY x.[source_row]"

            counters: list[Counter] = []  # one per worker connection (its thread), added up once all are done

            def configure(conn: sqlite3.Connection) -> None:
                counters.append(Counter())
                _configure(conn, counters[-1])

            split_insert.run(self.db.conn, self.path.parent, record_type.TABLE, "x.[source_row]", statement,
                             [*args, *params], starts, configure, self._split_left, interrupt)
            for counter in counters:
                self.undecoded_times.update(counter)
            if not self.db.conn.in_transaction:
                split_insert.release(self.db.conn, self._split_left)
        else:
            self.db.conn.execute(sql, [*args, *params])  # the outer SELECT's placeholders come first
        count = self.db.conn.total_changes - before
        wal_count = 0
        if wal_main_rows and count:
            wal_count = self.db.conn.execute(
                f"SELECT count(*) FROM main.{ident(record_type.TABLE)} WHERE rowid > last_insert_rowid() - ? "
                f"AND from_wal = 1", [count]).fetchone()[0]
        return count, wal_count

    def transaction(self, lazy: bool = False):
        """BEGIN … COMMIT, or ROLLBACK when the block raises: what a parser run writes lands whole or not at all.
        ``lazy``: inside an open transaction the block's savepoint is only taken by ``begin()``, which a block that
        writes calls before its first write (``parsers.framework._write``; see ``_Transaction``)."""
        return _Transaction(self.db.conn, lambda: split_insert.release(self.db.conn, self._split_left), lazy)

    def delete_device(self, device_id: str) -> None:
        """Delete every per-device row of ``device_id`` (not the case-only bookkeeping); call in a transaction."""
        for table, columns in ALL_TABLES.items():
            if "device_id" in columns:
                self.db.conn.execute(f"DELETE FROM main.{ident(table)} WHERE device_id = ?", (device_id,))

    def merge_shard(self, shard_path: str | Path, device_id: str, also=None) -> None:
        """Replace every row of ``device_id`` with the shard's rows, all or nothing.

        Ids in the case store are the case store's own; rows keep the shard's order, so the result is the same for
        the same shards merged in the same order. The case-only tables (``CASE_TABLES``) are left alone;
        ``also(store)``, when given, runs inside the same transaction (it records the device's state, with
        ``put``). A column the shard lacks (a shard written by an older version) is NULL. Into a table that holds no
        other device's rows the shard's rows are copied whole when that gives the same ids (``_same_ids``).
        """
        conn: sqlite3.Connection = self.db.conn
        conn.execute("ATTACH DATABASE ? AS shard", (sqlite_uri(shard_path),))
        try:
            with self.transaction():
                self.delete_device(device_id)
                for table, columns in ALL_TABLES.items():
                    if "device_id" not in columns:  # not a per-device table: nothing of it travels in a shard
                        continue
                    present = {r[1] for r in conn.execute(f"PRAGMA shard.table_info({ident(table)})")}
                    if not present:
                        continue
                    if self._same_ids(table, device_id):  # SQLite copies records and index entries as they are
                        conn.execute(f"INSERT INTO main.{ident(table)} SELECT * FROM shard.{ident(table)}")
                        continue
                    names = ", ".join(f"{ident(c)}" for c in columns if c != "id" and c in present)
                    order = PRIMARY_KEYS.get(table, "id")
                    conn.execute(
                        f"INSERT INTO main.{ident(table)} ({names}) SELECT {names} FROM shard.{ident(table)} "
                        f"WHERE device_id = ? ORDER BY {ident(order)}", (device_id,))
                if also is not None:
                    also(self)
        finally:
            conn.execute("DETACH DATABASE shard")

    def _same_ids(self, table: str, device_id: str) -> bool:
        """Whether the attached shard's ``table`` can be copied whole, ids included: exactly what renumbering gives.

        That is so when the case table is empty (new ids are 1..N in the shard's order), the shard's ids are 1..N,
        every shard row is ``device_id``'s, and both tables have the same columns in the same order with the same
        declarations. Then ``INSERT INTO t SELECT * FROM shard.t`` is SQLite's transfer optimization (records and
        index entries copied without decoding them, when the shard has the case's indexes: ``add_indexes``; without
        them SQLite inserts row by row, with the same result; its conditions are ``xferOptimization`` in SQLite's
        src/insert.c: no column list, no WHERE, equal column counts, affinities and collations, every destination
        index matched by a source index). Tables keyed by a text column keep the usual path (their rowids)."""
        conn, quoted = self.db.conn, ident(table)
        if table in PRIMARY_KEYS or conn.execute(f"SELECT 1 FROM main.{quoted} LIMIT 1").fetchone():
            return False
        if conn.execute(f"PRAGMA main.table_info({quoted})").fetchall() != \
                conn.execute(f"PRAGMA shard.table_info({quoted})").fetchall():
            return False
        low, high, rows = conn.execute(
            f"SELECT (SELECT min(id) FROM shard.{quoted}), (SELECT max(id) FROM shard.{quoted}), "
            f"(SELECT count(*) FROM shard.{quoted} WHERE device_id = ?)", (device_id,)).fetchone()
        # ids are distinct integers: n rows of the device with ids from 1 to n are all the rows, numbered 1..n
        return low == 1 and high == rows


class _Transaction:
    """BEGIN … COMMIT (ROLLBACK when the block raises); inside an open transaction (a batch of file-parser runs, see
    ``parsers.framework.run_parsers``) a savepoint instead, so the block is still all-or-nothing on its own.

    ``lazy`` (nested only): the savepoint is taken by ``begin()``, before the block's first write, so a block that
    writes nothing, or only one INSERT statement (atomic on its own), costs no savepoint statements — a device's
    thousands of photo runs are one record each."""

    def __init__(self, conn: sqlite3.Connection, ended=None, lazy: bool = False):
        self.conn = conn
        self.nested = False
        self.lazy = lazy
        self.taken = False  # whether the nested block's savepoint is taken
        self.ended = ended  # called once the outermost transaction has ended

    def __enter__(self):
        self.nested = self.conn.in_transaction
        if self.nested and self.lazy:
            return self
        self.conn.execute("SAVEPOINT store_block" if self.nested else "BEGIN")
        self.taken = self.nested
        return self

    def begin(self) -> None:
        """Take the block's savepoint if it is not yet (a lazy nested block, before its first write)."""
        if self.nested and not self.taken:
            self.conn.execute("SAVEPOINT store_block")
            self.taken = True

    def __exit__(self, exc_type, *_):
        if not self.nested:
            try:
                self.conn.execute("ROLLBACK" if exc_type else "COMMIT")
            finally:
                if self.ended is not None:
                    self.ended()
            return
        if not self.taken:
            return
        if exc_type:
            self.conn.execute("ROLLBACK TO store_block")
        self.conn.execute("RELEASE store_block")


class RecordWriter:
    """Buffers records and writes them per table in batches; use as a context manager so the tail is flushed.

    ``before_write`` (e.g. a lazy transaction's ``begin``) is called before a flush writes, except for the last
    flush (``flush(last=True)``) of a writer that has written nothing yet and holds one row: that one INSERT is
    all-or-nothing on its own."""

    def __init__(self, store: Store, batch_size: int, before_write=None):
        self.store = store
        self.batch_size = batch_size
        self.before_write = before_write
        self._buffers: dict[type, list[tuple]] = {}
        self._converters: dict[type, object] = {}
        self._sql: dict[type, str] = {}
        self._begun = False  # before_write was called, or is not needed
        self.rejected: list[tuple[str, str | None, str | None, str]] = []

    def add(self, record: Record) -> None:
        rtype = type(record)
        buffer = self._buffers.get(rtype)
        if buffer is None:
            buffer = self._buffers[rtype] = []
            self._converters[rtype] = _row_converter(rtype, self.store.undecoded_times)
            self._sql[rtype] = _insert_sql(rtype)
        buffer.append(self._converters[rtype](record))
        if len(buffer) >= self.batch_size:
            self._flush(rtype)

    def _flush(self, rtype: type) -> None:
        """Write a batch; when a value cannot be stored (an integer beyond 64 bits, an object SQLite cannot bind)
        the batch is undone and written row by row, and each row that fails is listed in ``rejected`` as
        (table, source table, source row, reason) — one bad value fails one record, not the run."""
        buffer = self._buffers[rtype]
        if not buffer:
            return
        if self.before_write is not None and not self._begun:
            self.before_write()
        self._begun = True
        conn = self.store.db.conn
        if len(buffer) == 1:  # one INSERT: nothing of it is written when it fails, no savepoint is needed to undo it
            self._write_rows(conn, rtype, buffer)
            buffer.clear()
            return
        conn.execute("SAVEPOINT record_batch")
        try:
            conn.executemany(self._sql[rtype], buffer)
        except (sqlite3.InterfaceError, sqlite3.ProgrammingError, OverflowError, ValueError, TypeError):
            conn.execute("ROLLBACK TO record_batch")
            self._write_rows(conn, rtype, buffer)
        finally:
            conn.execute("RELEASE record_batch")
        buffer.clear()

    def _write_rows(self, conn: sqlite3.Connection, rtype: type, rows: list[tuple]) -> None:
        """Write rows one by one, listing each that fails in ``rejected``."""
        for row in rows:
            try:
                conn.execute(self._sql[rtype], row)
            except (sqlite3.InterfaceError, sqlite3.ProgrammingError, OverflowError, ValueError, TypeError) as exc:
                self.rejected.append((rtype.TABLE, row[5], row[6], f"{type(exc).__name__}: {exc}"))

    def flush(self, last: bool = False) -> None:
        """Write every buffered row; ``last``: nothing more is written in the block (see the class docstring)."""
        if last and not self._begun and sum(map(len, self._buffers.values())) == 1:
            self._begun = True  # the block's one INSERT needs no savepoint around it
        for rtype in list(self._buffers):
            self._flush(rtype)

    def __enter__(self) -> "RecordWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.flush()


def _configure(conn: sqlite3.Connection, undecoded: Counter | None = None) -> None:
    """The SQL functions every store connection has (and the connections of a split insert); times kept
    undecoded are counted in ``undecoded``."""
    timestamps.register_sql_functions(conn, undecoded)
    _register_sql_functions(conn)


def _register_sql_functions(conn: sqlite3.Connection) -> None:
    """For Bulk mappings that must give exactly what a Python mapping gives, on the rare values SQL would write
    differently (reals, blobs): ``py_str(v)`` is ``str(v)``; ``json_list_of(v)`` and ``json_object_of(k, v)`` are
    ``[v]`` and ``{k: v}`` as the record writer encodes them."""
    dumps = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str).encode
    conn.create_function("py_str", 1, lambda v: None if v is None else str(v), deterministic=True)
    conn.create_function("json_list_of", 1, lambda v: dumps([v]), deterministic=True)
    conn.create_function("json_object_of", 2, lambda k, v: dumps({k: v}), deterministic=True)


def _encode(table: str, row: dict) -> dict:
    out = {}
    json_cols = JSON_COLUMNS.get(table, set())
    for key, value in row.items():
        if key in json_cols and value is not None and not isinstance(value, str):
            value = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
        elif isinstance(value, bool):
            value = int(value)
        out[key] = value
    return out


def _decode(table: str, row: dict) -> dict:
    json_cols = JSON_COLUMNS.get(table, set())
    for key, value in row.items():
        if value is None:
            continue
        if key in json_cols:
            row[key] = json.loads(value)
        elif key in BOOL_COLUMNS:
            row[key] = bool(value)
    return row
