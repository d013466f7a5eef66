"""iOS locationd cache_encryptedB.db built with the columns iLEAPP's locationdCacheEncryptedB.py reads."""
from tests import parser_harness
from tests.fixtures import ios_locationd

NAMES = ["ios-locationd-wifi", "ios-locationd-wifi-harvest", "ios-locationd-cells"]


def test_access_points_harvest_cells_and_wal(tmp_path):
    db = ios_locationd.build(tmp_path / "src" / "cache_encryptedB.db", wal=True)
    outcomes, rows = parser_harness.run(tmp_path / "run", parser_harness.with_wal(ios_locationd.PATH, db),
                                        NAMES)
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "ios-locationd-wifi": ("parsed", 3, 1), "ios-locationd-wifi-harvest": ("parsed", 1, 0),
        "ios-locationd-cells": ("parsed", 3, 0)}
    by_kind = {}
    for row in rows["locations"]:
        by_kind.setdefault(row["source_kind"], []).append(row)
    ap, no_time, wal = by_kind["wifi access point"]
    assert (ap["latitude"], ap["longitude"], ap["accuracy_m"], ap["altitude"], ap["ts"], ap["ts_encoding"]) == (
        40.7128, -74.006, 30.0, None, "2023-03-08T20:26:40.500000Z", "cocoa_s")
    assert ap["extra"] == {"bssid": "00:23:df:6f:8e:55", "channel": 6, "confidence": 70, "score": 12, "reach": 40}
    assert no_time["ts"] is None and no_time["altitude"] == 12.5  # -1 means "no time"
    assert wal["from_wal"]
    (harvest,) = by_kind["wifi harvest"]
    assert (harvest["ts"], harvest["extra"]["scan_time"], harvest["extra"]["rssi"]) == (
        "2023-03-08T20:28:20.000000Z", "2023-03-08T20:28:10.000000Z", -55)
    gsm, lte, cdma = by_kind["cell tower"]
    assert gsm["extra"] == {"radio": "GSM/UMTS", "mcc": 310, "mnc": 260, "area": 1234, "cell_id": 56789,
                            "channel": 4385, "confidence": 60}
    assert (lte["extra"]["radio"], lte["extra"]["area"], lte["source_table"]) == ("LTE", 77, "LteCellLocation")
    assert (cdma["extra"]["cell_id"], cdma["ts"], "mnc" in cdma["extra"]) == (9001, None, False)


def test_damaged_copy_is_recovered(tmp_path):
    many = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) INSERT INTO WifiLocation "
            "(MAC, Timestamp, Latitude, Longitude, HorizontalAccuracy) "
            "SELECT i, 700000000 + i, 40.0, -74.0, 30 FROM n;")
    outcome = parser_harness.run_damaged(tmp_path, ios_locationd.PATH, ios_locationd.SCHEMA + many,
                                         "ios-locationd-wifi")
    assert outcome.recovered and outcome.outcome == "parsed" and 2000 < outcome.records <= 3000
