"""The evidence byte stream (``Evidence.byte_chunks``) read through one reused buffer: the chunks are exactly the
evidence's bytes in order — across split segments whose ends do not fall on a chunk, a tar archive longer than one
chunk — and the evidence hash equals hashlib's over the whole file(s)."""
import hashlib
import random
import subprocess
from pathlib import Path

from forensics.containers import RawReader, open_image
from forensics.evidence import Evidence
from forensics.hashing import CHUNK
from forensics.integrity import hash_evidence

STREAM_CHUNK = CHUNK * 8  # what byte_chunks reads at a time


def _split_set(folder: Path) -> tuple[list[Path], bytes]:
    rng = random.Random(7)
    sizes = [3 * (1 << 20) + 1, STREAM_CHUNK - 4096 + 7, 5 * (1 << 20) - 3]  # a boundary 7 bytes past a chunk's end
    paths, parts = [], []
    for number, size in enumerate(sizes):
        part = rng.randbytes(size)
        path = folder / f"media.{number:03d}"
        path.write_bytes(part)
        paths.append(path)
        parts.append(part)
    return paths, b"".join(parts)


def test_split_raw_stream_is_the_concatenated_segments(tmp_path):
    paths, data = _split_set(tmp_path)
    reader = open_image(paths)
    assert isinstance(reader, RawReader) and reader.container == "split raw"
    evidence = Evidence(paths, reader.container, reader.size, _reader=reader)
    try:
        chunks = [bytes(chunk) for chunk in evidence.byte_chunks()]  # each taken before the next is read
        assert len(chunks) == 2 and b"".join(chunks) == data
        result = hash_evidence(evidence)
    finally:
        evidence.close()
    assert result["sha256"] == hashlib.sha256(data).hexdigest() and result["md5"] == hashlib.md5(data).hexdigest()
    assert result["hashed_bytes"] == len(data)


def test_readinto_crosses_segments_and_stops_at_the_end(tmp_path):
    paths, data = _split_set(tmp_path)
    reader = RawReader(paths)
    try:
        for offset, size in [(0, 10), (3 * (1 << 20) - 5, 20), (len(data) - 9, 64), (len(data), 8), (12345, 9 << 20)]:
            buffer = memoryview(bytearray(size))
            got = reader.readinto(offset, buffer)
            assert bytes(buffer[:got]) == data[offset:offset + size] == reader.read(offset, size)
    finally:
        reader.close()


def test_tar_stream_is_the_archive_file(tmp_path):
    rng = random.Random(8)
    folder = tmp_path / "extraction"
    folder.mkdir()
    (folder / "big.bin").write_bytes(rng.randbytes(STREAM_CHUNK + 12345))
    (folder / "small.txt").write_bytes(b"hello")
    archive = tmp_path / "extraction.tar"
    subprocess.run(["tar", "-cf", str(archive), "-C", str(folder), "."], check=True)
    data = archive.read_bytes()
    evidence = Evidence([archive], "tar", len(data))
    assert b"".join(bytes(chunk) for chunk in evidence.byte_chunks()) == data
    result = hash_evidence(evidence)
    assert result["sha256"] == hashlib.sha256(data).hexdigest() and result["md5"] == hashlib.md5(data).hexdigest()


def test_a_cancelled_background_hash_stops_at_its_next_chunk(tmp_path):
    """A device that fails before its evidence hash is needed stops the hash rather than reading on to the end of
    the image: 8 GiB of (sparse) raw image take a fraction of a second, not the time of a full pass."""
    import time

    from forensics.evidence import open_evidence
    from forensics.integrity import BackgroundHash, HashCancelled

    image = tmp_path / "big.raw"
    with open(image, "wb") as f:
        f.truncate(8 << 30)
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-E", "lazy_itable_init=1,lazy_journal_init=1", str(image)],
                   check=True)
    evidence = open_evidence([image])
    try:
        hasher = BackgroundHash(evidence)
        hasher.start()
        time.sleep(0.05)
        started = time.monotonic()
        hasher.cancel()
        hasher.join(timeout=20)
        assert not hasher.is_alive()
        assert time.monotonic() - started < 5
        assert isinstance(hasher.error, HashCancelled)
    finally:
        evidence.close()
