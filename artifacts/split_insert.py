"""An ordered ``INSERT INTO <table> SELECT ...`` of millions of rows split over threads, each on its own SQLite
connection, with exactly the rows, ids and order one statement gives.

SQLite runs one statement on one core, and a store file has one writer. So the rows are split by ranges of the
column they are ordered by: the store's own connection inserts the first range into the table, while each other
range is inserted by a thread into a scratch file of its own (a copy of the table's definition, the same attached
databases and SQL functions); then the store's connection appends the scratch files' rows in range order, which
gives every row the id it would have had. Python's ``sqlite3`` releases the GIL while SQLite steps a statement, so
the threads run on separate cores.

It is off unless ``FORENSICS_BULK_THREADS`` asks for it (see ``threads_wanted``: measured, the per-row Python SQL
functions make the threads wait for each other's GIL); a small insert is never split.

A scratch file read inside a transaction can only be detached when that transaction ends: the caller keeps the list
returned by ``run`` and passes it to ``release`` then.
"""
from __future__ import annotations

import itertools
import os
import sqlite3
import threading
from pathlib import Path
from typing import Callable

from artifacts.sql_quoting import ident, sqlite_uri

ENV_THREADS = "FORENSICS_BULK_THREADS"
MAX_THREADS = 4
# Rows (as a span of source row ids) per range below which a thread costs more than it saves: starting a connection
# and attaching the databases is a few milliseconds, the copy back about a quarter of the rows' cost
MIN_ROWS_PER_PART = 100_000
# The store's connection takes a smaller range than the threads, as it also copies their rows back afterwards
# (copying a row costs about a quarter of computing it: 1 / (1 + 0.25) ~ 0.8)
FIRST_SHARE = 0.8
# SQLite attaches at most 10 databases to one connection (SQLITE_MAX_ATTACHED); leave room for the parser's own
_ATTACH_LIMIT = 10

_serial = itertools.count(1)
_ALIAS = "bulk_part_"  # the scratch databases attached to the store's connection until its transaction ends


def threads_wanted() -> int:
    """How many threads an ordered bulk insert may use: ``FORENSICS_BULK_THREADS`` when set, else 1 (no split).

    Off by default because it was measured not to pay: the mappings call Python SQL functions (time decoding,
    ``py_str``) for every row, and each call takes the GIL, so two connections mostly wait for each other. On two
    idle cores, 1,000,000 WhatsApp messages (``benchmarks/parse.py --threads N``): one thread 5.72 and 5.80 s wall,
    5.7 s CPU; two threads 6.57 and 6.56 s wall, 9.8 s CPU. With ``FORENSICS_BULK_THREADS=auto``: one more than the
    cores that are at least half idle (1-minute load average), at most ``MAX_THREADS``."""
    given = os.environ.get(ENV_THREADS, "").strip()
    if given != "auto":
        try:
            return max(1, min(int(given), 16)) if given else 1
        except ValueError:
            return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float(cores)
    return max(1, min(MAX_THREADS, cores, 1 + int(max(0.0, cores - load + 0.5))))


def bounds(low: int, high: int, parts: int) -> list[int]:
    """Range starts (the second onwards) splitting row ids ``low..high`` into ``parts`` ranges, the first of
    ``FIRST_SHARE`` the size of the others."""
    span = high - low + 1
    total = FIRST_SHARE + (parts - 1)
    return [low + int(span * (FIRST_SHARE + k) / total) for k in range(parts - 1)]


def plan(conn: sqlite3.Connection, table_sql: str) -> list[int]:
    """Range starts for an insert whose source rows are those of ``table_sql`` (``schema.table``, ordered by its
    row id): empty when it is not worth splitting (or cannot be: too many attached databases, an in-memory one)."""
    wanted = threads_wanted()
    if wanted < 2:
        return []
    attached = conn.execute("PRAGMA database_list").fetchall()
    if len(attached) + wanted > _ATTACH_LIMIT + 1 or any(not file for _, name, file in attached if name != "temp"):
        return []
    try:
        low, high = conn.execute(f"SELECT min(rowid), max(rowid) FROM {table_sql}").fetchone()
    except sqlite3.Error:  # no such table, or one WITHOUT ROWID: not split
        return []
    if low is None or type(low) is not int or type(high) is not int:
        return []
    parts = min(wanted, (high - low + 1) // MIN_ROWS_PER_PART)
    return bounds(low, high, parts) if parts >= 2 else []


def ranges(column: str, starts: list[int]) -> list[list[tuple[str, list]]]:
    """Per range, its statements' WHERE conditions on ``column`` with their parameters.

    The first range is NULL (which sorts first; its own statement, as ``IS NULL OR <`` would stop SQLite from
    searching a row id range) then everything below the first start; the last range every value from the last
    start (text and blobs sort after numbers), so the ranges cover every row exactly once, in the order ORDER BY
    gives."""
    out = [[(f"{column} IS NULL", []), (f"{column} < ?", [starts[0]])]]
    out += [[(f"{column} >= ? AND {column} < ?", [low, high])] for low, high in zip(starts, starts[1:])]
    out.append([(f"{column} >= ?", [starts[-1]])])
    return out


def run(conn: sqlite3.Connection, folder: Path, table: str, column: str, statement: Callable[[str], str], args: list,
        starts: list[int], configure: Callable[[sqlite3.Connection], None], left: list[tuple[str, Path]],
        interrupt: Callable[[], bool] | None = None) -> None:
    """Insert every range: the first on ``conn``, each other one on a thread into a scratch file in ``folder``, then
    their rows appended to ``main.<table>`` of ``conn`` in range order. ``statement(where)`` gives the INSERT into
    ``main.<table>`` of the rows that meet ``where`` on the order ``column`` (see ``ranges``; its placeholders:
    ``args``, then those of ``where``); ``configure`` registers the SQL functions it uses on a new connection;
    ``interrupt()`` true stops the threads (a time limit). The scratch databases left attached to ``conn`` are added to ``left`` (alias,
    path), for ``release`` once the transaction ends."""
    parts = ranges(column, starts)
    table_def = conn.execute("SELECT sql FROM main.sqlite_master WHERE type = 'table' AND name = ?",
                             (table,)).fetchone()[0]
    sources = [(name, file) for _, name, file in conn.execute("PRAGMA database_list")
               if name not in ("main", "temp") and not name.startswith(_ALIAS)]
    stop = threading.Event()
    workers = []
    for (where, bounds_args), in parts[1:]:
        path = folder / f".{os.getpid()}-{next(_serial)}.bulk-part"
        worker = _Part(path, table_def, sources, statement(where), [*args, *bounds_args], configure, stop, interrupt)
        workers.append(worker)
        worker.thread.start()
    try:
        for where, bounds_args in parts[0]:
            conn.execute(statement(where), [*args, *bounds_args])
        for worker in workers:
            worker.thread.join()
        failed = next((w.error for w in workers if w.error is not None), None)
        if failed is not None:
            raise failed
        names = ", ".join(ident(r[1]) for r in conn.execute(f"PRAGMA main.table_info({ident(table)})")
                          if r[1] != "id")
        for worker in workers:
            alias = f"{_ALIAS}{next(_serial)}"
            conn.execute(f"ATTACH DATABASE ? AS {alias}", (sqlite_uri(worker.path),))
            left.append((alias, worker.path))
            conn.execute(f"INSERT INTO main.{ident(table)} ({names}) SELECT {names} FROM {alias}.{ident(table)} "
                         "ORDER BY rowid")
    except BaseException:
        stop.set()
        for worker in workers:
            worker.thread.join()
        raise
    finally:
        for worker in workers:
            if not any(path == worker.path for _, path in left):
                _remove(worker.path)


def release(conn: sqlite3.Connection, left: list[tuple[str, Path]]) -> None:
    """Detach and delete the scratch databases ``run`` left attached (outside any transaction)."""
    while left:
        alias, path = left.pop()
        try:
            conn.execute(f"DETACH DATABASE {alias}")
        except sqlite3.Error:
            pass  # the connection is closing
        _remove(path)


def _remove(path: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


class _Part:
    """One range inserted on a thread into a scratch database of its own."""

    def __init__(self, path: Path, table_def: str, sources: list[tuple[str, str]], sql: str, args: list,
                 configure, stop: threading.Event, interrupt):
        self.path, self.table_def, self.sources, self.sql, self.args = path, table_def, sources, sql, args
        self.configure, self.stop, self.interrupt = configure, stop, interrupt
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name=f"bulk-part {path.name}", daemon=True)

    def _stopped(self) -> int:
        return 1 if self.stop.is_set() or (self.interrupt is not None and self.interrupt()) else 0

    def _run(self) -> None:
        _remove(self.path)
        try:
            os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))  # evidence: owner only
            db = sqlite3.connect(sqlite_uri(self.path, readonly=False), uri=True, isolation_level=None)
        except BaseException as exc:  # reported by the thread that waits for this one
            self.error = exc
            return
        try:
            # scratch until copied back: big pages, no journal, no fsync (as a shard being written)
            db.execute("PRAGMA page_size=65536")
            db.execute("PRAGMA journal_mode=OFF")
            db.execute("PRAGMA synchronous=OFF")
            self.configure(db)
            for name, file in self.sources:
                db.execute(f"ATTACH DATABASE ? AS {ident(name)}", (sqlite_uri(file),))
            db.execute(self.table_def)
            db.set_progress_handler(self._stopped, 10_000)
            db.execute("BEGIN")
            db.execute(self.sql, self.args)
            db.execute("COMMIT")
        except BaseException as exc:
            self.error = exc
        finally:
            db.close()
