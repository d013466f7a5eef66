"""Batches of devices: plan from a manifest, run each device in a worker (an engine), merge with one writer.

The engine-neutral core, shared by every engine (``cases.local_engine``; a distributed one plugs in the same way):

- ``read_manifest(path) -> list[DeviceJob]`` (``cases.manifest``): the whole manifest checked at once;
- ``run_device_job(case_root, job, limits) -> dict`` (``cases.worker``): one device into its own shard, in a worker
  process; never touches ``case.sqlite``;
- ``merge_finished(case, device_id, result)``: the single writer merges a finished shard and records the state;
- ``run_batch(case, manifest, engine, limits)``: the batch process — lock, plan (skip done, retry failed and
  interrupted, report evidence changed since done), audit, progress, and merging as results come back.

An engine is an object with a ``name`` and ``run(case_root, jobs, limits)`` yielding ``("started", job, info)``
when a device begins in a worker (``info``: ``pid``, ``host``) and ``("finished", job, result)`` when it ended
(``result`` as ``run_device_job`` returns it, or ``worker.failure_result(...)`` when the worker died).
"""
from __future__ import annotations

import getpass
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Protocol

from artifacts.store import Store
from cases import states
from cases.case import Case
from cases.ingest import IngestError, check_device_id, default_device_id
from cases.manifest import DeviceJob, ManifestError, manifest_sha256, read_manifest
from cases.worker import failure_result, run_device_job
from forensics.evidence import EvidenceError, group_paths, open_evidence
from forensics.integrity import hash_evidence

__all__ = ["DeviceJob", "ManifestError", "read_manifest", "run_device_job", "merge_finished", "run_batch",
           "failure_result", "Engine", "BatchOutcome", "job_for_run", "ingest_device"]


class Engine(Protocol):
    name: str

    def run(self, case_root: str, jobs: list[dict], limits: dict) -> Iterator[tuple[str, dict, dict]]:
        ...


def job_for_run(job: DeviceJob) -> dict:
    """The JSON-serialisable job a worker gets: the manifest row plus a fresh ``run_id`` for this attempt."""
    return dict(job.to_dict(), run_id=states.new_run_id())


def merge_finished(case: Case, device_id: str, result: dict, replace: bool = False,
                   store: Store | None = None) -> bool:
    """Record a finished attempt; merge its shard when it replaces what the case holds. Returns whether it did.

    The new rows replace the device's earlier rows when the attempt succeeded, when the device has no good earlier
    rows, or with ``replace``. Otherwise — a failed retry of a device that was done — the earlier rows and shard
    stay, and the failed attempt is recorded beside them (``device_runs.kept_earlier``). Everything the case store
    learns about the device (rows and state) lands in one transaction.
    """
    own = store is None
    store = store or case.store()
    try:
        earlier = store.db.execute("SELECT status FROM devices WHERE device_id = ?", [device_id]).fetchone()
        earlier_ok = earlier is not None and earlier[0] == "ok"
        ok = result["status"] == "ok"
        take_new = ok or replace or not earlier_ok
        pending = case.root / result["shard"] if result.get("shard") else None
        if take_new and pending is not None and pending.exists():
            final = case.shard_path(device_id)
            os.replace(pending, final)  # a crash before the merge commits leaves the device "running": redone
            shutil.rmtree(pending.parent, ignore_errors=True)  # this attempt's own folder, now empty
            crash_point("before-merge", device_id)

            def record(s: Store) -> None:
                crash_point("merge", device_id)  # the device's rows are replaced, not yet committed
                states.finish(s, result, kept_earlier=False)

            store.merge_shard(final, device_id, also=record)
        elif take_new:  # the worker died before writing a shard: the device's rows become one failed device row
            with store.transaction():
                store.delete_device(device_id)
                store.put("devices", {"device_id": device_id, "label": device_id, "status": "failed",
                                      "error": result.get("error"), "file_count": 0, "facts": {}})
                states.finish(store, result, kept_earlier=False)
            case.shard_path(device_id).unlink(missing_ok=True)
        else:
            with store.transaction():
                states.finish(store, result, kept_earlier=True)
    finally:
        if own:
            store.close()
    clear_leftovers(case, device_id)
    return take_new


def crash_point(name: str, device_id: str) -> None:
    """Fault injection for the crash tests: with ``FORENSICS_CRASH_AT=<name>:<device_id>`` in the environment this
    process kills itself here with SIGKILL, as a power cut would (points: ``before-merge``, ``merge``)."""
    if os.environ.get("FORENSICS_CRASH_AT") == f"{name}:{device_id}":
        os.kill(os.getpid(), signal.SIGKILL)


def clear_leftovers(case: Case, device_id: str) -> None:
    """Scratch copies and unmerged shards an earlier (interrupted, killed, timed-out) attempt left behind."""
    shutil.rmtree(case.work_dir(device_id), ignore_errors=True)
    pending_root = case.shards / "pending"
    if not pending_root.is_dir():
        return
    names = (f"{device_id}.sqlite", f"{device_id}.sqlite.partial")
    for run_dir in pending_root.iterdir():
        found = [f for f in run_dir.glob(f"{device_id}.sqlite*")
                 if f.name in names or f.name.startswith(tuple(n + "-" for n in names))]
        for leftover in found:
            leftover.unlink(missing_ok=True)
        if found:  # only a folder this device used: another device's worker may have just made its own
            try:
                run_dir.rmdir()
            except OSError:
                pass


@dataclass
class BatchOutcome:
    total: int = 0
    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # done in an earlier run, evidence unchanged
    changed: dict[str, str] = field(default_factory=dict)  # done earlier, evidence changed since: not redone
    interrupted: list[str] = field(default_factory=list)  # left running by a killed earlier run, now retried
    kept_earlier: list[str] = field(default_factory=list)  # failed now, earlier good results kept

    @property
    def ok(self) -> bool:
        return not self.failed and not self.changed


def run_batch(case: Case, manifest: str | Path, engine: Engine, limits: dict, replace: bool = False,
              progress=None, command: str = "") -> BatchOutcome:
    """Run every device of the manifest that is not done; see the module docstring."""
    jobs = read_manifest(manifest)
    outcome = BatchOutcome(total=len(jobs))
    with case.lock():
        store = case.store()
        try:
            outcome.interrupted = states.record_interrupted(store, engine.name)
            known = states.all_states(store)
            to_run: list[dict] = []
            for job in jobs:
                state = known.get(job.device_id)
                if state and state["state"] == states.DONE and not replace:
                    reason = evidence_changed(state, job)
                    if reason:
                        outcome.changed[job.device_id] = reason
                        states.note_problem(store, job.device_id, reason)
                    else:
                        outcome.skipped.append(job.device_id)
                    continue
                to_run.append(job_for_run(job))
            limits = dict(limits, engine=engine.name)
            case.audit.write("batch start", command=command, user=_user(), host=states.host(), engine=engine.name,
                             manifest=str(Path(manifest).absolute()), manifest_sha256=manifest_sha256(manifest),
                             devices=len(jobs), to_run=[j["device_id"] for j in to_run], skipped=outcome.skipped,
                             evidence_changed=outcome.changed, interrupted_before=outcome.interrupted,
                             limits={k: v for k, v in limits.items() if k != "debug"}, replace=replace)
            for job in to_run:
                clear_leftovers(case, job["device_id"])
            states.queue(store, to_run, engine.name)
            hashes_before = {d: (known.get(d) or {}).get("evidence_hashes") for d in (j["device_id"] for j in to_run)}
            if progress:
                progress.start(len(to_run))
            for event, job, info in engine.run(str(case.root), to_run, limits):
                if event == "started":
                    states.start(store, job, engine.name, pid=info.get("pid"), on_host=info.get("host"))
                    if progress:
                        progress.started(job["device_id"])
                    continue
                replaced = merge_finished(case, job["device_id"], info, replace=replace, store=store)
                if info["status"] == "ok":
                    outcome.done.append(job["device_id"])
                else:
                    outcome.failed[job["device_id"]] = info.get("error") or "failed"
                    if not replaced:
                        outcome.kept_earlier.append(job["device_id"])
                case.audit.write("batch device", device_id=job["device_id"], run_id=job["run_id"],
                                 state=states.DONE if info["status"] == "ok" else states.FAILED,
                                 error=info.get("error"), seconds=info.get("seconds"), host=info.get("host"),
                                 files=info.get("files"), records=info.get("records"),
                                 problems=info.get("problems"), earlier_results_kept=not replaced,
                                 evidence_hashes_before=hashes_before.get(job["device_id"]),
                                 evidence_hashes_after=info.get("evidence_hashes"),
                                 database_keys=info.get("database_keys") or [])
                if progress:
                    progress.finished(job["device_id"], info["status"] == "ok", info.get("seconds"))
        finally:
            store.close()
            if progress:
                progress.close()
        case.audit.write("batch end", devices=len(jobs), done=len(outcome.done), failed=outcome.failed,
                         skipped=len(outcome.skipped), evidence_changed=sorted(outcome.changed))
    return outcome


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def evidence_changed(state: dict, job: DeviceJob) -> str | None:
    """Why the evidence of a done device is no longer what was processed, or None.

    Cheap first: the paths, then each file's size and mtime (a folder's listing). Only where that differs is the
    evidence re-hashed: a touched but identical image is not a change; a different sha256 is."""
    recorded = sorted(state.get("evidence") or [])
    if sorted(job.paths) != recorded:
        return f"evidence paths differ from those processed ({'; '.join(recorded)})"
    then = state.get("evidence_state") or []
    now = states.evidence_state([s["path"] for s in then])
    if now == then:
        return None
    hashes = [h for h in state.get("evidence_hashes") or []]
    if not hashes or any(not h.get("sha256") for h in hashes):
        moved = [n["path"] for n, t in zip(now, then) if n != t]
        return f"evidence changed on disk since it was done: {', '.join(moved)}"
    try:
        groups = group_paths([Path(p) for p in job.paths])
        for number, group in enumerate(groups, start=1):
            evidence = open_evidence(group)
            try:
                sha256 = hash_evidence(evidence)["sha256"]
            finally:
                evidence.close()
            expected = next((h["sha256"] for h in hashes if h["evidence_id"].endswith(f":e{number}")), None)
            if sha256 != expected:
                return f"evidence hash differs from the done run's: {group[0]} sha256 {sha256} (was {expected})"
    except (EvidenceError, OSError) as exc:
        return f"evidence can no longer be read: {exc}"
    return None


def ingest_device(case: Case, paths: list[Path], device_id: str | None = None, password: str | None = None,
                  on_bytes=None, command: str = "", replace: bool = False, record_keys: bool = False) -> dict:
    """``forensics ingest``: one device, in this process, through the same states, shard and merge as a batch.

    Returns the worker's summary plus ``earlier_results_kept`` (a failed re-ingest left the earlier rows)."""
    device_id = check_device_id(device_id or default_device_id(paths))
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise IngestError(f"evidence not found: {', '.join(missing)}")
    job = job_for_run(DeviceJob(device_id, [str(Path(p).absolute()) for p in paths]))
    job["record_keys"] = record_keys
    with case.lock():
        store = case.store()
        try:
            states.record_interrupted(store, "ingest")
            before = (states.get(store, device_id) or {}).get("evidence_hashes")
            case.audit.write("ingest start", device_id=device_id, evidence=[str(p) for p in paths], command=command,
                             user=_user(), host=states.host(), run_id=job["run_id"])
            clear_leftovers(case, device_id)
            states.start(store, job, "ingest")
            result = run_device_job(str(case.root), job, {"engine": "ingest"}, password=password, on_bytes=on_bytes)
            result["earlier_results_kept"] = not merge_finished(case, device_id, result, replace=replace,
                                                                store=store)
        finally:
            store.close()
        case.audit.write("ingest end", device_id=device_id, run_id=job["run_id"], status=result["status"],
                         error=result["error"], files=result["files"], records=result["records"],
                         outcomes=result["outcomes"], anomalies=result["anomalies"], problems=result.get("problems"),
                         seconds=result["seconds"],
                         earlier_results_kept=result["earlier_results_kept"], evidence_hashes_before=before,
                         evidence_hashes=result["evidence_hashes"], database_keys=result["database_keys"])
    return result


class Progress:
    """One self-rewriting line on a terminal: done / failed / running, throughput and ETA. Silent elsewhere."""

    def __init__(self, stream=None, every: float = 0.5):
        self.stream = stream or sys.stderr
        self.every = every
        self.enabled = self.stream.isatty()
        self.total = self.done = self.failed = 0
        self.running: set[str] = set()
        self.t0 = time.monotonic()
        self.last = 0.0

    def start(self, total: int) -> None:
        self.total, self.t0 = total, time.monotonic()
        self.show(force=True)

    def started(self, device_id: str) -> None:
        self.running.add(device_id)
        self.show()

    def finished(self, device_id: str, ok: bool, seconds) -> None:
        self.running.discard(device_id)
        self.done += ok
        self.failed += not ok
        self.show(force=True)

    def line(self) -> str:
        finished = self.done + self.failed
        elapsed = time.monotonic() - self.t0
        rate = finished / elapsed * 60 if elapsed > 0 and finished else 0.0
        eta = (self.total - finished) / (rate / 60) if rate else None
        eta_text = "--" if eta is None else time.strftime("%H:%M:%S", time.gmtime(eta))
        return (f"devices {finished}/{self.total}: {self.done} done, {self.failed} failed, {len(self.running)} "
                f"running | {rate:.1f} devices/min | ETA {eta_text}")

    def show(self, force: bool = False) -> None:
        if not self.enabled or (not force and time.monotonic() - self.last < self.every):
            return
        self.last = time.monotonic()
        self.stream.write("\r\033[K" + self.line())
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\033[K" + self.line() + "\n")
            self.stream.flush()

