"""Google Voice for Android: message_t protobuf blobs and the cached account response, built with the field numbers
ALEAPP's googleVoice.py reads (no public Android test file exists)."""
from tests import parser_harness
from tests.fixtures.google_voice_android import (CACHE_SCHEMA, MESSAGE_SCHEMA, account_data, account_response, entry,
                                                insert)
from tests.fixtures.sqlite_db import make_db

BASE = "/data/data/com.google.android.apps.googlevoice/files/accounts/1"
PATH = f"{BASE}/LegacyMsgDbInstance.db"
OWN, PEER, OTHER = "+19105550100", "+19195550111", "+19195550122"

ROWS = "".join([
    insert(entry(id="m1", time_ms=1700000000123, voice_number=OWN, kind=6, other=PEER, text="new number"), "t.1"),
    insert(entry(id="m2", time_ms=1700000100000, voice_number=OWN, kind=5, other=PEER, text="ok", read=1), "t.1"),
    insert(entry(id="c1", time_ms=1700000200000, voice_number=OWN, kind=2, other=PEER, duration=61.5), "t.1"),
    insert(entry(id="c2", time_ms=1700000300000, voice_number=OWN, kind=1, other=PEER, duration=30.0,
                 recorded=True), "t.1"),
    insert(entry(id="c3", time_ms=1700000400000, voice_number=OWN, kind=0, other=OTHER, missed=True), "t.2"),
    insert(entry(id="v1", time_ms=1700000500000, voice_number=OWN, kind=3, other=PEER, duration=12.0, read=0,
                 words=["call", "me", "back", "."]), "t.1"),
    insert(entry(id="g1", time_ms=1700000600000, voice_number=OWN, kind=5,
                 group={"text": "all of you", "members": [PEER, OTHER], "sender": PEER}), "g.1"),
    insert(entry(id="g2", time_ms=1700000700000, voice_number=OWN, kind=6,
                 group={"text": "tonight", "members": [PEER, OTHER]}), "g.1"),
    "INSERT INTO message_t VALUES (X'ffffffff', 't.3');\n",
])
WAL_ROW = insert(entry(id="m3", time_ms=1700000800000, voice_number=OWN, kind=5, other=PEER, text="wal"), "t.1")


def test_texts_calls_voicemail_groups_and_wal(tmp_path):
    src = make_db(tmp_path / "src/LegacyMsgDbInstance.db", MESSAGE_SCHEMA + ROWS, wal_sql=WAL_ROW)
    acct = make_db(tmp_path / "src/cache.db", CACHE_SCHEMA + f"INSERT INTO cache_table VALUES "
                   f"(X'{account_response(OWN, '+19195550199').hex()}');")
    files = {PATH: src, PATH + "-wal": tmp_path / "src/LegacyMsgDbInstance.db-wal",
             f"{BASE}/SqliteKeyValueCache:VoiceAccountCache.db": acct}
    outcomes, rows = parser_harness.run(tmp_path / "run", files)
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "google-voice-android-messages": ("parsed", 10, 1), "google-voice-android-account": ("parsed", 1, 0)}
    texts = rows["messages"]
    assert [(m["extra"].get("message_id"), m["direction"], m["sender"], m["recipients"], m["body"]) for m in texts] == [
        ("m1", "outgoing", OWN, [PEER], "new number"), ("m2", "incoming", PEER, [OWN], "ok"),
        ("g1", "incoming", PEER, [OWN, OTHER], "all of you"), ("g2", "outgoing", OWN, [PEER, OTHER], "tonight"),
        (None, None, None, [], None), ("m3", "incoming", PEER, [OWN], "wal")]
    assert texts[0]["ts"] == "2023-11-14T22:13:20.123000Z" and texts[0]["ts_encoding"] == "unix_ms"
    assert texts[1]["extra"]["read"] is True
    assert "not a readable protobuf" in texts[4]["extra"]["error"] and texts[4]["source_row"] == "9"
    assert texts[5]["from_wal"] and not any(m["from_wal"] for m in texts[:5])
    calls = rows["calls"]
    assert [(c["extra"]["message_id"], c["direction"], c["peers"], c["duration_s"], c["status"], c["answered"])
            for c in calls] == [
        ("c1", "outgoing", [PEER], 61.5, None, None), ("c2", "incoming", [PEER], 30.0, "answered", True),
        ("c3", "incoming", [OTHER], None, "missed", False), ("v1", "incoming", [PEER], 12.0, "voicemail", False)]
    assert calls[1]["extra"]["recorded"] is True and calls[3]["extra"]["transcript"] == "call me back ."
    (account,) = rows["accounts"]
    assert (account["phone"], account["user_id"], account["extra"]["linked_number"]) == (OWN, "1", "+19195550199")


def test_damaged_database_is_recovered(tmp_path):
    many = "".join(insert(entry(id=f"m{i}", time_ms=1700000000000 + i, voice_number=OWN, kind=5, other=PEER,
                                text="x" * 300), "t.1") for i in range(200))
    outcome, _ = parser_harness.run_damaged_leaf(tmp_path, PATH, MESSAGE_SCHEMA + many,
                                            "message_t", "google-voice-android-messages")
    assert outcome.outcome == "parsed" and outcome.recovered and 150 < outcome.records < 200


def test_account_data_lists_the_signed_in_google_accounts(tmp_path):
    blob = account_data((1, "Pat Doe", "pat@example.invalid"), (42, "Second", "two@example.invalid"))
    path = "/data/data/com.google.android.apps.googlevoice/files/AccountData.pb"
    outcomes, rows = parser_harness.run(tmp_path / "run", {path: blob})
    assert [(o.spec.name, o.outcome, o.records) for o in outcomes] == [
        ("google-voice-android-account-data", "parsed", 2)]
    assert [(a["user_id"], a["display_name"], a["email"], a["source_row"]) for a in rows["accounts"]] == [
        ("1", "Pat Doe", "pat@example.invalid", "0"), ("42", "Second", "two@example.invalid", "1")]
    outcomes, rows = parser_harness.run(tmp_path / "bad", {path: b"\xff\xff\xff"})
    assert outcomes[0].outcome == "error" and not rows["accounts"]
