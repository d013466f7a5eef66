"""Snapchat for Android: arroyo.db built at test time with the conversation_message columns public parsers read
(ALEAPP ``snapchat.py``; the app does not publish its schema), message_content blobs written by Google's protobuf
library in the layout ALEAPP cross-checked (2>1 sender, 4>2 content type, 4>4>2>1 text, 6 times), the session
preferences file, and an older build's main.db Friend table."""
import uuid

import pytest

from tests import parser_harness
from tests.fixtures.sqlite_db import damage, make_db

descriptor_pb2 = pytest.importorskip("google.protobuf.descriptor_pb2", reason="the protobuf package writes the blobs")
from google.protobuf import descriptor_pool, message_factory  # noqa: E402

ARROYO = "/data/data/com.snapchat.android/databases/arroyo.db"
PREFS = "/data/data/com.snapchat.android/shared_prefs/user_session_shared_pref.xml"
MAIN_DB = "/data/data/com.snapchat.android/databases/main.db"
OWNER, FRIEND = "0b2f6c1e-8a1d-4c55-9e2b-3f4a5b6c7d8e", "7c9d0e1f-2a3b-4c5d-8e6f-0a1b2c3d4e5f"
CONVERSATION = "e1d2c3b4-a5f6-4789-8abc-def012345678"

T = descriptor_pb2.FieldDescriptorProto


def _message_class():
    proto = descriptor_pb2.FileDescriptorProto(name="arroyo_test.proto", package="arroyo_test")
    layout = {"Id": [(1, "uuid", T.TYPE_BYTES, None)],
              "Text": [(1, "text", T.TYPE_STRING, None)],
              "Body": [(2, "text", T.TYPE_MESSAGE, "Text")],
              "Content": [(2, "content_type", T.TYPE_INT32, None), (4, "body", T.TYPE_MESSAGE, "Body")],
              "Times": [(1, "created", T.TYPE_UINT64, None), (2, "sent", T.TYPE_UINT64, None)],
              "Root": [(2, "sender", T.TYPE_MESSAGE, "Id"), (4, "content", T.TYPE_MESSAGE, "Content"),
                       (6, "times", T.TYPE_MESSAGE, "Times")]}
    for name, fields in layout.items():
        message = proto.message_type.add(name=name)
        for number, field_name, kind, type_name in fields:
            field = message.field.add(name=field_name, number=number, type=kind, label=T.LABEL_OPTIONAL)
            if type_name:
                field.type_name = f".arroyo_test.{type_name}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("arroyo_test.Root"))


Root = _message_class()


def content(sender: str, content_type: int, text: str | None, created: int) -> str:
    root = Root()
    root.sender.uuid = uuid.UUID(sender).bytes
    root.content.content_type = content_type
    if text is not None:
        root.content.body.text.text = text
    root.times.created, root.times.sent = created, created + 5
    return root.SerializeToString().hex()


SCHEMA = """
CREATE TABLE conversation_message (client_conversation_id TEXT NOT NULL, client_message_id INTEGER NOT NULL,
    server_message_id INTEGER, sender_id TEXT, creation_timestamp INTEGER, read_timestamp INTEGER,
    content_type INTEGER, message_content BLOB, message_state_type TEXT, is_saved INTEGER, is_viewed_by_user INTEGER,
    created_on_device INTEGER, remote_media_count INTEGER, replies_count INTEGER, quoted_server_message_id INTEGER,
    PRIMARY KEY (client_conversation_id, client_message_id));
"""


def _row(mid, sender, content_type, text, created, read=None, on_device=0):
    return (f"INSERT INTO conversation_message (client_conversation_id, client_message_id, server_message_id, "
            f"sender_id, creation_timestamp, read_timestamp, content_type, message_content, message_state_type, "
            f"created_on_device) VALUES ('{CONVERSATION}', {mid}, {1000 + mid}, '{sender}', {created}, "
            f"{read if read else 'NULL'}, {content_type}, X'{content(sender, content_type, text, created)}', "
            f"'COMMITTED', {on_device});")


ROWS = (_row(1, FRIEND, 1, "u up? 🚗", 1600000000123, read=1600000005000)
        + _row(2, OWNER, 1, "5 min", 1600000060000, on_device=1)
        + _row(3, FRIEND, 0, None, 1600000120000)
        + _row(4, FRIEND, 27, None, 1600000130000))
WAL_ROW = _row(5, OWNER, 1, "only in the WAL", 1600000240000, on_device=1)
PREFS_XML = (f"<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n"
             f"    <string name=\"key_user_id\">{OWNER}</string>\n"
             f"    <string name=\"refresh_token\">secret-token-never-exported</string>\n</map>\n").encode()


def test_messages_with_session_owner_and_wal(tmp_path):
    make_db(tmp_path / "src/arroyo.db", SCHEMA + ROWS, wal_sql=WAL_ROW)
    files = {ARROYO: tmp_path / "src/arroyo.db", ARROYO + "-wal": tmp_path / "src/arroyo.db-wal", PREFS: PREFS_XML}
    outcomes, rows = parser_harness.run(tmp_path / "run", files,
                                        ["snapchat-android-messages", "snapchat-android-account"])
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "snapchat-android-messages": ("parsed", 5, 1), "snapchat-android-account": ("parsed", 1, 0)}
    m = rows["messages"]
    assert m[0]["body"] == "u up? 🚗" and m[0]["direction"] == "incoming" and m[0]["sender"] == FRIEND
    assert m[0]["ts"] == "2020-09-13T12:26:40.123000Z" and m[0]["read_ts"] == "2020-09-13T12:26:45.000000Z"
    assert m[0]["thread_id"] == CONVERSATION and m[0]["message_type"] == "chat"
    assert m[0]["source_table"] == "conversation_message" and m[0]["source_row"] == "1"
    assert m[0]["extra"]["client_message_id"] == 1 and m[0]["extra"]["server_message_id"] == 1001
    assert m[1]["direction"] == "outgoing" and m[1]["body"] == "5 min"
    assert m[2]["message_type"] == "snap" and m[2]["body"] is None
    assert m[3]["message_type"] == "content_type 27"
    assert m[4]["body"] == "only in the WAL" and m[4]["from_wal"] and not m[3]["from_wal"]
    (account,) = rows["accounts"]
    assert account["user_id"] == OWNER and "secret-token" not in str(account)


def test_without_session_prefs_direction_is_unknown_and_older_columns(tmp_path):
    older = SCHEMA.replace("created_on_device INTEGER, ", "local_message_content_id INTEGER, ")
    make_db(tmp_path / "arroyo.db", older + ROWS.replace("created_on_device", "local_message_content_id"))
    outcomes, rows = parser_harness.run(tmp_path / "run", {ARROYO: tmp_path / "arroyo.db"},
                                        ["snapchat-android-messages"])
    assert outcomes[0].outcome == "parsed" and outcomes[0].records == 4
    assert [x["direction"] for x in rows["messages"]] == [None] * 4
    assert rows["messages"][1]["body"] == "5 min" and "created_on_device" not in rows["messages"][1]["extra"]


def test_broken_prefs_file_is_an_error_for_the_account_only(tmp_path):
    make_db(tmp_path / "arroyo.db", SCHEMA + ROWS)
    outcomes, rows = parser_harness.run(tmp_path / "run", {ARROYO: tmp_path / "arroyo.db", PREFS: b"<map><string"},
                                        ["snapchat-android-messages", "snapchat-android-account"])
    result = {o.spec.name: o for o in outcomes}
    assert result["snapchat-android-account"].outcome == "error"
    assert result["snapchat-android-account"].message.startswith("error: AndroidXMLError")
    assert result["snapchat-android-messages"].outcome == "parsed"
    assert {x["direction"] for x in rows["messages"]} == {None}


def test_friends_of_older_builds(tmp_path):
    make_db(tmp_path / "main.db", """
        CREATE TABLE Friend (_id INTEGER PRIMARY KEY AUTOINCREMENT, userId TEXT, username TEXT, displayName TEXT,
            phone TEXT, birthday TEXT, addedTimestamp INTEGER, reverseAddedTimestamp INTEGER, friendmojis TEXT);
        INSERT INTO Friend (userId, username, displayName, phone, birthday, addedTimestamp)
            VALUES ('7c9d0e1f-2a3b-4c5d-8e6f-0a1b2c3d4e5f', 'friendly_f', 'Friend F', '+15550199', '2001-02-03',
                    1500000000500), ('x-2', 'no_time', NULL, NULL, NULL, NULL);""")
    outcomes, rows = parser_harness.run(tmp_path / "run", {MAIN_DB: tmp_path / "main.db"}, ["snapchat-android-friends"])
    assert (outcomes[0].outcome, outcomes[0].records) == ("parsed", 2)
    first, second = rows["contacts"]
    assert first["user_id"] == FRIEND and first["handles"] == ["friendly_f"] and first["phones"] == ["+15550199"]
    assert first["ts"] == "2017-07-14T02:40:00.500000Z" and first["extra"] == {"birthday": "2001-02-03"}
    assert second["ts"] is None and second["name"] is None


def test_damaged_arroyo_is_recovered(tmp_path):
    filler = "".join(_row(100 + i, FRIEND, 1, "p" * 400, 1600000000000 + i) for i in range(150))
    good = make_db(tmp_path / "good.db", SCHEMA + ROWS + filler)
    bad = damage(good, tmp_path / "bad.db", page=good.stat().st_size // 4096 // 2)
    outcomes, rows = parser_harness.run(tmp_path / "run", {ARROYO: bad}, ["snapchat-android-messages"])
    assert outcomes[0].outcome == "parsed" and outcomes[0].recovered and 100 < outcomes[0].records < 154
    assert all(x["recovered"] for x in rows["messages"])
