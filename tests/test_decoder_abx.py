"""Android Binary XML and text XML reading, on ABX bytes written at test time."""
from __future__ import annotations

import random
import struct
import time
import xml.etree.ElementTree as ET

import pytest

from artifacts.timestamps import hex_ms
from parsers.decoders.abx import (
    ABXDecodeError, AndroidXMLError, abx_attribute_type, load_android_xml, parse_abx,
)
from tests.fixtures.abx import WHATSAPP, AbxWriter, build_packages_xml, encode_abx, modified_utf8


def document(build) -> bytes:
    writer = AbxWriter()
    writer.start_document()
    build(writer)
    writer.end_document()
    return writer.getvalue()


def test_bytes_written_by_hand():
    data = (b"ABX\x00" + b"\x10"                                   # START_DOCUMENT, null
            + b"\x32" + b"\xff\xff" + b"\x00\x01" + b"a"           # <a>, new interned string 0
            + b"\x2f" + b"\xff\xff\x00\x01k" + b"\x00\x02v1"       # k="v1" (string; name interned as 1)
            + b"\x6f" + b"\xff\xff\x00\x01n" + b"\xff\xff\xff\xfe"  # n=-2 (int)
            + b"\x32" + b"\x00\x00"                                # <a> again, by reference
            + b"\x33" + b"\x00\x00"                                # </a>
            + b"\x24" + b"\x00\x03x\xc0\x80"                       # text "x\0" (NUL as C0 80)
            + b"\x33" + b"\x00\x00" + b"\x11")                     # </a>, END_DOCUMENT
    root = parse_abx(data)
    assert (root.tag, root.attrib, len(root), root[0].tag, root[0].tail) == ("a", {"k": "v1", "n": "-2"}, 1, "a",
                                                                           "x\x00")
    assert (abx_attribute_type(root, "k"), abx_attribute_type(root, "n")) == ("string", "int")


def test_packages_xml_abx_and_text_read_the_same():
    binary, text = build_packages_xml(binary=True), build_packages_xml(binary=False)
    assert binary.startswith(b"ABX\x00") and text.startswith(b"<?xml")
    from_abx, from_text = load_android_xml(binary), load_android_xml(text)
    assert ET.tostring(from_abx) == ET.tostring(from_text)
    package = from_abx.find("package")
    assert package.get("name") == "com.whatsapp" and package.get("installer") == "com.android.vending"
    assert package.get("version") == str(WHATSAPP["version"]) and package.get("userId") == "10234"
    assert abx_attribute_type(package, "ft") == "long_hex" and abx_attribute_type(package, "version") == "long"
    assert abx_attribute_type(from_text.find("package"), "ft") is None
    for element in (package, from_text.find("package")):
        assert hex_ms(element.get("ft")).iso == "2023-11-14T22:15:23.456000Z"
        assert hex_ms(element.get("it")).iso == "2023-07-22T04:26:40.000000Z"
    assert package.find("perms/item").get("granted") == "true"
    assert package.find("sigs/cert").get("key") == "3082" + "ab" * 30


@pytest.mark.parametrize("kind, value, text", [
    ("string", "Grüße \u2603", "Grüße \u2603"),
    ("interned", "com.android.vending", "com.android.vending"),
    ("bytes_hex", b"\x00\xff\x10", "00ff10"),
    ("bytes_base64", b"\x00\xff\x10", "AP8Q"),
    ("int", -5, "-5"),
    ("int", 2**31 - 1, "2147483647"),
    ("int_hex", 255, "ff"),
    ("int_hex", -1, "-1"),
    ("long", 1_700_000_123_456, "1700000123456"),
    ("long_hex", 1_700_000_123_456, "18bcfe74a40"),
    ("long_hex", -2, "-2"),
    ("float", 0.1, "0.1"),
    ("float", 1.5, "1.5"),
    ("float", 1e-05, "1e-05"),
    ("float", float("inf"), "Infinity"),
    ("double", 0.1, "0.1"),
    ("double", -1e300, "-1e+300"),
    ("double", float("nan"), "NaN"),
    ("bool", True, "true"),
    ("bool", False, "false"),
])
def test_every_attribute_type(kind, value, text):
    root = parse_abx(document(lambda w: (w.start_tag("e"), w.attribute("v", value, kind), w.end_tag("e"))))
    assert root.get("v") == text
    assert abx_attribute_type(root, "v") == {"bool": "boolean"}.get(kind, kind)


def test_null_attribute_is_absent_but_typed():
    root = parse_abx(document(lambda w: (w.start_tag("e"), w.attribute("gone", None, "null"), w.end_tag("e"))))
    assert "gone" not in root.attrib and abx_attribute_type(root, "gone") == "null"


def test_interned_strings_are_written_once_and_reused():
    root = ET.Element("packages")
    for i in range(50):
        ET.SubElement(root, "package", {"name": f"pkg{i}", "installer": "com.android.vending"})
    data = encode_abx(root, {"installer": "interned"})
    for name in (b"com.android.vending", b"package", b"installer"):  # each string once, with its length
        assert data.count(struct.pack(">H", len(name)) + name) == 1
    parsed = parse_abx(data)
    assert [p.get("name") for p in parsed] == [f"pkg{i}" for i in range(50)]
    assert {p.get("installer") for p in parsed} == {"com.android.vending"}
    assert ET.tostring(parsed) == ET.tostring(root)


def test_text_tokens():
    def build(w):
        w.comment(" written by test ")
        w.start_tag("r")
        w.text("a")
        w.entity_ref("amp")
        w.cdsect("<b>")
        w.entity_ref("#233")
        w.entity_ref("#x1F600")
        w.processing_instruction("pi data")
        w.start_tag("c")
        w.end_tag("c")
        w.ignorable_whitespace("\n  ")
        w.text(None)
        w.docdecl("r")
        w.end_tag("r")
        w.ignorable_whitespace("\n")
    root = parse_abx(document(build))
    assert root.text == "a&<b>é\U0001F600" and root[0].tail == "\n  "


@pytest.mark.parametrize("four_byte", [True, False])
def test_characters_beyond_the_bmp(four_byte):
    text = "a\U0001F600b\x00"
    encoded = modified_utf8(text, four_byte=four_byte)
    assert (b"\xf0\x9f\x98\x80" in encoded) is four_byte
    data = encode_abx(ET.Element("e", {"s": text}), four_byte_utf8=four_byte)
    assert parse_abx(data).get("s") == text


def test_bad_modified_utf8():
    for raw in (b"\xff", "\ud800".encode("utf-8", "surrogatepass"), b"\xe2\x82"):
        data = b"ABX\x00\x32\xff\xff" + struct.pack(">H", len(raw)) + raw
        with pytest.raises(ABXDecodeError, match="start tag at offset 4: the string at offset 9 is not valid"):
            parse_abx(data)


def test_end_without_end_document_and_data_after_it():
    data = document(lambda w: (w.start_tag("r"), w.end_tag("r")))
    assert parse_abx(data[:-1]).tag == "r"
    assert parse_abx(data + b"\xde\xad").tag == "r"


def test_every_truncation_raises():
    data = build_packages_xml()
    end_of_root = len(data) - 1 - 3  # END_DOCUMENT byte, then </packages> (event + 16-bit reference)
    for cut in range(end_of_root):
        with pytest.raises(ABXDecodeError):
            parse_abx(data[:cut])


@pytest.mark.parametrize("data, message", [
    (b"ABX\x00\x10\x11", "no root element"),
    (b"ABX\x00\x32\xff\xff\x00\x01r\x3b", "unknown token 11"),
    (b"ABX\x00\x32\xff\xff\x00\x01r\xef\xff\xff\x00\x01k", "unknown data type 0xe0"),
    (b"ABX\x00\x2f\xff\xff\x00\x01k\x00\x00", "attribute at offset 4 does not follow a start tag"),
    (b"ABX\x00\x32\xff\xff\x00\x01r\x24\x00\x01x\x2f\xff\xff\x00\x01k\x00\x00",
     "attribute at offset 14 does not follow"),
    (b"ABX\x00\x32\xff\xff\x00\x01r\x33\xff\xff\x00\x01s", r"end tag </s> at offset 10, expected </r>"),
    (b"ABX\x00\x33\xff\xff\x00\x01s", "expected no end tag"),
    (b"ABX\x00\x32\xff\xff\x00\x01r\x33\x00\x00\x32\x00\x00", "second root element"),
    (b"ABX\x00\x24\x00\x01x", "text outside the root element"),
    (b"ABX\x00\x32\xff\xff\x00\x01r\x26\x00\x04nbsp", r"&nbsp; .* not a predefined"),
    (b"ABX\x00\x32\x00\x05", "refers to interned string 5, but only 0 are defined"),
    (b"ABX\x00\x32\xff\xff\x00\x01r\x2f\xff\xff\x00\x01k\x00\x00\x2f\x00\x01\x00\x00",
     "duplicate attribute 'k'"),
    (b"ABX\x00\x32\xff\xff\x00\x01r\x44\x00\x01x", "has data type 0x40, expected a string"),
    (b"ABX\x00\x32\xff\xff\x00\x01r\x6f\xff\xff\x00\x01n\x00\x00", r"truncated: attribute 'n' .* needs 4 bytes"),
    (b"<?xml version='1.0'?><a/>", "not ABX"),
])
def test_malformed_abx(data, message):
    with pytest.raises(ABXDecodeError, match=message):
        parse_abx(data)


def test_wrong_input_types_and_versions():
    with pytest.raises(ABXDecodeError, match="must be bytes"):
        parse_abx("ABX")
    with pytest.raises(ABXDecodeError, match="unsupported ABX version"):
        load_android_xml(b"ABX\x01\x10\x11")
    with pytest.raises(AndroidXMLError, match="empty file"):
        load_android_xml(b" \n")


def test_mutated_abx_fails_cleanly_and_fast():
    rng = random.Random(7)
    seed = build_packages_xml()
    start = time.monotonic()
    for _ in range(3000):
        data = bytearray(seed)
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(4, len(data))] = rng.randrange(256)
        try:
            parse_abx(bytes(data))
        except ABXDecodeError:
            pass
    assert time.monotonic() - start < 10


# --- text XML ---------------------------------------------------------------------------------------------------

def test_text_xml_is_parsed():
    root = load_android_xml(b"<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n"
                            b"<map><string name=\"user\">ana &amp; co</string><long name=\"t\" value=\"5\" /></map>")
    assert root.tag == "map" and root.find("string").text == "ana & co" and root.find("long").get("value") == "5"


def test_entity_bomb_is_refused():
    bomb = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
            + b"".join(b' <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                       for i in range(1, 10))
            + b"]>\n<lolz>&lol9;</lolz>")
    with pytest.raises(AndroidXMLError, match="refused XML: EntitiesForbidden"):
        load_android_xml(bomb)


def test_external_entity_is_refused():
    xxe = b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><m>&x;</m>'
    with pytest.raises(AndroidXMLError, match="refused XML"):
        load_android_xml(xxe)


def test_malformed_text_xml():
    with pytest.raises(AndroidXMLError, match="not well-formed XML"):
        load_android_xml(b"<packages><package name='x'></packages>")
