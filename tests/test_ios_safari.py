"""Safari History.db: the real plaso test file, and fixtures with Safari's schema (current and an older release)."""
import pytest

from tests import parser_harness
from tests.conftest_paths import TESTDATA
from tests.fixtures.ios_safari import ROWS, SCHEMA, WAL
from tests.fixtures.sqlite_db import damage, make_db

LEGACY_PATH = "/private/var/mobile/Library/Safari/History.db"
CONTAINER_PATH = ("/private/var/mobile/Containers/Data/Application/0A1B2C3D-0000-4000-8000-000000000001"
                  "/Library/Safari/Profiles/6D3F1C2E-1111-4222-8333-444455556666/History.db")


def test_real_history_db_gives_25_visits(tmp_path):
    real = TESTDATA / "log2timeline+plaso/test_data/safari/History.db"
    if not real.exists():
        pytest.skip(f"third-party test data absent: {real}")
    outcomes, rows = parser_harness.run(tmp_path, {LEGACY_PATH: real}, ["safari-ios-history"])
    assert outcomes[0].outcome == "parsed" and outcomes[0].records == 25
    visits = rows["web_visits"]
    assert len(visits) == 25
    first = visits[0]
    assert first["url"] == "http://start.ubuntu.com/current/Google/?sourceid=hp"
    assert first["title"] == "Ubuntu Start Page" and first["visit_count"] == 1
    assert first["ts"] == "2017-11-09T21:23:34.791503Z" and first["ts_encoding"] == "cocoa_s"
    assert first["source_table"] == "history_visits" and first["source_row"] == "36"
    redirected = next(v for v in visits if v["source_row"] == "37")
    assert redirected["url"] == "http://facebook.com/" and redirected["extra"] == {"redirect_destination": 38,
                                                                                     "origin": "this device"}
    assert visits[-1]["url"] == "https://www.google.com/?gws_rd=ssl"
    assert visits[-1]["ts"] == "2017-11-09T21:26:46.056743Z"


def test_fixture_visits_in_profile_container_with_wal(tmp_path):
    db = make_db(tmp_path / "src" / "History.db", SCHEMA + ROWS, wal_sql=WAL)
    outcomes, rows = parser_harness.run(tmp_path / "run", {CONTAINER_PATH: db, CONTAINER_PATH + "-wal":
                                                           str(db) + "-wal"}, ["safari-ios-history"])
    assert outcomes[0].outcome == "parsed" and outcomes[0].from_wal == 1
    visits = rows["web_visits"]
    assert [(v["url"], v["ts"], v["from_wal"]) for v in visits] == [
        ("https://example.org/listing?id=7", "2023-03-08T20:26:40.250000Z", False),
        ("https://example.org/listing?id=7", "2023-03-08T20:28:20.500000Z", False),
        ("https://wal.example/", "2023-03-08T20:30:00.000000Z", True)]
    assert visits[1]["extra"] == {"origin": "iCloud", "load_successful": False}
    assert all(v["browser"] == "Safari" and v["app"] == "com.apple.mobilesafari" for v in visits)
    assert visits[0]["source_path"] == CONTAINER_PATH


def test_older_schema_without_origin(tmp_path):
    db = make_db(tmp_path / "History.db", """
        CREATE TABLE history_items (id INTEGER PRIMARY KEY AUTOINCREMENT,url TEXT NOT NULL UNIQUE,
          domain_expansion TEXT NULL,visit_count INTEGER NOT NULL,daily_visit_counts BLOB NOT NULL,
          weekly_visit_counts BLOB NULL,autocomplete_triggers BLOB NULL,
          should_recompute_derived_visit_counts INTEGER NOT NULL);
        CREATE TABLE history_visits (id INTEGER PRIMARY KEY AUTOINCREMENT,history_item INTEGER NOT NULL
          REFERENCES history_items(id) ON DELETE CASCADE,visit_time REAL NOT NULL,title TEXT NULL,
          load_successful BOOLEAN NOT NULL DEFAULT 1,http_non_get BOOLEAN NOT NULL DEFAULT 0,
          synthesized BOOLEAN NOT NULL DEFAULT 0,redirect_source INTEGER NULL UNIQUE,
          redirect_destination INTEGER NULL UNIQUE);
        INSERT INTO history_items VALUES (1, 'http://old.example/', 'old', 1, X'00', NULL, NULL, 0);
        INSERT INTO history_visits (id, history_item, visit_time, title) VALUES (9, 1, 450000000, 'Old');""")
    outcomes, rows = parser_harness.run(tmp_path / "run", {LEGACY_PATH: db}, ["safari-ios-history"])
    (visit,) = rows["web_visits"]
    assert visit["ts"] == "2015-04-06T08:00:00.000000Z" and visit["extra"] == {} and visit["source_row"] == "9"


def test_damaged_history_is_recovered(tmp_path):
    items = "".join(f"INSERT INTO history_items VALUES ({i}, 'https://site{i}.example/', NULL, 1, X'00', NULL, NULL,"
                    f" 0, 0); INSERT INTO history_visits (id, history_item, visit_time, title) VALUES "
                    f"({i}, {i}, {700000000 + i}, '{'t' * 300} {i}');" for i in range(1, 201))
    good = make_db(tmp_path / "good.db", SCHEMA + items)
    page = good.read_bytes().find(b"t" * 300 + b" 100") // 4096 + 1  # a leaf page of history_visits
    outcomes, rows = parser_harness.run(tmp_path / "run", {LEGACY_PATH: damage(good, tmp_path / "bad.db", page)},
                                        ["safari-ios-history"])
    assert outcomes[0].outcome == "parsed" and outcomes[0].recovered
    assert 150 < outcomes[0].records < 200 and all(v["recovered"] for v in rows["web_visits"])
