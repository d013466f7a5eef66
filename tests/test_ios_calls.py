"""iOS call history: CallHistory.storedata (current and iOS 10 models) and the pre-iOS 8 call_history.db, built with
their real schemas; a WAL-only row and a damaged copy."""
from tests import parser_harness
from tests.fixtures.ios_calls import ROWS, SCHEMA, WAL
from tests.fixtures.sqlite_db import damage, make_db

PATH = "/private/var/mobile/Library/CallHistoryDB/CallHistory.storedata"
LEGACY_PATH = "/private/var/wireless/Library/CallHistory/call_history.db"


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
