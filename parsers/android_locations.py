"""Places an Android phone kept: Google Maps saved places and the Google location service's cell and Wi-Fi caches.

- Google Maps (``com.google.android.apps.maps/databases/gmm_myplaces.db``), layout from ALEAPP
  ``scripts/artifacts/googleMapsGmm.py``: ``sync_item(key_string, latitude, longitude [degrees × 10⁶], sync_item
  [protobuf], timestamp [Unix ms])``; ``key_string`` ``0:0`` is the saved Home and ``1:0`` Work; the protobuf's 6.7
  is a label, 6.2 the address, 6.6 a URL. ``source_kind`` ``saved place``.
- The location service's caches (``com.google.android.location/files/cache.cell/cache.cell`` and
  ``cache.wifi/cache.wifi``, older Android), layout from ALEAPP ``scripts/artifacts/cachelocation.py`` (after
  Spreitzenbarth 2011): big-endian ``version`` and ``entries`` (int16 each), then per entry an int16 key length, the
  key (a cell id or a BSSID), and ``accuracy`` (int32), ``confidence`` (int32), ``latitude``, ``longitude``
  (doubles) and the read time (uint64, Unix ms). These are positions of cells and access points the service looked
  up, not the phone's own fixes; ``source_kind`` ``cell tower`` or ``wifi access point``.
"""
from __future__ import annotations

import struct

from artifacts import timestamps
from artifacts.records import Location
from parsers.decoders import protobuf_wire as pw
from parsers.framework import parser

MAPS, LOCATION = "com.google.android.apps.maps", "com.google.android.location"
_SAVED = {"0:0": "Home", "1:0": "Work"}
_ENTRY = struct.Struct(">iiddQ")
MAX_CACHE = 64 * 1024 * 1024


@parser(name="google-maps-android-saved-places", app=MAPS, platform="Google Maps",
        paths=["*/com.google.android.apps.maps/databases/gmm_myplaces.db"],
        source="ALEAPP scripts/artifacts/googleMapsGmm.py",
        requires={"sync_item": {"key_string", "latitude", "longitude", "sync_item", "timestamp"}})
def saved_places(db, ctx):
    """Saved places (Home, Work, starred) with their address."""
    for row in db.execute("SELECT rowid AS row_id, key_string, latitude, longitude, sync_item, timestamp "
                          "FROM sync_item ORDER BY rowid"):
        if not isinstance(row["latitude"], int) or not isinstance(row["longitude"], int):
            continue
        blob = bytes(row["sync_item"]) if isinstance(row["sync_item"], (bytes, bytearray)) else b""
        label = _SAVED.get(row["key_string"]) or pw.text(blob, 6, 7)
        extra = {"key": row["key_string"], "address": pw.text(blob, 6, 2), "url": pw.text(blob, 6, 6)}
        yield Location(app=ctx.app, latitude=row["latitude"] / 1_000_000, longitude=row["longitude"] / 1_000_000,
                       label=label, source_kind="saved place", ts=timestamps.unix_ms(row["timestamp"]),
                       extra={k: v for k, v in extra.items() if v}, prov=ctx.prov("sync_item", row["row_id"]))


@parser(name="android-location-cache", app=LOCATION, source="ALEAPP scripts/artifacts/cachelocation.py",
        paths=["*/com.google.android.location/files/cache.cell/cache.cell",
               "*/com.google.android.location/files/cache.wifi/cache.wifi"])
def location_cache(_db, ctx):
    """Cell and Wi-Fi positions in the location service's cache files."""
    kind = "cell tower" if ctx.source.path.endswith("cache.cell") else "wifi access point"
    data = ctx.local.read_bytes()[:MAX_CACHE]
    if len(data) < 4:
        raise ValueError("shorter than the 4-byte header")
    version, entries = struct.unpack_from(">hh", data, 0)
    pos = 4
    for index in range(max(entries, 0)):
        if pos + 2 > len(data):
            raise ValueError(f"entry {index} of {entries} is cut off at byte {pos}")
        (key_length,) = struct.unpack_from(">h", data, pos)
        start = pos + 2 + max(key_length, 0)
        if key_length < 0 or start + _ENTRY.size > len(data):
            raise ValueError(f"entry {index} of {entries} is cut off at byte {pos}")
        key = data[pos + 2:start].decode("utf-8", "replace")
        accuracy, confidence, lat, lon, read = _ENTRY.unpack_from(data, start)
        pos = start + _ENTRY.size
        yield Location(app=ctx.app, latitude=lat, longitude=lon, accuracy_m=float(accuracy), source_kind=kind,
                       label=key, ts=timestamps.unix_ms(read),
                       extra={"confidence": confidence, "cache_version": version},
                       prov=ctx.prov(None, str(index)))
