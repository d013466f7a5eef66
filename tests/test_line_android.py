"""LINE for Android naver_line and call_history, built at test time with the tables the app creates (column lists
of chat_history, chat, contacts, groups, membership and chat_member as an introspected naver_line gives them; the
call_history columns from the app's table definition), in the current layout and an older one with status 1/2."""
from tests import parser_harness
from tests.fixtures.sqlite_db import damage, make_db

NAVER = "/data/data/jp.naver.line.android/databases/naver_line"
CALLS = "/data/data/jp.naver.line.android/databases/call_history"
PEER, OTHER, GROUP = "u1234567890abcdef1234567890abcdef", "u99999999999999999999999999999999", "c0f1e2d3c4b5a6978"

CHAT_HISTORY = """CREATE TABLE chat_history (id INTEGER PRIMARY KEY AUTOINCREMENT, server_id TEXT, type INTEGER,
    chat_id TEXT, from_mid TEXT, content TEXT, created_time TEXT, delivered_time TEXT, status INTEGER,
    sent_count INTEGER, read_count INTEGER, location_name TEXT, location_address TEXT, location_phone TEXT,
    location_latitude INTEGER, location_longitude INTEGER, attachement_image INTEGER, attachement_image_height INTEGER,
    attachement_image_width INTEGER, attachement_image_size INTEGER, attachement_type INTEGER,
    attachement_local_uri TEXT, parameter TEXT, chunks BLOB);
"""
OTHER_TABLES = """
CREATE TABLE chat (chat_id TEXT PRIMARY KEY, chat_name TEXT, owner_mid TEXT, last_from_mid TEXT, last_message TEXT,
    last_created_time TEXT, message_count INTEGER, read_message_count INTEGER, latest_mentioned_position INTEGER,
    type INTEGER, is_notification INTEGER, skin_key TEXT, input_text TEXT, input_text_metadata TEXT,
    hide_member INTEGER, p_timer INTEGER, last_message_display_time TEXT, mid_p TEXT, is_archived INTEGER,
    read_up TEXT, is_groupcalling INTEGER);
CREATE TABLE contacts (m_id TEXT PRIMARY KEY, contact_id TEXT, contact_key TEXT, name TEXT, phonetic_name TEXT,
    server_name TEXT, addressbook_name TEXT, custom_name TEXT, status_msg TEXT, is_unread_status_msg INTEGER,
    picture_status TEXT, picture_path TEXT, relation INTEGER, status INTEGER, is_first INTEGER, capable_flags INTEGER,
    contact_kind INTEGER, contact_type INTEGER, buddy_category INTEGER, buddy_icon_type INTEGER, is_on_air INTEGER,
    hidden INTEGER, favorite INTEGER, updated_time INTEGER, created_time INTEGER NOT NULL);
CREATE TABLE groups (id TEXT PRIMARY KEY, name TEXT, picture_status TEXT, creator TEXT, status INTEGER,
    is_first INTEGER, display_type INTEGER, accepted_invitation_time INTEGER, updated_time INTEGER,
    created_time INTEGER NOT NULL);
CREATE TABLE membership (id TEXT, m_id TEXT, is_accepted INTEGER, updated_time INTEGER, created_time INTEGER,
    PRIMARY KEY (id, m_id));
CREATE TABLE chat_member (chat_id TEXT, mid TEXT, created_time TEXT, UNIQUE (chat_id, mid));
"""
ROWS = f"""
INSERT INTO chat (chat_id, chat_name, type) VALUES ('{PEER}', NULL, 1), ('{GROUP}', 'Warehouse', 2);
INSERT INTO contacts (m_id, name, server_name, custom_name, relation, created_time)
    VALUES ('{PEER}', 'Pat', 'Pat S', 'Boss', 0, 1590000000000), ('{OTHER}', NULL, 'Otto', NULL, 0, 1590000000000);
INSERT INTO groups (id, name, created_time) VALUES ('{GROUP}', 'Warehouse crew', 1590000000000);
INSERT INTO membership (id, m_id, is_accepted, created_time) VALUES ('{GROUP}', '{PEER}', 1, 0), ('{GROUP}', '{OTHER}', 1, 0);
INSERT INTO chat_history (id, server_id, type, chat_id, from_mid, content, created_time, delivered_time, status)
    VALUES (1, '900001', 1, '{PEER}', '{PEER}', 'are you there', '1600000000123', '0', 3),
           (2, '900002', 1, '{PEER}', NULL, 'yes', '1600000060000', '1600000060500', 3),
           (3, '900003', 1, '{GROUP}', '{OTHER}', 'group text', '1600000120000', '0', 3),
           (4, '900004', 1, '{GROUP}', '', 'to the group', '1600000130000', '0', 3);
INSERT INTO chat_history (id, type, chat_id, from_mid, content, created_time, status, attachement_type,
                          attachement_local_uri)
    VALUES (5, 1, '{PEER}', '{PEER}', NULL, '1600000140000', 3, 1, '/storage/emulated/0/LINE/img.jpg');
INSERT INTO chat_history (id, type, chat_id, from_mid, created_time, status, attachement_type, location_name,
                          location_address, location_latitude, location_longitude)
    VALUES (6, 1, '{PEER}', NULL, '1600000150000', 3, 15, 'Pier 39', 'Beach St, San Francisco', 37808673, -122409821);
INSERT INTO chat_history (id, type, chat_id, from_mid, created_time, status, parameter)
    VALUES (7, 4, '{PEER}', '{PEER}', '1600000160000', 3, 'TYPE	V	RESULT	NORMAL	DURATION	65000');
"""
WAL_ROW = (f"INSERT INTO chat_history (id, type, chat_id, from_mid, content, created_time, status) "
           f"VALUES (8, 1, '{PEER}', NULL, 'only in the WAL', '1600000240000', 3);")


def test_messages_locations_contacts_and_wal(tmp_path):
    make_db(tmp_path / "src/naver_line", CHAT_HISTORY + OTHER_TABLES + ROWS, wal_sql=WAL_ROW)
    files = {NAVER: tmp_path / "src/naver_line", NAVER + "-wal": tmp_path / "src/naver_line-wal"}
    outcomes, rows = parser_harness.run(tmp_path / "run", files, ["line-android-messages", "line-android-contacts"])
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "line-android-messages": ("parsed", 9, 1), "line-android-contacts": ("parsed", 2, 0)}
    m = rows["messages"]
    assert [x["source_row"] for x in m] == [str(i) for i in range(1, 9)]
    assert m[0]["direction"] == "incoming" and m[0]["sender"] == PEER and m[0]["sender_name"] == "Boss"
    assert m[0]["ts"] == "2020-09-13T12:26:40.123000Z" and m[0]["ts_raw"] == "1600000000123"
    assert m[0]["extra"] == {"server_id": "900001", "type": 1, "status": 3, "delivered_time": "0"}
    assert m[1]["direction"] == "outgoing" and m[1]["sender"] is None and m[1]["recipients"] == [PEER]
    assert m[2]["thread_name"] == "Warehouse" and m[2]["sender_name"] == "Otto" and m[2]["direction"] == "incoming"
    assert m[3]["direction"] == "outgoing" and m[3]["recipients"] == [PEER, OTHER]
    assert m[4]["message_type"] == "image" and m[4]["attachments"] == [{"path": "/storage/emulated/0/LINE/img.jpg"}]
    assert m[5]["message_type"] == "location" and m[6]["message_type"] == "call"
    assert m[6]["extra"]["call"] == {"TYPE": "V", "RESULT": "NORMAL", "DURATION": "65000"}
    assert m[7]["body"] == "only in the WAL" and m[7]["from_wal"] and not m[6]["from_wal"]
    (place,) = rows["locations"]
    assert (place["latitude"], place["longitude"]) == (37.808673, -122.409821) and place["label"] == "Pier 39"
    assert place["ts"] == "2020-09-13T12:29:10.000000Z" and place["source_row"] == "6"
    assert [(c["user_id"], c["name"]) for c in rows["contacts"]] == [(PEER, "Boss"), (OTHER, "Otto")]


def test_older_chat_history_without_optional_tables(tmp_path):
    make_db(tmp_path / "naver_line", f"""
        CREATE TABLE chat_history (id INTEGER PRIMARY KEY AUTOINCREMENT, chat_id TEXT, from_mid TEXT, content TEXT,
            created_time TEXT, status INTEGER, attachement_type INTEGER, attachement_local_uri TEXT);
        INSERT INTO chat_history VALUES (1, '{PEER}', '{PEER}', 'old in', '1400000000000', 1, 0, NULL),
                                        (2, '{PEER}', NULL, 'old out', '1400000001000', 2, 0, NULL);""")
    outcomes, rows = parser_harness.run(tmp_path / "run", {NAVER: tmp_path / "naver_line"},
                                        ["line-android-messages", "line-android-contacts"])
    assert {o.spec.name: o.outcome for o in outcomes} == {"line-android-messages": "parsed",
                                                          "line-android-contacts": "unsupported version"}
    assert [(x["direction"], x["extra"]["status"]) for x in rows["messages"]] == [("incoming", 1), ("outgoing", 2)]


CALL_HISTORY = """CREATE TABLE call_history (id INTEGER PRIMARY KEY AUTOINCREMENT, call_type TEXT, caller_mid TEXT,
    contact_id TEXT, caller_name TEXT, country_code TEXT, phone_number TEXT, start_time TEXT, end_time TEXT,
    duration INTEGER, spot_category TEXT, lineout_type TEXT, voip_type TEXT, voip_gc_media_type TEXT, result TEXT);
"""


def test_call_history(tmp_path):
    make_db(tmp_path / "src/call_history", CALL_HISTORY + f"""
        INSERT INTO call_history (id, call_type, caller_mid, caller_name, start_time, end_time, voip_type, result)
            VALUES (1, 'VO', '{PEER}', 'Pat', '1600000000250', '1600000065250', 'V', 'NORMAL'),
                   (2, 'AI', '{OTHER}', NULL, '1600000100000', '1600000100000', 'A', 'NO_ANSWER');""",
            wal_sql=f"INSERT INTO call_history (id, call_type, caller_mid, start_time, end_time, voip_type, "
                    f"voip_gc_media_type) VALUES (3, 'GI', '{GROUP}', '1600000200000', '1600000260000', 'G', 'AUDIO');")
    files = {CALLS: tmp_path / "src/call_history", CALLS + "-wal": tmp_path / "src/call_history-wal"}
    outcomes, rows = parser_harness.run(tmp_path / "run", files, ["line-android-calls"])
    assert (outcomes[0].outcome, outcomes[0].records, outcomes[0].from_wal) == ("parsed", 3, 1)
    c = rows["calls"]
    assert c[0]["ts"] == "2020-09-13T12:26:40.250000Z" and c[0]["direction"] == "outgoing"
    assert c[0]["call_type"] == "video" and c[0]["duration_s"] == 65.0 and c[0]["peers"] == [PEER]
    assert c[0]["peer_name"] == "Pat" and c[0]["status"] == "NORMAL"
    assert c[0]["extra"]["end"] == "2020-09-13T12:27:45.250000Z"
    assert c[1]["direction"] == "incoming" and c[1]["call_type"] == "audio" and c[1]["status"] == "NO_ANSWER"
    assert c[2]["call_type"] is None and c[2]["extra"]["voip_gc_media_type"] == "AUDIO" and c[2]["from_wal"]


def test_damaged_naver_line_is_recovered(tmp_path):
    filler = "".join(f"INSERT INTO chat_history (chat_id, from_mid, content, created_time) "
                     f"VALUES ('{PEER}', '{PEER}', '{'w' * 400}', '{1600000000000 + i}');" for i in range(150))
    good = make_db(tmp_path / "good", CHAT_HISTORY + OTHER_TABLES + ROWS + filler)
    bad = damage(good, tmp_path / "bad", page=good.stat().st_size // 4096 // 2)
    outcomes, rows = parser_harness.run(tmp_path / "run", {NAVER: bad}, ["line-android-messages"])
    assert outcomes[0].outcome == "parsed" and outcomes[0].recovered and 100 < outcomes[0].records < 158
    assert all(m["recovered"] for m in rows["messages"])
