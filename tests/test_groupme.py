"""GroupMe iOS and Android: stores built with the columns iLEAPP and ALEAPP read; the real iOS preferences plist."""
from tests import parser_harness
from tests.fixtures import groupme
from tests.fixtures.sqlite_db import make_db
from tests.leapp_cases import extract, ileapp_case

IOS = ["groupme-ios-messages", "groupme-ios-locations", "groupme-ios-contacts", "groupme-ios-account"]
ANDROID = ["groupme-android-messages", "groupme-android-locations", "groupme-android-members"]


def test_ios_messages_direction_from_owner_locations_contacts_account(tmp_path):
    db = groupme.ios_db(tmp_path / "src" / "GroupMe.sqlite", wal=True)
    files = {groupme.IOS_DB: db, groupme.IOS_DB + "-wal": db.with_name(db.name + "-wal"),
             groupme.IOS_PREFS: groupme.ios_prefs(tmp_path / "prefs.plist")}
    outcomes, rows = parser_harness.run(tmp_path / "run", files, IOS)
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "groupme-ios-messages": ("parsed", 5, 1), "groupme-ios-locations": ("parsed", 1, 0),
        "groupme-ios-contacts": ("parsed", 1, 0), "groupme-ios-account": ("parsed", 1, 0)}
    incoming, outgoing, direct, system, wal = rows["messages"]
    assert (incoming["direction"], incoming["sender"], incoming["thread_id"], incoming["thread_name"],
            incoming["ts"]) == ("incoming", groupme.PEER, "66001122", "Night shift", "2023-03-08T20:26:40.000000Z")
    assert incoming["attachments"] == [{"type": "image", "url": "https://i.groupme.com/abc.jpeg"}]
    assert outgoing["direction"] == "outgoing" and outgoing["attachments"][0]["venue"] == "Bus station"
    assert (direct["thread_name"], direct["deleted"], direct["extra"]["deletion_status"], direct["extra"]["hidden"]) \
        == ("Peer", True, {"isSystemDeleted": False, "deletionActor": 0}, True)
    assert (system["direction"], system["message_type"]) == (None, "system")
    assert wal["from_wal"] and wal["body"] == "wal only"
    (where,) = rows["locations"]  # the image's 0/0 is not a place
    assert (where["latitude"], where["longitude"], where["label"], where["extra"]["sender"]) == (
        35.7796, -78.6382, "Bus station", groupme.OWNER)
    (contact,) = rows["contacts"]
    assert (contact["name"], contact["user_id"], contact["phones"], contact["extra"]) == (
        "Peer", groupme.PEER, ["+15550101"], {"app_user": True})
    (account,) = rows["accounts"]
    assert (account["user_id"], account["display_name"], account["email"], account["ts"]) == (
        groupme.OWNER, "This Is DFIR", "thisisdfir@example.com", "2021-02-03T13:31:16.000000Z")


def test_ios_without_preferences_leaves_direction_empty(tmp_path):
    outcomes, rows = parser_harness.run(tmp_path / "run", {groupme.IOS_DB: groupme.ios_db(tmp_path / "g.sqlite")},
                                        ["groupme-ios-messages"])
    assert [o.outcome for o in outcomes] == ["parsed"]
    assert {m["direction"] for m in rows["messages"]} == {None}


def test_ios_older_store_without_optional_columns(tmp_path):
    db = make_db(tmp_path / "GroupMe.sqlite", """
        CREATE TABLE ZGMMESSAGE (Z_PK INTEGER PRIMARY KEY, ZCREATEDAT TIMESTAMP, ZNAME VARCHAR, ZUSERID VARCHAR,
            ZMESSAGE VARCHAR);
        INSERT INTO ZGMMESSAGE VALUES (1, 600000000, 'A', '1', 'hi');
    """)
    outcomes, rows = parser_harness.run(tmp_path / "run", {groupme.IOS_DB: db}, ["groupme-ios-messages"])
    assert [o.outcome for o in outcomes] == ["parsed"]
    assert (rows["messages"][0]["thread_id"], rows["messages"][0]["extra"]) == (None, {})


def test_android_messages_locations_members_and_wal(tmp_path):
    db = groupme.android_db(tmp_path / "src" / "groupme.db", wal=True)
    outcomes, rows = parser_harness.run(tmp_path / "run", parser_harness.with_wal(groupme.ANDROID_DB, db),
                                        ANDROID)
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "groupme-android-messages": ("parsed", 4, 1), "groupme-android-locations": ("parsed", 1, 0),
        "groupme-android-members": ("parsed", 2, 0)}
    first, photo, place, wal = rows["messages"]
    assert (first["thread_name"], first["sender_name"], first["body"], first["ts"], first["direction"]) == (
        "Night shift", "Peer", "shift starts 10pm", "2023-11-14T22:13:20.000000Z", None)
    assert photo["deleted"] and photo["attachments"] == [{"url": "https://i.groupme.com/x.jpeg"}]
    assert place["extra"]["location"] == {"latitude": "35.7796", "longitude": "-78.6382", "name": "Bus station"}
    assert wal["from_wal"]
    (where,) = rows["locations"]
    assert (where["latitude"], where["label"], where["ts"]) == (35.7796, "Bus station", "2023-11-14T22:15:20.000000Z")
    assert [(c["name"], c["user_id"], c["extra"]["role"]) for c in rows["contacts"]] == [
        ("Peer", "55501234", "admin,owner"), ("Me", "91071677", "user")]


def test_android_damaged_copy_is_recovered(tmp_path):
    many = ("WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 499) INSERT INTO messages "
            "(conversation_id, created_at, name, message_text) SELECT 'g', 1700000000 + i, 'A', printf('%.300c', 'x') "
            "FROM n;")
    outcome = parser_harness.run_damaged(tmp_path, groupme.ANDROID_DB,
                                         groupme.ANDROID_SCHEMA + groupme.ANDROID_ROWS + many,
                                         "groupme-android-messages")
    assert outcome.recovered and outcome.outcome == "parsed" and 350 < outcome.records <= 503


def test_real_ios_preferences(tmp_path):
    """The real josh_ios17_ffs preferences plist: iLEAPP's groupMeAccount shows userId 91071677 and the profile's
    name, e-mail and phone; we give one Account with the same values."""
    files = extract(ileapp_case("groupMe", "groupMeAccount", "josh_ios17_ffs"), tmp_path / "case")
    outcomes, rows = parser_harness.run(tmp_path / "run", files, IOS)
    assert [(o.spec.name, o.outcome, o.records) for o in outcomes] == [("groupme-ios-account", "parsed", 1)]
    (account,) = rows["accounts"]
    assert (account["user_id"], account["display_name"], account["email"], account["phone"], account["ts"]) == (
        "91071677", "This Is DFIR", "thisisdfir@gmail.com", "+1 9195794674", "2021-02-03T13:31:16.000000Z")
