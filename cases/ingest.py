"""One device end to end: evidence paths → inventory → parsers → a self-contained shard, then merged into the case.

``process_device`` is a pure step from evidence to a shard file: it touches nothing else of the case, so a batch
can run it in separate processes (or machines) and merge the shards with a single writer. The shard is written
under a temporary name and renamed only when complete, so a crash never leaves a half-written shard behind.
"""
from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from artifacts import sightings
from artifacts.records import Provenance
from artifacts.store import Store
from cases.case import Case
from forensics.evidence import EvidenceError, group_paths, open_evidence
from forensics.integrity import BackgroundHash, file_state
from forensics.inventory import inventory
from parsers.framework import load_parsers, run_parsers, wanted_paths

_DEVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class IngestError(Exception):
    """The device could not be processed; recorded on the device row and reported in one line."""


@dataclass
class DeviceResult:
    device_id: str
    status: str
    error: str | None = None
    files: int = 0
    evidence: list[dict] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    records: int = 0
    facts: dict = field(default_factory=dict)
    anomalies: list[str] = field(default_factory=list)


def check_device_id(device_id: str) -> str:
    if not _DEVICE_ID.match(device_id):
        raise IngestError(f"invalid device id {device_id!r}: use letters, digits, '.', '_' or '-' (max 64)")
    return device_id


def default_device_id(paths: list[Path]) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(paths[0]).name.split(".")[0] or "device")
    return (stem.strip("._-") or "device")[:64]


def process_device(device_id: str, paths: list[Path], shard_path: Path, work_root: Path,
                   password: str | None = None, on_bytes: Callable[[int], None] | None = None) -> DeviceResult:
    """Process one device into ``shard_path``. Evidence errors make a shard whose device row says ``failed``."""
    work_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{device_id}-", dir=work_root))
    partial = shard_path.with_name(shard_path.name + ".partial")
    for stale in (partial, Path(str(partial) + "-wal"), Path(str(partial) + "-shm")):
        stale.unlink(missing_ok=True)
    store = Store(partial, scratch=True)
    result = DeviceResult(device_id, "ok")
    try:
        try:
            _process(device_id, paths, store, work, password, on_bytes, result)
        except Exception as exc:  # one bad device never stops a batch: it is recorded as failed, with the reason
            result.status = "failed"
            result.error = str(exc) if isinstance(exc, EvidenceError) else \
                f"internal error: {type(exc).__name__}: {exc}"
            store = _fresh_store(store, partial)  # nothing half-written: a failed device keeps its device row only
            result.files = result.records = 0
            result.outcomes = {}
        store.upsert("devices", _device_row(device_id, result))
    finally:
        store.close()
        shutil.rmtree(work, ignore_errors=True)
    partial.replace(shard_path)
    return result


def _fresh_store(store: Store, partial: Path) -> Store:
    store.close()
    for leftover in (partial, Path(str(partial) + "-wal"), Path(str(partial) + "-shm")):
        leftover.unlink(missing_ok=True)
    return Store(partial, scratch=True)


def _process(device_id, paths, store: Store, work: Path, password, on_bytes, result: DeviceResult) -> None:
    specs = load_parsers()
    wanted = wanted_paths(specs)
    spooled = []
    facts = result.facts
    for number, group in enumerate(group_paths([Path(p) for p in paths]), start=1):
        evidence_id = f"{device_id}:e{number}"
        before = file_state([p for p in group if p.is_file()])
        evidence = open_evidence(group, password=password)
        facts.update(evidence.facts)
        hasher = BackgroundHash(evidence)
        hasher.start()
        try:
            rows = []
            notify = (lambda entry: on_bytes(entry.size)) if on_bytes else None
            for row, copy in inventory(evidence.sources(), wanted, work / "spool" / f"e{number}", notify):
                row.update(device_id=device_id, evidence_id=evidence_id)
                rows.append(row)
                if copy is not None:
                    spooled.append(replace(copy, evidence_id=evidence_id))
                if len(rows) >= 2000:
                    store.insert_rows("files", rows)
                    rows = []
            store.insert_rows("files", rows)
            hashes = hasher.wait()
            result.anomalies += evidence.collect_anomalies()
        finally:
            evidence.close()
        after = file_state([p for p in group if p.is_file()])
        if before != after:
            raise EvidenceError(f"evidence changed while it was read: {group[0]}")
        row = {"evidence_id": evidence_id, "device_id": device_id, "paths": [str(p) for p in evidence.paths],
               "container": evidence.container, "media_size": evidence.media_size,
               "sha256": hashes["sha256"], "md5": hashes["md5"], "stored_md5": hashes["stored_md5"],
               "stored_sha1": hashes["stored_sha1"], "hash_verified": hashes["hash_verified"],
               "segments": after, "layers": [layer.as_dict() for layer in evidence.layers]}
        store.upsert("evidence", row)
        result.evidence.append(row)
    result.files = store.count("files")
    base = Provenance(device_id=device_id, evidence_id=f"{device_id}:e1")
    outcomes = run_parsers(specs, spooled, base, store, work)
    store.insert_rows("parser_runs", [o.row(base) for o in outcomes])
    for o in outcomes:
        result.outcomes[o.outcome] = result.outcomes.get(o.outcome, 0) + 1
        result.records += o.records
    for fact in store.rows("device_facts"):  # facts the evidence layer found (backup plists) come first
        if fact["value"] not in (None, ""):
            facts.setdefault(fact["key"], fact["value"])
    sightings.record_device(store, device_id, facts)  # identifiers named by the records, per device, in the shard


def _device_row(device_id: str, result: DeviceResult) -> dict:
    first = result.evidence[0] if result.evidence else {}
    facts = result.facts
    return {
        "device_id": device_id, "label": device_id, "status": result.status, "error": result.error,
        "platform": facts.get("platform"), "evidence_sha256": first.get("sha256"),
        "evidence_md5": first.get("md5"), "stored_md5": first.get("stored_md5"),
        "stored_sha1": first.get("stored_sha1"), "hash_verified": first.get("hash_verified"),
        "file_count": result.files, "model": facts.get("model"), "os_version": facts.get("os_version"),
        "serial": facts.get("serial"), "udid": facts.get("udid"), "phone_number": facts.get("phone_number"),
        "device_name": facts.get("device_name"), "time_zone": facts.get("time_zone"), "facts": facts,
    }


def ingest(case: Case, paths: list[Path], device_id: str | None = None, password: str | None = None,
           on_bytes: Callable[[int], None] | None = None, command: str = "") -> DeviceResult:
    """Process one device into its shard and merge it into the case store, replacing any earlier rows."""
    device_id = check_device_id(device_id or default_device_id(paths))
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise IngestError(f"evidence not found: {', '.join(missing)}")
    case.audit.write("ingest start", device_id=device_id, evidence=[str(p) for p in paths], command=command)
    result = process_device(device_id, [Path(p) for p in paths], case.shard_path(device_id), case.work, password,
                            on_bytes)
    store = case.store()
    try:
        store.merge_shard(case.shard_path(device_id), device_id)
    finally:
        store.close()
    case.audit.write("ingest end", device_id=device_id, status=result.status, error=result.error,
                     files=result.files, records=result.records, outcomes=result.outcomes,
                     anomalies=result.anomalies,
                     evidence_hashes=[{k: e.get(k) for k in ("evidence_id", "sha256", "md5", "stored_md5",
                                                               "hash_verified")} for e in result.evidence])
    return result
