"""Google Voice for iOS (threadingStore.sqlite): iLEAPP's real josh_ios17 test file where present, and fixtures
built with the real schema."""
from tests import parser_harness
from tests.fixtures.google_voice_ios import THREADING_SCHEMA, item
from tests.leapp_cases import extract, ileapp_case
from tests.fixtures.sqlite_db import make_db

PATH = ("/private/var/mobile/Containers/Shared/AppGroup/B77C/Library/Application Support/1161549534/"
        "threadingStore.sqlite")
PARSERS = ["google-voice-ios-messages", "google-voice-ios-contacts", "google-voice-ios-numbers"]
OWN, PEER, OTHER = "+19105550100", "+19195550111", "+19195550122"


def test_real_josh_ios17_threading_store(tmp_path):
    """iLEAPP reports, for this file, 118 messages (60 in, 58 out), 29 calls (3 incoming, 6 outgoing, 20 missed),
    5 voicemails and 24 contacts. Calls and voicemails are both Call records here: 29 + 5 = 34."""
    files = extract(ileapp_case("googleVoice", "googleVoiceMessages", "josh_ios17_ffs"), tmp_path / "zip")
    outcomes, rows = parser_harness.run(tmp_path / "run", files, PARSERS)
    assert {o.spec.name: (o.outcome, o.records) for o in outcomes} == {
        "google-voice-ios-messages": ("parsed", 152), "google-voice-ios-contacts": ("parsed", 24),
        "google-voice-ios-numbers": ("parsed", 4)}
    texts, calls = rows["messages"], rows["calls"]
    assert len(texts) == 118 and [m["direction"] for m in texts].count("incoming") == 60
    assert sorted((c["status"] or c["direction"]) for c in calls).count("missed") == 20
    assert [c["status"] for c in calls].count("voicemail") == 5
    first = texts[0]
    assert (first["body"], first["direction"], first["sender"], first["recipients"], first["thread_id"]) == (
        "You there?  This is coming from my Google Voice number.", "outgoing", "+19106215169", ["+19198887386"],
        "t.+19198887386")
    assert (first["ts"], first["ts_raw"], first["ts_encoding"]) == (
        "2021-11-21T20:20:37.191000Z", "1637526037.191", "unix_s")
    picture = texts[4]
    assert picture["message_type"] == "mms" and picture["attachments"][0]["media_type"] == 1
    welcome = calls[0]
    assert welcome["status"] == "voicemail" and welcome["extra"]["transcript"].startswith("Welcome to Google Voice")
    numbers = rows["accounts"]
    assert [(a["phone"], a["extra"]["outgoing_items"]) for a in numbers] == [
        ("+19193355174", 1), ("+19106215169", 36), ("+19108398620", 9), ("+19105576476", 18)]
    assert {a["user_id"] for a in numbers} == {"116154953456844128063"}


ROWS = f"""
INSERT INTO Participant VALUES ('{PEER}', 0), ('{OTHER}', 1);
INSERT INTO Thread (threadKey, threadType, isUnread, isText, timestamp, isDeleted, groupName, isSuspectedSpam,
                    groupSMSSuspectedSpamParticipantsE164Strings)
    VALUES ('t.{PEER}', 1, 0, 1, 1700000100.5, 0, NULL, 0, ''), ('g.crew', 1, 0, 1, 1700000300.0, 0, 'Crew', 0, '');
INSERT INTO ThreadParticipant VALUES ('{PEER}', 't.{PEER}', 1), ('{PEER}', 'g.crew', 1), ('{OTHER}', 'g.crew', 1);
INSERT INTO MMSAttachmentInfo VALUES ('k2-1', 1, 'k2', 1, 0, 1);
INSERT INTO Transcript VALUES ('k5', 1, 'call me back about the room', 0.91, 0);
""" + "".join([
    item("k1", "SmsOut", 1700000000.25, OWN, f"t.{PEER}", "new number"),
    item("k2", "SmsIn", 1700000100.5, PEER, f"t.{PEER}", ""),
    item("k3", "SmsOut", 1700000300.0, OWN, "g.crew", "all of you, tonight"),
    item("k4", "OutgoingCall", 1700000400.0, OWN, f"t.{PEER}", duration=61.0),
    item("k5", "Voicemail", 1700000500.0, PEER, f"t.{PEER}", duration=12.0, unread=1),
])
WAL_ROW = item("k6", "MissedCall", 1700000600.0, PEER, f"t.{PEER}", duration=0.0)


def test_fixture_texts_calls_voicemail_numbers_and_wal(tmp_path):
    src = make_db(tmp_path / "src/threadingStore.sqlite", THREADING_SCHEMA + ROWS, wal_sql=WAL_ROW)
    files = {PATH: src, PATH + "-wal": tmp_path / "src/threadingStore.sqlite-wal"}
    outcomes, rows = parser_harness.run(tmp_path / "run", files, PARSERS)
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "google-voice-ios-messages": ("parsed", 6, 1), "google-voice-ios-contacts": ("parsed", 2, 0),
        "google-voice-ios-numbers": ("parsed", 1, 0)}
    out, picture, group = rows["messages"]
    assert (out["sender"], out["recipients"], out["direction"], out["ts"]) == (
        OWN, [PEER], "outgoing", "2023-11-14T22:13:20.250000Z")
    assert (picture["sender"], picture["recipients"], picture["message_type"], picture["body"]) == (
        PEER, [], "mms", "")
    assert (group["thread_name"], group["recipients"]) == ("Crew", [PEER, OTHER])
    call, voicemail, missed = rows["calls"]
    assert (call["direction"], call["peers"], call["duration_s"], call["extra"]["voice_number"]) == (
        "outgoing", [PEER], 61.0, OWN)
    assert (voicemail["status"], voicemail["peers"], voicemail["extra"]["transcript"]) == (
        "voicemail", [PEER], "call me back about the room")
    assert (missed["status"], missed["answered"], missed["from_wal"]) == ("missed", False, True)
    (number,) = rows["accounts"]
    assert (number["phone"], number["user_id"], number["extra"]["outgoing_items"]) == (OWN, "1161549534", 3)
    assert [(c["phones"], c["extra"]["blocked"]) for c in rows["contacts"]] == [([PEER], False), ([OTHER], True)]


def test_older_schema_without_optional_tables_and_columns(tmp_path):
    """Only the ThreadItem columns iLEAPP queries, no Transcript/MMSAttachmentInfo/Thread tables."""
    legacy = ("CREATE TABLE ThreadItem(threadItemKey TEXT NOT NULL, threadItemType INTEGER NOT NULL, sortID "
              "INTEGER NOT NULL, isUnread INTEGER NOT NULL, messageText TEXT, senderPhoneNumber TEXT, failureReason "
              "INTEGER, messageID INTEGER, isSystemMessage INTEGER, isDeleted INTEGER NOT NULL, duration REAL, "
              "timestamp REAL NOT NULL, itemType TEXT NOT NULL, threadKey TEXT, threadType INTEGER, "
              "PRIMARY KEY(threadItemKey,threadItemType));")
    path = make_db(tmp_path / "old.sqlite", legacy + item("k1", "SmsIn", 1700000000.0, PEER, f"t.{PEER}", "hi"))
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: path}, PARSERS)
    assert {o.spec.name: o.outcome for o in outcomes} == {
        "google-voice-ios-messages": "parsed", "google-voice-ios-contacts": "unsupported version",
        "google-voice-ios-numbers": "no data"}
    (message,) = rows["messages"]
    assert (message["sender"], message["body"], message["thread_name"]) == (PEER, "hi", None)


def test_damaged_database_is_recovered(tmp_path):
    many = "".join(item(f"k{i}", "SmsIn", 1700000000.0 + i, PEER, f"t.{PEER}", "x" * 300) for i in range(200))
    outcome, _ = parser_harness.run_damaged_leaf(tmp_path, PATH, THREADING_SCHEMA + many,
                                            "ThreadItem", "google-voice-ios-messages")
    assert outcome.outcome == "parsed" and outcome.recovered and 150 < outcome.records < 200
