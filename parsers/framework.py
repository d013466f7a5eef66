"""The machinery every parser shares, written once: registration, path matching, opening working copies of
databases (with their -wal), the schema fingerprint, recovery of malformed databases, provenance, and recording the
outcome of every parser run on every file.

A parser module only declares what it wants and how rows map to records::

    @parser(name="android-sms", app="com.android.providers.telephony", platform="SMS",
            paths=["*/com.android.providers.telephony/databases/mmssms.db"],
            requires={"sms": {"_id", "address", "date", "type", "body"}})
    def sms(db, ctx):
        for row in db.execute("SELECT ... FROM sms"):
            yield Message(app=ctx.app, ..., ts=timestamps.unix_ms(row["date"]), prov=ctx.prov("sms", row["_id"]))

``db`` is a read-only ``sqlite3.Connection`` (rows as ``sqlite3.Row``) for database parsers, None for file
parsers (``requires=None``), which read ``ctx.local`` instead — or, declared with ``stream=True``, only
``ctx.open()`` (a seekable binary stream), which lets the inventory keep their files in one pack file rather than a
working copy each (``forensics.pack``; a device's thousands of photos).

Patterns are fnmatch globs matched case-insensitively against the whole path where ``*`` also crosses ``/``, and
are unanchored: a pattern that does not start with ``*`` is matched anywhere below the root, so vendor prefixes
(``filesystem1/``, ``Dump/``) do not break them. A database's ``-wal``, ``-shm`` and ``-journal`` travel with it.
"""
from __future__ import annotations

import dataclasses
import fnmatch
import functools
import importlib
import itertools
import logging
import pkgutil
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterable

from artifacts.records import Provenance, Record
from artifacts.sql_quoting import ident, sqlite_uri
from forensics.confidential import open_private, private_dir
from forensics.inventory import SpooledFile
from parsers.decoders import sqlcipher
from parsers.decoders.sqlcipher import HEAD_SIZE as SQLCIPHER_HEAD, SQLITE_MAGIC, is_sqlcipher

log = logging.getLogger(__name__)
SIDECARS = ("-wal", "-shm", "-journal")
ENTRY_POINT_GROUP = "forensics.parsers"
UNVERIFIED = "unverified"

PARSED, NO_DATA, ERROR, ENCRYPTED, UNSUPPORTED = "parsed", "no data", "error", "encrypted", "unsupported version"


class Encrypted(Exception):
    """Raised by a parser when the file is encrypted and no key is available (outcome ``encrypted``)."""


def refuse_encrypted(ctx: "RunContext", where_the_key_is: str) -> None:
    """For a file parser whose store is normally SQLCipher and whose key is not in the evidence: raise Encrypted
    naming where the key lives when the file is SQLCipher-shaped; return when it is not (a decrypted copy)."""
    with open(ctx.local, "rb") as handle:
        if is_sqlcipher(handle.read(SQLCIPHER_HEAD)):
            raise Encrypted(f"key not found: SQLCipher database; {where_the_key_is}")


class Unsupported(Exception):
    """Raised by a parser for a schema or format version it does not read (outcome ``unsupported version``)."""


@dataclass(frozen=True)
class Cipher:
    """How a parser's SQLCipher database is decrypted: the app's cipher PRAGMAs and a function that finds the
    passphrase in other spooled files (``ctx.find``). ``key(ctx)`` returns candidate ``(passphrase, how)`` pairs,
    tried in order — ``how`` says where a key came from, never the key, and the one that opens the database becomes
    the run's message and its ``database_keys`` row (the key itself only with ``--record-keys``) — or raises ``Encrypted("key not found: what was tried")`` when it finds none. The framework decrypts the working copy (and its main file alone, when there is a -wal)
    into plain copies in a scratch folder, so WAL flags, fingerprints and recovery work as for any database; a file
    that is already plain SQLite (decrypted by an extraction tool) is read as it is."""

    settings: tuple[str, ...]
    key: Callable[["RunContext"], list[tuple[str, str]]]


@dataclass
class ParserSpec:
    name: str
    app: str
    paths: list[str]
    func: Callable
    requires: dict[str, set[str]] | None = None
    platform: str | None = None
    version: str = "1"
    description: str = ""
    source: str = UNVERIFIED
    cipher: Cipher | None = None
    carve: tuple[str, ...] = ()
    stream: bool = False
    _regex: re.Pattern | None = field(default=None, repr=False)
    standalone: bool = False

    @property
    def regex(self) -> re.Pattern:
        if self._regex is None:
            self._regex = compile_patterns(self.paths)
        return self._regex

    def matches(self, path: str) -> bool:
        return self.regex.match(path.lower()) is not None


_REGISTRY: dict[str, ParserSpec] = {}


def parser(*, name: str, app: str, paths: list[str], requires: dict[str, set[str]] | None = None,
           platform: str | None = None, version: str = "1", description: str = "", source: str = "",
           cipher: Cipher | None = None, carve: Iterable[str] = (), stream: bool = False,
           standalone: bool = False):
    """Register a parser function; see the module docstring for the contract.

    ``source`` says where the parser's schema facts come from — a public tool's query, a public test file or the
    app's published source (e.g. ``"ALEAPP scripts/artifacts/bumble.py; plaso test_data/android/..."``) — or
    ``unverified``; ``forensics parsers`` shows it. Without it, the module's ``SOURCE`` constant (declared before
    its parsers) says it for every parser of the module. ``cipher`` makes the database a SQLCipher one (see
    ``Cipher``).

    ``carve`` names the tables whose deleted rows are carved from the database's free space and old WAL frames and
    mapped by this same function (``parsers.carving``; docs/recovery.md); none by default.

    ``stream``: a file parser that reads its file only through ``ctx.open()``, never ``ctx.local`` (which is None
    for a file kept in the pack).

    ``standalone`` (file parsers only): the parser needs nothing but its own file — no other working copy, no
    device fact — so its runs happen while the inventory goes on and each working copy is deleted right after
    (``parsed_at_once``): a device's 50 GB of photos never sit in the work folder at once."""

    def register(func: Callable) -> Callable:
        if name in _REGISTRY and _REGISTRY[name].func is not func:
            raise ValueError(f"parser name {name!r} registered twice")
        _REGISTRY[name] = ParserSpec(name, app, list(paths), func, requires, platform, version,
                                     description or (func.__doc__ or "").strip().splitlines()[0]
                                     if func.__doc__ else description,
                                     source or getattr(sys.modules.get(func.__module__), "SOURCE", None) or UNVERIFIED,
                                     cipher, tuple(carve), stream,
                                     standalone=standalone and requires is None and cipher is None)
        return func

    return register


def compile_patterns(patterns: Iterable[str]) -> re.Pattern:
    """One regex for a set of globs: unanchored at the front, case-insensitive, sidecars included."""
    parts = []
    for pattern in patterns:
        p = pattern.lower()
        if not p.startswith("*"):
            p = "*/" + p.lstrip("/")
        parts.append(fnmatch.translate(p)[4:-3])  # strip fnmatch's (?s: ... )\Z wrapper
    body = "|".join(f"(?:{p})" for p in parts) or "(?!)"
    return re.compile(rf"(?s:(?:{body})(?:-wal|-shm|-journal)?)\Z")


def wanted_paths(specs: list[ParserSpec]) -> Callable[[str], bool]:
    """Whether any parser wants a path (``matching_specs``: no regex of every pattern is compiled or tried, which
    cost a quarter of a second per device)."""
    matching = matching_specs(specs)
    return lambda path: bool(matching(path))


def packable_paths(specs: list[ParserSpec]) -> Callable[[str], bool]:
    """Whether every parser that wants a path reads it as a stream (``stream=True``), so its working copy may be a
    section of the inventory's pack file (``forensics.inventory``)."""
    matching = matching_specs(specs)

    def packable(path: str) -> bool:
        hits = matching(path)
        return bool(hits) and all(spec.stream for spec in hits)

    return packable


def _without_sidecar(name: str) -> str:
    for sidecar in SIDECARS:
        if name.endswith(sidecar):
            return name[: -len(sidecar)]
    return name


def parsed_at_once(specs: list[ParserSpec]) -> Callable[[str], bool]:
    """Whether a working copy can be parsed as soon as it is made and then deleted: every parser that wants its path
    is ``standalone`` (a photo: EXIF), it is no database sidecar and no other parser looks it up."""
    matching = matching_specs(specs)

    def at_once(path: str) -> bool:
        if path.endswith(SIDECARS):
            return False
        hits = matching(path)
        return bool(hits) and all(spec.standalone for spec in hits)

    return at_once


def load_parsers() -> list[ParserSpec]:
    """Every parser: the modules of this package, then any a lab installed under the entry-point group."""
    package = importlib.import_module("parsers")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name not in ("framework",) and not info.ispkg:
            importlib.import_module(f"parsers.{info.name}")
    for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        ep.load()
    return sorted(_REGISTRY.values(), key=lambda s: s.name)


@dataclass
class Bulk:
    """Rows a parser maps in SQL rather than in Python: ``INSERT INTO <record table> SELECT ...`` over ``sql``.

    For tables of millions of rows. ``sql`` reads the source database as schema ``src`` (and any database the
    parser attached with ``ctx.attach``) and names its result columns after the record's fields, with
    ``source_row`` for the row id of ``table``; a time field gives its raw value and ``times`` its encoding (the
    store decodes it in SQL exactly as ``artifacts.timestamps`` does); list and dict fields are JSON text.
    ``order_by``: a result column whose ascending order is the order of the rows (as the query's own ORDER BY
    gives it), which lets SQLite run the query as part of the INSERT rather than hand each row over (faster on
    millions of rows; time columns should then be plain column values, each is read a dozen times). With
    ``order_by="source_row"`` a big insert is also split over the idle cores by ranges of ``table``'s row ids
    (``artifacts.split_insert``), with the same result.
    """

    record_type: type[Record]
    table: str
    sql: str
    params: tuple = ()
    times: dict[str, str] = field(default_factory=dict)
    order_by: str | None = None


@dataclass
class RunContext:
    """What a parser gets besides the database: identity, provenance factory, and the other spooled files."""

    spec: ParserSpec
    source: SpooledFile
    local: Path
    base: Provenance
    spooled: list[SpooledFile]
    recovered: bool = False
    store: object = None
    attached: list[str] = field(default_factory=list)
    scratch: Path | None = None  # the device's work folder: where a packed file ``find`` returns is copied out
    # times the run's written records keep undecoded (out of range, not a number), per ``table.field``; shared by
    # the contexts of the run's WAL-deleted and carved passes (``replace`` copies the reference)
    undecoded: Counter = field(default_factory=Counter)
    _base_fields: dict | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def app(self) -> str:
        return self.spec.app

    @property
    def platform(self) -> str | None:
        return self.spec.platform

    def prov(self, table: str | None = None, row_id=None) -> Provenance:
        """The run's provenance for one row: a copy of ``base`` with the table and row filled in. Built from the
        base's fields copied once per run (``dataclasses.replace`` would re-run ``__init__`` for every record)."""
        if self._base_fields is None:
            self._base_fields = dict(vars(self.base))
        p = object.__new__(Provenance)
        fields = vars(p)
        fields.update(self._base_fields)
        fields["source_table"] = table
        fields["source_row"] = None if row_id is None else str(row_id)
        fields["recovered"] = self.recovered
        return p

    def open(self):
        """The file being parsed as a seekable binary stream (a file parser's way in; the only one for a
        ``stream=True`` parser, whose file may be a section of the pack rather than a file of its own)."""
        if not self.source.own_file and (self.local is None or self.local == self.source.local):
            return self.source.open()
        return open(self.local, "rb")

    def attach_source(self) -> None:
        """The database being parsed, readable as ``src`` by Bulk queries."""
        self.attach("src", self.local, check=False)

    def bulk(self, record_type: type[Record], table: str, sql: str, params: tuple = (),
             times: dict[str, str] | None = None, order_by: str | None = None) -> Bulk:
        return Bulk(record_type, table, sql, tuple(params), dict(times or {}), order_by)

    def detach_all(self) -> None:
        for alias in reversed(self.attached):
            self.store.db.conn.execute(f"DETACH DATABASE {ident(alias)}")
        self.attached.clear()

    def attach(self, alias: str, path: Path, check: bool = True) -> None:
        """Make another database readable as ``alias`` in ``Bulk`` queries (call before the first yield)."""
        if check and (not re.fullmatch(r"[a-z_][a-z0-9_]*", alias) or alias in ("main", "temp", "src")):
            raise ValueError(f"bad alias {alias!r}")
        self.store.db.conn.execute(f"ATTACH DATABASE ? AS {ident(alias)}", (sqlite_uri(path),))
        self.attached.append(alias)

    def device_facts(self, key: str) -> list[str]:
        """Distinct values of the device fact ``key`` (e.g. ``imei``) other parsers of this device stored, sorted.
        Parsers with a ``cipher`` run after all others, so every fact found in the evidence is there for them."""
        if self.store is None:
            return []
        rows = self.store.db.conn.execute(
            "SELECT DISTINCT value FROM device_facts WHERE device_id = ? AND key = ? AND value IS NOT NULL "
            "AND value != '' ORDER BY value", (self.base.device_id, key))
        return [r[0] for r in rows]

    def find(self, pattern: str) -> list[SpooledFile]:
        """Other working copies whose original path matches ``pattern`` (same rules as parser paths), same layer
        first, in path order; sidecars excluded."""
        regex = compile_patterns([pattern])
        hits = [s for s in self.spooled if regex.match(s.path.lower()) and not s.path.endswith(SIDECARS)]
        return [self._own_file(s) for s in sorted(hits, key=lambda s: (s.partition != self.source.partition, s.path))]

    def _own_file(self, spooled: SpooledFile) -> SpooledFile:
        """``spooled`` with a working copy of its own: a section of the pack is copied out to the scratch folder
        (rare: a parser looking for another parser's photos), so ``local`` is always a file."""
        if spooled.own_file:
            return spooled
        folder = Path(tempfile.mkdtemp(dir=private_dir(self.scratch)))
        name = spooled.path.rsplit("/", 1)[-1].replace("\x00", "_")
        copy = folder / (name if name not in ("", ".", "..") else "_")
        with spooled.open() as src, open_private(copy, binary=True) as out:
            shutil.copyfileobj(src, out)
        return replace(spooled, local=copy, offset=None, data=None)


def columns(db: sqlite3.Connection, table: str) -> set[str]:
    """Column names of ``table`` (lower-case), empty when it does not exist."""
    return {r[1].lower() for r in db.execute(f"PRAGMA table_info({ident(table)})")}


def optional_columns(db: sqlite3.Connection, table: str, wanted, alias: str | None = None) -> str:
    """A SELECT list naming each of ``wanted`` (as written) from ``table``, or ``NULL AS <name>`` where this schema
    version lacks it — how a parser tolerates optional columns without a query per version."""
    present = columns(db, table)
    prefix = f"{alias}." if alias else ""
    return ", ".join(f"{prefix}{c}" if c.lower() in present else f"NULL AS {c}" for c in wanted)


def as_text(value) -> str | None:
    """A stored value as text for a record: bytes that are not UTF-8 are kept as hex rather than mangled."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.hex()
    return str(value)


def tables(db: sqlite3.Connection) -> set[str]:
    return {r[0].lower() for r in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table','view')")}


def fingerprint_mismatch(db: sqlite3.Connection, requires: dict[str, set[str]]) -> str | None:
    """None when every required table has every required column; else what is missing."""
    present = tables(db)
    missing = []
    for table, cols in sorted(requires.items()):
        if table.lower() not in present:
            missing.append(f"table {table}")
            continue
        lacking = {c.lower() for c in cols} - columns(db, table)
        if lacking:
            missing.append(f"{table}({', '.join(sorted(lacking))})")
    return "missing " + ", ".join(missing) if missing else None


# Collations Android registers in its own SQLite build; stand-ins so queries that touch such columns still run.
ANDROID_COLLATIONS = ("PHONEBOOK", "LOCALIZED", "UNICODE")
_FOREIGN_COLLATE = re.compile(rb"\bCOLLATE\s+(?!BINARY\b|NOCASE\b|RTRIM\b)[\"'`\[]?\w+[\"'`\]]?", re.IGNORECASE)


def _casefold_compare(a: str, b: str) -> int:
    a, b = a.casefold(), b.casefold()
    return (a > b) - (a < b)


# Seconds one parser run on one file may spend inside SQLite (an absurd page count, a cyclic b-tree, a query that
# never ends): past it every SQLite call of the run is interrupted and the run fails with that reason.
PARSER_TIME_LIMIT = 900
_deadline: float | None = None  # of the parser run in progress (runs are sequential within a process)


def parser_time_limit() -> float:
    """``FORENSICS_PARSER_TIME_LIMIT`` seconds when set, else ``PARSER_TIME_LIMIT``."""
    import os

    try:
        return max(float(os.environ.get("FORENSICS_PARSER_TIME_LIMIT", PARSER_TIME_LIMIT)), 0.001)
    except ValueError:
        return PARSER_TIME_LIMIT


def _watch(conn: sqlite3.Connection) -> None:
    """Interrupt ``conn``'s statements once the current run's deadline has passed."""
    if _deadline is not None:
        deadline = _deadline
        conn.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)


def open_readonly(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(sqlite_uri(path), uri=True)
    _watch(db)
    db.row_factory = sqlite3.Row
    db.text_factory = lambda b: b.decode("utf-8", "replace")
    for name in ANDROID_COLLATIONS:
        db.create_collation(name, _casefold_compare)
    return db


def recover(path: Path, work: Path) -> Path | None:
    """A malformed database rebuilt from what the sqlite3 CLI can still read; None when nothing usable comes out.

    ``.recover`` is tried first; where it fails (the CLI build lacks sqlite_dbpage, or gives up), ``.dump`` salvages
    every row it can read and its closing ROLLBACK is turned into a COMMIT so those rows are kept.
    """
    target = work / (path.name + ".recovered")
    target.unlink(missing_ok=True)
    script = None
    for command in (".recover", ".dump"):
        try:
            out = subprocess.run(["sqlite3", "-readonly", str(path.absolute()), command], capture_output=True,
                                 timeout=900)
        except (OSError, subprocess.TimeoutExpired):
            return None
        text = out.stdout.rstrip()
        if text.endswith(b"COMMIT;"):
            script = text
            break
        if command == ".dump" and text.endswith(b"ROLLBACK; -- due to errors"):
            script = text[: -len(b"ROLLBACK; -- due to errors")] + b"COMMIT;"
    if script is None:
        return None
    script = _FOREIGN_COLLATE.sub(b"", script)  # the CLI lacks Android's collations: keep the tables, drop those
    try:
        load = subprocess.run(["sqlite3", str(target.absolute())], input=script, capture_output=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return target if load.returncode in (0, 1) and target.exists() else None


def main_file_copy(local: Path, work: Path) -> Path | None:
    """A copy of the database's main file alone (no -wal beside it), or None when there is no -wal.

    Comparing it with the database as its -wal leaves it tells which rows exist only in the WAL (new since the
    last checkpoint) and which exist only in the main file (deleted or replaced since then: often exactly the
    messages someone deleted just before the phone was seized).
    """
    wal = Path(str(local) + "-wal")
    if not wal.exists() or wal.stat().st_size == 0:
        return None
    base = Path(tempfile.mkdtemp(dir=work)) / local.name
    shutil.copyfile(local, base)
    return base


def rowids(db: sqlite3.Connection, table_names: Iterable[str]) -> dict[str, set[str]]:
    """Row ids (as text) of each named table that exists, keyed by lower-case table name."""
    present = tables(db)
    return {t.lower(): {str(r[0]) for r in db.execute(f"SELECT rowid FROM {ident(t)}")}
            for t in table_names if t.lower() in present}


class MainRows:
    """Row ids of the database's main file alone, read per table the first time a record cites that table.

    A table the main file lacks but the database with its -wal has (never checkpointed: an address book whose main
    file is one empty page) has an empty set, so every row of it counts as coming from the WAL; a table neither has
    (or a main file that cannot be read) gives None: nothing is claimed about it.
    """

    def __init__(self, main: Path, full: sqlite3.Connection):
        self._full_tables = tables(full)
        try:
            self._main = open_readonly(main)
            self._main_tables = tables(self._main)
        except sqlite3.DatabaseError:
            self._main, self._main_tables = None, set()
        self._rows: dict[str, set[str] | None] = {}

    def get(self, table: str) -> set[str] | None:
        table = table.lower()
        if table not in self._rows:
            if self._main is None or table not in self._full_tables:
                self._rows[table] = None
            elif table in self._main_tables:
                try:
                    self._rows[table] = rowids(self._main, [table])[table]
                except sqlite3.DatabaseError:
                    self._rows[table] = None
            else:
                self._rows[table] = set()
        return self._rows[table]

    def known(self) -> dict[str, set[str]]:
        return {t: rows for t, rows in sorted(self._rows.items()) if rows}

    def close(self) -> None:
        if self._main is not None:
            self._main.close()


@dataclass
class Outcome:
    spec: ParserSpec
    source: SpooledFile
    outcome: str
    records: int = 0
    message: str | None = None
    recovered: bool = False
    from_wal: int = 0
    wal_deleted: int = 0
    carved: int = 0
    unmapped: int = 0
    warnings: list[str] = field(default_factory=list)
    key_how: str | None = None  # how the key that decrypted the database was obtained (never the key)
    key: str | None = None  # the key itself, only when the examiner asked for it (--record-keys)

    def row(self, base: Provenance) -> dict:
        return {"device_id": base.device_id, "evidence_id": self.source.evidence_id or base.evidence_id,
                "partition": self.source.partition,
                "source_path": self.source.path, "source_inode": self.source.inode, "parser": self.spec.name,
                "parser_version": self.spec.version, "app": self.spec.app, "outcome": self.outcome,
                "records": self.records, "message": self.message, "recovered": self.recovered,
                "wal_records": self.from_wal, "wal_deleted_records": self.wal_deleted,
                "live_records": self.records - self.wal_deleted - self.carved, "carved_records": self.carved,
                "carved_unmapped": self.unmapped, "warnings": len(self.warnings)}

    def key_row(self, base: Provenance) -> dict:
        """The ``database_keys`` row of a decrypted database: that a key was used and how it was obtained; the key
        only when it was asked for."""
        return {"device_id": base.device_id, "evidence_id": self.source.evidence_id or base.evidence_id,
                "partition": self.source.partition, "source_path": self.source.path,
                "source_inode": self.source.inode, "parser": self.spec.name, "app": self.spec.app,
                "how": self.key_how, "key": self.key}


def run_parsers(specs: list[ParserSpec], spooled: list[SpooledFile], base: Provenance, store, work: Path,
                progress: Callable[[], None] | None = None, record_keys: bool = False,
                ahead: bool = True) -> list[Outcome]:
    """Run every matching parser on every spooled file, in a fixed order, each run all-or-nothing in the store.
    Parsers of encrypted databases (``cipher``) run last, so the device facts their keys may need are stored.
    A decrypted database's outcome says how its key was obtained (``key_how``); the key itself (``key``) is kept
    only with ``record_keys``. ``ahead=False`` runs stream parsers here rather than in a forked worker (the batches
    parsed while the inventory's threads run)."""
    outcomes = []
    matching = matching_specs(specs)
    batch = _FileRunBatch(store)
    limit = parser_time_limit()  # once per call, not per run (an environment look-up per photo)
    plan = [(source, matching(source.path))
            for source in sorted(spooled, key=lambda s: (s.partition, s.path)) if not source.path.endswith(SIDECARS)]
    ahead = None if not ahead else _StreamsAhead.start([(spec, source) for source, matching in plan for spec in matching
                                 if spec.stream and spec.cipher is None], base, spooled, work)
    try:
        for deferred in (False, True):
            for source, matching in plan:
                for spec in matching:
                    if (spec.cipher is not None) == deferred:
                        batch.enter(file_parser=spec.requires is None)
                        outcomes.append(_run(spec, source, base, spooled, store, work, record_keys, ahead, limit))
                        if progress:
                            progress()
    except BaseException:
        batch.end(commit=False)
        raise
    finally:
        if ahead is not None:
            ahead.close()
    batch.end(commit=True)
    return outcomes


# Stream parsers (a device's thousands of photos) are run ahead, in a forked worker process, in the order the device's
# runs will reach them, while this process runs the database parsers; each run's records (or exception) are then
# written here, in order, through the same path as a run done here — so the store is the same byte for byte. Only
# worth it, and only done, for at least this many runs.
STREAMS_AHEAD_MIN = 64
STREAMS_AHEAD_CHUNK = 128
STREAMS_AHEAD_CHUNKS = 64  # chunks handed to the worker and not yet collected: bounds the records held (~25 MB)
_AHEAD_STATE: tuple | None = None  # (specs, base, spooled, work) for the forked worker, set just before it starts


class _NeedsStore(Exception):
    """A stream parser in the worker reached for the store: that run is done in the main process instead."""


class _NoStore:
    def __getattr__(self, name):
        raise _NeedsStore(name)


def _parse_ahead(jobs: list[tuple[int, int]]) -> list[tuple]:
    """In the worker: ("ok", records, exception or None) per (index of the parser, index in ``spooled``), or
    ("here",) where the run must be done in the main process (it used the store, or what it gave cannot be sent
    back)."""
    import pickle

    specs, base, spooled, work = _AHEAD_STATE
    results = []
    for spec_index, index in jobs:
        spec, source = specs[spec_index], spooled[index]
        ctx = RunContext(spec, source, source.local if source.own_file else None,
                         _run_provenance(base, spec, source), spooled, store=_NoStore(), scratch=work)
        records, error = [], None
        try:
            for item in spec.func(None, ctx) or ():
                if isinstance(item, Bulk):
                    raise _NeedsStore("bulk")
                records.append(item)
        except _NeedsStore:
            results.append(("here",))
            continue
        except Exception as exc:  # the parser's own failure: raised again where the run is written
            error = exc
        try:
            pickle.dumps((records, error))
        except Exception:
            results.append(("here",))
            continue
        results.append(("ok", records, error))
    return results


class _StreamsAhead:
    """The worker and its results, taken in the order the runs were planned."""

    @classmethod
    def start(cls, runs: list[tuple[ParserSpec, SpooledFile]], base: Provenance, spooled: list[SpooledFile],
              work: Path) -> "_StreamsAhead | None":
        if len(runs) < STREAMS_AHEAD_MIN:
            return None
        global _AHEAD_STATE
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        specs = list({id(spec): spec for spec, _ in runs}.values())
        _AHEAD_STATE = (specs, base, spooled, work)
        try:
            pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
        except (OSError, ValueError):
            _AHEAD_STATE = None
            return None
        return cls(pool, runs, specs, spooled)

    def __init__(self, pool, runs, specs, spooled):
        index = {id(s): i for i, s in enumerate(spooled)}
        spec_index = {id(spec): i for i, spec in enumerate(specs)}
        self.pool = pool
        self.keys = [(id(spec), id(source)) for spec, source in runs]
        self.jobs = [(spec_index[id(spec)], index[id(source)]) for spec, source in runs]
        self.pending: list = []  # [first run number, runs, future, results] of chunks handed over, oldest first
        self.taken = 0  # runs whose result was taken
        self.submitted = 0
        self.broken = False
        self._fill()

    def _fill(self) -> None:
        while not self.broken and self.submitted < len(self.jobs) and len(self.pending) < STREAMS_AHEAD_CHUNKS:
            chunk = self.jobs[self.submitted:self.submitted + STREAMS_AHEAD_CHUNK]
            try:
                self.pending.append([self.submitted, len(chunk), self.pool.submit(_parse_ahead, chunk), None])
            except Exception:  # the worker is gone: every later run is done here
                self.broken = True
                return
            self.submitted += len(chunk)

    def take(self, spec: ParserSpec, source: SpooledFile) -> tuple | None:
        """The worker's result for this run, or None when the run is to be done here."""
        if self.taken >= len(self.keys) or self.keys[self.taken] != (id(spec), id(source)):
            return None
        number = self.taken
        self.taken += 1
        while self.pending and not (self.pending[0][0] <= number < self.pending[0][0] + self.pending[0][1]):
            self.pending.pop(0)
        if not self.pending:
            return None
        chunk = self.pending[0]
        first, size, future, results = chunk
        if results is None:
            try:
                results = chunk[3] = future.result()
            except Exception:  # the worker died or could not send the chunk back: these runs are done here
                results = chunk[3] = [("here",)] * size
        result = results[number - first]
        if number == first + size - 1:
            self.pending.pop(0)
            self._fill()
        return result if result[0] == "ok" else None

    def close(self) -> None:
        global _AHEAD_STATE
        self.pool.shutdown(wait=True, cancel_futures=True)
        _AHEAD_STATE = None


def _replay(records: list, error: Exception | None) -> Callable:
    """A parser function giving what the worker's run gave: its records, then its exception if it failed."""

    def replay(db, ctx):
        yield from records
        if error is not None:
            raise error

    return replay


class _FileRunBatch:
    """Consecutive runs of file parsers (a device's thousands of photos) share one store transaction; each run is
    still all-or-nothing on its own (the store's savepoint) and keeps its own outcome. A database parser run ends
    the batch first: it attaches its source, which SQLite refuses inside a transaction."""

    def __init__(self, store):
        self.conn = getattr(getattr(store, "db", None), "conn", None)
        self.open = False

    def enter(self, file_parser: bool) -> None:
        if self.conn is None:
            return
        if file_parser and not self.open and not self.conn.in_transaction:
            self.conn.execute("BEGIN")
            self.open = True
        elif not file_parser:
            self.end(commit=True)

    def end(self, commit: bool) -> None:
        if self.open:
            self.open = False
            self.conn.execute("COMMIT" if commit else "ROLLBACK")


def _candidate_specs(specs: list[ParserSpec]) -> Callable[[str], list[ParserSpec]]:
    """The specs (in ``specs`` order) that may match a path, so a device's thousands of photos are not tried against
    every parser's full patterns. A pattern whose last component is literal can only match a file of that name (a
    set look-up); any other only a path holding the pattern's longest literal run (``_literal_run``: a substring
    test)."""
    by_name: dict[str, set[int]] = {}
    guarded: list[tuple[str, int]] = []
    for index, spec in enumerate(specs):
        for pattern in spec.paths:
            last = pattern.rsplit("/", 1)[-1].lower()
            if not any(c in last for c in "*?["):
                by_name.setdefault(last, set()).add(index)
            else:
                guarded.append((_literal_run(pattern), index))

    def candidates(path: str) -> list[ParserSpec]:
        lowered = path.lower()
        name = lowered.rsplit("/", 1)[-1]
        hits = by_name.get(name, set()) | by_name.get(_without_sidecar(name), set())
        hits.update(index for literal, index in guarded if literal in lowered)
        return [specs[i] for i in sorted(hits)]

    return candidates


def _literal_run(pattern: str) -> str:
    """The longest run of ``pattern`` (as ``compile_patterns`` reads it: lower case, under a folder) that a matching
    path must hold verbatim: the pattern cut at ``*``, ``?`` and anything from a ``[`` to the last ``]`` (a class, or
    a literal bracket: cutting there only shortens the runs)."""
    p = pattern.lower()
    if not p.startswith("*"):
        p = "*/" + p.lstrip("/")
    if "[" in p:
        start, end = p.index("["), p.rfind("]")
        p = p[:start] + "*" + (p[end + 1:] if end > start else p[start + 1:])
    return max(re.split(r"[*?\[\]]", p), key=len)


_MATCHERS: dict[tuple[int, ...], tuple[list[ParserSpec], Callable[[str], tuple[ParserSpec, ...]]]] = {}


def matching_specs(specs: list[ParserSpec]) -> Callable[[str], tuple[ParserSpec, ...]]:
    """The specs (in ``specs`` order) whose patterns match a path: ``_candidate_specs`` then each candidate's own
    regex. One per list of specs, remembering the last paths asked, as the inventory (wanted? packed? parsed at
    once?) and the parser runs ask about each path in turn."""
    key = tuple(map(id, specs))
    known = _MATCHERS.get(key)
    if known is None:
        candidates = _candidate_specs(specs)

        @functools.lru_cache(maxsize=8192)
        def matching(path: str) -> tuple[ParserSpec, ...]:
            lowered = path.lower()
            return tuple(spec for spec in candidates(path) if spec.regex.match(lowered) is not None)

        if len(_MATCHERS) >= 8:
            _MATCHERS.pop(next(iter(_MATCHERS)))
        known = _MATCHERS[key] = (list(specs), matching)  # the specs kept alive: their ids stay theirs
    return known[1]


def _run(spec: ParserSpec, source: SpooledFile, base: Provenance, spooled, store, work: Path,
         record_keys: bool = False, ahead: _StreamsAhead | None = None, limit: float | None = None) -> Outcome:
    """One parser on one file, its outcome and time in the device's log (how a key was obtained, never the key)."""
    started = time.monotonic()
    done = ahead.take(spec, source) if ahead is not None and spec.stream else None
    run_spec = replace(spec, func=_replay(done[1], done[2])) if done is not None else spec
    outcome = _run_once(run_spec, source, base, spooled, store, work, limit)
    outcome.spec = spec
    if not record_keys:
        outcome.key = None
    log.info("parser %s on %s %s: %s, %d records, %.3f s%s", spec.name, source.partition, source.path,
             outcome.outcome, outcome.records, time.monotonic() - started,
             f" ({outcome.message})" if outcome.message else "")
    return outcome


def _run_provenance(base: Provenance, spec: ParserSpec, source: SpooledFile) -> Provenance:
    """``base`` with the run's file and parser filled in; built from ``base``'s fields as ``RunContext.prov`` does
    (``dataclasses.replace`` re-runs ``__init__``: a cost on each of a device's thousands of photo runs)."""
    prov = object.__new__(Provenance)
    fields = vars(prov)
    fields.update(vars(base))
    fields.update(evidence_id=source.evidence_id or base.evidence_id, partition=source.partition,
                  source_deleted=not source.allocated, source_path=source.path, source_inode=source.inode,
                  parser=spec.name, parser_version=spec.version)
    return prov


def _run_once(spec: ParserSpec, source: SpooledFile, base: Provenance, spooled, store, work: Path,
              limit: float | None = None) -> Outcome:
    prov = _run_provenance(base, spec, source)
    ctx = RunContext(spec, source, source.local if source.own_file else None, prov, spooled, store=store,
                     scratch=work)
    try:
        return _attempt(spec, ctx, store, work, limit)
    except _Malformed as exc:
        with open(source.local, "rb") as f:
            if is_sqlcipher(f.read(SQLCIPHER_HEAD)):
                return Outcome(spec, source, ENCRYPTED,
                               message="encrypted: SQLCipher database and no key for it in the evidence")
        rebuilt = recover(source.local, work)
        if rebuilt is None:
            return Outcome(spec, source, ERROR, message=f"error: damaged database, recovery failed ({exc})")
        ctx.local, ctx.recovered = rebuilt, True
        try:
            outcome = _attempt(spec, ctx, store, work, limit)
        except _Malformed as again:
            return Outcome(spec, source, ERROR, message=f"error: damaged database, recovery failed ({again})",
                           recovered=True)
        finally:
            rebuilt.unlink(missing_ok=True)  # the work folder holds one rebuilt database at a time
        outcome.recovered = True
        if outcome.outcome in (PARSED, NO_DATA):
            outcome.message = "database was damaged; rows come from what the sqlite3 CLI recovered"
        return outcome


class _Malformed(Exception):
    pass


_MALFORMED = ("malformed", "not a database", "disk i/o error", "file is encrypted", "database corrupt")


def _encrypted(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(SQLCIPHER_HEAD)
    return bool(head) and (not head.startswith(SQLITE_MAGIC) or is_sqlcipher(head))


def _decrypted_copies(cipher: Cipher, ctx: RunContext, scratch: Path) -> tuple[Path, Path | None, str, str]:
    """Plain copies of the database as it reads with its -wal and of its main file alone (None without a -wal),
    decrypted with the first candidate key that opens it, how that key was obtained, and the key."""
    candidates = cipher.key(ctx)
    wal = Path(str(ctx.local) + "-wal")
    has_wal = wal.exists() and wal.stat().st_size > 0
    copies = {}
    for name in ("full", "main") if has_wal else ("full",):
        folder = scratch / name
        folder.mkdir()
        copies[name] = folder / ctx.local.name
        shutil.copyfile(ctx.local, copies[name])
        if name == "full" and has_wal:
            shutil.copyfile(wal, str(copies[name]) + "-wal")
    failure = "no candidate key"
    for passphrase, how in candidates:
        try:
            full = sqlcipher.decrypt(copies["full"], passphrase, cipher.settings, scratch / "full" / "plain.db")
        except sqlcipher.WrongKey as exc:
            failure = str(exc)
            continue
        main = sqlcipher.decrypt(copies["main"], passphrase, cipher.settings, scratch / "main" / "plain.db") \
            if has_wal else None
        return full, main, how, passphrase
    tried = "; ".join(how for _, how in candidates)
    raise Encrypted(f"key not found: tried {len(candidates)} key(s) ({tried}); none opens this database: "
                    f"{failure}")


def _attempt(spec: ParserSpec, ctx: RunContext, store, work: Path, limit: float | None = None) -> Outcome:
    """One try of a run; ``limit``: seconds it may spend in SQLite (``parser_time_limit()`` when None)."""
    global _deadline
    db = None
    base = None
    scratch = None
    main_rows = None
    how = key = None
    limit = parser_time_limit() if limit is None else limit
    _deadline = time.monotonic() + limit
    if store is not None:
        _watch(store.db.conn)  # Bulk queries read the source through the store's connection
    try:
        if spec.requires is not None:
            if spec.cipher is not None and not ctx.recovered and _encrypted(ctx.local):
                scratch = Path(tempfile.mkdtemp(dir=work))
                ctx.local, base, how, key = _decrypted_copies(spec.cipher, ctx, scratch)
            db = open_readonly(ctx.local)
            try:
                mismatch = fingerprint_mismatch(db, spec.requires)
            except sqlite3.DatabaseError as exc:
                raise _Malformed(str(exc)) from None
            if mismatch and ctx.recovered:
                return Outcome(spec, ctx.source, ERROR, recovered=True,
                               message=f"error: damaged database; what could be recovered lacks {mismatch[8:]}")
            if mismatch:
                return Outcome(spec, ctx.source, UNSUPPORTED, message=f"unsupported version: {mismatch}")
            if not ctx.recovered and scratch is None:
                base = main_file_copy(ctx.local, work)
            ctx.attach_source()
        main_rows = MainRows(base, db) if base is not None else None
        for table in sorted(spec.requires or ()) if main_rows is not None else ():
            main_rows.get(table)  # rows of a required table the -wal deleted are found even when none remain
        warnings: list[str] = []
        ctx.undecoded.clear()
        count, wal_count = _write_skipping_bad_rows(spec, db, ctx, store, main_rows, warnings)
        gone = carved = unmapped = 0
        if main_rows is not None:
            before = main_rows.known()
            now = rowids(db, before)
            only_in_main = {t: rows - now.get(t, set()) for t, rows in before.items()}
            if any(only_in_main.values()):
                gone = _write_wal_deleted(spec, ctx, store, base, only_in_main)
        note = None
        if spec.carve and db is not None:
            from parsers.carving.carved_rows import write_carved  # it runs parser functions through _write
            carved, unmapped, note = write_carved(spec, ctx, store, work, db, base)
        if warnings:
            shown = "; ".join(warnings[:5]) + (f"; and {len(warnings) - 5} more" if len(warnings) > 5 else "")
            note = (f"{note}; " if note else "") + \
                f"{len(warnings)} bad value(s) skipped, the other rows kept: {shown}"
        if ctx.undecoded:  # one warning for the run, however many such times
            warnings.append(undecoded_note(ctx.undecoded))
            note = (f"{note}; " if note else "") + warnings[-1]
        total = count + gone + carved
        return Outcome(spec, ctx.source, PARSED if total else NO_DATA, total,
                       message="; ".join(m for m in (how, note) if m) or None,
                       recovered=ctx.recovered, from_wal=wal_count, wal_deleted=gone, carved=carved,
                       unmapped=unmapped, warnings=warnings, key_how=how, key=key)
    except _Malformed as exc:
        if scratch is not None:
            return Outcome(spec, ctx.source, ERROR, message=f"error: the decrypted database is damaged ({exc})")
        raise
    except Encrypted as exc:
        return Outcome(spec, ctx.source, ENCRYPTED, message=f"encrypted: {exc}")
    except Unsupported as exc:
        return Outcome(spec, ctx.source, UNSUPPORTED, message=f"unsupported version: {exc}")
    except MemoryError:  # the worker's memory limit: the device fails, not one parser run of it
        raise
    except sqlite3.DatabaseError as exc:
        if "interrupted" in str(exc) and time.monotonic() > _deadline:
            return Outcome(spec, ctx.source, ERROR, recovered=ctx.recovered,
                           message=f"error: stopped after the time limit of {limit:g} s per file "
                                   f"(FORENSICS_PARSER_TIME_LIMIT): the database makes SQLite run without end")
        if any(m in str(exc).lower() for m in _MALFORMED) and not ctx.recovered:
            raise _Malformed(str(exc)) from None
        return Outcome(spec, ctx.source, ERROR, message=f"error: {type(exc).__name__}: {exc}",
                       recovered=ctx.recovered)
    except Exception as exc:  # one bad file never stops a device: the failure is recorded, never swallowed
        log.warning("parser %s on %s failed", spec.name, ctx.source.path, exc_info=True)  # traceback: device log
        return Outcome(spec, ctx.source, ERROR, message=f"error: {type(exc).__name__}: {exc}",
                       recovered=ctx.recovered)
    finally:
        _deadline = None
        if store is not None:
            store.db.conn.set_progress_handler(None, 0)
        if main_rows is not None:
            main_rows.close()
        if db is not None:
            db.close()
        ctx.detach_all()
        if base is not None:
            shutil.rmtree(base.parent, ignore_errors=True)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def undecoded_note(counts: Counter) -> str:
    """The run's warning for the times its records keep undecoded: how many, and in which ``table.field``."""
    total = sum(counts.values())
    where = ", ".join(f"{name} {n}" for name, n in sorted(counts.items()))
    return (f"{total} time(s) could not be decoded to UTC ({where}): raw value and encoding (which says why) kept, "
            f"UTC time left empty")


def _write(items, ctx: RunContext, store, main_rows: MainRows | None = None, only=None,
           warnings: list[str] | None = None) -> tuple[int, int]:
    """Write what a parser yields in one transaction. With ``main_rows`` (the main file's row ids) rows missing
    from it are flagged ``from_wal``; with ``only`` just those rows are kept and flagged ``wal_deleted``. A record
    with a value the store cannot hold is left out and described in ``warnings``. Times the written records keep
    undecoded are added to ``ctx.undecoded`` once the transaction is committed."""
    warnings = [] if warnings is None else warnings
    count = wal_count = 0
    undecoded = store.undecoded_times  # counted by the store as records and Bulk rows are written
    undecoded.clear()
    items = iter(items or ())
    first = next(items, None)  # the parser's preamble (ctx.attach) runs before the transaction opens
    # a run in a batch of file-parser runs takes its savepoint only before it writes, and none for a single row
    with store.transaction(lazy=True) as block, store.record_writer(before_write=block.begin) as writer:
        for item in itertools.chain([first] if first is not None else [], items):
            if isinstance(item, Bulk):
                block.begin()
                writer.flush()
                added, from_wal = _bulk(item, ctx, store, main_rows, only)
                count += added
                wal_count += from_wal
                continue
            if not item.prov.parser:
                item.prov = ctx.prov()
            key = (item.prov.source_table or "").lower(), item.prov.source_row
            if only is not None:
                if key[1] is None or key[1] not in only.get(key[0], ()):
                    continue
                item.prov.wal_deleted = True
            elif main_rows is not None and key[1] is not None and key[0] \
                    and (present := main_rows.get(key[0])) is not None and key[1] not in present:
                item.prov.from_wal = True
                wal_count += 1
            try:
                writer.add(item)
            except (ValueError, TypeError, OverflowError) as exc:
                warnings.append(f"table {key[0] or '?'} row {key[1]}: {type(exc).__name__}: {exc}")
                continue
            count += 1
        writer.flush(last=True)
        for _, table, row, reason in writer.rejected:
            warnings.append(f"table {table or '?'} row {row}: {reason}")
        count -= len(writer.rejected)
    ctx.undecoded.update(undecoded)
    undecoded.clear()
    return count, wal_count


# How many bad rows one parser run may skip before it fails as a whole (each costs one more pass).
MAX_BAD_ROWS = 20


def _write_skipping_bad_rows(spec: ParserSpec, db, ctx: RunContext, store, main_rows, warnings: list[str]):
    """Run the parser and write its records; when the parser raises on a row (an undecodable time, a malformed
    payload) the run's writes are rolled back, that row is noted in ``warnings`` and the parser runs again with
    the row passed over — so one bad value costs one record, not the file. The row is the last one the parser
    fetched when it failed (``GuardedConnection``). Database errors are not skipped: they go to recovery."""
    skip: set = set()
    while True:
        guarded = GuardedConnection(db, skip) if db is not None else None
        try:
            return _write(spec.func(guarded, ctx), ctx, store, main_rows=main_rows, warnings=warnings)
        except (Encrypted, Unsupported, sqlite3.DatabaseError, _Malformed):
            raise
        except Exception as exc:
            if guarded is None or guarded.last is None or len(skip) >= MAX_BAD_ROWS:
                raise
            where, table, row_id = guarded.last
            skip.add(where)
            warnings.append(f"table {table or '?'} row {row_id}: {type(exc).__name__}: {exc}")
            ctx.detach_all()  # the parser's preamble attaches its databases again
            if spec.requires is not None:
                ctx.attach_source()


_FROM = re.compile(r"\bFROM\s+(?:\w+\.)?[\"`\[]?(\w+)", re.IGNORECASE)
_ROW_KEYS = ("rowid", "row_id", "_id", "ROWID", "Z_PK", "id", "_rowid_")


class GuardedConnection:
    """The parser's view of its database: every row it fetches is remembered (where it failed), rows in ``skip``
    (query, parameters, position) are passed over. Anything else is the ``sqlite3.Connection``'s own."""

    def __init__(self, conn: sqlite3.Connection, skip: set):
        self._conn = conn
        self.skip = skip
        self._last = None  # (query state, index, row) of the last row fetched; described only when asked

    @property
    def last(self):
        """((query, position), table, row id) of the last row fetched, or None."""
        if self._last is None:
            return None
        (query, table, names), index, row = self._last
        return (query, index), table, _row_id(row, names, index)

    def execute(self, sql: str, params=()):
        return _GuardedCursor(self, self._conn.cursor()).execute(sql, params)

    def cursor(self):
        return _GuardedCursor(self, self._conn.cursor())

    def __getattr__(self, name):
        return getattr(self._conn, name)


class _GuardedCursor:
    def __init__(self, owner: GuardedConnection, cursor: sqlite3.Cursor):
        self._owner, self._cursor, self._query, self._index = owner, cursor, None, -1
        self._state = (None, None, ())

    @property
    def row_factory(self):
        return self._cursor.row_factory

    @row_factory.setter
    def row_factory(self, value):
        self._cursor.row_factory = value

    def execute(self, sql: str, params=()):
        self._cursor.execute(sql, params)
        self._query, self._index = (sql, repr(params)), -1
        # what describes this query's rows, once per query rather than once per row
        self._state = (self._query, _table_of(sql), [d[0] for d in self._cursor.description or ()])
        return self

    def __iter__(self):
        return self

    def __next__(self):
        row = next(self._cursor)
        self._index += 1
        skip = self._owner.skip
        while skip and (self._query, self._index) in skip:
            row = next(self._cursor)
            self._index += 1
        self._owner._last = (self._state, self._index, row)
        return row

    def fetchone(self):
        return next(self, None)

    def fetchall(self):
        return list(self)

    def fetchmany(self, size: int | None = None):
        return list(itertools.islice(self, size or self._cursor.arraysize))

    def __getattr__(self, name):
        return getattr(self._cursor, name)


def _table_of(sql: str) -> str | None:
    match = _FROM.search(sql)
    return match.group(1) if match else None


def _row_id(row, names: list[str], index: int) -> str:
    """The failing row's id where the query selected one, else its position in the query's result."""
    for key in _ROW_KEYS:
        if key in names:
            return str(row[names.index(key)])
    return f"#{index + 1} of the query"


def _write_wal_deleted(spec: ParserSpec, ctx: RunContext, store, base: Path,
                       only_in_main: dict[str, set[str]]) -> int:
    """Parse the main file alone again and keep the rows the -wal deleted or replaced, flagged ``wal_deleted``."""
    ctx.detach_all()
    main_ctx = replace(ctx, local=base, attached=[])
    main = open_readonly(base)
    try:
        main_ctx.attach_source()
        added, _ = _write(spec.func(main, main_ctx), main_ctx, store, only=only_in_main)
        return added
    finally:
        main.close()
        main_ctx.detach_all()

def _bulk(item: Bulk, ctx: RunContext, store, main_rows, only) -> tuple[int, int]:
    """Run one Bulk mapping inside the store; row-id sets go to a temporary table the SQL can test against."""
    provenance = dataclasses.asdict(ctx.prov(item.table))
    provenance["app"] = ctx.app
    rows = (only if only is not None else main_rows or {}).get(item.table.lower()) \
        if only is not None or main_rows is not None else None
    if only is not None and not rows:
        return 0, 0
    if rows is not None:
        conn = store.db.conn
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS _row_ids (r TEXT PRIMARY KEY)")
        conn.execute("DELETE FROM temp._row_ids")
        conn.executemany("INSERT INTO temp._row_ids VALUES (?)", ((r,) for r in rows))
    deadline = _deadline
    return store.insert_select(item.record_type, item.sql, item.params, provenance, item.times,
                               wal_main_rows="_row_ids" if rows is not None and only is None else None,
                               only_rows="_row_ids" if only is not None else None, order_by=item.order_by,
                               split_on=f"src.{ident(item.table)}" if "src" in ctx.attached else None,
                               interrupt=(lambda: time.monotonic() > deadline) if deadline is not None else None)
