"""Every location of a case (app locations, photo EXIF GPS, photo libraries) as GeoJSON or KML, for QGIS and
Google Earth.

GeoJSON (RFC 7946): a FeatureCollection of Points, coordinates ``[longitude, latitude(, altitude)]`` in WGS 84, each
feature's properties holding the UTC time with its raw value and encoding, the device, app and the provenance of
the row. KML 2.2: one Placemark per location with a ``TimeStamp`` (UTC) and the same facts as ExtendedData, all text
escaped by the XML writer. Both are written one location at a time, in a fixed order (device, time, row), so memory
stays flat and the same case gives the same bytes. Rows whose coordinates are outside the valid range are left out
and counted.
"""
from __future__ import annotations

import json
from typing import Iterator, TextIO
from xml.sax.saxutils import escape, quoteattr

from artifacts.store import BOOL_COLUMNS, PROVENANCE_COLUMNS, Store

_FIELDS = ["device_id", "app", "ts", "ts_raw", "ts_encoding", "label", "source_kind", "accuracy_m", "altitude",
           *[c for c in PROVENANCE_COLUMNS if c != "device_id"]]


def locations(store: Store, device_id: str | None = None) -> Iterator[dict]:
    """Location rows with valid coordinates, ordered by device, time, row id."""
    where, args = ("WHERE device_id = ?", [device_id]) if device_id else ("", [])
    cursor = store.db.execute(f"SELECT * FROM locations {where} ORDER BY device_id, ts IS NULL, ts, id", args)
    names = [d[0] for d in cursor.description]
    for values in cursor:
        row = dict(zip(names, values))
        for flag in BOOL_COLUMNS.intersection(row):
            if row[flag] is not None:
                row[flag] = bool(row[flag])
        yield row


def _valid(row: dict) -> bool:
    lat, lon = row.get("latitude"), row.get("longitude")
    return isinstance(lat, (int, float)) and isinstance(lon, (int, float)) and -90 <= lat <= 90 and \
        -180 <= lon <= 180


def write_geojson(store: Store, out: TextIO, device_id: str | None = None) -> tuple[int, int]:
    """Returns (written, left out)."""
    out.write('{"type": "FeatureCollection", "features": [\n')
    written = skipped = 0
    for row in locations(store, device_id):
        if not _valid(row):
            skipped += 1
            continue
        point = [row["longitude"], row["latitude"]] + ([row["altitude"]] if row.get("altitude") is not None else [])
        feature = {"type": "Feature", "id": f"{row['device_id']}/locations/{row['id']}",
                   "geometry": {"type": "Point", "coordinates": point},
                   "properties": {k: row.get(k) for k in _FIELDS}}
        out.write((",\n" if written else "") + json.dumps(feature, ensure_ascii=False, sort_keys=True))
        written += 1
    out.write("\n]}\n")
    return written, skipped


def write_kml(store: Store, out: TextIO, name: str = "locations", device_id: str | None = None) -> tuple[int, int]:
    """Returns (written, left out)."""
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">\n<Document>\n')
    out.write(f"<name>{_text(name)}</name>\n")
    written = skipped = 0
    for row in locations(store, device_id):
        if not _valid(row):
            skipped += 1
            continue
        title = row.get("label") or f"{row.get('app')} {row.get('source_kind') or 'location'}"
        placemark_id = quoteattr(f"loc-{row['device_id']}-{row['id']}")
        out.write(f"<Placemark id={placemark_id}>\n"
                  f"<name>{_text(title)}</name>\n")
        if row.get("ts"):
            out.write(f"<TimeStamp><when>{_text(row['ts'])}</when></TimeStamp>\n")
        out.write("<ExtendedData>\n")
        for key in _FIELDS:
            if row.get(key) is not None:
                out.write(f"<Data name={quoteattr(key)}><value>{_text(row[key])}</value></Data>\n")
        out.write("</ExtendedData>\n")
        altitude = f",{row['altitude']}" if row.get("altitude") is not None else ""
        out.write(f"<Point><coordinates>{row['longitude']},{row['latitude']}{altitude}</coordinates></Point>\n"
                  f"</Placemark>\n")
        written += 1
    out.write("</Document>\n</kml>\n")
    return written, skipped


def _text(value) -> str:
    """Text XML 1.0 can carry: escaped, and characters it cannot hold at all shown as ``\\xNN``."""
    text = str(value)
    cleaned = "".join(c if c in "\t\n\r" or ord(c) >= 0x20 and not 0xD800 <= ord(c) <= 0xDFFF and
                      c not in "\ufffe\uffff" else f"\\x{ord(c):02x}" for c in text)
    return escape(cleaned)
