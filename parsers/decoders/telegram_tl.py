"""Decoder for the TL-serialized objects Telegram for Android keeps in ``cache4.db``.

``messages_v2.data`` holds one ``TLRPC.Message`` and ``users.data`` one ``TLRPC.User``, each written by the client's
own ``serializeToStream``: a little-endian uint32 constructor id, then the fields of that constructor. Optional
fields hang off ``flags``/``flags2`` bit fields; strings are TL bytes (a length byte below 254, or 254 and a 3-byte
length, then the data, padded to a multiple of 4).

The database keeps every row in whatever layout the app version that wrote it used, so one device holds many
constructor versions side by side. The layouts below list, per constructor id, the fields in wire order, in TL
schema notation (``name:flags.N?type``). They were taken from the public Telegram for Android source (DrKLO/Telegram:
``TLRPC.java``, ``tl/legacy/TL_legacy_message.java`` and the generated ``TlGen_*.kt`` test models, which spell out the
field order of every legacy layer). A layout ending in ``...`` is read only as far as the fields this project uses:
for a message that is up to and including its media, for a user up to the phone number.

Everything after a ``...`` object is unknown territory, because its length is not known. That only matters where a
nested object is not the last thing read: a reply header that quotes media from another chat (``reply_media``) with
a photo or document inside cannot be stepped over, so such a message stops there with ``TLDecodeError``, whose
``partial`` holds the fields read before it (id, sender, chat).

Hostile input: every read is bounds-checked against the buffer, vector counts are bounded by the bytes left, the
object graph has no cycles, and text must be valid UTF-8 (the client writes Java strings as UTF-8). Anything else is
``TLDecodeError`` with the offset; nothing is guessed.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass

__all__ = ["TLDecodeError", "decode_message", "decode_user"]

_VECTOR = 0x1CB5C415
_BOOL_TRUE = 0x997275B5
_BOOL_FALSE = 0xBC799737


class TLDecodeError(ValueError):
    """The bytes are not a TL object this decoder knows, or are cut short. ``partial`` holds what was read first."""

    def __init__(self, message: str, partial: dict | None = None):
        super().__init__(message)
        self.partial = partial


# --- wire reader ------------------------------------------------------------------------------------------------

class _Reader:
    def __init__(self, data: bytes):
        self._data = bytes(data)
        self.pos = 0
        self._lost: str | None = None

    def take(self, n: int, what: str) -> bytes:
        if self._lost:
            raise TLDecodeError(f"cannot read {what}: {self._lost} comes before it and is not decoded, "
                                f"so where it ends is unknown")
        left = len(self._data) - self.pos
        if n > left:
            raise TLDecodeError(f"truncated: {what} needs {n} bytes at offset {self.pos}, {left} left")
        chunk = self._data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def lose(self, reason: str) -> None:
        """Mark the position as unknown: the object just started is only partly decoded."""
        self._lost = reason

    def remaining(self) -> int:
        return len(self._data) - self.pos

    def uint32(self, what: str) -> int:
        return struct.unpack("<I", self.take(4, what))[0]

    def int32(self, what: str) -> int:
        return struct.unpack("<i", self.take(4, what))[0]

    def int64(self, what: str) -> int:
        return struct.unpack("<q", self.take(8, what))[0]

    def double(self, what: str) -> float:
        return struct.unpack("<d", self.take(8, what))[0]

    def tl_bytes(self, what: str) -> bytes:
        length = self.take(1, what)[0]
        header = 1
        if length >= 254:  # the client's reader treats 255 like 254: a 3-byte length follows
            length = int.from_bytes(self.take(3, what), "little")
            header = 4
        body = self.take(length, what)
        self.take(-(header + length) % 4, what)
        return body

    def string(self, what: str) -> str:
        at = self.pos
        raw = self.tl_bytes(what)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TLDecodeError(f"{what} at offset {at} is not valid UTF-8 ({exc.reason})") from None

    def boolean(self, what: str) -> bool:
        at = self.pos
        value = self.uint32(what)
        if value == _BOOL_TRUE:
            return True
        if value == _BOOL_FALSE:
            return False
        raise TLDecodeError(f"{what} at offset {at}: 0x{value:08x} is not a TL Bool")

    def vector_count(self, what: str, item_size: int) -> int:
        at = self.pos
        magic = self.uint32(what)
        if magic != _VECTOR:
            raise TLDecodeError(f"{what} at offset {at}: expected a vector (0x{_VECTOR:08x}), got 0x{magic:08x}")
        count = self.int32(what)
        if count < 0 or count * item_size > self.remaining():
            raise TLDecodeError(f"{what} at offset {at}: vector of {count} items cannot fit in "
                                f"{self.remaining()} bytes")
        return count


# --- layouts ----------------------------------------------------------------------------------------------------

_FIELD = re.compile(r"^(\w+):(?:(\w+)\.(\d+)\?)?([#\w]+)$")
_SCALARS = {"#", "true", "int", "long", "double", "string", "bytes", "bool", "longs",
            "peer", "user32", "user64", "channel32", "entities"}
# Field types that are whole TL objects, read by constructor id from the family named here.
_OBJECT_TYPES = {"fwd": "fwd_header", "reply": "reply_header", "media": "media", "geo": "geo_point",
                 "webpage": "webpage", "action": "action", "reason": "discard_reason"}


@dataclass(frozen=True)
class _Shape:
    name: str
    steps: tuple | None  # None: nothing of the body is decoded
    truncated: bool  # the layout stops before the end of the object


def _shape(name: str, spec: str | None) -> _Shape:
    if spec is None:
        return _Shape(name, None, True)
    steps, flags, truncated = [], set(), False
    for token in spec.split():
        if truncated:
            raise ValueError(f"{name}: '...' must end the layout")
        if token == "...":
            truncated = True
            continue
        match = _FIELD.match(token)
        if not match:
            raise ValueError(f"{name}: bad field {token!r}")
        field, flag_field, bit, kind = match.groups()
        if kind not in _SCALARS and kind not in _OBJECT_TYPES:
            raise ValueError(f"{name}: unknown type {kind!r}")
        if flag_field is not None and flag_field not in flags:
            raise ValueError(f"{name}: {field} depends on {flag_field}, which is not read before it")
        if kind == "#":
            flags.add(field)
        steps.append((field, kind, (flag_field, int(bit)) if flag_field else None))
    return _Shape(name, tuple(steps), truncated)


def _family(entries: dict[int, tuple[str, str | None]]) -> dict[int, _Shape]:
    return {cid: _shape(name, spec) for cid, (name, spec) in entries.items()}


_PEERS = {
    0x59511722: ("user", "long"), 0x36C6019A: ("chat", "long"), 0xA2A5371E: ("channel", "long"),
    # layer 132 and older: 32-bit ids
    0x9DB1BC6D: ("user", "int"), 0xBAD0E5BB: ("chat", "int"), 0xBDDDE532: ("channel", "int"),
}

_FWD_SAVED = "saved_from_peer:flags.4?peer saved_from_msg_id:flags.4?int"
_FWD_OLD = "flags:# from_id:flags.0?user32"
_FAMILIES: dict[str, dict[int, _Shape]] = {
    "fwd_header": _family({
        0x4E4DF4BB: ("fwd_header", "flags:# from_id:flags.0?peer from_name:flags.5?string date:int "
                     "channel_post:flags.2?int post_author:flags.3?string " + _FWD_SAVED
                     + " saved_from_id:flags.8?peer saved_from_name:flags.9?string saved_date:flags.10?int"
                     " psa_type:flags.6?string"),
        0x5F777DCE: ("fwd_header_layer169", "flags:# from_id:flags.0?peer from_name:flags.5?string date:int "
                     "channel_post:flags.2?int post_author:flags.3?string " + _FWD_SAVED + " psa_type:flags.6?string"),
        0x353A686B: ("fwd_header_layer118", _FWD_OLD + " from_name:flags.5?string date:int "
                     "channel_id:flags.1?channel32 channel_post:flags.2?int post_author:flags.3?string "
                     + _FWD_SAVED + " psa_type:flags.6?string"),
        0xEC338270: ("fwd_header_layer112", _FWD_OLD + " from_name:flags.5?string date:int "
                     "channel_id:flags.1?channel32 channel_post:flags.2?int post_author:flags.3?string "
                     + _FWD_SAVED),
        0x559EBE6D: ("fwd_header_layer96", _FWD_OLD + " date:int channel_id:flags.1?channel32 channel_post:flags.2?int "
                     "post_author:flags.3?string " + _FWD_SAVED),
        0xFADFF4AC: ("fwd_header_layer72", _FWD_OLD + " date:int channel_id:flags.1?channel32 channel_post:flags.2?int "
                     "post_author:flags.3?string"),
        0xC786DDCB: ("fwd_header_layer69", _FWD_OLD + " date:int channel_id:flags.1?channel32 "
                     "channel_post:flags.2?int"),
    }),
    "reply_header": _family({
        0x1B97DD66: ("reply_header", "flags:# reply_to_msg_id:flags.4?int reply_to_peer_id:flags.0?peer "
                     "reply_from:flags.5?fwd reply_media:flags.8?media reply_to_top_id:flags.1?int "
                     "quote_text:flags.6?string quote_entities:flags.7?entities quote_offset:flags.10?int "
                     "todo_item_id:flags.11?int poll_option:flags.12?bytes"),
        0x6917560B: ("reply_header_layer223", "flags:# reply_to_msg_id:flags.4?int reply_to_peer_id:flags.0?peer "
                     "reply_from:flags.5?fwd reply_media:flags.8?media reply_to_top_id:flags.1?int "
                     "quote_text:flags.6?string quote_entities:flags.7?entities quote_offset:flags.10?int "
                     "todo_item_id:flags.11?int"),
        0xAFBC09DB: ("reply_header_layer207", "flags:# reply_to_msg_id:flags.4?int reply_to_peer_id:flags.0?peer "
                     "reply_from:flags.5?fwd reply_media:flags.8?media reply_to_top_id:flags.1?int "
                     "quote_text:flags.6?string quote_entities:flags.7?entities quote_offset:flags.10?int"),
        0x6EEBCABD: ("reply_header_layer166", "flags:# reply_to_msg_id:flags.4?int reply_to_peer_id:flags.0?peer "
                     "reply_from:flags.5?fwd reply_media:flags.8?media reply_to_top_id:flags.1?int "
                     "quote_text:flags.6?string quote_entities:flags.7?entities"),
        0xA6D57763: ("reply_header_layer165", "flags:# reply_to_msg_id:int reply_to_peer_id:flags.0?peer "
                     "reply_to_top_id:flags.1?int"),
        0x0E5AF939: ("reply_story_header", "peer:peer story_id:int"),
        0x9C98BFC1: ("reply_story_header_layer173", "peer:user64 story_id:int"),
    }),
    "entity": _family({
        **{cid: (name, "offset:int length:int") for cid, name in {
            0xBB92BA95: "unknown", 0xFA04579D: "mention", 0x6F635B0D: "hashtag", 0x6CEF8AC7: "bot_command",
            0x6ED02538: "url", 0x64E475C2: "email", 0xBD610BC9: "bold", 0x826F8B60: "italic", 0x28A20571: "code",
            0x9B69E34B: "phone", 0x4C4E743F: "cashtag", 0x9C4E7E8B: "underline", 0xBF0693D4: "strike",
            0x761E6AF4: "bank_card", 0x32CA960F: "spoiler", 0x71777116: "diff_insert", 0x0652C1C5: "diff_delete",
            0x020DF5D0: "blockquote_layer180"}.items()},
        0x73924BE0: ("pre", "offset:int length:int language:string"),
        0x76A6D327: ("text_url", "offset:int length:int url:string"),
        0xDC7B1140: ("mention_name", "offset:int length:int user_id:long"),
        0x352DCA58: ("mention_name_layer132", "offset:int length:int user_id:int"),
        0xC8CF05F8: ("custom_emoji", "offset:int length:int document_id:long"),
        0xF1CCAAAC: ("blockquote", "flags:# collapsed:flags.0?true offset:int length:int"),
        0x904AC7C7: ("formatted_date", "flags:# offset:int length:int date:int"),
        0xC6C1E5A7: ("diff_replace", "offset:int length:int old_text:string"),
    }),
    "geo_point": _family({
        0x1117DD5F: ("geo_point_empty", ""),
        0xB2A2F663: ("geo_point", "flags:# long:double lat:double access_hash:long accuracy_radius:flags.0?int"),
        0x0296F104: ("geo_point_layer119", "long:double lat:double access_hash:long"),
        0x2049D70C: ("geo_point_layer81", "long:double lat:double"),
    }),
    "webpage": _family({
        0xE89C45B2: ("page", "flags:# id:long url:string display_url:string hash:int type:flags.0?string "
                     "site_name:flags.1?string title:flags.2?string description:flags.3?string ..."),
        0xFA64E172: ("page_layer107", "flags:# id:long url:string display_url:string hash:int type:flags.0?string "
                     "site_name:flags.1?string title:flags.2?string description:flags.3?string ..."),
        0x5F07B4BC: ("page_layer104", "flags:# id:long url:string display_url:string hash:int type:flags.0?string "
                     "site_name:flags.1?string title:flags.2?string description:flags.3?string ..."),
        0xCA820ED7: ("page_layer58", "flags:# id:long url:string display_url:string type:flags.0?string "
                     "site_name:flags.1?string title:flags.2?string description:flags.3?string ..."),
        0xA31EA0B5: ("page_layer34", "flags:# id:long url:string display_url:string type:flags.0?string "
                     "site_name:flags.1?string title:flags.2?string description:flags.3?string ..."),
        0x211A1788: ("empty", "flags:# id:long url:flags.0?string"),
        0xEB1477E8: ("empty_layer165", "id:long"),
        0xB0D13E47: ("pending", "flags:# id:long url:flags.0?string date:int"),
        0xC586DA1C: ("pending_layer165", "id:long date:int"),
        0x7311CA11: ("not_modified", "flags:# cached_page_views:flags.0?int"),
        0x85849473: ("not_modified_layer110", ""),
    }),
    # Media whose layout is None (photos, documents, polls, ...) are named but not decoded.
    "media": _family({
        0x3DED6320: ("empty", ""),
        0x9F84F49E: ("unsupported", ""),
        0x56E0D474: ("geo", "geo:geo"),
        0xB940C666: ("geo_live", "flags:# geo:geo heading:flags.0?int period:int "
                     "proximity_notification_radius:flags.1?int"),
        0x7C3C2609: ("geo_live", "geo:geo period:int"),
        0x2EC0533F: ("venue", "geo:geo title:string address:string provider:string venue_id:string "
                     "venue_type:string"),
        0x7912B71F: ("venue", "geo:geo title:string address:string provider:string venue_id:string"),
        0x70322949: ("contact", "phone_number:string first_name:string last_name:string vcard:string user_id:long"),
        0xCBF24940: ("contact", "phone_number:string first_name:string last_name:string vcard:string user_id:int"),
        0x5E7D2F39: ("contact", "phone_number:string first_name:string last_name:string user_id:int"),
        0x3F7EE58B: ("dice", "value:int emoticon:string"),
        0x638FE46B: ("dice", "value:int"),
        0xDDF10C3B: ("webpage", "flags:# webpage:webpage"),
        0xA32DD600: ("webpage", "webpage:webpage"),
        **{cid: ("photo", None) for cid in (0x695150D7, 0xB5223B0F, 0x3D8CE53D, 0xC8C45A2A)},
        **{cid: ("document", None) for cid in (0x52D8CCD9, 0xDD570BD5, 0x4CF4D72D, 0x9CB070D7, 0x7C4414D3,
                                               0xF3E02EA8, 0x2FDA2204)},
        **{cid: ("invoice", None) for cid in (0xF6A548D3, 0x84551347)},
        **{cid: ("story", None) for cid in (0x68CB6283, 0xCBB20D88)},
        **{cid: ("giveaway", None) for cid in (0xAA073BEB, 0xDAAD85B0, 0x58260664)},
        **{cid: ("giveaway_results", None) for cid in (0xCEAA3EA1, 0xC6991068)},
        **{cid: ("video", None) for cid in (0xA2D24290, 0x5BCF1675)},
        0x4BD6E798: ("poll", None),
        0xFDB19008: ("game", None),
        0xA8852491: ("paid_media", None),
        0x8A53B014: ("todo", None),
        0xCA5CAB89: ("video_stream", None),
        0xC6B68300: ("audio", None),
    }),
    "action": _family({
        0xB6AEF7B0: ("empty", ""),
        0x80E11A7F: ("phone_call", "flags:# video:flags.2?true call_id:long reason:flags.0?reason "
                     "duration:flags.1?int"),
        0xB5A1CE5A: ("chat_edit_title", "title:string"),
        0x7FCB13A8: ("chat_edit_photo", None),
        0x95D2AC92: ("channel_create", "title:string"),
        0xBD47CBAD: ("chat_create", "title:string users:longs"),
        0x15CEFD00: ("chat_add_user", "users:longs"),
        0xA43F30CC: ("chat_delete_user", "user_id:long"),
        0x031224C3: ("chat_joined_by_link", "inviter_id:long"),
        0xEBBCA3CB: ("chat_joined_by_request", ""),
        0xE1037F92: ("chat_migrate_to", "channel_id:long"),
        0xEA3948E9: ("channel_migrate_from", "title:string chat_id:long"),
        0x94BD38ED: ("pin_message", ""),
        0x9FBAB604: ("history_clear", ""),
        0x92A72876: ("game_score", "game_id:long score:int"),
        0x4792929B: ("screenshot_taken", ""),
        0xFAE69F56: ("custom_action", "message:string"),
        0xF3F25F76: ("contact_sign_up", ""),
        0x98E0D697: ("geo_proximity_reached", "from_id:peer to_id:peer distance:int"),
        0x7A0D7F42: ("group_call", None),
        0xB3A07661: ("group_call_scheduled", None),
        0x502F92F7: ("invite_to_group_call", None),
        0x3C134D7B: ("set_messages_ttl", "flags:# period:int auto_setting_from:flags.0?long"),
        0x0D999256: ("topic_create", None),
        0x57DE635E: ("suggest_profile_photo", None),
        0x47DD8079: ("web_view_data_sent_me", "text:string data:string"),
        0xB4C38CB5: ("web_view_data_sent", "text:string"),
    }),
    "discard_reason": _family({
        0x85E42301: ("missed", ""), 0xE095C1A0: ("disconnect", ""), 0x57ADC690: ("hangup", ""),
        0xFAF7E8C9: ("busy", ""), 0x9FBBF1F7: ("migrate_conference_call", "slug:string"),
    }),
}
# Families whose unknown constructors are reported by id rather than refused: they are the last thing read.
_OPEN_FAMILIES = {"media", "action"}

# Messages. Layouts stop after the media (or the action of a service message).
_TAIL = " reply_to:flags.3?reply date:int message:string media:flags.9?media ..."


def _flags2_message(rank: bool, guestchat: bool) -> str:
    return ("flags:# flags2:# out:flags.1?true id:int from_id:flags.8?peer from_boosts_applied:flags.29?int"
            + (" from_rank:flags2.12?string" if rank else "")
            + " peer_id:peer saved_peer_id:flags.28?peer fwd_from:flags.2?fwd via_bot_id:flags.11?long"
              " via_business_bot_id:flags2.0?long"
            + (" guestchat_via_from:flags2.19?peer" if guestchat else "") + _TAIL)


_PEER_FROM = "flags:# out:flags.1?true id:int from_id:flags.8?peer"
_INT_FROM = "flags:# out:flags.1?true id:int from_id:flags.8?user32 peer_id:peer"
_OLD_FWD = " fwd_from_id:flags.2?user32 fwd_date:flags.2?int reply_to_msg_id:flags.3?int date:int message:string"
_MESSAGES = _family({
    0x7600B9D3: ("message", _flags2_message(rank=True, guestchat=True)),
    0x95EF6F2B: ("message_layer226", _flags2_message(rank=True, guestchat=True)),
    0x3AE56482: ("message_layer224", _flags2_message(rank=True, guestchat=False)),
    **{cid: (name, _flags2_message(rank=False, guestchat=False)) for cid, name in {
        0x9CB490E9: "message_layer222", 0xB92F76CF: "message_layer220", 0x9815CEC8: "message_layer216",
        0xEABCDD4D: "message_layer205", 0x96FDBBE9: "message_layer199", 0x94345242: "message_layer195",
        0xBDE09C2E: "message_layer180", 0x2357BF25: "message_layer179"}.items()},
    0xA66C7EFC: ("message_layer176", _PEER_FROM + " from_boosts_applied:flags.29?int peer_id:peer "
                 "saved_peer_id:flags.28?peer fwd_from:flags.2?fwd via_bot_id:flags.11?long" + _TAIL),
    0x1E4C8A69: ("message_layer175", _PEER_FROM + " from_boosts_applied:flags.29?int peer_id:peer "
                 "saved_peer_id:flags.28?peer fwd_from:flags.2?fwd via_bot_id:flags.11?long" + _TAIL),
    0x76BEC211: ("message_layer173", _PEER_FROM + " peer_id:peer saved_peer_id:flags.28?peer fwd_from:flags.2?fwd "
                 "via_bot_id:flags.11?long" + _TAIL),
    **{cid: (name, _PEER_FROM + " peer_id:peer fwd_from:flags.2?fwd via_bot_id:flags.11?long" + _TAIL)
       for cid, name in {0x38116EE0: "message_layer169", 0x85D6CBE2: "message_layer135"}.items()},
    **{cid: (name, _PEER_FROM + " peer_id:peer fwd_from:flags.2?fwd via_bot_id:flags.11?int" + _TAIL)
       for cid, name in {0xBCE383D2: "message_layer131", 0x58AE39C9: "message_layer123"}.items()},
    **{cid: (name, _INT_FROM + " fwd_from:flags.2?fwd via_bot_id:flags.11?int reply_to_msg_id:flags.3?int date:int "
             "message:string media:flags.9?media ...") for cid, name in {
        0xF52E6B7F: "message_layer118", 0x452C0E65: "message_layer118_api", 0x44F9B43D: "message_layer104",
        0x90DDDC11: "message_layer72", 0xC09BE45F: "message_layer69"}.items()},
    0xC992E15C: ("message_layer47", _INT_FROM + " fwd_from_id:flags.2?peer fwd_date:flags.2?int "
                 "via_bot_id:flags.11?int reply_to_msg_id:flags.3?int date:int message:string media:flags.9?media ..."),
    0x5BA66C13: ("message_layer44", _INT_FROM + " fwd_from_id:flags.2?peer fwd_date:flags.2?int "
                 "reply_to_msg_id:flags.3?int date:int message:string media:flags.9?media ..."),
    0x2BEBFA86: ("message_layer37", "flags:# out:flags.1?true id:int from_id:user32 peer_id:peer" + _OLD_FWD
                 + " media:flags.9?media ..."),
    **{cid: (name, "flags:# out:flags.1?true id:int from_id:user32 peer_id:peer" + _OLD_FWD + " media:media ...")
       for cid, name in {0xF07814C8: "message_layer35", 0xC3060325: "message_layer33",
                         0xA7AB1991: "message_layer30"}.items()},
    0x567699B3: ("message_layer24", "flags:# out:flags.1?true id:int from_id:user32 peer_id:peer date:int "
                 "message:string media:media ..."),
    0xA367E716: ("message_forwarded_layer24", "flags:# out:flags.1?true id:int fwd_from_id:user32 fwd_date:int "
                 "from_id:user32 peer_id:peer date:int message:string media:media ..."),
    0x22EB6ABA: ("message_layer16", "id:int from_id:user32 peer_id:peer out:bool unread:bool date:int "
                 "message:string media:media ..."),
    0x05F46804: ("message_forwarded_layer16", "id:int fwd_from_id:user32 fwd_date:int from_id:user32 peer_id:peer "
                 "out:bool unread:bool date:int message:string media:media ..."),
    # Secret-chat messages: constructor ids local to the Android client, never sent over the wire.
    **{cid: (name, "flags:# out:flags.1?true id:int ttl:int from_id:user32 peer_id:peer date:int message:string "
             "media:media ...") for cid, name in {
        0x555555FA: "message_secret", 0x555555F9: "message_secret_layer72", 0x555555F8: "message_secret_old"}.items()},
    0x7A800E0A: ("message_service", _PEER_FROM + " peer_id:peer saved_peer_id:flags.28?peer reply_to:flags.3?reply "
                 "date:int action:action ..."),
    **{cid: (name, _PEER_FROM + " peer_id:peer reply_to:flags.3?reply date:int action:action ...") for cid, name in {
        0xD3D28540: "message_service_layer204", 0x2B085862: "message_service_layer195",
        0x286FA604: "message_service_layer123"}.items()},
    0x9E19A1F6: ("message_service_layer118", _INT_FROM + " reply_to_msg_id:flags.3?int date:int action:action ..."),
    0xC06B9607: ("message_service_layer48", _INT_FROM + " date:int action:action ..."),
    0x1D86F70E: ("message_service_layer37", "flags:# out:flags.1?true id:int from_id:user32 peer_id:peer date:int "
                 "action:action ..."),
    0x9F8D60BB: ("message_service_layer16", "id:int from_id:user32 peer_id:peer out:bool unread:bool date:int "
                 "action:action ..."),
    0x90A6CA84: ("message_empty", "flags:# id:int peer_id:flags.0?peer"),
    0x83E5DE54: ("message_empty_layer122", "id:int"),
})

_USER_FLAGS = ("self:flags.10?true contact:flags.11?true mutual_contact:flags.12?true deleted:flags.13?true "
               "bot:flags.14?true")
_USER_NAMES = ("access_hash:flags.0?long first_name:flags.1?string last_name:flags.2?string "
               "username:flags.3?string phone:flags.4?string ...")
_USERS = _family({
    **{cid: (name, f"flags:# flags2:# {_USER_FLAGS} id:long {_USER_NAMES}") for cid, name in {
        0xB1B8CC83: "user", 0x31774388: "user_legacy_31774388", 0x020B1422: "user_layer216",
        0x4B46C37E: "user_layer199", 0x83314FCA: "user_layer195", 0x215C4438: "user_layer184",
        0xEB602F25: "user_layer166", 0xABB5F120: "user_layer165", 0x8F97C628: "user_layer159"}.items()},
    **{cid: (name, f"flags:# {_USER_FLAGS} id:long {_USER_NAMES}") for cid, name in {
        0x5D99ADEE: "user_layer147", 0x3FF6ECB0: "user_layer144"}.items()},
    **{cid: (name, f"flags:# {_USER_FLAGS} id:int {_USER_NAMES}") for cid, name in {
        0x938458C1: "user_layer132", 0x2E13F4C3: "user_layer104", 0xD10D979A: "user_layer65",
        0x603539B4: "user_layer44", 0x22E49072: "user_layer43"}.items()},
    0x720535EC: ("user_self_layer17", "id:int first_name:string last_name:string phone:string ..."),
    0xF2FB8319: ("user_contact_layer17", "id:int first_name:string last_name:string access_hash:long phone:string ..."),
    0x22E8CEB0: ("user_request_layer17", "id:int first_name:string last_name:string access_hash:long phone:string ..."),
    0x5214C89D: ("user_foreign_layer17", "id:int first_name:string last_name:string ..."),
    0xB29AD7CC: ("user_deleted_layer17", "id:int first_name:string last_name:string"),
    0x7007B451: ("user_self_layer23", "id:int first_name:string last_name:string username:string phone:string ..."),
    0x1C60E608: ("user_self_layer30", "id:int first_name:string last_name:string username:string phone:string ..."),
    0xCAB35E18: ("user_contact_layer30", "id:int first_name:string last_name:string username:string "
                 "access_hash:long phone:string ..."),
    0xD9CCC4EF: ("user_request_layer30", "id:int first_name:string last_name:string username:string "
                 "access_hash:long phone:string ..."),
    0x075CF7A8: ("user_foreign_layer30", "id:int first_name:string last_name:string username:string ..."),
    0xD6016D7A: ("user_deleted_layer30", "id:int first_name:string last_name:string username:string"),
    0xD3BC4B7A: ("user_empty", "id:long"),
    0x200250BA: ("user_empty_layer132", "id:int"),
})


# --- generic interpreter ----------------------------------------------------------------------------------------

def _read_peer(r: _Reader, what: str) -> dict:
    at = r.pos
    cid = r.uint32(what)
    if cid not in _PEERS:
        raise TLDecodeError(f"{what} at offset {at}: 0x{cid:08x} is not a known Peer constructor")
    kind, width = _PEERS[cid]
    return {"kind": kind, "id": r.int64(what) if width == "long" else r.int32(what)}


def _read_object(r: _Reader, family: str, what: str) -> dict:
    at = r.pos
    cid = r.uint32(what)
    shape = _FAMILIES[family].get(cid)
    if shape is None and family not in _OPEN_FAMILIES:
        raise TLDecodeError(f"{what} at offset {at}: 0x{cid:08x} is not a known {family} constructor")
    name = shape.name if shape else f"0x{cid:08x}"
    obj = {"kind": name, "constructor": f"0x{cid:08x}"}
    _read_body(r, shape, obj, what, at)
    if family == "media" and "geo" in obj:
        _lift_geo(obj)
    return obj


def _lift_geo(media: dict) -> None:
    """Put a geo point's coordinates on the media itself, where every location-bearing kind keeps them."""
    geo = media.pop("geo")
    media["lat"], media["long"] = geo.get("lat"), geo.get("long")
    if "accuracy_radius" in geo:
        media["accuracy_radius"] = geo["accuracy_radius"]


def _read_body(r: _Reader, shape: _Shape | None, out: dict, what: str, at: int) -> None:
    if shape is not None and shape.steps is not None:
        _read_fields(r, shape.steps, out, what)
    if shape is None or shape.truncated:
        label = shape.name if shape else out["kind"]
        r.lose(f"{what} ({label}, offset {at})")


def _read_fields(r: _Reader, steps: tuple, out: dict, path: str) -> None:
    flags: dict[str, int] = {}
    for name, kind, cond in steps:
        if cond is not None and not (flags[cond[0]] >> cond[1]) & 1:
            if kind == "true":
                out[name] = False
            continue
        what = f"{path}.{name}"
        if kind == "#":
            flags[name] = r.uint32(what)
        elif kind == "true":
            out[name] = True
        else:
            out[name] = _read_value(r, kind, what)


def _read_value(r: _Reader, kind: str, what: str):
    if kind in _OBJECT_TYPES:
        return _read_object(r, _OBJECT_TYPES[kind], what)
    if kind == "int":
        return r.int32(what)
    if kind == "long":
        return r.int64(what)
    if kind == "double":
        return r.double(what)
    if kind == "string":
        return r.string(what)
    if kind == "bytes":
        return r.tl_bytes(what).hex()
    if kind == "bool":
        return r.boolean(what)
    if kind == "peer":
        return _read_peer(r, what)
    if kind == "user32":
        return {"kind": "user", "id": r.int32(what)}
    if kind == "user64":
        return {"kind": "user", "id": r.int64(what)}
    if kind == "channel32":
        return {"kind": "channel", "id": r.int32(what)}
    if kind == "longs":
        return [r.int64(what) for _ in range(r.vector_count(what, 8))]
    if kind == "entities":
        return [_read_object(r, "entity", f"{what}[{i}]") for i in range(r.vector_count(what, 4))]
    raise AssertionError(kind)  # layouts are validated at import


def _decode(data: bytes, table: dict[int, _Shape], what: str, build) -> dict:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TLDecodeError(f"{what} data must be bytes, not {type(data).__name__}")
    r = _Reader(data)
    cid = r.uint32(f"{what} constructor")
    shape = table.get(cid)
    if shape is None:
        raise TLDecodeError(f"0x{cid:08x} is not a known {what} constructor")
    fields: dict = {}
    try:
        _read_fields(r, shape.steps, fields, what)
    except TLDecodeError as exc:
        raise TLDecodeError(str(exc), partial=build(cid, shape.name, fields)) from None
    return build(cid, shape.name, fields)


# --- results ----------------------------------------------------------------------------------------------------

def _message(cid: int, name: str, f: dict) -> dict:
    reply = f.get("reply_to")
    fwd = f.get("fwd_from")
    if fwd is None and "fwd_from_id" in f:  # layers before 69 carried the forward source inline
        fwd = {"kind": "fwd_inline", "from_id": f["fwd_from_id"], "date": f.get("fwd_date")}
    if name.startswith("message_service"):
        kind = "service"
    elif name.startswith("message_empty"):
        kind = "empty"
    else:
        kind = "message"
    return {
        "constructor": f"0x{cid:08x}",
        "name": name,
        "type": kind,
        "secret": name.startswith("message_secret"),
        "id": f.get("id"),
        "date": f.get("date"),
        "out": bool(f.get("out")),
        "from_id": f.get("from_id"),
        "peer_id": f.get("peer_id"),
        "message": f.get("message"),
        "media": f.get("media"),
        "ttl": f.get("ttl"),
        "reply_to": reply.get("reply_to_msg_id") if reply else f.get("reply_to_msg_id"),
        "reply_header": reply,
        "fwd_from": fwd,
        "action": f.get("action"),
    }


def _user(cid: int, name: str, f: dict) -> dict:
    result = {"constructor": f"0x{cid:08x}", "name": name}
    for key in ("id", "first_name", "last_name", "username", "phone",
                "self", "contact", "mutual_contact", "deleted", "bot"):
        result[key] = f.get(key)
    return result


def decode_message(data: bytes) -> dict:
    """Decode one ``messages_v2.data`` blob (a ``TLRPC.Message``).

    Returns a dict with always the same keys:

    - ``constructor`` (``"0x7600b9d3"``), ``name`` (``"message"``, ``"message_layer135"``, ``"message_secret"``,
      ``"message_service_layer123"``, ...), ``type`` (``"message"`` | ``"service"`` | ``"empty"``), ``secret``
      (a secret-chat message, stored under the client's local constructors);
    - ``id`` (int), ``date`` (int, Unix seconds as stored), ``out`` (bool);
    - ``from_id`` / ``peer_id``: ``{"kind": "user"|"chat"|"channel", "id": int}`` or None (no sender: a channel post);
    - ``message``: the text (None for service and empty messages);
    - ``media``: None, or ``{"kind", "constructor", ...}`` where kind is ``"photo"``, ``"document"``, ``"geo"``,
      ``"geo_live"``, ``"venue"``, ``"contact"``, ``"webpage"``, ``"dice"``, ``"poll"``, ``"empty"``, ... or the
      constructor hex when unknown. Location kinds add ``lat``/``long`` (floats; None for an empty point), contact
      adds ``phone_number``/``first_name``/``last_name``/``user_id`` (and ``vcard`` after layer 81), webpage adds a
      nested ``webpage`` dict (``url``, ``site_name``, ``title``, ``description`` when the page was resolved);
    - ``ttl``: secret-chat self-destruct seconds (secret messages only);
    - ``reply_to``: the replied-to message id or None; ``reply_header``: the whole decoded reply header (quote text,
      other chat, story) or None;
    - ``fwd_from``: None, or the forward header (``from_id``, ``from_name``, ``date``, ``channel_post``, ...);
    - ``action``: for service messages ``{"kind", "constructor", ...}`` (``phone_call`` adds ``call_id``, ``video``,
      ``duration``, ``reason``), else None.

    Raises ``TLDecodeError`` for an unknown constructor, truncated or malformed data; its ``partial`` is this same
    dict filled with what was read before the failure.
    """
    return _decode(data, _MESSAGES, "message", _message)


def decode_user(data: bytes) -> dict:
    """Decode one ``users.data`` blob (a ``TLRPC.User``).

    Returns ``{"constructor", "name", "id", "first_name", "last_name", "username", "phone", "self", "contact",
    "mutual_contact", "deleted", "bot"}``; a key the stored layout does not carry (or an optional field left out) is
    None. Raises ``TLDecodeError`` like ``decode_message``.
    """
    return _decode(data, _USERS, "user", _user)
