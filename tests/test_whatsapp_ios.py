"""WhatsApp for iOS: ChatStorage, ContactsV2, CallHistory and LID stores built with the app's Core Data schemas."""
import base64
import sqlite3

from forensics.backups import backup_path
from parsers.framework import load_parsers
from tests import parser_harness
from tests.fixtures.whatsapp_ios import (ALICE, BOB, CALLS_ROWS, CALLS_SCHEMA, CHAT_ROWS, CHAT_SCHEMA, CHAT_WAL,
                                       CONTACTS_ROWS, CONTACTS_SCHEMA, CREW, LID_ROWS, LID_SCHEMA)
from tests.fixtures.sqlite_db import damage, make_db

GROUP_DIR = "/private/var/mobile/Containers/Shared/AppGroup/6A1B2C3D-0000-4000-8000-00000000000A/"
CHATS = GROUP_DIR + "ChatStorage.sqlite"


def _store(tmp_path, name, sql, wal_sql=None):
    return make_db(tmp_path / "src" / name, sql, wal_sql=wal_sql)


def _device_files(tmp_path):
    chats = _store(tmp_path, "ChatStorage.sqlite", CHAT_SCHEMA + CHAT_ROWS, wal_sql=CHAT_WAL)
    return {CHATS: chats, CHATS + "-wal": chats.with_name(chats.name + "-wal"),
            GROUP_DIR + "LID.sqlite": _store(tmp_path, "LID.sqlite", LID_SCHEMA + LID_ROWS),
            GROUP_DIR + "ContactsV2.sqlite": _store(tmp_path, "ContactsV2.sqlite", CONTACTS_SCHEMA + CONTACTS_ROWS),
            GROUP_DIR + "CallHistory.sqlite": _store(tmp_path, "CallHistory.sqlite", CALLS_SCHEMA + CALLS_ROWS)}


def test_messages_senders_lids_media_and_wal(tmp_path):
    outcomes, rows = parser_harness.run(tmp_path / "run", _device_files(tmp_path))
    by_parser = {o.spec.name: o for o in outcomes}
    assert {n: (o.outcome, o.records) for n, o in by_parser.items()} == {
        "whatsapp-ios-messages": ("parsed", 8), "whatsapp-ios-locations": ("parsed", 1),
        "whatsapp-ios-contacts": ("parsed", 2), "whatsapp-ios-calls": ("parsed", 2), "whatsapp-ios-lid": ("parsed", 2)}
    assert by_parser["whatsapp-ios-messages"].from_wal == 1

    messages = {int(m["source_row"]): m for m in rows["messages"]}
    first = messages[1]
    assert first["ts"] == "2023-03-08T20:26:40.123000Z" and first["ts_raw"] == "700000000.123"
    assert first["ts_encoding"] == "cocoa_s"
    assert (first["direction"], first["sender"], first["sender_name"], first["recipients"]) == (
        "incoming", ALICE, "Alice", [])
    assert (first["thread_id"], first["thread_name"], first["body"], first["message_type"]) == (
        ALICE, "Alice", "pick up at 9", "text")
    assert first["extra"] == {"session_type": "direct", "message_type_raw": 0, "starred": True,
                              "stanza_id": "3EB0A1", "message_status": 8, "push_name": "Ally"}
    assert first["source_table"] == "ZWAMESSAGE" and first["app"] == "net.whatsapp.WhatsApp"
    assert first["platform"] == "WhatsApp" and not first["from_wal"]

    outgoing = messages[2]
    assert (outgoing["direction"], outgoing["sender"], outgoing["recipients"]) == ("outgoing", None, [ALICE])
    group = messages[3]
    assert (group["sender"], group["sender_name"], group["thread_id"], group["thread_name"]) == (
        BOB, "Bob", CREW, "Crew")
    assert group["ts"] == "2023-03-08T20:28:40.500000Z"
    lid_sender = messages[4]
    assert lid_sender["sender"] == "15559990000@s.whatsapp.net" and lid_sender["sender_name"] == "Lid Guy"
    assert lid_sender["extra"]["sender_lid"] == "111222333@lid"
    assert messages[5]["message_type"] == "location" and messages[5]["attachments"] == []
    assert messages[6]["attachments"] == [{"path": f"Media/{ALICE}/a/b/IMG_1.jpg", "title": "the van"}]
    assert messages[6]["message_type"] == "image" and messages[6]["body"] is None
    assert messages[7]["message_type"] == "type 99" and messages[7]["recipients"] == [CREW]
    wal = messages[8]
    assert wal["from_wal"] and wal["body"] == "only in the WAL"
    # a bare-digit LID pair with a JID-shaped, '+'-prefixed phone number resolves to the same JID form
    assert wal["sender"] == "15558880000@s.whatsapp.net" and wal["extra"]["sender_lid"] == "987654321@lid"
    assert wal["sender_name"] == "Unsaved"

    (location,) = rows["locations"]
    assert (location["latitude"], location["longitude"], location["label"]) == (51.5072, -0.1276, "Harbour gate")
    assert location["ts"] == "2023-03-08T20:30:40.000000Z" and location["source_table"] == "ZWAMEDIAITEM"
    assert location["source_row"] == "1" and location["extra"] == {
        "thread_id": ALICE, "message_pk": 5, "direction": "incoming"}


def test_protobuf_push_names_never_become_sender_names(tmp_path):
    """Some builds keep a base64 protobuf in ZPUSHNAME: it is dropped from sender_name and kept raw in extra."""
    blob = base64.b64encode(b"\x0a\x05Bobby\x10\x05").decode()  # field 1 "Bobby", field 2 varint 5
    chats = _store(tmp_path, "ChatStorage.sqlite", CHAT_SCHEMA + CHAT_ROWS + f"""
        INSERT INTO ZWAMESSAGE (Z_PK, ZCHATSESSION, ZISFROMME, ZMESSAGETYPE, ZMESSAGEDATE, ZFROMJID, ZTEXT,
                                ZGROUPMEMBER, ZPUSHNAME) VALUES
            (9, 2, 0, 0, 700000400, '{CREW}', 'blob name', 2, '{blob}'),
            (10, 2, 0, 0, 700000460, '{CREW}', 'plain name', 2, 'Christopher1'),
            (11, 2, 0, 0, 700000520, '{CREW}', 'binary name', 2, X'0a0342ff6f');""")
    _, rows = parser_harness.run(tmp_path / "run", {CHATS: chats}, ["whatsapp-ios-messages"])
    messages = {int(m["source_row"]): m for m in rows["messages"]}
    assert (messages[9]["sender_name"], messages[9]["extra"]["push_name_blob"]) == (None, blob)
    assert "push_name" not in messages[9]["extra"]
    assert (messages[10]["sender_name"], messages[10]["extra"]["push_name"]) == ("Christopher1", "Christopher1")
    assert (messages[11]["sender_name"], messages[11]["extra"]["push_name_blob"]) == (None, "CgNC/28=")
    assert messages[4]["sender_name"] == "Lid Guy"


def test_contacts_calls_and_lid_pairs(tmp_path):
    outcomes, rows = parser_harness.run(tmp_path / "run", _device_files(tmp_path),
                                        ["whatsapp-ios-contacts", "whatsapp-ios-calls", "whatsapp-ios-lid"])
    contacts = [c for c in rows["contacts"] if c["source_table"] == "ZWAADDRESSBOOKCONTACT"]
    alice = contacts[0]
    assert (alice["name"], alice["phones"], alice["handles"], alice["user_id"]) == (
        "Alice Example", ["+1 555-123-0001"], [ALICE, "444555666@lid"], ALICE)
    assert alice["ts"] == "2023-10-26T08:00:00.000000Z"
    assert alice["extra"] == {"about": "Busy", "about_ts": "2023-03-08T20:26:40.000000Z",
                              "phone_label": "mobile", "address_book_id": "ABCD-1234",
                              "lid": "444555666@lid"}
    assert contacts[1]["handles"] == [] and contacts[1]["user_id"] is None

    pairs = [c for c in rows["contacts"] if c["source_table"] == "ZWAPHONENUMBERLIDPAIR"]
    assert [(p["user_id"], p["phones"]) for p in pairs] == [("111222333@lid", ["15559990000"]),
                                                         ("987654321", ["+15558880000@s.whatsapp.net"])]
    assert pairs[0]["ts"] == "2021-08-07T03:33:20.000000Z" and pairs[1]["ts"] is None

    answered, missed = rows["calls"]
    assert (answered["direction"], answered["call_type"], answered["duration_s"], answered["answered"],
            answered["status"]) == ("incoming", "video", 125.5, True, "ended")
    assert answered["peers"] == ["15559990000@s.whatsapp.net"]
    assert answered["extra"] == {"call_id": "CALL-A", "group_call_creator": "111222333@lid", "bytes_sent": 2000,
                                 "bytes_received": 1000, "missed": False, "outcome_raw": 0,
                                 "peer_lids": ["111222333@lid"]}
    assert answered["ts"] == "2023-03-08T20:43:20.000000Z" and answered["source_row"] == "8"
    assert (missed["direction"], missed["call_type"], missed["answered"], missed["status"], missed["peers"]) == (
        "outgoing", "audio", False, "missed", [BOB])
    assert missed["ts"] == "2023-03-08T21:00:00.250000Z"


def test_lid_store_of_another_app_group_is_not_used(tmp_path):
    files = _device_files(tmp_path)
    other = files.pop(GROUP_DIR + "LID.sqlite")
    files["/private/var/mobile/Containers/Shared/AppGroup/OTHER/LID.sqlite"] = other
    outcomes, rows = parser_harness.run(tmp_path / "run", files, ["whatsapp-ios-messages"])
    lid_sender = next(m for m in rows["messages"] if m["source_row"] == "4")
    assert lid_sender["sender"] == "111222333@lid" and "sender_lid" not in lid_sender["extra"]


def test_older_schema_without_group_members_or_media(tmp_path):
    old = tmp_path / "old.sqlite"
    db = sqlite3.connect(old)
    db.executescript(f"""
        CREATE TABLE ZWACHATSESSION (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZCONTACTJID VARCHAR,
            ZPARTNERNAME VARCHAR);
        CREATE TABLE ZWAMESSAGE (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZISFROMME INTEGER,
            ZMESSAGETYPE INTEGER, ZCHATSESSION INTEGER, ZMESSAGEDATE TIMESTAMP, ZFROMJID VARCHAR, ZTEXT VARCHAR,
            ZTOJID VARCHAR);
        INSERT INTO ZWACHATSESSION VALUES (1, 1, 1, '{ALICE}', 'Alice');
        INSERT INTO ZWAMESSAGE VALUES (1, 2, 1, 0, 0, 1, 500000000, '{ALICE}', 'old store', NULL);
    """)
    db.commit()
    db.close()
    outcomes, rows = parser_harness.run(tmp_path / "run", {CHATS: old})
    assert {o.spec.name: o.outcome for o in outcomes} == {"whatsapp-ios-messages": "parsed",
                                                          "whatsapp-ios-locations": "unsupported version"}
    (message,) = rows["messages"]
    assert (message["body"], message["sender"], message["sender_name"], message["ts"]) == (
        "old store", ALICE, "Alice", "2016-11-05T00:53:20.000000Z")


def test_damaged_chat_storage_is_recovered(tmp_path):
    many = "".join(f"INSERT INTO ZWAMESSAGE (Z_PK, ZCHATSESSION, ZISFROMME, ZMESSAGETYPE, ZMESSAGEDATE, ZTEXT) "
                   f"VALUES ({i}, 1, 0, 0, {700000000 + i}, '{'x' * 300} {i}');" for i in range(10, 210))
    good = make_db(tmp_path / "good.sqlite", CHAT_SCHEMA + CHAT_ROWS + many)
    bad = damage(good, tmp_path / "bad.sqlite", page=good.stat().st_size // 4096 // 2)
    outcomes, rows = parser_harness.run(tmp_path / "run", {CHATS: bad}, ["whatsapp-ios-messages"])
    (outcome,) = outcomes
    assert outcome.outcome == "parsed" and outcome.recovered and "damaged" in outcome.message
    assert 150 < outcome.records < 207
    assert all(m["recovered"] for m in rows["messages"])


def test_paths_match_device_vendor_and_backup_layouts():
    spec = next(s for s in load_parsers() if s.name == "whatsapp-ios-messages")
    for path in (CHATS, "filesystem1" + CHATS, backup_path("AppDomainGroup-group.net.whatsapp.WhatsApp.shared", "ChatStorage.sqlite")):
        assert spec.matches(path), path
    assert not spec.matches("/private/var/mobile/Library/ChatStorage.sqlite")
