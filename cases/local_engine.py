"""The embedded engine: each device in a process of its own on this machine, at most ``workers`` at a time.

Equivalent to ``ProcessPoolExecutor(max_tasks_per_child=1)`` but without its one weakness here: a worker killed by
a signal breaks the whole executor (``BrokenProcessPool`` fails every pending future), whereas this engine records
that one device as failed ("worker killed by SIGSEGV") and carries on. Processes are forked (cheap: the parsers
are already imported), get RLIMIT_AS for the memory limit, are killed when they pass the time limit, and die with
the batch process (PR_SET_PDEATHSIG), so a ``kill -9`` of the batch leaves no worker writing behind it.
"""
from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import time
from multiprocessing.connection import wait
from typing import Iterator

from cases import states
from cases.case import CaseLock
from cases.worker import failure_result, run_device_job

PR_SET_PDEATHSIG = 1


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


class LocalEngine:
    name = "local"

    def __init__(self, workers: int | None = None):
        self.workers = max(1, workers or default_workers())

    def run(self, case_root: str, jobs: list[dict], limits: dict) -> Iterator[tuple[str, dict, dict]]:
        from artifacts.sightings import registry
        from parsers.framework import load_parsers

        load_parsers()  # imported once here, inherited by every forked worker
        registry()  # the platform registry too: each worker's sightings step would load it again (~0.1 s)
        context = multiprocessing.get_context("fork")
        queue = list(jobs)
        running: dict[int, list] = {}  # sentinel -> [process, connection, job, started, result]
        time_limit = limits.get("time_limit") or 0
        try:
            while queue or running:
                while queue and len(running) < self.workers:
                    job = queue.pop(0)
                    receive, send = context.Pipe(duplex=False)
                    process = context.Process(target=_worker, args=(send, case_root, job, dict(limits), os.getpid()),
                                              name=f"forensics-{job['device_id']}")
                    process.start()
                    send.close()
                    running[process.sentinel] = [process, receive, job, time.monotonic(), None]
                    yield "started", job, {"pid": process.pid, "host": states.host()}
                waitables = list(running) + [slot[1] for slot in running.values() if slot[4] is None]
                ready = set(wait(waitables, timeout=0.5))
                for sentinel, slot in list(running.items()):
                    process, receive, job, started, result = slot
                    if result is None and receive in ready:
                        try:
                            slot[4] = result = receive.recv()
                        except (EOFError, OSError):
                            slot[4] = result = False  # the worker died before it could answer
                    elapsed = time.monotonic() - started
                    if sentinel not in ready and time_limit and elapsed > time_limit and not result:
                        process.kill()
                        process.join()
                        receive.close()
                        del running[sentinel]
                        yield "finished", job, failure_result(
                            job, f"time limit of {time_limit} s exceeded: worker stopped", round(elapsed, 3),
                            pid=process.pid)
                        continue
                    if sentinel not in ready:
                        continue
                    process.join()
                    if not result and receive.poll():  # answered and exited between the two checks
                        try:
                            result = receive.recv()
                        except (EOFError, OSError):
                            result = None
                    receive.close()
                    del running[sentinel]
                    if not result:
                        result = failure_result(job, _death(process.exitcode, limits), round(elapsed, 3),
                                                pid=process.pid)
                    yield "finished", job, result
        finally:  # the batch is stopping (Ctrl-C, an error): no worker outlives it
            for process, receive, *_ in running.values():
                process.kill()
                process.join()
                receive.close()


def _death(exitcode: int | None, limits: dict) -> str:
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name if -exitcode in signal.valid_signals() else str(-exitcode)
        text = f"worker killed by {name}"
        if limits.get("memory_mb") and name in ("SIGSEGV", "SIGABRT", "SIGBUS", "SIGKILL"):
            text += f" (memory limit {limits['memory_mb']} MB may have been reached)"
        return text + "; see the device log"
    return f"worker exited with code {exitcode} without a result; see the device log"


def _worker(send, case_root: str, job: dict, limits: dict, parent: int) -> None:
    """Body of one worker process."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the batch died before the line above took effect
        os._exit(1)
    CaseLock.release_inherited()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the batch process, which stops the workers
    result = run_device_job(case_root, job, dict(limits, in_worker=True))
    send.send(result)
    send.close()
