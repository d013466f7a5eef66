"""Google Hangouts for Android: plaso's real babel.db, and fixtures built with the app's own CREATE statements."""
import pytest

from tests import parser_harness
from tests.conftest_paths import TESTDATA
from tests.fixtures.hangouts_android import BABEL_SCHEMA
from tests.fixtures.sqlite_db import damage_leaf, make_db

PATH = "/data/data/com.google.android.talk/databases/babel1.db"
PARSERS = ["hangouts-android-messages", "hangouts-android-participants"]
ME, BOB, DANA = "100000000000000000001", "100000000000000000002", "+15551230003"
CHAT, GROUP = "UgzChatWithBobAaABAagB", "UgzNightShiftAaABAagB"


def test_real_babel_db(tmp_path):
    real = TESTDATA / "log2timeline+plaso/test_data/android/babel.db"
    if not real.exists():
        pytest.skip(f"third-party test data absent: {real}")
    outcomes, rows = parser_harness.run(tmp_path, {PATH: real}, PARSERS)
    assert {o.spec.name: (o.outcome, o.records) for o in outcomes} == {
        "hangouts-android-messages": ("parsed", 14), "hangouts-android-participants": ("parsed", 2)}
    messages = rows["messages"]
    assert [m["direction"] for m in messages].count("outgoing") == 6
    assert [m["direction"] for m in messages].count("incoming") == 8
    john, betty = "108778762612058411235", "112549252980293459976"
    second = messages[1]  # plaso's own spot check
    assert second["body"] == "How are you?" and second["direction"] == "incoming"
    assert second["ts"] == "2017-07-17T04:41:54.326967Z" and second["ts_encoding"] == "unix_us"
    assert second["sender"] == john and second["sender_name"] == "John Macron" and second["recipients"] == [betty]
    assert second["thread_id"] == "UgzjuBCEJq0DKNmrqBB4AaABAagBiLyIDA" and second["thread_name"] == "John Macron"
    assert (second["source_table"], second["source_row"]) == ("messages", "2")
    sent = messages[2]
    assert sent["body"] == "Hey. Better now ;)" and sent["direction"] == "outgoing"
    assert sent["sender"] == betty and sent["sender_name"] == "Hallym Betty" and sent["recipients"] == [john]
    escaped = messages[6]
    assert escaped["body"] == "It's too late now! U promised"
    assert escaped["extra"]["text_raw"] == "It&#39;s too late now! U promised"
    (account,) = rows["accounts"]
    assert (account["user_id"], account["display_name"], account["email"]) == (
        betty, "Hallym Betty", "bettyhallym@gmail.com")
    (contact,) = rows["contacts"]
    assert (contact["user_id"], contact["name"], contact["extra"]["blocked"]) == (john, "John Macron", 1)


ROWS = f"""
INSERT INTO conversations (_id, conversation_id, conversation_type, name, generated_name)
    VALUES (1, '{CHAT}', 1, NULL, 'Bob Stone'), (2, '{GROUP}', 2, 'Night Shift', 'Bob, Dana');
INSERT INTO participants (_id, gaia_id, chat_id, phone_id, first_name, full_name, fallback_name, blocked)
    VALUES (1, '{ME}', '{ME}', NULL, 'Casey', 'Casey Me', 'casey@example.com', 0),
           (2, '{BOB}', '{BOB}', NULL, 'Bob', 'Bob Stone', 'Bob Stone', 0),
           (3, NULL, NULL, '{DANA}', NULL, NULL, '{DANA}', 1);
INSERT INTO conversation_participants (participant_row_id, conversation_id, sequence, active)
    VALUES (1, '{CHAT}', 1, 1), (2, '{CHAT}', 1, 1), (1, '{GROUP}', 1, 1), (2, '{GROUP}', 1, 1),
           (3, '{GROUP}', 1, 1);
INSERT INTO messages (_id, message_id, conversation_id, author_chat_id, author_gaia_id, text, timestamp, status,
                      type, latitude, longitude, address, remote_url, attachment_content_type)
    VALUES (1, 'm1', '{CHAT}', '{BOB}', '{BOB}', 'where r u &amp; who with?', 1600000000123456, 4, 2,
            0.0, 0.0, NULL, NULL, NULL),
           (2, 'm2', '{CHAT}', '{ME}', '{ME}', 'here', 1600000060000000, 4, 1, 40.7128, -74.006,
            '12 Main St', NULL, NULL),
           (3, 'm3', '{GROUP}', '{ME}', '{ME}', NULL, 1600000120000000, 3, 1, NULL, NULL, NULL,
            'https://lh3.googleusercontent.com/photo1', 'multipart/mixed'),
           (4, 'm4', '{GROUP}', '{BOB}', '{BOB}', NULL, 1600000180000000, 4, 4, NULL, NULL, NULL, NULL, NULL);
INSERT INTO multipart_attachments (message_id, conversation_id, url, content_type)
    VALUES ('m3', '{GROUP}', 'https://lh3.googleusercontent.com/part1', 'image/jpeg'),
           ('m3', '{GROUP}', 'https://lh3.googleusercontent.com/part2', 'image/png');
"""
WAL_ROW = (f"INSERT INTO messages (_id, message_id, conversation_id, author_chat_id, text, timestamp, type) "
           f"VALUES (5, 'm5', '{CHAT}', '{BOB}', 'only in the WAL', 1600000240000000, 2);")


def test_fixture_messages_participants_and_wal(tmp_path):
    src = make_db(tmp_path / "src/babel1.db", BABEL_SCHEMA + ROWS, wal_sql=WAL_ROW)
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: src, PATH + "-wal": tmp_path / "src/babel1.db-wal"},
                                        PARSERS)
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "hangouts-android-messages": ("parsed", 6, 1), "hangouts-android-participants": ("parsed", 3, 0)}
    m = rows["messages"]
    assert [x["source_row"] for x in m] == ["1", "2", "3", "4", "5"]
    assert m[0]["body"] == "where r u & who with?" and m[0]["extra"]["text_raw"] == "where r u &amp; who with?"
    assert m[0]["ts"] == "2020-09-13T12:26:40.123456Z" and m[0]["direction"] == "incoming"
    assert (m[0]["sender"], m[0]["sender_name"], m[0]["recipients"]) == (BOB, "Bob Stone", [ME])
    assert m[0]["thread_name"] == "Bob Stone" and m[0]["extra"]["status"] == 4
    assert m[1]["direction"] == "outgoing" and m[1]["recipients"] == [BOB] and "text_raw" not in m[1]["extra"]
    assert m[2]["thread_name"] == "Night Shift" and m[2]["recipients"] == [BOB, DANA] and m[2]["body"] is None
    assert m[2]["attachments"] == [
        {"url": "https://lh3.googleusercontent.com/photo1", "mime_type": "multipart/mixed"},
        {"url": "https://lh3.googleusercontent.com/part1", "mime_type": "image/jpeg"},
        {"url": "https://lh3.googleusercontent.com/part2", "mime_type": "image/png"}]
    assert m[3]["direction"] is None and m[3]["extra"]["type"] == 4
    assert m[4]["body"] == "only in the WAL" and m[4]["from_wal"] and not any(x["from_wal"] for x in m[:4])
    (place,) = rows["locations"]
    assert (place["latitude"], place["longitude"], place["label"]) == (40.7128, -74.006, "12 Main St")
    assert place["ts"] == "2020-09-13T12:27:40.000000Z" and place["source_row"] == "2"
    (account,) = rows["accounts"]
    assert (account["user_id"], account["display_name"], account["email"]) == (ME, "Casey Me", "casey@example.com")
    assert [(c["user_id"], c["name"], c["phones"], c["extra"]["blocked"]) for c in rows["contacts"]] == [
        (BOB, "Bob Stone", [], 0), (None, DANA, [DANA], 1)]

    # the same database without its -wal: the WAL-only message is absent
    outcomes, rows = parser_harness.run(tmp_path / "nowal", {PATH: src}, ["hangouts-android-messages"])
    assert [x["source_row"] for x in rows["messages"]] == ["1", "2", "3", "4"]


def test_messages_without_the_side_tables(tmp_path):
    """Only a messages table (no participants, conversations or attachments): ids are kept, names are absent."""
    path = make_db(tmp_path / "bare.db", """
        CREATE TABLE messages (_id INTEGER PRIMARY KEY, message_id TEXT, conversation_id TEXT, author_chat_id TEXT,
            text TEXT, timestamp INT, status INT, type INT);
        INSERT INTO messages VALUES (7, 'm7', 'c1', '555', 'hello', 1300000000000001, 4, 2);""")
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: path}, PARSERS)
    assert {o.spec.name: o.outcome for o in outcomes} == {"hangouts-android-messages": "parsed",
                                                         "hangouts-android-participants": "unsupported version"}
    (message,) = rows["messages"]
    assert (message["sender"], message["sender_name"], message["recipients"], message["thread_name"]) == (
        "555", None, [], None)
    assert message["ts"] == "2011-03-13T07:06:40.000001Z"


def test_damaged_database_is_recovered(tmp_path):
    many = "".join(f"INSERT INTO messages (_id, message_id, conversation_id, author_chat_id, text, timestamp, type) "
                   f"VALUES ({i}, 'm{i}', '{CHAT}', '{BOB}', '{'x' * 300} {i}', {1600000000000000 + i}, 2);"
                   for i in range(1, 301))
    good = make_db(tmp_path / "good.db", BABEL_SCHEMA + many)
    bad = damage_leaf(good, tmp_path / "bad.db", "messages")
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: bad}, ["hangouts-android-messages"])
    (outcome,) = outcomes
    assert outcome.outcome == "parsed" and outcome.recovered and "damaged" in outcome.message
    assert 250 < outcome.records < 300
    assert all(m["recovered"] for m in rows["messages"])
