"""TeleGuard Android and iOS: teleguard_database.db built with the columns ALEAPP and iLEAPP read."""
import pytest

from tests import parser_harness
from tests.fixtures import teleguard
from tests.fixtures.sqlite_db import make_db

NAMES = ["teleguard-messages", "teleguard-calls", "teleguard-contacts", "teleguard-account"]


@pytest.mark.parametrize("path", [teleguard.ANDROID, teleguard.IOS])
def test_messages_calls_contacts_owner_and_wal(tmp_path, path):
    db = teleguard.build(tmp_path / "src" / "teleguard_database.db", wal=True)
    outcomes, rows = parser_harness.run(tmp_path / "run", parser_harness.with_wal(path, db),
                                        NAMES)
    # ALEAPP's message list holds all 5 rows, calls included; here the 2 CALL rows are calls instead
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "teleguard-messages": ("parsed", 3, 1), "teleguard-calls": ("parsed", 2, 0),
        "teleguard-contacts": ("parsed", 1, 0), "teleguard-account": ("parsed", 1, 0)}
    incoming, outgoing, wal = rows["messages"]
    assert (incoming["direction"], incoming["sender"], incoming["recipients"], incoming["body"], incoming["ts"]) == (
        "incoming", teleguard.PEER, [teleguard.OWNER], "job in Zurich", "2023-11-14T22:13:20.000000Z")
    assert incoming["extra"] == {"message_id": "m1", "status": "READ", "edited": False,
                                 "user_time": "2023-11-14T22:13:20.100000Z"}
    assert (outgoing["direction"], outgoing["extra"]["edited"]) == ("outgoing", True)
    assert wal["from_wal"] and wal["body"] == "wal only"
    out, missed = rows["calls"]
    assert (out["direction"], out["peers"], out["answered"], out["extra"]["result"], out["extra"]["call_type"]) == (
        "outgoing", [teleguard.PEER], True, "01:05", "AUDIO")
    assert (missed["direction"], missed["peers"], missed["answered"]) == ("incoming", [teleguard.PEER], False)
    (contact,) = rows["contacts"]
    assert (contact["name"], contact["user_id"], contact["ts"], contact["extra"]["last_visit"]) == (
        "Recruiter", teleguard.PEER, "2023-11-14T22:13:20.000000Z", "2023-11-14T22:18:20.000000Z")
    assert rows["accounts"][0]["user_id"] == teleguard.OWNER


def test_without_owner_or_optional_columns(tmp_path):
    db = make_db(tmp_path / "teleguard_database.db", """
        CREATE TABLE messages (id TEXT, createDate INTEGER, type TEXT, sender TEXT, receiver TEXT, content TEXT,
            chatId TEXT);
        INSERT INTO messages VALUES ('m1', 1700000000000, 'TEXT', 'A', 'B', 'hi', 'c');
    """)
    outcomes, rows = parser_harness.run(tmp_path / "run", {teleguard.ANDROID: db}, NAMES)
    assert {o.spec.name: o.outcome for o in outcomes} == {
        "teleguard-messages": "parsed", "teleguard-calls": "unsupported version",
        "teleguard-contacts": "unsupported version", "teleguard-account": "unsupported version"}
    assert (rows["messages"][0]["direction"], rows["messages"][0]["extra"]) == (None, {"message_id": "m1"})


def test_damaged_copy_is_recovered(tmp_path):
    many = ("WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 499) INSERT INTO messages "
            "(id, createDate, type, sender, receiver, content, chatId) SELECT 'x' || i, 1700000000000 + i, 'TEXT', "
            "'A', 'B', printf('%.300c', 'y'), 'c' FROM n;")
    outcome = parser_harness.run_damaged(tmp_path, teleguard.ANDROID, teleguard.SCHEMA + teleguard.ROWS + many,
                                         "teleguard-messages")
    assert outcome.recovered and outcome.outcome == "parsed" and 300 < outcome.records <= 502
