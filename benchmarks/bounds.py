"""Memory and scratch disk of one ingest against the size of the evidence, with a one-photo ingest as reference.

Builds a folder extraction holding a sparse file of ``--big-gb`` GB named like a photo (default 10 GB: over the
default 8 GiB working-copy limit, so it is hashed as a stream and listed as a ``too-large-to-parse`` problem) and
``--photos`` real JPEGs of ``--photo-mb`` MiB each (EXIF parsed, working copies deleted as they go), then runs
``forensics ingest`` in a fresh process for it and for a one-photo extraction. Prints the peak RSS of both (the
ingest process's own high-water mark, ``VmHWM``), the peak size of the case's work folder (polled every 5 ms)
against the photos' total and the working-copy limit, and the time; the last line is ``name=value`` pairs:
``rss_ratio`` (peak RSS against the one-photo ingest; target <= 2) and ``scratch_ratio`` (peak scratch against the
photos' total; target well below 1: photos never sit in the work folder at once).

    python benchmarks/bounds.py [--workdir DIR] [--big-gb 10] [--photos 1000] [--photo-mb 1] [--limit BYTES]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

_INGEST = """
import sys
from click.testing import CliRunner
from cli import main
case, evidence = sys.argv[1], sys.argv[2]
runner = CliRunner()
assert runner.invoke(main, ["case", "init", case]).exit_code == 0
result = runner.invoke(main, ["ingest", case, evidence, "--device-id", "d", "--quiet"])
print(result.exit_code, (result.output.splitlines() or [""])[0])
print(int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]))  # peak RSS, KiB
"""


def build(root: Path, big_gb: float, photos: int, photo_mb: float) -> tuple[int, int]:
    from tests.fixtures.images import jpeg_with_exif

    camera = root / "sdcard" / "DCIM" / "Camera"
    camera.mkdir(parents=True)
    photo = jpeg_with_exif("Google", "Pixel 7", "2023:06:01 21:15:30", 51.5, -0.12)
    size = max(int(photo_mb * (1 << 20)), len(photo))
    for i in range(photos):
        (camera / f"IMG_{i:06d}.jpg").write_bytes(photo + i.to_bytes(4, "big") * ((size - len(photo)) // 4))
    big = int(big_gb * 1e9)
    with open(camera / "PANO_BIG.jpg", "wb") as f:
        f.write(photo)
        f.truncate(big)
    return big, photos * size


def folder_size(root: Path) -> int:
    total = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total


def ingest(workdir: Path, evidence: Path, name: str) -> tuple[int, int, float, str]:
    """Peak RSS (KiB), peak work-folder bytes, seconds and the summary line of one ingest in a fresh process."""
    case = workdir / f"case-{name}"
    peak = [0]
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            if (case / "work").exists():
                peak[0] = max(peak[0], folder_size(case / "work"))
            time.sleep(0.005)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        out = subprocess.run([sys.executable, "-c", _INGEST, str(case), str(evidence)], cwd=REPO,
                             capture_output=True, text=True)
    finally:
        stop.set()
        thread.join()
    seconds = time.monotonic() - started
    if out.returncode != 0:
        sys.exit(f"ingest failed: {out.stderr[-2000:]}")
    summary, rss = out.stdout.strip().splitlines()[-2:]
    return int(rss), peak[0], seconds, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--big-gb", type=float, default=10.0)
    parser.add_argument("--photos", type=int, default=1000)
    parser.add_argument("--photo-mb", type=float, default=1.0)
    parser.add_argument("--limit", type=int, help="FORENSICS_SPOOL_MAX_BYTES for the run")
    args = parser.parse_args()
    if args.limit is not None:
        os.environ["FORENSICS_SPOOL_MAX_BYTES"] = str(args.limit)
    from forensics.inventory import spool_limit

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        workdir = Path(tmp)
        big, photos_total = build(workdir / "phone", args.big_gb, args.photos, args.photo_mb)
        build(workdir / "one", 0, 1, args.photo_mb)
        ref_rss, _ref_scratch, ref_s, ref_summary = ingest(workdir, workdir / "one", "one")
        rss, scratch, seconds, summary = ingest(workdir, workdir / "phone", "phone")
    print(f"load: {os.getloadavg()[0]:.2f}")
    print(f"reference (one photo): peak RSS {ref_rss / 1024:.1f} MiB, {ref_s:.1f} s ({ref_summary})")
    print(f"evidence: one sparse file of {big / 1e9:.1f} GB and {args.photos} photos, {photos_total / 2**20:.0f} "
          f"MiB in all; working-copy limit {spool_limit()} bytes")
    print(f"ingest: peak RSS {rss / 1024:.1f} MiB, peak scratch {scratch / 2**20:.1f} MiB, {seconds:.1f} s "
          f"({summary})")
    print(f"rss_ratio={rss / ref_rss:.2f} scratch_ratio={scratch / max(photos_total, 1):.4f} "
          f"peak_rss_mib={rss / 1024:.0f} peak_scratch_mib={scratch / 2**20:.1f} big_file_gb={big / 1e9:.1f}")


if __name__ == "__main__":
    main()
