"""Tango for Android: plaso's real tc.db and profilecache.db, and fixtures built with the app's schema."""
import pytest

from parsers.framework import load_parsers
from tests import parser_harness
from tests.conftest_paths import TESTDATA
from tests.fixtures.sqlite_db import damage_leaf, make_db

pytest.importorskip("google.protobuf", reason="the protobuf package writes the Tango payloads")
from tests.fixtures.tango_android import (  # noqa: E402
    PROFILE_SCHEMA, TC_SCHEMA, conversation_payload, item_payload, message_insert, profile_insert)

FILES = "/data/data/com.sgiggle.production/files/"
TC = FILES + "tc.db"
PROFILES = FILES + "profilecache.db"
NAMES = ["tango-android-messages", "tango-android-profiles"]
OWNER, JUSTIN = "sMawZoHh9XG5SwDP28ObAQ", "sw9dX9KKt9JIhOxd2Kkv9Q"


def _real(name):
    path = TESTDATA / "log2timeline+plaso/test_data" / name
    if not path.exists():
        pytest.skip(f"third-party test data absent: {path}")
    return path


def test_real_tc_and_profilecache(tmp_path):
    """plaso counts 25 events in tc.db: 18 messages and 7 conversations (conversations carry no time and become no
    record here, their peers fill the messages' recipients), and 57 in the profile database: one per profiletable
    row, which are the 57 contacts; profiles.keyCurrentUserId adds the account."""
    files = {TC: _real("tango_android_tc.db"), PROFILES: _real("android/tango_profile.db")}
    outcomes, rows = parser_harness.run(tmp_path, files, NAMES)
    assert {o.spec.name: (o.outcome, o.records) for o in outcomes} == {
        "tango-android-messages": ("parsed", 18), "tango-android-profiles": ("parsed", 58)}
    messages = rows["messages"]
    assert [m["direction"] for m in messages].count("outgoing") == 10
    assert {m["thread_id"] for m in messages} == {
        "mC5mPUPZh1ZsQP2zhN8s-g", "N71FKrIDkO5EVNazzZpxSA", "DyGWr_010wQM_ozkIe-9Ww", "zorY62aplfm7kvirovJ9AA",
        "MlcFVLG9ZTWOaU43TJYFPA", "QRCzfNmmKUFpUHFBPN5LUw", JUSTIN}
    photo = next(m for m in messages if m["source_row"] == "16777224")  # plaso's spot-checked message
    assert (photo["direction"], photo["sender"], photo["sender_name"], photo["recipients"]) == (
        "incoming", JUSTIN, "Justin M", [OWNER])
    assert photo["ts"] == "2016-01-15T14:41:34.238000Z" and photo["ts_raw"] == "1452868894238"
    assert photo["ts_encoding"] == "unix_ms" and photo["extra"]["create_time"] == "2016-01-15T14:41:33.027000Z"
    assert photo["message_type"] == "image" and photo["attachments"][0]["url"] == (
        "http://cget.tango.me/contentserver/download/VpkFHQAAr7lj5R2IAOrXdQ/HdQowfft")
    hello = next(m for m in messages if m["source_row"] == "16777223")
    assert (hello["body"], hello["direction"], hello["ts"]) == (
        "Hey! How are you", "incoming", "2016-01-15T14:41:21.700000Z")
    request = next(m for m in messages if m["source_row"] == "16777219")
    assert (request["body"], request["direction"], request["sender"], request["sender_name"],
            request["recipients"]) == ("I am following you on Tango", "outgoing", OWNER, "Hank Fresh",
                                       ["DyGWr_010wQM_ozkIe-9Ww"])
    like = next(m for m in messages if m["source_row"] == "16777232")
    assert (like["body"], like["message_type"], like["direction"], like["extra"]["liked_msg_id"]) == (
        "Hank liked the message.", "like", "outgoing", 16777229)

    contacts = rows["contacts"]
    assert len(contacts) == 57
    rouel = next(c for c in contacts if c["user_id"] == "DyGWr_010wQM_ozkIe-9Ww")
    assert rouel["name"] == "Rouel Henry" and rouel["ts"] == "2016-01-15T14:35:20.633000Z"
    assert {k: rouel["extra"][k] for k in ("status", "birthday", "last_active", "friend_request_type",
                                           "friend_request_message", "friend_request_time", "distance")} == {
        "status": "Praying!", "birthday": "1980-10-01", "last_active": "2016-01-15T13:21:45.624000Z",
        "friend_request_type": "outRequest", "friend_request_message": "I am following you on Tango",
        "friend_request_time": "2016-01-15T14:35:20.436000Z", "distance": 39.04880905}
    (account,) = rows["accounts"]
    assert (account["user_id"], account["display_name"], account["source_table"]) == (OWNER, "Hank Fresh",
                                                                                      "profiles")


def test_real_tc_alone_has_no_names_or_own_id(tmp_path):
    outcomes, rows = parser_harness.run(tmp_path, {TC: _real("tango_android_tc.db")}, NAMES)
    assert [(o.spec.name, o.records) for o in outcomes] == [("tango-android-messages", 18)]
    request = next(m for m in rows["messages"] if m["source_row"] == "16777219")
    assert (request["sender"], request["sender_name"], request["recipients"]) == (
        None, None, ["DyGWr_010wQM_ozkIe-9Ww"])


GROUP, ANA, BEN = "grpConversation000000A", "anaAccount000000000000", "benAccount000000000000"
TC_ROWS = f"""
    INSERT INTO profiles VALUES ('DB_VERSION', '11');
    INSERT INTO conversations (conv_id, conv_type, payload) VALUES
        ('{GROUP}', 1, '{conversation_payload(GROUP, [ANA, BEN])}');
    {message_insert(16777216, GROUP, 0, 1700000000000, 1700000000456, 2,
                    item_payload(conv_id=GROUP, type=0, text="meet at 9", sender=ANA, send_time=1700000000456))}
    {message_insert(16777217, GROUP, 3, 1700000060000, 1700000060789, 1,
                    item_payload(conv_id=GROUP, type=3, url="http://cget.tango.me/x", path="/sdcard/a.jpg"), "m1")}
    {message_insert(16777218, GROUP, 61, 1700000070000, 0, 2,
                    item_payload(conv_id=GROUP, type=61, system_text="Ana liked the photo.", sender=ANA,
                                 liked=16777217))}
    {message_insert(16777219, GROUP, 0, 1700000080000, 1700000080000, 2, "not base64!")}
"""
TC_WAL = message_insert(16777220, GROUP, 0, 1700000090000, 1700000090001, 1,
                        item_payload(conv_id=GROUP, type=0, text="only in the WAL"))
PROFILE_ROWS = f"""
    INSERT INTO profiles VALUES ('DB_VERSION', '28'), ('keyCurrentUserId', 'meAccount0000000000000');
    {profile_insert("meAccount0000000000000", "Me", "Myself", itemLastLocalAccessTime=1700000000000)}
    {profile_insert(ANA, "Ana", "Lópes", itemStatus="on my way 🚗", itemDistance=-1.0, itemIsFriend=1,
                    itemLastActiveTime=1699999999000, itemLastLocalAccessTime=1700000001000)}
"""
PROFILE_WAL = profile_insert(BEN, "Ben", itemFriendRequestType="inRequest", itemFriendRequestMessage="hi",
                             itemFriendRequestTime=1700000002000, itemLastLocalAccessTime=1700000002000)


def test_fixture_group_chat_names_wal_and_bad_payload(tmp_path):
    tc = make_db(tmp_path / "src" / "tc.db", TC_SCHEMA + TC_ROWS, wal_sql=TC_WAL)
    profiles = make_db(tmp_path / "src" / "profilecache.db", PROFILE_SCHEMA + PROFILE_ROWS, wal_sql=PROFILE_WAL)
    files = {TC: tc, TC + "-wal": tc.with_name("tc.db-wal"),
             PROFILES: profiles, PROFILES + "-wal": profiles.with_name("profilecache.db-wal")}
    outcomes, rows = parser_harness.run(tmp_path / "run", files, NAMES)
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "tango-android-messages": ("parsed", 5, 1), "tango-android-profiles": ("parsed", 4, 1)}
    text, photo, like, broken, wal = rows["messages"]
    assert (text["body"], text["direction"], text["sender"], text["sender_name"], text["recipients"]) == (
        "meet at 9", "incoming", ANA, "Ana Lópes", ["meAccount0000000000000"])
    assert text["ts"] == "2023-11-14T22:13:20.456000Z" and text["extra"]["create_time"] == \
        "2023-11-14T22:13:20.000000Z"
    assert (photo["direction"], photo["sender"], photo["sender_name"], photo["recipients"]) == (
        "outgoing", "meAccount0000000000000", "Me Myself", [ANA, BEN])
    assert photo["attachments"] == [{"url": "http://cget.tango.me/x", "thumbnail_url": None,
                                     "paths": ["/sdcard/a.jpg"]}]
    assert photo["extra"]["media_id"] == "m1" and photo["message_type"] == "image"
    # no send_time: the creation time stands in
    assert (like["body"], like["extra"]["liked_msg_id"], like["ts"]) == (
        "Ana liked the photo.", 16777217, "2023-11-14T22:14:30.000000Z")
    assert broken["body"] is None and broken["extra"]["payload_undecoded"].startswith("Error")
    assert (wal["body"], wal["from_wal"], text["from_wal"]) == ("only in the WAL", True, False)

    me, ana, ben = rows["contacts"]
    assert me["extra"]["is_account_owner"] and "is_account_owner" not in ana["extra"]
    assert (ana["name"], ana["extra"]["status"], ana["extra"]["is_friend"], ana["ts"]) == (
        "Ana Lópes", "on my way 🚗", True, "2023-11-14T22:13:21.000000Z")
    assert "distance" not in ana["extra"]  # -1: the app does not know it
    assert (ben["name"], ben["from_wal"], ben["extra"]["friend_request_message"]) == ("Ben", True, "hi")
    (account,) = rows["accounts"]
    assert (account["user_id"], account["display_name"]) == ("meAccount0000000000000", "Me Myself")


def test_profiletable_with_only_the_name_columns(tmp_path):
    path = make_db(tmp_path / "profilecache.db", """
        CREATE TABLE `profiles` (`key` TEXT PRIMARY KEY, `value` TEXT);
        CREATE TABLE `profiletable` (`itemUserId` TEXT PRIMARY KEY, `itemFirstName` TEXT NOT NULL,
            `itemLastName` TEXT NOT NULL);
        INSERT INTO profiletable VALUES ('u1', 'WmVk', 'not base64!');""")
    outcomes, rows = parser_harness.run(tmp_path / "run", {PROFILES: path}, NAMES)
    assert [(o.outcome, o.records) for o in outcomes] == [("parsed", 1)]
    (contact,) = rows["contacts"]
    assert (contact["name"], contact["ts"], contact["extra"]) == ("Zed not base64!", None, {})
    assert rows["accounts"] == []


def test_damaged_tc_is_recovered(tmp_path):
    many = "".join(message_insert(i, GROUP, 0, 1700000000000 + i, 1700000000000 + i, 1,
                                  item_payload(conv_id=GROUP, type=0, text=f"{'x' * 300} {i}"))
                   for i in range(1, 201))
    good = make_db(tmp_path / "good.db", TC_SCHEMA + many)
    bad = damage_leaf(good, tmp_path / "bad.db", "messages")
    outcomes, rows = parser_harness.run(tmp_path / "run", {TC: bad}, NAMES)
    (outcome,) = outcomes
    assert (outcome.outcome, outcome.recovered) == ("parsed", True), outcome.message
    assert "damaged" in outcome.message and 150 < outcome.records < 200
    assert all(m["recovered"] for m in rows["messages"])


def test_paths():
    specs = {s.name: s for s in load_parsers()}
    assert specs["tango-android-messages"].matches("/data/user/0/com.sgiggle.production/files/tc.db")
    assert specs["tango-android-profiles"].matches("Dump/data/data/com.sgiggle.production/files/profilecache.db")
    assert not specs["tango-android-messages"].matches("/data/data/com.truecaller/databases/tc.db")
