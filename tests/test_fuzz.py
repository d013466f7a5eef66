"""Fuzzing: mutated real inputs into the decoders (TL, ABX, protobuf, NSKeyedArchiver, typedstream), the evidence
openers and the parsers. Zero unhandled exceptions: a decoder raises only its documented error, an opener only
``EvidenceError``, a parser run always ends with an outcome (its failure recorded, never raised).

The run in the suite is short and seeded (hypothesis ``derandomize``: the same examples every time); a lab runs the
long one with ``FORENSICS_FUZZ_EXAMPLES=20000 pytest tests/test_fuzz.py`` (see docs/problems.md). A crashing input
found there is added to ``REGRESSIONS`` below and stays a test for good.
"""
import os
import shutil
import sqlite3
import tarfile
import io
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.conftest_paths import TESTDATA

EXAMPLES = int(os.environ.get("FORENSICS_FUZZ_EXAMPLES", "30"))
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])


def mutations(seed: bytes):
    """Byte flips, overwrites, a cut and a splice of the seed: how damaged and hostile files differ from real ones."""
    size = max(len(seed), 1)
    return st.tuples(
        st.lists(st.tuples(st.integers(0, size - 1), st.integers(0, 255)), max_size=24),
        st.one_of(st.none(), st.integers(0, size)),
        st.binary(max_size=64),
    ).map(lambda m: _apply(seed, *m))


def _apply(seed: bytes, edits, cut, splice) -> bytes:
    data = bytearray(seed)
    for position, value in edits:
        if position < len(data):
            data[position] = value
    if cut is not None:
        data = data[:cut] + splice + data[cut:cut + 4096]
    return bytes(data)


# -- decoders ---------------------------------------------------------------------------------------------------

def _tl_seed() -> bytes:
    from tests.fixtures.telegram_tl import encode_message

    return encode_message(id=7, peer_id=("user", 42), date=1600000000, text="hello fuzz")


def _abx_seed() -> bytes:
    from tests.fixtures.abx import build_packages_xml

    return build_packages_xml()


def _nska_seed() -> bytes:
    from tests.fixtures.nskeyedarchive import keyed_archive

    return keyed_archive({"name": "x", "items": [1, 2, "three"]})


def _typedstream_seed() -> bytes:
    # an NSAttributedString of "hi" as iOS Messages stores it in message.attributedBody (typedstream v4)
    return bytes.fromhex(
        "040b73747265616d747970656481e803840140848484124e5341747472696275746564537472696e67008484084e534f626a"
        "656374008592848484084e53537472696e67019484012b02686986840269490102928484840c4e5344696374696f6e617279"
        "009484016901928496961d5f5f6b494d4d657373616765506172744174747269627574654e616d658692848484084e534e75"
        "6d626572008484074e5356616c7565009484012a84999900868686")


DECODERS = {
    "tl": (_tl_seed, "parsers.decoders.telegram_tl", "decode_message", ("TLDecodeError",)),
    "abx": (_abx_seed, "parsers.decoders.abx", "load_android_xml", ("AndroidXMLError",)),
    "protobuf": (lambda: b"\x0a\x05hello\x10\x96\x01\x1a\x03\x08\x01\x10\x02", "parsers.decoders.protobuf_wire",
                 "fields", ("ProtobufError",)),
    "nskeyedarchive": (_nska_seed, "parsers.decoders.nskeyedarchive", "unarchive", ()),
}


def _decode(name: str, data: bytes) -> None:
    import importlib

    _, module_name, function, errors = DECODERS[name]
    module = importlib.import_module(module_name)
    expected = tuple(getattr(module, e) for e in errors) + (ValueError,)
    try:
        result = getattr(module, function)(data)
        if name == "protobuf":
            list(result)
    except expected:
        pass


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_decoders_raise_only_their_own_errors(name):
    seed = DECODERS[name][0]()

    @FUZZ
    @given(data=st.one_of(mutations(seed), st.binary(max_size=512)))
    def run(data):
        _decode(name, data)

    run()


def test_typedstream_bodies_through_the_sms_parsers_guard():
    """iOS sms.db bodies are read with pytypedstream; ios_sms catches exactly ``_UNDECODABLE``."""
    import typedstream

    from parsers.ios_sms import _UNDECODABLE

    seed = _typedstream_seed()

    @FUZZ
    @given(data=mutations(seed))
    def run(data):
        try:
            typedstream.unarchive_from_data(data)
        except _UNDECODABLE:
            pass

    run()


# -- evidence openers -------------------------------------------------------------------------------------------

def _zip_seed() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("Dump/data/a.txt", b"a" * 300)
        z.writestr("Dump/data/b.db", b"SQLite format 3\x00" + bytes(200))
    return out.getvalue()


def _tar_seed() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in (("sdcard/a.txt", b"a" * 700), ("data/b.bin", bytes(range(256)))):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _read_like_the_inventory(entry) -> None:
    """Opening or reading one file may fail in any way: the inventory records it on the file's row (its note,
    a read-error problem) and goes on — what must not fail is the walk itself."""
    from forensics.inventory import _read

    _read(entry, None)


def _open_and_walk(path: Path) -> None:
    from forensics.evidence import EvidenceError, open_evidence

    try:
        evidence = open_evidence([path])
    except EvidenceError:
        return
    try:
        for _, entries in evidence.sources():
            for entry in entries:
                if entry.open is not None:
                    _read_like_the_inventory(entry)
    except EvidenceError:
        pass
    finally:
        evidence.close()


@pytest.mark.parametrize("kind", ["zip", "tar", "image"])
def test_evidence_openers_raise_only_evidence_errors(kind, tmp_path_factory):
    if kind == "image":
        real = TESTDATA / "log2timeline+plaso/test_data/tsk_volume_system.raw"
        if not real.exists():
            pytest.skip(f"third-party test data absent: {real}")
        seed = real.read_bytes()[:256 * 1024]
    else:
        seed = _zip_seed() if kind == "zip" else _tar_seed()
    folder = tmp_path_factory.mktemp(f"fuzz-{kind}")

    @FUZZ
    @given(data=mutations(seed))
    def run(data):
        path = folder / f"evidence.{kind}"
        path.write_bytes(data)
        _open_and_walk(path)

    run()


# -- parsers ----------------------------------------------------------------------------------------------------

SQLITE_SEEDS = {
    "/data/data/com.android.providers.telephony/databases/mmssms.db": "log2timeline+plaso/test_data/android/mmssms.db",
    "/data/data/com.android.providers.contacts/databases/contacts2.db":
        "log2timeline+plaso/test_data/android/contacts2.db",
    "/private/var/mobile/Library/Accounts/Accounts3.sqlite": "log2timeline+plaso/test_data/ios/Accounts3.sqlite",
}


@pytest.mark.parametrize("device_path", sorted(SQLITE_SEEDS))
def test_parsers_on_mutated_real_databases_always_end_with_an_outcome(device_path, tmp_path_factory):
    from tests import parser_harness

    real = TESTDATA / SQLITE_SEEDS[device_path]
    if not real.exists():
        pytest.skip(f"third-party test data absent: {real}")
    seed = real.read_bytes()  # read, never opened with sqlite: the guard checks the shared data stays unchanged
    folder = tmp_path_factory.mktemp("fuzz-parsers")

    @settings(FUZZ, max_examples=max(EXAMPLES // 3, 5))
    @given(data=mutations(seed))
    def run(data):
        work = folder / "run"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        outcomes, _ = parser_harness.run(work, {device_path: data})
        assert outcomes and all(o.outcome in ("parsed", "no data", "error", "encrypted", "unsupported version")
                                for o in outcomes)

    run()


# -- regressions: crashing inputs found by fuzzing, kept for good --------------------------------------------------

REGRESSIONS: list[tuple[str, bytes]] = [
    # pytypedstream: IndexError on a shared-object reference past its table (ios_sms lost the whole database)
    ("typedstream", _apply(_typedstream_seed(), [(19, 0)], None, b"")),
    # zipfile: NotImplementedError for an unknown zip version in the central directory (the device failed with an
    # internal error instead of "damaged or unreadable zip archive")
    ("zip", _apply(_zip_seed(), [(183, 64)], None, b"")),
]


@pytest.mark.parametrize("name, data", REGRESSIONS)
def test_regressions(name, data, tmp_path):
    if name == "typedstream":
        import typedstream

        from parsers.ios_sms import _UNDECODABLE

        try:
            typedstream.unarchive_from_data(data)
        except _UNDECODABLE:
            pass
    elif name == "zip":
        path = tmp_path / "regression.zip"
        path.write_bytes(data)
        _open_and_walk(path)
    else:
        _decode(name, data)


# -- one entry point per target, shared with the coverage-guided harness (benchmarks/fuzz_atheris.py) -------------

TARGETS = sorted(DECODERS) + ["typedstream", "zip", "tar", "image"] + [f"parser:{p}" for p in sorted(SQLITE_SEEDS)]
CRASHES = Path(__file__).parent / "fuzz_crashes"  # <target, '/' as '+'>/<input>: every crashing input, kept


def seed_of(target: str) -> bytes:
    """The real input a target's mutations start from (third-party data: FileNotFoundError when absent)."""
    if target in DECODERS:
        return DECODERS[target][0]()
    if target == "typedstream":
        return _typedstream_seed()
    if target in ("zip", "tar"):
        return _zip_seed() if target == "zip" else _tar_seed()
    if target == "image":
        return (TESTDATA / "log2timeline+plaso/test_data/tsk_volume_system.raw").read_bytes()[:256 * 1024]
    return (TESTDATA / SQLITE_SEEDS[target.removeprefix("parser:")]).read_bytes()


def replay(target: str, data: bytes, folder: Path) -> None:
    """Feed one input to one target; returns when it was handled, raises what no caller would have caught."""
    if target not in TARGETS:
        raise ValueError(f"unknown fuzz target {target!r}; one of {', '.join(TARGETS)}")
    if target in DECODERS:
        _decode(target, data)
    elif target == "typedstream":
        import typedstream

        from parsers.ios_sms import _UNDECODABLE

        try:
            typedstream.unarchive_from_data(data)
        except _UNDECODABLE:
            pass
    elif target in ("zip", "tar", "image"):
        path = folder / f"evidence.{target}"
        path.write_bytes(data)
        _open_and_walk(path)
    else:
        from tests import parser_harness

        work = folder / "run"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        outcomes, _ = parser_harness.run(work, {target.removeprefix("parser:"): data})
        assert outcomes and all(o.outcome in ("parsed", "no data", "error", "encrypted", "unsupported version")
                                for o in outcomes)


def _crash_files() -> list[Path]:
    return sorted(p for p in CRASHES.glob("*/*") if p.is_file())


@pytest.mark.parametrize("crash", _crash_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_crashing_inputs_found_by_the_coverage_guided_fuzzer(crash, tmp_path):
    replay(crash.parent.name.replace("+", "/"), crash.read_bytes(), tmp_path)
