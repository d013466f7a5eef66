"""Only the EXIF tags a parser stores, read with exifread's own code, at a fraction of its cost.

``exifread.process_file(f, details=False, extract_thumbnail=False)`` decodes every entry of every IFD: for each one a
seek and a read per number of its value (a 4-byte version string is four of each), a printable text and a debug
``repr``. For a phone's photos that was most of the EXIF parser's time, for tags it never stores.

``read_tags(f, wanted)`` takes exifread 3.5's own steps in the same order (``determine_type``, then
``ExifHeader.list_ifd``, ``dump_ifd`` and ``_process_tag`` over IFD0, its chain, the Exif IFD and the GPS and
Interoperability sub-IFDs), so each wanted tag has exactly the value, printable text, type and offsets exifread
gives it, from the same IFD when several carry it. It differs in three ways only:

- an entry whose key is not in ``wanted`` is not decoded, unless decoding it leads on (a sub-IFD pointer: GPS,
  Interoperability) or can make exifread raise (a single float whose bytes lie past the end of the file: exifread's
  ``str(values[0])`` of an empty list) — so a photo whose EXIF makes exifread fail still fails with the same error;
- the bytes from the TIFF header on are read once (a JPEG's whole APP1 segment when it states its length, else
  64 KiB) and numbers are unpacked from them; a read elsewhere (a hostile offset) goes to the file as exifread's;
- a wanted entry of a common kind whose value lies in those bytes — a text, or up to 999 integers or ratios, of a
  tag without a printable mapping — is decoded here the way ``_process_tag`` decodes it (``_decode``); any other
  (a float, a text that is not UTF-8, an empty one...) by ``_process_tag`` itself.

The tags are returned in a dict that refuses a look-up of a key it was not asked to read, so a parser cannot miss a
tag it forgot to name. Other exifread versions (whose internals may differ) are read with ``process_file`` itself.
``tests/test_exif_tags.py`` compares both on fixture photos and on hundreds of damaged variants of them;
``benchmarks/exif.py --against REV`` compares the parser's records on any photos.
"""
from __future__ import annotations

import functools
import struct

import exifread
from exifread.core.exceptions import ExifNotFound, InvalidExif
from exifread.core.exif_header import ExifHeader
from exifread.core.find_exif import determine_type, get_endian_str
from exifread.tags import DEFAULT_STOP_TAG, IGNORE_TAGS
from exifread.core.ifd_tag import IfdTag
from exifread.tags.exif import EXIF_TAGS
from exifread.tags.fields import FieldType
from exifread.utils import Ratio

# the exifread releases whose process_file and ExifHeader internals this module follows (checked by the tests)
FOLLOWS = ("3.5.1",)
FAST = exifread.__version__ in FOLLOWS

WINDOW = 1 << 16
_FLOATS = (FieldType.FLOAT_32, FieldType.FLOAT_64)
_CODES = {(1, False): "B", (1, True): "b", (2, False): "H", (2, True): "h", (4, False): "I", (4, True): "i"}
_UNPACK = {endian: {key: struct.Struct(endian + code).unpack_from for key, code in _CODES.items()}
           for endian in "<>"}
_ENTRY = {endian: struct.Struct(endian + "HHII").unpack_from for endian in "<>"}  # tag, type, count, value/pointer
# the numeric field types decoded here: struct code of one value (a ratio is two numbers), as exifread reads them
# (FIELD_DEFINITIONS' length, SIGNED_FIELD_TYPES, RATIO_FIELD_TYPES; the tests check the two agree)
_NUMBERS = {FieldType.BYTE: "B", FieldType.SHORT: "H", FieldType.LONG: "I", FieldType.RATIO: "II",
            FieldType.SIGNED_BYTE: "b", FieldType.UNDEFINED: "B", FieldType.SIGNED_SHORT: "h",
            FieldType.SIGNED_LONG: "i", FieldType.SIGNED_RATIO: "ii", FieldType.IFD: "I"}


class Tags(dict):
    """exifread's tags (key ``"IFD Name"``, value ``IfdTag``); ``get`` of a key not read is a programming error."""

    def __init__(self, tags: dict, wanted: frozenset[str]):
        super().__init__(tags)
        self.wanted = wanted

    def get(self, key, default=None):
        if key not in self.wanted:
            raise KeyError(f"EXIF tag {key!r} was not read: add it to the tags the parser asks for")
        return super().get(key, default)


def read_tags(f, wanted: frozenset[str]) -> dict:
    """exifread's ``process_file(f, details=False, extract_thumbnail=False)``, keeping only the ``wanted`` keys
    (``"Image Make"``, ``"GPS GPSLatitude"``...)."""
    if not FAST:
        return Tags({k: v for k, v in exifread.process_file(f, details=False, extract_thumbnail=False).items()
                     if k in wanted}, wanted)
    f.seek(0)
    try:
        offset, endian_bytes, fake_exif = determine_type(f)
    except ExifNotFound as err:
        exifread.logger.warning(err)
        return Tags({}, wanted)
    except InvalidExif as err:
        exifread.logger.debug(err)
        return Tags({}, wanted)
    endian, _ = get_endian_str(endian_bytes)
    header = _Header(f, endian, offset, fake_exif, wanted)
    for number, ifd in enumerate(header.list_ifd()):
        name = "Image" if number == 0 else "Thumbnail" if number == 1 else "IFD %d" % number
        header.dump_ifd(ifd=ifd, ifd_name=name, stop_tag=DEFAULT_STOP_TAG)
    exif_offset = header.tags.get("Image ExifOffset")
    if exif_offset:
        header.dump_ifd(ifd=exif_offset.values[0], ifd_name="EXIF", stop_tag=DEFAULT_STOP_TAG)
    return Tags({k: v for k, v in header.tags.items() if k in wanted}, wanted)


class _Header(ExifHeader):
    """exifread's ``ExifHeader`` (non-strict, no MakerNote) that decodes only what is wanted or may matter."""

    def __init__(self, f, endian: str, offset: int, fake_exif: int, wanted: frozenset[str]):
        super().__init__(f, endian, offset, fake_exif, strict=False, debug=False, detailed=False)
        self._names = _names(wanted)
        self._window, self._window_at = _window(f, offset), offset
        self._order = "<" if endian == "I" else ">"
        self._unpack, self._entry = _UNPACK[self._order], _ENTRY[self._order]

    def s2n(self, offset: int, length: int, signed=False) -> int:
        """``ExifHeader.s2n`` from the bytes in memory when they lie there (the same bytes the file holds)."""
        at = self.offset + offset - self._window_at
        if type(at) is int and at >= 0 and at + length <= len(self._window):
            unpack = self._unpack.get((length, signed))
            if unpack is not None:
                return unpack(self._window, at)[0]
        return super().s2n(offset, length, signed)

    def dump_ifd(self, ifd: int, ifd_name: str, tag_dict=None, relative=0, stop_tag=DEFAULT_STOP_TAG) -> None:
        """``ExifHeader.dump_ifd`` (exifread 3.5) with the entries that cannot matter left undecoded."""
        if tag_dict is None:
            tag_dict = EXIF_TAGS
        try:
            entries = self.s2n(ifd, 2)
        except TypeError:
            exifread.logger.warning("Possibly corrupted IFD: %s", ifd_name)
            return
        names = self._names.get(ifd_name, ())
        window, base = self._window, self.offset - self._window_at
        for i in range(entries):
            entry = ifd + 2 + 12 * i
            at = base + entry
            fields = self._entry(window, at) if 0 <= at <= len(window) - 12 else None
            tag = fields[0] if fields else self.s2n(entry, 2)
            tag_entry = tag_dict.get(tag)
            tag_name = tag_entry[0] if tag_entry else f"Tag 0x{tag:04X}"
            if tag in IGNORE_TAGS:
                pass
            elif tag_name in names:
                if not (fields and not relative and self._decode(ifd_name, tag_entry, entry, fields)):
                    self._process_tag(ifd, ifd_name, tag_entry, entry, tag, tag_name, relative, stop_tag)
            elif self._may_matter(tag_entry, entry, fields):
                self._process_tag(ifd, ifd_name, tag_entry, entry, tag, tag_name, relative, stop_tag)
            if tag_name == stop_tag:
                break

    def _may_matter(self, tag_entry, entry: int, fields) -> bool:
        """Whether decoding an unwanted entry leads to more tags or may raise (see the module docstring)."""
        if tag_entry and isinstance(tag_entry[1], tuple):
            return True
        kind, count = fields[1:3] if fields else (self.s2n(entry + 2, 2), None)
        return kind in _FLOATS and (count if count is not None else self.s2n(entry + 4, 4)) == 1

    def _decode(self, ifd_name: str, tag_entry, entry: int, fields) -> bool:
        """``_process_tag`` of an entry of a common kind whose value lies in memory: a text, or at most 999 integers
        or ratios, of a tag without a printable mapping. False (nothing done) for any other: exifread decodes it."""
        tag, kind, count, pointer = fields
        if tag_entry is None or tag_entry[1] is not None:
            return False
        if kind == FieldType.ASCII:
            if count == 0:
                return False
            code, size = None, 1
        elif kind in _NUMBERS and count < 1000:
            code = _NUMBERS[kind]
            size = struct.calcsize(code)
        else:
            return False
        offset = entry + 8 if count * size <= 4 else pointer
        at = self.offset + offset - self._window_at
        if at < 0 or at + count * size > len(self._window):
            return False
        if code is None:  # _process_ascii_field: the text up to its first NUL, as UTF-8
            try:
                values = self._window[at:at + count].split(b"\x00", 1)[0].decode("utf-8")
            except UnicodeDecodeError:
                return False
            printable = values
        else:  # _process_field and _get_printable_for_field
            numbers = struct.unpack_from(f"{self._order}{code * count}", self._window, at)
            values = [Ratio(numbers[i], numbers[i + 1]) for i in range(0, len(numbers), 2)] if len(code) == 2 \
                else list(numbers)
            if count == 1:
                printable = str(values[0])
            elif count > 50 and len(values) > 20:
                printable = str(values[0:20])[0:-1] + ", ... ]"
            else:
                printable = str(values)
        self.tags[ifd_name + " " + tag_entry[0]] = IfdTag(printable, tag, FieldType(kind), values, offset,
                                                          count * size, False)
        return True


def _window(f, offset: int) -> bytes:
    """The bytes from the TIFF header on: those of a JPEG's APP1 segment when it says how long it is, else 64 KiB."""
    size = WINDOW
    if offset >= 10:
        f.seek(offset - 10)
        head = f.read(10)
        if head[:2] == b"\xff\xe1" and head[4:] == b"Exif\x00\x00":
            size = min(size, int.from_bytes(head[2:4], "big") - 8)
    f.seek(offset)
    return f.read(size) if size > 0 else b""


@functools.lru_cache(maxsize=8)
def _names(wanted: frozenset[str]) -> dict[str, set[str]]:
    """IFD name -> the names of the tags to decode in it (the Exif IFD's offset always)."""
    names: dict[str, set[str]] = {}
    for key in wanted | {"Image ExifOffset"}:
        ifd_name, _, tag_name = key.partition(" ")
        names.setdefault(ifd_name, set()).add(tag_name)
    return names
