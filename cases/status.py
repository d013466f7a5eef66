"""What happened to each device and each parser run: the examiner's view of "parsed", "no data" and failures."""
from __future__ import annotations

from artifacts.store import RECORD_TABLES, Store


def device_summaries(store: Store) -> list[dict]:
    """Per device: status, file count, record counts per table, parser outcomes."""
    summaries = []
    for device in store.rows("devices"):
        device_id = device["device_id"]
        outcomes: dict[str, int] = {}
        for (outcome, n) in store.db.execute(
                "SELECT outcome, count(*) FROM parser_runs WHERE device_id = ? GROUP BY outcome ORDER BY outcome",
                [device_id]):
            outcomes[outcome] = n
        counts = {t: store.count(t, device_id) for t in RECORD_TABLES}
        summaries.append({"device": device, "outcomes": outcomes,
                          "records": {t: n for t, n in counts.items() if n}, "sources": record_sources(store,
                                                                                                       device_id)})
    return summaries


def problem_runs(store: Store, device_id: str | None = None) -> list[dict]:
    """Parser runs that did not parse: errors, encrypted files, unsupported versions.

    An "unsupported version" is not a problem when a sibling parser read the same file (the legacy-schema parser
    of a database that has the current schema); it stays in the store and in ``--all-runs``.
    """
    runs = list(store.rows("parser_runs", device_id))
    read = {(r["device_id"], r["evidence_id"], r["partition"], r["source_path"]) for r in runs
            if r["outcome"] in ("parsed", "no data")}
    return [r for r in runs if r["outcome"] not in ("parsed", "no data") and not (
        r["outcome"] == "unsupported version" and
        (r["device_id"], r["evidence_id"], r["partition"], r["source_path"]) in read)]


SOURCE_COUNTS = (("live", "live_records"), ("wal-only", "wal_records"), ("wal-deleted", "wal_deleted_records"),
                 ("carved", "carved_records"), ("unmapped carved cells", "carved_unmapped"))


def record_sources(store: Store, device_id: str | None = None) -> dict[str, int]:
    """Over a device's parser runs: records read live (of which only in the WAL), read back from the main file
    because the WAL deleted them, carved from deleted content, and carved cells no record came from."""
    where, args = ("WHERE device_id = ?", [device_id]) if device_id else ("", [])
    row = store.db.execute(f"SELECT {', '.join(f'coalesce(sum([{c}]), 0)' for _, c in SOURCE_COUNTS)} "
                           f"FROM parser_runs {where}", args).fetchone()
    return dict(zip((name for name, _ in SOURCE_COUNTS), row))


def run_sources(run: dict) -> str:
    """One parser run's record sources, e.g. ``live 12 (wal-only 2), wal-deleted 1, carved 3``; empty for a run
    with live records only."""
    counts = {name: run.get(column) or 0 for name, column in SOURCE_COUNTS}
    if not any(n for name, n in counts.items() if name != "live"):
        return ""
    return ", ".join(f"{name} {n}" for name, n in counts.items())
