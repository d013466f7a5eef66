"""Each device's state in the case store: queued → running → done | failed (+ reason); interrupted when the process
that ran it died. Written only by the process that holds the case lock (the single writer).

``device_states`` holds one row per device (the latest word on it); ``device_runs`` one row per attempt — done,
failed or interrupted — so a failed retry is recorded beside the earlier good results it left in place.
A device left ``running`` by a process that no longer holds the case lock was interrupted (killed, power cut):
``status`` shows it so, and the next batch or ingest records the interruption and runs the device again.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import os
import socket
import uuid
from pathlib import Path

from artifacts.store import Store

QUEUED, RUNNING, DONE, FAILED, INTERRUPTED = "queued", "running", "done", "failed", "interrupted"
INTERRUPTED_ERROR = "interrupted: the process running it stopped (killed, crashed or power lost)"


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_run_id() -> str:
    return uuid.uuid4().hex[:16]


def host() -> str:
    return socket.gethostname()


def all_states(store: Store) -> dict[str, dict]:
    return {row["device_id"]: row for row in store.rows("device_states")}


def get(store: Store, device_id: str) -> dict | None:
    return next(iter(store.rows("device_states", device_id)), None)


def _put(store: Store, device_id: str, **changes) -> None:
    """Update (or create) one device's state row, keeping the columns not named."""
    row = get(store, device_id) or {"device_id": device_id, "attempts": 0}
    row.update(changes)
    store.put("device_states", row)


def record_interrupted(store: Store, engine: str) -> list[str]:
    """Devices still ``running`` although no process holds the case lock (the caller holds it now): record the
    interrupted attempt and mark them ``interrupted``. Returns their ids."""
    found = [r for r in all_states(store).values() if r["state"] == RUNNING]
    if not found:
        return []
    with store.transaction():
        for row in found:
            store.put("device_runs", {
                "device_id": row["device_id"], "run_id": row["run_id"], "state": INTERRUPTED,
                "error": INTERRUPTED_ERROR,
                "evidence": row["evidence"], "started_at": row["started_at"], "finished_at": None,
                "host": row["host"], "pid": row["pid"], "engine": row["engine"]})
            _put(store, row["device_id"], state=INTERRUPTED, error=INTERRUPTED_ERROR)
    return [r["device_id"] for r in found]


def queue(store: Store, jobs: list[dict], engine: str) -> None:
    with store.transaction():
        for job in jobs:
            _put(store, job["device_id"], state=QUEUED, error=None, evidence=job["paths"],
                 extra=job.get("extra") or {}, queued_at=now(), engine=engine, problem=None)


def start(store: Store, job: dict, engine: str, pid: int | None = None, on_host: str | None = None) -> None:
    with store.transaction():
        _put(store, job["device_id"], state=RUNNING, run_id=job["run_id"], evidence=job["paths"],
             extra=job.get("extra") or {}, started_at=now(), finished_at=None, host=on_host or host(),
             pid=pid or os.getpid(), engine=engine)


def finish(store: Store, result: dict, kept_earlier: bool) -> None:
    """Record a finished attempt (call inside the merge's transaction)."""
    device_id = result["device_id"]
    before = get(store, device_id) or {"attempts": 0}
    ok = result["status"] == "ok"
    error = result.get("error")
    store.put("device_runs", {
        "device_id": device_id, "run_id": result.get("run_id"), "state": DONE if ok else FAILED, "error": error,
        "kept_earlier": int(kept_earlier), "evidence": result.get("paths"),
        "evidence_hashes": result.get("evidence_hashes"), "files": result.get("files"),
        "records": result.get("records"), "seconds": result.get("seconds"), "started_at": result.get("started_at"),
        "finished_at": result.get("finished_at"), "host": result.get("host"), "pid": result.get("pid"),
        "engine": result.get("engine"), "log": result.get("log")})
    changes = {"state": DONE if ok else FAILED, "error": error, "run_id": result.get("run_id"),
               "attempts": (before.get("attempts") or 0) + 1, "seconds": result.get("seconds"),
               "finished_at": result.get("finished_at"), "problem": None}
    if result.get("started_at"):
        changes["started_at"] = result["started_at"]
    if ok or not kept_earlier:  # the state's hashes describe the rows the case holds for the device
        changes.update(evidence=result.get("paths"), evidence_hashes=result.get("evidence_hashes"),
                       evidence_state=result.get("evidence_state"))
    _put(store, device_id, **changes)


def note_problem(store: Store, device_id: str, problem: str | None) -> None:
    with store.transaction():
        _put(store, device_id, problem=problem)


# -- evidence fingerprints --------------------------------------------------------------------------------------------

def evidence_state(paths: list[str]) -> list[dict]:
    """A cheap fingerprint of the evidence as it is on disk: size and mtime of each file; of a folder, a sha256 over
    every file's relative path, size and mtime. Changes when the evidence is touched, without reading it."""
    state = []
    for given in sorted(set(paths)):
        p = Path(given)
        try:
            if p.is_dir():
                state.append({"path": given, "tree_sha256": _tree_sha256(p)})
            else:
                st = p.stat()
                state.append({"path": given, "size": st.st_size, "mtime_ns": st.st_mtime_ns})
        except OSError as exc:
            state.append({"path": given, "error": exc.strerror or str(exc)})
    return state


def _tree_sha256(root: Path) -> str:
    """sha256 over (relative path, size, mtime) of every entry below ``root``, in sorted order; iterative, because
    evidence folders can nest deeper than Python's recursion limit (and os.walk recurses before 3.12)."""
    digest = hashlib.sha256()
    stack = [""]
    while stack:
        relative = stack.pop()
        with os.scandir(root / relative if relative else root) as entries:
            listing = sorted(entries, key=lambda e: e.name, reverse=True)
        for entry in listing:
            name = f"{relative}/{entry.name}" if relative else entry.name
            st = entry.stat(follow_symlinks=False)
            digest.update(f"{name}\0{st.st_mode}\0{st.st_size}\0{st.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))
            if entry.is_dir(follow_symlinks=False):
                stack.append(name)
    return digest.hexdigest()
