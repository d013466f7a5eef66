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


# --- every constructor in the tables, from minimal bodies written here by hand ----------------------------------

def _u(*values):
    return b"".join(tl_uint(v) for v in values)


P64, P32 = tl_peer(BOB), tl_peer(("user", 777), legacy=True)
TEXT, FROM32, TRUE, FALSE = tl_string("body"), tl_int(31), tl_uint(0x997275B5), tl_uint(0xBC799737)
EMPTY_MEDIA = tl_uint(0x3DED6320)
ACTION = tl_uint(0x9FBAB604)  # history_clear
_D = tl_int(DATE)
MESSAGE_BODIES = {  # constructor: body after the constructor id, all optional flags clear
    **{cid: _u(0, 0) + tl_int(1) + P64 + _D + TEXT for cid in (
        0x7600B9D3, 0x95EF6F2B, 0x3AE56482, 0x9CB490E9, 0xB92F76CF, 0x9815CEC8, 0xEABCDD4D, 0x96FDBBE9,
        0x94345242, 0xBDE09C2E, 0x2357BF25)},
    **{cid: _u(0) + tl_int(1) + P64 + _D + TEXT for cid in (
        0xA66C7EFC, 0x1E4C8A69, 0x76BEC211, 0x38116EE0, 0x85D6CBE2, 0xBCE383D2, 0x58AE39C9)},
    **{cid: _u(0) + tl_int(1) + P32 + _D + TEXT for cid in (
        0xF52E6B7F, 0x452C0E65, 0x44F9B43D, 0x90DDDC11, 0xC09BE45F, 0xC992E15C, 0x5BA66C13)},
    0x2BEBFA86: _u(0) + tl_int(1) + FROM32 + P32 + _D + TEXT,
    **{cid: _u(0) + tl_int(1) + FROM32 + P32 + _D + TEXT + EMPTY_MEDIA for cid in (
        0xF07814C8, 0xC3060325, 0xA7AB1991, 0x567699B3)},
    0xA367E716: _u(0) + tl_int(1) + tl_int(5) + tl_int(DATE - 1) + FROM32 + P32 + _D + TEXT + EMPTY_MEDIA,
    0x22EB6ABA: tl_int(1) + FROM32 + P32 + TRUE + FALSE + _D + TEXT + EMPTY_MEDIA,
    0x05F46804: tl_int(1) + tl_int(5) + tl_int(DATE - 1) + FROM32 + P32 + TRUE + FALSE + _D + TEXT + EMPTY_MEDIA,
    **{cid: _u(0) + tl_int(1) + tl_int(60) + FROM32 + P64 + _D + TEXT + EMPTY_MEDIA for cid in (
        0x555555FA, 0x555555F9, 0x555555F8)},
    **{cid: _u(0) + tl_int(1) + P64 + _D + ACTION for cid in (
        0x7A800E0A, 0xD3D28540, 0x2B085862, 0x286FA604)},
    **{cid: _u(0) + tl_int(1) + P32 + _D + ACTION for cid in (0x9E19A1F6, 0xC06B9607)},
    0x1D86F70E: _u(0) + tl_int(1) + FROM32 + P32 + _D + ACTION,
    0x9F8D60BB: tl_int(1) + FROM32 + P32 + FALSE + TRUE + _D + ACTION,
    0x90A6CA84: _u(0) + tl_int(1),
    0x83E5DE54: tl_int(1),
}


@pytest.mark.parametrize("constructor", sorted(MESSAGE_BODIES), ids=hex)
def test_every_message_constructor(constructor):
    msg = decode_message(tl_uint(constructor) + MESSAGE_BODIES[constructor])
    assert msg["constructor"] == f"0x{constructor:08x}" and msg["id"] == 1
    if msg["type"] == "empty":
        return
    assert msg["date"] == DATE and msg["peer_id"]["id"] == 777
    if msg["type"] == "service":
        assert msg["action"]["kind"] == "history_clear" and msg["message"] is None
    else:
        assert msg["message"] == "body"
    if msg["name"] in ("message_layer16", "message_forwarded_layer16"):
        assert msg["out"] is True
    if "forwarded" in msg["name"]:
        assert msg["fwd_from"] == {"kind": "fwd_inline", "from_id": {"kind": "user", "id": 5}, "date": DATE - 1}
    if FROM32 in MESSAGE_BODIES[constructor]:
        assert msg["from_id"] == {"kind": "user", "id": 31}
    assert msg["secret"] is (constructor in (0x555555FA, 0x555555F9, 0x555555F8))


_S = tl_string
MEDIA_BODIES = {  # constructor: (body, expected fields beyond kind/constructor)
    0x3DED6320: (b"", {}),
    0x9F84F49E: (b"", {}),
    0x56E0D474: (_u(0xB2A2F663, 1) + struct.pack("<ddq", 2.0, 1.0, 9) + tl_int(50),
                 {"lat": 1.0, "long": 2.0, "accuracy_radius": 50}),
    0xB940C666: (_u(3, 0x2049D70C) + struct.pack("<dd", 4.0, 3.0) + tl_int(90) + tl_int(900) + tl_int(100),
                 {"lat": 3.0, "long": 4.0, "heading": 90, "period": 900, "proximity_notification_radius": 100}),
    0x7C3C2609: (_u(0x0296F104) + struct.pack("<ddq", 6.0, 5.0, 1) + tl_int(60), {"lat": 5.0, "long": 6.0,
                                                                                  "period": 60}),
    0x2EC0533F: (_u(0x1117DD5F) + _S("T") + _S("A") + _S("P") + _S("V") + _S("bar"),
                 {"lat": None, "long": None, "title": "T", "address": "A", "venue_type": "bar"}),
    0x7912B71F: (_u(0x1117DD5F) + _S("T") + _S("A") + _S("P") + _S("V"), {"venue_id": "V"}),
    0x70322949: (_S("+1") + _S("F") + _S("L") + _S("") + tl_long(2**40), {"phone_number": "+1", "user_id": 2**40}),
    0xCBF24940: (_S("+2") + _S("F") + _S("L") + _S("vc") + tl_int(7), {"vcard": "vc", "user_id": 7}),
    0x5E7D2F39: (_S("+3") + _S("F") + _S("L") + tl_int(8), {"first_name": "F", "last_name": "L", "user_id": 8}),
    0x3F7EE58B: (tl_int(6) + _S("🎲"), {"value": 6, "emoticon": "🎲"}),
    0x638FE46B: (tl_int(3), {"value": 3}),
    0xDDF10C3B: (_u(0, 0x211A1788, 1) + tl_long(5) + _S("https://e.test"),
                 {"webpage": {"kind": "empty", "constructor": "0x211a1788", "id": 5, "url": "https://e.test"}}),
    0xA32DD600: (_u(0xEB1477E8) + tl_long(5), {"webpage": {"kind": "empty_layer165", "constructor": "0xeb1477e8",
                                                           "id": 5}}),
}
OPAQUE_MEDIA = {
    0x695150D7: "photo", 0xB5223B0F: "photo", 0x3D8CE53D: "photo", 0xC8C45A2A: "photo",
    0x52D8CCD9: "document", 0xDD570BD5: "document", 0x4CF4D72D: "document", 0x9CB070D7: "document",
    0x7C4414D3: "document", 0xF3E02EA8: "document", 0x2FDA2204: "document", 0xF6A548D3: "invoice",
    0x84551347: "invoice", 0x68CB6283: "story", 0xCBB20D88: "story", 0xAA073BEB: "giveaway", 0xDAAD85B0: "giveaway",
    0x58260664: "giveaway", 0xCEAA3EA1: "giveaway_results", 0xC6991068: "giveaway_results", 0xA2D24290: "video",
    0x5BCF1675: "video", 0x4BD6E798: "poll", 0xFDB19008: "game", 0xA8852491: "paid_media", 0x8A53B014: "todo",
    0xCA5CAB89: "video_stream", 0xC6B68300: "audio",
}


def _with_reply_media(media: bytes) -> bytes:
    """A current message whose reply header quotes ``media``; date and text follow it."""
    return (_u(0x7600B9D3, 1 << 3, 0) + tl_int(1) + P64 + _u(0x1B97DD66, (1 << 4) | (1 << 8)) + tl_int(2) + media
            + _D + TEXT)


@pytest.mark.parametrize("constructor", sorted(MEDIA_BODIES), ids=hex)
def test_every_decoded_media_constructor_consumes_exactly_its_bytes(constructor):
    body, expected = MEDIA_BODIES[constructor]
    msg = decode_message(_with_reply_media(tl_uint(constructor) + body))
    media = msg["reply_header"]["reply_media"]
    assert (msg["date"], msg["message"]) == (DATE, "body")
    assert media["constructor"] == f"0x{constructor:08x}"
    assert {key: media[key] for key in expected} == expected


@pytest.mark.parametrize("constructor", sorted(OPAQUE_MEDIA), ids=hex)
def test_every_named_media_constructor(constructor):
    top = decode_message(_u(0x7600B9D3, 1 << 9, 0) + tl_int(1) + P64 + _D + TEXT + tl_uint(constructor) + b"\0" * 8)
    assert top["media"] == {"kind": OPAQUE_MEDIA[constructor], "constructor": f"0x{constructor:08x}"}
    with pytest.raises(TLDecodeError, match=f"reply_media \\({OPAQUE_MEDIA[constructor]}"):
        decode_message(_with_reply_media(tl_uint(constructor) + b"\0" * 8))


FWD_BODIES = {  # constructor: body with from (a peer or 32-bit user id) and date; every other flag clear
    0x4E4DF4BB: _u(1) + P64 + _D,
    0x5F777DCE: _u(1 | 32) + P64 + _S("Bob") + _D,
    0x353A686B: _u(1 | 64) + tl_int(777) + _D + _S("psa"),
    0xEC338270: _u(1 | 16) + tl_int(777) + _D + P64 + tl_int(12),
    0x559EBE6D: _u(1 | 2 | 4) + tl_int(777) + _D + tl_int(100) + tl_int(12),
    0xFADFF4AC: _u(1 | 8) + tl_int(777) + _D + _S("sig"),
    0xC786DDCB: _u(1) + tl_int(777) + _D,
}


@pytest.mark.parametrize("constructor", sorted(FWD_BODIES), ids=hex)
def test_every_forward_header(constructor):
    msg = decode_message(_u(0x7600B9D3, 1 << 2, 0) + tl_int(1) + P64 + tl_uint(constructor) + FWD_BODIES[constructor]
                         + _D + TEXT)
    assert msg["fwd_from"]["from_id"] == {"kind": "user", "id": 777} and msg["fwd_from"]["date"] == DATE
    assert msg["message"] == "body"


ENTITY_BODIES = {
    **{cid: tl_int(0) + tl_int(4) for cid in (
        0xBB92BA95, 0xFA04579D, 0x6F635B0D, 0x6CEF8AC7, 0x6ED02538, 0x64E475C2, 0xBD610BC9, 0x826F8B60, 0x28A20571,
        0x9B69E34B, 0x4C4E743F, 0x9C4E7E8B, 0xBF0693D4, 0x761E6AF4, 0x32CA960F, 0x71777116, 0x0652C1C5, 0x020DF5D0)},
    0x73924BE0: tl_int(0) + tl_int(4) + _S("python"),
    0x76A6D327: tl_int(0) + tl_int(4) + _S("https://e.test"),
    0xDC7B1140: tl_int(0) + tl_int(4) + tl_long(2**33),
    0x352DCA58: tl_int(0) + tl_int(4) + tl_int(5),
    0xC8CF05F8: tl_int(0) + tl_int(4) + tl_long(1),
    0xF1CCAAAC: _u(1) + tl_int(0) + tl_int(4),
    0x904AC7C7: _u(0) + tl_int(0) + tl_int(4) + _D,
    0xC6C1E5A7: tl_int(0) + tl_int(4) + _S("old"),
}


def test_every_quote_entity_consumes_exactly_its_bytes():
    entities = b"".join(tl_uint(cid) + body for cid, body in ENTITY_BODIES.items())
    header = (_u(0x6EEBCABD, (1 << 4) | (1 << 6) | (1 << 7)) + tl_int(2) + _S("quote") + _u(0x1CB5C415)
              + tl_int(len(ENTITY_BODIES)) + entities)
    msg = decode_message(_u(0x7600B9D3, 1 << 3, 0) + tl_int(1) + P64 + header + _D + TEXT)
    quoted = msg["reply_header"]["quote_entities"]
    assert [e["constructor"] for e in quoted] == [f"0x{cid:08x}" for cid in ENTITY_BODIES]
    assert all(e["length"] == 4 for e in quoted) and msg["message"] == "body"


REPLY_BODIES = {  # constructor: (body, expected reply_to)
    0x1B97DD66: (_u(1 << 4 | 1 << 11 | 1 << 12) + tl_int(2) + tl_int(9) + tl_bytes(b"\x01\x02"), 2),
    0x6917560B: (_u(1 << 4 | 1 << 10 | 1 << 11) + tl_int(2) + tl_int(0) + tl_int(9), 2),
    0xAFBC09DB: (_u(1 << 4 | 1 << 1 | 1 << 10) + tl_int(2) + tl_int(7) + tl_int(0), 2),
    0x6EEBCABD: (_u(1 << 0 | 1 << 5) + P64 + _u(0xC786DDCB, 0) + _D, None),
    0xA6D57763: (_u(1 << 0 | 1 << 1) + tl_int(3) + P64 + tl_int(7), 3),
    0x0E5AF939: (P64 + tl_int(44), None),
    0x9C98BFC1: (tl_long(777) + tl_int(44), None),
}


@pytest.mark.parametrize("constructor", sorted(REPLY_BODIES), ids=hex)
def test_every_reply_header(constructor):
    body, reply_to = REPLY_BODIES[constructor]
    msg = decode_message(_u(0x7600B9D3, 1 << 3, 0) + tl_int(1) + P64 + tl_uint(constructor) + body + _D + TEXT)
    assert msg["reply_to"] == reply_to and (msg["date"], msg["message"]) == (DATE, "body")


ACTION_BODIES = {  # constructor: (body, expected fields)
    0xB6AEF7B0: (b"", {}),
    0x80E11A7F: (_u(1 | 2) + tl_long(1) + _u(0x9FBBF1F7) + _S("slug") + tl_int(5),
                 {"call_id": 1, "duration": 5, "video": False,
                  "reason": {"kind": "migrate_conference_call", "constructor": "0x9fbbf1f7", "slug": "slug"}}),
    0xB5A1CE5A: (_S("t"), {"title": "t"}),
    0x95D2AC92: (_S("c"), {"title": "c"}),
    0xBD47CBAD: (_S("g") + _u(0x1CB5C415) + tl_int(1) + tl_long(9), {"users": [9]}),
    0x15CEFD00: (_u(0x1CB5C415) + tl_int(0), {"users": []}),
    0xA43F30CC: (tl_long(4), {"user_id": 4}),
    0x031224C3: (tl_long(4), {"inviter_id": 4}),
    0xEBBCA3CB: (b"", {}),
    0xE1037F92: (tl_long(4), {"channel_id": 4}),
    0xEA3948E9: (_S("m") + tl_long(4), {"chat_id": 4}),
    0x94BD38ED: (b"", {}),
    0x9FBAB604: (b"", {}),
    0x92A72876: (tl_long(4) + tl_int(10), {"score": 10}),
    0x4792929B: (b"", {}),
    0xFAE69F56: (_S("custom"), {"message": "custom"}),
    0xF3F25F76: (b"", {}),
    0x98E0D697: (P64 + tl_peer(ALICE) + tl_int(500), {"distance": 500, "to_id": peer(ALICE)}),
    0x3C134D7B: (_u(1) + tl_int(86400) + tl_long(5), {"period": 86400, "auto_setting_from": 5}),
    0x47DD8079: (_S("btn") + _S("{}"), {"text": "btn", "data": "{}"}),
    0xB4C38CB5: (_S("btn"), {"text": "btn"}),
}
OPAQUE_ACTIONS = {0x7FCB13A8: "chat_edit_photo", 0x7A0D7F42: "group_call", 0xB3A07661: "group_call_scheduled",
                  0x502F92F7: "invite_to_group_call", 0x0D999256: "topic_create", 0x57DE635E: "suggest_profile_photo"}


@pytest.mark.parametrize("constructor", sorted(ACTION_BODIES) + sorted(OPAQUE_ACTIONS), ids=hex)
def test_every_action(constructor):
    body, expected = ACTION_BODIES.get(constructor, (b"\0" * 8, {}))
    action = decode_message(_u(0x7A800E0A, 0) + tl_int(1) + P64 + _D + tl_uint(constructor) + body)["action"]
    assert action["constructor"] == f"0x{constructor:08x}"
    assert {key: action[key] for key in expected} == expected
    if constructor in OPAQUE_ACTIONS:
        assert action == {"kind": OPAQUE_ACTIONS[constructor], "constructor": f"0x{constructor:08x}"}


_N = _S("N")
USER_BODIES = {  # constructor: body carrying id 77 and first name "N" where the layout has one
    **{cid: _u(2, 0) + tl_long(77) + _N for cid in (
        0xB1B8CC83, 0x31774388, 0x020B1422, 0x4B46C37E, 0x83314FCA, 0x215C4438, 0xEB602F25, 0xABB5F120, 0x8F97C628)},
    **{cid: _u(2) + tl_long(77) + _N for cid in (0x5D99ADEE, 0x3FF6ECB0)},
    **{cid: _u(2) + tl_int(77) + _N for cid in (0x938458C1, 0x2E13F4C3, 0xD10D979A, 0x603539B4, 0x22E49072)},
    0x720535EC: tl_int(77) + _N + _S("L") + _S("1"),
    0xF2FB8319: tl_int(77) + _N + _S("L") + tl_long(0) + _S("1"),
    0x22E8CEB0: tl_int(77) + _N + _S("L") + tl_long(0) + _S("1"),
    0x5214C89D: tl_int(77) + _N + _S("L") + tl_long(0),
    0xB29AD7CC: tl_int(77) + _N + _S("L"),
    0x7007B451: tl_int(77) + _N + _S("L") + _S("u") + _S("1"),
    0x1C60E608: tl_int(77) + _N + _S("L") + _S("u") + _S("1"),
    0xCAB35E18: tl_int(77) + _N + _S("L") + _S("u") + tl_long(0) + _S("1"),
    0xD9CCC4EF: tl_int(77) + _N + _S("L") + _S("u") + tl_long(0) + _S("1"),
    0x075CF7A8: tl_int(77) + _N + _S("L") + _S("u") + tl_long(0),
    0xD6016D7A: tl_int(77) + _N + _S("L") + _S("u"),
    0xD3BC4B7A: tl_long(77),
    0x200250BA: tl_int(77),
}


@pytest.mark.parametrize("constructor", sorted(USER_BODIES), ids=hex)
def test_every_user_constructor(constructor):
    user = decode_user(tl_uint(constructor) + USER_BODIES[constructor])
    assert user["id"] == 77
    assert user["first_name"] == (None if "empty" in user["name"] else "N")
    if constructor in (0x720535EC, 0xF2FB8319, 0x22E8CEB0, 0x7007B451, 0x1C60E608, 0xCAB35E18, 0xD9CCC4EF):
        assert user["phone"] == "1"


@pytest.mark.parametrize("constructor, rank, guestchat", [
    (0x7600B9D3, True, True), (0x95EF6F2B, True, True), (0x3AE56482, True, False), (0x9CB490E9, False, False),
])
def test_sender_rank_and_guest_chat_fields_of_recent_layers(constructor, rank, guestchat):
    flags = (1 << 8) | (1 << 29) | (1 << 28) | (1 << 11)  # from_id, from_boosts_applied, saved_peer_id, via_bot_id
    flags2 = (1 << 0) | (rank << 12) | (guestchat << 19)  # via_business_bot_id, from_rank, guestchat_via_from
    blob = (_u(constructor, flags, flags2) + tl_int(1) + tl_peer(ALICE) + tl_int(3)
            + (_S("admin") if rank else b"") + P64 + tl_peer(GROUP) + tl_long(100) + tl_long(200)
            + (tl_peer(CHANNEL) if guestchat else b"") + _D + TEXT)
    msg = decode_message(blob)
    assert (msg["from_id"], msg["date"], msg["message"]) == (peer(ALICE), DATE, "body")


_PAGE_HEAD = tl_long(5) + _S("https://e.test/job") + _S("e.test/job")
WEBPAGE_BODIES = {  # constructor: (body, expected url)
    0xE89C45B2: (_u(4) + _PAGE_HEAD + tl_int(0) + _S("Title"), "https://e.test/job"),
    0xFA64E172: (_u(4) + _PAGE_HEAD + tl_int(0) + _S("Title"), "https://e.test/job"),
    0x5F07B4BC: (_u(4) + _PAGE_HEAD + tl_int(0) + _S("Title"), "https://e.test/job"),
    0xCA820ED7: (_u(4) + _PAGE_HEAD + _S("Title"), "https://e.test/job"),
    0xA31EA0B5: (_u(4) + _PAGE_HEAD + _S("Title"), "https://e.test/job"),
    0x211A1788: (_u(1) + tl_long(5) + _S("https://e.test/job"), "https://e.test/job"),
    0xEB1477E8: (tl_long(5), None),
    0xB0D13E47: (_u(1) + tl_long(5) + _S("https://e.test/job") + _D, "https://e.test/job"),
    0xC586DA1C: (tl_long(5) + _D, None),
    0x7311CA11: (_u(1) + tl_int(3), None),
    0x85849473: (b"", None),
}


@pytest.mark.parametrize("constructor", sorted(WEBPAGE_BODIES), ids=hex)
def test_every_webpage_constructor(constructor):
    body, url = WEBPAGE_BODIES[constructor]
    msg = decode_message(_u(0x7600B9D3, 1 << 9, 0) + tl_int(1) + P64 + _D + TEXT + _u(0xDDF10C3B, 0, constructor)
                         + body)
    page = msg["media"]["webpage"]
    assert page["constructor"] == f"0x{constructor:08x}" and page.get("url") == url
    if url and "page" in page["kind"]:
        assert page["title"] == "Title"


@pytest.mark.parametrize("reason", ["missed", "disconnect", "hangup", "busy"])
def test_every_call_discard_reason(reason):
    constructor = {"missed": 0x85E42301, "disconnect": 0xE095C1A0, "hangup": 0x57ADC690, "busy": 0xFAF7E8C9}[reason]
    action = decode_message(_u(0x7A800E0A, 0) + tl_int(1) + P64 + _D + _u(0x80E11A7F, 1) + tl_long(1)
                            + tl_uint(constructor))["action"]
    assert action["reason"] == {"kind": reason, "constructor": f"0x{constructor:08x}"}


def test_every_table_entry_is_exercised_above():
    from parsers.decoders.telegram_tl import _FAMILIES, _MESSAGES, _USERS
    assert set(MESSAGE_BODIES) == set(_MESSAGES) and set(USER_BODIES) == set(_USERS)
    assert set(MEDIA_BODIES) | set(OPAQUE_MEDIA) == set(_FAMILIES["media"])
    assert set(ACTION_BODIES) | set(OPAQUE_ACTIONS) == set(_FAMILIES["action"])
    assert set(FWD_BODIES) == set(_FAMILIES["fwd_header"]) and set(REPLY_BODIES) == set(_FAMILIES["reply_header"])
    assert set(ENTITY_BODIES) == set(_FAMILIES["entity"]) and set(WEBPAGE_BODIES) == set(_FAMILIES["webpage"])
