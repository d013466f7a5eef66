"""Viber for iOS: Contacts.data and Settings.data fixtures built with the app's Core Data / key-value schemas."""
from forensics.backups import backup_path
from parsers.framework import load_parsers
from tests import parser_harness
from tests.fixtures.sqlite_db import damage, make_db

GROUP_DIR = "/private/var/mobile/Containers/Shared/AppGroup/7E6D5C4B-0000-4000-8000-00000000000D/com.viber/"
CONTACTS = GROUP_DIR + "database/Contacts.data"
SETTINGS = GROUP_DIR + "settings/Settings.data"

SCHEMA = """
    CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER, Z_MAX INTEGER);
    CREATE TABLE ZMEMBER ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZDISPLAYFULLNAME VARCHAR,
        ZDISPLAYSHORTNAME VARCHAR, ZMEMBERID VARCHAR, ZNAME VARCHAR );
    CREATE TABLE ZPHONENUMBER ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZMEMBER INTEGER,
        ZCANONIZEDPHONENUM VARCHAR, ZPHONE VARCHAR, ZPHONETYPE VARCHAR );
    CREATE TABLE ZCONVERSATION ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZBEINGDELETED INTEGER,
        ZFAVORITE INTEGER, ZSUBTYPE INTEGER, ZTIMEBOMBDURATION INTEGER, ZINTERLOCUTOR INTEGER, ZGROUPID INTEGER,
        ZLASTREADTOKEN INTEGER, ZNAME VARCHAR );
    CREATE TABLE ZATTACHMENT ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZFILESIZE INTEGER,
        ZNAME VARCHAR, ZTYPE VARCHAR );
    CREATE TABLE ZVIBERLOCATION ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZLATITUDE FLOAT,
        ZLONGITUDE FLOAT, ZADDRESS VARCHAR );
    CREATE TABLE ZVIBERMESSAGE ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZBEINGDELETED INTEGER,
        ZCALLSCOUNT INTEGER, ZCALLTYPE INTEGER, ZFORWARDTYPE INTEGER, ZGALLERYTYPE INTEGER, ZLIKESCOUNT INTEGER,
        ZLIKESTYPE INTEGER, ZTIMEBOMBDURATION INTEGER, ZTOKEN INTEGER, ZATTACHMENT INTEGER, ZCONVERSATION INTEGER,
        ZLOCATION INTEGER, ZPHONENUMINDEX INTEGER, ZDATE TIMESTAMP, ZSTATEDATE TIMESTAMP,
        ZTIMEBOMBTIMESTAMP TIMESTAMP, ZCLIENTMETADATA VARCHAR, ZMETADATA VARCHAR, ZSTATE VARCHAR,
        ZSYSTEMTYPE VARCHAR, ZTEXT VARCHAR );
    CREATE TABLE ZRECENTSLINE ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZDATE TIMESTAMP,
        ZCALLTYPE VARCHAR, ZPHONENUMBER VARCHAR );
    CREATE TABLE ZRECENT ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZDURATION FLOAT,
        ZCALLLOGMESSAGE INTEGER, ZRECENTSLINE INTEGER, ZDATE TIMESTAMP, ZCALLTYPE VARCHAR );
    CREATE TABLE ZABCONTACT ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZCONTACTID INTEGER,
        ZMAINNAME VARCHAR, ZPREFIXNAME VARCHAR, ZSUFFIXNAME VARCHAR );
    CREATE TABLE ZABCONTACTNUMBER ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZCONTACT INTEGER,
        ZCANONIZEDPHONENUM VARCHAR, ZPHONE VARCHAR );
"""
ROWS = """
    INSERT INTO ZMEMBER (Z_PK, ZDISPLAYFULLNAME, ZMEMBERID, ZNAME) VALUES
        (1, 'Anna K', 'mid-anna', 'Anna'), (2, 'Nick', 'mid-nick', 'Nick');
    INSERT INTO ZPHONENUMBER (Z_PK, ZMEMBER, ZCANONIZEDPHONENUM, ZPHONE) VALUES (1, 1, '15558880001', '+15558880001');
    INSERT INTO ZCONVERSATION (Z_PK, ZINTERLOCUTOR, ZGROUPID, ZNAME, ZBEINGDELETED) VALUES
        (10, 1, NULL, NULL, 0), (20, NULL, 4242, 'Team', 0);
    INSERT INTO ZATTACHMENT VALUES (1, 1, 1, 2048, 'IMG_0001.jpg', 'picture');
    INSERT INTO ZVIBERLOCATION VALUES (1, 1, 1, 48.8566, 2.3522, 'Rue de Rivoli');
    INSERT INTO ZVIBERMESSAGE (Z_PK, ZCONVERSATION, ZPHONENUMINDEX, ZDATE, ZSTATEDATE, ZSTATE, ZTEXT, ZATTACHMENT,
                               ZLOCATION, ZBEINGDELETED, ZLIKESCOUNT) VALUES
        (1, 10, 1, 700000000.5, 700000005, 'received', 'where are you', NULL, NULL, 0, 0),
        (2, 10, NULL, 700000060, 700000061, 'delivered', 'here', NULL, 1, 0, 0),
        (3, 20, 2, 700000120, NULL, 'received', NULL, 1, NULL, 1, 2),
        (4, 20, NULL, 700000180, NULL, 'send', 'to the team', NULL, NULL, 0, 0),
        (5, 10, 1, 700000240, NULL, 'pending', 'odd state', NULL, NULL, 0, 0);
    INSERT INTO ZRECENTSLINE VALUES (1, 1, 1, 700000300, 'missed_with_video', '+15558880001');
    INSERT INTO ZRECENT VALUES (1, 1, 1, 0, NULL, 1, 700000300, 'missed_with_video'),
                               (2, 1, 1, 61.5, 2, NULL, 700000400, 'outgoing_viber');
    INSERT INTO ZABCONTACT VALUES (1, 1, 1, 77, 'Anna Karenina', 'Dr', NULL);
    INSERT INTO ZABCONTACTNUMBER VALUES (1, 1, 1, 1, '15558880001', '+1 (555) 888-0001'),
                                        (2, 1, 1, 1, NULL, '555-0002');
"""
WAL = """INSERT INTO ZVIBERMESSAGE (Z_PK, ZCONVERSATION, ZPHONENUMINDEX, ZDATE, ZSTATE, ZTEXT)
         VALUES (6, 10, 1, 700000500, 'received', 'only in the WAL');"""
SETTINGS_SQL = """
    CREATE TABLE Data (key TEXT PRIMARY KEY, value BLOB);
    INSERT INTO Data VALUES ('_appVersion', '23.1.3'), ('_myPhoneNumber', '+447700900123'),
        ('_myCanonizedPhoneNumber', '447700900123'), ('_myUserName', 'Kate'), ('_currentEmail', 'k@example.org'),
        ('_uid', 'vUID123'), ('_registrationDate', 1650000000), ('_hiddenChatsPINData', X'0102');
"""


def test_messages_locations_calls_contacts_and_wal(tmp_path):
    db = make_db(tmp_path / "src" / "Contacts.data", SCHEMA + ROWS, wal_sql=WAL)
    outcomes, rows = parser_harness.run(
        tmp_path / "run", {CONTACTS: db, CONTACTS + "-wal": db.with_name(db.name + "-wal")})
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "viber-ios-messages": ("parsed", 6, 1), "viber-ios-locations": ("parsed", 1, 0),
        "viber-ios-calls": ("parsed", 2, 0), "viber-ios-contacts": ("parsed", 1, 0)}
    m1, m2, m3, m4, m5, m6 = rows["messages"]
    assert (m1["direction"], m1["sender"], m1["sender_name"], m1["thread_id"], m1["thread_name"]) == (
        "incoming", "+15558880001", "Anna K", "10", "Anna K")
    assert m1["ts"] == "2023-03-08T20:26:40.500000Z" and m1["extra"] == {
        "state": "received", "state_date": "2023-03-08T20:26:45.000000Z", "likes": 0}
    assert (m2["direction"], m2["sender"], m2["recipients"]) == ("outgoing", None, ["+15558880001"])
    assert m3["sender"] == "mid-nick" and m3["deleted"] and m3["thread_name"] == "Team"
    assert m3["attachments"] == [{"name": "IMG_0001.jpg", "type": "picture", "size": 2048}]
    assert (m4["direction"], m4["recipients"]) == ("outgoing", ["4242"])
    assert m5["direction"] is None and m5["status"] == "pending"
    assert m6["from_wal"] and m6["body"] == "only in the WAL"

    (location,) = rows["locations"]
    assert (location["latitude"], location["longitude"], location["label"], location["ts"]) == (
        48.8566, 2.3522, "Rue de Rivoli", "2023-03-08T20:27:40.000000Z")
    assert location["extra"] == {"message_pk": 2, "thread_id": "10", "direction": "outgoing"}

    missed, outgoing = rows["calls"]
    assert (missed["direction"], missed["call_type"], missed["answered"], missed["status"], missed["peers"]) == (
        "incoming", "video", False, "missed", ["+15558880001"])
    assert (outgoing["direction"], outgoing["call_type"], outgoing["duration_s"], outgoing["peers"]) == (
        "outgoing", "audio", 61.5, [])
    assert outgoing["extra"] == {"call_type_raw": "outgoing_viber", "message_pk": 2}

    (contact,) = rows["contacts"]
    assert (contact["name"], contact["phones"]) == ("Dr Anna Karenina", ["+1 (555) 888-0001", "555-0002"])
    assert contact["extra"] == {"canonized_phones": ["15558880001"], "address_book_id": 77}


def test_settings_account(tmp_path):
    settings = make_db(tmp_path / "Settings.data", SETTINGS_SQL)
    outcomes, rows = parser_harness.run(tmp_path / "run", {SETTINGS: settings})
    assert [(o.spec.name, o.outcome) for o in outcomes] == [("viber-ios-account", "parsed")]
    (account,) = rows["accounts"]
    assert (account["phone"], account["username"], account["email"], account["user_id"]) == (
        "+447700900123", "Kate", "k@example.org", "vUID123")
    assert account["ts"] == "2022-04-15T05:20:00.000000Z" and account["source_table"] == "Data"
    assert account["extra"] == {"canonized_phone": "447700900123"}


def test_older_store_without_locations_or_address_book(tmp_path):
    old = make_db(tmp_path / "Contacts.data", """
        CREATE TABLE ZMEMBER (Z_PK INTEGER PRIMARY KEY, ZNAME VARCHAR);
        CREATE TABLE ZCONVERSATION (Z_PK INTEGER PRIMARY KEY, ZINTERLOCUTOR INTEGER);
        CREATE TABLE ZVIBERMESSAGE (Z_PK INTEGER PRIMARY KEY, ZCONVERSATION INTEGER, ZPHONENUMINDEX INTEGER,
            ZDATE TIMESTAMP, ZSTATE VARCHAR, ZTEXT VARCHAR);
        INSERT INTO ZMEMBER VALUES (1, 'Anna');
        INSERT INTO ZCONVERSATION VALUES (1, 1);
        INSERT INTO ZVIBERMESSAGE VALUES (1, 1, 1, 400000000, 'received', 'old');
    """)
    outcomes, rows = parser_harness.run(tmp_path / "run", {CONTACTS: old})
    assert {o.spec.name: o.outcome for o in outcomes} == {
        "viber-ios-messages": "parsed", "viber-ios-locations": "unsupported version",
        "viber-ios-calls": "unsupported version", "viber-ios-contacts": "unsupported version"}
    (message,) = rows["messages"]
    assert (message["sender"], message["sender_name"], message["ts"]) == (None, "Anna", "2013-09-04T15:06:40.000000Z")


def test_damaged_store_is_recovered(tmp_path):
    many = "".join(f"INSERT INTO ZVIBERMESSAGE (Z_PK, ZCONVERSATION, ZDATE, ZSTATE, ZTEXT) VALUES "
                   f"({i}, 10, {700000000 + i}, 'received', '{'x' * 300}');" for i in range(10, 210))
    good = make_db(tmp_path / "good.data", SCHEMA + ROWS + many)
    bad = damage(good, tmp_path / "bad.data", page=good.stat().st_size // 4096 // 2)
    outcomes, rows = parser_harness.run(tmp_path / "run", {CONTACTS: bad}, ["viber-ios-messages"])
    (outcome,) = outcomes
    assert outcome.outcome == "parsed" and outcome.recovered and 150 < outcome.records <= 205


def test_paths_match_device_vendor_and_backup_layouts():
    spec = next(s for s in load_parsers() if s.name == "viber-ios-messages")
    for path in (CONTACTS, "filesystem1" + CONTACTS, backup_path("AppDomainGroup-group.viber.share.container", "com.viber/database/Contacts.data")):
        assert spec.matches(path), path
    assert not spec.matches("/private/var/mobile/Library/AddressBook/Contacts.data")
