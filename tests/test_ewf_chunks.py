"""forensics.ewf: the damaged chunks of E01 sets made at test time with ewfacquire, checked against libewf's own
ewfverify; no chunk of a sound set is ever reported, whatever its compression; a mutated set never raises."""
import os
import random
import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from forensics.containers import ContainerError, open_image
from forensics.evidence import Evidence
from forensics.ewf import ChunkLayout
from forensics.integrity import hash_evidence
from tests.fixtures import images

pytestmark = pytest.mark.skipif(bool(images.missing_tools("ewfacquire")), reason="ewfacquire not installed")
CHUNK = 32768


def _media(path: Path) -> Path:
    """3 MiB of random bytes with a run of zero chunks and a zero tail: real zeros must never count as damage."""
    rng = random.Random(11)
    words = [rng.randbytes(rng.randint(2, 9)).hex().encode() for _ in range(500)]
    text = b" ".join(rng.choice(words) for _ in range(400_000))[:2 << 20]  # compressible, never a zero chunk
    data = bytearray(rng.randbytes(1 << 20) + text)  # chunks 0-31 random (stored as they are), 32-95 text
    data[1 << 20:(1 << 20) + 6 * CHUNK] = bytes(6 * CHUNK)
    path.write_bytes(bytes(data) + bytes(1 << 20))
    return path


def _acquire(raw: Path, base: Path, compression: str, segment: int | None = None) -> list[Path]:
    base.parent.mkdir(parents=True, exist_ok=True)
    args = ["ewfacquire", "-u", "-q", "-t", str(base), "-f", "encase6", "-c", compression, "-m", "fixed",
            "-M", "physical"] + (["-S", str(segment)] if segment else []) + [str(raw)]
    subprocess.run(args, check=True, capture_output=True)
    return sorted(base.parent.glob(base.name + ".E??"))


def _damaged(first: Path, hash_verified=None) -> list[dict] | None:
    reader = open_image([first])
    try:
        watch = reader.chunk_watch()
        offset = 0
        while offset < reader.size:
            data = reader.read(offset, 3_000_000)  # buffers that do not fall on chunk boundaries
            watch.update(data)
            offset += len(data)
        return watch.damaged(hash_verified)
    finally:
        reader.close()


def _ewfverify(first: Path) -> list[tuple[int, int]]:
    out = subprocess.run(["ewfverify", "-q", str(first)], capture_output=True, text=True).stdout
    return [(int(a), int(b)) for a, b in re.findall(r"at sector\(s\): (\d+) - (\d+)", out)]


@pytest.mark.parametrize("compression", ["none", "empty-block", "fast", "best"])
def test_sound_sets_have_no_damaged_chunk_even_when_checked(tmp_path, compression):
    raw = _media(tmp_path / "media.raw")
    segments = _acquire(raw, tmp_path / compression / "ev", compression, segment=1 << 20)
    assert len(segments) > 1
    layout = ChunkLayout.read(segments, 128)
    assert layout.chunks == 128 and not layout.gaps
    assert all(layout.chunk_fails(i, CHUNK) is None for i in range(128))
    assert _damaged(segments[0], hash_verified=None) == []  # checked as if nothing had been stored


def test_real_e01_sets_from_other_tools_have_no_damaged_chunk():
    testdata = Path(__file__).resolve().parents[2] / "shared" / "testdata"
    sets = sorted(testdata.glob("*/test_data/*.E01")) + sorted(testdata.glob("*/test/data/*.E01"))
    if not sets:
        pytest.skip("third-party test data absent")
    for first in sets:
        assert _damaged(first, hash_verified=None) == [], first


def test_compressed_chunk_that_does_not_inflate(tmp_path):
    raw = _media(tmp_path / "media.raw")
    (first,) = _acquire(raw, tmp_path / "c" / "ev", "fast")
    data = bytearray(first.read_bytes())
    where = ChunkLayout.read([first], 128).locate(40, CHUNK)
    assert where.compressed and where.length < CHUNK // 2
    data[where.offset + where.length // 2] ^= 0xFF
    first.write_bytes(bytes(data))
    (run,) = _damaged(first)
    assert (run["first_sector"], run["last_sector"]) == (40 * 64, 40 * 64 + 63)
    assert run["state"] == "checksum" and run["segment"] == "ev.E01"
    if not images.missing_tools("ewfverify"):
        assert _ewfverify(first) == [(40 * 64, 40 * 64 + 63)]


def test_a_verified_hash_means_nothing_is_checked(tmp_path):
    raw = _media(tmp_path / "media.raw")
    (first,) = _acquire(raw, tmp_path / "n" / "ev", "none")
    images.e01_flip_chunk(first, raw, 3)
    assert _damaged(first, hash_verified=True) == []
    assert [r["first_chunk"] for r in _damaged(first, hash_verified=False)] == [3]


@settings(max_examples=int(os.environ.get("FORENSICS_FUZZ_EXAMPLES", "25")), derandomize=True, deadline=None,
          database=None, suppress_health_check=list(HealthCheck))
@given(edits=st.lists(st.tuples(st.integers(0, 1 << 30), st.integers(0, 255)), min_size=1, max_size=8))
def test_mutated_sets_never_raise(tmp_path_factory, edits):
    folder = tmp_path_factory.mktemp("ewf-fuzz")
    seed = _SEED.get("set")
    if seed is None:
        raw = _media(folder / "media.raw")
        (first,) = _acquire(raw, folder / "seed" / "ev", "fast")
        seed = _SEED["set"] = first.read_bytes()
    data = bytearray(seed)
    for position, value in edits:  # the header and tables live at both ends: aim there as often as in the chunks
        index = position % len(data) if position & 1 else (len(data) - 1 - position % 2048 if position & 2
                                                            else position % 2048)
        data[index] = value
    path = folder / "ev.E01"
    path.write_bytes(bytes(data))
    try:
        reader = open_image([path])
    except ContainerError:
        return
    evidence = Evidence([path], "ewf", reader.size, _reader=reader)  # the media has no file system to open
    try:
        result = hash_evidence(evidence)  # the stream, the watch and the table check: no exception escapes
    finally:
        evidence.close()
    assert result["damaged"] is None or isinstance(result["damaged"], list)


_SEED: dict[str, bytes] = {}
