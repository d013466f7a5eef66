"""Burner for Android: plaso's real burners.sqlite (a burners.db from an Android 13 phone), and fixtures built with
the app's own CREATE statements."""
import pytest

from tests import parser_harness
from tests.conftest_paths import TESTDATA
from tests.fixtures.burner_android import BURNERS_SCHEMA
from tests.fixtures.sqlite_db import damage_leaf, make_db

PATH = "/data/user/0/com.adhoclabs.burner/databases/burners.db"
PARSERS = ["burner-android-messages", "burner-android-numbers", "burner-android-contacts"]
USER, BURNER, SPARE = "3f1c0c4e-0000-4000-8000-00000000000a", "b-0001", "b-0002"
LINE, SPARE_LINE, PEER = "+15550001111", "+15550002222", "+15559998888"


def test_real_burners_db(tmp_path):
    real = TESTDATA / "log2timeline+plaso/test_data/android/burners.sqlite"
    if not real.exists():
        pytest.skip(f"third-party test data absent: {real}")
    outcomes, rows = parser_harness.run(tmp_path, {PATH: real}, PARSERS)
    assert {o.spec.name: (o.outcome, o.records) for o in outcomes} == {
        "burner-android-messages": ("parsed", 16), "burner-android-numbers": ("parsed", 1),
        "burner-android-contacts": ("parsed", 4)}
    texts, calls = rows["messages"], rows["calls"]
    assert len(texts) == 14 and len(calls) == 2
    first = texts[0]
    assert first["body"] == "You there?" and first["direction"] == "outgoing"
    assert first["ts"] == "2022-12-01T18:16:30.384000Z" and first["ts_raw"] == "1669918590384"
    assert first["sender"] == "+19102484781" and first["recipients"] == ["+19198887386"]
    assert (first["source_table"], first["source_row"]) == ("messages", "1")
    reply = texts[2]
    assert reply["body"] == "Yep. How many numbers do you have?" and reply["direction"] == "incoming"
    assert (reply["sender"], reply["sender_name"], reply["recipients"]) == (
        "+19198887386", "This Is DFIR Two", ["+19102484781"])
    picture = texts[8]
    assert picture["body"] is None and picture["message_type"] == "mms" and picture["attachments"] == [
        {"url": "https://s3.amazonaws.com/burner-mms/prod/248d9fad-db20-417e-87be-2c09a83d4ef6.jpg"}]
    assert [(c["direction"], c["peers"], c["duration_s"], c["answered"], c["source_row"]) for c in calls] == [
        ("incoming", ["+19198887386"], 120, True, "25"), ("outgoing", ["+19198887386"], 120, True, "27")]
    (number,) = rows["accounts"]
    assert (number["phone"], number["display_name"], number["ts"]) == (
        "+19102484781", "My Burner", "2022-12-01T17:19:27.768000Z")
    assert number["extra"]["expiration_date"] == "2022-12-31T17:19:27.768000Z"
    assert (number["extra"]["total_minutes"], number["extra"]["remaining_minutes"]) == (50, 46)
    assert [(c["name"], c["phones"]) for c in rows["contacts"]] == [
        (None, ["+19807771839"]), (None, ["+17708647926"]), (None, ["+19199476091"]),
        ("This Is DFIR Two", ["+19198887386"])]


def _message(row_id, text, message_type, direction, created, burner=BURNER, **more):
    columns = {"_id": row_id, "message_id": f"uuid-{row_id}", "message": text, "contact_phone_number": PEER,
               "message_type": message_type, "date_created": created, "last_updated_date": created,
               "user_id": USER, "burner_id": burner, "direction": direction, **more}
    values = ", ".join("NULL" if v is None else repr(v) for v in columns.values())
    return f"INSERT INTO messages ({', '.join(columns)}) VALUES ({values});"


ROWS = f"""
INSERT INTO burners (_id, burner_id, phone_number_id, user_id, name, alias, features, total_minutes,
                     remaining_minutes, total_texts, remaining_texts, expiration_date, date_created, disabled)
    VALUES (3, '{BURNER}', '{LINE}', '{USER}', 'Work', NULL, '[]', 50, 40, 100, 97, 1602592000000,
            1600000000000, 0),
           (4, '{SPARE}', '{SPARE_LINE}', '{USER}', NULL, 'Spare', '[]', 20, 20, 50, 50, 1602592000000,
            1600000100000, 1);
INSERT INTO contacts (_id, contact_id, name, phone_number, date_created, last_updated_date, blocked, notes)
    VALUES (9, 'c-9', 'Dee', '{PEER}', 1590000000000, 1590000000000, 1, 'met at the bus station');
""" + "\n".join([
    _message(1, "new number, save it", 2, 2, 1600000200123, state=1, read=1, sid="SM1"),
    _message(2, "", 2, 1, 1600000260000, asset_url="https://s3.amazonaws.com/burner-mms/prod/x.jpg"),
    _message(3, "", 1, 1, 1600000320000, connected=1, duration=3, state=3),
    _message(4, "", 1, 2, 1600000380000, connected=0, duration=0, voice_url="https://voicemail/1.mp3"),
    _message(5, "from the spare", 2, 2, 1600000440000, burner=SPARE, last_updated_date=1600000441500),
])
WAL_ROW = _message(6, "only in the WAL", 2, 1, 1600000500000)


def test_fixture_texts_calls_numbers_and_wal(tmp_path):
    src = make_db(tmp_path / "src/burners.db", BURNERS_SCHEMA + ROWS, wal_sql=WAL_ROW)
    files = {PATH: src, PATH + "-wal": tmp_path / "src/burners.db-wal"}
    outcomes, rows = parser_harness.run(tmp_path / "run", files, PARSERS)
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "burner-android-messages": ("parsed", 6, 1), "burner-android-numbers": ("parsed", 2, 0),
        "burner-android-contacts": ("parsed", 1, 0)}
    m = rows["messages"]
    assert [x["source_row"] for x in m] == ["1", "2", "5", "6"]
    assert (m[0]["direction"], m[0]["sender"], m[0]["recipients"], m[0]["body"]) == (
        "outgoing", LINE, [PEER], "new number, save it")
    assert m[0]["ts"] == "2020-09-13T12:30:00.123000Z" and m[0]["ts_encoding"] == "unix_ms"
    assert m[0]["extra"] == {"message_id": "uuid-1", "burner_id": BURNER, "burner_number": LINE, "state": 1,
                             "read": 1, "sid": "SM1", "send_status": 0}
    assert (m[1]["direction"], m[1]["sender"], m[1]["sender_name"], m[1]["recipients"]) == (
        "incoming", PEER, "Dee", [LINE])
    assert m[1]["body"] is None and m[1]["message_type"] == "mms" and m[1]["thread_name"] == "Dee"
    assert m[2]["sender"] == SPARE_LINE and m[2]["extra"]["last_updated"] == "2020-09-13T12:34:01.500000Z"
    assert m[3]["from_wal"] and not any(x["from_wal"] for x in m[:3])
    calls = rows["calls"]
    assert [(c["direction"], c["peers"], c["peer_name"], c["duration_s"], c["answered"]) for c in calls] == [
        ("incoming", [PEER], "Dee", 180, True), ("outgoing", [PEER], "Dee", 0, False)]
    assert calls[0]["extra"]["duration_minutes"] == 3 and calls[1]["extra"]["voice_url"] == "https://voicemail/1.mp3"
    numbers = rows["accounts"]
    assert [(a["phone"], a["display_name"], a["user_id"], a["extra"]["disabled"]) for a in numbers] == [
        (LINE, "Work", USER, 0), (SPARE_LINE, "Spare", USER, 1)]
    assert numbers[0]["extra"]["expiration_date"] == "2020-10-13T12:26:40.000000Z"
    (contact,) = rows["contacts"]
    assert (contact["name"], contact["phones"], contact["note"], contact["extra"]["blocked"]) == (
        "Dee", [PEER], "met at the bus station", 1)

    # the same database without its -wal: the WAL-only text is absent
    outcomes, rows = parser_harness.run(tmp_path / "nowal", {PATH: src}, ["burner-android-messages"])
    assert [x["source_row"] for x in rows["messages"]] == ["1", "2", "5"]


def test_messages_without_burners_or_contacts(tmp_path):
    """Only the messages table: the texts keep the other party's number; the burner line is unknown."""
    path = make_db(tmp_path / "only.db", BURNERS_SCHEMA + "DROP TABLE burners; DROP TABLE contacts;"
                   + _message(1, "hi", 2, 1, 1600000200000))
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: path}, PARSERS)
    assert {o.spec.name: o.outcome for o in outcomes} == {"burner-android-messages": "parsed",
                                                         "burner-android-numbers": "unsupported version",
                                                         "burner-android-contacts": "unsupported version"}
    (message,) = rows["messages"]
    assert (message["sender"], message["recipients"], message["sender_name"]) == (PEER, [], None)
    assert "burner_number" not in message["extra"]


def test_damaged_database_is_recovered(tmp_path):
    many = "\n".join(_message(i, f"{'x' * 300} {i}", 2, 1, 1600000000000 + i) for i in range(1, 201))
    good = make_db(tmp_path / "good.db", BURNERS_SCHEMA + many)
    bad = damage_leaf(good, tmp_path / "bad.db", "messages")
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: bad}, ["burner-android-messages"])
    (outcome,) = outcomes
    assert outcome.outcome == "parsed" and outcome.recovered and "damaged" in outcome.message
    assert 150 < outcome.records < 200
    assert all(m["recovered"] for m in rows["messages"])
