"""Tinder for iOS: Tinder2.sqlite fixtures built with the app's Core Data schema."""
from forensics.backups import backup_path
from parsers.framework import load_parsers
from tests import parser_harness
from tests.fixtures.sqlite_db import damage, make_db

TINDER = ("/private/var/mobile/Containers/Data/Application/9A8B7C6D-0000-4000-8000-00000000000F/Library/"
          "Application Support/Tinder/Tinder2.sqlite")
NAMES = ["tinder-ios-messages", "tinder-ios-matches", "tinder-ios-account"]

SCHEMA = """
    CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER, Z_MAX INTEGER);
    CREATE TABLE ZUSER ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZGENDER INTEGER,
        ZISCURRENTUSER INTEGER, ZLIKED INTEGER, ZSUPERLIKED INTEGER, ZVERIFIED INTEGER, ZSCHOOL INTEGER,
        ZBIRTHDATE TIMESTAMP, ZDISTANCEMILES FLOAT, ZBIO VARCHAR, ZCITYNAME VARCHAR, ZCUSTOMGENDER VARCHAR,
        ZFIRSTNAME VARCHAR, ZINSTAGRAMNAME VARCHAR, ZPUBLICUSERNAME VARCHAR, ZSNUMBER VARCHAR, ZUSERID VARCHAR,
        ZUSERLOCATIONNAME VARCHAR );
    CREATE TABLE ZMATCH ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZFOLLOWING INTEGER,
        ZISBOOSTMATCH INTEGER, ZISEXPIRED INTEGER, ZISFASTMATCH INTEGER, ZISSUPERLIKEMATCH INTEGER,
        ZISTOPPICKSMATCH INTEGER, ZMATCHSEEN INTEGER, ZSERVERMESSAGECOUNT INTEGER, ZVIEWED INTEGER, ZUSER INTEGER,
        ZCREATED TIMESTAMP, ZEXPIRATIONDATE TIMESTAMP, ZLASTACTIVITY TIMESTAMP, ZTOUCHED TIMESTAMP,
        ZMATCHID VARCHAR, ZMESSAGEDRAFT VARCHAR, ZSUBSCRIPTIONTIER VARCHAR );
    CREATE TABLE ZMESSAGE ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZISHIDDEN INTEGER,
        ZLIKED INTEGER, ZVIEWED INTEGER, ZMATCH INTEGER, ZCLIENTCREATED TIMESTAMP, ZCREATED TIMESTAMP,
        ZFROMUSERID VARCHAR, ZLINKURL VARCHAR, ZLOCALIMAGEURL VARCHAR, ZMEDIAURL VARCHAR, ZMESSAGEID VARCHAR,
        ZPHOTOURL VARCHAR, ZSUBTYPE VARCHAR, ZTEXT VARCHAR, ZTYPE VARCHAR, ZANALYTICSINFO BLOB,
        ZFORMATTINGDATA BLOB, ZVERSIONINGDATA BLOB );
"""
ME, HER = "5f1a00000000000000000001", "5f1a00000000000000000002"
ROWS = f"""
    INSERT INTO ZUSER (Z_PK, Z_ENT, ZGENDER, ZISCURRENTUSER, ZBIRTHDATE, ZDISTANCEMILES, ZBIO, ZCITYNAME, ZFIRSTNAME,
                       ZINSTAGRAMNAME, ZPUBLICUSERNAME, ZUSERID) VALUES
        (1, 3, 0, 1, NULL, NULL, NULL, NULL, 'Sam', NULL, 'sam_t', '{ME}'),
        (2, 3, 1, 0, 31536000, 4.5, 'new in town', 'Leeds', 'Jo', 'jo.insta', NULL, '{HER}');
    INSERT INTO ZMATCH (Z_PK, Z_ENT, ZISEXPIRED, ZISSUPERLIKEMATCH, ZUSER, ZCREATED, ZLASTACTIVITY, ZMATCHID,
                        ZMESSAGEDRAFT) VALUES (1, 2, 0, 1, 2, 700000000, 700000900, '{ME}{HER}', 'see you');
    INSERT INTO ZMESSAGE (Z_PK, Z_ENT, ZMATCH, ZCLIENTCREATED, ZCREATED, ZFROMUSERID, ZMESSAGEID, ZTEXT, ZPHOTOURL)
        VALUES (1, 1, 1, 700000100, 700000100.5, '{HER}', 'msg1', 'hey', NULL),
               (2, 1, 1, 700000200, 700000200, '{ME}', 'msg2', 'hi, here is me', 'https://images-ssl.gotinder.com/x');
"""
WAL = f"""INSERT INTO ZMESSAGE (Z_PK, Z_ENT, ZMATCH, ZCREATED, ZFROMUSERID, ZTEXT)
          VALUES (3, 1, 1, 700000300, '{HER}', 'only in the WAL');"""


def test_messages_matches_account_and_wal(tmp_path):
    db = make_db(tmp_path / "src" / "Tinder2.sqlite", SCHEMA + ROWS, wal_sql=WAL)
    outcomes, rows = parser_harness.run(
        tmp_path / "run", {TINDER: db, TINDER + "-wal": db.with_name(db.name + "-wal")}, NAMES)
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "tinder-ios-messages": ("parsed", 3, 1), "tinder-ios-matches": ("parsed", 1, 0),
        "tinder-ios-account": ("parsed", 1, 0)}
    m1, m2, m3 = rows["messages"]
    assert (m1["direction"], m1["sender"], m1["sender_name"], m1["thread_id"], m1["thread_name"], m1["body"]) == (
        "incoming", HER, "Jo", ME + HER, "Jo", "hey")
    assert m1["ts"] == "2023-03-08T20:28:20.500000Z" and m1["extra"] == {
        "message_id": "msg1", "client_created": "2023-03-08T20:28:20.000000Z"}
    assert (m2["direction"], m2["recipients"], m2["sender_name"]) == ("outgoing", [HER], "Sam")
    assert m2["attachments"] == [{"kind": "photourl", "url": "https://images-ssl.gotinder.com/x"}]
    assert m3["from_wal"] and m3["body"] == "only in the WAL" and m3["direction"] == "incoming"

    (match,) = rows["contacts"]
    assert (match["name"], match["user_id"], match["handles"], match["ts"]) == (
        "Jo", HER, [], "2023-03-08T20:26:40.000000Z")
    assert match["extra"] == {"match_id": ME + HER, "last_activity": "2023-03-08T20:41:40.000000Z",
                              "birth_date": "2002-01-01", "bio": "new in town", "city": "Leeds", "gender_raw": 1,
                              "distance_miles": 4.5, "super_like": 1, "expired": 0, "draft": "see you",
                              "instagram": "jo.insta"}
    (account,) = rows["accounts"]
    assert (account["user_id"], account["display_name"], account["username"]) == (ME, "Sam", "sam_t")


def test_without_current_user_the_direction_is_unknown(tmp_path):
    db = make_db(tmp_path / "Tinder2.sqlite", SCHEMA + ROWS + "UPDATE ZUSER SET ZISCURRENTUSER = 0;")
    outcomes, rows = parser_harness.run(tmp_path / "run", {TINDER: db}, NAMES)
    assert {o.spec.name: o.outcome for o in outcomes}["tinder-ios-account"] == "no data"
    assert [m["direction"] for m in rows["messages"]] == [None, None]


def test_damaged_store_is_recovered(tmp_path):
    many = "".join(f"INSERT INTO ZMESSAGE (Z_PK, ZMATCH, ZCREATED, ZFROMUSERID, ZTEXT) VALUES "
                   f"({i}, 1, {700000000 + i}, '{HER}', '{'x' * 300}');" for i in range(10, 210))
    good = make_db(tmp_path / "good.sqlite", SCHEMA + ROWS + many)
    bad = damage(good, tmp_path / "bad.sqlite", page=good.stat().st_size // 4096 // 2)
    outcomes, rows = parser_harness.run(tmp_path / "run", {TINDER: bad}, ["tinder-ios-messages"])
    (outcome,) = outcomes
    assert outcome.outcome == "parsed" and outcome.recovered and 150 < outcome.records <= 202


def test_paths_match_device_vendor_and_backup_layouts():
    spec = next(s for s in load_parsers() if s.name == "tinder-ios-messages")
    for path in (TINDER, "filesystem1" + TINDER, backup_path("AppDomain-com.cardify.tinder", "Library/Application Support/Tinder/Tinder2.sqlite")):
        assert spec.matches(path), path
    assert not spec.matches("/private/var/mobile/Containers/Data/Application/X/Library/Tinder2.sqlite")
