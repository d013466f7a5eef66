"""Ingest throughput against the cheapest possible reference, measured in the same run.

Builds (once, cached) a ~1 GiB ext4 image holding ~20,000 files with ``mke2fs -d``, then times
  (a) one pass of sha256 + md5 over the raw image with hashlib (the floor: evidence must be hashed once), and
  (b) ``forensics ingest`` of the same image into a fresh case (hash the image, walk it, hash/type every file).
Prints the ratio b/a and the peak memory of the ingest process; the last line is ``name=value`` pairs. Both also
have their CPU time (user + system) measured: on a machine shared with other work the wall times are noisy, and
``cpu_ratio`` / 2 is what the ratio tends to on two otherwise idle cores when the ingest keeps both busy.

    python benchmarks/ingest.py [--workdir DIR] [--files 20000] [--size-mib 1024]
"""
from __future__ import annotations

import argparse
import hashlib
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def build_image(workdir: Path, n_files: int, size_mib: int) -> Path:
    image = workdir / f"bench-{n_files}-{size_mib}.img"
    if image.exists():
        return image
    rng = random.Random(20261128)
    tree = workdir / "tree"
    shutil.rmtree(tree, ignore_errors=True)
    budget = int(size_mib * (1 << 20) * 0.85)
    large = n_files // 20
    words = [b"invoice", b"passport", b"meet", b"hotel", b"transfer", b"tonight", b"address", b"client"]
    for i in range(n_files):
        folder = tree / f"d{i % 200:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        if i < large:
            size = (budget - 12_000 * (n_files - large)) // large
            data = rng.randbytes(size)
        elif i % 3 == 0:
            size = rng.randint(500, 20_000)
            data = b" ".join(rng.choice(words) for _ in range(size // 7))[:size]
        else:
            size = rng.randint(500, 20_000)
            data = rng.randbytes(size)
        (folder / f"f{i:05d}.bin").write_bytes(data)
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-b", "4096", "-N", str(n_files + 1000), "-d", str(tree),
                    str(image), f"{size_mib}M"], check=True)
    shutil.rmtree(tree)
    return image


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def hash_once(image: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one sha256 + md5 pass."""
    start, cpu = time.perf_counter(), _cpu(resource.RUSAGE_SELF)
    sha, md5 = hashlib.sha256(), hashlib.md5()
    with open(image, "rb") as f:
        while chunk := f.read(8 << 20):
            sha.update(chunk)
            md5.update(chunk)
    return time.perf_counter() - start, _cpu(resource.RUSAGE_SELF) - cpu


def ingest_once(image: Path, workdir: Path) -> tuple[float, float, float, str]:
    case = workdir / "case"
    shutil.rmtree(case, ignore_errors=True)
    forensics = Path(sys.executable).with_name("forensics")
    subprocess.run([str(forensics), "case", "init", str(case)], check=True, capture_output=True)
    start, cpu = time.perf_counter(), _cpu(resource.RUSAGE_CHILDREN)
    out = subprocess.run([str(forensics), "ingest", str(case), str(image), "--device-id", "bench", "--quiet"],
                         check=True, capture_output=True, text=True)
    elapsed, cpu = time.perf_counter() - start, _cpu(resource.RUSAGE_CHILDREN) - cpu
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return elapsed, cpu, peak_mib, out.stdout.splitlines()[0]


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "forensics-bench")
    args.add_argument("--files", type=int, default=20_000)
    args.add_argument("--size-mib", type=int, default=1024)
    opts = args.parse_args()
    opts.workdir.mkdir(parents=True, exist_ok=True)
    image = build_image(opts.workdir, opts.files, opts.size_mib)
    hash_once(image)  # warm the page cache so both measurements read from memory
    reference, reference_cpu = hash_once(image)
    elapsed, cpu, peak_mib, summary = ingest_once(image, opts.workdir)
    print(f"image: {image} ({image.stat().st_size / (1 << 20):.0f} MiB)")
    print(f"ingest: {summary}")
    print(f"hashlib sha256+md5 one pass: {reference:.2f} s ({reference_cpu:.2f} s CPU); "
          f"forensics ingest: {elapsed:.2f} s ({cpu:.2f} s CPU)")
    print(f"ratio={elapsed / reference:.2f} hash_s={reference:.2f} ingest_s={elapsed:.2f} "
          f"peak_rss_mib={peak_mib:.0f} files={opts.files} hash_cpu_s={reference_cpu:.2f} ingest_cpu_s={cpu:.2f} "
          f"cpu_ratio={cpu / reference_cpu:.2f}")


if __name__ == "__main__":
    main()
