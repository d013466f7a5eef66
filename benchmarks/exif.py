"""CPU time of the EXIF parser over photos, and with ``--against REV`` the same check for the parser at git REV:
the records of both must be identical, field for field (and a failure the same failure).

Each file is given to the ``exif-media`` parser function exactly as the ingest does for a photo kept in a pack: a
``RunContext`` whose ``open()`` is a section of a file (``forensics.pack.open_section``), with the inventory's
sha256 already known. Every file given is parsed whatever its name (a file that is no photo gives nothing). The two
implementations run alternately, ``--repeat`` times each, in this one process; the CPU time (user + system) of each
pass over all files is measured and the lowest kept. The last line is ``name=value`` pairs.

    python benchmarks/exif.py [--against main] [--repeat 3] PATH...   (files, or folders read recursively)
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from artifacts.records import Provenance  # noqa: E402
from forensics.inventory import SpooledFile  # noqa: E402
from parsers import framework  # noqa: E402

MODULE = "parsers/exif_media.py"


def parser_at(rev: str):
    """The parser function of ``MODULE`` as it is at git ``rev``, loaded beside the current one."""
    source = subprocess.run(["git", "-C", str(REPO), "show", f"{rev}:{MODULE}"], check=True, capture_output=True,
                            text=True).stdout
    spec = importlib.util.spec_from_loader(f"exif_media_at_{rev.replace('/', '_')}", loader=None)
    module = importlib.util.module_from_spec(spec)
    current = framework._REGISTRY.pop("exif-media")  # the old module registers the same parser name
    try:
        exec(compile(source, f"{rev}:{MODULE}", "exec"), module.__dict__)
    finally:
        framework._REGISTRY["exif-media"] = current
    return module.exif_media


def contexts(paths: list[Path]) -> list[framework.RunContext]:
    spec = next(s for s in framework.load_parsers() if s.name == "exif-media")
    base = Provenance(device_id="bench", evidence_id="bench:e1")
    found = []
    for path in paths:
        found += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    runs = []
    for number, local in enumerate(found):
        source = SpooledFile(local, "p1", f"/sdcard/DCIM/{number:06d}/{local.name}", None, local.stat().st_size, True,
                             "bench:e1", sha256="sha256 known to the inventory", offset=0)
        runs.append(framework.RunContext(spec, source, None, framework._run_provenance(base, spec, source), []))
    return runs


def run_all(func, runs) -> tuple[float, list]:
    """(CPU seconds, per file: the records as dicts, then the failure if the run failed)."""
    results = []
    started = time.process_time()
    for ctx in runs:
        records = []
        try:
            for record in func(None, ctx) or ():
                records.append(record)
        except Exception as exc:  # the framework records it as the run's error
            records.append(f"error: {type(exc).__name__}: {exc}")
        results.append(records)
    cpu = time.process_time() - started
    return cpu, [[r if isinstance(r, str) else (type(r).__name__, dataclasses.asdict(r)) for r in rs]
                 for rs in results]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--against", help="git revision whose parser must give the same records")
    ap.add_argument("--repeat", type=int, default=3)
    opts = ap.parse_args()
    runs = contexts(opts.paths)
    current = next(s for s in framework.load_parsers() if s.name == "exif-media").func
    funcs = {"current": current} | ({"against": parser_at(opts.against)} if opts.against else {})
    best, records = {}, {}
    for _ in range(opts.repeat):
        for name, func in funcs.items():
            cpu, records[name] = run_all(func, runs)
            best[name] = min(best.get(name, cpu), cpu)
    ours = records["current"]
    count = sum(len(rs) for rs in ours)
    errors = sum(1 for rs in ours for r in rs if isinstance(r, str))
    print(f"{len(runs)} files, {count} records and failures; CPU of a pass over all files (lowest of "
          f"{opts.repeat}): current {best['current']:.3f} s" +
          (f", {opts.against} {best['against']:.3f} s" if opts.against else ""))
    differing = 0
    if opts.against:
        for ctx, mine, theirs in zip(runs, ours, records["against"]):
            if mine != theirs:
                differing += 1
                if differing <= 10:
                    print(f"DIFFERS {ctx.source.local}:\n  current: {mine}\n  {opts.against}: {theirs}")
    line = f"files={len(runs)} records={count - errors} failures={errors} cpu_s={best['current']:.3f}"
    if opts.against:
        line += f" against_cpu_s={best['against']:.3f} ratio={best['current'] / best['against']:.2f} " \
                f"differing={differing}"
    print(line)
    if differing:
        sys.exit(1)


if __name__ == "__main__":
    main()
