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
                          "records": {t: n for t, n in counts.items() if n}})
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
