"""Telegram for Android TL decoding: the messages_v2.data / users.data blobs, built byte for byte at test time."""
from __future__ import annotations

import random
import struct
import time

import pytest

from parsers.decoders.telegram_tl import TLDecodeError, decode_message, decode_user
from tests.fixtures.telegram_tl import (
    encode_empty_message, encode_message, encode_service_message, encode_user, tl_bytes, tl_int, tl_long, tl_peer,
    tl_string, tl_uint,
)

ALICE, BOB = ("user", 5_000_000_001), ("user", 777)
GROUP, CHANNEL = ("chat", 4_400_000_123), ("channel", 1_987_654_321_012)
DATE = 1_712_345_678


def peer(p):
    return {"kind": p[0], "id": p[1]}


# --- the wire format, spelled out by hand -----------------------------------------------------------------------

def test_current_message_bytes_written_by_hand():
    blob = (struct.pack("<III", 0x7600B9D3, 0x302, 0) + struct.pack("<i", 42)  # flags: out, from_id, media
            + struct.pack("<Iq", 0x59511722, 5_000_000_001) + struct.pack("<Iq", 0x59511722, 777)
            + struct.pack("<i", DATE) + b"\x02hi\x00"
            + struct.pack("<I", 0x56E0D474) + struct.pack("<IIddq", 0xB2A2F663, 0, 2.35, 48.85, 0))
    msg = decode_message(blob)
    assert (msg["constructor"], msg["name"], msg["type"]) == ("0x7600b9d3", "message", "message")
    assert (msg["id"], msg["date"], msg["out"], msg["message"]) == (42, DATE, True, "hi")
    assert msg["from_id"] == peer(ALICE) and msg["peer_id"] == peer(BOB)
    assert msg["media"] == {"kind": "geo", "constructor": "0x56e0d474", "lat": 48.85, "long": 2.35}
    assert blob == encode_message(id=42, peer_id=BOB, date=DATE, text="hi", out=True, from_id=ALICE,
                                  media={"kind": "geo", "lat": 48.85, "long": 2.35})


@pytest.mark.parametrize("length", [0, 1, 3, 4, 253, 254, 255, 300, 70_000])
def test_string_lengths_and_padding(length):
    text = ("ab€" * length)[:length]
    raw = text.encode()
    encoded = tl_bytes(raw)
    assert len(encoded) % 4 == 0
    if len(raw) >= 254:
        assert encoded[0] == 254 and int.from_bytes(encoded[1:4], "little") == len(raw)
    msg = decode_message(encode_message(id=1, peer_id=BOB, date=DATE, text=text, from_id=ALICE,
                                        media={"kind": "contact", "phone_number": "+15550100"}))
    assert msg["message"] == text
    assert msg["media"]["phone_number"] == "+15550100"  # what follows the string is still aligned


def test_length_byte_255_is_read_like_254():
    raw = b"x" * 300
    body = (tl_uint(0x7600B9D3) + tl_uint(0) + tl_uint(0) + tl_int(9) + tl_peer(BOB) + tl_int(DATE)
            + b"\xff" + len(raw).to_bytes(3, "little") + raw)
    assert decode_message(body)["message"] == "x" * 300


# --- message shapes ---------------------------------------------------------------------------------------------

def test_plain_text_round_trip_and_trailing_attach_path():
    blob = encode_message(id=7, peer_id=BOB, date=DATE, text="meet at 9 ✈️", from_id=ALICE,
                          attach_path="/storage/emulated/0/Telegram/x.jpg")
    msg = decode_message(blob)
    assert msg == {
        "constructor": "0x7600b9d3", "name": "message", "type": "message", "secret": False, "id": 7,
        "date": DATE, "out": False, "from_id": peer(ALICE), "peer_id": peer(BOB), "message": "meet at 9 ✈️",
        "media": None, "ttl": None, "reply_to": None, "reply_header": None, "fwd_from": None, "action": None,
    }


def test_without_from_id_channel_post():
    msg = decode_message(encode_message(id=3, peer_id=CHANNEL, date=DATE, text="announcement"))
    assert msg["from_id"] is None and msg["peer_id"] == peer(CHANNEL)
    assert msg["out"] is False


@pytest.mark.parametrize("chat", [BOB, GROUP, CHANNEL])
def test_peer_kinds(chat):
    msg = decode_message(encode_message(id=1, peer_id=chat, date=DATE, text="x", from_id=ALICE, out=True))
    assert msg["peer_id"] == peer(chat) and msg["out"] is True


@pytest.mark.parametrize("media, expected", [
    ({"kind": "geo", "lat": -33.8688, "long": 151.2093},
     {"kind": "geo", "constructor": "0x56e0d474", "lat": -33.8688, "long": 151.2093}),
    ({"kind": "contact", "phone_number": "+447700900123", "first_name": "Dana", "last_name": "Ro",
      "vcard": "BEGIN:VCARD", "user_id": 6_000_000_002},
     {"kind": "contact", "constructor": "0x70322949", "phone_number": "+447700900123", "first_name": "Dana",
      "last_name": "Ro", "vcard": "BEGIN:VCARD", "user_id": 6_000_000_002}),
    ({"kind": "venue", "lat": 1.5, "long": 2.5, "title": "Hotel", "address": "Main St 1", "provider": "foursquare",
      "venue_id": "v1", "venue_type": "hotel"},
     {"kind": "venue", "constructor": "0x2ec0533f", "lat": 1.5, "long": 2.5, "title": "Hotel",
      "address": "Main St 1", "provider": "foursquare", "venue_id": "v1", "venue_type": "hotel"}),
    ({"kind": "photo"}, {"kind": "photo", "constructor": "0x695150d7"}),
    ({"kind": "document"}, {"kind": "document", "constructor": "0x52d8ccd9"}),
    ({"kind": "empty"}, {"kind": "empty", "constructor": "0x3ded6320"}),
])
def test_media_kinds(media, expected):
    msg = decode_message(encode_message(id=2, peer_id=BOB, date=DATE, text="", from_id=ALICE, media=media))
    assert msg["media"] == expected


def test_webpage_media_keeps_the_url():
    msg = decode_message(encode_message(id=2, peer_id=BOB, date=DATE, text="see https://ex.test/ad", from_id=ALICE,
                                        media={"kind": "webpage", "url": "https://ex.test/ad", "title": "Jobs abroad",
                                               "site_name": "ex.test"}))
    page = msg["media"]["webpage"]
    assert msg["media"]["kind"] == "webpage"
    assert (page["kind"], page["url"], page["title"], page["site_name"]) == (
        "page", "https://ex.test/ad", "Jobs abroad", "ex.test")
    assert "description" not in page


def test_unknown_media_is_named_by_constructor():
    msg = decode_message(encode_message(id=2, peer_id=BOB, date=DATE, text="t", from_id=ALICE,
                                        media={"kind": "raw", "bytes": tl_uint(0x12345678) + b"\x00" * 8}))
    assert msg["media"] == {"kind": "0x12345678", "constructor": "0x12345678"}
    assert msg["message"] == "t"


def test_reply_and_forward_headers():
    msg = decode_message(encode_message(
        id=9, peer_id=GROUP, date=DATE, text="agreed", from_id=ALICE,
        reply_to={"msg_id": 8, "peer": CHANNEL, "quote": "price is 500",
                  "from": {"from_id": BOB, "date": DATE - 60}},
        fwd_from={"from_id": BOB, "from_name": "Bobby", "date": DATE - 3600}))
    assert msg["reply_to"] == 8
    header = msg["reply_header"]
    assert header["reply_to_peer_id"] == peer(CHANNEL) and header["quote_text"] == "price is 500"
    assert header["reply_from"]["from_id"] == peer(BOB) and header["reply_from"]["date"] == DATE - 60
    assert msg["fwd_from"]["from_id"] == peer(BOB)
    assert (msg["fwd_from"]["from_name"], msg["fwd_from"]["date"]) == ("Bobby", DATE - 3600)
    assert msg["message"] == "agreed" and msg["date"] == DATE


def test_reply_quoting_geo_from_another_chat_is_stepped_over():
    msg = decode_message(encode_message(id=9, peer_id=BOB, date=DATE, text="here", from_id=ALICE,
                                        reply_to={"msg_id": 4, "media": {"kind": "geo", "lat": 1.0, "long": 2.0}}))
    assert msg["reply_header"]["reply_media"]["lat"] == 1.0
    assert (msg["date"], msg["message"]) == (DATE, "here")


def test_reply_quoting_a_photo_stops_with_partial_result():
    blob = encode_message(id=9, peer_id=BOB, date=DATE, text="here", from_id=ALICE,
                          reply_to={"msg_id": 4, "media": {"kind": "photo"}})
    with pytest.raises(TLDecodeError, match="reply_media.*not decoded") as info:
        decode_message(blob)
    partial = info.value.partial
    assert (partial["id"], partial["from_id"], partial["peer_id"]) == (9, peer(ALICE), peer(BOB))
    assert partial["date"] is None and partial["message"] is None


@pytest.mark.parametrize("layer, constructor", [
    ("current", "0x7600b9d3"), ("layer179", "0x2357bf25"), ("layer135", "0x85d6cbe2"), ("layer123", "0x58ae39c9"),
    ("layer118", "0xf52e6b7f"), ("layer72", "0x90dddc11"),
])
def test_each_flagged_message_layout(layer, constructor):
    msg = decode_message(encode_message(
        id=11, peer_id=("user", 777), date=DATE, text="hello", out=True, from_id=("user", 123),
        media={"kind": "contact", "phone_number": "+15550199", "first_name": "Eve", "last_name": "", "user_id": 123},
        reply_to=10, fwd_from={"from_id": ("user", 456), "date": DATE - 5}, layer=layer))
    assert msg["constructor"] == constructor
    assert (msg["id"], msg["date"], msg["out"], msg["message"], msg["reply_to"]) == (11, DATE, True, "hello", 10)
    assert msg["from_id"] == {"kind": "user", "id": 123} and msg["peer_id"] == {"kind": "user", "id": 777}
    assert msg["fwd_from"]["from_id"] == {"kind": "user", "id": 456} and msg["fwd_from"]["date"] == DATE - 5
    assert (msg["media"]["kind"], msg["media"]["phone_number"], msg["media"]["user_id"]) == (
        "contact", "+15550199", 123)


def test_legacy_geo_point_and_layer16_bool_out():
    msg = decode_message(encode_message(id=1, peer_id=BOB, date=DATE, text="old", out=True, from_id=("user", 5),
                                        media={"kind": "geo", "lat": 10.25, "long": -3.5}, layer="layer16"))
    assert (msg["name"], msg["out"], msg["from_id"]) == ("message_layer16", True, {"kind": "user", "id": 5})
    assert (msg["media"]["lat"], msg["media"]["long"]) == (10.25, -3.5)


def test_secret_chat_message():
    msg = decode_message(encode_message(id=-5, peer_id=BOB, date=DATE, text="burn after reading", from_id=("user", 5),
                                        ttl=30, layer="secret", attach_path=""))
    assert (msg["name"], msg["secret"], msg["ttl"], msg["id"]) == ("message_secret", True, 30, -5)
    assert msg["media"]["kind"] == "empty" and msg["message"] == "burn after reading"


def test_service_phone_call():
    msg = decode_message(encode_service_message(
        id=20, peer_id=BOB, date=DATE, out=True, from_id=ALICE,
        action={"kind": "phone_call", "call_id": 9_876_543_210, "duration": 95, "reason": "hangup", "video": True}))
    assert (msg["type"], msg["message"], msg["media"]) == ("service", None, None)
    action = msg["action"]
    assert (action["kind"], action["call_id"], action["duration"], action["video"]) == (
        "phone_call", 9_876_543_210, 95, True)
    assert action["reason"]["kind"] == "hangup"


def test_service_missed_call_and_chat_create_and_legacy_layout():
    missed = decode_message(encode_service_message(id=21, peer_id=BOB, date=DATE, from_id=BOB,
                                                   action={"kind": "phone_call", "call_id": 1, "reason": "missed"}))
    assert missed["action"]["reason"]["kind"] == "missed" and "duration" not in missed["action"]
    assert missed["action"]["video"] is False
    created = decode_message(encode_service_message(id=1, peer_id=GROUP, date=DATE, from_id=ALICE,
                                                    action={"kind": "chat_create", "title": "crew",
                                                            "users": [5, 6_000_000_000]}))
    assert (created["action"]["title"], created["action"]["users"]) == ("crew", [5, 6_000_000_000])
    legacy = decode_message(encode_service_message(id=3, peer_id=BOB, date=DATE, from_id=("user", 5), reply_to=2,
                                                   action={"kind": "screenshot_taken"}, layer="layer118"))
    assert (legacy["name"], legacy["reply_to"], legacy["action"]["kind"]) == (
        "message_service_layer118", 2, "screenshot_taken")


def test_unknown_action_is_named_by_constructor():
    msg = decode_message(encode_service_message(id=1, peer_id=BOB, date=DATE,
                                                action={"kind": "raw", "bytes": tl_uint(0xABCDEF01)}))
    assert msg["action"] == {"kind": "0xabcdef01", "constructor": "0xabcdef01"}


def test_empty_messages():
    assert decode_message(encode_empty_message(id=5, peer_id=GROUP))["peer_id"] == peer(GROUP)
    legacy = decode_message(encode_empty_message(id=6, legacy=True))
    assert (legacy["type"], legacy["id"], legacy["peer_id"]) == ("empty", 6, None)


# --- hostile input ----------------------------------------------------------------------------------------------

def _fully_read_messages():
    """Messages whose every byte up to the end of the media is read, so any shorter prefix must fail."""
    return [
        encode_message(id=1, peer_id=BOB, date=DATE, text="x" * 300, from_id=ALICE,
                       media={"kind": "geo", "lat": 1.0, "long": 2.0}),
        encode_message(id=2, peer_id=GROUP, date=DATE, text="q", from_id=ALICE, fwd_from={"from_name": "n", "date": 1},
                       reply_to={"msg_id": 1, "peer": CHANNEL, "quote": "zz"},
                       media={"kind": "contact", "phone_number": "+1", "user_id": 1}),
        encode_message(id=3, peer_id=BOB, date=DATE, text="legacy", from_id=("user", 1), reply_to=2,
                       media={"kind": "venue", "lat": 0.0, "long": 0.0, "title": "t"}, layer="layer118"),
        encode_service_message(id=4, peer_id=BOB, date=DATE, action={"kind": "phone_call", "call_id": 1,
                                                                    "duration": 3, "reason": "busy"}),
    ]


@pytest.mark.parametrize("blob", _fully_read_messages())
def test_every_truncation_raises(blob):
    decode_message(blob)
    for cut in range(len(blob)):
        with pytest.raises(TLDecodeError):
            decode_message(blob[:cut])


def test_truncated_error_names_the_field_and_offset():
    blob = encode_message(id=1, peer_id=BOB, date=DATE, text="hello world", from_id=ALICE)
    with pytest.raises(TLDecodeError, match=r"truncated: message\.message needs \d+ bytes at offset \d+") as info:
        decode_message(blob[:-4])
    assert info.value.partial["date"] == DATE and info.value.partial["message"] is None


def test_unknown_constructor_and_garbage():
    with pytest.raises(TLDecodeError, match="0xdeadbeef is not a known message constructor"):
        decode_message(tl_uint(0xDEADBEEF) + b"\x00" * 40)
    rng = random.Random(1234)
    for _ in range(2000):
        with pytest.raises(TLDecodeError):
            decode_message(bytes(rng.randrange(256) for _ in range(rng.randrange(0, 64))))
    with pytest.raises(TLDecodeError, match="must be bytes"):
        decode_message("not bytes")


def test_mutated_messages_fail_cleanly_and_fast():
    rng = random.Random(99)
    seeds = _fully_read_messages()
    start = time.monotonic()
    for _ in range(3000):
        blob = bytearray(rng.choice(seeds))
        for _ in range(rng.randrange(1, 4)):
            blob[rng.randrange(len(blob))] = rng.randrange(256)
        try:
            decode_message(bytes(blob))
        except TLDecodeError:
            pass
    assert time.monotonic() - start < 10


def test_huge_declared_lengths_are_refused_without_reading():
    body = tl_uint(0x7600B9D3) + tl_uint(0) + tl_uint(0) + tl_int(1) + tl_peer(BOB) + tl_int(DATE)
    with pytest.raises(TLDecodeError, match="truncated"):
        decode_message(body + b"\xfe\xff\xff\xff" + b"abc")
    chat_create = (tl_uint(0xBD47CBAD) + tl_string("t") + tl_uint(0x1CB5C415) + tl_int(2**31 - 1))
    with pytest.raises(TLDecodeError, match="vector of 2147483647 items cannot fit"):
        decode_message(encode_service_message(id=1, peer_id=BOB, date=DATE,
                                              action={"kind": "raw", "bytes": chat_create}))


def test_bad_nested_values():
    bad_peer = tl_uint(0x7600B9D3) + tl_uint(0) + tl_uint(0) + tl_int(1) + tl_uint(0x11111111) + tl_long(1)
    with pytest.raises(TLDecodeError, match="message.peer_id at offset 16: 0x11111111 is not a known Peer"):
        decode_message(bad_peer)
    bad_text = tl_uint(0x7600B9D3) + tl_uint(0) + tl_uint(0) + tl_int(1) + tl_peer(BOB) + tl_int(DATE) + tl_bytes(
        b"\xff\xfe")
    with pytest.raises(TLDecodeError, match="message.message at offset .* is not valid UTF-8") as info:
        decode_message(bad_text)
    assert info.value.partial["date"] == DATE
    bad_bool = (tl_uint(0x22EB6ABA) + tl_int(1) + tl_int(5) + tl_peer(BOB, legacy=True) + tl_uint(7))
    with pytest.raises(TLDecodeError, match="not a TL Bool"):
        decode_message(bad_bool)


# --- users ------------------------------------------------------------------------------------------------------

def test_current_user():
    user = decode_user(encode_user(id=6_123_456_789, first_name="Ana", last_name="Lee", username="ana_l",
                                   phone="15550100", access_hash=-42, contact=True, bot=True))
    assert user == {"constructor": "0xb1b8cc83", "name": "user", "id": 6_123_456_789, "first_name": "Ana",
                    "last_name": "Lee", "username": "ana_l", "phone": "15550100", "self": False, "contact": True,
                    "mutual_contact": False, "deleted": False, "bot": True}


def test_user_without_optional_fields_and_deleted():
    user = decode_user(encode_user(id=1, first_name="Deleted Account", deleted=True))
    assert (user["last_name"], user["username"], user["phone"], user["deleted"]) == (None, None, None, True)


def test_legacy_users():
    old = decode_user(encode_user(id=123456, first_name="Old", username="old1", phone="4930", layer="layer132"))
    assert (old["name"], old["id"], old["username"], old["phone"]) == ("user_layer132", 123456, "old1", "4930")
    oldest = decode_user(encode_user(id=99, first_name="A", last_name="B", username="", phone="1", layer="layer30"))
    assert (oldest["name"], oldest["first_name"], oldest["phone"], oldest["deleted"]) == (
        "user_contact_layer30", "A", "1", None)


def test_user_errors():
    with pytest.raises(TLDecodeError, match="not a known user constructor"):
        decode_user(tl_uint(0x01020304) + b"\x00" * 12)
    blob = encode_user(id=5, first_name="Zed", phone="123")
    with pytest.raises(TLDecodeError) as info:
        decode_user(blob[:-2])
    assert info.value.partial["id"] == 5 and info.value.partial["phone"] is None
