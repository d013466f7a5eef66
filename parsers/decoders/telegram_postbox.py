"""Telegram for iOS Postbox values: the message key and "intermediate message" of table t7, and the keyed object
encoding (PostboxEncoder) used for peers (t2), message attributes and media.

Facts from public readers of the format (iLEAPP's telegramMesssages.py after Stek29's decoder):

* t7 key, big-endian: peer id int64, namespace int32, timestamp int32 (Unix seconds), message id int32.
* t7 value, little-endian: entry type int8 (0 = message, 1 = history hole), stable id uint32, stable version
  uint32, data flags uint8 and the optional fields they announce (globally unique id int64, global tags uint32,
  grouping key int64, group stable id uint32, local tags uint32, thread id int64), message flags uint32
  (4 = incoming), tags uint32, forward info (flags int8; author int64, date int32, then optional source id, source
  message, signature, PSA type, flags), author (int8 present + int64), text (int32 length + UTF-8), attributes and
  embedded media (int32 count, each int32 length + encoded object), referenced media (int32 count of namespace
  int32 + id int64).
* Encoded object: a run of (key: uint8 length + UTF-8, value type uint8, value); an object value is type hash int32,
  length int32 and its own run; the root object sits under key ``_``.
"""
from __future__ import annotations

import struct

MESSAGE_ENTRY, HOLE_ENTRY = 0, 1
INCOMING = 4
_DATA_FIELDS = ((1, "q"), (2, "I"), (4, "q"), (8, "I"), (16, "I"), (32, "q"))  # data flag → field width
_KNOWN_DATA_FLAGS = 63
_FWD_SOURCE_ID, _FWD_SOURCE_MESSAGE, _FWD_SIGNATURE, _FWD_PSA, _FWD_FLAGS = 2, 4, 8, 16, 32
_MAX_DEPTH = 16


class Reader:
    """A bounds-checked cursor; every overrun raises ValueError (the bytes come from evidence)."""

    def __init__(self, data: bytes, endian: str = "<"):
        self.data, self.pos, self.endian = data, 0, endian

    def unpack(self, fmt: str):
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise ValueError(f"truncated at byte {self.pos}")
        (value,) = struct.unpack_from(self.endian + fmt, self.data, self.pos)
        self.pos += size
        return value

    def take(self, length: int) -> bytes:
        if length < 0 or self.pos + length > len(self.data):
            raise ValueError(f"length {length} at byte {self.pos} runs past the end")
        chunk = self.data[self.pos:self.pos + length]
        self.pos += length
        return chunk

    def blob(self) -> bytes:
        return self.take(self.unpack("i"))

    def text(self) -> str:
        return self.blob().decode("utf-8", "replace")

    @property
    def done(self) -> bool:
        return self.pos >= len(self.data)


def message_key(key: bytes) -> tuple[int, int, int, int]:
    """(peer id, namespace, timestamp, message id) of a t7 key."""
    if len(key) != 20:
        raise ValueError(f"message key of {len(key)} bytes, expected 20")
    return struct.unpack(">qiii", key)


def decode_message(value: bytes) -> dict | None:
    """The fields of a t7 message entry; None for a history hole (a gap marker, not a message)."""
    r = Reader(value)
    entry = r.unpack("b")
    if entry == HOLE_ENTRY:
        return None
    if entry != MESSAGE_ENTRY:
        raise ValueError(f"unknown entry type {entry}")
    message = {"stable_id": r.unpack("I"), "stable_version": r.unpack("I")}
    data_flags = r.unpack("B")
    if data_flags & ~_KNOWN_DATA_FLAGS:
        raise ValueError(f"unknown data flags {data_flags:#x}")
    for flag, fmt in _DATA_FIELDS:
        if data_flags & flag:
            r.unpack(fmt)
    message["flags"], message["tags"] = r.unpack("I"), r.unpack("I")
    message["forward"] = _forward_info(r)
    message["author_id"] = r.unpack("q") if r.unpack("b") == 1 else None
    message["text"] = r.text()
    message["attributes"] = [decode_object(r.blob()) for _ in range(_count(r))]
    message["media"] = [decode_object(r.blob()) for _ in range(_count(r))]
    message["referenced_media"] = [(r.unpack("i"), r.unpack("q")) for _ in range(_count(r))]
    return message


def decode_object(data: bytes) -> dict:
    """The root object (key ``_``) of an encoded value, as {key: value}; nested objects likewise, with their type
    hash under ``@type``. Data with no root object is read as a bare run of fields."""
    fields = _fields(Reader(data), 0)
    root = fields.get("_")
    return root if isinstance(root, dict) else fields


def _fields(r: Reader, depth: int) -> dict:
    if depth > _MAX_DEPTH:
        raise ValueError("encoded object nested too deeply")
    fields = {}
    while not r.done:
        key = r.take(r.unpack("B")).decode("utf-8", "replace")
        fields[key] = _value(r, r.unpack("B"), depth)
    return fields


def _value(r: Reader, kind: int, depth: int):
    if kind == 0:
        return r.unpack("i")
    if kind == 1:
        return r.unpack("q")
    if kind == 2:
        return r.unpack("B") != 0
    if kind == 3:
        return r.unpack("d")
    if kind == 4:
        return r.text()
    if kind == 5:
        return _object(r, depth)
    if kind in (6, 7):
        return [r.unpack("i" if kind == 6 else "q") for _ in range(_count(r))]
    if kind == 8:
        return [_object(r, depth) for _ in range(_count(r))]
    if kind == 9:
        return [(_object(r, depth), _object(r, depth)) for _ in range(_count(r))]
    if kind == 10:
        return r.blob()
    if kind == 11:
        return None
    if kind in (12, 13):
        return [r.text() if kind == 12 else r.blob() for _ in range(_count(r))]
    raise ValueError(f"unknown value type {kind}")


def _object(r: Reader, depth: int) -> dict:
    type_hash = r.unpack("i")
    fields = _fields(Reader(r.blob()), depth + 1)
    fields["@type"] = type_hash
    return fields


def _forward_info(r: Reader) -> dict | None:
    flags = r.unpack("b")
    if flags == 0:
        return None
    forward = {"author_id": r.unpack("q"), "date": r.unpack("i")}
    if flags & _FWD_SOURCE_ID:
        forward["source_id"] = r.unpack("q")
    if flags & _FWD_SOURCE_MESSAGE:
        forward["source_message"] = (r.unpack("q"), r.unpack("i"), r.unpack("i"))
    if flags & _FWD_SIGNATURE:
        forward["signature"] = r.text()
    if flags & _FWD_PSA:
        forward["psa_type"] = r.text()
    if flags & _FWD_FLAGS:
        forward["flags"] = r.unpack("i")
    return forward


def _count(r: Reader) -> int:
    """An element count, refused when the remaining bytes could not hold that many elements."""
    count = r.unpack("i")
    if count < 0 or count > len(r.data) - r.pos:
        raise ValueError(f"count {count} at byte {r.pos} exceeds the data")
    return count
