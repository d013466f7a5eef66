"""Wire iOS and Android: stores built with the columns iLEAPP's wire.py and ALEAPP's wireMessenger.py read."""
from tests import parser_harness
from tests.fixtures import wire
from tests.fixtures.session_messenger import encrypted
from tests.fixtures.sqlite_db import make_db

IOS = ["wire-ios-messages", "wire-ios-users", "wire-ios-client-locations"]
ANDROID = ["wire-android-messages", "wire-android-users", "wire-android-encrypted"]


def test_ios_messages_users_activation_places_and_wal(tmp_path):
    db = wire.ios(tmp_path / "s" / "w", True)
    outcomes, rows = parser_harness.run(tmp_path / "run", parser_harness.with_wal(wire.IOS, db),
                                        IOS)
    # iLEAPP's wireMessages leaves out category 1 (message 3): it is kept here as "category 1"
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "wire-ios-messages": ("parsed", 4, 1), "wire-ios-users": ("parsed", 2, 0),
        "wire-ios-client-locations": ("parsed", 1, 0)}
    text, place, other, wal = rows["messages"]
    assert (text["sender"], text["sender_name"], text["body"], text["message_type"], text["ts"]) == (
        "broker_h", "Broker", "room is booked", "text", "2023-03-08T20:30:00.000000Z")
    assert (place["message_type"], other["message_type"], other["extra"]) == (
        "location", "category 1", {"duration_s": 35.5})
    assert wal["from_wal"]
    owner, broker = rows["contacts"]
    assert (owner["handles"], owner["emails"], owner["phones"]) == (["owner_h"], ["owner@example.com"], ["+15550100"])
    (where,) = rows["locations"]  # the 0/0 activation has no place
    assert (where["latitude"], where["longitude"], where["label"], where["source_kind"], where["ts"]) == (
        52.52, 13.405, "Broker", "client activation", "2023-03-08T20:26:40.000000Z")


def test_ios_newer_store_without_phone_numbers(tmp_path):
    db = make_db(tmp_path / "w", """
        CREATE TABLE ZUSER (Z_PK INTEGER PRIMARY KEY, ZHANDLE VARCHAR, ZNAME VARCHAR, ZEMAILADDRESS VARCHAR);
        INSERT INTO ZUSER VALUES (1, 'h', 'N', NULL);
    """)
    outcomes, rows = parser_harness.run(tmp_path / "run", {wire.IOS: db}, IOS)
    assert {o.spec.name: o.outcome for o in outcomes} == {
        "wire-ios-messages": "unsupported version", "wire-ios-users": "parsed",
        "wire-ios-client-locations": "unsupported version"}
    assert rows["contacts"][0]["phones"] == []


def test_android_legacy_database_direction_deletions_and_wal(tmp_path):
    db = wire.android(tmp_path / "s" / "a", True)
    outcomes, rows = parser_harness.run(tmp_path / "run", parser_harness.with_wal(wire.ANDROID, db), ANDROID)
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "wire-android-messages": ("parsed", 4, 1), "wire-android-users": ("parsed", 2, 0)}
    incoming, outgoing, knock, wal = rows["messages"]
    assert (incoming["direction"], incoming["sender_name"], incoming["body"], incoming["ts"]) == (
        "incoming", "Broker", "room is booked", "2023-11-14T22:13:20.000000Z")
    assert (outgoing["direction"], outgoing["deleted"], outgoing["extra"]["deleted_at"]) == (
        "outgoing", True, "2023-11-14T22:14:50.000000Z")
    assert (knock["body"], knock["message_type"], knock["extra"]["duration_s"]) == ("not json", "KNOCK", 35.0)
    assert wal["from_wal"] and wal["body"] is None
    owner, broker = rows["contacts"]
    assert owner["extra"] == {"connection": "self", "owner": True} and owner["ts"] is None
    assert (broker["phones"], broker["handles"], broker["ts"]) == (
        ["+15550111"], ["broker_h"], "2023-07-22T04:26:40.000000Z")


def test_android_current_database_is_encrypted(tmp_path):
    outcomes, _ = parser_harness.run(tmp_path / "run", {wire.ANDROID_NEW: encrypted(tmp_path / "db", False)},
                                     ANDROID)
    assert [(o.spec.name, o.outcome) for o in outcomes] == [("wire-android-encrypted", "encrypted")]
    assert "kalium" in outcomes[0].message


def test_android_damaged_copy_is_recovered(tmp_path):
    many = ("WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 499) INSERT INTO Messages "
            "(_id, msg_type, user_id, content, time) SELECT 'x' || i, 'Text', 'u', printf('%.300c', 'y'), "
            "1700000000000 + i FROM n;")
    outcome = parser_harness.run_damaged(tmp_path, wire.ANDROID, wire.ANDROID_SCHEMA + wire.ANDROID_ROWS + many,
                                         "wire-android-messages")
    assert outcome.recovered and outcome.outcome == "parsed" and 300 < outcome.records <= 503
