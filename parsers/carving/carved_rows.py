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

import gc
import json
import shutil
import sqlite3
import tempfile
from collections import Counter, defaultdict
from itertools import compress, repeat
from operator import attrgetter, is_, not_
from dataclasses import replace
from pathlib import Path

from artifacts.sql_quoting import sqlite_uri
from artifacts.store import RECORD_TABLES
from parsers import framework
from artifacts.sql_quoting import ident
from parsers.carving.sqlite_cells import Carved, LiveIndex, carve, layouts_from

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
    same_file = Path(ctx.local) == Path(local)  # not a rebuilt or decrypted copy: the index describes ``db``
    keep = _new_rows(result.cells, db, base, by_name, result.live if same_file else None, result.repeated)
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

    __slots__ = ("cell", "older", "rowid")

    def __init__(self, cell: Carved, older: bool = False):
        self.cell, self.older, self.rowid = cell, older, cell.rowid

    @property
    def key(self) -> tuple[str, str]:
        return self.cell.table.lower(), str(self.rowid)


def _new_rows(cells: list[Carved], db, base: Path | None, by_name, live: LiveIndex | None = None,
              repeated: set[int] | None = None) -> list[_Row]:
    """Drop carved rows equal to a live row (or to the main file's row the WAL-deleted pass reports) and repeats
    of one another; flag rows whose key is live with other content as older versions.

    Rows are equal when every recovered column holds the same type and value. Set lookups do the work: a cell's
    ``digest`` (a hash of its typed values, from the C engine) narrows the comparisons to cells with the same
    digest; ``live`` (the carver's index of the live rows, when it read the same file as ``db``) says which rowids
    are live and which live rows hash like a carved row without its rowid; only those rows are read through SQL
    (in batches) and compared value by value. Without a digest (columns lost, a payload on overflow pages) or an
    index, the comparisons go through SQL as before: by rowid, and one join per table for rows without one.
    ``repeated``: the digests more than one of ``cells`` has, when the carver counted them."""
    main = None
    if base is not None:
        try:
            main = framework.open_readonly(base)
        except sqlite3.DatabaseError:
            main = None
    collecting = gc.isenabled()
    gc.disable()  # many new objects, none in a cycle: no collection passes meanwhile
    try:
        lower = {lay.table: name for name, lay in by_name.items()}
        lower.update({name: name.lower() for name in set(map(_TABLE, cells)) - set(lower)})
        rowful, keyless = _distinct(cells, by_name, lower, repeated)
        drop, older = set(), set()  # ids of cells
        # rows with their rowid: the live row with that rowid (and the main file's) says equal, other or none
        names = sorted(set(map(_TABLE, rowful)))
        for name in names:
            table = lower[name]
            lay = by_name[table]
            members = [cell for cell in rowful if cell.table == name] if len(names) > 1 else rowful
            rowids = set(map(_ROWID, members))
            if _usable(live, db, lay):
                hashes = live.rowids(table, rowids)  # the live rowids among them, with their records' hashes
                found = list(compress(members, map(hashes.__contains__, map(_ROWID, members))))
                same = {id(c) for c in found if c.record is not None and hashes[c.rowid] == c.record}
                drop |= same  # the same bytes stored under the same rowid
                rows = _rows_by_rowid(db, lay, {c.rowid for c in found if id(c) not in same})
                live_rowids = hashes
            else:
                same = ()
                rows = live_rowids = _rows_by_rowid(db, lay, rowids)
            for cell in [cell for cell in members if cell.rowid in rows and id(cell) not in same] if rows else ():
                if _agrees(rows[cell.rowid], lay, cell):
                    drop.add(id(cell))
                else:
                    older.add(id(cell))
            absent = [cell for cell in members if cell.rowid not in live_rowids] if main is not None else ()
            if absent:
                rows = _rows_by_rowid(main, lay, {cell.rowid for cell in absent})
                drop.update(id(c) for c in absent if c.rowid in rows and _agrees(rows[c.rowid], lay, c))
        # rows without their rowid: equal to some row of their table in every recovered column
        indexed = {name for name, table in lower.items() if _usable(live, db, by_name[table])}
        if None not in set(map(_RECORD, keyless)) and set(map(_TABLE, keyless)) <= indexed:
            by_index, joined = keyless, []  # the usual case, decided without a loop over the cells
        else:
            by_index = [cell for cell in keyless if cell.record is not None and cell.table in indexed]
            joined = [(id(cell), by_name[lower[cell.table]], cell) for cell in keyless
                      if cell.record is None or cell.table not in indexed]
        names = sorted(set(map(_TABLE, by_index)))
        for name in names:
            table = lower[name]
            members = [cell for cell in by_index if cell.table == name] if len(names) > 1 else by_index
            hits = live.records(table, set(map(_RECORD, members)))
            if hits:  # a live row stores the same bytes
                drop.update(map(id, compress(members, map(hits.__contains__, map(_RECORD, members)))))
        if joined:
            drop |= _equal_to_a_row(db, joined)
        if main is not None:
            drop |= _equal_to_a_row(main, [(id(c), by_name[lower[c.table]], c) for c in keyless if id(c) not in drop])
        kept = rowful + keyless
        if drop:
            kept = list(compress(kept, map(not_, map(drop.__contains__, map(id, kept)))))
        if not older:
            return list(map(_Row, kept))
        return [_Row(cell, id(cell) in older) for cell in kept]
    finally:
        if collecting:
            gc.enable()
        if main is not None:
            main.close()


def _distinct(cells: list[Carved], by_name, lower: dict[str, str], repeated: set[int] | None = None
              ) -> tuple[list[Carved], list[Carved]]:
    """Carved rows without repeats (found twice; without their rowid where they were also found with it, or with
    more of their columns): those with their rowid and those without, in the order of ``cells``."""
    lost = list(map(is_, map(_ROWID, cells), repeat(None)))
    rowful = list(compress(cells, map(not_, lost)))
    keyless = list(compress(cells, lost))
    ordered = rowful + keyless
    digests = list(map(_DIGEST, ordered))
    # cells without their rowid and with columns lost are looked up by their longest text among the rows kept
    need: dict[str, set[str]] = defaultdict(set)
    keys: set = set()
    for cell in keyless if None in digests[len(rowful):] else ():
        if cell.digest is None:
            present = _typed(by_name[lower[cell.table]], cell)
            texts = [(name, v[1]) for name, v in present.items() if v[0] is str and v[1]]
            if texts:
                name, text = max(texts, key=lambda t: (len(t[1]), t[0]))
                need[cell.table].add(name)
                keys.add((cell.table, name, text))
    # a row with a digest can only repeat a row with the same one: rows alone with theirs are kept as they are
    # (unless rows must be looked up by text, which needs every row kept, in order)
    if keys:
        flags = [True] * len(ordered)
    else:
        if repeated is None:
            repeated = {d for d, n in Counter(digests).items() if n > 1}
        slow = set(repeated)
        slow.add(None)
        flags = list(map(slow.__contains__, digests))
    if not any(flags):
        return rowful, keyless
    positions = {t: [(name, next(k for k, c in enumerate(by_name[lower[t]].columns) if c.name == name))
                     for name in sorted(names)] for t, names in need.items()}
    texts_needed = {text for _t, _n, text in keys}
    groups: dict[tuple, list] = {}  # (table, digest) -> the rows kept with that digest
    exact: set = set()  # contents of the rows kept that have no digest
    seen_exact: set = set()
    by_text: dict[tuple, list[dict]] = defaultdict(list)
    dropped = set()
    for cell in compress(ordered, flags):
        name = cell.table
        if cell.digest is not None:
            key = (name, cell.digest)
            group = groups.get(key)
            if group is None:
                groups[key] = [(cell, None)]
            elif _repeat(cell, group, by_name[lower[name]]):
                dropped.add(id(cell))  # found twice
                continue
        else:
            lay = by_name[lower[name]]
            content = (name, _content(lay, cell))
            if cell.rowid is not None:
                if (cell.rowid, content) in seen_exact:
                    dropped.add(id(cell))
                    continue
                seen_exact.add((cell.rowid, content))
            elif content in exact or _subsumed(_typed(lay, cell), name, by_text):
                dropped.add(id(cell))  # without its rowid, where it was also found with it (or with more columns)
                continue
            exact.add(content)
        if positions and name in positions:
            present = None
            for column, k in positions[name]:
                v = cell.values[k]
                if v.__class__ is str and v in texts_needed and (name, column, v) in keys \
                        and column not in cell.missing:
                    present = present or _typed(by_name[lower[name]], cell)
                    by_text[(name, column, v)].append(present)
    if not dropped:
        return rowful, keyless
    return (list(compress(rowful, map(not_, map(dropped.__contains__, map(id, rowful))))),
            list(compress(keyless, map(not_, map(dropped.__contains__, map(id, keyless))))))


_DIGEST, _ROWID, _RECORD, _TABLE = attrgetter("digest"), attrgetter("rowid"), attrgetter("record"), attrgetter("table")


def _repeat(cell: Carved, group: list, lay) -> bool:
    """Whether a row kept with the same digest has the same content (and, for a row with its rowid, the same
    rowid); if not, the cell joins the group. ``group`` holds (cell, content or None until needed)."""
    content = _complete_content(lay, cell)
    for k, (other, theirs) in enumerate(group):
        if cell.rowid is not None and other.rowid != cell.rowid:
            continue
        if theirs is None:
            theirs = _complete_content(lay, other)
            group[k] = (other, theirs)
        if theirs == content:
            return True
    group.append((cell, content))
    return False


def _complete_content(lay, cell: Carved) -> tuple:
    """``_content`` of a cell with a digest (every column but the rowid came back): each column's type and value,
    the rowid alias left out — equal exactly when ``_content`` is, computed without a dict."""
    values = cell.values
    for k in lay.alias_at:
        values = values[:k] + (None,) + values[k + 1:]
    return tuple(map(type, values)), values


def _typed(lay, cell: Carved) -> dict:
    """The recovered columns of a carved row (not the rowid alias), each as (type, value): 1, 1.0 and '1' differ."""
    return {c.name: (v.__class__, v) for c, v in zip(lay.columns, cell.values)
            if not c.rowid_alias and c.name not in cell.missing}


def _content(lay, cell: Carved) -> tuple:
    return tuple(_typed(lay, cell).items())


def _usable(live: LiveIndex | None, db, lay) -> bool:
    """Whether the live index may stand for ``db`` for this table: it was built from the same file and holds as
    many rows as SQLite counts (a walk the carver could not finish, or a file read another way, is not used)."""
    if live is None or lay.table.lower() not in live.tables:
        return False
    cached = live.checked.get(lay.table.lower())
    if cached is None:
        try:
            count = db.execute(f"SELECT count(*) FROM {ident(lay.table)}").fetchone()[0]
        except sqlite3.DatabaseError:
            count = None
        cached = live.checked[lay.table.lower()] = count == live.count(lay.table)
    return cached


def _rows_by_rowid(conn, lay, rowids) -> dict[int, tuple]:
    """The rows of ``lay``'s table with these rowids, as {rowid: values in column order}, read in batches."""
    rowids = sorted(rowids)
    found = {}
    for at in range(0, len(rowids), 500):
        chunk = rowids[at:at + 500]
        cur = conn.execute(f"SELECT rowid, * FROM {ident(lay.table)} WHERE rowid IN ({', '.join('?' * len(chunk))})",
                           chunk)
        for row in cur:
            row = tuple(row)
            found[row[0]] = row[1:]
    return found


def _agrees(live: tuple, lay, cell: Carved) -> bool:
    """Whether a live row (its values in column order, as ``SELECT *`` gives them) has the carved row's value in
    every recovered column."""
    missing = cell.missing
    for k, (column, v) in enumerate(zip(lay.columns, cell.values)):
        if column.rowid_alias or missing and column.name in missing:
            continue
        a = live[k] if k < len(live) else None
        if not (a is v or a.__class__ is v.__class__ and a == v) and not _same(a, v):
            return False
    return True


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
