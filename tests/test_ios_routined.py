"""iOS routined Cache.sqlite and Local.sqlite built with the columns iLEAPP reads."""
from tests import parser_harness
from tests.fixtures import ios_routined


def test_device_locations_and_visits(tmp_path):
    cache = ios_routined.cache(tmp_path / "src" / "Cache.sqlite", wal=True)
    files = {ios_routined.CACHE: cache, ios_routined.CACHE + "-wal": cache.with_name(cache.name + "-wal"),
             ios_routined.LOCAL: ios_routined.local(tmp_path / "Local.sqlite")}
    outcomes, rows = parser_harness.run(tmp_path / "run", files, ["ios-routined-locations", "ios-routined-visits"])
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "ios-routined-locations": ("parsed", 3, 1), "ios-routined-visits": ("parsed", 2, 0)}
    device = [r for r in rows["locations"] if r["source_kind"] == "device"]
    first, unknown_speed, wal = device  # the row without coordinates is not a place
    assert (first["latitude"], first["accuracy_m"], first["ts"], first["extra"]) == (
        36.1147, 5.0, "2023-03-08T20:26:40.250000Z", {"speed_m_s": 1.5})
    assert unknown_speed["extra"] == {} and wal["from_wal"]
    visit, open_visit = [r for r in rows["locations"] if r["source_kind"] == "significant location visit"]
    assert (visit["ts"], visit["extra"], visit["accuracy_m"]) == (
        "2023-03-08T20:26:40.000000Z",
        {"exit": "2023-03-08T22:26:40.000000Z", "created": "2023-03-08T23:13:20.000000Z"},
        30.0)
    assert "exit" not in open_visit["extra"]  # a negative (distant-past) exit means none
