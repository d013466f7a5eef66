"""Google Maps saved places and the Android location service's cache files."""
from tests import parser_harness
from tests.fixtures import android_locations as fx


def test_saved_places_home_work_and_wal(tmp_path):
    db = fx.myplaces(tmp_path / "src" / "gmm_myplaces.db", wal=True)
    outcomes, rows = parser_harness.run(tmp_path / "run", parser_harness.with_wal(fx.MYPLACES, db),
                                        ["google-maps-android-saved-places"])
    assert [(o.outcome, o.records, o.from_wal) for o in outcomes] == [("parsed", 3, 1)]
    home, starred, work = rows["locations"]
    assert (home["label"], home["latitude"], home["longitude"], home["source_kind"], home["ts"]) == (
        "Home", 35.7796, -78.6382, "saved place", "2023-11-14T22:13:20.000000Z")
    assert home["extra"] == {"key": "0:0", "address": "1 Main St, Raleigh"}
    assert (starred["label"], starred["extra"]["url"]) == ("Bus terminal", "https://maps.google.com/?cid=1")
    assert work["label"] == "Work" and work["from_wal"]


def test_cell_and_wifi_caches(tmp_path):
    cell = fx.cache(tmp_path / "cache.cell", [("310:260:1234:56789", 1500, 75, 40.7, -74.0, 1300000000000)])
    wifi = fx.cache(tmp_path / "cache.wifi", [("00:11:22:33:44:55", 40, 90, 40.71, -74.01, 1300000060000),
                                              ("66:77:88:99:aa:bb", 35, 80, 40.72, -74.02, 1300000120000)])
    outcomes, rows = parser_harness.run(tmp_path / "run", {fx.CACHE_CELL: cell, fx.CACHE_WIFI: wifi},
                                        ["android-location-cache"])
    assert sorted((o.source.path.rsplit("/", 1)[1], o.outcome, o.records) for o in outcomes) == [
        ("cache.cell", "parsed", 1), ("cache.wifi", "parsed", 2)]
    tower = next(r for r in rows["locations"] if r["source_kind"] == "cell tower")
    assert (tower["label"], tower["latitude"], tower["accuracy_m"], tower["ts"], tower["extra"]) == (
        "310:260:1234:56789", 40.7, 1500.0, "2011-03-13T07:06:40.000000Z", {"confidence": 75, "cache_version": 1})


def test_truncated_cache_fails_the_run(tmp_path):
    cut = fx.cache(tmp_path / "cache.wifi", [("00:11:22:33:44:55", 40, 90, 40.71, -74.01, 1300000060000)],
                   declared=3)
    outcomes, rows = parser_harness.run(tmp_path / "run", {fx.CACHE_WIFI: cut}, ["android-location-cache"])
    assert [o.outcome for o in outcomes] == ["error"] and "cut off" in outcomes[0].message
    assert rows["locations"] == []
