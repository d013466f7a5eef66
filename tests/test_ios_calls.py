"""iOS call history: CallHistory.storedata (current and iOS 10 models) and the pre-iOS 8 call_history.db, built with
their real schemas; a WAL-only row and a damaged copy."""
from tests import parser_harness
from tests.fixtures.sqlite_db import damage, make_db

PATH = "/private/var/mobile/Library/CallHistoryDB/CallHistory.storedata"
LEGACY_PATH = "/private/var/wireless/Library/CallHistory/call_history.db"

# CallHistory's Core Data model as callhistoryd creates it (recent releases), every table beside ZCALLRECORD included.
SCHEMA = """
CREATE TABLE ZCALLDBPROPERTIES ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZTIMER_ALL FLOAT,
  ZTIMER_INCOMING FLOAT, ZTIMER_LAST FLOAT, ZTIMER_LIFETIME FLOAT, ZTIMER_OUTGOING FLOAT );
CREATE TABLE ZCALLRECORD ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZANSWERED INTEGER,
  ZAUTOANSWEREDREASON INTEGER, ZCALLDIRECTORYIDENTITYTYPE INTEGER, ZCALL_CATEGORY INTEGER, ZCALLTYPE INTEGER,
  ZDISCONNECTED_CAUSE INTEGER, ZFACE_TIME_DATA INTEGER, ZFILTERED_OUT_REASON INTEGER, ZHANDLE_TYPE INTEGER,
  ZHASMESSAGE INTEGER, ZJUNKCONFIDENCE INTEGER, ZNUMBER_AVAILABILITY INTEGER, ZORIGINATED INTEGER, ZREAD INTEGER,
  ZSCREENSHARINGTYPE INTEGER, ZUSEDEMERGENCYVIDEOSTREAMING INTEGER, ZVERIFICATIONSTATUS INTEGER,
  ZWASEMERGENCYCALL INTEGER, ZDATE TIMESTAMP, ZDURATION FLOAT, ZADDRESS VARCHAR, ZBLOCKEDBYEXTENSION VARCHAR,
  ZIDENTITYEXTENSION VARCHAR, ZISO_COUNTRY_CODE VARCHAR, ZJUNKIDENTIFICATIONCATEGORY VARCHAR, ZLOCATION VARCHAR,
  ZNAME VARCHAR, ZSERVICE_PROVIDER VARCHAR, ZUNIQUE_ID VARCHAR, ZCONVERSATIONID BLOB, ZIMAGEURL VARCHAR,
  ZLOCALPARTICIPANTUUID BLOB, ZOUTGOINGLOCALPARTICIPANTUUID BLOB, ZPARTICIPANTGROUPUUID BLOB, ZINITIATOR INTEGER );
CREATE TABLE ZEMERGENCYMEDIAITEM ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
  ZEMERGENCYMEDIATYPE INTEGER, ZUPLOADEDFORCALL INTEGER, ZASSETID VARCHAR );
CREATE TABLE ZHANDLE ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZTYPE INTEGER,
  ZNORMALIZEDVALUE VARCHAR, ZVALUE VARCHAR );
CREATE TABLE Z_2REMOTEPARTICIPANTHANDLES ( Z_2REMOTEPARTICIPANTCALLS INTEGER, Z_4REMOTEPARTICIPANTHANDLES INTEGER,
  PRIMARY KEY (Z_2REMOTEPARTICIPANTCALLS, Z_4REMOTEPARTICIPANTHANDLES) );
CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER, Z_MAX INTEGER);
CREATE TABLE Z_METADATA (Z_VERSION INTEGER PRIMARY KEY, Z_UUID VARCHAR(255), Z_PLIST BLOB);
CREATE TABLE Z_MODELCACHE (Z_CONTENT BLOB);
"""
ROWS = """
INSERT INTO ZCALLRECORD (Z_PK, Z_ENT, Z_OPT, ZANSWERED, ZCALL_CATEGORY, ZCALLTYPE, ZORIGINATED, ZREAD, ZDATE,
  ZDURATION, ZADDRESS, ZISO_COUNTRY_CODE, ZLOCATION, ZNAME, ZSERVICE_PROVIDER, ZUNIQUE_ID) VALUES
  (1, 2, 1, 1, 1, 1, 1, 1, 700000000.5, 125.25, '+1 (555) 010-0100', 'us', 'Arlington, VA', 'Grace',
   'com.apple.Telephony', 'U-1'),
  (2, 2, 1, 0, 1, 1, 0, 0, 700000100, 0.0, X'2B343437373030393030313233', 'gb', NULL, NULL, 'com.apple.Telephony',
   'U-2'),
  (3, 2, 1, 1, 2, 0, 0, 1, 700000200, 61.0, '+447700900555', NULL, NULL, NULL, 'net.whatsapp.WhatsApp', 'U-3'),
  (4, 2, 1, 1, 2, 8, 0, 1, 700000300, 600.0, NULL, NULL, NULL, NULL, 'com.apple.FaceTime', 'U-4'),
  (5, 2, 1, 0, 1, 16, 1, 1, 700000400, 0.0, 'ada@example.com', NULL, NULL, NULL, 'com.apple.FaceTime', 'U-5'),
  (6, 2, 1, 1, 1, 0, 1, 1, 700000450, 5.0, 'user123', NULL, NULL, NULL, 'com.example.unknownvoip', 'U-6');
INSERT INTO ZHANDLE VALUES (1, 4, 1, 3, 'alan@example.com', 'alan@example.com'),
  (2, 4, 1, 2, '+15550100101', '+1 555 010 0101');
INSERT INTO Z_2REMOTEPARTICIPANTHANDLES VALUES (4, 1), (4, 2);
"""
WAL = ("INSERT INTO ZCALLRECORD (Z_PK, Z_ENT, Z_OPT, ZANSWERED, ZCALLTYPE, ZORIGINATED, ZDATE, ZDURATION, ZADDRESS,"
       " ZSERVICE_PROVIDER) VALUES (7, 2, 1, 1, 1, 0, 700000500, 30.0, '+15550100999', 'com.apple.Telephony')")


def test_call_types_directions_participants_and_wal(tmp_path):
    db = make_db(tmp_path / "src" / "CallHistory.storedata", SCHEMA + ROWS, wal_sql=WAL)
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: db, PATH + "-wal": str(db) + "-wal"}, ["ios-calls"])
    assert outcomes[0].outcome == "parsed" and outcomes[0].records == 7 and outcomes[0].from_wal == 1
    calls = {c["source_row"]: c for c in rows["calls"]}
    phone = calls["1"]
    assert (phone["app"], phone["platform"], phone["call_type"], phone["direction"]) == (
        "com.apple.mobilephone", "Phone", "audio", "outgoing")
    assert phone["peers"] == ["+1 (555) 010-0100"] and phone["peer_name"] == "Grace"
    assert phone["ts"] == "2023-03-08T20:26:40.500000Z" and phone["ts_encoding"] == "cocoa_s"
    assert phone["duration_s"] == 125.25 and phone["answered"] is True and phone["status"] == "answered"
    assert phone["extra"] == {"location": "Arlington, VA", "country_code": "us", "service_provider":
                              "com.apple.Telephony", "unique_id": "U-1", "read": 1, "call_type_code": 1}
    missed = calls["2"]
    assert missed["peers"] == ["+447700900123"] and missed["status"] == "missed" and missed["answered"] is False
    whatsapp = calls["3"]
    assert (whatsapp["app"], whatsapp["platform"], whatsapp["call_type"]) == ("net.whatsapp.WhatsApp", "WhatsApp",
                                                                              "video")
    group = calls["4"]
    assert (group["platform"], group["call_type"]) == ("FaceTime", "video")
    assert group["peers"] == ["alan@example.com", "+1 555 010 0101"]
    unanswered = calls["5"]
    assert unanswered["call_type"] == "audio" and unanswered["status"] == "unanswered"
    unknown_app = calls["6"]
    assert (unknown_app["app"], unknown_app["platform"]) == ("com.example.unknownvoip", "com.example.unknownvoip")
    assert calls["7"]["from_wal"] and calls["7"]["peers"] == ["+15550100999"]
    assert [c["from_wal"] for c in rows["calls"]].count(True) == 1


def test_ios10_model_without_category_or_participants(tmp_path):
    db = make_db(tmp_path / "CallHistory.storedata", """
        CREATE TABLE ZCALLRECORD ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZANSWERED INTEGER,
          ZCALLTYPE INTEGER, ZDISCONNECTED_CAUSE INTEGER, ZFACE_TIME_DATA INTEGER, ZNUMBER_AVAILABILITY INTEGER,
          ZORIGINATED INTEGER, ZREAD INTEGER, ZDATE TIMESTAMP, ZDURATION FLOAT, ZADDRESS VARCHAR,
          ZDEVICE_ID VARCHAR, ZISO_COUNTRY_CODE VARCHAR, ZLOCATION VARCHAR, ZNAME VARCHAR,
          ZSERVICE_PROVIDER VARCHAR, ZUNIQUE_ID VARCHAR );
        INSERT INTO ZCALLRECORD (Z_PK, ZANSWERED, ZCALLTYPE, ZORIGINATED, ZDATE, ZDURATION, ZADDRESS,
          ZSERVICE_PROVIDER) VALUES (1, 1, 0, 1, 500000000, 12.0, '+15550100', 'ph.telegra.Telegraph');""")
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: db}, ["ios-calls"])
    (call,) = rows["calls"]
    assert (call["app"], call["platform"], call["call_type"]) == ("ph.telegra.Telegraph", "Telegram", None)
    assert call["ts"] == "2016-11-05T00:53:20.000000Z" and call["direction"] == "outgoing"


def test_legacy_call_history_db(tmp_path):
    db = make_db(tmp_path / "call_history.db", """
        CREATE TABLE _SqliteDatabaseProperties (key TEXT, value TEXT, UNIQUE(key));
        CREATE TABLE call (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, address TEXT, date INTEGER, duration INTEGER,
          flags INTEGER, id INTEGER, name TEXT, country_code TEXT, network_code TEXT, read INTEGER,
          assisted INTEGER, face_time_data BLOB, originalAddress TEXT);
        CREATE TABLE data (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, pdp_ip INTEGER, bytes_rcvd REAL,
          bytes_sent REAL, bytes_last_rcvd REAL, bytes_last_sent REAL, bytes_lifetime_rcvd REAL,
          bytes_lifetime_sent REAL);
        INSERT INTO call (ROWID, address, date, duration, flags, id, name, country_code, read) VALUES
          (1, '5551230001', 1370164530, 42, 5, -1, '', '310', 1),
          (2, '5551230002', 1370164600, 0, 4, 12, 'Bob', '310', 0);""")
    outcomes, rows = parser_harness.run(tmp_path / "run", {LEGACY_PATH: db}, ["ios-calls-legacy"])
    assert outcomes[0].outcome == "parsed"
    first, second = rows["calls"]
    assert first["direction"] == "outgoing" and first["ts"] == "2013-06-02T09:15:30.000000Z"
    assert first["ts_encoding"] == "unix_s" and first["peers"] == ["5551230001"] and first["peer_name"] is None
    assert first["extra"] == {"flags": 5, "country_code": "310", "read": 1} and first["answered"] is None
    assert second["direction"] == "incoming" and second["peer_name"] == "Bob"
    assert second["extra"]["contact_id"] == 12 and second["source_table"] == "call"


def test_damaged_call_history_is_recovered(tmp_path):
    many = "".join(f"INSERT INTO ZCALLRECORD (Z_PK, ZANSWERED, ZCALLTYPE, ZORIGINATED, ZDATE, ZDURATION, ZADDRESS, "
                   f"ZLOCATION) VALUES ({i}, 1, 1, 0, {700000000 + i}, 1.0, '+1555{i:04d}', '{'l' * 300} {i}');"
                   for i in range(1, 201))
    good = make_db(tmp_path / "good.storedata", SCHEMA + many)
    page = good.read_bytes().find(b"l" * 300 + b" 100") // 4096 + 1
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: damage(good, tmp_path / "bad.storedata", page)},
                                        ["ios-calls"])
    assert outcomes[0].outcome == "parsed" and outcomes[0].recovered
    assert 150 < outcomes[0].records < 200 and all(c["recovered"] for c in rows["calls"])
