"""Google Maps Timeline kept on the phone (Google's On Device Location History): ``odlh-storage.db``.

Layout from iLEAPP ``scripts/artifacts/googleMaps.py`` (googleMapsSemanticSegments; iOS:
``Containers/Data/Application/<UUID>/Library/Application Support/SemanticLocation/odlh-storage.db``, Google Maps'
container) and ALEAPP ``scripts/artifacts/googleOdlh.py`` (Android: ``com.google.android.gms/databases/
odlh-storage.db``). ``semantic_segment_table(start_timestamp_seconds, end_timestamp_seconds [Unix s],
timestamp_millis [Unix ms, iOS], segment_type [undocumented, kept as stored], semantic_segment [protobuf],
shown_in_timeline, is_finalized, hierarchy_level, segment_id, obfuscated_gaia_id [the Google account])``. A visit's
place is at protobuf path 3 > 1 > 4 > 5: field 1 latitude and field 2 longitude as E7 fixed-point varints (both
tools: negative values wrap; the standard 64-bit form of a negative int32 is unwrapped too); values out of range
are no coordinate. Segments with a place are Locations (``source_kind`` ``timeline visit``, ``ts`` the start, the
end in ``extra``); segments without one (movements) hold no place and are not records — the tools list them with
empty coordinates.
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Location
from parsers.decoders import protobuf_wire as pw
from parsers.framework import optional_columns, parser

SOURCE = "iLEAPP scripts/artifacts/googleMaps.py; ALEAPP scripts/artifacts/googleOdlh.py"
_REQUIRED = {"semantic_segment_table": {"start_timestamp_seconds", "end_timestamp_seconds", "segment_type",
                                        "semantic_segment"}}


@parser(name="google-timeline-ios", app="com.google.Maps", platform="Google Maps", source=SOURCE,
        paths=["*/Containers/Data/Application/*/Library/Application Support/SemanticLocation/odlh-storage.db"],
        requires=_REQUIRED)
def ios_segments(db, ctx):
    """Visits in Google Maps' on-device Timeline (iOS)."""
    yield from _segments(db, ctx)


@parser(name="google-timeline-android", app="com.google.android.gms", platform="Google Maps", source=SOURCE,
        paths=["*/com.google.android.gms/databases/odlh-storage.db"], requires=_REQUIRED)
def android_segments(db, ctx):
    """Visits in Google's on-device Timeline (Android, Play services)."""
    yield from _segments(db, ctx)


def _segments(db, ctx):
    optional = optional_columns(db, "semantic_segment_table", (
        "timestamp_millis", "shown_in_timeline", "is_finalized", "hierarchy_level", "segment_id",
        "obfuscated_gaia_id"))
    for row in db.execute(f"SELECT rowid AS row_id, start_timestamp_seconds, end_timestamp_seconds, segment_type, "
                          f"semantic_segment, {optional} FROM semantic_segment_table ORDER BY rowid"):
        place = _place(row["semantic_segment"])
        if place is None:
            continue
        end, written = timestamps.unix_s(row["end_timestamp_seconds"]), timestamps.unix_ms(row["timestamp_millis"])
        extra = {"end": end.iso if end else None, "written": written.iso if written else None,
                 "segment_type": row["segment_type"], "segment_id": row["segment_id"],
                 "shown_in_timeline": row["shown_in_timeline"], "finalized": row["is_finalized"],
                 "hierarchy_level": row["hierarchy_level"], "google_account": row["obfuscated_gaia_id"]}
        yield Location(app=ctx.app, latitude=place[0], longitude=place[1], source_kind="timeline visit",
                       ts=timestamps.unix_s(row["start_timestamp_seconds"]),
                       extra={k: v for k, v in extra.items() if v is not None},
                       prov=ctx.prov("semantic_segment_table", row["row_id"]))


def _place(blob) -> tuple[float, float] | None:
    if not isinstance(blob, (bytes, bytearray)):
        return None
    try:
        point = pw.path(bytes(blob), 3, 1, 4, 5)
        if not isinstance(point, bytes):
            return None
        lat, lon = _e7(pw.path(point, 1), 90), _e7(pw.path(point, 2), 180)
    except pw.ProtobufError:
        return None
    return (lat, lon) if lat is not None and lon is not None else None


def _e7(value, limit: float) -> float | None:
    if not isinstance(value, int):
        return None
    if value >= 2**63:
        value -= 2**64
    elif value > 2**31:
        value -= 2**32
    degrees = value / 1e7
    return degrees if abs(degrees) <= limit else None
