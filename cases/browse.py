"""The case store in Datasette (``forensics browse``): read-only, immutable, labelled, on the loopback address.

Datasette (https://datasette.io, an optional extra: ``pip install 'phone-forensics[browse]'``) serves the case
store opened with ``-i`` (immutable: SQLite opens the file read-only and never writes it; the store is checkpointed
first, so rows still in its ``-wal`` are in the file Datasette reads). Table and column descriptions come from
``docs/store.md`` when the source tree has it, and are generated from ``artifacts/store.py`` otherwise (provenance
columns, ``_raw``/``_encoding`` twins of every time, JSON and flag columns). The server binds to 127.0.0.1 unless
the examiner names another address. Installed Datasette plugins that write, upload or edit are refused.
"""
from __future__ import annotations

import importlib.metadata
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from artifacts.store import ALL_TABLES, BOOL_COLUMNS, JSON_COLUMNS, RECORD_TABLES

STORE_DOC = Path(__file__).resolve().parent.parent / "docs" / "store.md"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# Plugin names (PyPI distributions) that would let a browser change the store.
WRITING_PLUGIN = re.compile(r"write|upload|insert|edit|import|delete|update|mutat|enrich|auth-tokens", re.I)

_PROVENANCE_TEXT = {
    "id": "row number in this store",
    "device_id": "which device (the examiner's --device-id)",
    "evidence_id": "which evidence item of the device",
    "partition": "which layer of the evidence (p1, p2..., fs, tar, zip, folder, backup)",
    "source_path": "the file the row came from (path on the device)",
    "source_inode": "file-system address of that file",
    "source_table": "the table inside that file",
    "source_row": "the row id (or key) inside that table",
    "parser": "which parser made the row", "parser_version": "the parser's version",
    "from_wal": "1: the row exists only in the database's -wal",
    "recovered": "1: the row came from a recovered copy of a damaged database",
    "source_deleted": "1: the file it came from is a deleted entry whose content could still be read",
    "wal_deleted": "1: the row survives only in the main database file; the -wal deleted or moved it",
    "app": "the Android package or iOS bundle id whose data it is, or system",
    "ts": "the record's primary time, UTC ISO-8601",
    "extra": "app-specific values without a column of their own (JSON)",
}


class BrowseError(RuntimeError):
    """Datasette cannot be started as asked: one line for the examiner."""


def _doc_descriptions(text: str) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Table and column descriptions read from docs/store.md: ``### table — what`` headings, ``| cols | meaning |``
    table rows, ``- **table**: `col` (what), ...`` bullets and `` `col` (what) `` in a section's paragraphs."""
    tables: dict[str, str] = {}
    columns: dict[str, dict[str, str]] = {}
    current = None
    for line in text.splitlines():
        heading = re.match(r"###\s+(\w+)\s+—\s+(.*)", line)
        if heading:
            current = heading.group(1)
            tables[current] = heading.group(2).strip()
            continue
        if line.startswith("## "):
            current = "*" if "Artifact tables" in line else None
            continue
        bullet = re.match(r"- \*\*(\w+)\*\*:\s*(.*)", line)
        if bullet:
            current = bullet.group(1)
            tables.setdefault(current, _plain(bullet.group(2)).split(";")[0][:200])
            line = bullet.group(2)
        if current is None:
            continue
        row = re.match(r"\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|\s*$", line)
        if row and row.group(1) not in ("column", "---"):
            names = re.sub(r"\(.*?\)", "", row.group(1))
            for name in re.split(r"[,\s]+", names.replace("`", "")):
                if re.fullmatch(r"\w+", name):
                    columns.setdefault(current, {}).setdefault(name, _plain(row.group(2)))
            continue
        for name, meaning in re.findall(r"`(\w+)`\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)", line):
            columns.setdefault(current, {}).setdefault(name, _plain(meaning))
    return tables, columns


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("`", "").replace("**", "")).strip()


def metadata(database: str = "case") -> dict:
    """Datasette metadata: a title, and a description for every table and every column of the store."""
    doc_tables, doc_columns = _doc_descriptions(STORE_DOC.read_text(encoding="utf-8")) if STORE_DOC.exists() \
        else ({}, {})
    shared = doc_columns.get("*", {})
    tables = {}
    for table, cols in sorted(ALL_TABLES.items()):
        own = doc_columns.get(table, {})
        described = {}
        for column in cols:
            base = re.sub(r"_(raw|encoding)$", "", column)
            if column.endswith("_raw") and base in cols:
                text = f"{base} as stored in the source, before decoding (text; bytes as hex)"
            elif column.endswith("_encoding") and base in cols:
                text = f"how {base} was decoded (unix_ms, cocoa_s, webkit_us, ...)"
            elif column in own:
                text = own[column]
            elif column in shared:
                text = shared[column]
            elif column in _PROVENANCE_TEXT:
                text = _PROVENANCE_TEXT[column]
            else:
                text = column.replace("_", " ")
            if column in JSON_COLUMNS.get(table, set()) and "JSON" not in text:
                text += " (JSON)"
            if column in BOOL_COLUMNS and "1" not in text:
                text += " (1 = yes, 0 = no, empty = unknown)"
            described[column] = text
        record = RECORD_TABLES.get(table)
        summary = " ".join(record.__doc__.split()) if record is not None and record.__doc__ else None
        tables[table] = {"description": summary or doc_tables.get(table, f"{table} rows"), "columns": described}
    return {"title": "phone-forensics case store (read-only)",
            "description": "Every row says where it came from (device, evidence, file, table, row, parser). "
                           "Times are UTC; each has its raw value and encoding beside it.",
            "databases": {database: {"tables": tables}}}


def writing_plugins() -> list[str]:
    """Installed Datasette plugins (entry point group ``datasette``) whose name says they change data."""
    found = set()
    for dist in importlib.metadata.distributions():
        if any(ep.group == "datasette" for ep in dist.entry_points):
            name = dist.metadata["Name"] or ""
            if WRITING_PLUGIN.search(name):
                found.add(name)
    return sorted(found)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def command(store_path: Path, metadata_path: Path, host: str, port: int) -> list[str]:
    """The Datasette command line: the store immutable, metadata, one host and port, no CORS, no cross-database.
    Datasette opens ``file:<path>?immutable=1`` with the path unescaped, so a case folder named ``op#7 ?`` would open
    a new, empty ``op`` beside it: the store is named by its bare file name, and Datasette runs in its folder."""
    return [sys.executable, "-m", "datasette", "serve", "-i", store_path.name, "--metadata", str(metadata_path),
            "--host", host, "--port", str(port), "--setting", "allow_download", "off"]


def serve(store_path: Path, host: str, port: int, started=None) -> int:
    """Run Datasette on the store until it stops (Ctrl-C); returns its exit status."""
    try:
        importlib.metadata.version("datasette")
    except importlib.metadata.PackageNotFoundError:
        raise BrowseError("Datasette is not installed: pip install 'phone-forensics[browse]'") from None
    writers = writing_plugins()
    if writers:
        raise BrowseError(f"Datasette plugins that can change data are installed ({', '.join(writers)}); "
                          "uninstall them to browse a case")
    scratch = Path(tempfile.mkdtemp(prefix="forensics-browse-"))
    try:
        meta = scratch / "metadata.json"
        meta.write_text(json.dumps(metadata(store_path.stem), ensure_ascii=False, indent=1), encoding="utf-8")
        meta.chmod(0o600)
        process = subprocess.Popen(command(store_path, meta, host, port), cwd=store_path.parent)
        if started:
            started(process)
        previous = signal.signal(signal.SIGTERM, _interrupt)  # stopped by PID: the server stops with us
        try:
            return process.wait()
        except KeyboardInterrupt:
            process.terminate()
            return process.wait()
        finally:
            signal.signal(signal.SIGTERM, previous)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _interrupt(*_args) -> None:
    raise KeyboardInterrupt
