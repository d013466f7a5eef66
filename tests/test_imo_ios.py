"""imo for iOS: plaso's real IMODb2.sqlite, and a fixture built with the same Core Data schema."""
import json

import pytest

from forensics.backups import backup_path
from parsers.framework import load_parsers
from tests import parser_harness
from tests.conftest_paths import TESTDATA
from tests.fixtures.nskeyedarchive import keyed_archive
from tests.fixtures.sqlite_db import damage, make_db

IMO = "/private/var/mobile/Containers/Data/Application/3F2E1D0C-0000-4000-8000-00000000000B/Documents/IMODb2.sqlite"
NAMES = ["imo-ios-messages", "imo-ios-contacts", "imo-ios-account"]
BUDDY = "2000810370507916"


def test_real_imo_database(tmp_path):
    real = TESTDATA / "log2timeline+plaso/test_data/ios/IMODb2.sqlite"
    if not real.exists():
        pytest.skip(f"third-party test data absent: {real}")
    outcomes, rows = parser_harness.run(tmp_path, {IMO: real}, NAMES)
    assert {o.spec.name: (o.outcome, o.records) for o in outcomes} == {
        "imo-ios-messages": ("parsed", 16), "imo-ios-contacts": ("parsed", 4), "imo-ios-account": ("parsed", 1)}
    messages = rows["messages"]
    assert [m["direction"] for m in messages].count("outgoing") == 8
    first = messages[0]
    assert (first["body"], first["direction"], first["sender"], first["sender_name"]) == (
        "Are you on imo?", "incoming", BUDDY, "This Is DFIR Two")
    assert first["ts"] == "2023-04-26T18:11:40.927000Z" and first["ts_raw"] == "1682532700927000000"
    assert first["ts_encoding"] == "unix_ns" and first["thread_id"] == BUDDY
    reply = messages[1]
    assert (reply["direction"], reply["sender"], reply["recipients"]) == ("outgoing", None, [BUDDY])
    assert reply["extra"]["sender_ts"] == "2023-04-26T18:12:33.965518Z"
    photo = messages[4]
    assert photo["message_type"] == "photo_uploaded" and photo["attachments"] == [
        {"name": "0AK3-QnxEc0.webp", "object_id": ".40tNyIfCwAKbKfEfKsHcyIsiAjQ", "mime_type": "image/webp"}]
    deleted = messages[14]
    assert deleted["deleted"] and deleted["message_type"] == "__deleted_im" and deleted["source_row"] == "15"

    assert [(c["user_id"], c["name"], c["phones"]) for c in rows["contacts"]] == [
        (BUDDY, "This Is DFIR Two", ["(919) 888-7386"]), ("2002144460145418", "Josh", []),
        ("2002249975714909", "Josh Hickman", ["(919) 391-2507"]),
        ("2001584915553829", "Josh Hickman", ["(919) 579-0479"])]
    (account,) = rows["accounts"]
    assert (account["user_id"], account["username"]) == ("2001533484753054", "ThisIsDFIR")
    # the session cookie kept in the same table never leaves the database
    assert "_0JOd2QoS7WAtVfTqLKvoqgyaWXxUrxvpD" not in json.dumps(rows)


SCHEMA = """
    CREATE TABLE ZIMOCHATMSG ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZISSENT INTEGER,
        ZNUM_RETRIES INTEGER, ZSENDERTS INTEGER, ZSTATE INTEGER, ZTS INTEGER, ZTYPE INTEGER, ZA_UID VARCHAR,
        ZALIAS VARCHAR, ZBATCH_ID VARCHAR, ZBUID VARCHAR, ZCONTACT_ALIAS VARCHAR, ZICON VARCHAR, ZPHOTO_ID VARCHAR,
        ZTEXT VARCHAR, ZIMDATA BLOB );
    CREATE TABLE ZIMOCONTACT ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZBLOCK_STATE INTEGER,
        ZCONTACT_ABID INTEGER, ZFAV_STATE INTEGER, ZIS_GROUP INTEGER, ZMUTED_STATE INTEGER, ZPHONE_LAST6 INTEGER,
        ZALIAS VARCHAR, ZBUID VARCHAR, ZCONTACT_CNID VARCHAR, ZDIGIT_PHONE VARCHAR, ZDISPLAY VARCHAR,
        ZICON_ID VARCHAR, ZPH_NAME VARCHAR, ZPHONE VARCHAR );
    CREATE TABLE ZIMOKEYVAL ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZLONG_VAL INTEGER,
        ZDATE_VAL TIMESTAMP, ZKEY VARCHAR, ZSTRING_VAL VARCHAR, ZDATA_VAL BLOB );
    CREATE TABLE ZIMORECENTCALL ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZCALL_TYPE INTEGER,
        ZCHAT_TYPE INTEGER, ZTS INTEGER, ZBUID VARCHAR, ZDISPLAY VARCHAR, ZICON_ID VARCHAR, ZIMDATA BLOB );
    CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER, Z_MAX INTEGER);
    CREATE TABLE Z_METADATA (Z_VERSION INTEGER PRIMARY KEY, Z_UUID VARCHAR(255), Z_PLIST BLOB);
"""
GROUP = "g.1234567890"
PHOTO = keyed_archive({"type": "photo_uploaded", "objects": [
    {"filename": "a.webp", "object_id": ".obj1", "type_specific_params": {"mime": "image/webp"}}]})
ROWS = f"""
    INSERT INTO ZIMOCHATMSG (Z_PK, Z_ENT, ZISSENT, ZSENDERTS, ZSTATE, ZTS, ZTYPE, ZA_UID, ZALIAS, ZBUID,
                             ZCONTACT_ALIAS, ZTEXT, ZIMDATA) VALUES
        (1, 1, 0, 1700000000000000000, 4, 1700000000123456789, 0, '777', 'Van Driver', '{GROUP}', 'Depot', 'at gate',
         NULL),
        (2, 1, 1, 1700000060000000000, 3, 1700000060000000000, 1, NULL, NULL, '{GROUP}', 'Depot', 'photo', X'{PHOTO.hex()}'),
        (3, 1, 0, NULL, 4, 1700000120000000000, 12, '777', 'Van Driver', '{GROUP}', 'Depot',
         'This message was deleted', X'{keyed_archive({"type": "__deleted_im"}).hex()}'),
        (4, 1, 0, NULL, 4, 1700000130000000000, 0, '777', 'Van Driver', '{GROUP}', 'Depot', NULL, X'00');
    INSERT INTO ZIMOCONTACT (Z_PK, Z_ENT, ZIS_GROUP, ZBLOCK_STATE, ZALIAS, ZBUID, ZDISPLAY, ZPH_NAME, ZPHONE,
                             ZDIGIT_PHONE) VALUES
        (1, 2, 1, 0, 'Depot', '{GROUP}', 'Depot', NULL, NULL, NULL),
        (2, 2, 0, 1, 'vd', '777', 'Van Driver', 'Driver Dan', '+44 7700 900123', '447700900123');
    INSERT INTO ZIMOKEYVAL (Z_PK, Z_ENT, ZKEY, ZSTRING_VAL) VALUES (1, 3, 'iat_cookie', 'SECRET-COOKIE'),
        (2, 3, 'imo_account_alias', 'me.here'), (3, 3, 'imo_account_uid', '999');
"""
WAL = f"""INSERT INTO ZIMOCHATMSG (Z_PK, Z_ENT, ZISSENT, ZTS, ZTYPE, ZBUID, ZTEXT)
          VALUES (5, 1, 1, 1700000200000000000, 0, '{GROUP}', 'only in the WAL');"""


def test_fixture_group_chat_media_deleted_and_wal(tmp_path):
    db = make_db(tmp_path / "src" / "IMODb2.sqlite", SCHEMA + ROWS, wal_sql=WAL)
    outcomes, rows = parser_harness.run(tmp_path / "run", {IMO: db, IMO + "-wal": db.with_name(db.name + "-wal")},
                                        NAMES)
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "imo-ios-messages": ("parsed", 5, 1), "imo-ios-contacts": ("parsed", 2, 0),
        "imo-ios-account": ("parsed", 1, 0)}
    m1, m2, m3, m4, m5 = rows["messages"]
    assert (m1["direction"], m1["sender"], m1["sender_name"], m1["thread_id"], m1["thread_name"]) == (
        "incoming", "777", "Van Driver", GROUP, "Depot")
    assert m1["ts"] == "2023-11-14T22:13:20.123456Z" and m1["extra"] == {
        "sender_ts": "2023-11-14T22:13:20.000000Z", "state": 4, "type_raw": 0}
    assert (m2["direction"], m2["recipients"], m2["message_type"]) == ("outgoing", [GROUP], "photo_uploaded")
    assert m2["attachments"] == [{"name": "a.webp", "object_id": ".obj1", "mime_type": "image/webp"}]
    assert m3["deleted"] and not m1["deleted"]
    assert m4["message_type"] == "text" and m4["extra"]["imdata_undecoded"] == "archive is not a binary plist"
    assert m5["body"] == "only in the WAL" and m5["from_wal"] and m5["ts"] == "2023-11-14T22:16:40.000000Z"
    group, driver = rows["contacts"]
    assert group["extra"] == {"alias": "Depot", "block_state": 0, "is_group": True}
    assert (driver["name"], driver["phones"], driver["extra"]["phonebook_name"]) == (
        "Van Driver", ["+44 7700 900123"], "Driver Dan")
    (account,) = rows["accounts"]
    assert (account["user_id"], account["username"], account["source_row"]) == ("999", "me.here", "2")
    assert "SECRET-COOKIE" not in json.dumps(rows)


def test_damaged_database_is_recovered(tmp_path):
    many = "".join(f"INSERT INTO ZIMOCHATMSG (Z_PK, ZISSENT, ZTS, ZTYPE, ZBUID, ZTEXT) VALUES "
                   f"({i}, 0, {1700000000000000000 + i}, 0, '1', '{'x' * 300}');" for i in range(1, 201))
    good = make_db(tmp_path / "good.sqlite", SCHEMA + many)
    bad = damage(good, tmp_path / "bad.sqlite", page=good.stat().st_size // 4096 // 2)
    outcomes, rows = parser_harness.run(tmp_path / "run", {IMO: bad}, ["imo-ios-messages"])
    (outcome,) = outcomes
    assert outcome.outcome == "parsed" and outcome.recovered and 150 < outcome.records < 200


def test_paths_match_device_vendor_and_backup_layouts():
    spec = next(s for s in load_parsers() if s.name == "imo-ios-messages")
    for path in (IMO, "filesystem1" + IMO, backup_path("AppDomain-com.imoim.imoiphone", "Documents/IMODb2.sqlite")):
        assert spec.matches(path), path
    assert not spec.matches("/private/var/mobile/Documents/IMODb2.sqlite.bak")
