"""One device end to end: evidence paths → inventory → parsers → a self-contained shard (``cases.batch`` merges).

``process_device`` is a pure step from evidence to a shard file: it touches nothing else of the case, so a batch
can run it in separate processes (or machines) and merge the shards with a single writer. The shard is written
under a temporary name and renamed only when complete, so a crash never leaves a half-written shard behind.
"""
from __future__ import annotations

import logging
import re
import shutil
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from artifacts import sightings
from artifacts.records import Provenance
from artifacts.store import Store
from cases import problems
from cases.device_log import held_lines
from forensics import damage
from forensics.confidential import create_private, private_dir
from forensics.evidence import EvidenceError, group_paths, open_evidence
from forensics.integrity import BackgroundHash, file_state
from forensics.inventory import SpooledFile, inventory, spool_limit
from forensics.pack import done_before
from parsers.framework import load_parsers, packable_paths, parsed_at_once, run_parsers, wanted_paths

log = logging.getLogger(__name__)
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
    problems: dict[str, int] = field(default_factory=dict)  # kind -> count (rows in the shard's problems table)
    database_keys: list[dict] = field(default_factory=list)  # decrypted databases and how their keys were obtained


def check_device_id(device_id: str) -> str:
    if not _DEVICE_ID.match(device_id):
        raise IngestError(f"invalid device id {device_id!r}: use letters, digits, '.', '_' or '-', starting with "
                          f"a letter or digit (max 64)")
    return device_id


def default_device_id(paths: list[Path]) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(paths[0]).name.split(".")[0] or "device")
    return (stem.strip("._-") or "device")[:64]


def process_device(device_id: str, paths: list[Path], shard_path: Path, work: Path,
                   password: str | None = None, on_bytes: Callable[[int], None] | None = None,
                   record_keys: bool = False) -> DeviceResult:
    """Process one device into ``shard_path``. Evidence errors make a shard whose device row says ``failed``.
    ``record_keys``: store the SQLCipher keys found or derived in ``database_keys`` (otherwise only how they were
    obtained).

    ``work`` is the device's own scratch folder: whatever an interrupted earlier run left there is cleared first,
    and it is removed at the end."""
    shutil.rmtree(work, ignore_errors=True)
    private_dir(work)
    partial = shard_path.with_name(shard_path.name + ".partial")
    for stale in (partial, Path(str(partial) + "-wal"), Path(str(partial) + "-shm")):
        stale.unlink(missing_ok=True)
    store = Store(create_private(partial), scratch=True)
    result = DeviceResult(device_id, "ok")
    try:
        try:
            _process(device_id, paths, store, work, password, on_bytes, result, record_keys)
        except Exception as exc:  # one bad device never stops a batch: it is recorded as failed, with the reason
            if isinstance(exc, EvidenceError):
                log.error("device failed: %s", exc)
            else:  # the examiner sees one line; the device's log keeps the whole traceback
                log.exception("device failed with an unexpected error")
            result.status = "failed"
            result.error = str(exc) if isinstance(exc, EvidenceError) else \
                f"internal error: {type(exc).__name__}: {exc}"
            store = _fresh_store(store, partial)  # nothing half-written: a failed device keeps its device row only
            result.files = result.records = 0
            result.outcomes = {}
        store.upsert("devices", _device_row(device_id, result))
        store.add_indexes()  # the case's indexes: the merge copies them (``Store._same_ids``)
    finally:
        store.close()
        started = time.monotonic()
        shutil.rmtree(work, ignore_errors=True)
        log.info("work folder removed in %.2f s", time.monotonic() - started)
    partial.replace(shard_path)
    return result


def _fresh_store(store: Store, partial: Path) -> Store:
    store.close()
    for leftover in (partial, Path(str(partial) + "-wal"), Path(str(partial) + "-shm")):
        leftover.unlink(missing_ok=True)
    return Store(create_private(partial), scratch=True)


def _process(device_id, paths, store: Store, work: Path, password, on_bytes, result: DeviceResult,
             record_keys: bool = False) -> None:
    specs = wanted = packable = at_once = None  # loaded once the first evidence hash has started (imports overlap)
    base = Provenance(device_id=device_id, evidence_id=f"{device_id}:e1")
    spooled = []
    found: list[dict] = []
    facts = result.facts
    opened: list[_Opened] = []  # evidence read, its hash still running: finished after the parsers (see below)
    try:
        for number, group in enumerate(group_paths([Path(p) for p in paths]), start=1):
            evidence_id = f"{device_id}:e{number}"
            before = file_state([p for p in group if p.is_file()])
            started = time.monotonic()
            log.info("opening evidence %s: %s", evidence_id, ", ".join(map(str, group)))
            evidence = open_evidence(group, password=password)
            log.info("%s: container %s, %s bytes; layers: %s", evidence_id, evidence.container,
                     evidence.media_size, "; ".join(f"{layer.address} {layer.description} "
                                                    f"{layer.fs_type or layer.error or ''}".strip()
                                                    for layer in evidence.layers) or "none")
            facts.update(evidence.facts)
            hasher = BackgroundHash(evidence, shared=True)  # a plain tar: its walk's one read feeds the hash
            hasher.start()
            opened.append(_Opened(evidence_id, group, before, started, evidence, hasher))
            if specs is None:
                specs = load_parsers()
                wanted = wanted_paths(specs)
                at_once = _AtOnce(specs, base, store, work, record_keys)
                # only copies parsed as they are read go to the packs: a pack is deleted once a later one is read
                streamed = packable_paths(specs)
                packable = lambda path: streamed(path) and at_once.wanted(path)  # noqa: E731
            rows = []
            notify = (lambda entry: on_bytes(entry.size)) if on_bytes else None
            for row, copy in inventory(evidence.sources(), wanted, work / "spool" / f"e{number}", notify, packable):
                row.update(device_id=device_id, evidence_id=evidence_id)
                rows.append(row)
                if copy is not None:
                    copy = replace(copy, evidence_id=evidence_id)
                    if not at_once.take(copy):
                        spooled.append(copy)
                if len(rows) >= 2000:
                    store.insert_rows("files", rows)
                    rows = []
            store.insert_rows("files", rows)
            at_once.flush()
            result.anomalies += evidence.collect_anomalies()
            log.info("%s: inventory done in %.2f s", evidence_id, time.monotonic() - started)
        result.files = store.count("files")
        log.info("%d files inventoried, %d copied for the parsers and kept, %d parsed as they were read",
                 result.files, len(spooled), at_once.files)
        started = time.monotonic()
        outcomes = at_once.outcomes + run_parsers(specs, spooled, base, store, work, record_keys=record_keys)
        log.info("%d parser runs in %.2f s", len(outcomes), time.monotonic() - started)
        # no parser reads the photos' pack files any more: the kernel frees their blocks while the sightings are made
        removing = threading.Thread(target=_remove_packs, args=(work / "spool",), name="remove-packs")
        removing.start()
        try:
            _after_parsers(device_id, store, base, outcomes, facts, result)
            # The evidence hashes ran beside the inventory and then beside the parsers and sightings (hashlib
            # releases the GIL): only now are they waited for, so their tail costs no time of its own.
            for item in opened:
                found += _finish_evidence(item, device_id, store, result)
            store.insert_rows("problems", found + problems.collect(store, device_id))
            result.problems = problems.counts(store, device_id)
            if result.problems:
                log.warning("problems: %s", ", ".join(f"{k} {n}" for k, n in result.problems.items()))
        finally:
            removing.join()
    finally:
        for item in opened:
            item.close()


@dataclass
class _Opened:
    """One evidence read by the inventory, open until its hash is done."""

    evidence_id: str
    group: list[Path]
    before: list[dict]
    started: float
    evidence: object
    hasher: BackgroundHash
    closed: bool = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                if self.hasher.is_alive():  # the device failed before its hash was needed: stop it, then close
                    self.hasher.cancel()
                    self.hasher.join()
            finally:
                self.evidence.close()


def _finish_evidence(item: _Opened, device_id: str, store: Store, result: DeviceResult) -> list[dict]:
    """Wait for one evidence's hash, check it was not changed while read, write its row; its problems."""
    evidence_id, evidence, group = item.evidence_id, item.evidence, item.group
    try:
        hashes = item.hasher.wait()
        damaged = damage.problems(evidence, hashes.get("damaged") or [])  # while its file systems are open
    finally:
        item.close()
    after = file_state([p for p in group if p.is_file()])
    log.info("%s: evidence hashed, %.2f s after it was opened (sha256 %s)", evidence_id,
             time.monotonic() - item.started, hashes["sha256"])
    if item.before != after:
        raise EvidenceError(f"evidence changed while it was read: {group[0]}")
    row = {"evidence_id": evidence_id, "device_id": device_id, "paths": [str(p) for p in evidence.paths],
           "container": evidence.container, "media_size": evidence.media_size,
           "sha256": hashes["sha256"], "md5": hashes["md5"], "stored_md5": hashes["stored_md5"],
           "stored_sha1": hashes["stored_sha1"], "hash_verified": hashes["hash_verified"],
           "segments": after, "layers": [layer.as_dict() for layer in evidence.layers]}
    store.upsert("evidence", row)
    result.evidence.append(row)
    found = [dict(p, device_id=device_id, evidence_id=evidence_id) for p in evidence.problems]
    if hashes["hash_verified"] is False:
        found.append({"device_id": device_id, "evidence_id": evidence_id, "kind": "hash-mismatch",
                      "where": str(group[0]), "what": f"stored md5 {hashes['stored_md5']} differs from the "
                                                      f"md5 of the evidence read, {hashes['md5']}" +
                                                      ("" if damaged or hashes.get("damaged") is None else
                                                       "; no chunk fails its checksum: the stored hash, or "
                                                       "data rewritten with valid checksums, differ")})
    found += [dict(p, device_id=device_id, evidence_id=evidence_id) for p in damaged]
    return found


def _remove_packs(spool: Path) -> None:
    for pack in spool.glob("*.pack"):
        pack.unlink(missing_ok=True)


def _after_parsers(device_id: str, store: Store, base: Provenance, outcomes, facts: dict,
                   result: DeviceResult) -> None:
    store.insert_rows("parser_runs", [o.row(base) for o in outcomes])
    keys = [o.key_row(base) for o in outcomes if o.key_how]
    store.insert_rows("database_keys", keys)
    result.database_keys = [{k: row[k] for k in ("parser", "source_path", "how")} | {"key_recorded": bool(row["key"])}
                            for row in keys]
    for o in outcomes:
        result.outcomes[o.outcome] = result.outcomes.get(o.outcome, 0) + 1
        result.records += o.records
    for fact in store.rows("device_facts"):  # facts the evidence layer found (backup plists) come first
        if fact["value"] not in (None, ""):
            facts.setdefault(fact["key"], fact["value"])
    if facts.get("time_zone"):
        _file_times_in_device_zone(store, device_id, str(facts["time_zone"]))
    started = time.monotonic()
    count = sightings.record_device(store, device_id, facts)  # identifiers named by the records, in the shard
    log.info("%d sightings in %.2f s", count, time.monotonic() - started)


class _AtOnce:
    """Working copies whose parsers need nothing else (photos: ``standalone`` parsers) are parsed a few at a time
    while the inventory goes on, and let go: memory or the work folder holds at most ``AT_ONCE_BYTES`` (or one
    copy, when larger) of them, whatever the number of photos. The others stay until all of the device's files
    are read."""

    FILES = 64

    def __init__(self, specs, base: Provenance, store: Store, work: Path, record_keys: bool):
        self.specs, self.base, self.store, self.work, self.record_keys = specs, base, store, work, record_keys
        self.wanted = parsed_at_once(specs)
        self.waiting: list[SpooledFile] = []
        self.bytes = 0
        self.files = 0
        self.outcomes: list = []

    def take(self, copy: SpooledFile) -> bool:
        if not self.wanted(copy.path):
            return False
        self.waiting.append(copy)
        self.bytes += copy.size
        self.files += 1
        if len(self.waiting) >= self.FILES or self.bytes >= min(spool_limit(), AT_ONCE_BYTES):
            self.flush()
        return True

    def flush(self) -> None:
        waiting, self.waiting, self.bytes = self.waiting, [], 0
        try:
            if waiting:
                with held_lines():  # a line per photo run: written to the device log in blocks, not one by one
                    outcomes = run_parsers(self.specs, waiting, self.base, self.store, self.work,
                                           record_keys=self.record_keys, ahead=False)
                for outcome in outcomes:  # kept until the device's parser_runs are written: not a held photo's bytes
                    if outcome.source.data is not None:
                        outcome.source = _without_bytes(outcome.source)
                self.outcomes += outcomes
        finally:
            for copy in waiting:
                if copy.own_file:
                    copy.local.unlink(missing_ok=True)
            packed = [copy.local for copy in waiting if copy.offset is not None]
            if packed:  # the packs before the last one read hold no copy still to parse
                for pack in done_before(packed[-1]):
                    pack.unlink(missing_ok=True)


# photos waiting for their batch: held in memory when small (``forensics.inventory.MemorySlot``), so this bounds
# the memory they take (1 MiB photos: 16 a batch; a phone's usual 2-5 MB photos: 3 to 8)
AT_ONCE_BYTES = 16 << 20


def _without_bytes(copy: SpooledFile) -> SpooledFile:
    """``replace(copy, data=None)`` without re-running the dataclass's ``__init__`` for each of thousands of photos."""
    bare = object.__new__(SpooledFile)
    vars(bare).update(vars(copy), data=None)  # a frozen dataclass: its fields set as its __init__ sets them
    return bare


def _file_times_in_device_zone(store: Store, device_id: str, zone: str) -> None:
    """File-system wall-clock times (FAT, exFAT, ISO 9660, zip DOS times) read in the device's own time zone, and
    the encoding says so; the wall clock stays in ``*_local``. Unknown zones leave them as they are."""
    from artifacts import timestamps

    conn = store.db.conn
    with store.transaction():
        for key in ("mtime", "atime", "ctime", "crtime"):
            rows = conn.execute(f"SELECT id, {key}_local, {key}_encoding FROM files WHERE device_id = ? AND "
                                f"{key}_local IS NOT NULL", [device_id]).fetchall()
            updates = []
            for row_id, wall, encoding in rows:
                utc = timestamps.localized(wall, zone)
                if utc is not None:
                    updates.append((utc, encoding.replace(timestamps.ZONE_UNKNOWN,
                                                          f"zone {zone} from the device's time_zone fact"), row_id))
            conn.executemany(f"UPDATE files SET {key} = ?, {key}_encoding = ? WHERE id = ?", updates)


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
