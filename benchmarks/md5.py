"""md5 of the inventory's batches: hashlib file by file against the multi-buffer extension (forensics._md5mb).

Files of realistic sizes are cut into batches the way the inventory cuts them (``BATCH_FILES`` files, or fewer once
their bytes reach ``BATCH_BYTES``), then each batch is hashed by
  - hashlib.md5, file by file (what the inventory did before),
  - ``_md5mb.md5_many`` on 1 lane (its own one-block-at-a-time code), 8 lanes (AVX2), 16 lanes (AVX-512), as far as
    this CPU runs them,
  - ``hashing.hash_many`` (sha256 + md5, what the inventory does now) against hashlib sha256 + md5 file by file.
Throughput is in MB/s of CPU time (user + system of this process), so other work on the machine distorts it little.
The last line is ``name=value`` pairs.

    python benchmarks/md5.py [--mix photos|small|both] [--mib 256] [--repeat 3]
"""
from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from forensics import hashing  # noqa: E402
from forensics.inventory import BATCH_BYTES, BATCH_FILES  # noqa: E402

try:
    from forensics import _md5mb
except ImportError:
    _md5mb = None


def sizes(mix: str, total: int, rng: random.Random) -> list[int]:
    """Photos: around 200 KB (a phone's JPEGs, as in the vs-ALEAPP extraction); small: 500 B to 20 KB (app files,
    as in benchmarks/ingest.py); both: one of each in turn."""
    out: list[int] = []
    while sum(out) < total:
        kind = mix if mix != "both" else ("photos", "small")[len(out) % 2]
        out.append(int(rng.lognormvariate(12.2, 0.5)) if kind == "photos" else rng.randint(500, 20_000))
    return out


def batches(files: list[list[bytes]]) -> list[list[list[bytes]]]:
    out, batch, held = [], [], 0
    for chunks in files:
        batch.append(chunks)
        held += sum(map(len, chunks))
        if len(batch) >= BATCH_FILES or held >= BATCH_BYTES:
            out.append(batch)
            batch, held = [], 0
    return out + ([batch] if batch else [])


def cpu_rate(work, nbytes: int, repeat: int) -> float:
    """MB/s of CPU time, best of ``repeat``."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return nbytes / best / 1e6


def hashlib_md5(groups):
    for batch in groups:
        for chunks in batch:
            md5 = hashlib.md5()
            for chunk in chunks:
                md5.update(chunk)
            md5.digest()


def hashlib_both(groups):
    for batch in groups:
        for chunks in batch:
            sha256, md5 = hashlib.sha256(), hashlib.md5()
            for chunk in chunks:
                sha256.update(chunk)
                md5.update(chunk)
            sha256.hexdigest(), md5.hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mix", choices=("photos", "small", "both"), default="photos")
    ap.add_argument("--mib", type=int, default=256, help="bytes hashed per run")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = random.Random(20261208)
    pool = rng.randbytes(32 << 20)
    files = []
    for size in sizes(args.mix, args.mib << 20, rng):
        offset = rng.randrange(len(pool) - size)
        data = pool[offset:offset + size]
        files.append([data[i:i + hashing.CHUNK] for i in range(0, len(data), hashing.CHUNK)] or [b""])
    groups = batches(files)
    nbytes = sum(len(c) for chunks in files for c in chunks)
    print(f"{len(files)} files ({args.mix}), {nbytes / 1e6:.0f} MB in {len(groups)} batches "
          f"(at most {BATCH_FILES} files or {BATCH_BYTES >> 20} MiB each); MB/s of CPU time, best of {args.repeat}")
    results = {"hashlib_md5": cpu_rate(lambda: hashlib_md5(groups), nbytes, args.repeat)}
    widths = [lanes for lanes in (1, 8, 16) if _md5mb is not None and (lanes == 1 or lanes <= _md5mb.LANES)]
    for lanes in widths:
        results[f"md5mb_{lanes}"] = cpu_rate(lambda: [_md5mb.md5_many(b, lanes) for b in groups], nbytes, args.repeat)
    results["hashlib_sha256_md5"] = cpu_rate(lambda: hashlib_both(groups), nbytes, args.repeat)
    results["hash_many"] = cpu_rate(lambda: [hashing.hash_many(b) for b in groups], nbytes, args.repeat)
    for name, rate in results.items():
        print(f"  {name:20s} {rate:8.0f} MB/s")
    best = max((results[f"md5mb_{lanes}"] for lanes in widths), default=results["hashlib_md5"])
    pairs = {**{f"{k}_mbps": f"{v:.0f}" for k, v in results.items()},
             "md5_speedup": f"{best / results['hashlib_md5']:.2f}",
             "both_speedup": f"{results['hash_many'] / results['hashlib_sha256_md5']:.2f}",
             "lanes": _md5mb.LANES if _md5mb is not None else 0, "multi_buffer": int(hashing.multi_buffer())}
    print(" ".join(f"{k}={v}" for k, v in pairs.items()))


if __name__ == "__main__":
    main()
