"""Every problem of a device in one table: what the evidence layers, the inventory and the parser runs met.

Each layer already records what went wrong where it happens (a layer's error, a file row's ``note``, a parser run's
outcome and warnings); this module turns those into ``problems`` rows (device, evidence, kind, where, what) so
the ingest summary, ``forensics status`` and ``status --json`` show them. The kinds are listed in
``docs/problems.md``. Names in ``where`` are stored exactly as found; ``printable`` escapes them for a terminal.
"""
from __future__ import annotations

import re

# files.note fragments → problem kind (first match wins); a note matching none is a "file-note".
_NOTE_KINDS = [
    ("climbs out of the archive", "path-climbs-out"),
    ("absolute member name", "path-climbs-out"),
    ("points outside the archive", "link-out"),
    ("NUL byte", "odd-name"),
    ("not valid UTF-8", "odd-name"),
    ("expands beyond the decompression limit", "bomb-not-read"),
    ("content not read", "bomb-not-read"),
    ("special member, not read", "special-file"),
    ("not a regular file", "special-file"),
    ("read error", "read-error"),
    ("no scratch space", "no-scratch-space"),
    ("not copied for the parsers", "too-large-to-parse"),
    ("bytes", "short-read"),  # "read N of M bytes"
    ("cannot decrypt", "encrypted-file"),
    ("missing from backup", "missing-file"),
]
# Notes that describe the evidence, not a problem in reading it.
_NOT_PROBLEMS = ("deleted name; its metadata now belongs to another file",)
_READ = re.compile(r"^read \d+ of \d+ bytes$")


def note_kinds(note: str) -> list[tuple[str, str]]:
    """(kind, what) for each part of a file row's note that is a problem."""
    found = []
    for phrase in _NOT_PROBLEMS:  # itself holds "; ": taken out whole before the note is split into its parts
        note = note.replace(phrase, "")
    for part in note.split("; "):
        if not part:
            continue
        kind = next((k for fragment, k in _NOTE_KINDS if fragment in part), "file-note")
        if kind == "short-read" and not _READ.match(part):
            kind = "file-note"
        found.append((kind, part))
    return found


def parser_problems(run: dict) -> list[tuple[str, str]]:
    """(kind, what) for a parser run (a ``parser_runs`` row) that did not simply parse."""
    outcome, message, parser = run["outcome"], run.get("message") or "", run["parser"]
    found = []
    if outcome == "error":
        found.append(("damaged-database" if "damaged" in message else "parser-error", f"{parser}: {message}"))
    elif outcome == "encrypted":
        found.append(("encrypted-database", f"{parser}: {message}"))
    elif run.get("recovered"):
        found.append(("damaged-database", f"{parser}: {message or 'recovered from a damaged database'}"))
    if run.get("warnings"):
        found.append(("parser-warnings", f"{parser}: {message}"))  # the message says what each warning is
    return found


def collect(store, device_id: str) -> list[dict]:
    """The device's problem rows from what its shard holds (files, parser runs) — evidence-level problems
    (``Evidence.problems``) are added by the caller as they are found."""
    rows = []
    for evidence_id, partition, path, note in store.db.execute(
            "SELECT evidence_id, partition, path, note FROM files WHERE device_id = ? AND note IS NOT NULL "
            "ORDER BY id", [device_id]):
        for kind, what in note_kinds(note):
            if kind == "short-read" and path.endswith("/$BadClus:$Bad"):
                continue  # NTFS's bad-cluster stream is sparse, the size of the volume: nothing to read
            rows.append({"device_id": device_id, "evidence_id": evidence_id, "kind": kind,
                         "where": f"{partition}:{path}", "what": what})
    for run in store.rows("parser_runs", device_id):
        for kind, what in parser_problems(run):
            rows.append({"device_id": device_id, "evidence_id": run["evidence_id"], "kind": kind,
                         "where": f"{run['partition']}:{run['source_path']}", "what": what})
    return rows


def counts(store, device_id: str) -> dict[str, int]:
    """Problems of a device per kind, sorted by kind."""
    return {kind: n for kind, n in store.db.execute(
        "SELECT kind, count(*) FROM problems WHERE device_id = ? GROUP BY kind ORDER BY kind", [device_id])}


_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def printable(text) -> str:
    """Text for a terminal, log or CSV summary line: control characters (newlines, ANSI escapes), lone
    surrogates (file names that were not UTF-8) and line separators shown as escapes; everything else as is."""
    return _UNSAFE.sub(_escape, str(text))


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    if 0xdc80 <= code <= 0xdcff:  # a byte that was not UTF-8, kept by surrogateescape
        return f"\\x{code & 0xff:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
