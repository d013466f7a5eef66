"""md5 of many files at once (forensics._md5mb, one file per SIMD lane) gives exactly hashlib's digests.

Every lane width this CPU runs (16 with AVX-512, 8 with AVX2, 1 block at a time) is checked against hashlib on the
lengths where MD5's padding changes shape (a message of 55 bytes still takes its length in its last block, 56 needs
one more block; RFC 1321 section 3.1-3.2), on files split into chunks at every place, on batches mixing one byte and
10 MB (lanes finish at very different times and take the next file), and on hypothesis-generated batches.
"""
import hashlib
import os
import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from forensics import hashing

try:
    from forensics import _md5mb
except ImportError:  # built without a compiler: only hashing's fallback is tested
    _md5mb = None
built = pytest.mark.skipif(_md5mb is None, reason="the md5 C extension is not built (no compiler at install)")
WIDTHS = [lanes for lanes in (1, 8, 16) if _md5mb is not None and (lanes == 1 or lanes <= _md5mb.LANES)]
DATA = random.Random(1321).randbytes(3 << 20)


def _expected(files):
    return [hashlib.md5(b"".join(f) if isinstance(f, list) else f).digest() for f in files]


@pytest.mark.parametrize("lanes", WIDTHS)
def test_every_length_up_to_300_in_one_batch(lanes):
    files = [DATA[i:i + n] for i, n in enumerate(range(301))]
    assert _md5mb.md5_many(files, lanes) == _expected(files)


@pytest.mark.parametrize("lanes", WIDTHS)
def test_padding_boundaries_with_every_split_into_two_chunks(lanes):
    files = []
    for n in (54, 55, 56, 57, 63, 64, 65, 118, 119, 120, 121, 127, 128, 129):
        data = DATA[n:2 * n]
        files += [[data[:cut], data[cut:]] for cut in range(n + 1)]
    files.append([b"", DATA[:64], b"", b"", DATA[64:120], b""])  # empty chunks anywhere
    assert _md5mb.md5_many(files, lanes) == _expected(files)


@pytest.mark.parametrize("lanes", WIDTHS)
def test_one_byte_beside_ten_megabytes_and_many_small(lanes):
    big = DATA * 3 + DATA[:1 << 20]  # 10 MiB
    files = [b"x", [big[:1 << 20], big[1 << 20:]], b""] + [DATA[:n * 997] for n in range(40)] + [big[:(5 << 20) + 3]]
    assert _md5mb.md5_many(files, lanes) == _expected(files)


@pytest.mark.parametrize("lanes", WIDTHS)
def test_any_bytes_like_object(lanes):
    files = [bytearray(DATA[:1000]), memoryview(DATA)[5:70], (DATA[:3], memoryview(DATA[3:200]))]
    assert _md5mb.md5_many(files, lanes) == [hashlib.md5(DATA[:1000]).digest(), hashlib.md5(DATA[5:70]).digest(),
                                             hashlib.md5(DATA[:200]).digest()]


@built
def test_empty_batch_and_bad_input():
    assert _md5mb.md5_many([]) == []
    with pytest.raises(TypeError, match="file 1"):
        _md5mb.md5_many([b"a", 3])
    with pytest.raises(TypeError):
        _md5mb.md5_many([[b"a", "text"]])
    with pytest.raises(ValueError, match="lanes"):
        _md5mb.md5_many([b"a"], 4)


@built
@settings(max_examples=int(os.environ.get("FORENSICS_FUZZ_EXAMPLES", "60")), derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(st.tuples(st.integers(0, 200_000), st.integers(0, 1 << 21),
                                st.lists(st.integers(0, 200_000), max_size=4)), max_size=40),
       lanes=st.sampled_from(WIDTHS))
def test_generated_batches(batch, lanes):
    files = []
    for size, offset, cuts in batch:
        data = DATA[offset:offset + size]
        bounds = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
        files.append([data[a:b] for a, b in zip(bounds, bounds[1:])] if len(bounds) > 2 else data)
    assert _md5mb.md5_many(files, lanes) == _expected(files)


def test_hash_many_same_as_hashlib_with_and_without_the_extension(monkeypatch):
    files = [[DATA[:n]] for n in (0, 1, 55, 56, 64, 1000, 70_000)] + [[DATA[:10], DATA[10:129]]]
    expected = [hashing.Hashes(hashlib.sha256(b"".join(f)).hexdigest(), hashlib.md5(b"".join(f)).hexdigest())
                for f in files]
    assert hashing.hash_many(files) == expected
    assert hashing.hash_many([]) == []
    monkeypatch.setenv("FORENSICS_PURE_PYTHON_MD5", "1")
    assert not hashing.multi_buffer()
    assert hashing.hash_many(files) == expected
    monkeypatch.delenv("FORENSICS_PURE_PYTHON_MD5")
    monkeypatch.setattr(hashing, "_md5mb", None)  # as installed without a compiler
    assert not hashing.multi_buffer()
    assert hashing.hash_many(files) == expected


@built
def test_this_cpu_uses_its_widest_lanes():
    """On a CPU with AVX2 the inventory's md5 runs on SIMD lanes (the extension is chosen, not silently skipped)."""
    with open("/proc/cpuinfo") as cpuinfo:
        flags = cpuinfo.read()
    if " avx2" not in flags:
        pytest.skip("no AVX2 on this CPU")
    assert _md5mb.LANES == (16 if " avx512f" in flags else 8)
    assert hashing.multi_buffer()
