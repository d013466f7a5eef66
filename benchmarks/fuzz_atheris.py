"""Coverage-guided fuzzing with atheris (libFuzzer) over the targets of the hypothesis harness, tests/test_fuzz.py:
the decoders (tl, abx, protobuf, nskeyedarchive, typedstream), the evidence openers (zip, tar, image) and the
parsers on mutated real databases (parser:<device path>). A run starts from the target's real seed (and from any
corpus folder given), and an input that raises what no caller catches is a crash: libFuzzer writes it to
``--crashes`` (``crash-<sha1>``) and stops. Keep each one as a regression test: copy it to
``tests/fuzz_crashes/<target>/`` (``/`` in the target written ``+``), fix the code, and the suite replays it for good.

Needs the ``fuzz`` extra (``pip install -e '.[test,fuzz]'``). See docs/problems.md, "Fuzzing".

    python benchmarks/fuzz_atheris.py --list
    python benchmarks/fuzz_atheris.py TARGET [--crashes DIR] [--corpus DIR] [-- LIBFUZZER OPTIONS]
    python benchmarks/fuzz_atheris.py abx -- -max_total_time=3600
    python benchmarks/fuzz_atheris.py --replay TARGET FILE...

libFuzzer's own options set the length of a run (``-runs=N``, ``-max_total_time=SECONDS``) and its speed
(``-jobs``/``-workers`` for several processes); its last lines say how many inputs ran. ``--replay`` ends with a
``name=value`` line.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?")
    parser.add_argument("files", nargs="*", type=Path, help="with --replay: inputs to feed once each")
    parser.add_argument("--list", action="store_true", help="list the targets")
    parser.add_argument("--replay", action="store_true", help="feed FILEs to TARGET once, no fuzzing")
    parser.add_argument("--crashes", type=Path, default=Path("fuzz-crashes"), help="where crashing inputs go")
    parser.add_argument("--corpus", type=Path, help="a corpus folder libFuzzer reads and adds interesting inputs to")
    args, libfuzzer = parser.parse_known_args()
    libfuzzer = [a for a in libfuzzer if a != "--"]

    import atheris

    # coverage of the project's own code (and of the libraries it hands evidence bytes to) guides the mutations
    with atheris.instrument_imports(include=["artifacts", "forensics", "parsers", "typedstream", "zipfile",
                                             "tarfile"]):
        import forensics.archives  # noqa: F401
        import forensics.evidence  # noqa: F401
        import parsers.decoders.abx  # noqa: F401
        import parsers.decoders.nskeyedarchive  # noqa: F401
        import parsers.decoders.protobuf_wire  # noqa: F401
        import parsers.decoders.telegram_tl  # noqa: F401
        import parsers.framework  # noqa: F401
        import typedstream  # noqa: F401
        from parsers.framework import load_parsers

        load_parsers()
    from tests import test_fuzz

    if args.list or not args.target:
        print("\n".join(test_fuzz.TARGETS))
        return
    target = args.target
    if target not in test_fuzz.TARGETS:
        sys.exit(f"unknown target {target!r}: see --list")
    if args.replay:
        with tempfile.TemporaryDirectory() as folder:
            for path in args.files:
                test_fuzz.replay(target, path.read_bytes(), Path(folder))
                print(f"{path}: handled")
        print(f"target={target} inputs={len(args.files)} crashes=0")
        return

    folder = Path(tempfile.mkdtemp(prefix="fuzz-"))
    corpus = args.corpus or folder / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    (corpus / "seed").write_bytes(test_fuzz.seed_of(target))
    args.crashes.mkdir(parents=True, exist_ok=True)

    def one_input(data: bytes) -> None:
        test_fuzz.replay(target, data, folder)

    print(f"fuzzing {target}; crashing inputs go to {args.crashes}/", flush=True)
    atheris.Setup([sys.argv[0], f"-artifact_prefix={args.crashes}/", *libfuzzer, str(corpus)], one_input)
    atheris.Fuzz()  # libFuzzer ends the process: at its run limit, or at the first crash (written to --crashes)


if __name__ == "__main__":
    main()
