"""The unit of work every engine runs in a worker: one device, evidence → its own shard in the case folder.

``run_device_job`` never touches ``case.sqlite`` (the batch process alone merges, with ``merge_finished``); it
writes only ``CASE/shards/pending/<run_id>/<device_id>.sqlite``, ``CASE/work/<device_id>/`` (scratch, removed at the
end) and ``CASE/logs/<device_id>.log``, and returns a JSON-serialisable summary. It is called in a process of its own
(local engine: one forked process per device; Celery: one task per device), so a crash or memory blow-up in
native code takes down only that device.
"""
from __future__ import annotations

import logging
import os
import resource
import sys
import time
from pathlib import Path

from cases import states
from cases.case import Case
from cases.device_log import DeviceLogHandler
from cases.ingest import DeviceResult, process_device
from forensics.confidential import create_private, private_dir

MIB = 1024 * 1024
LOG_FORMAT = "%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s [{device}]: %(message)s"


def pending_shard(case: Case, device_id: str, run_id: str) -> Path:
    """Where one attempt writes its shard; it becomes ``shards/<device_id>.sqlite`` only when merged."""
    return case.shards / "pending" / run_id / f"{device_id}.sqlite"


def apply_memory_limit(memory_mb: int | None) -> None:
    """RLIMIT_AS for this (worker) process: an allocation beyond it fails instead of exhausting the machine."""
    if memory_mb:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = memory_mb * MIB if hard == resource.RLIM_INFINITY else min(memory_mb * MIB, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def run_device_job(case_root: str, job: dict, limits: dict, password: str | None = None,
                   on_bytes=None) -> dict:
    """Process ``job`` (``DeviceJob.to_dict()`` plus ``run_id``) into its pending shard; return the summary.

    ``limits``: ``memory_mb`` (RLIMIT_AS applied to this process; only in a process of its own), ``debug`` (the
    device log also goes to stderr live), ``engine`` (a name for the record). ``password`` is for in-process
    ingest only; a batch reads the job's ``password_file``. Nothing here raises for a bad device: the summary's
    ``status`` is ``ok`` or ``failed`` with a one-line ``error``.
    """
    case = Case(Path(case_root))
    device_id, run_id = job["device_id"], job["run_id"]
    started_at, started = states.now(), time.monotonic()
    handler = _device_log(case, device_id, bool(limits.get("debug")))
    log = logging.getLogger("cases.worker")
    try:
        log.info("attempt %s on %s pid %d: evidence %s", run_id, states.host(), os.getpid(), "; ".join(job["paths"]))
        if limits.get("in_worker"):
            apply_memory_limit(limits.get("memory_mb"))
        if password is None and job.get("password_file"):
            password = Path(job["password_file"]).read_text(encoding="utf-8").rstrip("\r\n")
        shard = pending_shard(case, device_id, run_id)
        private_dir(shard.parent)
        result = process_device(device_id, [Path(p) for p in job["paths"]], shard, case.work_dir(device_id),
                                password, on_bytes, record_keys=bool(job.get("record_keys")))
    except Exception as exc:  # reading the password file, making folders: still one device, one line
        log.exception("attempt failed before processing")
        result = DeviceResult(device_id, "failed", f"{type(exc).__name__}: {exc}")
        shard = None
    if result.status != "ok" and "MemoryError" in (result.error or "") and limits.get("memory_mb"):
        result.error = f"memory limit of {limits['memory_mb']} MB exceeded ({result.error})"
    seconds = round(time.monotonic() - started, 3)
    log.info("attempt %s %s in %.2f s: %d files, %d records%s", run_id, result.status, seconds, result.files,
             result.records, f"; error: {result.error}" if result.error else "")
    _close_log(handler)
    segments = [s["path"] for e in result.evidence for s in e.get("segments") or []]
    return {
        "device_id": device_id, "run_id": run_id, "status": result.status, "error": result.error,
        "paths": list(job["paths"]), "extra": job.get("extra") or {},
        "shard": str(shard.relative_to(case.root)) if shard is not None and shard.exists() else None,
        "files": result.files, "records": result.records, "outcomes": result.outcomes,
        "anomalies": result.anomalies, "problems": result.problems, "database_keys": result.database_keys,
        "evidence_hashes": [{k: e.get(k) for k in ("evidence_id", "container", "sha256", "md5", "stored_md5",
                                                   "hash_verified")} for e in result.evidence],
        "evidence_state": states.evidence_state(list(job["paths"]) + segments),
        "seconds": seconds, "started_at": started_at, "finished_at": states.now(), "host": states.host(),
        "pid": os.getpid(), "engine": limits.get("engine", "local"),
        "log": str(case.log_path(device_id).relative_to(case.root)),
    }


def failure_result(job: dict, error: str, seconds: float | None = None, engine: str = "local",
                   on_host: str | None = None, pid: int | None = None) -> dict:
    """The summary of an attempt whose worker died (signal, time limit, lost worker): no shard, one-line error."""
    return {"device_id": job["device_id"], "run_id": job["run_id"], "status": "failed", "error": error,
            "paths": list(job["paths"]), "extra": job.get("extra") or {}, "shard": None, "files": 0,
            "records": 0, "outcomes": {}, "anomalies": [], "problems": {}, "database_keys": [], "evidence_hashes": [],
            "evidence_state": None,
            "seconds": seconds, "started_at": None, "finished_at": states.now(), "host": on_host or states.host(),
            "pid": pid, "engine": engine, "log": f"logs/{job['device_id']}.log"}


class _UTCFormatter(logging.Formatter):
    """UTC times; the message's control characters (a file name with a newline or an ANSI escape from the
    evidence) escaped, so one record is one line and the log cannot drive a terminal."""

    converter = time.gmtime

    def formatMessage(self, record: logging.LogRecord) -> str:
        from cases.problems import printable

        record.message = printable(record.message)
        return super().formatMessage(record)


def _device_log(case: Case, device_id: str, debug: bool) -> list[logging.Handler]:
    """Send every log record of this process to CASE/logs/<device_id>.log (appended: one section per attempt),
    and to stderr as well with ``debug``."""
    private_dir(case.logs)
    formatter = _UTCFormatter(LOG_FORMAT.format(device=device_id), "%Y-%m-%dT%H:%M:%S")
    handlers: list[logging.Handler] = [DeviceLogHandler(create_private(case.log_path(device_id)), encoding="utf-8")]
    if debug:
        handlers.append(logging.StreamHandler(sys.stderr))
    root = logging.getLogger()
    for h in handlers:
        h.setFormatter(formatter)
        root.addHandler(h)
    handlers[0].previous_level = root.level
    root.setLevel(logging.INFO)  # what this project logs; libraries' DEBUG chatter (exifread: every tag) stays out
    # LOG_FORMAT shows no thread or process: unless another handler (a Celery worker's) may, they are not collected
    # for each record (a getpid system call per photo run), as the logging HOWTO's "Optimization" section advises
    handlers[0].previous_flags = {name: getattr(logging, name) for name in _RECORD_FLAGS}
    if len(root.handlers) == len(handlers):
        for name in _RECORD_FLAGS:
            setattr(logging, name, False)
    return handlers


_RECORD_FLAGS = ("logThreads", "logProcesses", "logMultiprocessing")


def _close_log(handlers: list[logging.Handler]) -> None:
    root = logging.getLogger()
    root.setLevel(handlers[0].previous_level)
    for name, value in handlers[0].previous_flags.items():
        setattr(logging, name, value)
    for h in handlers:
        root.removeHandler(h)
        h.close()
