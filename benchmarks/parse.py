"""Parser throughput on a large WhatsApp database, against a plain SQLite copy of the same rows in the same run.

Builds (once, cached) a current-schema ``msgstore.db`` with 1,000,000 messages (+ its ``wa.db``), then times
  (a) the reference: a fresh database filled with ``INSERT INTO ... SELECT`` of the ``message`` rows, and
  (b) the WhatsApp parser run through the real framework (fingerprint, provenance, outcome) into a fresh store,
each in its own process (timed from its start to its exit, so both pay for starting Python) that reports its own
peak memory and CPU time (user + system: less sensitive than wall time to other load on the machine). Outputs of earlier runs are deleted before the clock starts. Prints messages/s and the ratio b/a; the
last line is ``name=value`` pairs, with ``bulk_threads``: the threads the message insert may use
(``artifacts.split_insert``: 1 unless ``--threads`` or ``FORENSICS_BULK_THREADS`` says otherwise).

    python benchmarks/parse.py [--workdir DIR] [--messages 1000000] [--threads N]
"""
from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from artifacts.split_insert import ENV_THREADS  # noqa: E402
from artifacts.sql_quoting import sqlite_uri  # noqa: E402

MSGSTORE = "/data/data/com.whatsapp/databases/msgstore.db"
WA_DB = "/data/data/com.whatsapp/databases/wa.db"


def build(workdir: Path, n_messages: int) -> Path:
    from tests.fixtures.whatsapp_android import generate_msgstore, generate_wa_db

    folder = workdir / f"whatsapp-{n_messages}"
    msgstore = folder / "msgstore.db"
    if not msgstore.exists():
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / "msgstore.db.partial"
        generate_msgstore(partial, n_messages)
        generate_wa_db(folder / "wa.db")
        partial.replace(msgstore)
    return folder


def reference_copy(folder: Path, out: Path) -> int:
    """Plain SQLite: the message rows copied into a fresh database with INSERT INTO ... SELECT; returns the count."""
    db = sqlite3.connect(out)
    db.execute("ATTACH DATABASE ? AS src", (sqlite_uri(folder / 'msgstore.db'),))
    sql = db.execute("SELECT sql FROM src.sqlite_master WHERE name = 'message'").fetchone()[0]
    db.execute(sql)
    copied = db.execute("INSERT INTO main.message SELECT * FROM src.message").rowcount
    db.commit()
    db.close()
    return copied


def parse(folder: Path, out: Path) -> int:
    """The WhatsApp parsers through the framework into a fresh store; returns the number of messages stored."""
    from artifacts.records import Provenance
    from artifacts.store import Store
    from forensics.inventory import SpooledFile
    from parsers.framework import load_parsers, run_parsers

    spooled = [SpooledFile(folder / "msgstore.db", "p1", MSGSTORE, None, 0, True, "bench:e1"),
               SpooledFile(folder / "wa.db", "p1", WA_DB, None, 0, True, "bench:e1")]
    specs = [s for s in load_parsers() if s.app == "com.whatsapp"]
    store = Store(out, scratch=True)  # as the ingest writes a device shard
    try:
        with tempfile.TemporaryDirectory(dir=out.parent) as work:
            outcomes = run_parsers(specs, spooled, Provenance(device_id="bench", evidence_id="bench:e1"), store,
                                   Path(work))
        failed = [f"{o.spec.name}: {o.message}" for o in outcomes if o.outcome == "error"]
        if failed:  # a benchmark of a parser that failed would time nothing
            raise SystemExit("error: " + "; ".join(failed))
        return store.count("messages")
    finally:
        store.close()


def _child(step: str, folder: Path, out: Path) -> tuple[float, float, int, float, int]:
    """Run one step in a fresh process; returns (seconds, its peak RSS in MiB, the rows it stored, its CPU
    seconds, the threads a bulk insert could use)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(out) + suffix).unlink(missing_ok=True)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--child", step, str(folder), str(out)], check=True,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    rows, peak_kib, cpu, threads = done.stdout.split()
    return elapsed, int(peak_kib) / 1024, int(rows), float(cpu), int(threads)


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "forensics-bench")
    args.add_argument("--messages", type=int, default=1_000_000)
    args.add_argument("--threads", type=int,
                      help="threads for the message insert (default 1; FORENSICS_BULK_THREADS=auto: one per idle core)")
    args.add_argument("--child", nargs=3, metavar=("STEP", "FOLDER", "OUT"), help=argparse.SUPPRESS)
    opts = args.parse_args()
    if opts.child:
        from artifacts.split_insert import threads_wanted

        step, folder, out = opts.child
        threads = threads_wanted()
        rows = (reference_copy if step == "reference" else parse)(Path(folder), Path(out))
        usage = resource.getrusage(resource.RUSAGE_SELF)  # the process's threads included
        print(rows, usage.ru_maxrss, f"{usage.ru_utime + usage.ru_stime:.3f}", threads)  # ru_maxrss in KiB
        return
    if opts.threads:
        os.environ[ENV_THREADS] = str(opts.threads)
    opts.workdir.mkdir(parents=True, exist_ok=True)
    folder = build(opts.workdir, opts.messages)
    ref_s, ref_peak, copied, ref_cpu, _ = _child("reference", folder, opts.workdir / "reference.sqlite")
    parse_s, parse_peak, stored, parse_cpu, threads = _child("parse", folder, opts.workdir / "parsed.sqlite")
    print(f"msgstore.db: {opts.messages} messages; reference copied {copied} rows; stored {stored} message records")
    print(f"reference INSERT INTO ... SELECT: {ref_s:.2f} s, CPU {ref_cpu:.2f} s (peak RSS {ref_peak:.0f} MiB); "
          f"parse: {parse_s:.2f} s, CPU {parse_cpu:.2f} s ({stored / parse_s:,.0f} messages/s); "
          f"peak RSS of the parse process: {parse_peak:.0f} MiB")
    print(f"ratio={parse_s / ref_s:.2f} messages_per_s={stored / parse_s:.0f} reference_s={ref_s:.2f} "
          f"parse_s={parse_s:.2f} peak_rss_mib={parse_peak:.0f} messages={stored} reference_cpu_s={ref_cpu:.2f} "
          f"parse_cpu_s={parse_cpu:.2f} bulk_threads={threads}")


if __name__ == "__main__":
    main()
