"""The inventory's pipeline: the walk reads, worker threads hash and type; rows come back complete and in order."""
import gzip
import hashlib
import io
import random
import sqlite3

import magic

from forensics import inventory as inv
from forensics.entries import FILE, FileEntry
from forensics.folders import FolderSource


def _expected_mime(data: bytes) -> str:
    """What libmagic says of the bytes the inventory gives it (text: 256 bytes, binary: 1 KiB)."""
    if not data:
        return "inode/x-empty"
    head = data[:inv.MIME_HEAD_TEXT] if b"\x00" not in data[:inv.MIME_HEAD_TEXT] else data[:inv.MIME_HEAD_BINARY]
    return magic.Magic(mime=True).from_buffer(head)


def test_every_file_hashed_and_typed_in_walk_order_across_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(inv, "IN_MEMORY_MAX", 300_000)  # so that some files are hashed while read (sha256 on a lane)
    monkeypatch.setattr(inv, "BATCH_BYTES", 200_000)
    rng = random.Random(13)
    db = tmp_path / "real.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (x)")
    database = db.read_bytes()
    root = tmp_path / "evidence"
    expected = {}
    for i in range(inv.BATCH_FILES * 3 + 5):
        kind = i % 4
        if kind == 0:
            data = b" ".join(rng.choice([b"invoice", b"hotel", b"tonight"]) for _ in range(rng.randint(1, 400)))
        elif kind == 1:
            data = rng.randbytes(rng.randint(1, 5000))
        elif kind == 2:
            data = gzip.compress(rng.randbytes(rng.randint(2 << 20, 3 << 20) if i % 40 == 2 else 900))
        else:
            data = b"" if i % 8 == 3 else database
        path = root / f"d{i % 7}" / f"f{i:04d}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        expected[f"/d{i % 7}/f{i:04d}"] = data
    walk_order = [e.path for e in FolderSource(root)]

    rows = [row for row, _copy in inv.inventory([("folder", FolderSource(root))], lambda p: False, tmp_path / "s")]

    assert [r["path"] for r in rows] == walk_order
    files = [r for r in rows if r["kind"] == FILE]
    assert len(files) == len(expected)
    assert any(len(d) > inv.CHUNK * 2 for d in expected.values())
    for row in files:
        data = expected[row["path"]]
        assert (row["size"], row["sha256"], row["md5"]) == \
            (len(data), hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest()), row["path"]
        assert row["mime_type"] == _expected_mime(data), row["path"]
    kinds = {r["mime_type"] for r in files}
    assert kinds >= {"text/plain", "application/gzip", "application/vnd.sqlite3", "inode/x-empty"}


class _Breaks(io.RawIOBase):
    """A stream that gives some bytes, then fails as a damaged medium does."""

    def __init__(self):
        self.calls = 0

    def readable(self):
        return True

    def read(self, size=-1):
        self.calls += 1
        if self.calls == 1:
            return b"x" * 1000
        raise OSError(5, "Input/output error")


def test_a_file_that_fails_midway_gets_its_note_and_the_next_one_its_hash(tmp_path):
    good = b"still here\n" * 100
    entries = [FileEntry("p1", "/broken", "7", 5000, FILE, open=_Breaks),
               FileEntry("p1", "/good", "8", len(good), FILE, open=lambda: io.BytesIO(good))]
    wanted = {"/broken", "/good"}.__contains__
    out = list(inv.inventory([("p1", entries)], wanted, tmp_path / "spool"))

    (broken, broken_copy), (row, copy) = out
    assert broken["sha256"] is None and broken["md5"] is None and broken["mime_type"] is None
    assert "read error: OSError" in broken["note"] and broken_copy is None
    assert not (tmp_path / "spool" / "p1" / "broken").exists()  # a half-written working copy is removed
    assert row["sha256"] == hashlib.sha256(good).hexdigest() and row["mime_type"] == "text/plain"
    assert copy.local.read_bytes() == good and copy.sha256 == row["sha256"] and copy.size == len(good)


def test_scratch_check_refuses_only_on_a_fresh_answer_of_the_disk(tmp_path, monkeypatch):
    import os as _os

    from forensics import inventory as inv

    monkeypatch.setenv("FORENSICS_SCRATCH_RESERVE_BYTES", str(1000))
    disk = {"free": 10 << 20, "asked": 0}

    class Answer:
        f_frsize = 1

        @property
        def f_bavail(self):
            return disk["free"]

    def statvfs(path):
        disk["asked"] += 1
        return Answer()

    monkeypatch.setattr(_os, "statvfs", statvfs)
    scratch = inv._Scratch(tmp_path / "work" / "spool" / "e1")
    assert scratch.folder == tmp_path
    assert scratch.short(1 << 20) is None and disk["asked"] == 1
    assert scratch.short(1 << 20) is None and disk["asked"] == 1  # the last answer less the copies since suffices
    disk["free"] -= 2 << 20  # what the two copies took
    assert scratch.short(7 << 20) is None and disk["asked"] == 1  # 10 - 2 - 7 MiB still leaves the reserve
    why = scratch.short(1 << 20)  # would not: the disk is asked again before refusing
    assert disk["asked"] == 2 and why is None  # 8 MiB free now: the copy fits
    disk["free"] = 1500  # another writer took the disk: seen at the next fresh answer at the latest
    scratch = inv._Scratch(tmp_path / "work" / "spool" / "e1")
    why = scratch.short(600)
    assert why == ("not copied for the parsers: no scratch space, 600 bytes would leave less than 1000 bytes free on "
                   "the work folder's disk (1500 free, FORENSICS_SCRATCH_RESERVE_BYTES)") and disk["asked"] == 3
    assert scratch.short(600) is not None and disk["asked"] == 4  # a refusal is never remembered
    asked = disk["asked"]
    for _ in range(70):  # copies accepted on an old answer add up to RECHECK_BYTES at most
        disk["free"] = 1 << 40
        assert scratch.short(1 << 20) is None
    assert disk["asked"] - asked == 2  # the first answer, then one after 64 MiB of copies
