"""LINE for iOS: Line.sqlite fixtures built with the app's Core Data schema."""
from forensics.backups import backup_path
from parsers.framework import load_parsers
from tests import parser_harness
from tests.fixtures.sqlite_db import damage, make_db

LINE = ("/private/var/mobile/Containers/Shared/AppGroup/8F7E6D5C-0000-4000-8000-00000000000E/Library/"
        "Application Support/PrivateStore/P_u423af962f1456db6cba8465cf82bb91b/Messages/Line.sqlite")
NAMES = ["line-ios-messages", "line-ios-locations", "line-ios-contacts"]

SCHEMA = """
    CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER, Z_MAX INTEGER);
    CREATE TABLE ZCHAT ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZALERT INTEGER,
        ZE2EECONTENTTYPES INTEGER, ZENABLE INTEGER, ZLASTRECEIVEDMESSAGEID INTEGER, ZLIVE INTEGER,
        ZREADUPTOMESSAGEID INTEGER, ZREADUPTOMESSAGEIDSYNCED INTEGER, ZSESSIONID INTEGER, ZSORTORDER INTEGER,
        ZTYPE INTEGER, ZUNREAD INTEGER, ZMETADATA INTEGER, ZEXPIREINTERVAL FLOAT, ZLASTUPDATED TIMESTAMP,
        ZINPUTTEXT VARCHAR, ZINVITERMID VARCHAR, ZLASTMESSAGE VARCHAR, ZMID VARCHAR, ZSKIN VARCHAR );
    CREATE TABLE ZGROUP ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZALERT INTEGER, ZENABLE INTEGER,
        ZFAVORITEORDER INTEGER, ZISACCEPTED INTEGER, ZISPREVENTLINKINVITATION INTEGER, ZISVIEWED INTEGER,
        ZCREATOR INTEGER, ZCREATEDTIME TIMESTAMP, ZID VARCHAR, ZLINKINVITATION VARCHAR, ZNAME VARCHAR,
        ZPICTURESTATUS VARCHAR );
    CREATE TABLE ZUSER ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZALERT INTEGER, ZBLOCKING INTEGER,
        ZCAPABILITIES INTEGER, ZCONTACTTYPE INTEGER, ZE2EECONTENTTYPES INTEGER, ZFAVORITEORDER INTEGER,
        ZFRIENDREQUESTSTATUS INTEGER, ZISFRIEND INTEGER, ZISHIDDEN INTEGER, ZISINADDRESSBOOK INTEGER,
        ZISRECOMMENDED INTEGER, ZISREMOVED INTEGER, ZISUNREGISTERED INTEGER, ZISVIEWED INTEGER,
        ZMYHOMECAPABLE INTEGER, ZUSERTYPE INTEGER, ZVIDEOCALLCAPABLE INTEGER, ZVOICECALLCAPABLE INTEGER,
        ZCREATEDTIME TIMESTAMP, ZSTATUSUPDATEDAT TIMESTAMP, ZADDRESSBOOKNAME VARCHAR, ZCOUNTRY VARCHAR,
        ZCUSTOMNAME VARCHAR, ZMID VARCHAR, ZNAME VARCHAR, ZPICTURESTATUS VARCHAR, ZPICTUREURL VARCHAR,
        ZPROFILEIMAGE VARCHAR, ZRECOMMENDPARAMS VARCHAR, ZSORTABLENAME VARCHAR, ZSTATUSMESSAGE VARCHAR,
        ZE2EEPUBLICKEYCHAIN BLOB, ZPUBLICKEYCHAIN BLOB );
    CREATE TABLE ZMESSAGE ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZCONTENTTYPE INTEGER,
        ZREADCOUNT INTEGER, ZSENDSTATUS INTEGER, ZTIMESTAMP INTEGER, ZCHAT INTEGER, ZSENDER INTEGER,
        ZLATITUDE FLOAT, ZLONGITUDE FLOAT, ZID VARCHAR, ZMESSAGETYPE VARCHAR, ZTEXT VARCHAR,
        ZCONTENTMETADATA BLOB, ZTHUMBNAIL BLOB );
"""
FRIEND, GROUP = "u1f2e3d4c5b6a79880123456789abcdef", "c0a1b2c3d4e5f60718293a4b5c6d7e8f9"
ROWS = f"""
    INSERT INTO ZUSER (Z_PK, Z_ENT, ZISFRIEND, ZCREATEDTIME, ZADDRESSBOOKNAME, ZCUSTOMNAME, ZMID, ZNAME,
                       ZSTATUSMESSAGE) VALUES
        (1, 12, 1, 700000000, 'Kenji Tanaka', 'Ken (boss)', '{FRIEND}', 'kenji', 'busy'),
        (2, 12, 0, NULL, NULL, NULL, 'u99', 'Stranger', NULL);
    INSERT INTO ZGROUP (Z_PK, Z_ENT, ZISACCEPTED, ZID, ZNAME) VALUES (1, 4, 1, '{GROUP}', 'Night shift');
    INSERT INTO ZCHAT (Z_PK, Z_ENT, ZTYPE, ZMID) VALUES (1, 1, 0, '{FRIEND}'), (2, 1, 2, '{GROUP}');
    INSERT INTO ZMESSAGE (Z_PK, Z_ENT, ZCONTENTTYPE, ZREADCOUNT, ZSENDSTATUS, ZTIMESTAMP, ZCHAT, ZSENDER, ZLATITUDE,
                          ZLONGITUDE, ZID, ZTEXT) VALUES
        (1, 5, 0, NULL, NULL, 1700000000123, 1, 1, NULL, NULL, '500001', 'shift at 10'),
        (2, 5, 0, 1, 1, 1700000060000, 1, NULL, NULL, NULL, '500002', 'ok'),
        (3, 5, 100, NULL, NULL, 1700000120000, 2, 2, 35.6812, 139.7671, '500003', 'Tokyo Station'),
        (4, 5, 18, NULL, NULL, 1700000180000, 2, NULL, NULL, NULL, NULL, NULL),
        (5, 5, 1, 0, 1, 1700000240000, 2, NULL, NULL, NULL, '500005', NULL);
"""
WAL = "INSERT INTO ZMESSAGE (Z_PK, ZCONTENTTYPE, ZTIMESTAMP, ZCHAT, ZSENDER, ZID, ZTEXT) " \
      "VALUES (6, 0, 1700000300000, 1, 1, '500006', 'only in the WAL');"


def test_messages_locations_contacts_and_wal(tmp_path):
    db = make_db(tmp_path / "src" / "Line.sqlite", SCHEMA + ROWS, wal_sql=WAL)
    outcomes, rows = parser_harness.run(tmp_path / "run", {LINE: db, LINE + "-wal": db.with_name(db.name + "-wal")},
                                        NAMES)
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "line-ios-messages": ("parsed", 6, 1), "line-ios-locations": ("parsed", 1, 0),
        "line-ios-contacts": ("parsed", 2, 0)}
    m1, m2, m3, m4, m5, m6 = rows["messages"]
    assert (m1["direction"], m1["sender"], m1["sender_name"], m1["thread_id"], m1["thread_name"], m1["body"]) == (
        "incoming", FRIEND, "Ken (boss)", FRIEND, "Ken (boss)", "shift at 10")
    assert m1["ts"] == "2023-11-14T22:13:20.123000Z" and m1["ts_encoding"] == "unix_ms"
    assert m1["extra"] == {"server_id": "500001", "chat_type": 0, "content_type_raw": 0}
    assert (m2["direction"], m2["sender"], m2["recipients"]) == ("outgoing", None, [FRIEND])
    assert (m3["sender_name"], m3["thread_name"], m3["message_type"]) == ("Stranger", "Night shift", "location")
    assert (m4["direction"], m4["message_type"], m4["recipients"]) == (None, "system", [])
    assert (m5["direction"], m5["recipients"], m5["message_type"]) == ("outgoing", [GROUP], "image")
    assert m6["from_wal"] and m6["body"] == "only in the WAL"

    (location,) = rows["locations"]
    assert (location["latitude"], location["longitude"], location["label"], location["ts"]) == (
        35.6812, 139.7671, "Tokyo Station", "2023-11-14T22:15:20.000000Z")
    assert location["extra"] == {"thread_id": GROUP, "direction": "incoming"} and location["source_row"] == "3"

    ken, stranger = rows["contacts"]
    assert (ken["name"], ken["user_id"], ken["note"], ken["ts"]) == (
        "Ken (boss)", FRIEND, "busy", "2023-03-08T20:26:40.000000Z")
    assert ken["extra"] == {"profile_name": "kenji", "custom_name": "Ken (boss)",
                            "address_book_name": "Kenji Tanaka", "is_friend": True}
    assert stranger["name"] == "Stranger" and stranger["ts"] is None


def test_older_store_without_groups_or_server_ids(tmp_path):
    old = make_db(tmp_path / "Line.sqlite", f"""
        CREATE TABLE ZUSER (Z_PK INTEGER PRIMARY KEY, ZMID VARCHAR, ZNAME VARCHAR);
        CREATE TABLE ZCHAT (Z_PK INTEGER PRIMARY KEY, ZMID VARCHAR);
        CREATE TABLE ZMESSAGE (Z_PK INTEGER PRIMARY KEY, ZTIMESTAMP INTEGER, ZCHAT INTEGER, ZSENDER INTEGER,
            ZTEXT VARCHAR);
        INSERT INTO ZUSER VALUES (1, '{FRIEND}', 'kenji');
        INSERT INTO ZCHAT VALUES (1, '{FRIEND}');
        INSERT INTO ZMESSAGE VALUES (1, 1500000000000, 1, NULL, 'mine');
    """)
    outcomes, rows = parser_harness.run(tmp_path / "run", {LINE: old}, NAMES)
    assert {o.spec.name: o.outcome for o in outcomes} == {
        "line-ios-messages": "parsed", "line-ios-locations": "unsupported version", "line-ios-contacts": "parsed"}
    (message,) = rows["messages"]
    assert (message["direction"], message["recipients"], message["thread_name"]) == ("outgoing", [FRIEND], "kenji")


def test_damaged_store_is_recovered(tmp_path):
    many = "".join(f"INSERT INTO ZMESSAGE (Z_PK, ZTIMESTAMP, ZCHAT, ZSENDER, ZID, ZTEXT) VALUES "
                   f"({i}, {1700000000000 + i}, 1, 1, '{i}', '{'x' * 300}');" for i in range(10, 210))
    good = make_db(tmp_path / "good.sqlite", SCHEMA + ROWS + many)
    bad = damage(good, tmp_path / "bad.sqlite", page=good.stat().st_size // 4096 // 2)
    outcomes, rows = parser_harness.run(tmp_path / "run", {LINE: bad}, ["line-ios-messages"])
    (outcome,) = outcomes
    assert outcome.outcome == "parsed" and outcome.recovered and 150 < outcome.records <= 205


def test_paths_match_device_vendor_and_backup_layouts():
    spec = next(s for s in load_parsers() if s.name == "line-ios-messages")
    for path in (LINE, "filesystem1" + LINE, backup_path("AppDomainGroup-group.com.linecorp.line", "Library/Application Support/PrivateStore/P_u42/Messages/Line.sqlite")):
        assert spec.matches(path), path
    assert not spec.matches("/private/var/mobile/Line.sqlite.tmp")
