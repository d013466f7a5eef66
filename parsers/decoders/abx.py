"""Android Binary XML (ABX) and text XML, read into one ElementTree shape.

Android 12 and later write many system XML files (``packages.xml``, ``packages-warnings.xml``, settings, ...) in ABX,
the format of AOSP's ``BinaryXmlSerializer``/``BinaryXmlPullParser`` (``com.android.internal.util``); older releases
and most apps write text XML. ``load_android_xml`` takes either and returns an ``xml.etree.ElementTree.Element``, so a
parser reads both the same way.

ABX on the wire: the magic ``ABX\\x00`` (version 0), then a stream of events. Each event is one byte: the low nibble an
XmlPullParser token (START_DOCUMENT 0, END_DOCUMENT 1, START_TAG 2, END_TAG 3, TEXT 4, CDSECT 5, ENTITY_REF 6,
IGNORABLE_WHITESPACE 7, PROCESSING_INSTRUCTION 8, COMMENT 9, DOCDECL 10, and 15 for an attribute of the last start
tag), the high nibble a data type (null, string, interned string, bytes as hex, bytes as base64, int, int as hex,
long, long as hex, float, double, boolean true, boolean false). Numbers are big-endian. A string is an unsigned 16-bit
byte count and modified UTF-8 (NUL as ``C0 80``; characters beyond the BMP as 4-byte UTF-8 or as a surrogate pair).
An interned string is an unsigned 16-bit index into the strings seen so far, or ``0xFFFF`` followed by a new string
that is added to the table. Tag and attribute names are always interned.

Attribute values become the text Android's own ``BinaryXmlPullParser.getAttributeValue`` returns, which is also
what the text-XML files of the same data hold:

- int and long: decimal (``"1024"``, ``"-1"``);
- int hex and long hex: lowercase hex digits with no prefix, a minus sign for negatives (Java ``Long.toString(v,
  16)``). Text ``packages.xml`` holds ``ft``/``it``/``ut`` (milliseconds since 1970) as ``Long.toHexString`` text;
  stored as long hex in ABX they come out as the same text, so ``artifacts.timestamps.hex_ms`` decodes both. Should
  a file store them under another type (a plain long would read as decimal), ``abx_attribute_type`` says so: a
  packages parser should check it rather than assume;
- bytes hex: lowercase hex of the bytes; bytes base64: standard base64 with padding;
- boolean: ``"true"``/``"false"``;
- float and double: Python's shortest round-trip form of the stored value (single precision for float), e.g.
  ``"1.5"``, ``"0.1"``, ``"1e-05"`` (Java would write ``"1.0E-5"``); ``"NaN"``, ``"Infinity"``, ``"-Infinity"``;
- null: the attribute is left out (Android reads it as absent); ``abx_attribute_type`` still reports ``"null"``.

Elements built from ABX are ``AbxElement`` (an ``Element`` subclass) that keep each attribute's stored type, so a
parser can tell ``"1a"`` written as long-hex from a plain string; ``abx_attribute_type`` reads it and returns None for
elements from text XML. Text, CDATA and entity references become element text/tail as ElementTree's XML parser
would make them; comments, processing instructions and the document type declaration are dropped, as ElementTree's
default parser drops them.

Hostile input: every read is bounds-checked; truncated, malformed or out-of-order data raises ``ABXDecodeError`` with
the offset. Text XML goes through defusedxml, which refuses entity declarations (entity-expansion bombs) and external
references with ``AndroidXMLError``.
"""
from __future__ import annotations

import base64
import math
import re
import struct
import xml.etree.ElementTree as ET

import defusedxml
import defusedxml.ElementTree

__all__ = ["ABX_MAGIC", "ABXDecodeError", "AbxElement", "AndroidXMLError", "abx_attribute_type", "load_android_xml",
           "parse_abx"]

ABX_MAGIC = b"ABX\x00"

START_DOCUMENT, END_DOCUMENT, START_TAG, END_TAG, TEXT, CDSECT, ENTITY_REF = 0, 1, 2, 3, 4, 5, 6
IGNORABLE_WHITESPACE, PROCESSING_INSTRUCTION, COMMENT, DOCDECL, ATTRIBUTE = 7, 8, 9, 10, 15

TYPE_NULL, TYPE_STRING, TYPE_STRING_INTERNED = 0x10, 0x20, 0x30
TYPE_BYTES_HEX, TYPE_BYTES_BASE64 = 0x40, 0x50
TYPE_INT, TYPE_INT_HEX, TYPE_LONG, TYPE_LONG_HEX = 0x60, 0x70, 0x80, 0x90
TYPE_FLOAT, TYPE_DOUBLE, TYPE_BOOLEAN_TRUE, TYPE_BOOLEAN_FALSE = 0xA0, 0xB0, 0xC0, 0xD0

TYPE_NAMES = {
    TYPE_NULL: "null", TYPE_STRING: "string", TYPE_STRING_INTERNED: "interned", TYPE_BYTES_HEX: "bytes_hex",
    TYPE_BYTES_BASE64: "bytes_base64", TYPE_INT: "int", TYPE_INT_HEX: "int_hex", TYPE_LONG: "long",
    TYPE_LONG_HEX: "long_hex", TYPE_FLOAT: "float", TYPE_DOUBLE: "double", TYPE_BOOLEAN_TRUE: "boolean",
    TYPE_BOOLEAN_FALSE: "boolean",
}

_NEW_STRING = 0xFFFF
_MAX_INTERNED = 0xFFFF  # the writer stops adding to its table at this size; so does the reader
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "apos": "'", "quot": '"'}
_SURROGATE = re.compile("[\ud800-\udfff]")


class AndroidXMLError(ValueError):
    """An Android XML file (text or binary) that cannot be read, or is refused as dangerous."""


class ABXDecodeError(AndroidXMLError):
    """ABX data that is truncated, malformed or not ABX at all."""


class AbxElement(ET.Element):
    """An element read from ABX; ``abx_types`` maps each attribute name to its stored type name."""

    def __init__(self, tag: str):
        super().__init__(tag)
        self.abx_types: dict[str, str] = {}


def abx_attribute_type(element: ET.Element, name: str) -> str | None:
    """The stored ABX type of attribute ``name`` (``"long_hex"``, ``"int"``, ``"string"``, ...), or None when the
    element came from text XML or has no such attribute."""
    return getattr(element, "abx_types", {}).get(name)


class _Input:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = len(ABX_MAGIC)
        self.interned: list[str] = []

    def take(self, n: int, what: str) -> bytes:
        left = len(self.data) - self.pos
        if n > left:
            raise ABXDecodeError(f"truncated: {what} needs {n} bytes at offset {self.pos}, {left} left")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str, what: str):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))[0]

    def utf(self, what: str) -> str:
        size = self.unpack(">H", what)
        at = self.pos
        raw = self.take(size, what)
        try:
            text = raw.replace(b"\xc0\x80", b"\x00").decode("utf-8", "surrogatepass")
            if _SURROGATE.search(text):  # a surrogate pair written as two 3-byte sequences
                text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
        except UnicodeError as exc:
            raise ABXDecodeError(f"{what}: the string at offset {at} is not valid modified UTF-8 "
                                 f"({exc.reason})") from None
        return text

    def interned_utf(self, what: str) -> str:
        at = self.pos
        ref = self.unpack(">H", what)
        if ref == _NEW_STRING:
            text = self.utf(what)
            if len(self.interned) < _MAX_INTERNED:
                self.interned.append(text)
            return text
        if ref >= len(self.interned):
            raise ABXDecodeError(f"{what} at offset {at} refers to interned string {ref}, "
                                 f"but only {len(self.interned)} are defined")
        return self.interned[ref]


def _java_hex(value: int) -> str:
    return f"-{-value:x}" if value < 0 else f"{value:x}"


def _float_text(value: float, single: bool) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if not single:
        return repr(value)
    stored = struct.pack(">f", value)
    for digits in range(1, 10):  # the shortest decimal that reads back as the same 32-bit float
        candidate = float(f"{value:.{digits}g}")
        if struct.pack(">f", candidate) == stored:
            return repr(candidate)
    return repr(value)


def _attribute_value(inp: _Input, kind: int, what: str) -> str | None:
    if kind == TYPE_NULL:
        return None
    if kind == TYPE_STRING:
        return inp.utf(what)
    if kind == TYPE_STRING_INTERNED:
        return inp.interned_utf(what)
    if kind in (TYPE_BYTES_HEX, TYPE_BYTES_BASE64):
        raw = inp.take(inp.unpack(">H", what), what)
        return raw.hex() if kind == TYPE_BYTES_HEX else base64.b64encode(raw).decode("ascii")
    if kind in (TYPE_INT, TYPE_INT_HEX):
        number = inp.unpack(">i", what)
        return str(number) if kind == TYPE_INT else _java_hex(number)
    if kind in (TYPE_LONG, TYPE_LONG_HEX):
        number = inp.unpack(">q", what)
        return str(number) if kind == TYPE_LONG else _java_hex(number)
    if kind == TYPE_FLOAT:
        return _float_text(inp.unpack(">f", what), single=True)
    if kind == TYPE_DOUBLE:
        return _float_text(inp.unpack(">d", what), single=False)
    if kind == TYPE_BOOLEAN_TRUE:
        return "true"
    if kind == TYPE_BOOLEAN_FALSE:
        return "false"
    raise ABXDecodeError(f"{what}: unknown data type 0x{kind:02x}")


def _resolve_entity(name: str, at: int) -> str:
    if name in _ENTITIES:
        return _ENTITIES[name]
    match = re.fullmatch(r"#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))", name)
    if match:
        code = int(match[1], 16) if match[1] else int(match[2])
        if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
            return chr(code)
    raise ABXDecodeError(f"entity reference &{name}; at offset {at} is not a predefined or character entity")


def _append_text(stack: list[AbxElement], text: str, at: int) -> None:
    if not stack:
        if text.strip():
            raise ABXDecodeError(f"text outside the root element at offset {at}")
        return
    element = stack[-1]
    if len(element):
        last = element[-1]
        last.tail = (last.tail or "") + text
    else:
        element.text = (element.text or "") + text


def parse_abx(data: bytes) -> AbxElement:
    """Read ABX bytes into an element tree and return its root (see the module docstring for the value forms).

    Data that ends after the root element is closed is complete even without END_DOCUMENT (Android's parser reads
    end of input as END_DOCUMENT); anything after END_DOCUMENT is not read.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ABXDecodeError(f"ABX data must be bytes, not {type(data).__name__}")
    data = bytes(data)
    if data[:len(ABX_MAGIC)] != ABX_MAGIC:
        raise ABXDecodeError(f"not ABX: starts with {data[:4]!r}, expected {ABX_MAGIC!r}")
    inp = _Input(data)
    root: AbxElement | None = None
    stack: list[AbxElement] = []
    open_tag: AbxElement | None = None  # the start tag that attribute events still belong to
    while inp.pos < len(data):
        at = inp.pos
        event = inp.take(1, "event")[0]
        token, kind = event & 0x0F, event & 0xF0
        if token == ATTRIBUTE:
            if open_tag is None:
                raise ABXDecodeError(f"attribute at offset {at} does not follow a start tag")
            name = inp.interned_utf(f"attribute name at offset {at}")
            if name in open_tag.abx_types:
                raise ABXDecodeError(f"duplicate attribute {name!r} on <{open_tag.tag}> at offset {at}")
            value = _attribute_value(inp, kind, f"attribute {name!r} at offset {at}")
            open_tag.abx_types[name] = TYPE_NAMES[kind]
            if value is not None:
                open_tag.set(name, value)
            continue
        open_tag = None
        if token == START_DOCUMENT:
            continue
        if token == END_DOCUMENT:
            break
        if token == START_TAG:
            element = AbxElement(inp.interned_utf(f"start tag at offset {at}"))
            if stack:
                stack[-1].append(element)
            elif root is None:
                root = element
            else:
                raise ABXDecodeError(f"second root element <{element.tag}> at offset {at}")
            stack.append(element)
            open_tag = element
        elif token == END_TAG:
            name = inp.interned_utf(f"end tag at offset {at}")
            if not stack or stack[-1].tag != name:
                expected = f"</{stack[-1].tag}>" if stack else "no end tag"
                raise ABXDecodeError(f"end tag </{name}> at offset {at}, expected {expected}")
            stack.pop()
        elif token in (TEXT, CDSECT, ENTITY_REF, IGNORABLE_WHITESPACE, PROCESSING_INSTRUCTION, COMMENT, DOCDECL):
            if kind == TYPE_NULL:  # the serializer's form of a null text: no payload
                continue
            if kind != TYPE_STRING:
                raise ABXDecodeError(f"token {token} at offset {at} has data type 0x{kind:02x}, expected a string")
            text = inp.utf(f"token {token} at offset {at}")
            if token == ENTITY_REF:
                _append_text(stack, _resolve_entity(text, at), at)
            elif token in (TEXT, CDSECT, IGNORABLE_WHITESPACE):
                _append_text(stack, text, at)
        else:
            raise ABXDecodeError(f"unknown token {token} (event byte 0x{event:02x}) at offset {at}")
    if stack:
        raise ABXDecodeError(f"truncated: the data ends inside <{stack[-1].tag}>")
    if root is None:
        raise ABXDecodeError("no root element")
    return root


def load_android_xml(data: bytes) -> ET.Element:
    """Read an Android XML file that may be ABX (by its magic) or text XML, and return the root element.

    Raises ``ABXDecodeError`` for bad ABX and ``AndroidXMLError`` for text XML that is not well-formed or that
    declares entities or external references (refused outright: Android never writes them, and they are how
    entity-expansion bombs and external-entity reads work).
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise AndroidXMLError(f"XML data must be bytes, not {type(data).__name__}")
    data = bytes(data)
    if data.startswith(b"ABX"):
        if data[:len(ABX_MAGIC)] != ABX_MAGIC:
            raise ABXDecodeError(f"unsupported ABX version: header {data[:4]!r}, only {ABX_MAGIC!r} is known")
        return parse_abx(data)
    if not data.strip():
        raise AndroidXMLError("empty file: neither ABX nor XML")
    try:
        return defusedxml.ElementTree.fromstring(data)
    except defusedxml.DefusedXmlException as exc:
        raise AndroidXMLError(f"refused XML: {type(exc).__name__} ({exc}); entity declarations and external "
                              f"references are not read") from None
    except ET.ParseError as exc:
        raise AndroidXMLError(f"not well-formed XML: {exc}") from None
