"""A schema-less reader of the protocol buffers wire format, for apps that keep protobuf blobs in SQLite columns
(Snapchat's ``message_content``) without publishing the ``.proto`` files.

The wire format is a sequence of fields, each a varint key (``field_number << 3 | wire_type``) and a value:
wire type 0 a varint, 1 eight little-endian bytes, 2 a varint length and that many bytes (a string, bytes, or an
embedded message: the reader cannot tell which, so it hands back the bytes and ``path`` tries to read them as a
message when asked to descend), 5 four little-endian bytes. Wire types 3 and 4 (deprecated groups) and 6/7 are
refused.

Hostile input: every read is bounds-checked, varints are limited to ten bytes, a blob is limited in size and in the
number of fields read from it; malformed data raises ``ProtobufError`` with the offset. ``path`` and ``text`` read
lazily, so a field stored before a damaged point is still found in a partly overwritten blob.
"""
from __future__ import annotations

from typing import Iterator, NamedTuple

MAX_BLOB = 16 * 1024 * 1024
MAX_FIELDS = 100_000

VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5


class ProtobufError(ValueError):
    """The bytes are not a well-formed protobuf message."""


class Field(NamedTuple):
    number: int
    wire_type: int
    value: int | bytes  # int for varints and fixed-width values, bytes for length-delimited ones


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    for i in range(pos, min(pos + 10, len(data))):
        byte = data[i]
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, i + 1
        shift += 7
    raise ProtobufError(f"truncated or overlong varint at offset {pos}")


def fields(data: bytes) -> Iterator[Field]:
    """Every top-level field of one message, in stored order."""
    data = bytes(data)
    if len(data) > MAX_BLOB:
        raise ProtobufError(f"blob of {len(data)} bytes exceeds the {MAX_BLOB}-byte limit")
    pos = count = 0
    while pos < len(data):
        count += 1
        if count > MAX_FIELDS:
            raise ProtobufError(f"more than {MAX_FIELDS} fields")
        start = pos
        key, pos = _varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise ProtobufError(f"field number 0 at offset {start}")
        if wire_type == VARINT:
            value, pos = _varint(data, pos)
        elif wire_type in (FIXED64, FIXED32):
            size = 8 if wire_type == FIXED64 else 4
            if pos + size > len(data):
                raise ProtobufError(f"truncated fixed-width value at offset {pos}")
            value, pos = int.from_bytes(data[pos:pos + size], "little"), pos + size
        elif wire_type == LENGTH_DELIMITED:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise ProtobufError(f"length {length} at offset {pos} runs past the end")
            value, pos = data[pos:pos + length], pos + length
        else:
            raise ProtobufError(f"unsupported wire type {wire_type} at offset {start}")
        yield Field(number, wire_type, value)


def path(data: bytes, *numbers: int) -> int | bytes | None:
    """The value at a field path such as ``4, 4, 2, 1`` (the first occurrence at each level), or None when a step
    is missing. Every step but the last must be length-delimited and is read as an embedded message."""
    value: int | bytes = bytes(data)
    for depth, number in enumerate(numbers):
        if not isinstance(value, bytes):
            return None
        found = next((f for f in fields(value) if f.number == number), None)
        if found is None:
            return None
        if depth < len(numbers) - 1 and found.wire_type != LENGTH_DELIMITED:
            return None
        value = found.value
    return value


def text(data: bytes, *numbers: int) -> str | None:
    """The UTF-8 string at a field path; None when absent, not length-delimited, malformed or not valid UTF-8."""
    try:
        value = path(data, *numbers)
    except ProtobufError:
        return None
    if not isinstance(value, bytes):
        return None
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return None
