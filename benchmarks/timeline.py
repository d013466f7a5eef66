"""Timeline export speed and memory: 1,000,000 events as Timesketch CSV, against ``sqlite3 -csv`` in the same run.

Builds (once, cached) a case store holding ``--events`` messages, each with one time (so one event each), written
through the store's own record writer. Then times, each in its own process (from its start to its exit, so both pay
for starting up) that reports its own peak memory:
  (a) the reference: the ``sqlite3`` command-line shell dumping the same message rows (``SELECT * FROM messages``)
      as CSV to a file, and
  (b) ``forensics timeline CASE --format csv -o FILE`` (ordering, summaries, provenance, spreadsheet safety; built
      in parallel time spans, one per processor the load average leaves free, up to 4).
Outputs of earlier runs are deleted before the clock starts. Targets: ratio b/a <= 3, peak memory <= 200 MB. The
last line is ``name=value`` pairs.

    python benchmarks/timeline.py [--workdir DIR] [--events 1000000]
"""
from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def build(workdir: Path, n_events: int) -> Path:
    """A case folder whose store holds ``n_events`` messages with a sent time each (cached between runs)."""
    from artifacts.records import Message, Provenance
    from artifacts.store import Store
    from artifacts.timestamps import unix_ms
    from cases.case import Case

    root = workdir / f"timeline-case-{n_events}"
    if (root / "complete").exists():
        return root
    if root.exists():
        import shutil

        shutil.rmtree(root)
    case = Case.init(root)
    store = case.store()
    rng = random.Random(7)
    words = ["rooms", "paid", "send", "photo", "when", "inside", "job", "visa", "ticket", "Warsaw", "tomorrow"]
    try:
        with store.transaction(), store.record_writer() as writer:
            for i in range(n_events):
                device = f"phone-{i % 25:03d}"
                peer = f"+48601{rng.randrange(10**6):06d}"
                writer.add(Message(
                    app="com.whatsapp", platform="WhatsApp", thread_id=f"{peer[1:]}@s.whatsapp.net",
                    sender=peer if i % 2 else None, recipients=[] if i % 2 else [peer],
                    direction="incoming" if i % 2 else "outgoing", message_type="text",
                    body=" ".join(rng.choice(words) for _ in range(rng.randrange(3, 20))),
                    ts=unix_ms(1_700_000_000_000 + rng.randrange(10**10)),
                    prov=Provenance(device_id=device, evidence_id=f"{device}:e1", partition="p3",
                                    source_path="/data/data/com.whatsapp/databases/msgstore.db",
                                    source_inode="4242", source_table="message", source_row=str(i + 1),
                                    parser="whatsapp-android-messages", parser_version="1")))
    finally:
        store.close()
    (root / "complete").touch()
    return root


def timed(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process, measured by /usr/bin/time's parent: getrusage."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024


def cached_case(doc: str, default_events: int) -> tuple[argparse.Namespace, Path]:
    """Command-line options ``--workdir`` and ``--events`` of a benchmark, and its cached case (``build``)."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "forensics-bench")
    parser.add_argument("--events", type=int, default=default_events)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    return args, build(args.workdir, args.events)


def main() -> None:
    args, case = cached_case(__doc__, 1_000_000)
    ours, ref = args.workdir / "timeline.csv", args.workdir / "reference.csv"
    for stale in (ours, ref):
        stale.unlink(missing_ok=True)
    # each measured in a fresh child; ru_maxrss of RUSAGE_CHILDREN is the largest child so far, so the smaller
    # (reference) runs first
    ref_s, _ = timed(["sqlite3", "-csv", "-header", str(case / "case.sqlite"),
                      f".output {ref}", "SELECT * FROM messages"])
    ours_s, ours_mb = timed([sys.executable, "-c", "import cli; cli.run()", "timeline", str(case),
                             "--format", "csv", "-o", str(ours)])
    lines = sum(1 for _ in open(ours, "rb")) - 1
    ratio = ours_s / ref_s
    print(f"reference sqlite3 -csv: {ref_s:.2f} s; forensics timeline csv: {ours_s:.2f} s for {lines} events "
          f"({lines / ours_s:,.0f} events/s); peak RSS {ours_mb:.0f} MiB")
    print(f"targets: ratio <= 3 ({'met' if ratio <= 3 else 'NOT met'}), peak <= 200 MB "
          f"({'met' if ours_mb <= 200 else 'NOT met'})")
    import os

    # the export builds large timelines in parallel spans, one per processor left free: say how many the machine
    # has and how busy it was (a loaded machine slows both runs, and leaves ours fewer processors)
    print(f"events={lines} reference_s={ref_s:.2f} timeline_s={ours_s:.2f} ratio={ratio:.2f} "
          f"peak_rss_mib={ours_mb:.0f} cpus={os.cpu_count()} load1={os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
