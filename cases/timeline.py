"""One time-ordered stream of events over every device of a case: the examiner's timeline.

An event is one (record, time meaning): a message's sent, received and read times are three events, each with its
own ``timestamp_desc``. Events are produced by SQL over the case store — the order (UTC time, then device,
artifact, record id, time meaning) is SQLite's, so memory stays flat however many events there are, and the same
case gives the same stream.

Every event row has the same columns (``COLUMNS``): Timesketch's required ``message``, ``datetime`` (ISO-8601 with
offset) and ``timestamp_desc``, plus ``timestamp`` (epoch microseconds), the time's raw value and encoding, the
device and provenance of the record, and the record's own fields (empty where another artifact's). File-system
MACB times are events only when asked for (``files=True``: they are many); a file time whose zone is unknown
(FAT, exFAT, ISO 9660, zip DOS times) is never put on the UTC timeline — it is counted in ``Timeline.left_out``.
"""
from __future__ import annotations

import datetime as _dt
import re
import sqlite3
from dataclasses import dataclass, field
from typing import Iterator

from artifacts.records import RECORD_TYPES, column_kinds
from artifacts.store import ALL_TABLES, PROVENANCE_COLUMNS, Store

# What each time of each record means, in the order events of one record are listed.
DESCRIPTIONS: dict[str, dict[str, str]] = {
    "messages": {"ts": "Message sent", "received_ts": "Message received", "read_ts": "Message read"},
    "calls": {"ts": "Call started"},
    "contacts": {"ts": "Contact created or updated"},
    "accounts": {"ts": "Account time"},
    "apps": {"ts": "App installed", "updated_ts": "App updated"},
    "web_visits": {"ts": "Page visited"},
    "searches": {"ts": "Search made"},
    "downloads": {"ts": "Download started", "end_ts": "Download finished"},
    "media": {"ts": "Photo or video taken"},
    "locations": {"ts": "Location recorded"},
    "device_facts": {"ts": "Device fact time"},
    "files": {"mtime": "Content modified (M)", "atime": "Last accessed (A)", "ctime": "Metadata changed (C)",
              "crtime": "Created (B)"},
}
MACB = {"mtime": "M...", "atime": ".A..", "ctime": "..C.", "crtime": "...B"}

# A short human summary of each artifact's event, built in SQL (``r`` is the record row).
_SUMMARY = {
    "messages": "'[' || coalesce(r.platform, r.app) || '] ' || coalesce(r.direction || ' ', '') || "
                "coalesce(r.message_type || ' ', '') || coalesce('from ' || coalesce(r.sender_name || ' <' || "
                "r.sender || '>', r.sender, r.sender_name) || ' ', '') || CASE WHEN r.recipients NOT IN ('[]', '') "
                "THEN 'to ' || r.recipients || ' ' ELSE '' END || coalesce('in ' || r.thread_id || ' ', '') || "
                "': ' || coalesce(r.body, '')",
    "calls": "'[' || coalesce(r.platform, r.app) || '] ' || coalesce(r.direction || ' ', '') || "
             "coalesce(r.call_type || ' ', '') || 'call with ' || r.peers || coalesce(' ' || r.peer_name, '') || "
             "coalesce(' (' || r.duration_s || ' s)', '')",
    "contacts": "'[' || coalesce(r.platform, r.app) || '] contact ' || coalesce(r.name, '') || ' ' || r.phones || "
                "' ' || r.emails || ' ' || r.handles || coalesce(' id ' || r.user_id, '')",
    "accounts": "'[' || coalesce(r.platform, r.app) || '] account ' || coalesce(r.username, r.user_id, r.email, "
                "r.phone, r.display_name, '') || coalesce(' (' || r.account_type || ')', '')",
    "apps": "'app ' || r.package || coalesce(' ' || r.name, '') || coalesce(' version ' || r.version, '')",
    "web_visits": "'[' || coalesce(r.browser, r.app) || '] ' || r.url || coalesce(' ' || r.title, '')",
    "searches": "'[' || r.app || '] search: ' || r.term",
    "downloads": "'[' || r.app || '] download ' || coalesce(r.url, '') || coalesce(' -> ' || r.target_path, '')",
    "media": "'media ' || r.media_path || coalesce(' ' || r.camera_make, '') || coalesce(' ' || r.camera_model, '')"
             " || coalesce(' at ' || r.latitude || ',' || r.longitude, '')",
    "locations": "'[' || r.app || '] location ' || r.latitude || ',' || r.longitude || "
                 "coalesce(' ' || r.label, '') || coalesce(' (' || r.source_kind || ')', '')",
    "device_facts": "'device fact ' || r.key || ' = ' || coalesce(r.value, '')",
    "files": "'file ' || r.path || coalesce(' (' || r.size || ' bytes)', '') || "
             "CASE WHEN r.allocated = 0 THEN ' deleted' ELSE '' END",
}

FIELD_LIMIT = 32_766  # bytes: Timesketch (OpenSearch keyword/term) refuses longer field values

HEAD = ["message", "datetime", "timestamp", "timestamp_desc", "time_raw", "time_encoding", "data_type", "artifact",
        "record_id", "device_id", "app", "platform"]
_PROVENANCE = [c for c in PROVENANCE_COLUMNS if c != "device_id"]


def _record_fields() -> list[str]:
    """Every record field that is not already a head or provenance column, in record-type order (no duplicates)."""
    seen = set(HEAD) | set(PROVENANCE_COLUMNS)
    names = []
    for rtype in RECORD_TYPES:
        for name, kind in column_kinds(rtype).items():
            if kind in ("prov", "time") or name in seen or name == "extra":
                continue
            seen.add(name)
            names.append(name)
    return names + ["extra"]


RECORD_FIELDS = _record_fields()
FILE_FIELDS = ["path", "inode", "size", "allocated", "sha256", "md5", "mime_type"]
COLUMNS = HEAD + _PROVENANCE + RECORD_FIELDS + [f for f in FILE_FIELDS if f not in RECORD_FIELDS]
OUTPUT_COLUMNS = COLUMNS + ["truncated_fields"]
# Columns whose values this program writes itself, never evidence text: ISO times, ids checked on input (device ids
# are [A-Za-z0-9._-]), parser names, encodings. CSV needs neither quotes nor formula guards for them.
_OWN_TEXT = {"datetime", "timestamp", "record_id", "device_id", "evidence_id", "partition", "parser",
             "parser_version"}
BOOL_FIELDS = {"from_wal", "recovered", "source_deleted", "wal_deleted", "deleted", "answered", "allocated"}
# First characters a spreadsheet runs as a formula (as cases.exports.FORMULA_PREFIXES), as SQL literals.
_FORMULA_SQL = "'=', '+', '-', '@', char(9), char(13)"
# Whole seconds since 1970 of a stored time's first 19 characters: unixepoch() where SQLite has it (3.38), cheaper
_EPOCH_SECONDS = ("unixepoch({})" if sqlite3.sqlite_version_info >= (3, 38)
                  else "CAST(strftime('%s', {}) AS INTEGER)")
# SQLite's default limit on a function's arguments is 127 (SQLITE_MAX_FUNCTION_ARG): the CSV line's printf stays under
_MAX_PRINTF_ARGS = 120
# csv_chunks builds a timeline in parallel time spans from this many events; one record in this many is sampled
_PARALLEL_FROM = 100_000
_SAMPLE_EVERY = 500


class TimelineError(ValueError):
    """A bad filter: one line for the examiner."""


@dataclass
class Filters:
    since: str | None = None       # stored-time text (UTC, ``...Z``) bounds, inclusive
    until: str | None = None
    devices: tuple[str, ...] = ()
    apps: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    artifacts: tuple[str, ...] = ()
    search: str | None = None
    files: bool = False
    # (kind, normalised value) pairs and the spellings given (``--identifier``; cases.links.watch_keys), matched
    # against the record's sightings (identifiers table of the links work)
    identifiers: tuple[tuple[str, str], ...] = ()
    spellings: tuple[str, ...] = ()
    flagged: bool = False          # only records naming an identifier the case overlay flags or watch-lists


def parse_time_bound(text: str, end: bool = False) -> str:
    """``--since``/``--until``: a date or date-time, UTC unless it carries an explicit offset (``Z``, ``+02:00``).

    A bare date as ``until`` means the end of that day. Returns the stored-time text to compare with.
    """
    value = text.strip()
    try:
        if len(value) == 10:
            day = _dt.date.fromisoformat(value)
            moment = _dt.datetime.combine(day, _dt.time.max if end else _dt.time.min, _dt.timezone.utc)
        else:
            moment = _dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=_dt.timezone.utc)
    except ValueError:
        raise TimelineError(f"not a date or time: {text!r} (use e.g. 2024-03-08, 2024-03-08T16:00:00Z or "
                            f"2024-03-08T18:00:00+02:00)") from None
    m = moment.astimezone(_dt.timezone.utc)
    return f"{m:%Y-%m-%dT%H:%M:%S}.{m.microsecond:06d}Z"


@dataclass
class Timeline:
    """Events of a case store, streamed in order; ``left_out`` counts times that could not go on the UTC timeline."""

    store: Store
    filters: Filters = field(default_factory=Filters)
    left_out: dict[str, int] = field(default_factory=dict)

    def parts(self) -> list[tuple[str, str, str]]:
        """(table, time column, description) for every event kind the filters allow."""
        wanted = set(self.filters.artifacts)
        known = set(DESCRIPTIONS)
        unknown = wanted - known
        if unknown:
            raise TimelineError(f"unknown artifact(s) {', '.join(sorted(unknown))} (choose from "
                                f"{', '.join(sorted(known))})")
        parts = []
        for table, times in DESCRIPTIONS.items():
            if table == "files" and not (self.filters.files or "files" in wanted):
                continue
            if wanted and table not in wanted:
                continue
            for column, desc in times.items():
                parts.append((table, column, desc))
        return parts

    def sql(self, mode: str = "raw") -> tuple[str, list]:
        """One ``UNION ALL`` over every event kind, in timeline order.

        Each branch first selects the event's raw values (a subquery SQLite does not flatten, so every expression is
        computed once per row), then shapes them by ``mode``:
        ``raw`` — ``COLUMNS``; ``spreadsheet`` — the same with flags as true/false and text a spreadsheet would run
        as a formula prefixed with ``'``. Both end with ``__long`` (the row holds a value longer than ``FIELD_LIMIT``
        bytes) and the event's key (time, device, artifact, record id, rank, time column). ``csv`` is ``_csv_sql``:
        one finished CSV line (spreadsheet-safe, text fields quoted), record id and rank, so a million events cost
        no Python per cell.
        """
        if mode == "csv":
            return self._csv_sql()
        selects, args = [], []
        for rank, (table, column, desc) in enumerate(self.parts()):
            present = set(self.store.db[table].columns_dict)
            where, where_args = self._where(table, column, present)
            raw = [f"{self._value(name, table, column, desc, present)} AS [{name}]" for name in COLUMNS]
            inner = (f"SELECT {', '.join(raw)} FROM [{table}] AS r WHERE {where} LIMIT -1 OFFSET 0")
            filled = [name for name in COLUMNS if self._value(name, table, column, desc, present) != "NULL"]
            shaped = [(_spreadsheet_safe(f"q.[{name}]", name in BOOL_FIELDS) if mode == "spreadsheet"
                       else f"q.[{name}]") + f" AS [{name}]" for name in COLUMNS]
            lengths = [f"coalesce(length(CAST(q.[{name}] AS BLOB)), 0)" for name in filled]
            long = f"max({', '.join(lengths)}, 0) > {FIELD_LIMIT}"
            keys = (f"q.[datetime] AS __dt, q.[device_id] AS __device, q.[artifact] AS __artifact, "
                    f"q.[record_id] AS __id, {rank} AS __rank, '{column}' AS __column")
            selects.append(f"SELECT {', '.join(shaped)}, {keys} FROM ({inner}) AS q LIMIT -1 OFFSET 0")
            args += where_args
            selects[-1] = selects[-1].replace(f", {keys} FROM", f", {long} AS __long, {keys} FROM", 1)
        if not selects:
            return "SELECT " + ", ".join(["NULL"] * len(COLUMNS)) + ", 0, 0, 0, 0, 0, 0, 0 WHERE 0", []
        union = " UNION ALL ".join(f"SELECT * FROM ({branch})" for branch in selects)
        return f"SELECT * FROM ({union}) ORDER BY __dt, __device, __artifact, __id, __rank", args

    def csv_chunks(self, size: int = 2_000, workers: int | None = None) -> Iterator[tuple[bytes, int]]:
        """The events as finished UTF-8 CSV lines (``OUTPUT_COLUMNS``, without the header), built in SQL and read as
        bytes, ``size`` at a time: (the lines joined, how many). No Python runs per cell, and per line only the
        check for a value over ``FIELD_LIMIT`` bytes — the rare such event is rebuilt in Python with it cut.

        A large timeline is cut into consecutive time spans (``_time_splits``), ``workers`` of them (default: one
        per processor not already busy, at most 4): the first span streams from this connection while threads,
        each with its own read-only connection, build and sort the later ones into temporary files that follow it
        in order. The bytes are the same whatever the number of spans."""
        self.count_left_out()
        splits = self._time_splits(workers)
        spans = list(zip([None, *splits], [*splits, None]))
        later = [_SpanWorker(self, span, size) for span in spans[1:]]
        try:
            for worker in later:
                worker.start()
            yield from self._span_chunks(self.store.db.conn, *self._csv_sql(spans[0]), size, self._cut_bytes)
            for worker in later:
                yield from worker.replay(self._cut_bytes)
        finally:
            for worker in later:
                worker.stop()

    def _span_chunks(self, conn, sql: str, args: list, size: int, cut) -> Iterator[tuple[bytes, int]]:
        """The CSV chunks of ``_csv_sql`` (of one time span) read through ``conn``. ``cut(key)`` gives the line of an
        event whose line is too long, with its long values cut; or None, to yield the event's key (a tuple) in its
        place, as a chunk of one line."""
        factory, conn.text_factory = conn.text_factory, bytes
        try:
            cursor = conn.execute(sql, args)
            while rows := cursor.fetchmany(size):
                lines = [row[0] for row in rows]
                if max(map(len, lines)) <= FIELD_LIMIT:
                    yield b"".join(lines), len(lines)
                    continue
                start = 0
                for i, row in enumerate(rows):
                    if len(row[0]) > FIELD_LIMIT:
                        conn.text_factory = factory
                        line = cut(tuple(row[1:]))
                        conn.text_factory = bytes
                        if line is None:
                            if start < i:
                                yield b"".join(lines[start:i]), i - start
                            yield tuple(row[1:]), 1
                            start = i + 1
                        else:
                            lines[i] = line
                if start < len(lines):
                    yield b"".join(lines[start:]), len(lines) - start
        finally:
            conn.text_factory = factory

    def _cut_bytes(self, key: tuple) -> bytes:
        return self._cut_line(*key).encode("utf-8", "surrogateescape")

    def _time_splits(self, workers: int | None) -> list[str]:
        """Stored times that cut the timeline into spans of about equal numbers of events, for building them in
        parallel: quantiles of a sample of the events (evenly spaced record ids of each event kind, filters
        applied). None when the timeline is small, there is one processor, or the store is not a plain file (or is
        in a transaction: other connections could not see it)."""
        import json
        import os

        count = workers if workers is not None else _free_processors()
        conn = self.store.db.conn
        if count < 2 or conn.in_transaction or not self.store.path.is_file():
            return []
        sample: list[str] = []
        for table, column, desc in self.parts():
            top = conn.execute(f"SELECT max(rowid) FROM [{table}]").fetchone()[0] or 0
            if top < _SAMPLE_EVERY:
                continue
            present = set(self.store.db[table].columns_dict)
            where, args = self._where(table, column, present)
            ids = json.dumps(list(range(1, top + 1, _SAMPLE_EVERY)))
            sample += [v for (v,) in conn.execute(
                f"SELECT r.[{column}] FROM [{table}] AS r WHERE r.rowid IN (SELECT value FROM json_each(?)) AND "
                f"{where}", [ids, *args])]
        if len(sample) * _SAMPLE_EVERY < _PARALLEL_FROM:
            return []
        sample.sort()
        return sorted({sample[len(sample) * k // count] for k in range(1, count)})

    def _csv_sql(self, span: tuple[str | None, str | None] = (None, None)) -> tuple[str, list]:
        """The ``csv`` mode of ``sql``: per event, its finished CSV line, its record id and the rank of its event
        kind (in ``parts``), in timeline order.

        Each branch reads its table directly (no subquery: a value read from a subquery is copied, and that copy
        cost more than all the rest). The stored times all have one fixed-width format (``...ffffffZ``), so the
        stored text orders as the ``datetime`` column does."""
        selects, args = [], []
        for rank, (table, column, desc) in enumerate(self.parts()):
            present = set(self.store.db[table].columns_dict)
            where, where_args = self._where(table, column, present)
            for bound, op in zip(span, (">=", "<")):
                if bound is not None:
                    where += f" AND r.[{column}] {op} ?"
                    where_args.append(bound)
            device = self._value("device_id", table, column, desc, present)
            selects.append(f"SELECT {self._csv_line(table, column, desc, present)} AS __line, r.[{column}] AS __dt, "
                           f"{device} AS __device, '{table}' AS __artifact, r.id AS __id, {rank} AS __rank, "
                           f"'{column}' AS __column FROM [{table}] AS r WHERE {where}")
            args += where_args
        if not selects:
            return "SELECT NULL, 0, 0 WHERE 0", []
        union = " UNION ALL ".join(selects)
        # one sort over all branches, whose rows carry only what is read back (cheaper than SQLite's merge of a
        # sort per branch, and fewer values for Python to make per line)
        return (f"SELECT __line, __id, __rank FROM ({union}) ORDER BY __dt, __device, __artifact, __id, __rank",
                args)

    def _value(self, name: str, table: str, column: str, desc: str, present: set[str]) -> str:
        if name == "message":
            return _SUMMARY[table]
        if name == "datetime":
            return f"substr(r.[{column}], 1, 26) || '+00:00'"
        if name == "timestamp":
            return (f"{_EPOCH_SECONDS.format(f'substr(r.[{column}], 1, 19)')} * 1000000 + "
                    f"CAST(substr(r.[{column}], 21, 6) AS INTEGER)")
        if name == "timestamp_desc":
            return f"'{desc}'"
        if name == "time_raw":
            return f"r.[{column}_raw]"
        if name == "time_encoding":
            return f"r.[{column}_encoding]"
        if name == "data_type":
            return f"'phone-forensics:{table}'"
        if name == "artifact":
            return f"'{table}'"
        if name == "record_id":
            return "r.id"
        if table == "files":
            mapped = {"source_path": "path", "source_inode": "inode"}.get(name, name)
            if mapped in FILE_FIELDS or name in ("evidence_id", "partition"):
                return f"r.[{mapped}]"
            if name == "app":
                return "'filesystem'"
            return "NULL"
        return f"r.[{name}]" if name in present else "NULL"

    def _where(self, table: str, column: str, present: set[str]) -> tuple[str, list]:
        f = self.filters
        clauses = [f"r.[{column}] IS NOT NULL",
                   f"r.[{column}_encoding] NOT LIKE '%zone unknown%'"]  # never a zoneless time as UTC
        args: list = []
        if f.since:
            clauses.append(f"r.[{column}] >= ?")
            args.append(f.since)
        if f.until:
            clauses.append(f"r.[{column}] <= ?")
            args.append(f.until)
        if f.devices:
            clauses.append(f"r.device_id IN ({', '.join('?' * len(f.devices))})")
            args += list(f.devices)
        if f.apps:
            if "app" in present:
                clauses.append(f"r.app IN ({', '.join('?' * len(f.apps))})")
                args += list(f.apps)
            else:
                clauses.append("0")
        if f.platforms:
            if "platform" in present:
                clauses.append(f"lower(r.platform) IN ({', '.join('?' * len(f.platforms))})")
                args += [p.lower() for p in f.platforms]
            else:
                clauses.append("0")
        if f.search:
            clauses.append(f"instr(lower({_SUMMARY[table]}), ?) > 0")
            args.append(f.search.lower())
        if f.identifiers or f.spellings or f.flagged:
            clause, more = _sighted(table, f)
            clauses.append(clause)
            args += more
        return " AND ".join(clauses), args

    def count_left_out(self) -> None:
        """How many file times carry no zone and so stay off the UTC timeline (told to the examiner)."""
        self.left_out = {}
        if not (self.filters.files or "files" in self.filters.artifacts):
            return
        for column in DESCRIPTIONS["files"]:
            n = self.store.db.execute(f"SELECT count(*) FROM files WHERE [{column}_encoding] LIKE "
                                      f"'%zone unknown%'").fetchone()[0]
            if n:
                self.left_out[f"files.{column}"] = n

    def rows(self, for_spreadsheet: bool = False) -> Iterator[tuple]:
        """Event rows as tuples in ``OUTPUT_COLUMNS`` order, streamed; a value over ``FIELD_LIMIT`` bytes is cut and
        the row's ``truncated_fields`` (last column) names it."""
        self.count_left_out()
        sql, args = self.sql("spreadsheet" if for_spreadsheet else "raw")
        width = len(COLUMNS)
        for row in self.store.db.conn.execute(sql, args):
            if row[width]:
                yield _cut(row[:width])
            else:
                yield row[:width] + (None,)

    def _csv_line(self, table: str, column: str, desc: str, present: set[str]) -> str:
        """SQL for this branch's finished CSV line: a ``printf`` whose format holds the constant cells (empty
        columns, the artifact's name...) and conversions for the cells computed per row (see ``_csv_format``);
        several joined by ``||`` if the arguments would pass SQLite's limit on a function's arguments."""
        cells: list[tuple[str, list[str]]] = []
        for name in COLUMNS:
            value = self._value(name, table, column, desc, present)
            if value == "NULL":
                cells.append(("", []))
            elif re.fullmatch(r"'[^']*'", value):
                cells.append((_csv_quote(value[1:-1]).replace("%", "%%"), []))
            elif name in BOOL_FIELDS:
                cells.append(("%s", [f"(CASE {value} WHEN 1 THEN 'true' WHEN 0 THEN 'false' ELSE '' END)"]))
            elif name in _OWN_TEXT:
                cells.append(("%s", [value]))  # written by this program: no comma, quote or formula; NULL is empty
            elif name == "message":
                # the summary starts with constant words, never a formula; a summary that cannot be built (a part
                # it needs is missing, so it is NULL) is an empty quoted cell here (evaluated once: it is long)
                cells.append(('"%w"', [f"ifnull({value}, '')"]))
            else:
                source = re.fullmatch(r"r\.\[(\w+)\]", value)
                numeric = source is not None and ALL_TABLES[table].get(source.group(1)) in (int, float)
                cells.append(("text", value, numeric))
        cells.append(("\n", []))  # after the last cell, truncated_fields, which is empty here
        groups: list[tuple[list[str], list[str]]] = [([], [])]
        for piece, args in _csv_format(cells):
            if len(groups[-1][1]) + len(args) > _MAX_PRINTF_ARGS:
                groups.append(([], []))
            groups[-1][0].append(piece)
            groups[-1][1].extend(args)
        calls = []
        for pieces, args in groups:
            fmt = "".join(pieces).replace("'", "''")
            calls.append(f"printf('{fmt}'{''.join(', ' + a for a in args)})")
        return " || ".join(calls)

    def _cut_line(self, record_id, rank) -> str:
        """The CSV line of one event (the ``rank``-th event kind of record ``record_id``) with long values cut."""
        import csv
        import io

        table, column, desc = self.parts()[rank]
        present = set(self.store.db[table].columns_dict)
        values = ", ".join(f"{self._value(n, table, column, desc, present)} AS [{n}]" for n in COLUMNS)
        row = self.store.db.conn.execute(f"SELECT {values} FROM [{table}] AS r WHERE r.id = ?", [record_id]).fetchone()
        cells = [_python_csv_cell(name, value) for name, value in zip(OUTPUT_COLUMNS, _cut(tuple(row)))]
        out = io.StringIO()
        csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL).writerow(cells)
        return out.getvalue()


def _sighted(table: str, f: Filters) -> tuple[str, list]:
    """SQL: the record ``r`` has a sighting (same device, artifact and source row: sightings keep the record's
    provenance) of one of the wanted identifiers (a normalised key or a spelling as written), and/or of an
    identifier the case overlay flags or watch-lists. File-system entries have no sightings."""
    if table == "files":
        return "0", []
    same = ("s.device_id = r.device_id AND s.artifact = ? AND s.source_path IS r.source_path AND "
            "s.source_table IS r.source_table AND s.source_row IS r.source_row")
    clauses, args = [], []
    if f.identifiers or f.spellings:
        wanted = []
        if f.identifiers:
            wanted.append(f"(s.kind, s.identifier) IN (VALUES {', '.join(['(?, ?)'] * len(f.identifiers))})")
            args += [v for pair in f.identifiers for v in pair]
        if f.spellings:
            wanted.append(f"s.written_as IN ({', '.join('?' * len(f.spellings))})")
            args += list(f.spellings)
        clauses.append(f"EXISTS (SELECT 1 FROM sightings s WHERE {same} AND ({' OR '.join(wanted)}))")
        args.insert(0, table)
    if f.flagged:
        clauses.append(f"EXISTS (SELECT 1 FROM sightings s JOIN identifiers i ON i.kind = s.kind AND "
                       f"i.identifier = s.identifier WHERE {same} AND (i.flagged IS NOT NULL OR "
                       f"i.watchlist IS NOT NULL))")
        args.append(table)
    return " AND ".join(clauses), args


def _spreadsheet_safe(value: str, flag: bool) -> str:
    """SQL that renders a flag as true/false and neutralises text a spreadsheet would run as a formula."""
    if flag:
        return f"(CASE {value} WHEN 1 THEN 'true' WHEN 0 THEN 'false' END)"
    return (f"(CASE WHEN typeof({value}) = 'text' AND substr({value}, 1, 1) IN ({_FORMULA_SQL}) "
            f"THEN '''' || {value} ELSE {value} END)")


def _free_processors() -> int:
    """How many spans to build at once: the processors (at most 4) not already busy by the load average of the last
    minute. Each span reads every record table, so on a busy machine more spans only cost more."""
    import os

    processors = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # not known on this system
        busy = 0.0
    return max(1, min(4, round(processors - busy)))


def _csv_absent(ref: str, numeric: bool) -> str:
    """SQL: the cell ``ref`` is written without quotes (NULL; in a number column also a number: in SQLite's order
    numbers sort before any text)."""
    return f"{ref} IS NULL OR {ref} < ''" if numeric else f"{ref} IS NULL"


def _csv_opening_sql(ref: str, numeric: bool, before: str = "") -> str:
    """SQL for the text ``before`` a cell plus the cell's opening: nothing for NULL and numbers, else ``"`` with a
    ``'`` after it when the text starts with a character a spreadsheet would run as a formula (= + - @ tab CR).

    No function runs but for rare text: text from ``A`` up — most text — is safe at once, digits and ``./:;<`` too,
    only the rest is looked at with ``unicode()``. Blobs sort after all text (``< x''``) and are looked at too."""
    def lit(text: str) -> str:
        return "'" + (before + text).replace("'", "''") + "'"

    return (f"CASE WHEN {_csv_absent(ref, numeric)} THEN {lit('')} "
            f"WHEN {ref} >= 'A' AND {ref} < x'' THEN {lit(chr(34))} "
            f"WHEN {ref} >= '.' AND {ref} < '=' THEN {lit(chr(34))} "
            f"WHEN unicode({ref}) IN (61, 43, 45, 64, 9, 13) THEN {lit(chr(34) + chr(39))} ELSE {lit(chr(34))} END")


def _csv_format(cells: list) -> list[tuple[str, list[str]]]:
    """The ``printf`` pieces of a line's cells, each (format, arguments) and complete in itself (so the line can be
    split between any two). A cell is (format, arguments) or ("text", SQL, numeric) for a value written as CSV
    text: empty for NULL, numbers as SQLite writes them, text always quoted (RFC 4180: ``%w`` doubles the double
    quotes) with the formula guard of ``_csv_opening_sql``. The closing quote of a text cell, the comma and the
    opening of a text cell after it are one argument (fewer arguments are the cheaper line)."""
    pieces: list[tuple[str, list[str]]] = []
    open_text = None  # (SQL, numeric) of the text cell before, whose closing quote is still to write
    for i, cell in enumerate(cells):
        sep = "," if i else ""
        if cell[0] == "text":
            _, ref, numeric = cell
            if open_text:
                opening = (f"CASE WHEN {_csv_absent(*open_text)} THEN {_csv_opening_sql(ref, numeric, ',')} "
                           f"ELSE {_csv_opening_sql(ref, numeric, chr(34) + ',')} END")
                pieces.append(("%s%w", [opening, f"ifnull({ref}, '')"]))
            else:
                pieces.append((sep + "%s%w", [_csv_opening_sql(ref, numeric), f"ifnull({ref}, '')"]))
            open_text = (ref, numeric)
            continue
        fmt, args = cell
        if open_text:
            pieces.append(("%s" + sep + fmt, [f"CASE WHEN {_csv_absent(*open_text)} THEN '' ELSE '\"' END", *args]))
            open_text = None
        else:
            pieces.append((sep + fmt, args))
    if open_text:
        pieces.append(("%s", [f"CASE WHEN {_csv_absent(*open_text)} THEN '' ELSE '\"' END"]))
    return pieces


def _csv_quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _python_csv_cell(name: str, value):
    """The Python twin of ``_csv_cell`` for the rare rebuilt line."""
    if value is None:
        return ""
    if name in BOOL_FIELDS:
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value


def _cut(row: tuple) -> tuple:
    """Cut every value longer than FIELD_LIMIT bytes (at a character boundary) and say so."""
    out, cut = [], []
    for name, value in zip(COLUMNS, row):
        if isinstance(value, str) and len(value) > FIELD_LIMIT // 4:
            data = value.encode("utf-8", "surrogatepass")
            if len(data) > FIELD_LIMIT:
                note = f" [cut: {len(data)} bytes in full]"
                value = data[:FIELD_LIMIT - len(note.encode())].decode("utf-8", "ignore") + note
                cut.append(name)
        out.append(value)
    return tuple(out) + (", ".join(cut) or None,)


class _SpanWorker:
    """A thread building the CSV chunks of one later time span into a temporary file, through its own read-only
    connection (SQLite runs outside Python's lock, so spans are built at the same time); ``replay`` gives them back
    in order once the thread is done. A line too long to copy as is is rebuilt at replay, on the caller's
    connection."""

    def __init__(self, timeline: Timeline, span, size: int):
        import tempfile
        import threading

        self.timeline, self.size = timeline, size
        self.sql, self.args = timeline._csv_sql(span)  # here: the store's connection is the caller thread's
        self.file = tempfile.TemporaryFile(prefix="forensics-timeline-")
        self.pieces: list = []  # (offset, length, lines) in the file, or (None, key, 1) of a line to rebuild
        self.error: BaseException | None = None
        self.conn = None
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="timeline-span", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        from artifacts.sql_quoting import sqlite_uri

        try:
            self.conn = sqlite3.connect(sqlite_uri(self.timeline.store.path, readonly=True), uri=True)
            offset = 0
            for chunk, n in self.timeline._span_chunks(self.conn, self.sql, self.args, self.size,
                                                          lambda key: None):
                if self.stopped.is_set():
                    return
                if isinstance(chunk, tuple):
                    self.pieces.append((None, chunk, 1))  # a key: rebuilt at replay
                    continue
                self.file.write(chunk)
                self.pieces.append((offset, len(chunk), n))
                offset += len(chunk)
        except BaseException as exc:  # handed to the caller at replay
            self.error = exc
        finally:
            if self.conn is not None:
                self.conn.close()

    def replay(self, cut) -> Iterator[tuple[bytes, int]]:
        self.thread.join()
        if self.error is not None:
            if self.pieces:
                raise self.error
            # nothing built (e.g. no second connection to the store could be opened): build it here instead
            yield from self.timeline._span_chunks(self.timeline.store.db.conn, self.sql, self.args, self.size, cut)
            return
        self.file.seek(0)
        for offset, what, n in self.pieces:
            yield (cut(what), 1) if offset is None else (self.file.read(what), n)

    def stop(self) -> None:
        self.stopped.set()
        if self.conn is not None and self.thread.is_alive():
            try:
                self.conn.interrupt()
            except Exception:
                pass
        self.thread.join()
        self.file.close()
