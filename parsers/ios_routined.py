"""iOS routined (Significant Locations): the phone's own positions and the places it learned.

- ``/private/var/mobile/Library/Caches/com.apple.routined/Cache.sqlite``, from iLEAPP
  ``scripts/artifacts/iOSCacheLocations.py``: ``ZRTCLLOCATIONMO(ZTIMESTAMP [Cocoa s], ZLATITUDE, ZLONGITUDE,
  ZHORIZONTALACCURACY [m], ZSPEED [m/s, -1 = unknown])`` — location fixes of the device itself;
  ``source_kind`` ``device``.
- ``.../com.apple.routined/Local.sqlite``, from iLEAPP ``scripts/artifacts/appleMapsTrips.py``:
  ``ZRTLEARNEDLOCATIONOFINTERESTVISITMO(ZENTRYDATE, ZEXITDATE, ZCREATIONDATE [Cocoa s], ZLOCATIONLATITUDE,
  ZLOCATIONLONGITUDE, ZLOCATIONHORIZONTALUNCERTAINTY)`` — visits to learned places (``ts`` is the entry, the exit is
  in ``extra``); ``source_kind`` ``significant location visit``.

Negative Cocoa times mean "none" (iLEAPP treats them so). Rows are identified by their Core Data key ``Z_PK``.
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Location
from parsers.framework import optional_columns, parser

APP = "com.apple.routined"
SOURCE_CACHE = "iLEAPP scripts/artifacts/iOSCacheLocations.py"
SOURCE_LOCAL = "iLEAPP scripts/artifacts/appleMapsTrips.py"


@parser(name="ios-routined-locations", app=APP, source=SOURCE_CACHE,
        paths=["*/Library/Caches/com.apple.routined/Cache.sqlite"],
        requires={"ZRTCLLOCATIONMO": {"Z_PK", "ZTIMESTAMP", "ZLATITUDE", "ZLONGITUDE"}})
def device_locations(db, ctx):
    """The device's own location fixes (ZRTCLLOCATIONMO)."""
    optional = optional_columns(db, "ZRTCLLOCATIONMO", ("ZHORIZONTALACCURACY", "ZSPEED"))
    for row in db.execute(f"SELECT Z_PK, ZTIMESTAMP, ZLATITUDE, ZLONGITUDE, {optional} FROM ZRTCLLOCATIONMO "
                          f"ORDER BY Z_PK"):
        if not _numbers(row["ZLATITUDE"], row["ZLONGITUDE"]):
            continue
        speed = row["ZSPEED"]
        yield Location(app=ctx.app, latitude=float(row["ZLATITUDE"]), longitude=float(row["ZLONGITUDE"]),
                       accuracy_m=_positive(row["ZHORIZONTALACCURACY"]), source_kind="device",
                       ts=_time(row["ZTIMESTAMP"]),
                       extra={"speed_m_s": speed} if isinstance(speed, (int, float)) and speed >= 0 else {},
                       prov=ctx.prov("ZRTCLLOCATIONMO", row["Z_PK"]))


@parser(name="ios-routined-visits", app=APP, source=SOURCE_LOCAL,
        paths=["*/Library/Caches/com.apple.routined/Local.sqlite"],
        requires={"ZRTLEARNEDLOCATIONOFINTERESTVISITMO": {"Z_PK", "ZENTRYDATE", "ZLOCATIONLATITUDE",
                                                          "ZLOCATIONLONGITUDE"}})
def visits(db, ctx):
    """Visits to learned places, with entry and exit times."""
    optional = optional_columns(db, "ZRTLEARNEDLOCATIONOFINTERESTVISITMO",
                                ("ZEXITDATE", "ZCREATIONDATE", "ZLOCATIONHORIZONTALUNCERTAINTY"))
    for row in db.execute(f"SELECT Z_PK, ZENTRYDATE, ZLOCATIONLATITUDE, ZLOCATIONLONGITUDE, {optional} "
                          f"FROM ZRTLEARNEDLOCATIONOFINTERESTVISITMO ORDER BY Z_PK"):
        if not _numbers(row["ZLOCATIONLATITUDE"], row["ZLOCATIONLONGITUDE"]):
            continue
        exit_, created = _time(row["ZEXITDATE"]), _time(row["ZCREATIONDATE"])
        extra = {"exit": exit_.iso if exit_ else None, "created": created.iso if created else None}
        yield Location(app=ctx.app, latitude=float(row["ZLOCATIONLATITUDE"]),
                       longitude=float(row["ZLOCATIONLONGITUDE"]),
                       accuracy_m=_positive(row["ZLOCATIONHORIZONTALUNCERTAINTY"]),
                       source_kind="significant location visit", ts=_time(row["ZENTRYDATE"]),
                       extra={k: v for k, v in extra.items() if v},
                       prov=ctx.prov("ZRTLEARNEDLOCATIONOFINTERESTVISITMO", row["Z_PK"]))


def _time(value) -> timestamps.TimeValue | None:
    return timestamps.cocoa_s(value) if isinstance(value, (int, float)) and value > 0 else None


def _numbers(*values) -> bool:
    return all(isinstance(v, (int, float)) for v in values)


def _positive(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and value >= 0 else None
