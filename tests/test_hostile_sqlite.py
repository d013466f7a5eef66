"""Hostile SQLite files through the real framework and the SMS parser: bit-flipped b-tree pages, a header that lies
about the page count, a WAL whose later frame fails its checksum (the frames before it count, as in SQLite), and a
database that makes SQLite run without end (stopped by the per-file time limit). Every run ends with an outcome."""
import shutil
import time

from artifacts.records import Message
from parsers.framework import parser
from tests import parser_harness
from tests.fixtures.android_sms import MMSSMS_SCHEMA
from tests.fixtures.sqlite_db import make_db

SMS_PATH = "/data/data/com.android.providers.telephony/databases/mmssms.db"
ROWS = "".join(f"INSERT INTO sms (_id, thread_id, address, date, type, body) VALUES ({i}, 1, '+1555', "
               f"{1600000000000 + i}, 1, '{'x' * 300} {i}');" for i in range(1, 200))


def _run(tmp_path, db, sidecars=()):
    files = {SMS_PATH: db, **{SMS_PATH + s: f"{db}{s}" for s in sidecars}}
    started = time.monotonic()
    outcomes, rows = parser_harness.run(tmp_path / "run", files, ["android-sms"])
    assert time.monotonic() - started < 60
    return outcomes[0], rows["messages"]


def test_bit_flipped_btree_pages_end_with_an_outcome(tmp_path):
    db = make_db(tmp_path / "src" / "mmssms.db", MMSSMS_SCHEMA + ROWS)
    data = bytearray(db.read_bytes())
    for offset in range(4096 + 8, len(data), 1531):  # flip bits all over the pages after the first
        data[offset] ^= 0x5A
    db.write_bytes(bytes(data))
    outcome, messages = _run(tmp_path, db)
    assert outcome.outcome in ("parsed", "no data", "error"), outcome.message
    assert outcome.outcome != "error" or "damaged database" in outcome.message


def test_header_claiming_a_huge_page_count(tmp_path):
    db = make_db(tmp_path / "src" / "mmssms.db", MMSSMS_SCHEMA + ROWS)
    data = bytearray(db.read_bytes())
    data[28:32] = (0x7FFFFFF0).to_bytes(4, "big")  # in-header database size
    data[92:96] = data[24:28]  # "version-valid-for" = change counter: SQLite is told to trust that size
    db.write_bytes(bytes(data))
    outcome, messages = _run(tmp_path, db)
    assert outcome.outcome in ("parsed", "error"), outcome.message
    if outcome.outcome == "parsed":
        assert len(messages) == 199


def test_wal_frame_with_a_bad_checksum_ends_the_log_there(tmp_path):
    wal_rows = ("INSERT INTO sms (_id, thread_id, address, date, type, body) VALUES (500, 1, '+1', 1600000500000, 1,"
                " 'first wal commit');"
                "INSERT INTO sms (_id, thread_id, address, date, type, body) VALUES (501, 1, '+1', 1600000501000, 1,"
                " 'second wal commit');")
    db = make_db(tmp_path / "src" / "mmssms.db", MMSSMS_SCHEMA + ROWS, wal_sql=wal_rows)
    wal = tmp_path / "src" / "mmssms.db-wal"
    intact = tmp_path / "intact"
    intact.mkdir()
    shutil.copyfile(db, intact / "mmssms.db")
    shutil.copyfile(wal, intact / "mmssms.db-wal")
    data = bytearray(wal.read_bytes())
    data[-100] ^= 0xFF  # inside the last frame's page: its checksum fails
    wal.write_bytes(bytes(data))
    outcome, messages = _run(tmp_path, db, ["-wal"])
    bodies = {m["body"] for m in messages if not m["recovered_from"]}  # what SQLite itself reads
    assert outcome.outcome == "parsed" and "first wal commit" in bodies and "second wal commit" not in bodies
    assert [m["from_wal"] for m in messages if m["body"] == "first wal commit"] == [True]
    # the carver still shows the frame SQLite stopped at, flagged as coming after the last valid checksum
    carved = [m for m in messages if m["recovered_from"] and m["body"] == "second wal commit"]
    assert carved and all("after last valid checksum" in m["recovered_from"] and m["deleted"] for m in carved)
    whole, all_messages = _run(tmp_path / "whole", intact / "mmssms.db", ["-wal"])
    assert "second wal commit" in {m["body"] for m in all_messages}  # the intact log has both commits


@parser(name="test-endless-query", app="org.example.endless", paths=["*/org.example.endless/databases/e.db"],
        requires={"t": {"x"}}, source="test fixture")
def _endless(db, ctx):
    """A query SQLite never finishes, as a cyclic structure in a hostile file would make it."""
    count = db.execute("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                       "SELECT count(*) FROM c").fetchone()[0]
    yield Message(app=ctx.app, body=str(count), ts=None, prov=ctx.prov("t", 1))


def test_a_run_that_never_ends_is_stopped_by_the_time_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("FORENSICS_PARSER_TIME_LIMIT", "1")
    db = make_db(tmp_path / "e.db", "CREATE TABLE t (x); INSERT INTO t VALUES (1);")
    started = time.monotonic()
    outcomes, rows = parser_harness.run(tmp_path / "run", {"/data/data/org.example.endless/databases/e.db": db},
                                        ["test-endless-query"])
    assert time.monotonic() - started < 30
    assert outcomes[0].outcome == "error" and "time limit of 1 s per file" in outcomes[0].message
    assert rows["messages"] == []
