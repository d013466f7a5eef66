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
native code takes only its device's process), soft and hard time limits. The examiner's time limit is the soft one
— the same threshold as the local engine's —: the device stops, fails with that reason and its scratch files are
cleared; the hard limit, a grace period later, kills a process the soft one could not stop. A device whose worker died
``MAX_DELIVERIES`` times is failed with that reason instead of being redelivered forever.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import time
from pathlib import Path

from celery import Celery
from celery.exceptions import SoftTimeLimitExceeded
from celery.worker.control import control_command

from cases.broker import Broker, ssl_options
from cases.case import CaseError

TASK = "forensics.device"
CHECK = "forensics_check"
QUEUE = "forensics"
MAX_DELIVERIES = 2                     # one more try after a lost worker (a machine rebooted); then the device fails
DEFAULT_TIME_LIMIT = 6 * 3600          # seconds; a device of a few hundred GB takes hours


def time_limits(limit: int | float) -> dict:
    """Celery's limits for an examiner's time limit of ``limit`` seconds: the soft limit is the examiner's (the task
    stops and reports), the hard one (the process is killed) comes a grace period later: a tenth, 5 to 60 s."""
    return {"soft_time_limit": limit, "time_limit": limit + min(60, max(5, limit // 10))}

app = Celery("forensics", set_as_current=False)


class EngineError(CaseError):
    """The Celery engine cannot run the batch (no worker, a worker that cannot read the evidence, the broker went
    away): one line for the examiner."""


class DeviceLost(Exception):
    """A device's task ended without a summary (worker lost, hard time limit): the device fails with this reason."""


def configure(broker: Broker, time_limit: int | None = None) -> Celery:
    """Point the app at ``broker`` with the engine's settings (the same in the batch process and every worker)."""
    limits = time_limits(int(time_limit or DEFAULT_TIME_LIMIT))
    tls = ssl_options(broker)
    app.conf.update(
        broker_url=broker.url, result_backend=broker.url,
        broker_use_ssl=tls or None, redis_backend_use_ssl=tls or None,
        task_serializer="json", result_serializer="json", accept_content=["json"], result_accept_content=["json"],
        task_default_queue=QUEUE, task_track_started=True,
        task_acks_late=True, task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1, worker_concurrency=1, worker_max_tasks_per_child=1,
        task_time_limit=limits["time_limit"], task_soft_time_limit=limits["soft_time_limit"],
        # an unacknowledged device goes back to the queue only after this long (Redis has no real ack): it must
        # outlast the longest device, or a slow device would be handed to a second worker while the first works
        broker_transport_options={"visibility_timeout": max(limits["time_limit"], DEFAULT_TIME_LIMIT) + 3600},
        result_expires=7 * 24 * 3600, result_extended=False,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=True, worker_redirect_stdouts=False,
    )
    return app


# ---- shared storage: what does not travel through the broker -------------------------------------------------------

def _exchange(case_root: str | Path) -> Path:
    return Path(case_root) / "celery"


def _name(job: dict) -> str:
    return f"{job['device_id']}.{job['run_id']}"


def job_path(case_root: str | Path, job: dict) -> Path:
    return _exchange(case_root) / f"{_name(job)}.job.json"


def summary_path(case_root: str | Path, job: dict) -> Path:
    return _exchange(case_root) / f"{_name(job)}.summary.json"


def _deliveries_path(case_root: str | Path, job: dict) -> Path:
    return _exchange(case_root) / f"{_name(job)}.deliveries"


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
def device_task(self, case_root: str, device_id: str, run_id: str, limits: dict) -> dict:
    """Process one device into its shard; leave the summary on the shared storage, return only id and status."""
    from cases.worker import failure_result, run_device_job

    worker = self.request.hostname or socket.gethostname()
    job = _read_json(job_path(case_root, {"device_id": device_id, "run_id": run_id}))
    deliveries = _count_delivery(case_root, job)
    unreadable = unreadable_paths(job.get("paths") or [])
    if deliveries > MAX_DELIVERIES:
        summary = failure_result(job, f"worker lost {deliveries - 1} times while processing this device (last on "
                                      f"{worker}); not retried again", engine="celery")
    elif unreadable:
        summary = failure_result(job, f"evidence not readable on worker {worker}: {', '.join(unreadable)}",
                                 engine="celery")
    else:
        soft = (self.request.timelimit or (None, None))[1] or app.conf.task_soft_time_limit
        started = time.monotonic()
        root = logging.getLogger()
        celery_handlers, root.handlers = root.handlers, []  # the device's log goes to its file in the case only,
        try:                                                # as with the local engine (--debug: stderr as well)
            summary = run_device_job(case_root, job, dict(limits, in_worker=True, engine="celery"))
        except SoftTimeLimitExceeded:
            summary = None
        finally:
            root.handlers = celery_handlers
        seconds = time.monotonic() - started
        if summary is None or (soft and seconds >= soft):
            # the soft limit fired, wherever it was caught (a parser run records it as its own error): the device
            # fails as the local engine's would, and an incomplete shard is not offered for merging
            if summary and summary.get("shard"):
                (Path(case_root) / summary["shard"]).unlink(missing_ok=True)
            summary = failure_result(job, f"time limit of {soft:g} s exceeded: stopped on worker {worker}",
                                     round(seconds, 3), engine="celery", pid=os.getpid())
    _write_private(summary_path(case_root, job), summary)
    return {"device_id": device_id, "status": summary.get("status")}


def _count_delivery(case_root: str, job: dict) -> int:
    """Count this delivery of the device's task on the shared storage (one byte appended per delivery)."""
    path = _deliveries_path(case_root, job)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, b"x")
        os.fsync(fd)
    finally:
        os.close(fd)
    return path.stat().st_size


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

def check_workers(case_root: str | Path, paths: list[str], broker: Broker, timeout: float = 2.0,
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


class CeleryEngine:
    """The engine ``cases.batch.run_batch`` drives (see its docstring): ``run`` queues one task per job and yields
    ``("started", job, {"host", "pid"})`` when a worker begins a device and ``("finished", job, summary)`` when it
    ended — the summary that ``run_device_job`` left on the shared storage, or a failure summary (worker lost, hard
    time limit). Everything Celery is done from the calling thread."""

    name = "celery"

    def __init__(self, broker: Broker, workers: list[str] = (), poll: float = 0.2):
        self.broker = broker
        self.names = list(workers)
        self.workers = len(self.names)  # those that answered the check; more may join while the batch runs
        self.poll = poll

    def run(self, case_root: str, jobs: list[dict], limits: dict):
        from cases.worker import failure_result

        case_root = os.path.abspath(case_root)  # what the workers see on the shared storage
        _clear_exchange(case_root, {job["device_id"] for job in jobs})
        outstanding: dict[str, dict] = {}  # task id -> job
        started: set[str] = set()
        broker_lost = False
        try:
            try:
                for job in jobs:
                    outstanding[self._send(case_root, job, limits)] = job
                while outstanding:
                    metas = _task_states(sorted(outstanding, key=lambda t: outstanding[t]["device_id"]))
                    for task_id, meta in metas:
                        state, job = meta.get("status"), outstanding[task_id]
                        if state == "STARTED" and task_id not in started:
                            started.add(task_id)
                            info = meta.get("result") if isinstance(meta.get("result"), dict) else {}
                            yield "started", job, {"host": info.get("hostname"), "pid": info.get("pid")}
                        if state not in ("SUCCESS", "FAILURE", "REVOKED"):
                            continue
                        del outstanding[task_id]
                        if task_id not in started:
                            started.add(task_id)
                            yield "started", job, {"host": None, "pid": None}
                        yield "finished", job, self._finished(case_root, job, task_id, meta, failure_result)
                    if outstanding:
                        time.sleep(self.poll)
            except (OSError, ConnectionError) as exc:
                broker_lost = True
                raise EngineError(f"lost the broker {self.broker.masked}: {self.broker.redact(str(exc)).rstrip('.')}"
                                  f"; rerun the batch to go on") from None
            except Exception as exc:
                if type(exc).__module__.split(".")[0] not in ("redis", "kombu", "celery"):
                    raise
                broker_lost = True
                raise EngineError(f"lost the broker {self.broker.masked}: {type(exc).__name__}: "
                                  f"{self.broker.redact(str(exc)).rstrip('.')}; rerun the batch to go on") from None
        finally:  # the batch stops early (Ctrl-C, an error): take what was not started off the queue — unless the
            # broker is gone (kombu would retry for ever); the rerun queues them afresh under new run ids
            if outstanding and not broker_lost:
                app.control.revoke(sorted(outstanding))

    def _finished(self, case_root: str, job: dict, task_id: str, meta: dict, failure_result) -> dict:
        summary = summary_path(case_root, job)
        if meta.get("status") == "SUCCESS" and summary.exists():
            finished = _read_json(summary)
        else:
            finished = failure_result(job, _lost_reason(meta, self.broker), engine=self.name)
        app.backend.forget(task_id)
        for done in (summary, job_path(case_root, job), _deliveries_path(case_root, job)):
            done.unlink(missing_ok=True)
        return finished

    def _send(self, case_root: str, job: dict, limits: dict) -> str:
        for stale in (summary_path(case_root, job), _deliveries_path(case_root, job)):
            stale.unlink(missing_ok=True)
        _write_private(job_path(case_root, job), job)
        limit = limits.get("time_limit")  # else the worker's own (--time-limit)
        timing = time_limits(int(limit)) if limit else {}
        message = {k: v for k, v in limits.items() if k in ("time_limit", "memory_mb", "debug", "engine")}
        result = app.send_task(TASK, args=[case_root, job["device_id"], job["run_id"], message], queue=QUEUE,
                               **timing)
        return result.id


def _task_states(task_ids: list[str]) -> list[tuple[str, dict]]:
    """The stored state of each task, in one round trip (MGET) rather than one per task: a batch of hundreds of
    devices is polled several times a second. Tasks with nothing stored yet are left out."""
    backend = app.backend
    values = backend.mget([backend.get_key_for_task(t) for t in task_ids])
    return [(t, backend.decode_result(v)) for t, v in zip(task_ids, values) if v is not None]


def _clear_exchange(case_root: str, device_ids: set[str]) -> None:
    """Remove what earlier, killed batches left in the exchange folder for these devices (``DEVICE.RUNID.*``)."""
    exchange = _exchange(case_root)
    if not exchange.is_dir():
        return
    for path in exchange.iterdir():
        stem = path.name
        for suffix in (".job.json", ".summary.json", ".deliveries"):
            if stem.endswith(suffix):
                device_id = stem[:-len(suffix)].rpartition(".")[0]
                if device_id in device_ids:
                    path.unlink(missing_ok=True)


def _lost_reason(meta: dict, broker: Broker) -> str:
    """Why a task ended without a summary, in the examiner's words (Celery's exception names otherwise)."""
    exc = meta.get("result")
    name = type(exc).__name__ if isinstance(exc, BaseException) else str(meta.get("status"))
    if name == "TimeLimitExceeded":
        return f"hard time limit exceeded ({exc}): the worker process was killed"
    if name == "WorkerLostError":
        return "the worker process died while processing this device"
    return broker.redact(f"worker failed: {name}: {exc}")
