"""Instagram for iOS direct messages: plaso's real DirectSQLiteDatabase file, and fixtures archived at test time."""
import pytest

from forensics.backups import backup_path
from parsers.framework import load_parsers
from tests import parser_harness
from tests.conftest_paths import TESTDATA
from tests.fixtures.nskeyedarchive import Date, Obj, keyed_archive
from tests.fixtures.sqlite_db import damage, make_db

DIRECT = ("/private/var/mobile/Containers/Data/Application/0E4B1A7C-5D2F-4E11-9C0B-6F1D2A3B4C5D/Library/"
          "Application Support/DirectSQLiteDatabase/")
VIEWER = "9368974384"
NAMES = ["instagram-ios-messages", "instagram-ios-calls", "instagram-ios-users"]


def test_real_direct_database(tmp_path):
    real = TESTDATA / "log2timeline+plaso/test_data/ios/9368974384.db"
    if not real.exists():
        pytest.skip(f"third-party test data absent: {real}")
    outcomes, rows = parser_harness.run(tmp_path, {DIRECT + "9368974384.db": real}, NAMES)
    assert {o.spec.name: (o.outcome, o.records) for o in outcomes} == {
        "instagram-ios-messages": ("parsed", 75), "instagram-ios-calls": ("parsed", 13),
        "instagram-ios-users": ("parsed", 4)}
    messages = rows["messages"]
    assert [m["message_type"] for m in messages].count("text") == 41
    assert [m["message_type"] for m in messages].count("thread_activity") == 26
    assert [m["message_type"] for m in messages].count("media") == 8
    incoming = next(m for m in messages if m["source_row"] == "1595")
    assert incoming["body"] == "Clicked over to Threads. I still do not understand why this app exists."
    assert incoming["ts"] == "2020-03-25T01:41:17.164115Z" and incoming["ts_raw"] == "606793277.1641159"
    assert (incoming["direction"], incoming["sender"], incoming["sender_name"]) == (
        "incoming", "22824420", "Instagram User")
    assert incoming["thread_id"] == "340282366841710300949128275677188323290"
    reply = next(m for m in messages if m["source_row"] == "1596")
    assert (reply["direction"], reply["sender"], reply["recipients"]) == ("outgoing", VIEWER, ["22824420"])
    photo = next(m for m in messages if m["source_row"] == "1599")
    assert photo["attachments"][0]["type"] == "photo" and photo["attachments"][0]["url"].startswith("https://")

    calls = rows["calls"]
    assert [c["call_type"] for c in calls].count("audio") == 4
    outgoing = next(c for c in calls if c["extra"]["call_id"] == "5598632143517476")
    assert (outgoing["direction"], outgoing["call_type"], outgoing["peers"], outgoing["peer_name"]) == (
        "outgoing", "audio", ["49849116416"], "This Is DFIRTwo")
    assert outgoing["ts"] == "2022-11-20T16:51:09.783251Z" and outgoing["duration_s"] == 89.844611
    only_end = next(c for c in calls if c["extra"]["call_id"] == "18135614113062170")
    assert only_end["direction"] is None and only_end["duration_s"] is None

    (account,) = rows["accounts"]
    assert (account["user_id"], account["username"], account["display_name"]) == (VIEWER, "thisisdfir", "ThisIsDFIR")
    assert [(c["user_id"], c["handles"]) for c in rows["contacts"]] == [
        ("22824420", ["Instagram User"]), ("49849116416", ["dfirtwo"]), ("42293925776", ["thisisdfirtwo"])]


def message(sender, cocoa, text=None, activity=None):
    content = {"codedSubtype": "SUBTYPE_TEXT", "NSString*string": text, "BOOLsendSilently": False}
    if activity:
        content = {"codedSubtype": "SUBTYPE_THREAD_ACTIVITY",
                   "IGDirectThreadActivityAnnouncement*threadActivity": activity}
    return keyed_archive(Obj(
        "IGDirectPublishedMessage",
        **{"IGDirectPublishedMessageMetadata*metadata": Obj(
            "IGDirectPublishedMessageMetadata", **{"NSString*senderPk": sender, "NSString*threadId": "T1",
                                                   "NSDate*serverTimestamp": Date(cocoa)}),
           "IGDirectPublishedMessageContent*content": Obj("IGDirectPublishedMessageContent", **content),
           "NSNumber*threadQueueSequenceId": 7}))


def voip(call_id, event, title, audio_only):
    return Obj("IGDirectThreadActivityAnnouncement", **{
        "NSString*videoCallId": call_id, "IGDirectVideoCallEventTypevoipEventType": event,
        "NSString*voipTitle": title, "BOOLthreadHasAudioOnlyCall": audio_only, "codedSubtype": "SUBTYPE_VOIP"})


THREAD = keyed_archive(Obj("IGDirectThreadMetadata", **{
    "NSArray<IGUser *>*users": [Obj("IGUser", pk="555", userName="seller_x", fullName="X Seller")],
    "IGUser*inviter": Obj("IGUser", pk=VIEWER, userName="me_here", fullName="Me Here"),
    "BOOLisGroup": False}))

SCHEMA = """
    CREATE TABLE threads (thread_id TEXT UNIQUE NOT NULL, thread_id_v2 TEXT, viewer_id TEXT NOT NULL, metadata BLOB,
        thread_messages_range BLOB, visual_message_info BLOB, row_id INTEGER PRIMARY KEY AUTOINCREMENT);
    CREATE TABLE inbox_metadata (sequence_id INTEGER NOT NULL, snapshot_at_ms REAL NOT NULL,
        snapshot_app_version TEXT NOT NULL, cursors BLOB NOT NULL, unseen_count_from_server INTEGER,
        business_messaging_high_volume_rate_limit_state INTEGER NOT NULL, row_id INTEGER PRIMARY KEY AUTOINCREMENT);
    CREATE TABLE mutations (mutation_id TEXT UNIQUE NOT NULL, archive BLOB NOT NULL,
        row_id INTEGER PRIMARY KEY AUTOINCREMENT);
    CREATE TABLE thread_client_state (thread_id TEXT NOT NULL, archive BLOB NOT NULL,
        row_id INTEGER PRIMARY KEY AUTOINCREMENT);
    CREATE TABLE messages (message_id TEXT NOT NULL, thread_id TEXT NOT NULL, archive BLOB NOT NULL,
        class_name TEXT NOT NULL, row_id INTEGER PRIMARY KEY AUTOINCREMENT);
    CREATE TABLE quick_reply (quickReplyId TEXT, shortcut TEXT, message TEXT, row_id INTEGER PRIMARY KEY AUTOINCREMENT);
"""


def _build(tmp_path):
    """The fixture database with one message that lives only in its -wal."""
    rows = [("m1", message("555", 700000000.25, "meet at the station")),
            ("m2", message(VIEWER, 700000100, "on my way")),
            ("m3", message(VIEWER, 700000200, activity=voip("C9", 1, "You started an audio call", True))),
            ("m4", b"bplist00 not really"),
            ("m5", message("555", 700000290.5, activity=voip("C9", 4, "Audio call ended", True)))]
    inserts = "INSERT INTO threads (thread_id, viewer_id, metadata) VALUES ('T1', '%s', X'%s');" % (
        VIEWER, THREAD.hex())
    inserts += "".join(f"INSERT INTO messages (message_id, thread_id, archive, class_name) VALUES "
                       f"('{mid}', 'T1', X'{blob.hex()}', 'IGDirectPublishedMessage');" for mid, blob in rows)
    wal = (f"INSERT INTO messages (message_id, thread_id, archive, class_name) VALUES "
           f"('m6', 'T1', X'{message('555', 700000400, 'only in the WAL').hex()}', 'IGDirectPublishedMessage');")
    db = make_db(tmp_path / "src" / f"{VIEWER}.db", SCHEMA + inserts, wal_sql=wal)
    return {DIRECT + f"{VIEWER}.db": db, DIRECT + f"{VIEWER}.db-wal": db.with_name(db.name + "-wal")}


def test_fixture_messages_calls_users_wal_and_bad_archive(tmp_path):
    outcomes, rows = parser_harness.run(tmp_path / "run", _build(tmp_path), NAMES)
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "instagram-ios-messages": ("parsed", 6, 1), "instagram-ios-calls": ("parsed", 1, 0),
        "instagram-ios-users": ("parsed", 2, 0)}
    m1, m2, m3, m4, m5, m6 = rows["messages"]
    assert (m1["body"], m1["direction"], m1["sender"], m1["sender_name"], m1["recipients"]) == (
        "meet at the station", "incoming", "555", "X Seller", [])
    assert m1["ts"] == "2023-03-08T20:26:40.250000Z" and m1["ts_encoding"] == "cocoa_s"
    assert (m1["source_table"], m1["source_row"], m1["extra"]) == ("messages", "1", {"message_id": "m1"})
    assert (m2["direction"], m2["recipients"], m2["sender_name"]) == ("outgoing", ["555"], "Me Here")
    assert (m3["message_type"], m3["body"], m3["extra"]["call_id"]) == (
        "thread_activity", "You started an audio call", "C9")
    assert m4["body"] is None and m4["ts"] is None and m4["extra"]["undecoded"].startswith("unreadable plist")
    assert m5["direction"] == "incoming"
    assert m6["body"] == "only in the WAL" and m6["from_wal"] and not m1["from_wal"]

    (call,) = rows["calls"]
    assert (call["direction"], call["call_type"], call["duration_s"], call["peers"], call["peer_name"]) == (
        "outgoing", "audio", 90.5, ["555"], "X Seller")
    assert call["ts"] == "2023-03-08T20:30:00.000000Z" and call["source_row"] == "3"
    assert call["extra"]["announcements"] == ["You started an audio call", "Audio call ended"]

    (account,) = rows["accounts"]
    assert (account["user_id"], account["username"]) == (VIEWER, "me_here")
    (contact,) = rows["contacts"]
    assert (contact["user_id"], contact["name"], contact["handles"]) == ("555", "X Seller", ["seller_x"])


def test_older_upper_case_schema(tmp_path):
    old = make_db(tmp_path / f"{VIEWER}.db", f"""
        CREATE TABLE THREADS (THREAD_ID TEXT UNIQUE NOT NULL, VIEWER_ID TEXT NOT NULL, METADATA BLOB);
        CREATE TABLE MESSAGES (MESSAGE_ID TEXT NOT NULL, THREAD_ID TEXT NOT NULL, ARCHIVE BLOB NOT NULL);
        INSERT INTO THREADS VALUES ('T1', '{VIEWER}', X'{THREAD.hex()}');
        INSERT INTO MESSAGES VALUES ('m1', 'T1', X'{message('555', 600000000, 'older app').hex()}');
    """)
    outcomes, rows = parser_harness.run(tmp_path / "run", {DIRECT + f"{VIEWER}.db": old}, NAMES)
    assert {o.spec.name: o.outcome for o in outcomes} == {
        "instagram-ios-messages": "parsed", "instagram-ios-calls": "no data", "instagram-ios-users": "parsed"}
    assert rows["messages"][0]["body"] == "older app" and rows["messages"][0]["sender_name"] == "X Seller"


def test_damaged_database_is_recovered(tmp_path):
    inserts = "INSERT INTO threads (thread_id, viewer_id, metadata) VALUES ('T1', '%s', X'%s');" % (
        VIEWER, THREAD.hex())
    inserts += "".join(f"INSERT INTO messages (message_id, thread_id, archive, class_name) VALUES ('m{i}', 'T1', "
                       f"X'{message('555', 700000000 + i, 'x' * 300).hex()}', 'IGDirectPublishedMessage');"
                       for i in range(200))
    good = make_db(tmp_path / "good.db", SCHEMA + inserts)
    bad = damage(good, tmp_path / "bad.db", page=good.stat().st_size // 4096 // 2)
    outcomes, rows = parser_harness.run(tmp_path / "run", {DIRECT + f"{VIEWER}.db": bad},
                                        ["instagram-ios-messages"])
    (outcome,) = outcomes
    assert outcome.outcome == "parsed" and outcome.recovered and 150 < outcome.records < 200
    assert all(m["recovered"] and m["body"] == "x" * 300 for m in rows["messages"])


def test_paths_match_device_vendor_and_backup_layouts():
    spec = next(s for s in load_parsers() if s.name == "instagram-ios-messages")
    for path in (DIRECT + "9368974384.db", "filesystem1" + DIRECT + "9368974384.db", backup_path("AppDomain-com.burbn.instagram", "Library/Application Support/DirectSQLiteDatabase/9368974384.db")):
        assert spec.matches(path), path
    assert not spec.matches("/private/var/mobile/Containers/Data/Application/X/Documents/9368974384.db")
