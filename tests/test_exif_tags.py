"""The EXIF reader that decodes only the tags stored gives exactly what exifread's ``process_file`` gives for them:
the same values, printable texts, types and offsets, and the same failure on damaged EXIF."""
import io
import random
import shutil
import struct
import subprocess

import exifread
import pytest
from exifread.tags.exif import EXIF_TAGS, GPS_TAGS
from exifread.tags.fields import FIELD_DEFINITIONS, RATIO_FIELD_TYPES, SIGNED_FIELD_TYPES

from parsers import exif_tags
from parsers.exif_media import TAGS
from tests.fixtures.images import jpeg_with_exif


def _view(read, data: bytes):
    """What a reader gives for the stored tags, or the exception it raises."""
    try:
        tags = read(io.BytesIO(data))
    except Exception as exc:
        return "error", type(exc).__name__, str(exc)
    return "ok", {key: (tag.printable, tag.tag, tag.field_type, repr(tag.values), type(tag.values), tag.field_offset,
                        tag.field_length, tag.prefer_printable) for key, tag in tags.items() if key in TAGS}


def _exifread(f):
    return exifread.process_file(f, details=False, extract_thumbnail=False)


def _ours(f):
    return exif_tags.read_tags(f, TAGS)


def test_it_follows_the_installed_exifread():
    # a new exifread release may change the internals this reader repeats: check it, then add it to FOLLOWS
    assert exif_tags.FAST, f"exifread {exifread.__version__} is not one parsers.exif_tags follows"
    for kind, code in exif_tags._NUMBERS.items():
        assert struct.calcsize(code) == FIELD_DEFINITIONS[kind][0]
        assert (len(code) == 2) == (kind in RATIO_FIELD_TYPES)
        assert code[0].islower() == (kind in SIGNED_FIELD_TYPES)
    names = {"Image": EXIF_TAGS, "EXIF": EXIF_TAGS, "GPS": GPS_TAGS}
    for key in TAGS:
        ifd, _, name = key.partition(" ")
        assert any(entry[0] == name and entry[1] is None for entry in names[ifd].values()), key


def _photos(tmp_path) -> list[bytes]:
    """Fixture JPEGs of both byte orders, with and without GPS; one edited by exiftool (an Apple MakerNote,
    orientation, software, lens, sub-seconds, a fractional GPS time, southern/western refs, below sea level)."""
    photos = [jpeg_with_exif("Google", "Pixel 7", "2023:06:01 21:15:30", 51.5072222, -0.1275, 35.25,
                             offset_time="+01:00", gps_utc="2023:06:01 20:15:28"),
              jpeg_with_exif("samsung", "SM-G991B", "2022:12:24 08:00:00", -33.8688, 151.2093, -4.5,
                             gps_utc="2022:12:23 21:00:05", byte_order="II"),
              jpeg_with_exif(None, None, None)]
    if shutil.which("exiftool"):
        photos.append(_exiftool_photo(tmp_path))
    return photos


def _exiftool_photo(tmp_path) -> bytes:
    note = tmp_path / "note.bin"  # an Apple iOS MakerNote: its header, then an IFD with MakerNoteVersion 14
    note.write_bytes(b"Apple iOS\0\0\1MM" + struct.pack(">HHHIi", 1, 1, 9, 1, 14) + b"\0" * 4)
    photo = tmp_path / "edited.jpg"
    photo.write_bytes(jpeg_with_exif("Apple", "iPhone 14", "2024:01:31 19:30:00", 10.0, 20.0, 5.0))
    subprocess.run(["exiftool", "-q", "-overwrite_original", f"-MakerNotes<={note}", "-Orientation#=6",
                    "-Software=17.2.1", "-LensModel=iPhone 14 back dual wide camera 5.7mm f/1.5",
                    "-SubSecTimeOriginal=042", "-OffsetTimeOriginal=-05:00", "-GPSLatitude=22.9068",
                    "-GPSLatitudeRef=S", "-GPSLongitude=43.1729", "-GPSLongitudeRef=W", "-GPSAltitude=12.5",
                    "-GPSAltitudeRef#=1", "-GPSTimeStamp=23:59:59.5", "-GPSDateStamp=2024:01:31", str(photo)],
                   check=True, capture_output=True)
    return photo.read_bytes()


def test_same_tags_as_exifread_on_fixture_photos(tmp_path):
    photos = _photos(tmp_path)
    for data in photos:
        assert _view(_ours, data) == _view(_exifread, data)
    if len(photos) == 4:
        status, tags = _view(_ours, photos[3])
        assert tags["Image Software"][0] == "17.2.1" and tags["EXIF SubSecTimeOriginal"][0] == "042"
        assert tags["GPS GPSTimeStamp"][0] == "[23, 59, 119/2]" and tags["GPS GPSLatitudeRef"][0] == "S"
        assert "MakerNote MakerNoteVersion" in exifread.process_file(io.BytesIO(photos[3]))  # exifread decodes it


def _entries(data: bytes) -> tuple[str, int, list[int]]:
    """Byte order, TIFF header position and the positions of the entries of IFD0 and the Exif and GPS IFDs."""
    tiff = data.index(b"Exif\0\0") + 6
    order = "<" if data[tiff:tiff + 2] == b"II" else ">"
    found, todo = [], [struct.unpack_from(order + "I", data, tiff + 4)[0]]
    while todo:
        ifd = todo.pop()
        for i in range(struct.unpack_from(order + "H", data, tiff + ifd)[0]):
            at = tiff + ifd + 2 + 12 * i
            tag, _, _, pointer = struct.unpack_from(order + "HHII", data, at)
            found.append(at)
            if tag in (0x8769, 0x8825):
                todo.append(pointer)
    return order, tiff, found


def _damaged(data: bytes, rng: random.Random) -> bytes:
    """One to three hostile changes to IFD entries (type, count, value or offset, tag) or the bytes after them."""
    order, tiff, entries = _entries(data)
    data = bytearray(data)
    for _ in range(rng.choice([1, 1, 2, 3])):
        at = rng.choice(entries)
        change = rng.randrange(6)
        if change == 0:
            struct.pack_into(order + "H", data, at + 2, rng.choice([0, 1, 2, 3, 4, 5, 7, 9, 10, 11, 12, 13, 99]))
        elif change == 1:
            struct.pack_into(order + "I", data, at + 4, rng.choice([0, 1, 2, 3, 5, 51, 999, 1000, 0xFFFFFFFF]))
        elif change == 2:
            struct.pack_into(order + "I", data, at + 8, rng.choice([0, 1, 8, len(data) - tiff - 2, len(data),
                                                                   0xFFFFFFF0, rng.randrange(len(data))]))
        elif change == 3:
            struct.pack_into(order + "H", data, at, rng.choice([0x8825, 0x8769, 0xA005, 0x010F, 0x9003, 0x0002,
                                                                0x0007, 0x001D, 0x927C, 0x9000]))
        elif change == 4:
            data[at + rng.randrange(12)] = rng.randrange(256)
        else:
            del data[at + rng.randrange(12):]
            break
    return bytes(data)


def test_same_tags_or_same_failure_on_damaged_exif(tmp_path):
    rng = random.Random(13)
    outcomes = set()
    for data in _photos(tmp_path):
        for _ in range(100):
            damaged = _damaged(data, rng)
            expected = _view(_exifread, damaged)
            assert _view(_ours, damaged) == expected
            outcomes.add(expected[0] if expected[0] == "ok" else expected[1])
    assert {"ok", "IndexError"} <= outcomes  # damage exifread reads past, and damage it fails on


def test_a_float_past_the_end_fails_as_in_exifread():
    """An unstored tag whose single double lies past the end: exifread fails on it, so this reader does too."""
    data = bytearray(jpeg_with_exif("Google", "Pixel 7", "2023:06:01 21:15:30"))
    order, tiff, entries = _entries(bytes(data))
    colour_space = next(at for at in entries if struct.unpack_from(order + "H", data, at)[0] == 0xA001)
    struct.pack_into(order + "HII", data, colour_space + 2, 12, 1, 0xFFFFFF00)
    assert _view(_ours, bytes(data)) == _view(_exifread, bytes(data)) == \
        ("error", "IndexError", "list index out of range")


def test_a_tag_not_read_cannot_be_looked_up():
    tags = exif_tags.read_tags(io.BytesIO(jpeg_with_exif()), TAGS)
    assert tags.get("Image Make").printable == "FixtureCam" and tags.get("GPS GPSLatitude") is None
    with pytest.raises(KeyError, match="Image Orientation"):
        tags.get("Image Orientation")
