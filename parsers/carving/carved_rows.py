"""Carved cells become records through the parser's own row mapping.

For a parser that names tables in ``carve=``, after its live run: the database (and its -wal) is carved
(``sqlite_cells``); carved rows equal to a live row — or to the main file's row the WAL-deleted pass already
reported — are dropped; a carved row whose key is live with different content is kept as an ``older_version``.
The rest are inserted into a scratch copy of the database (in the work folder) whose carved tables hold only
carved rows and whose other tables are copied whole, the parser function runs on that copy, and only the records
whose (table, row) are carved rows are kept — the way ``framework._write_wal_deleted`` keeps the main file's rows.
Several carved versions of one key go through successive rounds on the same copy (at most ``MAX_ROUNDS``).

A carved row whose rowid was lost gets a negative stand-in rowid in the copy (no live row refers to one); its
record's ``source_row`` is then empty and the rowid column is listed in ``missing_fields``.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from artifacts.sql_quoting import sqlite_uri
from artifacts.store import RECORD_TABLES
from parsers import framework
from parsers.carving.sqlite_cells import Carved, carve, layouts_from

MAX_ROUNDS = 16


def write_carved(spec, ctx, store, work: Path, db: sqlite3.Connection, base: Path | None
                 ) -> tuple[int, int, str | None]:
    """Carve, de-duplicate, map and store; returns (records written, carved cells not mapped, note or None).
    A failure here leaves the run's live records in place and is reported in the note."""
    try:
        layouts = layouts_from(db)
    except sqlite3.DatabaseError as exc:
        return 0, 0, f"not carved: {exc}"
    by_name = {lay.table.lower(): lay for lay in layouts}
    wanted = {t.lower() for t in spec.carve} & set(by_name)
    if not wanted:
        return 0, 0, None
    local = ctx.source.local  # the file as found, also when the run reads a rebuilt copy
    result = carve(local, Path(str(local) + "-wal"), layouts, wanted)
    unmapped = result.unmapped
    keep = _new_rows(result.cells, db, base, by_name)
    if not keep:
        return 0, unmapped, result.note
    rounds = _rounds(keep)
    unmapped += sum(len(r) for r in rounds[MAX_ROUNDS:])
    ctx.detach_all()  # the live run's ``src``
    scratch_dir = Path(tempfile.mkdtemp(prefix="carve-", dir=work))
    written, mapped = 0, set()
    try:
        carved = {by_name[t].table for t in wanted}
        scratch = _scratch_copy(db, scratch_dir / local.name, carved)
        try:
            for rows in rounds[:MAX_ROUNDS]:
                added, keys = _map_round(spec, ctx, store, scratch, rows, by_name, carved)
                written += added
                mapped |= keys
        finally:
            scratch.close()
        # rows of a table that gives records but gave none themselves; a join table's rows (iOS
        # chat_message_join) only help map others and are not counted
        producing = {t for t, _r in mapped}
        unmapped += sum(1 for rows in rounds[:MAX_ROUNDS] for row in rows
                        if row.cell.table.lower() in producing and row.key not in mapped)
    except Exception as exc:  # noqa: BLE001 — the live records stay; what went wrong is reported on the run
        return written, unmapped, f"carving failed: {type(exc).__name__}: {exc}"
    finally:
        shutil.rmtree(scratch_dir, ignore_errors=True)
    return written, unmapped, result.note


class _Row:
    """A carved row on its way to the scratch copy: stand-in rowid, flags for its records' provenance."""

    def __init__(self, cell: Carved, older: bool):
        self.cell, self.older, self.rowid = cell, older, cell.rowid

    @property
    def key(self) -> tuple[str, str]:
        return self.cell.table.lower(), str(self.rowid)


def _new_rows(cells: list[Carved], db, base: Path | None, by_name) -> list[_Row]:
    """Drop carved rows equal to a live row (or to the main file's row the WAL-deleted pass reports) and repeats
    of one another; flag rows whose key is live with other content as older versions."""
    main = None
    if base is not None:
        try:
            main = framework.open_readonly(base)
        except sqlite3.DatabaseError:
            main = None
    try:
        seen, contents, out, keyless = set(), set(), [], []
        by_text: dict[tuple, list[dict]] = defaultdict(list)
        for cell in sorted(cells, key=lambda c: c.rowid is None):  # cells found with their rowid first
            lay = by_name[cell.table.lower()]
            table = cell.table.lower()
            present = {c.name: (v.__class__, v) for c, v in zip(lay.columns, cell.values)
                       if not c.rowid_alias and c.name not in cell.missing}  # typed: 1 and 1.0 and '1' differ
            content = (table, tuple(present.items()))
            if cell.rowid is not None:
                if (cell.rowid, content) in seen:
                    continue  # found twice
                seen.add((cell.rowid, content))
            elif content in contents or _subsumed(present, table, by_text):
                continue  # without its rowid, where it was also found with it (or with more of its columns)
            contents.add(content)
            for name, value in present.items():
                if value[0] is str and value[1]:
                    by_text[(table, name, value[1])].append(present)
            older = False
            if cell.rowid is not None:
                live = _compare(db, lay, cell)
                if live is True or live is None and main is not None and _compare(main, lay, cell) is True:
                    continue  # a live row, or a row the WAL-deleted pass reports from the main file
                older = live is False
            else:
                keyless.append((len(out), lay, cell))
            out.append(_Row(cell, older))
        equal = set()
        for conn in (db, main):
            if conn is not None:
                equal |= _equal_to_a_row(conn, keyless)
        return [row for k, row in enumerate(out) if k not in equal]
    finally:
        if main is not None:
            main.close()


def _subsumed(present: dict, table: str, by_text) -> bool:
    """Whether a cell already seen agrees with every recovered column of this one (looked up by its longest
    text, so the comparison stays cheap on large databases)."""
    texts = [(name, v[1]) for name, v in present.items() if v[0] is str and v[1]]
    if not texts:
        return False
    name, text = max(texts, key=lambda t: (len(t[1]), t[0]))
    return any(all(other.get(k) == v for k, v in present.items()) for other in by_text.get((table, name, text), ()))


def _present(lay, cell: Carved) -> list[tuple[str, object]]:
    return [(c.name, v) for c, v in zip(lay.columns, cell.values) if c.name not in cell.missing and not c.rowid_alias]


def _compare(conn, lay, cell: Carved) -> bool | None:
    """True: the live row with this rowid has the same content; False: different; None: no such row."""
    row = conn.execute(f"SELECT * FROM [{lay.table}] WHERE rowid = ?", [cell.rowid]).fetchone()
    if row is None:
        return None
    live = dict(zip(row.keys(), tuple(row)))
    return all(_same(live.get(name), v) for name, v in _present(lay, cell))


def _equal_to_a_row(conn, items) -> set[int]:
    """Of carved rows without a rowid (index, layout, cell), those some row of their table equals in every
    recovered column: one join per table and set of recovered columns, through a temporary table (SQLite builds
    an automatic index for the join, so this stays linear on a table of millions of rows)."""
    groups: dict[tuple, list] = defaultdict(list)
    for index, lay, cell in items:
        present = _present(lay, cell)
        groups[(lay.table, tuple(n for n, _ in present))].append((index, [v for _, v in present]))
    found = set()
    for (table, names), members in sorted(groups.items()):
        if not names:
            found.update(i for i, _ in members)
            continue
        conn.execute("DROP TABLE IF EXISTS temp._keyless")
        conn.execute(f"CREATE TEMP TABLE _keyless (i INTEGER, {', '.join(f'c{k}' for k in range(len(names)))})")
        conn.executemany(f"INSERT INTO temp._keyless VALUES (?{', ?' * len(names)})", [(i, *v) for i, v in members])
        # a column no member has NULL in is joined with "=" (indexable); the others with IS
        eq = next((k for k in range(len(names)) if all(v[k] is not None for _, v in members)), None)
        on = " AND ".join(f"l.[{n}] {'=' if k == eq else 'IS'} k.c{k}" for k, n in enumerate(names))
        found.update(r[0] for r in conn.execute(
            f"SELECT DISTINCT k.i FROM temp._keyless AS k JOIN main.[{table}] AS l ON {on}"))
    conn.execute("DROP TABLE IF EXISTS temp._keyless")
    return found


def _same(a, b) -> bool:
    if isinstance(a, str) and isinstance(b, bytes):  # the reader decodes text with replacement
        return a == b.decode("utf-8", "replace")
    return a == b and type(a) is type(b) or (isinstance(a, (int, float)) and isinstance(b, (int, float)) and a == b)


def _rounds(rows: list[_Row]) -> list[list[_Row]]:
    """Rows split so no round holds two rows of one key; rows without a rowid get negative stand-ins."""
    versions: dict[tuple, int] = defaultdict(int)
    stand_in: dict[str, int] = defaultdict(int)
    rounds: list[list[_Row]] = []
    for row in rows:
        table = row.cell.table.lower()
        if row.cell.rowid is None:
            stand_in[table] -= 1
            row.rowid, k = stand_in[table], 0
        else:
            key = (table, row.cell.rowid)
            k = versions[key]
            versions[key] += 1
        while len(rounds) <= k:
            rounds.append([])
        rounds[k].append(row)
    return rounds


def _scratch_copy(db: sqlite3.Connection, path: Path, carved: set[str]) -> sqlite3.Connection:
    """The schema of the live database with its rows, except the carved tables: those are rebuilt empty, without
    constraints or triggers (a carved row may lack a NOT NULL value), their columns in the same order."""
    source = db.execute("PRAGMA database_list").fetchone()[2]
    out = sqlite3.connect(sqlite_uri(path, readonly=False), uri=True, isolation_level=None)
    for name in framework.ANDROID_COLLATIONS:
        out.create_collation(name, framework._casefold_compare)
    out.execute("PRAGMA journal_mode=OFF")
    out.execute("PRAGMA synchronous=OFF")
    out.execute("ATTACH DATABASE ? AS live", (sqlite_uri(source),))
    objects = db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL "
                         "ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, rowid").fetchall()
    virtual = {name for kind, name, _t, sql in objects if kind == "table" and sql.lstrip().upper()
               .startswith("CREATE VIRTUAL")}
    out.execute("BEGIN")
    for kind, name, table, sql in objects:
        if name.lower().startswith("sqlite_") or name in virtual or table in virtual or kind == "trigger":
            continue
        try:
            if kind == "table" and name in carved:
                cols = db.execute(f"PRAGMA table_info([{name}])").fetchall()
                pks = [c for c in cols if c[5]]
                alias = pks[0][1] if len(pks) == 1 and (pks[0][2] or "").upper() == "INTEGER" else None
                defs = ", ".join(f"[{c[1]}] INTEGER PRIMARY KEY" if c[1] == alias else f"[{c[1]}]" for c in cols)
                out.execute(f"CREATE TABLE [{name}] ({defs})")
            elif kind == "table":
                out.execute(sql)
                out.execute(f"INSERT INTO main.[{name}] SELECT * FROM live.[{name}]")
            elif table not in carved:
                out.execute(sql)
        except sqlite3.DatabaseError:
            continue  # an object this copy cannot rebuild (a generated column, a missing module): left out
    out.execute("COMMIT")
    out.execute("DETACH DATABASE live")
    return out


def _map_round(spec, ctx, store, scratch: sqlite3.Connection, rows: list[_Row], by_name, carved: set[str]
               ) -> tuple[int, set]:
    """Put one round's rows in the scratch copy, run the parser on it, keep and mark the carved rows' records."""
    by_table: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        by_table[by_name[row.cell.table.lower()].table].append(row)
    scratch.execute("BEGIN")
    for table in sorted(carved):  # the previous round's rows
        scratch.execute(f"DELETE FROM [{table}]")
    for table, items in sorted(by_table.items()):
        lay = by_name[table.lower()]
        names = ", ".join(f"[{c.name}]" for c in lay.columns)
        alias = any(c.rowid_alias for c in lay.columns)
        sql = (f"INSERT INTO [{table}] ({names}) VALUES ({', '.join('?' * len(lay.columns))})" if alias else
               f"INSERT INTO [{table}] (rowid, {names}) VALUES ({', '.join('?' * (len(lay.columns) + 1))})")
        scratch.executemany(sql, [
            (([] if alias else [r.rowid]) +
             [r.rowid if c.rowid_alias else v for c, v in zip(lay.columns, r.cell.values)]) for r in items])
    scratch.execute("COMMIT")
    path = Path(scratch.execute("PRAGMA database_list").fetchone()[2])
    only = defaultdict(set)
    for row in rows:
        only[row.cell.table.lower()].add(str(row.rowid))
    before = {t: store.db.execute(f"SELECT coalesce(max(id), 0) FROM [{t}]").fetchone()[0] for t in RECORD_TABLES}
    carved_ctx = replace(ctx, local=path, attached=[])
    copy = framework.open_readonly(path)
    try:
        carved_ctx.attach_source()
        framework._write(spec.func(copy, carved_ctx), carved_ctx, store, only=dict(only))
    finally:
        copy.close()
        carved_ctx.detach_all()
    return _mark(store, rows, before)


def _mark(store, rows: list[_Row], before: dict[str, int]) -> tuple[int, set]:
    """Give the records just written their carving provenance (the mapping flagged them like WAL-deleted rows);
    returns (records, carved rows that gave at least one record)."""
    conn = store.db.conn
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS _carved (t TEXT, r TEXT, source_row TEXT, recovered_from TEXT, "
                 "missing_fields TEXT, older_version INTEGER, PRIMARY KEY (t, r))")
    conn.execute("DELETE FROM temp._carved")
    conn.executemany("INSERT OR IGNORE INTO temp._carved VALUES (?, ?, ?, ?, ?, ?)", [
        (row.cell.table.lower(), str(row.rowid), None if row.cell.rowid is None else str(row.cell.rowid),
         row.cell.recovered_from, json.dumps(list(row.cell.missing), ensure_ascii=False), int(row.older))
        for row in rows])
    count, mapped = 0, set()
    with store.transaction():
        for table, start in before.items():
            mapped.update(conn.execute(
                f"SELECT c.t, c.r FROM main.[{table}] AS x JOIN temp._carved AS c ON lower(x.source_table) = c.t "
                f"AND x.source_row = c.r WHERE x.id > ?", [start]).fetchall())
            deleted = ", deleted = 1" if table == "messages" else ""
            count += conn.execute(
                f"UPDATE main.[{table}] SET source_row = c.source_row, recovered_from = c.recovered_from, "
                f"missing_fields = c.missing_fields, older_version = c.older_version, wal_deleted = 0, from_wal = 0"
                f"{deleted} FROM temp._carved AS c WHERE main.[{table}].id > ? "
                f"AND lower(main.[{table}].source_table) = c.t AND main.[{table}].source_row = c.r",
                [start]).rowcount
    return count, mapped
