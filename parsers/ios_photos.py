"""The iPhone photo library: ``/private/var/mobile/Media/PhotoData/Photos.sqlite``.

One row per photo or video in ``ZASSET`` (iOS 14+) or ``ZGENERICASSET`` (iOS 9-13), with the file at
``Media/<ZDIRECTORY>/<ZFILENAME>``. ``ZDATECREATED``, ``ZADDEDDATE``, ``ZTRASHEDDATE`` are Cocoa seconds (UTC), so the
capture time is known in UTC. ``ZLATITUDE``/``ZLONGITUDE`` hold -180.0 when the asset has no location.
``ZADDITIONALASSETATTRIBUTES`` (joined on ``ZADDITIONALATTRIBUTES``) adds the original file name, the time zone the
photo was taken in and, on recent releases, the app that saved it (``ZIMPORTEDBYBUNDLEIDENTIFIER``).

Every asset gives a Media record; one with a location also gives a Location record (source_kind "photos library").
"""
from __future__ import annotations

import dataclasses
from pathlib import PurePosixPath

from artifacts import timestamps
from artifacts.records import Location, Media
from parsers.framework import columns, optional_columns, parser, tables

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "iLEAPP scripts/artifacts/Ph001BasicAssetData.py (ZASSET / ZGENERICASSET queries)"

APP = "com.apple.mobileslideshow"
PATHS = ["*/mobile/Media/PhotoData/Photos.sqlite"]
NO_LOCATION = -180.0
_ASSET_COLUMNS = ("ZKIND", "ZUNIFORMTYPEIDENTIFIER", "ZTRASHEDSTATE", "ZTRASHEDDATE", "ZHIDDEN", "ZFAVORITE",
                  "ZADDEDDATE", "ZUUID", "ZADDITIONALATTRIBUTES")
_ATTRIBUTE_COLUMNS = {"ZORIGINALFILENAME": "original_filename", "ZTIMEZONENAME": "timezone_name",
                      "ZTIMEZONEOFFSET": "timezone_offset_s", "ZIMPORTEDBYBUNDLEIDENTIFIER": "imported_by_bundle",
                      "ZIMPORTEDBYDISPLAYNAME": "imported_by_name", "ZORIGINALFILESIZE": "original_size"}
_MIME_TYPES = {"public.jpeg": "image/jpeg", "public.heic": "image/heic", "public.png": "image/png",
               "com.compuserve.gif": "image/gif", "public.mpeg-4": "video/mp4",
               "com.apple.quicktime-movie": "video/quicktime", "public.tiff": "image/tiff",
               "com.adobe.raw-image": "image/x-adobe-dng"}
_KINDS = {0: "photo", 1: "video"}


@parser(name="ios-photos", app=APP, platform="Photos", paths=PATHS,
        requires={"ZASSET": {"Z_PK", "ZDIRECTORY", "ZFILENAME", "ZDATECREATED", "ZLATITUDE", "ZLONGITUDE"}})
def assets(db, ctx):
    """Photos and videos of the library (iOS 14+ ZASSET), with their locations."""
    yield from _assets(db, ctx, "ZASSET")


@parser(name="ios-photos-ios13", app=APP, platform="Photos", paths=PATHS,
        requires={"ZGENERICASSET": {"Z_PK", "ZDIRECTORY", "ZFILENAME", "ZDATECREATED", "ZLATITUDE", "ZLONGITUDE"}})
def generic_assets(db, ctx):
    """Photos and videos of the library (iOS 9-13 ZGENERICASSET), with their locations."""
    yield from _assets(db, ctx, "ZGENERICASSET")


def _assets(db, ctx, table: str):
    select = [optional_columns(db, table, _ASSET_COLUMNS, alias="a")]
    join = ""
    if "zadditionalassetattributes" in tables(db) and "zadditionalattributes" in columns(db, table):
        select.append(optional_columns(db, "ZADDITIONALASSETATTRIBUTES", _ATTRIBUTE_COLUMNS, alias="x"))
        join = "LEFT JOIN ZADDITIONALASSETATTRIBUTES x ON x.Z_PK = a.ZADDITIONALATTRIBUTES"
    else:
        select += [f"NULL AS {c}" for c in _ATTRIBUTE_COLUMNS]
    media_root = PurePosixPath(ctx.source.path).parent.parent
    for row in db.execute(f"SELECT a.Z_PK, a.ZDIRECTORY, a.ZFILENAME, a.ZDATECREATED, a.ZLATITUDE, a.ZLONGITUDE, "
                          f"{', '.join(select)} FROM {table} a {join} ORDER BY a.Z_PK"):
        path = str(media_root.joinpath(*(p for p in (row["ZDIRECTORY"], row["ZFILENAME"]) if p)))
        extra = {name: row[col] for col, name in _ATTRIBUTE_COLUMNS.items() if row[col] not in (None, "")}
        extra.update(_asset_extra(row))
        created = timestamps.cocoa_s(row["ZDATECREATED"])
        latitude, longitude = _location(row["ZLATITUDE"], row["ZLONGITUDE"])
        prov = ctx.prov(table, row["Z_PK"])
        yield Media(app=ctx.app, media_path=path, mime_type=_MIME_TYPES.get(row["ZUNIFORMTYPEIDENTIFIER"]),
                    latitude=latitude, longitude=longitude, ts=created, extra=extra, prov=prov)
        if latitude is not None:
            yield Location(app=ctx.app, latitude=latitude, longitude=longitude, label=row["ZFILENAME"],
                           source_kind="photos library", ts=created, extra={"media_path": path}, prov=prov)


def _asset_extra(row) -> dict:
    extra = {}
    if row["ZUNIFORMTYPEIDENTIFIER"]:
        extra["uti"] = row["ZUNIFORMTYPEIDENTIFIER"]
    if row["ZKIND"] is not None:
        extra["kind"] = _KINDS.get(row["ZKIND"], f"kind {row['ZKIND']}")
    for col, name in (("ZTRASHEDSTATE", "trashed"), ("ZHIDDEN", "hidden"), ("ZFAVORITE", "favorite")):
        if row[col]:
            extra[name] = True
    for col, name in (("ZADDEDDATE", "added_ts"), ("ZTRASHEDDATE", "trashed_ts")):
        when = timestamps.cocoa_s(row[col])
        if when:
            extra[name] = dataclasses.asdict(when)
    if row["ZUUID"]:
        extra["uuid"] = row["ZUUID"]
    return extra


def _location(latitude, longitude) -> tuple[float | None, float | None]:
    """The asset's coordinates, or (None, None) for the -180.0 "no location" marker, NULLs and impossible values."""
    if not isinstance(latitude, (int, float)) or not isinstance(longitude, (int, float)):
        return None, None
    if NO_LOCATION in (latitude, longitude) or abs(latitude) > 90 or abs(longitude) > 180:
        return None, None
    return float(latitude), float(longitude)
