"""EXIF of JPEG and HEIC photos: capture time only with a known zone, signed GPS, owning app from the path."""
import hashlib
import shutil
import struct
import subprocess

import pytest

from parsers.exif_media import owning_app
from tests import parser_harness
from tests.fixtures.images import jpeg_with_exif
from tests.test_exif_tags import _entries, _exiftool_photo

PARSERS = ["exif-media"]


def run(tmp_path, files):
    outcomes, rows = parser_harness.run(tmp_path, files, PARSERS)
    return {o.source.path: o for o in outcomes}, rows


def test_offset_time_gps_and_owning_apps(tmp_path):
    camera = jpeg_with_exif("Google", "Pixel 7", "2023:06:01 21:15:30", 51.5072222, -0.1275, 35.25,
                            offset_time="+01:00", gps_utc="2023:06:01 20:15:28")
    forwarded = jpeg_with_exif("samsung", "SM-G991B", "2022:12:24 08:00:00", -33.8688, 151.2093, -4.5,
                               gps_utc="2022:12:23 21:00:05", byte_order="II")
    bare = jpeg_with_exif(None, None, "2020:02:29 23:59:59")
    files = {"/sdcard/DCIM/Camera/PXL_20230601.jpg": camera,
             "/sdcard/WhatsApp/Media/WhatsApp Images/IMG-20221224-WA0003.jpeg": forwarded,
             "/sdcard/Telegram/Telegram Images/photo_2020.JPG": bare}
    outcomes, rows = run(tmp_path, files)
    assert [(o.outcome, o.records) for o in outcomes.values()] == [("parsed", 2), ("parsed", 1), ("parsed", 2)]
    media = {m["media_path"]: m for m in rows["media"]}

    first = media["/sdcard/DCIM/Camera/PXL_20230601.jpg"]
    assert first["app"] == "system" and first["mime_type"] == "image/jpeg"
    assert first["sha256"] == hashlib.sha256(camera).hexdigest()
    assert (first["camera_make"], first["camera_model"]) == ("Google", "Pixel 7")
    assert first["local_time"] == "2023-06-01T21:15:30"
    assert (first["ts"], first["ts_raw"], first["ts_encoding"]) == \
        ("2023-06-01T20:15:30.000000Z", "2023:06:01 21:15:30+01:00", "exif_datetime+offset")
    assert first["latitude"] == pytest.approx(51.5072222, abs=1e-7)
    assert first["longitude"] == pytest.approx(-0.1275, abs=1e-7) and first["altitude"] == 35.25
    assert first["extra"]["gps_time"] == "2023-06-01T20:15:28.000000Z" and first["extra"]["offset_time"] == "+01:00"

    second = media["/sdcard/WhatsApp/Media/WhatsApp Images/IMG-20221224-WA0003.jpeg"]
    assert second["app"] == "com.whatsapp" and second["local_time"] == "2022-12-24T08:00:00"
    assert (second["ts"], second["ts_encoding"]) == ("2022-12-23T21:00:05.000000Z", "exif_gps_utc")
    assert second["latitude"] == pytest.approx(-33.8688, abs=1e-7)
    assert second["longitude"] == pytest.approx(151.2093, abs=1e-7) and second["altitude"] == -4.5

    third = media["/sdcard/Telegram/Telegram Images/photo_2020.JPG"]
    assert third["app"] == "org.telegram.messenger" and third["ts"] is None
    assert third["local_time"] == "2020-02-29T23:59:59" and third["camera_make"] is None
    assert third["latitude"] is None

    locations = {loc["extra"]["media_path"]: loc for loc in rows["locations"]}
    assert sorted(locations) == ["/sdcard/DCIM/Camera/PXL_20230601.jpg",
                                 "/sdcard/WhatsApp/Media/WhatsApp Images/IMG-20221224-WA0003.jpeg"]
    loc = locations["/sdcard/DCIM/Camera/PXL_20230601.jpg"]
    assert (loc["source_kind"], loc["label"], loc["ts"], loc["ts_encoding"]) == \
        ("photo exif", "PXL_20230601.jpg", "2023-06-01T20:15:28.000000Z", "exif_gps_utc")
    assert loc["latitude"] == first["latitude"] and loc["altitude"] == 35.25
    assert locations["/sdcard/WhatsApp/Media/WhatsApp Images/IMG-20221224-WA0003.jpeg"]["app"] == "com.whatsapp"


def test_negative_offset_and_what_is_not_a_photo(tmp_path):
    west = jpeg_with_exif("Apple", "iPhone 14", "2024:01:31 19:30:00", offset_time="-05:00")
    no_exif = _strip_app1(west)
    files = {"/private/var/mobile/Media/DCIM/100APPLE/IMG_0001.JPG": west,
             "/sdcard/Pictures/not_a_photo.jpg": b"<html>a web page saved with a .jpg name</html>",
             "/sdcard/Pictures/stripped.jpg": no_exif, "/sdcard/Pictures/empty.heic": b""}
    outcomes, rows = run(tmp_path, files)
    assert outcomes["/sdcard/Pictures/not_a_photo.jpg"].outcome == "no data"
    assert outcomes["/sdcard/Pictures/empty.heic"].outcome == "no data"
    media = {m["media_path"]: m for m in rows["media"]}
    assert media["/private/var/mobile/Media/DCIM/100APPLE/IMG_0001.JPG"]["ts"] == "2024-02-01T00:30:00.000000Z"
    stripped = media["/sdcard/Pictures/stripped.jpg"]
    assert stripped["sha256"] == hashlib.sha256(no_exif).hexdigest() and stripped["mime_type"] == "image/jpeg"
    assert (stripped["camera_make"], stripped["local_time"], stripped["ts"]) == (None, None, None)
    assert rows["locations"] == []


def _strip_app1(jpeg: bytes) -> bytes:
    at = jpeg.index(b"\xff\xe1")
    length = struct.unpack(">H", jpeg[at + 2:at + 4])[0]
    return jpeg[:at] + jpeg[at + 2 + length:]


@pytest.fixture
def heic_photo(tmp_path):
    """A HEIC written by libheif's heif-enc, which carries over the EXIF of the JPEG it encodes."""
    if shutil.which("heif-enc") is None:
        pytest.skip("heif-enc missing (Debian libheif-examples)")
    source = tmp_path / "source.jpg"
    source.write_bytes(jpeg_with_exif("Apple", "iPhone 15 Pro", "2024:07:14 10:20:30", 48.8583701, 2.2944813, 33.0,
                                      offset_time="+02:00", width=64, height=64))
    target = tmp_path / "photo.heic"
    subprocess.run(["heif-enc", "-q", "50", str(source), "-o", str(target)], check=True, capture_output=True)
    return target.read_bytes()


def test_heic_exif_including_iloc_base_offset(tmp_path, heic_photo):
    path = "/storage/emulated/0/Android/media/com.whatsapp/WhatsApp/Media/WhatsApp Images/IMG_1.heic"
    outcomes, rows = run(tmp_path, {path: heic_photo})
    (media,) = rows["media"]
    assert (media["app"], media["mime_type"], media["camera_model"]) == ("com.whatsapp", "image/heic", "iPhone 15 Pro")
    assert (media["ts"], media["ts_encoding"]) == ("2024-07-14T08:20:30.000000Z", "exif_datetime+offset")
    assert media["latitude"] == pytest.approx(48.8583701, abs=1e-7) and media["altitude"] == 33.0
    (location,) = rows["locations"]
    assert location["ts"] == "2024-07-14T08:20:30.000000Z"  # no GPS time: the capture time


def test_damaged_heic_metadata_keeps_the_photo_and_says_why(tmp_path, heic_photo):
    data = bytearray(heic_photo)
    iloc = data.index(b"iloc")
    data[iloc + 4 + 4:iloc + 4 + 8] = b"\x7f\xff\xff\xff"  # item count far beyond the box
    outcomes, rows = run(tmp_path, {"/sdcard/DCIM/broken.HEIC": bytes(data)})
    (media,) = rows["media"]
    assert media["mime_type"] == "image/heic" and media["sha256"] == hashlib.sha256(data).hexdigest()
    assert media["extra"]["exif_error"] == "ValueError: iloc box is truncated"
    assert media["ts"] is None and rows["locations"] == []


@pytest.mark.parametrize("path, app", [
    ("/data/media/0/WhatsApp/Media/WhatsApp Video/VID.jpg", "com.whatsapp"),
    ("/sdcard/WhatsApp Business/Media/x.jpg", "com.whatsapp.w4b"),
    ("/sdcard/Android/data/org.telegram.messenger/cache/-123.jpg", "org.telegram.messenger"),
    ("/data/data/com.instagram.android/cache/images/a.jpg", "com.instagram.android"),
    ("/data/user/10/com.snapchat.android/files/m.jpg", "com.snapchat.android"),
    ("/sdcard/DCIM/Camera/IMG.jpg", "system"),
    ("/sdcard/Download/WhatsApp.jpg", "system"),
])
def test_owning_app(path, app):
    assert owning_app(path) == app


def test_exiftool_edited_photo_and_damaged_ones_in_one_run(tmp_path):
    """What the reader of only the stored tags must keep: an Apple MakerNote and an orientation beside the tags
    stored, sub-seconds with the offset, southern and western refs, below sea level, a fractional GPS time; and
    photos whose EXIF is damaged each cost their own EXIF, nothing else of the run."""
    if shutil.which("exiftool") is None:
        pytest.skip("exiftool missing (Debian libimage-exiftool-perl)")
    edited = _exiftool_photo(tmp_path)
    float_past_end = bytearray(jpeg_with_exif("Google", "Pixel 7", "2023:06:01 21:15:30", 1.0, 2.0))
    order, _, entries = _entries(bytes(float_past_end))
    colour_space = next(at for at in entries if struct.unpack_from(order + "H", float_past_end, at)[0] == 0xA001)
    struct.pack_into(order + "HII", float_past_end, colour_space + 2, 12, 1, 0xFFFFFF00)  # one double, past the end
    exif_ifd_gone = bytearray(jpeg_with_exif("Google", "Pixel 7", "2023:06:01 21:15:30", 1.0, 2.0))
    pointer = next(at for at in entries if struct.unpack_from(order + "H", exif_ifd_gone, at)[0] == 0x8769)
    struct.pack_into(order + "I", exif_ifd_gone, pointer + 8, 0x7FFFFFF0)
    files = {"/sdcard/DCIM/Camera/IMG_1.jpg": edited, "/sdcard/DCIM/Camera/IMG_2.jpg": bytes(float_past_end),
             "/sdcard/DCIM/Camera/IMG_3.jpg": bytes(exif_ifd_gone)}
    outcomes, rows = run(tmp_path, files)
    assert [(o.outcome, o.records) for o in outcomes.values()] == [("parsed", 2), ("parsed", 1), ("parsed", 2)]
    media = {m["media_path"].rsplit("/", 1)[1]: m for m in rows["media"]}

    first = media["IMG_1.jpg"]
    assert (first["camera_make"], first["camera_model"], first["local_time"]) == \
        ("Apple", "iPhone 14", "2024-01-31T19:30:00.042000")
    assert (first["ts"], first["ts_raw"], first["ts_encoding"]) == \
        ("2024-02-01T00:30:00.042000Z", "2024:01:31 19:30:00.042-05:00", "exif_datetime+offset")
    assert (first["latitude"], first["longitude"], first["altitude"]) == \
        (pytest.approx(-22.9068, abs=1e-9), pytest.approx(-43.1729, abs=1e-9), -12.5)
    assert first["extra"] == {"software": "17.2.1", "lens": "iPhone 14 back dual wide camera 5.7mm f/1.5",
                              "offset_time": "-05:00", "gps_time": "2024-01-31T23:59:59.500000Z"}

    assert media["IMG_2.jpg"]["extra"] == {"exif_error": "IndexError: list index out of range"}
    assert (media["IMG_2.jpg"]["camera_make"], media["IMG_2.jpg"]["latitude"]) == (None, None)
    third = media["IMG_3.jpg"]  # IFD0 and GPS still read; the capture time was in the Exif IFD
    assert (third["camera_make"], third["local_time"], third["latitude"]) == ("Google", None, 1.0)
