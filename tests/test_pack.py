"""Photos wanted only by stream-reading parsers are held in memory (up to ``MEMORY_COPY_MAX``) or copied into one pack
file and read back as sections of it, and give the same records as a working copy of their own."""
import io
import sqlite3
import tarfile

import pytest

from artifacts.records import Message, Provenance
from artifacts.store import Store
from forensics.evidence import open_evidence
from forensics import inventory as inventory_module
from forensics.inventory import inventory
from forensics.pack import open_section
from parsers import framework
from tests import parser_harness
from tests.fixtures.images import jpeg_with_exif

PHOTOS = {
    "media/0/DCIM/Camera/IMG_1.jpg": jpeg_with_exif("Google", "Pixel 7", "2023:06:01 21:15:30", 51.5, -0.12, 35.0,
                                                    offset_time="+01:00") + b"\x11" * 70_000,
    "media/0/DCIM/Camera/IMG_2.JPEG": jpeg_with_exif("samsung", "SM-G991B", "2022:12:24 08:00:00"),
    "media/0/WhatsApp/Media/WhatsApp Images/IMG-3.jpg": b"not a jpeg at all",
}


def _tar(tmp_path, members: dict[str, bytes]):
    path = tmp_path / "extraction.tar"
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def packed(monkeypatch):
    """Every photo over the in-memory size: to the pack."""
    monkeypatch.setattr(inventory_module, "MEMORY_COPY_MAX", 0)


@pytest.fixture(params=["memory", "pack"])
def kept(request, monkeypatch):
    """Photos held in memory (their usual way) or, when larger than ``MEMORY_COPY_MAX``, in the pack."""
    if request.param == "pack":
        monkeypatch.setattr(inventory_module, "MEMORY_COPY_MAX", 0)
    return request.param


def _inventory(tmp_path, members: dict[str, bytes]):
    specs = framework.load_parsers()
    evidence = open_evidence([_tar(tmp_path, members)])
    try:
        spooled = [copy for _row, copy in inventory(evidence.sources(), framework.wanted_paths(specs),
                                                    tmp_path / "work" / "spool" / "e1",
                                                    packable=framework.packable_paths(specs)) if copy is not None]
    finally:
        evidence.close()
    return specs, spooled


def test_small_photos_are_held_in_memory_and_read_back_byte_for_byte(tmp_path):
    db = tmp_path / "mmssms.db"
    sqlite3.connect(db).executescript("CREATE TABLE sms (_id INTEGER PRIMARY KEY, body TEXT);").close()
    members = dict(PHOTOS, **{"data/user_de/0/com.android.providers.telephony/databases/mmssms.db": db.read_bytes()})
    _specs, spooled = _inventory(tmp_path, members)
    by_path = {s.path.lstrip("/"): s for s in spooled}
    photos = [by_path[p] for p in PHOTOS]
    assert all(p.local is None and p.offset is None and not p.own_file for p in photos)
    assert [p.data for p in photos] == list(PHOTOS.values())
    pack = tmp_path / "work" / "spool" / "e1.pack"
    assert not pack.exists() or pack.stat().st_size == 0  # nothing written for them
    assert not list((tmp_path / "work" / "spool").rglob("*.jp*g"))
    database = by_path["data/user_de/0/com.android.providers.telephony/databases/mmssms.db"]
    assert database.own_file and database.local.read_bytes() == db.read_bytes()
    for photo in photos:
        data = PHOTOS[photo.path.lstrip("/")]
        with photo.open() as f:
            assert f.read() == data and f.read() == b""
            f.seek(-5, io.SEEK_END)
            assert f.read(100) == data[-5:]


def test_photos_share_one_pack_and_read_back_byte_for_byte(tmp_path, packed):
    db = tmp_path / "mmssms.db"
    sqlite3.connect(db).executescript("CREATE TABLE sms (_id INTEGER PRIMARY KEY, body TEXT);").close()
    members = dict(PHOTOS, **{"data/user_de/0/com.android.providers.telephony/databases/mmssms.db": db.read_bytes()})
    _specs, spooled = _inventory(tmp_path, members)
    by_path = {s.path.lstrip("/"): s for s in spooled}
    photos = [by_path[p] for p in PHOTOS]
    assert {p.local for p in photos} == {tmp_path / "work" / "spool" / "e1.pack"}
    assert all(p.offset is not None for p in photos)
    assert not list((tmp_path / "work" / "spool").rglob("*.jp*g"))  # no copy of its own for any photo
    database = by_path["data/user_de/0/com.android.providers.telephony/databases/mmssms.db"]
    assert database.offset is None and database.local.read_bytes() == db.read_bytes()
    for photo in photos:
        data = PHOTOS[photo.path.lstrip("/")]
        with photo.open() as f:
            assert f.read() == data and f.read() == b""
            assert f.seek(0, io.SEEK_END) == len(data) and f.read(10) == b""
            f.seek(-5, io.SEEK_END)
            assert f.read(100) == data[-5:]
            f.seek(3)
            assert f.read(4) == data[3:7] and f.tell() == 7
    with pytest.raises(OSError):
        open_section(photos[0].local, photos[0].offset, photos[0].size).seek(-1)


def test_packed_photos_give_the_records_of_photos_with_a_copy_of_their_own(tmp_path, kept):
    specs, spooled = _inventory(tmp_path, PHOTOS)
    store = Store(tmp_path / "shard.sqlite")
    work = tmp_path / "work"
    try:
        outcomes = framework.run_parsers([s for s in specs if s.name == "exif-media"], spooled,
                                         Provenance(device_id="d", evidence_id="d:e1"), store, work)
        packed = {t: list(store.rows(t)) for t in ("media", "locations")}
    finally:
        store.close()
    own_outcomes, own = parser_harness.run(tmp_path / "own", {"/" + p: data for p, data in PHOTOS.items()},
                                           ["exif-media"], device_id="d")
    fields = lambda row: {k: v for k, v in row.items() if k not in ("partition", "source_inode")}  # noqa: E731
    assert [(o.outcome, o.records) for o in outcomes] == [(o.outcome, o.records) for o in own_outcomes] == \
        [("parsed", 2), ("parsed", 1), ("no data", 0)]
    for table in ("media", "locations"):
        assert [fields(r) for r in packed[table]] == [fields(r) for r in own[table]]
    assert packed["media"][0]["camera_model"] == "Pixel 7" and packed["locations"][0]["altitude"] == 35.0


def test_a_parser_finding_a_packed_photo_gets_a_file_of_its_own(tmp_path, kept):
    """``ctx.find`` of a photo kept in the pack (or in memory) copies it out, so a parser reading ``local`` reads its
    bytes."""
    @framework.parser(name="test-photo-finder", app="org.test", paths=["*/org.test/list.txt"], stream=True)
    def finder(db, ctx):
        with ctx.open() as f:
            wanted = f.read().decode()
        for found in ctx.find(wanted):
            yield Message(app=ctx.app, body=f"{found.path} {found.local.read_bytes()[:3].hex()} {found.offset}",
                          prov=ctx.prov())

    try:
        specs, spooled = _inventory(tmp_path, dict(PHOTOS, **{"data/org.test/list.txt": b"*/IMG_2.JPEG"}))
        store = Store(tmp_path / "shard.sqlite")
        try:
            framework.run_parsers([s for s in specs if s.name == "test-photo-finder"], spooled,
                                  Provenance(device_id="d", evidence_id="d:e1"), store, tmp_path / "work")
            bodies = [m["body"] for m in store.rows("messages")]
        finally:
            store.close()
    finally:
        framework._REGISTRY.pop("test-photo-finder", None)
    assert bodies == ["/media/0/DCIM/Camera/IMG_2.JPEG ffd8ff None"]


def test_stream_runs_done_ahead_in_a_worker_write_what_runs_done_here_write(tmp_path, monkeypatch):
    """Stream-parser runs done ahead in the forked worker give the same outcomes and rows, in the same order, as the
    same runs done in this process: records, a parser's own error (no rows, its message), and a run that reaches
    for the store (done here instead)."""
    @framework.parser(name="test-stream-notes", app="org.test", paths=["*/org.test/notes/*.txt"], stream=True)
    def notes(db, ctx):
        with ctx.open() as f:
            text = f.read().decode()
        if "facts" in text:
            text += " " + ",".join(ctx.device_facts("imei"))
        for number, line in enumerate(text.splitlines()):
            if line == "boom":
                raise ValueError(f"bad line in {ctx.source.path.rsplit('/', 1)[-1]}")
            yield Message(app=ctx.app, body=line, prov=ctx.prov(None, number))

    members = {f"media/0/DCIM/Camera/IMG_{i:03d}.jpg": jpeg_with_exif("Cam", f"M{i}", "2021:03:04 05:06:07",
                                                                      *((10.5, 20.25) if i % 3 else ()))
               for i in range(80)}
    members.update({f"data/org.test/notes/{i:03d}.txt": text.encode() for i, text in
                    enumerate(["one\ntwo", "three\nboom", "facts", "four"] * 20)})
    try:
        specs, spooled = _inventory(tmp_path, members)
        specs = [s for s in specs if s.name in ("exif-media", "test-stream-notes")]
        results = []
        for minimum in (framework.STREAMS_AHEAD_MIN, 10 ** 9):
            monkeypatch.setattr(framework, "STREAMS_AHEAD_MIN", minimum)
            monkeypatch.setattr(framework, "STREAMS_AHEAD_CHUNK", 16)
            store = Store(tmp_path / f"shard-{minimum}.sqlite")
            try:
                store.put("device_facts", {"device_id": "d", "key": "imei", "value": "490154203237518"})
                outcomes = framework.run_parsers(specs, spooled, Provenance(device_id="d", evidence_id="d:e1"),
                                                 store, tmp_path / "work")
                results.append(([(o.spec.name, o.source.path, o.outcome, o.records, o.message) for o in outcomes],
                                {t: list(store.rows(t)) for t in ("media", "locations", "messages")}))
            finally:
                store.close()
    finally:
        framework._REGISTRY.pop("test-stream-notes", None)
    assert results[0] == results[1]
    outcomes, rows = results[0]
    assert len(outcomes) == 160 and len(rows["media"]) == 80 and len(rows["locations"]) == 53
    assert ("test-stream-notes", "/data/org.test/notes/001.txt", "error", 0,
            "error: ValueError: bad line in 001.txt") in outcomes
    assert [m["body"] for m in rows["messages"][:4]] == ["one", "two", "facts 490154203237518", "four"]


def test_photos_held_in_memory_are_let_go_once_parsed(tmp_path):
    """The outcomes of a device's photo runs are kept until its parser_runs are written; the photos' bytes are not
    (a phone's photos would otherwise all stay in memory)."""
    from cases.ingest import _AtOnce

    specs, spooled = _inventory(tmp_path, PHOTOS)
    assert all(s.data is not None for s in spooled)
    store = Store(tmp_path / "shard.sqlite")
    try:
        at_once = _AtOnce(specs, Provenance(device_id="d", evidence_id="d:e1"), store, tmp_path / "work", False)
        assert all(at_once.take(copy) for copy in spooled)
        at_once.flush()
    finally:
        store.close()
    assert [(o.source.path, o.outcome) for o in at_once.outcomes] == \
        [("/" + p, o) for p, o in zip(PHOTOS, ("parsed", "parsed", "no data"))]
    assert all(o.source.data is None for o in at_once.outcomes)
