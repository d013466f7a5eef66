"""WhatsApp for iOS: ChatStorage, ContactsV2, CallHistory and LID stores built with the app's Core Data schemas."""
import sqlite3

from forensics.backups import backup_path
from parsers.framework import load_parsers
from tests import parser_harness
from tests.fixtures.sqlite_db import damage, make_db

GROUP_DIR = "/private/var/mobile/Containers/Shared/AppGroup/6A1B2C3D-0000-4000-8000-00000000000A/"
CHATS = GROUP_DIR + "ChatStorage.sqlite"

CORE_DATA = """
    CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER, Z_MAX INTEGER);
    CREATE TABLE Z_METADATA (Z_VERSION INTEGER PRIMARY KEY, Z_UUID VARCHAR(255), Z_PLIST BLOB);
"""
CHAT_SCHEMA = CORE_DATA + """
    CREATE TABLE ZWACHATSESSION ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZARCHIVED INTEGER,
        ZCONTACTABID INTEGER, ZFLAGS INTEGER, ZHIDDEN INTEGER, ZIDENTITYVERIFICATIONEPOCH INTEGER,
        ZIDENTITYVERIFICATIONSTATE INTEGER, ZMESSAGECOUNTER INTEGER, ZREMOVED INTEGER, ZSESSIONTYPE INTEGER,
        ZSPOTLIGHTSTATUS INTEGER, ZUNREADCOUNT INTEGER, ZGROUPINFO INTEGER, ZLASTMESSAGE INTEGER,
        ZPROPERTIES INTEGER, ZLASTMESSAGEDATE TIMESTAMP, ZLOCATIONSHARINGENDDATE TIMESTAMP,
        ZCONTACTIDENTIFIER VARCHAR, ZCONTACTJID VARCHAR, ZETAG VARCHAR, ZLASTMESSAGETEXT VARCHAR,
        ZPARTNERNAME VARCHAR, ZSAVEDINPUT VARCHAR );
    CREATE TABLE ZWAGROUPMEMBER ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZCONTACTABID INTEGER,
        ZISACTIVE INTEGER, ZISADMIN INTEGER, ZSENDERKEYSENT INTEGER, ZCHATSESSION INTEGER,
        ZRECENTGROUPCHAT INTEGER, ZCONTACTIDENTIFIER VARCHAR, ZCONTACTNAME VARCHAR, ZFIRSTNAME VARCHAR,
        ZMEMBERJID VARCHAR );
    CREATE TABLE ZWAMEDIAITEM ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZCLOUDSTATUS INTEGER,
        ZFILESIZE INTEGER, ZMEDIAORIGIN INTEGER, ZMOVIEDURATION INTEGER, ZMESSAGE INTEGER, ZASPECTRATIO FLOAT,
        ZHACCURACY FLOAT, ZLATITUDE FLOAT, ZLONGITUDE FLOAT, ZMEDIAURLDATE TIMESTAMP, ZAUTHORNAME VARCHAR,
        ZCOLLECTIONNAME VARCHAR, ZMEDIALOCALPATH VARCHAR, ZMEDIAURL VARCHAR, ZTHUMBNAILLOCALPATH VARCHAR,
        ZTITLE VARCHAR, ZVCARDNAME VARCHAR, ZVCARDSTRING VARCHAR, ZXMPPTHUMBPATH VARCHAR, ZMEDIAKEY BLOB,
        ZMETADATA BLOB );
    CREATE TABLE ZWAMESSAGE ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
        ZCHILDMESSAGESDELIVEREDCOUNT INTEGER, ZCHILDMESSAGESPLAYEDCOUNT INTEGER, ZCHILDMESSAGESREADCOUNT INTEGER,
        ZDATAITEMVERSION INTEGER, ZDOCID INTEGER, ZENCRETRYCOUNT INTEGER, ZFILTEREDRECIPIENTCOUNT INTEGER,
        ZFLAGS INTEGER, ZGROUPEVENTTYPE INTEGER, ZISFROMME INTEGER, ZMESSAGEERRORSTATUS INTEGER,
        ZMESSAGESTATUS INTEGER, ZMESSAGETYPE INTEGER, ZSORT INTEGER, ZSPOTLIGHTSTATUS INTEGER, ZSTARRED INTEGER,
        ZCHATSESSION INTEGER, ZGROUPMEMBER INTEGER, ZLASTSESSION INTEGER, ZMEDIAITEM INTEGER, ZMESSAGEINFO INTEGER,
        ZPARENTMESSAGE INTEGER, ZMESSAGEDATE TIMESTAMP, ZSENTDATE TIMESTAMP, ZFROMJID VARCHAR,
        ZMEDIASECTIONID VARCHAR, ZPHASH VARCHAR, ZPUSHNAME VARCHAR, ZSTANZAID VARCHAR, ZTEXT VARCHAR,
        ZTOJID VARCHAR );
    CREATE TABLE ZWAPROFILEPUSHNAME ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZJID VARCHAR,
        ZPUSHNAME VARCHAR );
"""
ALICE, BOB = "15551230001@s.whatsapp.net", "15551230002@s.whatsapp.net"
CREW = "120363000000000001@g.us"
CHAT_ROWS = f"""
    INSERT INTO ZWACHATSESSION (Z_PK, Z_ENT, ZSESSIONTYPE, ZCONTACTJID, ZPARTNERNAME) VALUES
        (1, 4, 0, '{ALICE}', 'Alice'), (2, 4, 1, '{CREW}', 'Crew'), (3, 4, 0, '987654321@lid', 'Unsaved');
    INSERT INTO ZWAGROUPMEMBER (Z_PK, ZCHATSESSION, ZMEMBERJID, ZCONTACTNAME) VALUES
        (1, 2, '{BOB}', 'Bob'), (2, 2, '111222333@lid', NULL);
    INSERT INTO ZWAMEDIAITEM (Z_PK, ZMESSAGE, ZLATITUDE, ZLONGITUDE, ZTITLE, ZMEDIALOCALPATH) VALUES
        (1, 5, 51.5072, -0.1276, 'Harbour gate', NULL),
        (2, 6, NULL, NULL, 'the van', 'Media/{ALICE}/a/b/IMG_1.jpg');
    INSERT INTO ZWAMESSAGE (Z_PK, ZCHATSESSION, ZISFROMME, ZMESSAGETYPE, ZMESSAGEDATE, ZFROMJID, ZTOJID, ZTEXT,
                            ZGROUPMEMBER, ZMEDIAITEM, ZSTARRED, ZSTANZAID, ZPUSHNAME, ZMESSAGESTATUS) VALUES
        (1, 1, 0, 0, 700000000.123, '{ALICE}', NULL, 'pick up at 9', NULL, NULL, 1, '3EB0A1', 'Ally', 8),
        (2, 1, 1, 0, 700000060, NULL, '{ALICE}', 'ok', NULL, NULL, 0, '3EB0A2', NULL, 6),
        (3, 2, 0, 0, 700000120.5, '{CREW}', NULL, 'who has the keys', 1, NULL, 0, '3EB0A3', 'Bobby', 8),
        (4, 2, 0, 0, 700000180, '{CREW}', NULL, 'me', 2, NULL, 0, '3EB0A4', 'Lid Guy', 8),
        (5, 1, 0, 5, 700000240, '{ALICE}', NULL, NULL, NULL, 1, 0, '3EB0A5', NULL, 8),
        (6, 1, 1, 1, 700000300, NULL, '{ALICE}', NULL, NULL, 2, 0, '3EB0A6', NULL, 6),
        (7, 2, 1, 99, 700000360, NULL, '{CREW}', NULL, NULL, NULL, 0, '3EB0A7', NULL, 6);
"""
CHAT_WAL = "INSERT INTO ZWAMESSAGE (Z_PK, ZCHATSESSION, ZISFROMME, ZMESSAGETYPE, ZMESSAGEDATE, ZFROMJID, ZTEXT) " \
           "VALUES (8, 3, 0, 0, 700001000, '987654321@lid', 'only in the WAL');"

LID_SCHEMA = CORE_DATA + """
    CREATE TABLE ZWAPHONENUMBERLIDPAIR ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
        ZTIMESTAMP TIMESTAMP, ZLID VARCHAR, ZPHONENUMBER VARCHAR );
"""
LID_ROWS = """
    INSERT INTO ZWAPHONENUMBERLIDPAIR VALUES (1, 1, 1, 650000000, '111222333@lid', '15559990000'),
                                             (2, 1, 1, NULL, '987654321', '+15558880000@s.whatsapp.net');
"""

CONTACTS_SCHEMA = CORE_DATA + """
    CREATE TABLE ZWAADDRESSBOOKCONTACT ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
        ZPHONENUMBERSTATUS INTEGER, ZSYNCPOLICY INTEGER, ZABOUTTIMESTAMP TIMESTAMP,
        ZDISAPPEARINGMODETIMESTAMP TIMESTAMP, ZLASTUPDATED TIMESTAMP, ZABOUTTEXT VARCHAR, ZBUSINESSNAME VARCHAR,
        ZFULLNAME VARCHAR, ZGIVENNAME VARCHAR, ZIDENTIFIER VARCHAR, ZLASTNAME VARCHAR, ZLID VARCHAR,
        ZLOCALIZEDPHONENUMBER VARCHAR, ZPHONENUMBER VARCHAR, ZPHONENUMBERLABEL VARCHAR, ZUSERNAME VARCHAR,
        ZWHATSAPPID VARCHAR );
"""
CONTACTS_ROWS = f"""
    INSERT INTO ZWAADDRESSBOOKCONTACT (Z_PK, ZFULLNAME, ZPHONENUMBER, ZPHONENUMBERLABEL, ZWHATSAPPID, ZLID,
        ZABOUTTEXT, ZABOUTTIMESTAMP, ZIDENTIFIER, ZLASTUPDATED) VALUES
        (1, 'Alice Example', '+1 555-123-0001', '_$!<Mobile>!$_', '{ALICE}', '444555666@lid', 'Busy',
         700000000, 'ABCD-1234', 720000000),
        (2, 'No WhatsApp', '+1 555-000-0000', NULL, NULL, NULL, NULL, NULL, NULL, NULL);
"""

CALLS_SCHEMA = CORE_DATA + """
    CREATE TABLE ZWAAGGREGATECALLEVENT ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
        ZINCOMING INTEGER, ZMISSED INTEGER, ZMISSEDREASON INTEGER, ZVIDEO INTEGER, ZFIRSTDATE TIMESTAMP,
        ZLASTDATE TIMESTAMP );
    CREATE TABLE ZWACDCALLEVENT ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZBYTESRECEIVED INTEGER,
        ZBYTESSENT INTEGER, ZOUTCOME INTEGER, Z1CALLEVENTS INTEGER, ZDATE TIMESTAMP, ZDURATION FLOAT,
        ZCALLIDSTRING VARCHAR, ZGROUPCALLCREATORUSERJIDSTRING VARCHAR, ZGROUPJIDSTRING VARCHAR );
    CREATE TABLE ZWACDCALLEVENTPARTICIPANT ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
        ZOUTCOME INTEGER, Z1PARTICIPANTS INTEGER, ZJIDSTRING VARCHAR );
    INSERT INTO Z_PRIMARYKEY VALUES (1, 'WAAggregateCallEvent', 0, 7), (2, 'WACDCallEvent', 0, 9),
                                    (3, 'WACDCallEventParticipant', 0, 9);
"""
# Aggregate 7 holds two calls with the same person; the participant rows hang off the aggregate, not the call.
CALLS_ROWS = f"""
    INSERT INTO ZWAAGGREGATECALLEVENT (Z_PK, Z_ENT, ZINCOMING, ZMISSED, ZVIDEO, ZFIRSTDATE) VALUES
        (6, 1, 0, 1, 0, 700002000.25), (7, 1, 1, 0, 1, 700001000);
    INSERT INTO ZWACDCALLEVENT (Z_PK, Z_ENT, ZBYTESRECEIVED, ZBYTESSENT, ZOUTCOME, Z1CALLEVENTS, ZDATE, ZDURATION,
                                ZCALLIDSTRING, ZGROUPCALLCREATORUSERJIDSTRING) VALUES
        (8, 2, 1000, 2000, 0, 7, 700001000, 125.5, 'CALL-A', '111222333@lid'),
        (9, 2, 0, 0, 1, 6, 700002000.25, 0, 'CALL-B', NULL);
    INSERT INTO ZWACDCALLEVENTPARTICIPANT (Z_PK, Z_ENT, ZOUTCOME, Z1PARTICIPANTS, ZJIDSTRING) VALUES
        (8, 3, 0, 6, '{BOB}'), (9, 3, 0, 7, '111222333@lid');
"""


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


def test_contacts_calls_and_lid_pairs(tmp_path):
    outcomes, rows = parser_harness.run(tmp_path / "run", _device_files(tmp_path),
                                        ["whatsapp-ios-contacts", "whatsapp-ios-calls", "whatsapp-ios-lid"])
    contacts = [c for c in rows["contacts"] if c["source_table"] == "ZWAADDRESSBOOKCONTACT"]
    alice = contacts[0]
    assert (alice["name"], alice["phones"], alice["handles"], alice["user_id"]) == (
        "Alice Example", ["+1 555-123-0001"], [ALICE, "444555666@lid"], ALICE)
    assert alice["ts"] == "2023-10-26T08:00:00.000000Z"
    assert alice["extra"] == {"about": "Busy", "about_ts": "2023-03-08T20:26:40.000000Z",
                              "phone_label": "_$!<Mobile>!$_", "address_book_id": "ABCD-1234",
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
