"""Google's on-device Timeline (odlh-storage.db) on iOS and Android."""
import pytest

from tests import parser_harness
from tests.fixtures import google_timeline as fx
from tests.fixtures.sqlite_db import make_db


@pytest.mark.parametrize("path,name", [(fx.IOS, "google-timeline-ios"), (fx.ANDROID, "google-timeline-android")])
def test_visits_with_places_and_wal(tmp_path, path, name):
    db = fx.build(tmp_path / "src" / "odlh-storage.db", wal=True)
    outcomes, rows = parser_harness.run(tmp_path / "run", parser_harness.with_wal(path, db), [name])
    # both tools list all 5 segments; the movement (s2), the out-of-range place (s3) and the broken blob (s4)
    # hold no place, so 2 are Locations
    assert [(o.outcome, o.records, o.from_wal) for o in outcomes] == [("parsed", 2, 1)]
    visit, wal = rows["locations"]
    assert (visit["latitude"], visit["longitude"], visit["source_kind"], visit["ts"], visit["ts_encoding"]) == (
        36.1147, -115.1728, "timeline visit", "2023-11-14T22:13:20.000000Z", "unix_s")
    assert visit["extra"] == {"end": "2023-11-14T23:13:20.000000Z", "written": "2023-11-14T23:15:00.123000Z",
                              "segment_type": 1, "segment_id": "s1", "shown_in_timeline": 1, "finalized": 1,
                              "hierarchy_level": 0, "google_account": "gaia-1"}
    assert (wal["latitude"], wal["longitude"], wal["from_wal"]) == (-33.8688, 151.2093, True)


def test_android_layout_without_timestamp_millis(tmp_path):
    db = make_db(tmp_path / "odlh-storage.db", f"""
        CREATE TABLE semantic_segment_table (start_timestamp_seconds INTEGER, end_timestamp_seconds INTEGER,
            segment_type INTEGER, semantic_segment BLOB);
        INSERT INTO semantic_segment_table VALUES (1700000000, 1700003600, 1, X'{fx.visit(10, 20)}');
    """)
    outcomes, rows = parser_harness.run(tmp_path / "run", {fx.ANDROID: db}, ["google-timeline-android"])
    assert [(o.outcome, o.records) for o in outcomes] == [("parsed", 1)]
    assert rows["locations"][0]["extra"] == {"end": "2023-11-14T23:13:20.000000Z", "segment_type": 1}
