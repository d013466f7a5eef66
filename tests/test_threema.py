"""Threema: iOS ThreemaData.sqlite built with the tables and columns iLEAPP's Threema.py reads; the Android
threema4.db reported as encrypted."""
import os

from tests import parser_harness
from tests.fixtures.sqlite_db import make_db
from tests.fixtures.threema_ios import THREEMA_SCHEMA

PATH = "/private/var/mobile/Containers/Shared/AppGroup/7A1B/ThreemaData.sqlite"
PARSERS = ["threema-ios-messages", "threema-ios-locations", "threema-ios-contacts"]

ROWS = """
INSERT INTO ZCONTACT (Z_PK, Z_ENT, ZIDENTITY, ZFIRSTNAME, ZLASTNAME, ZPUBLICNICKNAME, ZCNCONTACTID)
    VALUES (1, 1, 'ECHOECHO', 'Dee', 'Ray', 'dee', 'CN-1'), (2, 1, 'K7XQ2M9P', NULL, NULL, 'boss', NULL);
INSERT INTO ZCONVERSATION (Z_PK, Z_ENT, ZCONTACT, ZGROUPNAME) VALUES (1, 2, 1, NULL), (2, 2, NULL, 'Crew');
INSERT INTO ZIMAGEDATA (Z_PK, Z_ENT, ZDATA) VALUES (1, 9, X'0141424344');
-- ZDATA of an externally stored file: 0x02, the file name 'E3B0-UUID', 0x00
INSERT INTO ZFILEDATA (Z_PK, Z_ENT, ZMESSAGE, ZDATA) VALUES (1, 10, 5, X'02453342302d5555494400');
INSERT INTO ZMESSAGE (Z_PK, Z_ENT, ZISOWN, ZREAD, ZCONVERSATION, ZSENDER, ZDATE, ZTEXT) VALUES
    (1, 4, 1, 1, 1, NULL, 721692000.5, 'new number, save it'),
    (2, 4, 0, 1, 1, NULL, 721692100.0, 'ok'),
    (3, 4, 0, 0, 2, 2, 721692200.0, 'all of you, tonight');
INSERT INTO ZMESSAGE (Z_PK, Z_ENT, ZISOWN, ZCONVERSATION, ZDATE, ZIMAGE, ZCAPTION) VALUES
    (4, 5, 0, 1, 721692300.0, 1, 'the room');
INSERT INTO ZMESSAGE (Z_PK, Z_ENT, ZISOWN, ZCONVERSATION, ZDATE, ZFILENAME, ZMIMETYPE) VALUES
    (5, 8, 1, 1, 721692400.0, 'list.pdf', 'application/pdf');
INSERT INTO ZMESSAGE (Z_PK, Z_ENT, ZISOWN, ZCONVERSATION, ZDATE, ZLATITUDE, ZLONGITUDE, ZACCURACY) VALUES
    (6, 6, 0, 1, 721692500.0, 13.7563, 100.5018, 15.0);
INSERT INTO ZMESSAGE (Z_PK, Z_ENT, ZISOWN, ZCONVERSATION, ZDATE) VALUES (7, 7, 0, 2, 721692600.0);
"""
WAL_ROW = ("INSERT INTO ZMESSAGE (Z_PK, Z_ENT, ZISOWN, ZCONVERSATION, ZDATE, ZTEXT) "
           "VALUES (8, 4, 0, 1, 721692700.0, 'only in the WAL');")


def test_ios_messages_media_locations_contacts_and_wal(tmp_path):
    src = make_db(tmp_path / "src/ThreemaData.sqlite", THREEMA_SCHEMA + ROWS, wal_sql=WAL_ROW)
    files = {PATH: src, PATH + "-wal": tmp_path / "src/ThreemaData.sqlite-wal"}
    outcomes, rows = parser_harness.run(tmp_path / "run", files, PARSERS)
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "threema-ios-messages": ("parsed", 8, 1), "threema-ios-locations": ("parsed", 1, 0),
        "threema-ios-contacts": ("parsed", 2, 0)}
    m = rows["messages"]
    assert [(x["message_type"], x["direction"], x["sender"], x["recipients"], x["body"]) for x in m] == [
        ("TextMessage", "outgoing", None, ["ECHOECHO"], "new number, save it"),
        ("TextMessage", "incoming", "ECHOECHO", [], "ok"),
        ("TextMessage", "incoming", "K7XQ2M9P", [], "all of you, tonight"),
        ("ImageMessage", "incoming", "ECHOECHO", [], "the room"),
        ("FileMessage", "outgoing", None, ["ECHOECHO"], None),
        ("LocationMessage", "incoming", "ECHOECHO", [], None),
        ("SystemMessage", "incoming", None, [], None),
        ("TextMessage", "incoming", "ECHOECHO", [], "only in the WAL")]
    assert (m[0]["ts"], m[0]["ts_raw"], m[0]["ts_encoding"]) == ("2023-11-14T22:00:00.500000Z", "721692000.5",
                                                                 "cocoa_s")
    assert (m[1]["thread_name"], m[1]["sender_name"]) == ("Dee Ray", "Dee Ray")
    assert (m[2]["thread_name"], m[2]["sender_name"]) == ("Crew", "boss")
    assert m[3]["attachments"] == [{"embedded_bytes": 4}]
    assert m[4]["attachments"] == [{"path": ".ThreemaData_SUPPORT/_EXTERNAL_DATA/E3B0-UUID", "name": "list.pdf",
                                    "mime_type": "application/pdf"}]
    assert (m[5]["extra"]["latitude"], m[5]["extra"]["longitude"]) == (13.7563, 100.5018)
    assert m[7]["from_wal"] and not any(x["from_wal"] for x in m[:7])
    (place,) = rows["locations"]
    assert (place["latitude"], place["longitude"], place["accuracy_m"], place["label"]) == (
        13.7563, 100.5018, 15.0, "received")
    assert [(c["user_id"], c["name"], c["extra"].get("nickname")) for c in rows["contacts"]] == [
        ("ECHOECHO", "Dee Ray", "dee"), ("K7XQ2M9P", "boss", "boss")]


def test_ios_older_store_without_optional_columns(tmp_path):
    """A store whose ZMESSAGE lacks the media, caption and location columns and has no Z_PRIMARYKEY rows."""
    legacy = ("CREATE TABLE ZMESSAGE (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZISOWN INTEGER, "
              "ZCONVERSATION INTEGER, ZDATE TIMESTAMP, ZTEXT VARCHAR);"
              "INSERT INTO ZMESSAGE VALUES (1, 4, 1, 0, 1, 721692000.0, 'hi');")
    path = make_db(tmp_path / "old.sqlite", legacy)
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: path}, PARSERS)
    assert {o.spec.name: o.outcome for o in outcomes} == {
        "threema-ios-messages": "parsed", "threema-ios-locations": "unsupported version",
        "threema-ios-contacts": "unsupported version"}
    (message,) = rows["messages"]
    assert (message["body"], message["direction"], message["message_type"]) == ("hi", "incoming", "entity 4")


def test_ios_damaged_store_is_recovered(tmp_path):
    many = "".join(f"INSERT INTO ZMESSAGE (Z_PK, Z_ENT, ZISOWN, ZCONVERSATION, ZDATE, ZTEXT) VALUES "
                   f"({i}, 4, 0, 1, {721692000 + i}, '{'x' * 300}');\n" for i in range(1, 201))
    outcome, _ = parser_harness.run_damaged_leaf(tmp_path, PATH, THREEMA_SCHEMA + many, "ZMESSAGE", "threema-ios-messages")
    assert outcome.outcome == "parsed" and outcome.recovered and 150 < outcome.records < 200


def test_android_database_is_reported_encrypted(tmp_path):
    """threema4.db as SQLCipher writes it (random bytes throughout), with and without the master key file."""
    db = "/data/data/ch.threema.app/databases/threema4.db"
    cipher = os.urandom(4096 * 3)
    outcomes, _ = parser_harness.run(tmp_path / "nokey", {db: cipher}, ["threema-android"])
    (outcome,) = outcomes
    assert outcome.outcome == "encrypted" and "no master key file" in outcome.message
    files = {db: cipher, "/data/data/ch.threema.app/files/key.dat": os.urandom(45)}
    outcomes, rows = parser_harness.run(tmp_path / "key", files, ["threema-android", "threema-android-key"])
    by_name = {o.spec.name: o for o in outcomes}
    assert by_name["threema-android"].outcome == "encrypted"
    assert "/data/data/ch.threema.app/files/key.dat is in the evidence" in by_name["threema-android"].message
    assert by_name["threema-android-key"].outcome == "no data" and not any(rows.values())
    plain = make_db(tmp_path / "plain.db", "CREATE TABLE t (a);")
    outcomes, _ = parser_harness.run(tmp_path / "plain", {db: plain}, ["threema-android"])
    assert outcomes[0].outcome == "unsupported version"
