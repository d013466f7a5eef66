"""A plain tar is read once (``forensics.oneread``): its walk gives the rows tarfile's stream mode gives for the same
bytes (read here from a gzip of them, which still goes through the stream mode), and the same read feeds the
evidence hash. Archives are built at test time with tarfile and GNU tar."""
import contextlib
import gzip
import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import threading

import pytest

from forensics import archives, oneread
from forensics.archives import ArchiveError, TarSource
from forensics.evidence import open_evidence
from forensics.integrity import BackgroundHash
from forensics.inventory import inventory


def _rows(archive, tmp_path, tag):
    """(every inventory row, or the one-line error the walk ended with)."""
    rows = []
    try:
        for row, _copy in inventory([("tar", TarSource(archive))], lambda path: False, tmp_path / f"spool-{tag}"):
            rows.append(row)
    except ArchiveError as exc:
        return rows, str(exc)
    return rows, None


def _same_as_stream_mode(tmp_path, data: bytes):
    """The rows of ``data`` read as a plain tar, asserted equal to those of its gzip (stream mode), and returned."""
    plain_dir, packed_dir = tmp_path / "plain", tmp_path / "gz"
    plain_dir.mkdir(exist_ok=True)
    packed_dir.mkdir(exist_ok=True)
    (plain_dir / "x.tar").write_bytes(data)
    (packed_dir / "x.tar").write_bytes(gzip.compress(data, mtime=0))
    plain = _rows(plain_dir / "x.tar", tmp_path, "plain")
    stream = _rows(packed_dir / "x.tar", tmp_path, "gz")
    assert plain == stream
    return plain


def _member(tar, name, data=b"", **kw):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 1_700_000_000
    for key, value in kw.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data))


def _build(fmt, members) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        for name, data, kw in members:
            _member(tar, name, data, **kw)
    return buffer.getvalue()


LONG = "sdcard/" + "/".join(["a-rather-long-folder-name"] * 8) + "/photo.jpg"
MEMBERS = [
    ("sdcard/DCIM/", b"", {"type": tarfile.DIRTYPE}),
    ("sdcard/DCIM/one.txt", b"hello\n" * 100, {}),
    (LONG, b"\xff\xd8\xff\xe0" + os.urandom(3000), {}),
    ("sdcard/big.bin", os.urandom(9 << 20) + b"tail", {}),  # spans blocks of the reader, hashed while read
    ("sdcard/exact.bin", b"\x00" * 1024, {}),  # a size that is a whole number of tar blocks
    ("sdcard/link", b"", {"type": tarfile.SYMTYPE, "linkname": "/storage/emulated/0"}),
    ("sdcard/hard", b"", {"type": tarfile.LNKTYPE, "linkname": "sdcard/DCIM/one.txt"}),
    ("sdcard/up", b"", {"type": tarfile.SYMTYPE, "linkname": "../../../etc/shadow"}),
    ("../escape.txt", b"out", {}),
    ("dev/fifo", b"", {"type": tarfile.FIFOTYPE}),
    ("sdcard/empty", b"", {}),
    ("sdcard/DCIM/one.txt", b"the newer copy appended", {}),  # a member listed twice
]


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT])
def test_plain_tar_rows_equal_stream_mode_rows(tmp_path, fmt):
    members = MEMBERS if fmt != tarfile.USTAR_FORMAT else [m for m in MEMBERS if m[0] != LONG]
    if fmt == tarfile.PAX_FORMAT:  # a name only a PAX header can carry
        members = members + [("sdcard/caf\u00e9 \u263a.txt", b"pax", {})]
    rows, error = _same_as_stream_mode(tmp_path, _build(fmt, members))
    assert error is None
    by_path = {}
    for row in rows:
        by_path.setdefault(row["path"], []).append(row)
    assert len(rows) == len(members)
    assert by_path["/sdcard/big.bin"][0]["sha256"] == hashlib.sha256(MEMBERS[3][1]).hexdigest()
    assert [r["size"] for r in by_path["/sdcard/DCIM/one.txt"]] == [600, 23]  # both occurrences, in order
    if fmt != tarfile.USTAR_FORMAT:
        assert by_path["/" + LONG][0]["size"] == 3004
    assert "points outside the archive" in by_path["/sdcard/up"][0]["note"]
    assert "climbs out" in by_path["/escape.txt"][0]["note"]


def test_truncated_tar_same_rows_and_error(tmp_path):
    data = _build(tarfile.GNU_FORMAT, MEMBERS)
    cut = data.index(b"tail") - 1000  # inside the large member
    _rows, error = _same_as_stream_mode(tmp_path, data[:cut])
    assert error == "x.tar: damaged or unreadable tar archive (unexpected end of data)"


def test_tar_cut_inside_a_header(tmp_path):
    data = _build(tarfile.GNU_FORMAT, MEMBERS[:3])
    rows, error = _same_as_stream_mode(tmp_path, data[:512 + 1536 + 100])
    assert rows or error


def test_garbage_after_the_first_member_ends_the_walk_quietly(tmp_path):
    data = _build(tarfile.GNU_FORMAT, MEMBERS[:2])
    rows, error = _same_as_stream_mode(tmp_path, data[:512 + 600 + 424] + b"\x01" * 4096)
    assert [r["path"] for r in rows] == ["/sdcard/DCIM", "/sdcard/DCIM/one.txt"] and error is None


@pytest.mark.skipif(shutil.which("tar") is None, reason="GNU tar absent")
@pytest.mark.parametrize("fmt", ["gnu", "posix"])
def test_gnu_tar_sparse_long_names_and_hard_links(tmp_path, fmt):
    tree = tmp_path / "tree"
    deep = tree / "data" / ("d" * 90) / ("e" * 90)
    deep.mkdir(parents=True)
    (deep / "db.sqlite").write_bytes(b"SQLite format 3\x00" + os.urandom(5000))
    os.link(deep / "db.sqlite", tree / "data" / "hardlink")
    os.symlink("data/hardlink", tree / "sym")
    with open(tree / "sparse.img", "wb") as f:  # holes: a sparse member with --sparse
        f.write(b"start")
        f.seek(3 << 20)
        f.write(b"middle")
        f.seek(7 << 20)
        f.write(b"end")
    out = tmp_path / "made.tar"
    subprocess.run(["tar", f"--format={fmt}", "--sparse", "--mtime=@1700000000", "--sort=name", "-cf", str(out),
                    "-C", str(tree), "."], check=True)
    rows, error = _same_as_stream_mode(tmp_path, out.read_bytes())
    assert error is None
    sparse = next(r for r in rows if r["path"] == "/sparse.img")
    whole = (tree / "sparse.img").read_bytes()
    assert sparse["size"] == len(whole) and sparse["sha256"] == hashlib.sha256(whole).hexdigest()
    assert any(r["path"].endswith("/db.sqlite") and r["size"] == 5016 for r in rows)
    assert next(r for r in rows if r["path"] == "/data/hardlink")["kind"] == "link"


def _hashed_while_walked(path):
    evidence = open_evidence([path])
    try:
        hasher = BackgroundHash(evidence, shared=True)
        hasher.start()
        count, error = 0, None
        try:
            for _address, source in evidence.sources():
                for entry in source:
                    count += 1
                    try:
                        with contextlib.closing(entry.open()) if entry.open else io.BytesIO() as stream:
                            while stream.read(1 << 20):
                                pass
                    except tarfile.ReadError:  # a truncated member: the walk goes on, as the inventory's
                        pass
        except Exception as exc:  # noqa: BLE001 - the walk's one-line error, compared by the caller
            error = str(exc)
        return hasher.wait(), count, error
    finally:
        evidence.close()


def test_the_walks_read_gives_the_evidence_hash(tmp_path):
    data = _build(tarfile.GNU_FORMAT, MEMBERS) + b"\x00" * 20_000 + b"trailing bytes after the archive"
    path = tmp_path / "e.tar"
    path.write_bytes(data)
    hashes, count, error = _hashed_while_walked(path)
    assert error is None and count == len(MEMBERS)
    assert hashes["sha256"] == hashlib.sha256(data).hexdigest() and hashes["md5"] == hashlib.md5(data).hexdigest()
    assert hashes["hashed_bytes"] == len(data)


def test_a_damaged_tar_is_still_hashed_whole(tmp_path):
    data = _build(tarfile.GNU_FORMAT, MEMBERS)
    data = data[:data.index(b"tail") - 1000]
    path = tmp_path / "e.tar"
    path.write_bytes(data)
    hashes, _count, error = _hashed_while_walked(path)
    assert error is not None and "damaged or unreadable tar archive" in error
    assert hashes["sha256"] == hashlib.sha256(data).hexdigest() and hashes["hashed_bytes"] == len(data)


def test_a_walk_that_never_runs_ends_the_hash_with_an_error(tmp_path):
    path = tmp_path / "e.tar"
    path.write_bytes(_build(tarfile.GNU_FORMAT, MEMBERS[:3]))
    evidence = open_evidence([path])
    hasher = BackgroundHash(evidence, shared=True)
    hasher.start()
    evidence.close()
    hasher.join(timeout=10)
    assert not hasher.is_alive()
    with pytest.raises(oneread.FeedAborted):
        hasher.wait()


def test_a_walk_left_half_way_ends_the_hash_with_an_error(tmp_path):
    path = tmp_path / "e.tar"
    path.write_bytes(_build(tarfile.GNU_FORMAT, MEMBERS))
    evidence = open_evidence([path])
    hasher = BackgroundHash(evidence, shared=True)
    hasher.start()
    walk = iter(next(evidence.sources())[1])
    next(walk)
    walk.close()
    hasher.join(timeout=10)
    assert not hasher.is_alive()
    with pytest.raises(oneread.FeedAborted):
        hasher.wait()
    evidence.close()


def test_compressed_tar_is_hashed_by_a_read_of_its_own(tmp_path):
    data = gzip.compress(_build(tarfile.GNU_FORMAT, MEMBERS[:3]), mtime=0)
    path = tmp_path / "e.tar.gz"
    path.write_bytes(data)
    hashes, count, error = _hashed_while_walked(path)
    assert error is None and count == 3 and hashes["sha256"] == hashlib.sha256(data).hexdigest()


def test_forward_reader_reads_and_seeks_as_the_stream_mode():
    data = os.urandom(3 * oneread.BLOCK + 123)
    blocks = []

    class Feed:
        def put(self, block):
            blocks.append(block)

    reader = oneread.ForwardReader(io.BytesIO(data), Feed())
    assert reader.read(10) == data[:10]
    assert reader.seek(oneread.BLOCK + 5) == oneread.BLOCK + 5
    assert reader.read(oneread.BLOCK) == data[oneread.BLOCK + 5: 2 * oneread.BLOCK + 5]
    with pytest.raises(tarfile.StreamError):
        reader.seek(3)
    assert reader.seek(len(data) + 999) == len(data) and reader.read(1) == b""
    assert b"".join(blocks) == data
    assert archives._tar_compression(gzip.compress(b"x")) == "gz"


def test_mutated_tars_give_the_stream_modes_rows(tmp_path_factory):
    """Byte flips, cuts and splices of a real tar (``tests/test_fuzz.py``'s mutations): the same rows, or the same
    one-line error, as tarfile's stream mode on the same bytes."""
    from hypothesis import given

    from tests.test_fuzz import FUZZ, _tar_seed, mutations

    seed = _build(tarfile.PAX_FORMAT, MEMBERS[:3] + MEMBERS[4:]) + _tar_seed()

    @FUZZ
    @given(data=mutations(seed))
    def run(data):
        _same_as_stream_mode(tmp_path_factory.mktemp("mutated"), data)

    run()


def test_a_failed_hash_never_blocks_the_walk(tmp_path, monkeypatch):
    from forensics import integrity

    class Broken:
        def __init__(self, lane=None):
            self.size = 0

        def update(self, chunk):
            raise MemoryError("hash failed")

    monkeypatch.setattr(integrity, "Digests", Broken)
    monkeypatch.setattr(oneread, "BLOCK", 4096)  # many more blocks than the feed holds
    path = tmp_path / "e.tar"
    path.write_bytes(_build(tarfile.GNU_FORMAT, MEMBERS))
    done = {}

    def walk():
        try:
            _hashed_while_walked(path)
        except MemoryError as exc:  # hasher.wait() raises what the hash thread met, once the walk ended
            done["error"] = str(exc)

    walker = threading.Thread(target=walk, daemon=True)
    walker.start()
    walker.join(timeout=120)
    assert not walker.is_alive() and done == {"error": "hash failed"}
