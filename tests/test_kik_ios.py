"""Kik for iOS: kik.sqlite fixtures built with the app's Core Data schema (as plaso's kik_ios plugin records it)."""
from forensics.backups import backup_path
from parsers.framework import load_parsers
from tests import parser_harness
from tests.fixtures.sqlite_db import damage, make_db

KIK = "/private/var/mobile/Containers/Shared/AppGroup/5D4C3B2A-0000-4000-8000-00000000000C/cores/private/" \
      "0a1b2c3d/kik.sqlite"
NAMES = ["kik-ios-messages", "kik-ios-users"]

SCHEMA = """
    CREATE TABLE Z_3MESSAGES ( Z_3CHAT INTEGER, Z_5MESSAGES INTEGER, PRIMARY KEY (Z_3CHAT, Z_5MESSAGES) );
    CREATE TABLE Z_6ADMINSINVERSE ( Z_6ADMINS INTEGER, Z_6ADMINSINVERSE INTEGER,
        PRIMARY KEY (Z_6ADMINS, Z_6ADMINSINVERSE) );
    CREATE TABLE Z_6BANSINVERSE ( Z_6BANS INTEGER, Z_6BANSINVERSE INTEGER, PRIMARY KEY (Z_6BANS, Z_6BANSINVERSE) );
    CREATE TABLE Z_6MEMBERS ( Z_6MEMBERSINVERSE INTEGER, Z_6MEMBERS INTEGER,
        PRIMARY KEY (Z_6MEMBERSINVERSE, Z_6MEMBERS) );
    CREATE TABLE Z_METADATA (Z_VERSION INTEGER PRIMARY KEY, Z_UUID VARCHAR(255), Z_PLIST BLOB);
    CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER, Z_MAX INTEGER);
    CREATE TABLE ZKIKATTACHMENT ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZFLAGS INTEGER,
        ZINTERNALID INTEGER, ZRETRYCOUNT INTEGER, ZSTATE INTEGER, ZTYPE INTEGER, ZEXTRA INTEGER, ZMESSAGE INTEGER,
        ZLASTACCESSTIMESTAMP TIMESTAMP, ZTIMESTAMP TIMESTAMP, ZCONTENT VARCHAR );
    CREATE TABLE ZKIKATTACHMENTEXTRA ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZATTACHMENT INTEGER,
        ZENCRYPTIONKEY BLOB );
    CREATE TABLE ZKIKCHAT ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZFLAGS INTEGER,
        ZDRAFTMESSAGE INTEGER, ZEXTRA INTEGER, ZLASTMESSAGE INTEGER, ZUSER INTEGER, ZDATEUPDATED TIMESTAMP );
    CREATE TABLE ZKIKCHATEXTRA ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZCHAT INTEGER,
        ZLASTSEENMESSAGE INTEGER, ZMUTEDTIMESTAMP TIMESTAMP );
    CREATE TABLE ZKIKMESSAGE ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZFLAGS INTEGER,
        ZINTERNALID INTEGER, ZSTATE INTEGER, ZSYSTEMSTATE INTEGER, ZTYPE INTEGER, ZCHATEXTRA INTEGER,
        ZDRAFTMESSAGECHAT INTEGER, ZLASTMESSAGECHAT INTEGER, ZLASTMESSAGEUSER INTEGER, ZUSER INTEGER,
        ZRECEIVEDTIMESTAMP TIMESTAMP, ZTIMESTAMP TIMESTAMP, ZBODY VARCHAR, ZSTANZAID VARCHAR,
        ZRENDERINSTRUCTIONSET BLOB );
    CREATE TABLE ZKIKUSER ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZADDRESSBOOKID INTEGER,
        ZFLAGS INTEGER, ZINTERNALID INTEGER, ZPRESENCE INTEGER, ZTYPE INTEGER, ZCHATUSER INTEGER, ZEXTRA INTEGER,
        ZLASTMESSAGE INTEGER, ZDISPLAYNAME VARCHAR, ZDISPLAYNAMEASCII VARCHAR, ZEMAIL VARCHAR, ZFIRSTNAME VARCHAR,
        ZGROUPTAG VARCHAR, ZJID VARCHAR, ZLASTNAME VARCHAR, ZPPTIMESTAMP VARCHAR, ZPPURL VARCHAR, ZSTATUS VARCHAR,
        ZUSERNAME VARCHAR, ZCONTENTLINKSPROTODATA BLOB );
    CREATE TABLE ZKIKUSEREXTRA ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZLOCALFLAGS INTEGER,
        ZUSER INTEGER, ZPUBLICMESSAGINGKEY BLOB );
"""
TRADER, CREW, MEMBER = "trader_x_q1w@talk.kik.com", "1100123456789_g@groups.kik.com", "member_b_z9y@talk.kik.com"
ROWS = f"""
    INSERT INTO ZKIKUSER (Z_PK, Z_ENT, ZDISPLAYNAME, ZFIRSTNAME, ZLASTNAME, ZEMAIL, ZJID, ZUSERNAME, ZPPTIMESTAMP,
                          ZPPURL, ZGROUPTAG) VALUES
        (1, 6, 'Trader X', 'Trader', 'X', 'tx@example.com', '{TRADER}', 'trader_x', '1600000000123',
         'https://profilepics.cf.kik.com/abc', NULL),
        (2, 6, 'Crew', NULL, NULL, NULL, '{CREW}', NULL, NULL, NULL, '#crew'),
        (3, 6, 'Member B', 'Member', 'B', NULL, '{MEMBER}', 'member_b', NULL, NULL, NULL);
    INSERT INTO ZKIKCHAT (Z_PK, Z_ENT, ZUSER) VALUES (1, 3, 1), (2, 3, 2);
    INSERT INTO ZKIKMESSAGE (Z_PK, Z_ENT, ZSTATE, ZTYPE, ZUSER, ZRECEIVEDTIMESTAMP, ZTIMESTAMP, ZBODY, ZSTANZAID)
        VALUES (1, 5, 400, 1, 1, 700000001.5, 700000000.25, 'room 12', 'st-1'),
               (2, 5, 300, 2, 1, NULL, 700000060, 'ok', 'st-2'),
               (3, 5, 400, 4, 3, 700000121, 700000120, 'who has it', 'st-3'),
               (4, 5, 400, 1, 1, 700000180, 700000180, NULL, 'st-4');
    INSERT INTO Z_3MESSAGES VALUES (1, 1), (1, 2), (2, 3), (1, 4);
    INSERT INTO ZKIKATTACHMENT (Z_PK, Z_ENT, ZMESSAGE, ZCONTENT) VALUES (1, 1, 4, '9f8e7d6c-photo');
"""
WAL = """INSERT INTO ZKIKMESSAGE (Z_PK, Z_ENT, ZTYPE, ZUSER, ZTIMESTAMP, ZBODY) VALUES (5, 5, 1, 1, 700000240, 'wal');
         INSERT INTO Z_3MESSAGES VALUES (1, 5);"""


def test_messages_users_attachments_and_wal(tmp_path):
    db = make_db(tmp_path / "src" / "kik.sqlite", SCHEMA + ROWS, wal_sql=WAL)
    outcomes, rows = parser_harness.run(tmp_path / "run", {KIK: db, KIK + "-wal": db.with_name(db.name + "-wal")},
                                        NAMES)
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "kik-ios-messages": ("parsed", 5, 1), "kik-ios-users": ("parsed", 3, 0)}
    m1, m2, m3, m4, m5 = rows["messages"]
    assert (m1["direction"], m1["sender"], m1["sender_name"], m1["thread_id"], m1["thread_name"], m1["body"]) == (
        "incoming", TRADER, "Trader X", TRADER, "Trader X", "room 12")
    assert m1["ts"] == "2023-03-08T20:26:40.250000Z" and m1["received_ts"] == "2023-03-08T20:26:41.500000Z"
    assert m1["extra"] == {"type_raw": 1, "state": 400, "stanza_id": "st-1", "author_username": "trader_x"}
    assert (m2["direction"], m2["sender"], m2["recipients"], m2["received_ts"]) == ("outgoing", None, [TRADER], None)
    assert (m3["direction"], m3["sender"], m3["thread_id"], m3["thread_name"], m3["message_type"]) == (
        None, MEMBER, CREW, "Crew", "group message")
    assert m4["attachments"] == [{"content": "9f8e7d6c-photo"}]
    assert m5["body"] == "wal" and m5["from_wal"] and m5["thread_id"] == TRADER
    assert (m1["source_table"], m1["source_row"]) == ("ZKIKMESSAGE", "1")

    trader, crew, member = rows["contacts"]
    assert (trader["name"], trader["user_id"], trader["handles"], trader["emails"]) == (
        "Trader X", TRADER, ["trader_x"], ["tx@example.com"])
    assert trader["extra"] == {"profile_picture_url": "https://profilepics.cf.kik.com/abc",
                               "profile_picture_ts": "2020-09-13T12:26:40.123000Z", "full_name": "Trader X"}
    assert crew["extra"] == {"group_tag": "#crew"} and crew["handles"] == []


def test_store_without_chat_join_table(tmp_path):
    old = make_db(tmp_path / "kik.sqlite", f"""
        CREATE TABLE ZKIKUSER (Z_PK INTEGER PRIMARY KEY, ZDISPLAYNAME VARCHAR, ZJID VARCHAR, ZUSERNAME VARCHAR);
        CREATE TABLE ZKIKMESSAGE (Z_PK INTEGER PRIMARY KEY, ZTYPE INTEGER, ZUSER INTEGER, ZTIMESTAMP TIMESTAMP,
            ZBODY VARCHAR);
        INSERT INTO ZKIKUSER VALUES (1, 'Trader X', '{TRADER}', 'trader_x');
        INSERT INTO ZKIKMESSAGE VALUES (1, 2, 1, 500000000, 'sent long ago');
    """)
    outcomes, rows = parser_harness.run(tmp_path / "run", {KIK: old}, NAMES)
    assert {o.spec.name: o.outcome for o in outcomes} == {"kik-ios-messages": "parsed", "kik-ios-users": "parsed"}
    (message,) = rows["messages"]
    assert (message["direction"], message["recipients"], message["thread_id"]) == ("outgoing", [TRADER], TRADER)


def test_damaged_store_is_recovered(tmp_path):
    many = "".join(f"INSERT INTO ZKIKMESSAGE (Z_PK, ZTYPE, ZUSER, ZTIMESTAMP, ZBODY) VALUES "
                   f"({i}, 1, 1, {700000000 + i}, '{'x' * 300}');" for i in range(10, 210))
    good = make_db(tmp_path / "good.sqlite", SCHEMA + ROWS + many)
    bad = damage(good, tmp_path / "bad.sqlite", page=good.stat().st_size // 4096 // 2)
    outcomes, rows = parser_harness.run(tmp_path / "run", {KIK: bad}, ["kik-ios-messages"])
    (outcome,) = outcomes
    assert outcome.outcome == "parsed" and outcome.recovered and 150 < outcome.records <= 204


def test_paths_match_device_vendor_and_backup_layouts():
    spec = next(s for s in load_parsers() if s.name == "kik-ios-messages")
    for path in (KIK, "filesystem1" + KIK, backup_path("AppDomainGroup-group.com.kik.chat", "cores/private/0a1b2c3d/kik.sqlite")):
        assert spec.matches(path), path
    assert not spec.matches("/private/var/mobile/kik.sqlite.old")
