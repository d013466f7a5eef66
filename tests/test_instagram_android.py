"""Instagram for Android direct.db, built at test time with the app's own CREATE statements.

The schema is the one the app executes (``messages``, ``threads``, ``session``; decompiled Instagram builds, as read
by ALEAPP ``instagram.py``): the current ``threads`` with folder columns, and the older one without them.
"""
import json

from tests import parser_harness
from tests.fixtures.sqlite_db import damage, make_db

PATH = "/data/data/com.instagram.android/databases/direct.db"
OWNER, PEER, OTHER = "1111", "2222", "3333"

THREADS_CURRENT = ("CREATE TABLE threads(_id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT, thread_id TEXT, "
                   "recipient_ids TEXT, last_activity_time INTEGER, is_permitted INTEGER, system_folder INTEGER, "
                   "thread_folder INTEGER, is_pinned INTEGER, is_unread_badging INTEGER, is_ad_thread INTEGER, "
                   "custom_folder_id TEXT, thread_info TEXT NOT NULL);")
THREADS_OLD = ("create table threads(_id integer primary key autoincrement, user_id text, thread_id text, "
               "recipient_ids text, last_activity_time integer, is_permitted integer, thread_info text not null);")
REST = """
    create table messages(_id integer primary key autoincrement, user_id text, server_item_id text,
        client_item_id text, thread_id text, recipient_ids text, timestamp integer not null,
        message_type text not null, text text, message text not null);
    CREATE INDEX threadId ON messages (thread_id);
    CREATE TABLE session(user_id TEXT PRIMARY KEY, value TEXT NOT NULL);
    create table mutations(_id integer primary key autoincrement, user_id text, mutation_type text not null,
        mutation text not null);
"""


def _q(value) -> str:
    return "'" + value.replace("'", "''") + "'"


def _thread(thread_id, title, members):
    info = {"thread_id": thread_id, "thread_title": title,
            "recipients": [{"pk": int(pk), "username": name, "full_name": name.title()} for pk, name in members],
            "inviter": {"pk": int(members[0][0]), "username": members[0][1]}}
    return f"INSERT INTO threads (user_id, thread_id, last_activity_time, thread_info) VALUES " \
           f"({_q(OWNER)}, {_q(thread_id)}, 1600000300000000, {_q(json.dumps(info))});"


def _message(mid, owner, thread_id, ts_us, kind, text, item):
    return (f"INSERT INTO messages (_id, user_id, server_item_id, thread_id, timestamp, message_type, text, message) "
            f"VALUES ({mid}, {_q(owner) if owner else 'NULL'}, 'item{mid}', {_q(thread_id)}, {ts_us}, {_q(kind)}, "
            f"{_q(text) if text is not None else 'NULL'}, {_q(json.dumps(item))});")


ROWS = "".join([
    f"INSERT INTO session VALUES ({_q(OWNER)}, '{{}}');",
    _thread("340282366841710300949128100000000001", "peer", [(PEER, "peer_user")]),
    _thread("340282366841710300949128100000000002", "Crew", [(PEER, "peer_user"), (OTHER, "other_user")]),
    _message(1, OWNER, "340282366841710300949128100000000001", 1600000000123456, "text", "meet at 9",
             {"user_id": int(PEER), "item_id": "item1", "item_type": "text", "text": "meet at 9"}),
    _message(2, OWNER, "340282366841710300949128100000000001", 1600000060000000, "text", "ok",
             {"user_id": int(OWNER), "item_id": "item2", "item_type": "text", "text": "ok"}),
    _message(3, OWNER, "340282366841710300949128100000000002", 1600000120000000, "media", None,
             {"user_id": int(OTHER), "item_id": "item3", "item_type": "media",
              "media": {"id": "m3", "taken_at": 1600000100,
                        "image_versions2": {"candidates": [{"url": "https://cdn.example/m3.jpg"}]}}}),
    _message(4, OWNER, "340282366841710300949128100000000001", 1600000180000000, "video_call_event", None,
             {"user_id": int(PEER), "item_id": "item4", "item_type": "video_call_event",
              "video_call_event": {"action": "video_call_started", "description": "peer started a video chat",
                                   "vc_id": 99, "did_join": False}}),
])
WAL_ROW = _message(5, OWNER, "340282366841710300949128100000000001", 1600000240000000, "text", "only in the WAL",
                   {"user_id": int(OWNER), "item_id": "item5", "text": "only in the WAL"})


def test_direct_messages_calls_and_wal(tmp_path):
    make_db(tmp_path / "src/direct.db", THREADS_CURRENT + REST + ROWS, wal_sql=WAL_ROW)
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: tmp_path / "src/direct.db",
                                                           PATH + "-wal": tmp_path / "src/direct.db-wal"},
                                        ["instagram-android-direct"])
    (outcome,) = outcomes
    assert outcome.outcome == "parsed" and outcome.records == 5 and outcome.from_wal == 1
    messages, calls = rows["messages"], rows["calls"]
    assert [m["source_row"] for m in messages] == ["1", "2", "3", "5"]
    first = messages[0]
    assert first["body"] == "meet at 9" and first["direction"] == "incoming"
    assert first["ts"] == "2020-09-13T12:26:40.123456Z" and first["ts_encoding"] == "unix_us"
    assert first["sender"] == PEER and first["sender_name"] == "peer_user" and first["recipients"] == [OWNER]
    assert first["thread_name"] == "peer" and first["platform"] == "Instagram"
    assert first["app"] == "com.instagram.android" and first["source_table"] == "messages"
    reply = messages[1]
    assert reply["direction"] == "outgoing" and reply["sender"] == OWNER and reply["recipients"] == [PEER]
    group = messages[2]
    assert group["message_type"] == "media" and group["body"] is None and group["direction"] == "incoming"
    assert group["recipients"] == [PEER, OWNER] and group["sender_name"] == "other_user"
    assert group["attachments"] == [{"url": "https://cdn.example/m3.jpg", "media_id": "m3", "taken_at": 1600000100}]
    assert messages[3]["body"] == "only in the WAL" and messages[3]["from_wal"] and not messages[0]["from_wal"]
    (call,) = calls
    assert call["ts"] == "2020-09-13T12:29:40.000000Z" and call["direction"] == "incoming"
    assert call["call_type"] == "video" and call["peers"] == [PEER] and call["status"] == "video_call_started"
    assert call["extra"]["description"] == "peer started a video chat" and call["source_row"] == "4"


def test_older_threads_schema_and_session_fallback(tmp_path):
    rows = ROWS.replace(f"VALUES (2, {_q(OWNER)}", "VALUES (2, NULL")
    make_db(tmp_path / "direct.db", THREADS_OLD + REST + rows)
    outcomes, stored = parser_harness.run(tmp_path / "run", {PATH: tmp_path / "direct.db"},
                                          ["instagram-android-direct"])
    assert outcomes[0].outcome == "parsed" and outcomes[0].records == 4
    # row 2 has no account column value: the session table names the account, so the direction still holds
    assert [m["direction"] for m in stored["messages"]] == ["incoming", "outgoing", "incoming"]


def test_damaged_direct_db_is_recovered(tmp_path):
    filler = "".join(_message(100 + i, OWNER, "340282366841710300949128100000000001", 1600000000000000 + i, "text",
                              "x" * 400, {"user_id": int(PEER), "text": "x"}) for i in range(150))
    good = make_db(tmp_path / "good.db", THREADS_CURRENT + REST + ROWS + filler)
    bad = damage(good, tmp_path / "bad.db", page=good.stat().st_size // 4096 // 2)
    outcomes, stored = parser_harness.run(tmp_path / "run", {PATH: bad}, ["instagram-android-direct"])
    (outcome,) = outcomes
    assert outcome.outcome == "parsed" and outcome.recovered and "damaged" in outcome.message
    assert 100 < outcome.records < 154
    assert all(m["recovered"] for m in stored["messages"])
