"""Deleted-record recovery: the carver on databases built at test time with the apps' schemas (secure_delete off,
known rows deleted), the real plaso WAL test database, the framework wiring, a deleted database file on ext4, the
C engine against the pure-Python reference (same cells, same de-duplication) on those inputs, and a short seeded
fuzz run that also compares the two (a longer one: ``CARVE_FUZZ_EXAMPLES=20000 pytest tests/test_carving.py -k
fuzz``)."""
from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from artifacts.records import Provenance
from parsers.carving import sqlite_cells
from parsers.carving.carved_rows import _new_rows, _usable
from parsers.carving.sqlite_cells import carve, layouts_from
from tests import parser_harness
from tests.conftest_paths import TESTDATA as SHARED_TESTDATA
from tests.fixtures import images
from tests.fixtures.android_sms import MMSSMS_SCHEMA
from tests.fixtures.ios_sms import ROWS_IOS16, SCHEMA_IOS16
from tests.fixtures.whatsapp_android import generate_msgstore

SMS_PATH = "/data/data/com.android.providers.telephony/databases/mmssms.db"
MSGSTORE_PATH = "/data/data/com.whatsapp/databases/msgstore.db"
IOS_PATH = "/private/var/mobile/Library/SMS/sms.db"


def _body(i: int) -> str:
    return f"sms {i:04d} " + "x" * (i % 40)


def _sms_db(path: Path, n: int = 400) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA secure_delete=OFF")
    db.executescript(MMSSMS_SCHEMA)
    db.execute("BEGIN")
    db.executemany("INSERT INTO sms (_id, thread_id, address, date, type, body) VALUES (?, ?, ?, ?, ?, ?)",
                   [(i, 1 + i % 5, f"+1555{i:07d}", 1_600_000_000_000 + i * 1000, 1 + i % 2, _body(i))
                    for i in range(1, n + 1)])
    db.execute("COMMIT")
    return db


def _carved(rows):
    return [m for m in rows["messages"] if m["recovered_from"]]


def _ids(messages):
    return {int(m["body"].split()[1]) for m in messages if m["body"]}


def _in_bytes(path: Path, ids) -> set[int]:
    data = path.read_bytes() + (Path(str(path) + "-wal").read_bytes() if Path(str(path) + "-wal").exists() else b"")
    return {i for i in ids if _body(i).encode() in data}


def test_sms_freed_pages_and_freeblocks(tmp_path):
    """Rows deleted inside live pages (freeblocks) and a deleted range whose pages were freed: every deleted row
    whose bytes survive comes back with its fields; no live row is reported."""
    path = tmp_path / "mmssms.db"
    db = _sms_db(path)
    db.execute("DELETE FROM sms WHERE _id % 9 = 0 AND _id < 150")  # inside pages that stay live
    db.execute("DELETE FROM sms WHERE _id BETWEEN 220 AND 330")  # whole pages go to the freelist
    db.close()
    deleted = {i for i in range(1, 150) if i % 9 == 0} | set(range(220, 331))
    surviving = _in_bytes(path, deleted)
    assert len(surviving) > 60  # the test means something only if SQLite left bytes behind
    outcomes, rows = parser_harness.run(tmp_path, {SMS_PATH: path}, ["android-sms"])
    carved = _carved(rows)
    assert _ids(carved) == surviving and len(carved) == len(surviving)  # every one, each once
    live = [m for m in rows["messages"] if not m["recovered_from"]]
    assert _ids(live) == set(range(1, 401)) - deleted and not any(m["deleted"] for m in live)
    by_id = {int(m["body"].split()[1]): m for m in carved}
    for i, m in by_id.items():
        assert m["deleted"] is True and m["older_version"] is False
        assert m["thread_id"] == str(1 + i % 5) and m["ts"].startswith("2020-09-13")
        assert (m["sender"] == f"+1555{i:07d}") == (1 + i % 2 == 1)
        assert m["recovered_from"].startswith(("freelist page ", "freeblock in page ", "unallocated in page "))
        if m["recovered_from"].startswith("freeblock"):  # the freeblock header overwrote payload size and rowid
            assert m["source_row"] is None and m["missing_fields"] == ["_id"]
        elif m["source_row"] is None:  # a freed cell's head in space the page later gave up
            assert m["missing_fields"] == ["_id"]
        else:
            assert m["source_row"] == str(i) and m["missing_fields"] == []
    assert {m["recovered_from"].split(" page")[0].split(" in")[0] for m in carved} >= {"freelist", "freeblock"}
    (run,) = outcomes
    assert (run.carved, run.unmapped, run.records) == (len(carved), 0, len(rows["messages"]))
    assert run.row(Provenance())["live_records"] == len(live)


def _sms_root_grew(tmp: Path) -> tuple[Path, set]:
    """The first rows of a table were cells of its root page while it was a leaf; when the table grew, the root
    became an interior page and kept those old cells in its unallocated space. The rows are then deleted with
    secure_delete on, which zeroes them in the leaf that held them: only the root's stale copies are left."""
    path = tmp / "mmssms.db"
    db = _sms_db(path)
    db.execute("PRAGMA secure_delete=ON")
    db.execute("DELETE FROM sms WHERE _id <= 40")
    db.close()
    return path, {"sms"}


def test_stale_cells_in_an_interior_page_come_back(tmp_path):
    path, _ = _sms_root_grew(tmp_path)
    root = sqlite3.connect(path).execute("SELECT rootpage FROM sqlite_master WHERE name = 'sms'").fetchone()[0]
    page = path.read_bytes()[(root - 1) * 4096:root * 4096]
    assert page[0] == 0x05  # the root is an interior table page now
    surviving = {i for i in range(1, 41) if _body(i).encode() in page}
    assert len(surviving) > 10 and _in_bytes(path, range(1, 41)) == surviving  # nowhere else in the file
    outcomes, rows = parser_harness.run(tmp_path, {SMS_PATH: path}, ["android-sms"])
    carved = _carved(rows)
    # the interior cells written at the end of the page overwrite the oldest stale cell's head: that row's text is
    # still there, but no record header leads to it
    assert _ids(carved) <= surviving and len(_ids(carved)) >= len(surviving) - 1 and len(carved) == len(_ids(carved))
    assert {m["recovered_from"] for m in carved} == {f"unallocated in page {root}"}
    for m in carved:
        i = int(m["body"].split()[1])
        assert m["body"] == _body(i) and m["deleted"] is True and m["thread_id"] == str(1 + i % 5)
    assert _ids([m for m in rows["messages"] if not m["recovered_from"]]) == set(range(41, 401))


def test_sms_after_vacuum_nothing_comes_back(tmp_path):
    path = tmp_path / "mmssms.db"
    db = _sms_db(path)
    db.execute("DELETE FROM sms WHERE _id % 3 = 0 OR _id > 300")
    db.execute("VACUUM")
    db.close()
    outcomes, rows = parser_harness.run(tmp_path, {SMS_PATH: path}, ["android-sms"])
    assert _carved(rows) == [] and outcomes[0].carved == 0
    assert len(rows["messages"]) == 200


def test_sms_wal_superseded_and_older_version(tmp_path):
    """Rows inserted then deleted within the WAL survive in superseded frames (rowid intact); a row changed twice
    comes back as an older version; rows deleted from the main file by the WAL are reported once (WAL-deleted)."""
    build = tmp_path / "build"
    build.mkdir()
    db = _sms_db(build / "mmssms.db", 50)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("INSERT INTO sms (_id, thread_id, address, date, type, body) VALUES "
               "(900, 1, '+15550000900', 1600000900000, 1, 'short-lived in the wal')")
    db.execute("UPDATE sms SET body = 'sms 0007 edited once' WHERE _id = 7")
    db.execute("DELETE FROM sms WHERE _id = 900")
    db.execute("DELETE FROM sms WHERE _id = 3")
    db.execute("UPDATE sms SET body = 'sms 0007 edited twice' WHERE _id = 7")
    path = tmp_path / "mmssms.db"
    shutil.copyfile(build / "mmssms.db-wal", str(path) + "-wal")
    shutil.copyfile(build / "mmssms.db", path)
    db.close()
    outcomes, rows = parser_harness.run(tmp_path, {SMS_PATH: path, SMS_PATH + "-wal": Path(str(path) + "-wal")},
                                        ["android-sms"])
    msgs = rows["messages"]
    wal_deleted = [m for m in msgs if m["wal_deleted"]]
    assert [(m["source_row"], m["body"]) for m in wal_deleted] == [("3", _body(3))]
    carved = {(m["source_row"], m["body"]): m for m in _carved({"messages": msgs})}
    assert set(carved) == {("900", "short-lived in the wal"), ("7", "sms 0007 edited once"), ("7", _body(7))}
    assert carved[("900", "short-lived in the wal")]["older_version"] is False
    assert carved[("900", "short-lived in the wal")]["recovered_from"].endswith("(superseded)")
    assert carved[("7", "sms 0007 edited once")]["older_version"] is True
    assert carved[("7", _body(7))]["older_version"] is True
    assert carved[("7", _body(7))]["recovered_from"] == "main file page 2 (superseded)"
    live = [m for m in msgs if not m["recovered_from"] and not m["wal_deleted"]]
    assert len(live) == 49 and {m["body"] for m in live if m["source_row"] == "7"} == {"sms 0007 edited twice"}
    assert (outcomes[0].carved, outcomes[0].wal_deleted) == (3, 1)


def test_whatsapp_deleted_messages(tmp_path):
    path = generate_msgstore(tmp_path / "build" / "msgstore.db", 600)
    before = tmp_path / "before" / "msgstore.db"
    before.parent.mkdir()
    shutil.copyfile(path, before)
    _, rows_before = parser_harness.run(tmp_path / "before", {MSGSTORE_PATH: before}, ["whatsapp-android-messages"])
    original = {m["body"]: m for m in rows_before["messages"]}
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA secure_delete=OFF")
    gone = {r[0]: r[1] for r in db.execute(
        "SELECT _id, text_data FROM message WHERE message_type = 0 AND (_id % 13 = 0 OR _id BETWEEN 300 AND 380)")}
    db.execute(f"DELETE FROM message WHERE _id IN ({','.join(map(str, gone))})")
    db.close()
    surviving = {i for i, text in gone.items() if text.encode() + b"\x00" in path.read_bytes()
                 or text.encode() in path.read_bytes()}
    outcomes, rows = parser_harness.run(tmp_path, {MSGSTORE_PATH: path}, ["whatsapp-android-messages"])
    carved = _carved(rows)
    bodies = {m["body"] for m in carved}
    assert bodies == {gone[i] for i in surviving} and len(carved) == len(surviving) > 35
    for m in carved:
        assert m["deleted"] is True and m["missing_fields"] == ["_id"] or m["source_row"]
        fields = ("platform", "thread_id", "thread_name", "sender", "recipients", "direction", "message_type",
                  "status", "ts", "received_ts", "extra")
        if m["source_row"]:  # the receipt rows that give read_ts are found by the message's rowid
            fields += ("read_ts",)
        assert {f: m[f] for f in fields} == {f: original[m["body"]][f] for f in fields}
    live = [m for m in rows["messages"] if not m["recovered_from"]]
    assert not {m["body"] for m in live} & bodies and not any(m["older_version"] for m in carved)
    assert outcomes[0].outcome == "parsed" and outcomes[0].unmapped == 0


def test_ios_sms_deleted_message_with_its_thread(tmp_path):
    path = tmp_path / "sms.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA secure_delete=OFF")
    db.executescript(SCHEMA_IOS16 + ROWS_IOS16)
    db.execute("DELETE FROM chat_message_join WHERE message_id = 5")
    db.execute("DELETE FROM message WHERE ROWID = 5")
    db.close()
    outcomes, rows = parser_harness.run(tmp_path, {IOS_PATH: path}, ["ios-sms"])
    (m,) = _carved(rows)
    assert (m["body"], m["sender"], m["platform"], m["deleted"]) == ("Your code is 1234", "+15551230003", "SMS", True)
    assert m["source_row"] is None and "ROWID" in m["missing_fields"]
    assert len([x for x in rows["messages"] if not x["recovered_from"]]) == 5


def test_plaso_wal_database(tmp_path):
    """plaso's test_data/wal_database.db: rows 3 and 6 deleted and row 4 changed in the WAL; every WAL frame and
    the main file's page are read; what is not live comes back once."""
    source = SHARED_TESTDATA / "log2timeline+plaso/test_data/wal_database.db"
    if not source.exists():
        pytest.skip(f"third-party test data absent: {source}")
    path = tmp_path / "wal_database.db"
    shutil.copyfile(source, path)
    shutil.copyfile(str(source) + "-wal", str(path) + "-wal")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    layouts = layouts_from(db)
    result = carve(path, Path(str(path) + "-wal"), layouts, {"MyTable"})
    sources = {c.recovered_from for c in result.cells}
    assert sources == {"main file page 2 (superseded)"} | {f"wal frame {n} (superseded)" for n in range(1, 6)}
    assert len(result.cells) == 54 and result.unmapped == 0
    new = _new_rows(result.cells, db, None, {lay.table.lower(): lay for lay in layouts})
    db.close()
    assert sorted((r.cell.rowid, r.cell.values[0], r.older) for r in new) == [
        (3, "Deleted Text 1", False), (4, "Committed Text 3", True), (6, "Deleted Text 2", False)]


def test_deleted_database_file_on_ext4(tmp_path):
    """A database the file system still holds after it was deleted is parsed (and carved); records say so."""
    missing = images.missing_tools("mke2fs", "debugfs")
    if missing:
        pytest.skip(f"tools not installed: {', '.join(missing)}")
    path = tmp_path / "mmssms.db"
    db = _sms_db(path, 60)
    db.execute("DELETE FROM sms WHERE _id % 10 = 0")
    db.close()
    inside = "data/data/com.android.providers.telephony/databases/mmssms.db"
    image = images.ext4_image(tmp_path / "ext4.img", {inside: path.read_bytes()}, deleted=[inside])
    from click.testing import CliRunner

    from artifacts.store import Store
    from cli import main
    case = tmp_path / "case"
    assert CliRunner().invoke(main, ["case", "init", str(case)]).exit_code == 0
    result = CliRunner().invoke(main, ["ingest", str(case), str(image), "--device-id", "d1", "--quiet"])
    assert result.exit_code == 0, result.output
    store = Store(case / "case.sqlite")
    try:
        msgs = list(store.rows("messages"))
        (run,) = [r for r in store.rows("parser_runs") if r["parser"] == "android-sms"]
    finally:
        store.close()
    assert msgs and all(m["source_deleted"] for m in msgs)
    carved = [m for m in msgs if m["recovered_from"]]
    assert _ids(carved) == _in_bytes(path, range(10, 61, 10)) and len(carved) >= 3
    assert (run["live_records"], run["carved_records"], run["carved_unmapped"]) == (54, len(carved), 0)
    status = CliRunner().invoke(main, ["status", str(case)])
    assert f"carved {len(carved)}" in status.output, status.output


# --- the C engine against the pure-Python reference ----------------------------------------------------------------
def _outcome(result):
    return result.cells, result.unmapped, result.truncated, result.note


def test_engine_is_built():
    """setup.py builds the C engine (the Makefile installs gcc and the Python headers); without it the carver
    falls back to the pure-Python reference, correct but some 20 times slower."""
    assert sqlite_cells._Engine is not None


def _sms_freed(tmp: Path) -> tuple[Path, set]:
    path = tmp / "mmssms.db"
    db = _sms_db(path)
    db.execute("DELETE FROM sms WHERE _id % 9 = 0 AND _id < 150")
    db.execute("DELETE FROM sms WHERE _id BETWEEN 220 AND 330")
    db.execute("UPDATE sms SET body = 'now longer than it was: ' || body WHERE _id % 11 = 0")  # cells move
    db.close()
    return path, {"sms"}


def _sms_long(tmp: Path) -> tuple[Path, set]:
    """Rows longer than a page: their overflow pages go to the freelist with them (or stay behind live ones)."""
    path = tmp / "mmssms.db"
    db = _sms_db(path, 120)
    db.execute("UPDATE sms SET body = body || ' ' || printf('%.*c', 3000 + _id * 37, 'y') WHERE _id % 4 = 0")
    db.execute("DELETE FROM sms WHERE _id % 8 = 0 OR _id BETWEEN 50 AND 70")
    db.close()
    return path, {"sms"}


def _sms_wal(tmp: Path) -> tuple[Path, set]:
    path = tmp / "mmssms.db"
    db = _sms_db(path, 150)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("DELETE FROM sms WHERE _id % 5 = 0")
    db.execute("UPDATE sms SET body = 'edited' WHERE _id % 7 = 0")
    db.execute("DELETE FROM sms WHERE _id BETWEEN 60 AND 90")
    shutil.copyfile(path, tmp / "copy.db")
    shutil.copyfile(str(path) + "-wal", tmp / "copy.db-wal")
    db.close()
    return tmp / "copy.db", {"sms"}


def _msgstore(tmp: Path) -> tuple[Path, set]:
    path = generate_msgstore(tmp / "msgstore.db", 900)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA secure_delete=OFF")
    db.execute("DELETE FROM message WHERE message_type = 0 AND (_id % 7 = 0 OR _id BETWEEN 400 AND 520)")
    db.execute("DELETE FROM jid WHERE _id % 3 = 0")
    db.close()
    return path, {"message", "jid", "chat"}


def _ios(tmp: Path) -> tuple[Path, set]:
    path = tmp / "sms.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA secure_delete=OFF")
    db.executescript(SCHEMA_IOS16 + ROWS_IOS16)
    db.execute("DELETE FROM chat_message_join WHERE message_id = 5")
    db.execute("DELETE FROM message WHERE ROWID = 5")
    db.close()
    return path, {"message", "chat_message_join"}


def _plaso(tmp: Path) -> tuple[Path, set]:
    source = SHARED_TESTDATA / "log2timeline+plaso/test_data/wal_database.db"
    if not source.exists():
        pytest.skip(f"third-party test data absent: {source}")
    path = tmp / "wal_database.db"
    shutil.copyfile(source, path)
    shutil.copyfile(str(source) + "-wal", str(path) + "-wal")
    return path, {"MyTable"}


@pytest.mark.parametrize("build", [_sms_freed, _sms_long, _sms_wal, _sms_root_grew, _msgstore, _ios, _plaso])
def test_engine_and_reference_agree(tmp_path, build):
    """The same cells (values, missing columns, labels, order), unmapped counts and truncation from the C engine
    and the pure-Python carver; the de-duplication with the engine's live index keeps the same rows as without."""
    path, wanted = build(tmp_path)
    wal = Path(str(path) + "-wal")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    layouts = layouts_from(db)
    by_name = {lay.table.lower(): lay for lay in layouts}
    native = carve(path, wal, layouts, wanted, native=True)
    reference = carve(path, wal, layouts, wanted, native=False)
    assert native.cells and _outcome(native) == _outcome(reference)
    if build is _sms_long:  # rows whose tail came back from freed overflow pages
        body = [c.name for c in by_name["sms"].columns].index("body")
        assert any(len(c.values[body] or "") > 3000 for c in native.cells)
    assert any(c.digest is not None for c in native.cells) and all(c.digest is None for c in reference.cells)
    for limit in (1, len(native.cells) // 2):
        assert _outcome(carve(path, wal, layouts, wanted, limit, native=True)) == \
            _outcome(carve(path, wal, layouts, wanted, limit, native=False))
    table = by_name[next(iter(wanted)).lower()]
    assert _usable(native.live, db, table)  # the index stands for this file: the fast path is what is compared
    fast = _new_rows(native.cells, db, None, by_name, native.live, native.repeated)
    slow = _new_rows(reference.cells, db, None, by_name)
    assert [(r.cell, r.older) for r in fast] == [(r.cell, r.older) for r in slow]
    db.close()


def test_engine_and_carver_are_freed(tmp_path):
    """The engine's overflow callback refers back to the carver: carve() breaks that cycle, so nothing of a carve
    (the live index holds megabytes per large table) outlives its result."""
    import gc

    path, wanted = _sms_freed(tmp_path)
    db = sqlite3.connect(path)
    layouts = layouts_from(db)
    db.close()
    result = carve(path, None, layouts, wanted, native=True)
    assert result.cells and result.live is not None
    del result
    gc.collect()
    assert not [o for o in gc.get_objects() if isinstance(o, sqlite_cells.Carver)]


def test_live_index_of_another_file_is_not_used(tmp_path):
    """An index whose row counts disagree with the connection (a rebuilt copy, a walk cut short) is ignored."""
    path, wanted = _sms_freed(tmp_path)
    other = tmp_path / "other" / "mmssms.db"
    other.parent.mkdir()
    _sms_db(other, 30).close()
    db = sqlite3.connect(f"file:{other}?mode=ro", uri=True)
    layouts = layouts_from(db)
    result = carve(path, None, layouts, wanted, native=True)
    assert not _usable(result.live, db, layouts_from(db)[[lay.table for lay in layouts].index("sms")])
    db.close()


# --- fuzzing: mutated pages never crash or hang the carver ---------------------------------------------------------

def _fuzz_base(tmp: Path) -> tuple[bytes, bytes, list]:
    build = tmp / "fuzz-build"
    build.mkdir(exist_ok=True)
    db = _sms_db(build / "f.db", 120)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("DELETE FROM sms WHERE _id % 4 = 0")
    db.execute("UPDATE sms SET body = 'changed' WHERE _id % 7 = 0")
    data, wal = (build / "f.db").read_bytes(), (build / "f.db-wal").read_bytes()
    layouts = layouts_from(db)
    db.close()
    return data, wal, layouts


_FUZZ: dict = {}


@settings(max_examples=int(os.environ.get("CARVE_FUZZ_EXAMPLES", "60")), deadline=None,
          derandomize="CARVE_FUZZ_EXAMPLES" not in os.environ,  # seeded in the suite, random in a long run
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 1 << 20), st.binary(min_size=1, max_size=64)), max_size=12),
       st.booleans(), st.integers(0, 1 << 20))
def test_fuzz_mutated_pages(tmp_path, edits, in_wal, cut):
    if "base" not in _FUZZ:
        _FUZZ["base"] = _fuzz_base(tmp_path)
    data, wal, layouts = _FUZZ["base"]
    target = bytearray(wal if in_wal else data)
    for at, chunk in edits:
        at %= max(len(target), 1)
        target[at:at + len(chunk)] = chunk
    if cut % 5 == 0:
        del target[cut % max(len(target), 1):]
    db_bytes, wal_bytes = (data, bytes(target)) if in_wal else (bytes(target), wal)
    path = tmp_path / "fuzz.db"
    path.write_bytes(db_bytes)
    Path(str(path) + "-wal").write_bytes(wal_bytes)
    limit = 5000 if cut % 3 else 7  # sometimes a cell limit the carve reaches
    result = carve(path, Path(str(path) + "-wal"), layouts, {"sms"}, max_cells=limit, native=True)
    assert len(result.cells) <= limit
    for cell in result.cells:
        assert cell.table == "sms" and len(cell.values) == 17
    reference = carve(path, Path(str(path) + "-wal"), layouts, {"sms"}, max_cells=limit, native=False)
    assert _outcome(result) == _outcome(reference)
