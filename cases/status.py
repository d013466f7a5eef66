"""What happened to each device and each parser run: the examiner's view of "parsed", "no data" and failures."""
from __future__ import annotations

from artifacts.store import RECORD_TABLES, Store
from cases import problems


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


def case_status(case) -> dict:
    """The case at a glance, as ``forensics status --json`` prints it: per device its state (queued, running,
    done, failed — a device left running by a process that died is ``failed`` with ``interrupted: true``), one-line
    error, record counts and where they were read (``record_sources``: live, wal-only, wal-deleted, carved,
    unmapped carved cells), seconds taken, problems per kind; and the case totals."""
    from cases import states as st

    store = case.store()
    try:
        writing = case.is_locked()
        known = st.all_states(store)
        summaries = {s["device"]["device_id"]: s for s in device_summaries(store)}
        devices = []
        for device_id in sorted(set(known) | set(summaries)):
            state = known.get(device_id) or {}
            summary = summaries.get(device_id)
            row = summary["device"] if summary else {}
            name = state.get("state") or ("done" if row.get("status") == "ok" else "failed")
            error = state.get("error") if state else row.get("error")
            interrupted = name == st.INTERRUPTED or (name == st.RUNNING and not writing)
            if interrupted:
                name = st.FAILED
                error = error if error and error.startswith("interrupted") else st.INTERRUPTED_ERROR
            counts = {"files": store.count("files", device_id), **(summary["records"] if summary else {})}
            runs = store.count("device_runs", device_id)
            kept = name == st.FAILED and row.get("status") == "ok"
            devices.append({
                "device_id": device_id, "state": name, "error": error, "counts": counts,
                "seconds": state.get("seconds"), "interrupted": interrupted, "attempts": runs,
                "earlier_results_kept": kept, "problem": state.get("problem"),
                "problem_runs": len(problem_runs(store, device_id)) if summary else 0,
                "outcomes": summary["outcomes"] if summary else {}, "extra": state.get("extra") or {},
                "evidence_hashes": state.get("evidence_hashes") or [],
                "problems": problems.counts(store, device_id),
                "record_sources": summary["sources"] if summary else {},  # live, wal-only, ... carved (recovery.md)
            })
        totals: dict = {"devices": len(devices)}
        for name in ("queued", "running", "done", "failed"):
            totals[name] = sum(d["state"] == name for d in devices)
        totals["interrupted"] = sum(d["interrupted"] for d in devices)
        totals["counts"] = {}
        for d in devices:
            for table, n in d["counts"].items():
                totals["counts"][table] = totals["counts"].get(table, 0) + n
        totals["seconds"] = round(sum(d["seconds"] or 0 for d in devices), 3)
        totals["with_problems"] = sum(bool(d["problems"]) for d in devices)
        return {"case": str(case.root), "schema_version": store.schema_version, "writing": writing,
                "devices": devices, "totals": totals}
    finally:
        store.close()
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
