"""HTML report speed and memory against the timeline export of the same case, in the same run.

Uses the cached case of ``benchmarks/timeline.py`` (``--events`` WhatsApp messages over 25 devices, nearly every one
in a conversation of its own: the worst case for chat pages). Times, each in its own process:
  (a) the reference: ``forensics timeline CASE --format jsonl -o FILE`` (the same events, one JSON object each), and
  (b) ``forensics report CASE -o DIR`` (chat pages for every message, the timeline's data files, the other pages).
Outputs of earlier runs are deleted before the clock starts. Reported: the ratio b/a, (b)'s peak memory, the number
of files written and the largest one (the report never inlines the timeline). The last line is ``name=value`` pairs.

    python benchmarks/report.py [--workdir DIR] [--events 100000]
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.timeline import cached_case, timed  # noqa: E402  (one builder for both benchmarks)


def main() -> None:
    args, case = cached_case(__doc__, 100_000)
    reference, report = args.workdir / "timeline.jsonl", args.workdir / "report"
    reference.unlink(missing_ok=True)
    shutil.rmtree(report, ignore_errors=True)
    run = [sys.executable, "-c", "import cli; cli.run()"]
    ref_s, ref_mb = timed(run + ["timeline", str(case), "--format", "jsonl", "-o", str(reference)])
    ours_s, ours_mb = timed(run + ["report", str(case), "-o", str(report)])
    files = [p for p in report.rglob("*") if p.is_file()]
    largest = max(p.stat().st_size for p in files)
    ratio = ours_s / ref_s
    print(f"reference timeline jsonl: {ref_s:.2f} s; report: {ours_s:.2f} s for {args.events} events "
          f"({len(files)} files, largest {largest / 1024:.0f} KiB); peak RSS {ours_mb:.0f} MiB")
    print(f"events={args.events} reference_s={ref_s:.2f} report_s={ours_s:.2f} ratio={ratio:.2f} "
          f"peak_rss_mib={ours_mb:.0f} files={len(files)} largest_kib={largest / 1024:.0f}")


if __name__ == "__main__":
    main()
