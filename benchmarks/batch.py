"""Batch throughput: many small synthetic devices through ``forensics batch``'s local engine, 1 and 2 workers.

Builds (once, cached) N devices with the test fixture builder at a small scale: each a tar extraction of the sample
Android phone's user data (the apps' real schemas, ~50 files, ~20 parser runs) plus a note of its own, and a
manifest. Then runs the whole batch into a fresh case with 1 worker and with 2 workers, in this process (the
batch process) with its worker processes, and prints

- devices/minute for each, and the speed-up of 2 workers over 1 (target >= 1.8 on 2 free cores);
- the fixed cost per device: wall time per device with 1 worker minus the time the worker spent processing the
  device (process start, state records, merge, audit line, log) — target <= 0.5 s;
- the merge time (``merge_finished``: the single writer) as a share of the wall time;
- CPU seconds per device (workers, batch process) and the cores each run obtained: on a machine busy with other
  work the speed-up is bounded by the cores it gets, which this shows.

The last line is ``name=value`` pairs.

    python benchmarks/batch.py [--devices 325] [--workdir DIR]
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cases import batch as batch_mod  # noqa: E402
from cases.case import Case  # noqa: E402
from cases.local_engine import LocalEngine  # noqa: E402
from tests.fixtures import caseload  # noqa: E402


def build(workdir: Path, count: int) -> Path:
    manifest = workdir / f"manifest-{count}.csv"
    if manifest.exists():
        return manifest
    base = caseload._userdata(workdir / "userdata", "")
    devices = workdir / "devices"
    devices.mkdir(parents=True, exist_ok=True)
    rows = ["exhibit,image,notes"]
    for number in range(1, count + 1):
        files = dict(base)
        files["media/0/Documents/exhibit-note.txt"] = f"exhibit {number}: seized at {number} Harbour Rd\n".encode()
        archive = caseload._tar(devices / f"D{number:03d}.tar", files, "data/")
        rows.append(f"D{number:03d},devices/{archive.name},synthetic device {number}")
    manifest.write_text("\n".join(rows) + "\n")
    return manifest


def run(workdir: Path, manifest: Path, workers: int) -> dict:
    case_dir = workdir / f"case-{workers}"
    shutil.rmtree(case_dir, ignore_errors=True)
    case = Case.init(case_dir)
    merge_seconds = 0.0
    worker_seconds = 0.0
    original = batch_mod.merge_finished

    def timed_merge(*args, **kwargs):
        nonlocal merge_seconds, worker_seconds
        worker_seconds += args[2].get("seconds") or 0.0
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            merge_seconds += time.perf_counter() - start

    batch_mod.merge_finished = timed_merge
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        start = time.perf_counter()
        outcome = batch_mod.run_batch(case, manifest, LocalEngine(workers), {"time_limit": 0, "memory_mb": 4096})
        wall = time.perf_counter() - start
    finally:
        batch_mod.merge_finished = original
    own_after, children_after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    if outcome.failed:
        raise SystemExit(f"devices failed: {outcome.failed}")
    cpu = lambda before, after: after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime  # noqa: E731
    return {"wall": wall, "merge": merge_seconds, "worker": worker_seconds, "devices": len(outcome.done),
            "cpu_batch": cpu(own, own_after), "cpu_workers": cpu(children, children_after)}


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--devices", type=int, default=325)
    args.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "forensics-bench-batch")
    opts = args.parse_args()
    opts.workdir.mkdir(parents=True, exist_ok=True)
    manifest = build(opts.workdir, opts.devices)
    one = run(opts.workdir, manifest, 1)
    two = run(opts.workdir, manifest, 2)
    n = opts.devices
    per_minute_1, per_minute_2 = n / one["wall"] * 60, n / two["wall"] * 60
    fixed = (one["wall"] - one["worker"]) / n
    print(f"devices: {n} (tar extractions of the sample phone's user data, ~50 files and ~20 parser runs each)")
    print(f"1 worker: {one['wall']:.1f} s, {per_minute_1:.0f} devices/min; worker time {one['worker'] / n:.3f} s "
          f"per device; merge {one['merge']:.1f} s ({one['merge'] / one['wall']:.1%})")
    print(f"2 workers: {two['wall']:.1f} s, {per_minute_2:.0f} devices/min; merge {two['merge']:.1f} s "
          f"({two['merge'] / two['wall']:.1%})")
    # On a machine busy with other work, the workers get less than the cores they ask for: the cores this run
    # actually obtained (CPU seconds of batch process and workers / wall seconds) says how far that went.
    cores_1 = (one["cpu_workers"] + one["cpu_batch"]) / one["wall"]
    cores_2 = (two["cpu_workers"] + two["cpu_batch"]) / two["wall"]
    print(f"CPU per device: workers {one['cpu_workers'] / n:.3f} s, batch process {one['cpu_batch'] / n:.3f} s; "
          f"cores obtained: {cores_1:.2f} with 1 worker, {cores_2:.2f} with 2; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"speedup={per_minute_2 / per_minute_1:.2f} devices_per_min_1={per_minute_1:.0f} "
          f"devices_per_min_2={per_minute_2:.0f} fixed_cost_s={fixed:.3f} "
          f"merge_share_1={one['merge'] / one['wall']:.3f} merge_share_2={two['merge'] / two['wall']:.3f} "
          f"cores_1={cores_1:.2f} cores_2={cores_2:.2f} load={os.getloadavg()[0]:.1f} devices={n}")


if __name__ == "__main__":
    main()
