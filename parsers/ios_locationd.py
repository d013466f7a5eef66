"""iOS location service caches: ``/private/var/root/Library/Caches/locationd/cache_encryptedB.db``.

Layout from iLEAPP ``scripts/artifacts/locationdCacheEncryptedB.py`` (plain SQLite to it; the real test files are
over the mirror's size limit). Times are Cocoa seconds, with -1 for "none".

- ``WifiLocation(Timestamp, Latitude, Longitude, MAC [integer BSSID], HorizontalAccuracy, Altitude, Channel,
  Confidence, Score, Reach)``: where Apple's service places a Wi-Fi access point the phone saw or looked up — **the
  access point's position, downloaded, not the device's**; ``source_kind`` ``wifi access point``.
- ``WifiAssociatedApWifiHarvestTable(Timestamp, ScanTimestamp, Latitude, Longitude, MAC, Rssi, Channel,
  HorizontalAccuracy, Altitude, LoiType)``: positions the phone itself recorded while associated with an access
  point; ``source_kind`` ``wifi harvest``.
- Cell tables ``CellLocation``, ``CellLocationLocal``, ``LteCellLocation``, ``LteCellLocationLocal``,
  ``NrCellLocation``, ``ScdmaCellLocation``, ``CdmaCellLocation``, ``CdmaCellLocationLocal`` (``Timestamp``,
  ``Latitude``, ``Longitude``, ``MCC``, ``MNC``, LAC/TAC, CI or BSID, channel, ``HorizontalAccuracy``,
  ``Altitude``, ``Confidence``): positions of cell towers; ``source_kind`` ``cell tower``.

Columns other than those named in each ``requires`` are read through ``optional_columns``; rows are identified by
rowid.
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Location
from parsers.framework import columns, optional_columns, parser, tables

APP = "com.apple.locationd"
PATHS = ["*/root/Library/Caches/locationd/cache_encryptedB.db"]
SOURCE = "iLEAPP scripts/artifacts/locationdCacheEncryptedB.py"
_POSITION = {"Timestamp", "Latitude", "Longitude"}
# table → (radio, area column, cell column, channel column)
CELL_TABLES = {
    "CellLocation": ("GSM/UMTS", "LAC", "CI", "UARFCN"), "CellLocationLocal": ("GSM/UMTS", "LAC", "CI", "UARFCN"),
    "LteCellLocation": ("LTE", "TAC", "CI", "UARFCN"), "LteCellLocationLocal": ("LTE", "TAC", "CI", "UARFCN"),
    "NrCellLocation": ("5G NR", "TAC", "CI", "NRARFCN"), "ScdmaCellLocation": ("TD-SCDMA", "LAC", "CI", "UARFCN"),
    "CdmaCellLocation": ("CDMA", "NID", "BSID", "CHANNEL"), "CdmaCellLocationLocal": ("CDMA", "NID", "BSID", "CHANNEL"),
}


@parser(name="ios-locationd-wifi", app=APP, paths=PATHS, source=SOURCE, requires={"WifiLocation": _POSITION | {"MAC"}})
def wifi_access_points(db, ctx):
    """Positions of Wi-Fi access points (WifiLocation): the access point's place, not the phone's."""
    extra_columns = ("HorizontalAccuracy", "Altitude", "Channel", "Confidence", "Score", "Reach")
    yield from _rows(db, ctx, "WifiLocation", "wifi access point", ("MAC",) + extra_columns,
                     lambda r: {"bssid": _mac(r["MAC"]), "channel": r["Channel"], "confidence": r["Confidence"],
                                "score": r["Score"], "reach": r["Reach"]})


@parser(name="ios-locationd-wifi-harvest", app=APP, paths=PATHS, source=SOURCE,
        requires={"WifiAssociatedApWifiHarvestTable": _POSITION | {"MAC"}})
def wifi_harvest(db, ctx):
    """Positions the phone recorded while associated with an access point (WifiAssociatedApWifiHarvestTable)."""
    def extra(r):
        scanned = _time(r["ScanTimestamp"])
        return {"bssid": _mac(r["MAC"]), "rssi": r["Rssi"], "channel": r["Channel"], "loi_type": r["LoiType"],
                "scan_time": scanned.iso if scanned else None}
    yield from _rows(db, ctx, "WifiAssociatedApWifiHarvestTable", "wifi harvest",
                     ("MAC", "ScanTimestamp", "Rssi", "Channel", "HorizontalAccuracy", "Altitude", "LoiType"), extra)


@parser(name="ios-locationd-cells", app=APP, paths=PATHS, source=SOURCE, requires={"CellLocation": _POSITION})
def cell_towers(db, ctx):
    """Positions of cell towers from every cell table present."""
    present = tables(db)
    for table, (radio, area, cell, channel) in CELL_TABLES.items():
        if table.lower() not in present or not {c.lower() for c in _POSITION} <= columns(db, table):
            continue
        yield from _rows(db, ctx, table, "cell tower",
                         ("MCC", "MNC", area, cell, channel, "HorizontalAccuracy", "Altitude", "Confidence"),
                         lambda r, a=area, c=cell, ch=channel, rd=radio: {
                             "radio": rd, "mcc": r["MCC"], "mnc": r["MNC"], "area": r[a], "cell_id": r[c],
                             "channel": r[ch], "confidence": r["Confidence"]})


def _rows(db, ctx, table: str, kind: str, optional: tuple, extra):
    wanted = tuple(dict.fromkeys(optional))
    for row in db.execute(f"SELECT rowid AS row_id, Timestamp, Latitude, Longitude, "
                          f"{optional_columns(db, table, wanted)} FROM [{table}] ORDER BY rowid"):
        lat, lon = row["Latitude"], row["Longitude"]
        if not isinstance(lat, (int, float)) or not isinstance(lon, (int, float)):
            continue
        accuracy = row["HorizontalAccuracy"]
        altitude = row["Altitude"]
        yield Location(app=ctx.app, latitude=float(lat), longitude=float(lon), source_kind=kind,
                       accuracy_m=accuracy if isinstance(accuracy, (int, float)) and accuracy >= 0 else None,
                       altitude=altitude if isinstance(altitude, (int, float)) and altitude != -1 else None,
                       ts=_time(row["Timestamp"]),
                       extra={k: v for k, v in extra(row).items() if v is not None and v != ""},
                       prov=ctx.prov(table, row["row_id"]))


def _time(value) -> timestamps.TimeValue | None:
    """Cocoa seconds; locationd writes -1 (or 0) where it has no time."""
    if not isinstance(value, (int, float)) or value <= 0:
        return None
    return timestamps.cocoa_s(value)


def _mac(value) -> str | None:
    """The integer BSSID as a colon-separated MAC address."""
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return str(value)
    return ":".join(f"{(number >> shift) & 0xFF:02x}" for shift in (40, 32, 24, 16, 8, 0))
