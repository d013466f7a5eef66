"""Burner for iOS: the app's cached API responses (Cache.db + fsCachedData), on iLEAPP's real josh_ios15 test
extraction where present and on a Cache.db built with the real schema."""
import json

from tests import parser_harness
from tests.fixtures.ios_url_cache import CACHE_SCHEMA, cached
from tests.leapp_cases import extract, ileapp_case
from tests.fixtures.sqlite_db import make_db

DIR = "/private/var/mobile/Containers/Data/Application/0C1A/Library/Caches/com.adhoclabs.burner"
PARSERS = ["burner-ios-messages", "burner-ios-numbers", "burner-ios-contacts", "burner-ios-account",
           "burner-ios-cache-files"]
API, USER = "https://phoenix.burnerapp.com", "21d2ca9c-0000-4000-8000-00000000000a"
BURNER, LINE, PEER = "3419959a-0000-4000-8000-00000000000b", "+18285550100", "+19195550111"


def _counts(outcomes):
    return {o.spec.name: (o.outcome, o.records) for o in outcomes if o.spec.name != "burner-ios-cache-files"}


def test_real_josh_ios15_cache(tmp_path):
    """iLEAPP's burnerCache results for this extraction list 18 message rows, 2 accounts, 1 number, 2 contacts.
    One text is cached twice (in /messages and in a conversation page) and the user twice (/register/phone and
    /token): we keep one record per id, so 17 messages and calls and 1 user, with cached_copies = 2."""
    files = extract(ileapp_case("burnerCache", "burnerCache_messages", "josh_ios15_ffs"), tmp_path / "zip")
    outcomes, rows = parser_harness.run(tmp_path / "run", files, PARSERS)
    assert _counts(outcomes) == {"burner-ios-messages": ("parsed", 17), "burner-ios-numbers": ("parsed", 1),
                                 "burner-ios-contacts": ("parsed", 2), "burner-ios-account": ("parsed", 1)}
    texts, calls = rows["messages"], rows["calls"]
    assert len(texts) == 13 and len(calls) == 4
    assert sorted(m["direction"] for m in texts).count("outgoing") == 7
    first = texts[0]
    assert (first["body"], first["direction"], first["sender"], first["recipients"]) == (
        "You there?", "outgoing", "+18285205789", ["+19198887386"])
    assert first["ts"] == "2023-05-08T17:25:37.113000Z" and first["ts_encoding"] == "unix_ms"
    assert (first["source_table"], first["source_row"]) == ("cfurl_cache_receiver_data", "32")
    assert first["extra"]["cached_file"] == "fsCachedData/34A0C948-4FFD-4FA3-B5DC-5DB8ADBD8B0D"
    twice = [m for m in texts if m["extra"].get("cached_copies")]
    assert [(m["extra"]["message_id"], m["extra"]["cached_copies"]) for m in twice] == [
        ("1e4549e2-3059-4300-8ee8-44e5a0a2ebb1", 2)]
    incoming = next(m for m in texts if m["direction"] == "incoming")
    assert (incoming["sender"], incoming["sender_name"], incoming["recipients"]) == (
        "+19198887386", "This Is DFIR Two", ["+18285205789"])
    pictures = [m for m in texts if m["message_type"] == "mms"]
    assert [p["attachments"][0]["cached_file"] for p in pictures] == [
        "fsCachedData/F814B55D-2FF3-469B-B901-22D005D47DCC", "fsCachedData/54F501A4-8AB8-4BCE-8681-163E7559ADA5"]
    assert [(c["direction"], c["status"], c["answered"]) for c in calls] == [
        ("outgoing", "completed", True), ("incoming", "missed", False), ("incoming", "missed", False),
        ("incoming", "voicemail", False)]
    assert calls[3]["extra"]["attachments"][0]["cached_file"] == "fsCachedData/D4A118AC-21A9-40A4-B655-8809979E9002"
    number, user = sorted(rows["accounts"], key=lambda a: a["account_type"])
    assert (number["account_type"], number["phone"], number["display_name"]) == (
        "burner number", "+18285205789", "My New Burner")
    assert number["extra"]["expiration_date"] == "2023-06-07T17:22:57.088000Z"
    assert (user["account_type"], user["phone"], user["extra"]["carrier_name"], user["extra"]["cached_copies"]) == (
        "burner user", "+19195794674", "T-Mobile USA, Inc.", 2)
    assert user["extra"]["total_number_burners"] == 6  # the newer copy (/token) of the two
    assert [(c["name"], c["phones"]) for c in rows["contacts"]] == [
        ("Josh Hickman", ["+19195790479"]), ("This Is DFIR Two", ["+19198887386"])]


def _msg(mid, created, direction, text="", kind=2, state=1, **more):
    return {"id": mid, "dateCreated": created, "lastUpdatedDate": created, "direction": direction,
            "messageType": kind, "state": state, "burnerId": BURNER, "contactPhoneNumber": PEER, "message": text,
            "read": True, "userId": USER, **more}


PAGE = [_msg("m-2", 1683568000000, 1, "where are you staying"),
        _msg("m-1", 1683567000000, 2, "new number, save it"),
        _msg("m-3", 1683569000000, 1, kind=1, state=5, voiceUrl="https://s3.amazonaws.com/burner-voicemail/v.wav")]
ROWS = "".join([
    cached(1, f"{API}/v2/register/phone", {"token": "secret-token", "user": {
        "id": USER, "phoneNumber": "+19195550100", "countryCode": "US", "carrierName": "Carrier",
        "dateCreated": 1586047847213, "lastUpdatedDate": 1683566480000, "totalNumberBurners": 1}}),
    cached(2, f"{API}/v3/user/{USER}/burners", [{"id": BURNER, "phoneNumber": LINE, "dateCreated": 1683566577088,
                                                 "expirationDate": 1686158577088, "settings": {"name": "Work"}}]),
    cached(3, f"{API}/user/{USER}/contacts?pageSize=200&page=1", [
        {"id": "c-1", "name": "Dee", "phoneNumber": PEER, "text": "met at the bus station", "blocked": True,
         "dateCreated": 1613670031089}]),
    cached(4, f"{API}/user/{USER}/messages?contactPhoneNumber=%2B19195550111&pageSize=50", on_fs="AAAA-PAGE"),
    cached(5, f"{API}/user/{USER}/messages", _msg("m-1", 1683567000000, 2, "new number, save it")),
    cached(6, "https://s3.amazonaws.com/burner-voicemail/v.wav", on_fs="BBBB-WAV"),
    cached(7, f"{API}/user/{USER}/messages/unread", {"count": 3}),
    cached(8, "https://api2.amplitude.com/", b"success"),
])
CONVERSATION = cached(9, f"{API}/user/{USER}/burners/{BURNER}/conversations/%2B19195550111/messages?pageSize=25", [
    {"id": "m-4", "dateCreated": 1683570000000, "direction": "Outbound", "messageType": "Text", "state": "Sent",
     "burnerId": BURNER, "text": "only in the WAL", "mediaUrl": "https://s3.amazonaws.com/burner-mms/p.jpg",
     "conversation": {"conversationId": PEER}},
    {"id": "m-5", "dateCreated": 1683571000000, "direction": "Inbound", "messageType": "Voice",
     "state": "CallMissed", "burnerId": BURNER, "conversation": {"conversationId": PEER}}])


def _files(tmp_path, wal=True, page=True):
    src = make_db(tmp_path / "src/Cache.db", CACHE_SCHEMA + ROWS, wal_sql=CONVERSATION if wal else None)
    files = {f"{DIR}/Cache.db": src, f"{DIR}/fsCachedData/BBBB-WAV": b"RIFF....WAVEfmt "}
    if wal:
        files[f"{DIR}/Cache.db-wal"] = tmp_path / "src/Cache.db-wal"
    if page:
        files[f"{DIR}/fsCachedData/AAAA-PAGE"] = json.dumps(PAGE).encode()
    return files


def test_fixture_cache_messages_numbers_contacts_user_and_wal(tmp_path):
    outcomes, rows = parser_harness.run(tmp_path / "run", _files(tmp_path), PARSERS)
    assert _counts(outcomes) == {"burner-ios-messages": ("parsed", 5), "burner-ios-numbers": ("parsed", 1),
                                 "burner-ios-contacts": ("parsed", 1), "burner-ios-account": ("parsed", 1)}
    assert {o.spec.name: o.from_wal for o in outcomes}["burner-ios-messages"] == 2
    texts = rows["messages"]
    assert [(m["extra"]["message_id"], m["direction"], m["sender"], m["recipients"]) for m in texts] == [
        ("m-2", "incoming", PEER, [LINE]), ("m-1", "outgoing", LINE, [PEER]), ("m-4", "outgoing", LINE, [PEER])]
    assert (texts[0]["sender_name"], texts[0]["thread_name"], texts[0]["source_row"]) == ("Dee", "Dee", "4")
    assert texts[0]["extra"]["cached_file"] == "fsCachedData/AAAA-PAGE"
    # m-1 is cached in the page file and again in /messages: one record, from the later entry of the two
    assert texts[1]["extra"]["cached_copies"] == 2 and texts[1]["source_row"] == "5"
    assert texts[2]["from_wal"] and texts[2]["body"] == "only in the WAL" and texts[2]["message_type"] == "mms"
    assert texts[2]["attachments"] == [{"url": "https://s3.amazonaws.com/burner-mms/p.jpg"}]
    voicemail, missed = rows["calls"]
    assert (voicemail["status"], voicemail["answered"], voicemail["peers"], voicemail["peer_name"]) == (
        "voicemail", False, [PEER], "Dee")
    assert voicemail["extra"]["attachments"] == [
        {"url": "https://s3.amazonaws.com/burner-voicemail/v.wav", "cached_file": "fsCachedData/BBBB-WAV"}]
    assert (missed["status"], missed["direction"], missed["from_wal"]) == ("missed", "incoming", True)
    number, user = sorted(rows["accounts"], key=lambda a: a["account_type"])
    assert (user["user_id"], user["phone"], user["ts"]) == (USER, "+19195550100", "2020-04-05T00:50:47.213000Z")
    assert "secret-token" not in json.dumps(rows)
    assert (number["phone"], number["display_name"], number["user_id"]) == (LINE, "Work", USER)
    (contact,) = rows["contacts"]
    assert (contact["name"], contact["note"], contact["extra"]["blocked"]) == ("Dee", "met at the bus station", True)

    # the same cache without its -wal (the older state): the conversation page is not there
    outcomes, rows = parser_harness.run(tmp_path / "nowal", _files(tmp_path, wal=False), ["burner-ios-messages"])
    assert [o.records for o in outcomes] == [3]


def test_missing_page_file_and_bad_json_are_reported(tmp_path):
    """A cached page whose fsCachedData file is absent, or whose body is not JSON, gives a record saying so."""
    files = _files(tmp_path, wal=False, page=False)
    outcomes, rows = parser_harness.run(tmp_path / "run", files, ["burner-ios-messages"])
    problem = next(m for m in rows["messages"] if "error" in m["extra"])
    assert problem["source_row"] == "4" and "fsCachedData/AAAA-PAGE is not in the evidence" in problem["extra"]["error"]
    files[f"{DIR}/fsCachedData/AAAA-PAGE"] = b"{not json"
    outcomes, rows = parser_harness.run(tmp_path / "bad", files, ["burner-ios-messages"])
    assert "response body unreadable" in next(m for m in rows["messages"] if "error" in m["extra"])["extra"]["error"]
    # a cached /token response that is not JSON: the user's record says so, the good /register one is kept
    broken = make_db(tmp_path / "broken/Cache.db", CACHE_SCHEMA + ROWS + cached(20, f"{API}/user/{USER}/token",
                                                                              b"{truncated"))
    outcomes, rows = parser_harness.run(tmp_path / "token", {f"{DIR}/Cache.db": broken}, ["burner-ios-account"])
    assert [(a["user_id"], a["source_row"], "error" in a["extra"]) for a in rows["accounts"]] == [
        (USER, "1", False), (None, "20", True)]


def test_damaged_cache_is_recovered(tmp_path):
    many = "".join(cached(i, f"{API}/user/{USER}/messages?contactPhoneNumber={i}",
                          _msg(f"m-{i}", 1683567000000 + i, 1, "x" * 300))
                   for i in range(1, 201))
    outcome, _ = parser_harness.run_damaged_leaf(tmp_path, f"{DIR}/Cache.db", CACHE_SCHEMA + many,
                                            "cfurl_cache_receiver_data", "burner-ios-messages")
    assert outcome.outcome == "parsed" and outcome.recovered and 150 < outcome.records < 200
