"""Photo metadata from EXIF: every JPEG and HEIC/HEIF file becomes a Media record, and one with GPS a Location too.

Files: ``*.jpg``, ``*.jpeg``, ``*.heic``, ``*.heif`` anywhere (names match case-insensitively). A file whose bytes are
neither a JPEG (``FF D8 FF``) nor an ISO-BMFF HEIF (``ftyp`` with a HEIF brand) gives no record ("no data"); a real
photo without EXIF still gives a Media record with its hash and type.

EXIF is read with ``exifread`` (only the tags in ``TAGS`` are decoded: ``parsers.exif_tags``). For HEIF the Exif
item is located here (``meta``/``iinf``/``iloc``, honouring the ``iloc`` base offset and ``idat`` construction,
which exifread 3.5 ignores) and its TIFF bytes are handed to exifread.

Times: EXIF ``DateTimeOriginal`` is local time without a zone, so it is kept as text in ``local_time`` and ``ts``
is set only when the zone is known:

- ``exif_datetime+offset``: ``DateTimeOriginal`` (+ ``SubSecTimeOriginal``) with ``OffsetTimeOriginal`` (EXIF 2.31);
- ``exif_gps_utc``: otherwise, ``GPSDateStamp`` + ``GPSTimeStamp``, which EXIF defines as UTC.

``app`` is the owning app when the path lies in an app's folder (``Android/data|media/<package>/``,
``data/data/<package>/``, or a messenger's shared-storage folder such as ``WhatsApp/`` or ``Telegram/``), else
``system``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import struct
from fractions import Fraction

from artifacts import timestamps
from artifacts.records import Location, Media
from parsers.exif_tags import read_tags
from parsers.framework import parser

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "EXIF 2.32 / CIPA DC-008 tags and ISO/IEC 23008-12 HEIF boxes, read with exifread"

_HEIF_BRANDS = {b"heic": "image/heic", b"heix": "image/heic", b"heim": "image/heic", b"heis": "image/heic",
                b"hevc": "image/heic-sequence", b"hevx": "image/heic-sequence", b"mif1": "image/heif",
                b"msf1": "image/heif-sequence", b"avif": "image/avif"}
_MAX_EXIF = 16 * 1024 * 1024  # an Exif item larger than this is not metadata

_PACKAGE_IN_PATH = re.compile(r"/(?:android/(?:data|media|obb)|data/data|data/user(?:_de)?/\d+)/"
                              r"([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)/", re.IGNORECASE)
_APP_FOLDERS = {"whatsapp": "com.whatsapp", "whatsapp business": "com.whatsapp.w4b",
                "telegram": "org.telegram.messenger", "viber": "com.viber.voip", "signal": "org.thoughtcrime.securesms",
                "instagram": "com.instagram.android", "messenger": "com.facebook.orca"}

# every EXIF tag this parser reads: only these are decoded (parsers.exif_tags)
TAGS = frozenset({"Image Make", "Image Model", "Image Software", "EXIF LensModel", "EXIF DateTimeOriginal",
                  "EXIF SubSecTimeOriginal", "EXIF OffsetTimeOriginal", "GPS GPSDate", "GPS GPSTimeStamp",
                  "GPS GPSLatitude", "GPS GPSLatitudeRef", "GPS GPSLongitude", "GPS GPSLongitudeRef",
                  "GPS GPSAltitude", "GPS GPSAltitudeRef"})

_EXIF_TIME = re.compile(r"(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})")
_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")


@parser(name="exif-media", app="system", paths=["*.jpg", "*.jpeg", "*.heic", "*.heif"], stream=True,
        standalone=True)
def exif_media(db, ctx):
    """Photo metadata (camera, capture time, GPS) from the EXIF of JPEG and HEIC/HEIF files."""
    with ctx.open() as f:  # stream=True: a photo's copy may be a section of the inventory's pack file
        head = f.read(32)
        mime = _mime_type(head)
        if mime is None:
            return
        extra = {}
        try:
            tags = _exif_tags(f, mime)
        except Exception as exc:  # a damaged EXIF block in a real photo: the photo is still reported, with why
            tags, extra["exif_error"] = {}, f"{type(exc).__name__}: {exc}"
    app = owning_app(ctx.source.path)
    local, offset_ts = _capture_time(tags)
    gps_ts = _gps_time(tags)
    lat, lon, alt = _gps_position(tags)
    for key, tag in (("software", "Image Software"), ("lens", "EXIF LensModel"),
                     ("offset_time", "EXIF OffsetTimeOriginal")):
        if (value := _text(tags, tag)) is not None:
            extra[key] = value
    if gps_ts:  # a decoded time (one kept undecoded is false)
        extra["gps_time"] = gps_ts.iso
    if local is None and (raw := _text(tags, "EXIF DateTimeOriginal")) is not None:
        extra["datetime_original"] = raw  # present but not a valid EXIF date and time
    sha256 = ctx.source.sha256 or _sha256(ctx)  # the inventory hashed these bytes when it spooled them
    yield Media(app=app, media_path=ctx.source.path, sha256=sha256, mime_type=mime,
                camera_make=_text(tags, "Image Make"), camera_model=_text(tags, "Image Model"), local_time=local,
                ts=offset_ts or gps_ts, latitude=lat, longitude=lon, altitude=alt, extra=extra, prov=ctx.prov())
    if lat is not None:
        yield Location(app=app, latitude=lat, longitude=lon, altitude=alt, source_kind="photo exif",
                       label=ctx.source.path.rsplit("/", 1)[-1], ts=gps_ts or offset_ts,
                       extra={"media_path": ctx.source.path}, prov=ctx.prov())


def owning_app(path: str) -> str:
    """The Android package whose folder holds ``path``, or ``system``."""
    if (m := _PACKAGE_IN_PATH.search(path)):
        return m.group(1)
    for part in path.lower().split("/")[:-1]:
        if part in _APP_FOLDERS:
            return _APP_FOLDERS[part]
    return "system"


def _mime_type(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[4:8] == b"ftyp" and len(head) >= 12:
        major = _HEIF_BRANDS.get(head[8:12])
        if major:
            return major
        size = struct.unpack(">I", head[:4])[0]
        brands = {head[i:i + 4] for i in range(16, min(size, len(head)) - 3, 4)}
        return "image/heif" if b"mif1" in brands else None
    return None


def _exif_tags(f, mime: str) -> dict:
    f.seek(0)
    if mime == "image/jpeg":
        return read_tags(f, TAGS)
    tiff = heif_exif_tiff(f)
    return read_tags(io.BytesIO(tiff), TAGS) if tiff else {}


def _sha256(ctx) -> str:
    digest = hashlib.sha256()
    with ctx.open() as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _text(tags: dict, name: str) -> str | None:
    tag = tags.get(name)
    if tag is None:
        return None
    value = str(tag.values if isinstance(tag.values, str) else tag.printable).strip("\x00 ")
    return value or None


def _capture_time(tags) -> tuple[str | None, timestamps.TimeValue | None]:
    """(local time as ISO text without zone, UTC time when OffsetTimeOriginal gives the zone)."""
    raw = _text(tags, "EXIF DateTimeOriginal")
    m = _EXIF_TIME.fullmatch(raw or "")
    if not m:
        return None, None
    subsec = re.sub(r"\D", "", _text(tags, "EXIF SubSecTimeOriginal") or "")[:6]
    try:
        moment = dt.datetime(*map(int, m.groups()), int(subsec.ljust(6, "0")) if subsec else 0)
    except ValueError:
        return None, None
    local = moment.isoformat()
    offset_text = _text(tags, "EXIF OffsetTimeOriginal")
    o = _OFFSET.fullmatch(offset_text or "")
    if not o or int(o.group(2)) > 14 or int(o.group(3)) > 59:
        return local, None
    delta = dt.timedelta(hours=int(o.group(2)), minutes=int(o.group(3))) * (-1 if o.group(1) == "-" else 1)
    aware = moment.replace(tzinfo=dt.timezone(delta))
    raw_text = raw + (f".{subsec}" if subsec else "") + offset_text
    return local, timestamps.from_datetime(aware, raw_text, "exif_datetime+offset")


def _gps_time(tags) -> timestamps.TimeValue | None:
    date, stamp = _text(tags, "GPS GPSDate"), tags.get("GPS GPSTimeStamp")
    d = re.fullmatch(r"(\d{4}):(\d{2}):(\d{2})", date or "")
    parts = _ratios(stamp)
    if not d or parts is None or len(parts) != 3:
        return None
    micros = round((parts[0] * 3600 + parts[1] * 60 + parts[2]) * 1_000_000)
    try:
        moment = dt.datetime(*map(int, d.groups()), tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=micros)
    except (ValueError, OverflowError):
        return None
    if not 0 <= micros < 86_400_000_000:
        return None
    return timestamps.from_datetime(moment, f"{date} {stamp.printable}", "exif_gps_utc")


def _gps_position(tags) -> tuple[float | None, float | None, float | None]:
    lat = _degrees(tags.get("GPS GPSLatitude"), _text(tags, "GPS GPSLatitudeRef"), "NS", 90)
    lon = _degrees(tags.get("GPS GPSLongitude"), _text(tags, "GPS GPSLongitudeRef"), "EW", 180)
    if lat is None or lon is None:
        return None, None, None
    alt = None
    altitude = _ratios(tags.get("GPS GPSAltitude"))
    if altitude:
        below = (_ratios(tags.get("GPS GPSAltitudeRef")) or [0])[0] == 1
        alt = float(-altitude[0] if below else altitude[0])
    return lat, lon, alt


def _degrees(tag, ref: str | None, refs: str, limit: int) -> float | None:
    parts = _ratios(tag)
    if parts is None or len(parts) != 3 or ref is None or ref.upper()[:1] not in refs:
        return None
    value = parts[0] + parts[1] / 60 + parts[2] / 3600
    if value > limit:
        return None
    return float(-value if ref.upper()[:1] == refs[1] else value)


def _ratios(tag) -> list[Fraction] | None:
    """A tag's numeric values as exact fractions; None when absent or when a denominator is zero."""
    if tag is None or isinstance(tag.values, (str, bytes)):
        return None
    values = []
    for v in tag.values:
        if isinstance(v, int):
            values.append(Fraction(v))
        elif getattr(v, "denominator", 0):
            values.append(Fraction(v.numerator, v.denominator))
        else:
            return None
    return values


# --- HEIF (ISO/IEC 23008-12) Exif item --------------------------------------------------------------------------


def heif_exif_tiff(f) -> bytes | None:
    """The TIFF bytes of the Exif item of a HEIF file, or None when it has none.

    ``meta`` holds ``iinf`` (item types; the Exif item has type ``Exif``) and ``iloc`` (where each item's bytes are:
    file offsets from a base offset, or offsets into ``idat``). The item starts with a 32-bit offset to the TIFF
    header, which lets writers put ``Exif\\0\\0`` (or a whole APP1 header) in front of it.
    """
    f.seek(0, io.SEEK_END)
    size = f.tell()
    meta = next((body for kind, body in _boxes(f, 0, size) if kind == b"meta"), None)
    if meta is None:
        return None
    start, end = meta
    children = {kind: body for kind, body in _boxes(f, start + 4, end)}  # meta is a full box: skip version/flags
    if b"iinf" not in children or b"iloc" not in children:
        return None
    item = _exif_item_id(f, *children[b"iinf"])
    if item is None:
        return None
    extents = _item_extents(f, *children[b"iloc"]).get(item)
    if not extents:
        return None
    data = b""
    for method, offset, length in extents:
        if method == 1 and b"idat" in children:
            offset += children[b"idat"][0]
        elif method != 0:
            return None
        if length > _MAX_EXIF - len(data) or offset + length > size:
            raise ValueError("Exif item lies outside the file")
        f.seek(offset)
        data += f.read(length)
    if len(data) < 4:
        return None
    skip = struct.unpack(">I", data[:4])[0]
    tiff = data[4 + skip:]
    if tiff[:6] == b"Exif\x00\x00":
        tiff = tiff[6:]
    return tiff if tiff[:4] in (b"MM\x00*", b"II*\x00") else None


def _boxes(f, start: int, end: int):
    """(type, (body start, body end)) for each box between two offsets."""
    pos = start
    while pos + 8 <= end:
        f.seek(pos)
        size, kind = struct.unpack(">I4s", f.read(8))
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", f.read(8))[0], 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise ValueError(f"box {kind!r} at {pos} overruns its container")
        yield kind, (pos + header, pos + size)
        pos += size


def _exif_item_id(f, start: int, end: int) -> int | None:
    f.seek(start)
    version = f.read(4)[0]
    f.read(2 if version == 0 else 4)  # entry count; the infe boxes follow
    for kind, (body, body_end) in _boxes(f, f.tell(), end):
        if kind != b"infe":
            continue
        f.seek(body)
        infe_version = f.read(4)[0]
        if infe_version < 2:
            continue
        id_size = 2 if infe_version == 2 else 4
        item_id = int.from_bytes(f.read(id_size), "big")
        f.read(2)  # protection index
        if f.read(4) == b"Exif":
            return item_id
    return None


def _item_extents(f, start: int, end: int) -> dict[int, list[tuple[int, int, int]]]:
    """item id -> [(construction method, offset, length)] from an ``iloc`` box."""
    f.seek(start)
    data = f.read(end - start)
    version = data[0]
    pos = 4
    sizes = data[pos] >> 4, data[pos] & 15, data[pos + 1] >> 4, data[pos + 1] & 15
    offset_size, length_size, base_size, index_size = sizes
    pos += 2

    def read(n: int) -> int:
        nonlocal pos
        if pos + n > len(data):
            raise ValueError("iloc box is truncated")
        value = int.from_bytes(data[pos:pos + n], "big")
        pos += n
        return value

    items = {}
    for _ in range(read(2 if version < 2 else 4)):
        item_id = read(2 if version < 2 else 4)
        method = read(2) & 15 if version in (1, 2) else 0
        read(2)  # data reference index
        base = read(base_size)
        extents = []
        for _ in range(read(2)):
            if version in (1, 2) and index_size:
                read(index_size)
            extents.append((method, base + read(offset_size), read(length_size)))
        items[item_id] = extents
    return items
