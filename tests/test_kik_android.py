"""Kik for Android kikDatabase.db, built at test time with the app's own CREATE statements (decompiled Kik builds:
the current messagesTable with markdown_body and core_message_proto_bytes, and the earliest one the upgrade code
extends with bin_id, sys_msg, stat_msg, content_id and app_id)."""
from tests import parser_harness
from tests.fixtures.sqlite_db import damage, make_db

PATH = "/data/data/kik.android/databases/4886a0b8-37a0-4466-b952-b83061c70685.kikDatabase.db"
ME, BOB, CARL = "me_xyz@talk.kik.com", "bob_abc@talk.kik.com", "carl_q1w@talk.kik.com"
GROUP = "1100039970161_g@groups.kik.com"

CONTACTS = """CREATE TABLE KIKcontactsTable (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid VARCHAR, display_name VARCHAR,
    local_name VARCHAR, user_name VARCHAR, in_roster BOOLEAN,photo_url VARCHAR, photo_timestamp VARCHAR, is_stub BOOLEAN,
    is_group BOOLEAN,is_blocked BOOLEAN,is_ignored BOOLEAN,pending_convo_clear BOOLEAN,pending_in_roster BOOLEAN,
    pending_is_blocked BOOLEAN,roster_operation_attempts INT,verified BOOLEAN,public_key BLOB,
    is_public_key_resolved BOOLEAN,is_user_admin BOOLEAN,group_hashtag VARCHAR,is_user_removed BOOLEAN,
    content_links BLOB );
CREATE TABLE KIKContentTable (_id INTEGER PRIMARY KEY AUTOINCREMENT, content_id VARCHAR, content_type INT,
    content_name VARCHAR, content_string VARCHAR);
"""
MESSAGES_CURRENT = """CREATE TABLE messagesTable (_id INTEGER PRIMARY KEY AUTOINCREMENT, body VARCHAR, markdown_body VARCHAR,
    partner_jid VARCHAR, was_me INT, read_state INT, uid VARCHAR, length INTEGER, timestamp LONG, bin_id VARCHAR,
    sys_msg VARCHAR, stat_msg VARCHAR, stat_user_jid VARCHAR, stat_special_visibility BOOLEAN,req_read_reciept BOOLEAN,
    content_id VARCHAR, app_id VARCHAR, message_retry_count INT, encryption_failure BOOLEAN,
    render_instructions VARCHAR, friend_attr_id INT , server_sig VARCHAR ,mentioned_contact_id VARCHAR,
    core_message_proto_bytes BLOB,is_latest_from_correspondent_in_bin BOOL,is_big_emoji BOOL,friend_made_jid VARCHAR,
    kin_tipped INT);
"""
MESSAGES_EARLIEST = """CREATE TABLE messagesTable (_id INTEGER PRIMARY KEY AUTOINCREMENT, body VARCHAR, partner_jid VARCHAR,
    was_me INT, read_state INT, uid VARCHAR, length INTEGER, timestamp LONG);
"""
ROWS = f"""
INSERT INTO KIKcontactsTable (jid, display_name, user_name, in_roster, is_group, is_blocked, photo_timestamp)
    VALUES ('{BOB}', 'Bob B', 'bob_abc', 1, 0, 0, '1599999999000'), ('{CARL}', 'Carl', 'carl_q1w', 0, 0, 1, '0'),
           ('{GROUP}', 'Night Shift', NULL, 1, 1, 0, NULL);
INSERT INTO KIKContentTable (content_id, content_type, content_name, content_string)
    VALUES ('8d1c3b7e-0000-4000-8000-000000000001', 0, 'file-name', 'IMG_1.jpg'),
           ('8d1c3b7e-0000-4000-8000-000000000001', 0, 'file-size', '2048'),
           ('8d1c3b7e-0000-4000-8000-000000000001', 0, 'app-name', 'Gallery'),
           ('8d1c3b7e-0000-4000-8000-000000000001', 0, 'preview', 'ignored');
INSERT INTO messagesTable (_id, body, partner_jid, was_me, read_state, uid, timestamp, bin_id, content_id)
    VALUES (1, 'where are you', '{BOB}', 0, 500, 'u1', 1600000000123, '{BOB}', NULL),
           (2, 'on my way', '{BOB}', 1, 400, 'u2', 1600000060000, '{BOB}', NULL),
           (3, NULL, '{CARL}', 0, 500, 'u3', 1600000120000, '{GROUP}', '8d1c3b7e-0000-4000-8000-000000000001'),
           (4, 'ok all', '{CARL}', 1, 400, 'u4', 1600000180000, '{GROUP}', '0');
INSERT INTO messagesTable (_id, body, partner_jid, was_me, timestamp, bin_id, sys_msg)
    VALUES (5, NULL, '{CARL}', 0, 1600000190000, '{GROUP}', 'Carl has joined the chat');
"""
WAL_ROW = (f"INSERT INTO messagesTable (_id, body, partner_jid, was_me, timestamp, bin_id) "
           f"VALUES (6, 'only in the WAL', '{BOB}', 0, 1600000240000, '{BOB}');")


def test_messages_contacts_and_wal(tmp_path):
    make_db(tmp_path / "src/kik.db", CONTACTS + MESSAGES_CURRENT + ROWS, wal_sql=WAL_ROW)
    files = {PATH: tmp_path / "src/kik.db", PATH + "-wal": tmp_path / "src/kik.db-wal"}
    outcomes, rows = parser_harness.run(tmp_path / "run", files, ["kik-android-messages", "kik-android-contacts"])
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "kik-android-messages": ("parsed", 6, 1), "kik-android-contacts": ("parsed", 3, 0)}
    m = rows["messages"]
    assert m[0]["body"] == "where are you" and m[0]["direction"] == "incoming" and m[0]["sender"] == BOB
    assert m[0]["sender_name"] == "Bob B" and m[0]["thread_id"] == BOB and m[0]["recipients"] == []
    assert m[0]["ts"] == "2020-09-13T12:26:40.123000Z" and m[0]["ts_encoding"] == "unix_ms"
    assert m[0]["extra"] == {"uid": "u1", "read_state": 500} and m[0]["source_table"] == "messagesTable"
    assert m[1]["direction"] == "outgoing" and m[1]["sender"] is None and m[1]["recipients"] == [BOB]
    assert m[2]["thread_id"] == GROUP and m[2]["thread_name"] == "Night Shift" and m[2]["sender"] == CARL
    assert m[2]["attachments"] == [{"content_id": "8d1c3b7e-0000-4000-8000-000000000001", "name": "IMG_1.jpg",
                                    "size": "2048", "app": "Gallery"}]
    assert m[3]["recipients"] == [GROUP] and m[3]["attachments"] == []
    assert m[4]["message_type"] == "system" and m[4]["body"] == "Carl has joined the chat"
    assert m[5]["from_wal"] and not m[4]["from_wal"]
    c = rows["contacts"]
    assert [(x["user_id"], x["name"], x["handles"]) for x in c] == [
        (BOB, "Bob B", ["bob_abc"]), (CARL, "Carl", ["carl_q1w"]), (GROUP, "Night Shift", [])]
    assert c[1]["extra"]["is_blocked"] == 1 and c[2]["extra"]["is_group"] == 1
    assert c[0]["extra"]["photo_timestamp"] == "1599999999000"


def test_earliest_messages_table(tmp_path):
    make_db(tmp_path / "old.db", MESSAGES_EARLIEST +
            f"INSERT INTO messagesTable VALUES (1, 'hi', '{BOB}', 1, 400, 'u1', 2, 1400000000000);")
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: tmp_path / "old.db"},
                                        ["kik-android-messages", "kik-android-contacts"])
    assert {o.spec.name: o.outcome for o in outcomes} == {"kik-android-messages": "parsed",
                                                          "kik-android-contacts": "unsupported version"}
    (message,) = rows["messages"]
    assert message["thread_id"] == BOB and message["recipients"] == [BOB] and message["direction"] == "outgoing"
    assert message["ts"] == "2014-05-13T16:53:20.000000Z"


def test_core_database_is_not_taken_for_the_message_store(tmp_path):
    core = make_db(tmp_path / "core.db", "CREATE TABLE CoreTable (username TEXT, core_id TEXT, is_active INT);")
    outcomes, _ = parser_harness.run(tmp_path / "run", {"/data/data/kik.android/databases/kikCoreDatabase.db": core},
                                     ["kik-android-messages", "kik-android-contacts"])
    assert outcomes == []


def test_damaged_kik_database_is_recovered(tmp_path):
    filler = "".join(f"INSERT INTO messagesTable (body, partner_jid, was_me, timestamp, bin_id) "
                     f"VALUES ('{'z' * 400}', '{BOB}', 0, {1600000000000 + i}, '{BOB}');" for i in range(150))
    good = make_db(tmp_path / "good.db", CONTACTS + MESSAGES_CURRENT + ROWS + filler)
    bad = damage(good, tmp_path / "bad.db", page=good.stat().st_size // 4096 // 2)
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: bad}, ["kik-android-messages"])
    assert outcomes[0].outcome == "parsed" and outcomes[0].recovered and 100 < outcomes[0].records < 155
    assert all(m["recovered"] for m in rows["messages"])
