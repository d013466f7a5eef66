"""Run parsers on files laid out as they would be on a device, without building a whole image.

Tests give a mapping of device paths to local files (a database, its -wal, ...); the harness copies them into a
spool tree exactly as the inventory would, runs the matching parsers through the real framework (fingerprint,
recovery, WAL marking, outcome) into a real store, and returns the outcomes and the stored rows.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from artifacts.records import Provenance
from artifacts.store import RECORD_TABLES, Store
from forensics.inventory import SpooledFile, spool_path
from parsers.framework import load_parsers, run_parsers
from tests.fixtures.sqlite_db import damage_leaf, make_db


def run(tmp_path: Path, files: dict[str, Path | bytes], parsers: list[str] | None = None,
        device_id: str = "test-device"):
    """Returns (outcomes, rows) where rows maps a record table name to its rows as exported."""
    spool = tmp_path / "spool"
    spooled = []
    for device_path, content in sorted(files.items()):
        target = spool_path(spool, "p1", device_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, (bytes, bytearray)):
            target.write_bytes(content)
        else:
            shutil.copyfile(content, target)
        spooled.append(SpooledFile(target, "p1", device_path, None, target.stat().st_size, True,
                                   f"{device_id}:e1"))
    specs = [s for s in load_parsers() if parsers is None or s.name in parsers]
    store = Store(tmp_path / "shard.sqlite")
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    try:
        outcomes = run_parsers(specs, spooled, Provenance(device_id=device_id, evidence_id=f"{device_id}:e1"),
                               store, work)
        rows = {table: list(store.rows(table)) for table in RECORD_TABLES}
    finally:
        store.close()
    return outcomes, rows


def with_wal(device_path: str, db: Path) -> dict[str, Path]:
    """A database and its -wal (as ``make_db(..., wal_sql=...)`` left them) at a device path."""
    return {device_path: db, device_path + "-wal": db.with_name(db.name + "-wal")}


def run_damaged(tmp_path: Path, device_path: str, sql: str, parser: str):
    """Build a database from ``sql``, overwrite a page in its middle, run ``parser`` on it; returns its outcome."""
    from tests.fixtures.sqlite_db import damage, make_db
    good = make_db(tmp_path / "good" / "db", sql)
    bad = damage(good, tmp_path / "bad.db", page=good.stat().st_size // 4096 // 2)
    (outcome,), _ = run(tmp_path / "damaged-run", {device_path: bad}, [parser])
    return outcome


def run_damaged_leaf(tmp_path: Path, device_path: str, sql: str, table: str, parser: str):
    """Build a database from ``sql`` (its ``table`` holding some 200 rows), destroy one leaf page of that table, run
    ``parser`` on the damaged copy at ``device_path``; returns the one outcome and the stored rows."""
    good = make_db(tmp_path / "good" / "db", sql)
    bad = damage_leaf(good, tmp_path / "bad.db", table)
    outcomes, rows = run(tmp_path / "run", {device_path: bad}, [parser])
    (outcome,) = outcomes
    return outcome, rows
