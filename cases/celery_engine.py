"""The Celery engine of ``forensics batch``: devices processed by ``forensics worker`` processes on other machines.

Celery with a Redis broker is what Turbinia and Timesketch use to spread forensic work over machines
(https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/redis.html). One Celery task is one device:
the task calls the same :func:`cases.batch.run_device_job` as the local engine, which writes the device's shard into
the case folder; the batch process, alone, merges the shards into ``case.sqlite``. So the results cannot differ
between engines, and one SQLite database is never written by several processes.

What travels through the broker is deliberately small (issue 14): the task message carries the case folder, the
device id and the limits; the task's result is the device id and its status. The device's manifest row (owner,
notes, ...) and the full summary go through the shared storage the case folder lives on (``CASE/celery/``, files
``0600``), and evidence bytes and records never leave it. Messages and results are JSON only — no pickle, so a
message can never run code on a worker.

Worker settings follow Celery's guidance for long tasks that must not be lost
(https://docs.celeryq.dev/en/stable/userguide/optimizing.html, ``task_acks_late``,
``task_reject_on_worker_lost``): concurrency 1, prefetch multiplier 1 (a worker holds one device at a time), late
acknowledgement (a device whose worker dies is delivered again), one task per child process (a crash or leak in
native code takes only its device's process), soft and hard time limits. A device whose worker died
``MAX_DELIVERIES`` times is failed with that reason instead of being redelivered forever.
"""
from __future__ import annotations

import json
import os
import queue
import socket
import threading
import time
from concurrent.futures import Executor, Future
from pathlib import Path

from celery import Celery
from celery.exceptions import SoftTimeLimitExceeded
from celery.worker.control import control_command

from cases.broker import Broker, ssl_options

TASK = "forensics.device"
CHECK = "forensics_check"
QUEUE = "forensics"
MAX_DELIVERIES = 3
DEFAULT_TIME_LIMIT = 6 * 3600          # seconds; a device of a few hundred GB takes hours
SOFT_MARGIN = 60                       # the soft limit comes this much earlier, so the task can record why it stops

app = Celery("forensics", set_as_current=False)


class EngineError(Exception):
    """The Celery engine cannot run the batch (no worker, a worker that cannot read the evidence): one line."""


class DeviceLost(Exception):
    """A device's task ended without a summary (worker lost, hard time limit): the device fails with this reason."""


def configure(broker: Broker, time_limit: int | None = None) -> Celery:
    """Point the app at ``broker`` with the engine's settings (the same in the batch process and every worker)."""
    hard = int(time_limit or DEFAULT_TIME_LIMIT)
    tls = ssl_options(broker)
    app.conf.update(
        broker_url=broker.url, result_backend=broker.url,
        broker_use_ssl=tls or None, redis_backend_use_ssl=tls or None,
        task_serializer="json", result_serializer="json", accept_content=["json"], result_accept_content=["json"],
        task_default_queue=QUEUE, task_track_started=True,
        task_acks_late=True, task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1, worker_concurrency=1, worker_max_tasks_per_child=1,
        task_time_limit=hard, task_soft_time_limit=max(1, hard - SOFT_MARGIN),
        # an unacknowledged device goes back to the queue only after this long (Redis has no real ack): it must
        # outlast the longest device, or a slow device would be handed to a second worker while the first works
        broker_transport_options={"visibility_timeout": hard + 3600},
        result_backend_transport_options={"visibility_timeout": hard + 3600},
        result_expires=7 * 24 * 3600, result_extended=False,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=True, worker_redirect_stdouts=False,
    )
    return app


# ---- shared storage: what does not travel through the broker -------------------------------------------------------

def _exchange(case_root: str | Path) -> Path:
    return Path(case_root) / "celery"


def job_path(case_root: str | Path, device_id: str) -> Path:
    return _exchange(case_root) / f"{device_id}.job.json"


def summary_path(case_root: str | Path, device_id: str) -> Path:
    return _exchange(case_root) / f"{device_id}.summary.json"


def _deliveries_path(case_root: str | Path, device_id: str) -> Path:
    return _exchange(case_root) / f"{device_id}.deliveries"


def _write_private(path: Path, data: dict) -> None:
    """Write JSON atomically (temp name, fsync, rename), readable by its owner only."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(path.name + f".{os.getpid()}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, json.dumps(data, sort_keys=True, default=str).encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(partial, path)


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# ---- the worker side -----------------------------------------------------------------------------------------------

@app.task(name=TASK, bind=True, acks_late=True, reject_on_worker_lost=True)
def device_task(self, case_root: str, device_id: str, limits: dict) -> dict:
    """Process one device into its shard; leave the summary on the shared storage, return only id and status."""
    from cases.batch import run_device_job

    worker = self.request.hostname or socket.gethostname()
    deliveries = _count_delivery(case_root, device_id)
    if deliveries > MAX_DELIVERIES:
        summary = _failed(device_id, f"worker lost {deliveries - 1} times while processing this device "
                                     f"(last on {worker}); not retried again")
    else:
        job = _read_json(job_path(case_root, device_id))
        unreadable = unreadable_paths(job.get("paths") or [])
        if unreadable:
            summary = _failed(device_id, f"evidence not readable on worker {worker}: {', '.join(unreadable)}")
        else:
            try:
                summary = run_device_job(case_root, job, limits)
            except SoftTimeLimitExceeded:
                summary = _failed(device_id, f"time limit exceeded on worker {worker}")
    summary = dict(summary, worker=worker)
    _write_private(summary_path(case_root, device_id), summary)
    return {"device_id": device_id, "status": summary.get("status")}


def _count_delivery(case_root: str, device_id: str) -> int:
    """Count this delivery of the device's task on the shared storage (one line appended per delivery)."""
    path = _deliveries_path(case_root, device_id)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, b"x")
        os.fsync(fd)
    finally:
        os.close(fd)
    return path.stat().st_size


def _failed(device_id: str, error: str) -> dict:
    return {"device_id": device_id, "status": "failed", "error": error}


def unreadable_paths(paths: list[str]) -> list[str]:
    """The paths this machine cannot read (missing, no permission, a folder it cannot list), sorted."""
    bad = []
    for p in paths:
        try:
            if os.path.isdir(p):
                os.listdir(p)
            else:
                with open(p, "rb") as f:
                    f.read(1)
        except OSError:
            bad.append(p)
    return sorted(bad)


def _case_writable(case_root: str) -> bool:
    exchange = _exchange(case_root)
    try:
        exchange.mkdir(mode=0o700, exist_ok=True)
        probe = exchange / f".probe-{socket.gethostname()}-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False


@control_command(args=[("case_root", str), ("paths", list)], signature="<case_root> <paths>")
def forensics_check(state, case_root: str, paths: list) -> dict:
    """Remote control command answered by every worker: which evidence paths it cannot read, and whether it can
    write into the case folder. Runs in the worker's main process, without taking a pool slot."""
    return {"unreadable": unreadable_paths(paths), "case_writable": _case_writable(case_root)}


def worker_argv(name: str | None, concurrency: int, loglevel: str) -> list[str]:
    """The ``celery worker`` arguments of ``forensics worker`` (settings that are not in :func:`configure`)."""
    hostname = name or f"forensics-{os.getpid()}@{socket.gethostname()}"
    return ["worker", "--hostname", hostname, "--concurrency", str(concurrency), "--prefetch-multiplier", "1",
            "--max-tasks-per-child", "1", "--queues", QUEUE, "--pool", "prefork", "--loglevel", loglevel,
            "--without-gossip", "--without-mingle"]


def run_worker(broker: Broker, name: str | None = None, concurrency: int = 1, time_limit: int | None = None,
               loglevel: str = "INFO") -> None:
    configure(broker, time_limit)
    app.worker_main(worker_argv(name, concurrency, loglevel))


# ---- the batch side ------------------------------------------------------------------------------------------------

def check_workers(case_root: str | Path, paths: list[str], broker: Broker, timeout: float = 3.0,
                  wait: float = 0.0) -> list[str]:
    """Ask every worker whether it can read every evidence path and write into the case; returns the names of the
    workers that answered. Raises :class:`EngineError` naming each worker and path that fails.

    ``wait``: keep asking this long for a first worker to answer (workers that are still starting)."""
    deadline = time.monotonic() + wait
    while True:
        replies = app.control.broadcast(CHECK, arguments={"case_root": str(case_root), "paths": sorted(paths)},
                                        reply=True, timeout=timeout)
        if replies or time.monotonic() >= deadline:
            break
    if not replies:
        raise EngineError(f"no worker answered on broker {broker.masked} within {timeout:g} s: start workers "
                          f"with 'forensics worker --broker ...'")
    problems, names = [], []
    for reply in replies:
        for worker, answer in reply.items():
            names.append(worker)
            if isinstance(answer, dict) and "error" in answer:
                problems.append(f"worker {worker} could not run the check: {answer['error']}")
                continue
            problems += [f"worker {worker} cannot read {p}" for p in answer.get("unreadable", [])]
            if not answer.get("case_writable"):
                problems.append(f"worker {worker} cannot write into the case folder {case_root}")
    if problems:
        raise EngineError("evidence or case folder not reachable from every worker (put them on storage all "
                          "workers mount at the same path): " + "; ".join(sorted(problems)))
    return sorted(names)


class CeleryExecutor(Executor):
    """``submit(run_device_job, case_root, job, limits)`` as on a process pool, but run by Celery workers.

    The returned future holds the device's summary (read back from the shared storage) or a :class:`DeviceLost`.
    One thread owns the Celery client (kombu connections are not thread-safe): it sends what was submitted and polls
    the results of what is outstanding."""

    def __init__(self, broker: Broker, poll: float = 0.2, time_limit: int | None = None):
        self.broker = broker
        self.poll = poll
        self.time_limit = time_limit
        self._submitted: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="celery-client", daemon=True)
        self._thread.start()

    def submit(self, fn, case_root, job, limits, /, **_) -> Future:
        if getattr(fn, "__name__", "") != "run_device_job":
            raise TypeError("the Celery engine runs run_device_job only")
        job = job.to_dict() if hasattr(job, "to_dict") else dict(job)
        future: Future = Future()
        self._submitted.put((future, str(case_root), job, dict(limits or {})))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if cancel_futures:
            self._cancel = True
        self._stop.set()
        if wait:
            self._thread.join()

    _cancel = False

    def _loop(self) -> None:
        outstanding: dict[str, tuple[Future, str, str]] = {}
        try:
            while not (self._stop.is_set() and self._submitted.empty() and (not outstanding or self._cancel)):
                self._send_new(outstanding)
                self._collect(outstanding)
                if outstanding or self._submitted.empty():
                    time.sleep(self.poll)
        except BaseException as exc:  # the client died (broker gone): every outstanding device fails with why
            reason = DeviceLost(f"lost the broker {self.broker.masked}: {self.broker.redact(str(exc))}")
            for future, _, _ in outstanding.values():
                if not future.done():
                    future.set_exception(reason)
            while not self._submitted.empty():
                self._submitted.get()[0].set_exception(reason)
            return
        for task_id, (future, _, _) in outstanding.items():  # cancelled: take them off the queue
            app.control.revoke(task_id)
            future.cancel()

    def _send_new(self, outstanding: dict) -> None:
        while True:
            try:
                future, case_root, job, limits = self._submitted.get_nowait()
            except queue.Empty:
                return
            if not future.set_running_or_notify_cancel():
                continue
            device_id = job["device_id"]
            for stale in (summary_path(case_root, device_id), _deliveries_path(case_root, device_id)):
                stale.unlink(missing_ok=True)
            _write_private(job_path(case_root, device_id), job)
            hard = int(limits.get("time_limit") or self.time_limit or DEFAULT_TIME_LIMIT)
            result = app.send_task(TASK, args=[case_root, device_id, limits], queue=QUEUE,
                                   time_limit=hard, soft_time_limit=max(1, hard - SOFT_MARGIN))
            outstanding[result.id] = (future, case_root, device_id)

    def _collect(self, outstanding: dict) -> None:
        for task_id in sorted(outstanding):
            result = app.AsyncResult(task_id)
            state = result.state
            if state not in ("SUCCESS", "FAILURE", "REVOKED"):
                continue
            future, case_root, device_id = outstanding.pop(task_id)
            path = summary_path(case_root, device_id)
            if state == "SUCCESS" and path.exists():
                future.set_result(_read_json(path))
            else:
                future.set_exception(DeviceLost(_lost_reason(result, self.broker)))
            result.forget()


def _lost_reason(result, broker: Broker) -> str:
    """Why a task ended without a summary, in the examiner's words (Celery's exception names otherwise)."""
    exc = result.result
    name = type(exc).__name__ if isinstance(exc, BaseException) else str(result.state)
    if name == "TimeLimitExceeded":
        return f"hard time limit exceeded ({exc}); the worker process was killed"
    if name == "WorkerLostError":
        return "the worker process died while processing this device"
    return broker.redact(f"worker failed: {name}: {exc}")
