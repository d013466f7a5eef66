"""Telegram for Android: cache4.db with the client's schema and TL blobs written byte for byte at test time."""
import struct

import pytest

from tests import parser_harness
from tests.fixtures.sqlite_db import damage, make_db
from tests.fixtures.telegram_android import CACHE4_SCHEMA, LEGACY_SCHEMA, insert, message_row, user_row
from tests.fixtures.telegram_tl import encode_message, encode_service_message, encode_user

PATH = "/data/data/org.telegram.messenger/files/cache4.db"
ME, ALICE, BOB = 111, 5_000_000_001, 777
GROUP, CHANNEL = 4_400_000_123, 1_987_654_321_012
SECRET_DIALOG = 0x4000000000000000 | 42
DATE = 1_712_345_678  # 2024-04-05T19:34:38Z


def user_blob(**fields) -> bytes:
    return encode_user(**fields)


def self_user_blob() -> bytes:
    """The account owner: TL_user with the `self` flag (bit 10), which the test encoder has no argument for."""
    blob = bytearray(encode_user(id=ME, first_name="Owner", last_name="Person", username="owner_tg",
                                 phone="15550001111"))
    flags = struct.unpack_from("<I", blob, 4)[0]
    struct.pack_into("<I", blob, 4, flags | 1 << 10)
    return bytes(blob)


USERS = [
    user_row(ME, "Owner", "Person", "owner_tg", DATE - 60, self_user_blob()),
    user_row(ALICE, "Alice", "Smith", "alice_s", DATE + 3600,
             user_blob(id=ALICE, first_name="Alice", last_name="Smith", username="alice_s", phone="447700900123",
                       contact=True)),
    user_row(BOB, "Bob", None, None, -100, user_blob(id=BOB, first_name="Bob", layer="layer132")),
    user_row(999, "Broken", "User", "brk", 0, b"\x01\x02\x03"),
]
MESSAGES = [
    message_row(1, ALICE, DATE, False, encode_message(id=1, peer_id=("user", ME), from_id=("user", ALICE), date=DATE,
                                                      text="hello from alice")),
    message_row(2, ALICE, DATE + 60, True, encode_message(id=2, peer_id=("user", ALICE), from_id=("user", ME),
                                                          date=DATE + 60, text="hi alice", out=True)),
    message_row(3, ALICE, DATE + 120, False,
                encode_message(id=3, peer_id=("user", ME), from_id=("user", ALICE), date=DATE + 120,
                               media={"kind": "geo", "lat": 48.8584, "long": 2.2945}), read_state=0),
    message_row(10, -GROUP, DATE + 180, False,
                encode_message(id=10, peer_id=("chat", GROUP), from_id=("user", BOB), date=DATE + 180,
                               media={"kind": "venue", "lat": 52.52, "long": 13.405, "title": "Cafe",
                                      "address": "Unter den Linden 1", "provider": "foursquare"})),
    message_row(11, -CHANNEL, DATE + 240, False,
                encode_message(id=11, peer_id=("channel", CHANNEL), date=DATE + 240, text="announcement"),
                is_channel=1),
    message_row(12, ALICE, DATE + 300, False,
                encode_service_message(id=12, peer_id=("user", ME), from_id=("user", ALICE), date=DATE + 300,
                                       action={"kind": "phone_call", "call_id": 9001, "reason": "missed",
                                               "video": True})),
    message_row(13, ALICE, DATE + 360, True,
                encode_service_message(id=13, peer_id=("user", ALICE), from_id=("user", ME), date=DATE + 360,
                                       out=True, action={"kind": "phone_call", "call_id": 9002, "reason": "hangup",
                                                         "duration": 65})),
    message_row(14, ALICE, DATE + 420, False, b"\xde\xad\xbe\xef\x00"),
    message_row(15, ALICE, DATE + 480, False, None),
    message_row(16, -GROUP, DATE + 540, True,
                encode_message(id=16, peer_id=("chat", GROUP), from_id=("user", ME), date=DATE + 540, text="look",
                               out=True, media={"kind": "photo"}), send_state=0, read_state=0),
    message_row(1, SECRET_DIALOG, DATE + 600, False,
                encode_message(id=1, peer_id=("user", ME), from_id=("user", BOB), date=DATE + 600,
                               text="self-destructing", ttl=10, layer="secret"), ttl=10),
]
WAL_MESSAGE = message_row(17, ALICE, DATE + 660, False,
                          encode_message(id=17, peer_id=("user", ME), from_id=("user", ALICE), date=DATE + 660,
                                         text="only in the WAL"))
DIRECTORY = (insert("users", USERS)
             + insert("chats", [{"uid": GROUP, "name": "trip group", "data": None},
                                {"uid": CHANNEL, "name": "news channel", "data": None}])
             + insert("enc_chats", [{"uid": 42, "user": BOB, "name": "bob", "ttl": 10, "layer": 101}])
             + insert("dialogs", [{"did": ALICE, "date": DATE + 660, "unread_count": 1, "last_mid": 17},
                                  {"did": -GROUP, "date": DATE + 540, "unread_count": 0, "last_mid": 16}])
             + insert("contacts", [{"uid": ALICE, "mutual": 1}])
             + insert("user_contacts_v7", [{"key": "ab12", "uid": 501, "fname": "Mum", "sname": None,
                                            "imported": 1}])
             + insert("user_phones_v7", [{"key": "ab12", "phone": "+15550002222", "sphone": "15550002222",
                                          "deleted": 0},
                                         {"key": "ab12", "phone": "+15550003333", "sphone": "15550003333",
                                          "deleted": 1}]))


def test_messages_locations_calls_contacts_and_wal(tmp_path):
    db = make_db(tmp_path / "src/cache4.db", CACHE4_SCHEMA + insert("messages_v2", MESSAGES) + DIRECTORY,
                 wal_sql=insert("messages_v2", [WAL_MESSAGE]))
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: db, PATH + "-wal": tmp_path / "src/cache4.db-wal"})
    by_parser = {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes}
    assert by_parser == {"telegram-android-messages": ("parsed", 12 + 2 + 2, 1),
                         "telegram-android-messages-legacy": ("unsupported version", 0, 0),
                         "telegram-android-contacts": ("parsed", 4 + 1 + 1, 0)}
    messages = {(m["thread_id"], m["extra"]["mid"]): m for m in rows["messages"]}
    assert len(messages) == 12
    assert all(m["app"] == "org.telegram.messenger" and m["platform"] == "Telegram" and
               m["source_table"] == "messages_v2" for m in messages.values())

    first = messages[(str(ALICE), 1)]
    assert (first["ts"], first["ts_raw"], first["ts_encoding"]) == ("2024-04-05T19:34:38.000000Z", str(DATE), "unix_s")
    assert (first["direction"], first["sender"], first["sender_name"], first["recipients"]) == (
        "incoming", str(ALICE), "Alice Smith", [])
    assert (first["thread_name"], first["body"], first["message_type"], first["status"]) == (
        "Alice Smith", "hello from alice", "text", "read")
    assert first["extra"] == {"mid": 1, "dialog_kind": "user", "constructor": "message"}

    reply = messages[(str(ALICE), 2)]
    assert (reply["direction"], reply["sender"], reply["recipients"], reply["status"]) == (
        "outgoing", None, [str(ALICE)], "read")

    geo = messages[(str(ALICE), 3)]
    assert (geo["message_type"], geo["status"], geo["attachments"], geo["body"]) == ("location", "unread", [], "")

    venue = messages[(str(-GROUP), 10)]
    assert (venue["thread_name"], venue["sender"], venue["sender_name"], venue["message_type"]) == (
        "trip group", str(BOB), "Bob", "venue")
    assert venue["extra"]["dialog_kind"] == "group"

    post = messages[(str(-CHANNEL), 11)]  # a channel post has no from_id: the channel speaks
    assert (post["sender"], post["sender_name"], post["thread_name"], post["extra"]["dialog_kind"]) == (
        str(-CHANNEL), "news channel", "news channel", "channel")

    missed = messages[(str(ALICE), 12)]
    assert (missed["message_type"], missed["body"], missed["extra"]["action"]["kind"]) == ("call", None, "phone_call")

    for mid in (14, 15):  # undecodable or missing blobs are still messages, with what the columns say
        broken = messages[(str(ALICE), mid)]
        assert (broken["body"], broken["message_type"], broken["direction"], broken["sender"]) == (
            None, None, "incoming", str(ALICE))
        assert broken["ts"] and broken["extra"]["decode_error"]
    assert "not a known message constructor" in messages[(str(ALICE), 14)]["extra"]["decode_error"]
    assert "must be bytes" in messages[(str(ALICE), 15)]["extra"]["decode_error"]

    photo = messages[(str(-GROUP), 16)]
    assert (photo["direction"], photo["recipients"], photo["status"], photo["body"]) == (
        "outgoing", [str(-GROUP)], "sent", "look")
    assert photo["message_type"] == "photo" and photo["attachments"][0]["kind"] == "photo"

    secret = messages[(str(SECRET_DIALOG), 1)]
    assert (secret["sender"], secret["sender_name"], secret["thread_name"], secret["body"]) == (
        str(BOB), "Bob", "Bob", "self-destructing")
    assert secret["extra"]["dialog_kind"] == "secret" and secret["extra"]["ttl"] == 10

    wal = [m for m in rows["messages"] if m["from_wal"]]
    assert [(m["extra"]["mid"], m["body"]) for m in wal] == [(17, "only in the WAL")]

    paris, cafe = rows["locations"]
    assert (paris["latitude"], paris["longitude"], paris["ts"], paris["source_kind"]) == (
        48.8584, 2.2945, "2024-04-05T19:36:38.000000Z", "telegram message")
    assert paris["extra"] == {"thread_id": str(ALICE), "sender": str(ALICE), "direction": "incoming", "mid": 3,
                              "media": "geo"}
    assert (cafe["label"], cafe["latitude"], cafe["longitude"]) == ("Cafe, Unter den Linden 1", 52.52, 13.405)
    assert paris["source_table"] == "messages_v2" and paris["source_row"] == messages[(str(ALICE), 3)]["source_row"]

    video, audio = rows["calls"]
    assert (video["direction"], video["call_type"], video["status"], video["answered"], video["duration_s"]) == (
        "incoming", "video", "missed", False, None)
    assert (video["peers"], video["peer_name"], video["ts"]) == ([str(ALICE)], "Alice Smith",
                                                                "2024-04-05T19:39:38.000000Z")
    assert (audio["direction"], audio["call_type"], audio["status"], audio["answered"], audio["duration_s"]) == (
        "outgoing", "audio", "answered", True, 65)
    assert audio["extra"] == {"call_id": 9002, "reason": "hangup", "mid": 13, "thread_id": str(ALICE)}

    people = {c["user_id"]: c for c in rows["contacts"] if c["user_id"]}
    assert (people[str(ALICE)]["name"], people[str(ALICE)]["phones"], people[str(ALICE)]["handles"]) == (
        "Alice Smith", ["447700900123"], ["alice_s"])
    assert people[str(ALICE)]["extra"] == {"contact": True, "in_contacts": True, "mutual": True,
                                           "last_seen": "2024-04-05T20:34:38.000000Z"}
    assert people[str(BOB)]["extra"] == {"status_code": -100} and people[str(BOB)]["name"] == "Bob"
    broken = people["999"]  # undecodable blob: the lower-cased name column still names the user
    assert (broken["name"], broken["handles"]) == ("broken user", ["brk"]) and broken["extra"]["decode_error"]
    assert people[str(ME)]["extra"]["self"] is True
    (book,) = [c for c in rows["contacts"] if c["user_id"] is None]
    assert (book["name"], book["phones"], book["source_table"]) == ("Mum", ["+15550002222"], "user_contacts_v7")
    assert book["extra"] == {"source": "address book", "key": "ab12", "address_book_id": 501, "imported": 1,
                             "deleted_phones": ["+15550003333"]}
    (owner,) = rows["accounts"]
    assert (owner["user_id"], owner["username"], owner["display_name"], owner["phone"]) == (
        str(ME), "owner_tg", "Owner Person", "15550001111")


def test_legacy_messages_table(tmp_path):
    """Clients before 2021 kept the same blobs in `messages` (mid the primary key, no is_channel column)."""
    legacy_rows = [{key: row[key] for key in ("mid", "uid", "read_state", "send_state", "date", "data", "out", "ttl")}
                   for row in MESSAGES[:5]]
    db = make_db(tmp_path / "cache4.db", LEGACY_SCHEMA + insert("messages", legacy_rows) + DIRECTORY)
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: db}, ["telegram-android-messages",
                                                                      "telegram-android-messages-legacy"])
    assert {o.spec.name: (o.outcome, o.records) for o in outcomes} == {
        "telegram-android-messages": ("unsupported version", 0),
        "telegram-android-messages-legacy": ("parsed", 5 + 2)}
    assert [m["body"] for m in rows["messages"]] == ["hello from alice", "hi alice", "", "", "announcement"]
    assert {m["source_table"] for m in rows["messages"]} == {"messages"}
    assert rows["messages"][4]["extra"]["dialog_kind"] == "group or channel"


@pytest.mark.parametrize("path", [
    "/data/data/org.telegram.messenger.web/files/account2/cache4.db",
    "filesystem1/data/user/0/org.telegram.plus/files/cache4.db",
])
def test_forks_and_further_accounts(path, tmp_path):
    db = make_db(tmp_path / "cache4.db", CACHE4_SCHEMA + insert("messages_v2", MESSAGES[:2]) + DIRECTORY)
    outcomes, rows = parser_harness.run(tmp_path / "run", {path: db}, ["telegram-android-messages"])
    assert [(o.outcome, o.records) for o in outcomes] == [("parsed", 2)]
    assert {m["app"] for m in rows["messages"]} == {path.split("/files/")[0].rsplit("/", 1)[1]}


def test_damaged_cache4_is_recovered_and_says_so(tmp_path):
    many = [message_row(i, ALICE, DATE + i, i % 2 == 0,
                        encode_message(id=i, peer_id=("user", ME), from_id=("user", ALICE), date=DATE + i,
                                       text=f"{'x' * 300} {i}"))
            for i in range(1, 301)]
    good = make_db(tmp_path / "good.db", CACHE4_SCHEMA + insert("messages_v2", many) + DIRECTORY)
    page = good.read_bytes().index(b"x" * 300 + b" 150") // 4096 + 1  # the table page holding message 150
    bad = damage(good, tmp_path / "bad.db", page=page)
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: bad}, ["telegram-android-messages"])
    (outcome,) = outcomes
    assert outcome.outcome == "parsed" and outcome.recovered and "damaged" in outcome.message
    assert 200 < len(rows["messages"]) < 300
    assert all(m["recovered"] for m in rows["messages"])
    assert all(m["body"].endswith(str(m["extra"]["mid"])) for m in rows["messages"])
    assert 150 not in {m["extra"]["mid"] for m in rows["messages"]}
