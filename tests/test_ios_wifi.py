"""iOS known Wi-Fi networks: plists built with iLEAPP's keys, and the real plists iLEAPP tests on."""
import plistlib

import pytest

from tests import parser_harness
from tests.fixtures import ios_wifi
from tests.leapp_cases import extract, ileapp_case

NAMES = ["ios-wifi-known-networks", "ios-wifi-legacy-networks"]


def test_known_networks_times_and_located_access_points(tmp_path):
    plist = ios_wifi.known_networks(tmp_path / "known.plist")
    outcomes, rows = parser_harness.run(tmp_path / "run", {ios_wifi.KNOWN: plist}, NAMES)
    assert [(o.spec.name, o.outcome, o.records) for o in outcomes] == [("ios-wifi-known-networks", "parsed", 3)]
    motel, odd = rows["device_facts"]
    assert (motel["key"], motel["value"], motel["ts"], motel["ts_encoding"]) == (
        "wifi_network", "Motel 6", "2024-03-03T02:00:00.000000Z", "plist_date")
    assert motel["extra"]["ts_is"] == "joined_by_system"
    assert motel["extra"]["times"]["previous_join"] == {"iso": "2024-03-02T02:00:00.000000Z",
                                                        "raw": "2024-03-02T02:00:00", "encoding": "plist_date"}
    assert sorted(motel["extra"]["times"]) == ["added", "joined_by_system", "joined_by_user", "previous_join",
                                               "updated"]
    assert {k: motel["extra"][k] for k in ("bssid", "add_reason", "captive_portal_url", "network_usage")} == {
        "bssid": "0:e1:6d:b3:8f:7c", "add_reason": "Manual", "captive_portal_url": "https://portal.example/login",
        "network_usage": 12.5}
    assert (odd["value"], odd["ts"], odd["extra"]["ts_is"]) == ("fffe", "2024-01-01T00:00:00.000000Z", "added")
    (where,) = rows["locations"]  # the second access point has no position
    assert (where["latitude"], where["longitude"], where["accuracy_m"], where["source_kind"], where["label"],
            where["ts"]) == (36.1147, -115.1728, 35.0, "wifi", "Motel 6", "2024-03-03T01:59:58.000000Z")
    assert where["source_row"] == "wifi.network.ssid.Motel 6/0" and where["extra"]["bssid"] == "0:e1:6d:b3:8f:7c"


def test_xml_plist_and_legacy_list(tmp_path):
    xml = ios_wifi.known_networks(tmp_path / "known.plist", fmt=plistlib.FMT_XML)
    legacy = ios_wifi.legacy(tmp_path / "wifi.plist")
    outcomes, rows = parser_harness.run(tmp_path / "run", {ios_wifi.KNOWN: xml, ios_wifi.LEGACY: legacy}, NAMES)
    assert sorted((o.spec.name, o.outcome, o.records) for o in outcomes) == [
        ("ios-wifi-known-networks", "parsed", 3), ("ios-wifi-legacy-networks", "parsed", 2)]
    home = next(f for f in rows["device_facts"] if f["value"] == "HomeNet")
    assert (home["ts"], home["extra"]["ts_is"], home["source_table"], home["source_row"]) == (
        "2019-06-02T08:00:00.000000Z", "last_auto_joined", "List of known networks", "0")
    no_times = next(f for f in rows["device_facts"] if f["value"] == "NoTimes")
    assert no_times["ts"] is None and no_times["extra"] == {"times": {}}


def test_hostile_plists_fail_one_run(tmp_path):
    entity = tmp_path / "entity.plist"
    entity.write_bytes(b'<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY x "boom">]>'
                       b'<plist version="1.0"><dict><key>a</key><string>&x;</string></dict></plist>')
    outcomes, rows = parser_harness.run(tmp_path / "run", {ios_wifi.KNOWN: entity,
                                                           ios_wifi.LEGACY: b"\x00not a plist"}, NAMES)
    assert sorted(o.outcome for o in outcomes) == ["error", "error"]
    assert rows["device_facts"] == [] and rows["locations"] == []


@pytest.mark.parametrize("image,networks,access_points,located", [
    ("josh_ios15_ffs", 1, 9, 0), ("mvs_ios_2023", 5, 37, 28), ("belkasoft_ctf6_ios_device1", 2, 2, 0)])
def test_real_plists(tmp_path, image, networks, access_points, located):
    """Peer parity: iLEAPP's appleWifiKnownNetworks gives one row per known network (``networks``), as we give one
    ``wifi_network`` fact; its appleWifiBSSList gives one row per access point (``access_points``), of which we keep
    as Locations only those with a position (``located``). The legacy plists of these images hold no networks."""
    files = extract(ileapp_case("appleWifiPlist", "appleWifiBSSList", image), tmp_path / "case")
    outcomes, rows = parser_harness.run(tmp_path / "run", files, NAMES)
    assert {o.outcome for o in outcomes if o.spec.name == "ios-wifi-legacy-networks"} == {"no data"}
    assert len(rows["device_facts"]) == networks and len(rows["locations"]) == located
    known = files[next(p for p in files if p.endswith("known-networks.plist"))]
    assert sum(len(n.get("BSSList", [])) for n in plistlib.loads(known.read_bytes()).values()) == access_points
    assert all(f["ts"] and f["value"] for f in rows["device_facts"])


def test_threebars_downloaded_networks_and_access_points(tmp_path):
    db = ios_wifi.threebars(tmp_path / "src" / "ThreeBars.sqlite", wal=True)
    outcomes, rows = parser_harness.run(tmp_path / "run", parser_harness.with_wal(ios_wifi.THREEBARS, db),
                                        ["ios-wifi-threebars-networks", "ios-wifi-threebars-access-points"])
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "ios-wifi-threebars-networks": ("parsed", 1, 0), "ios-wifi-threebars-access-points": ("parsed", 2, 1)}
    ap, wal, network = rows["locations"]  # the 0/0 network has no position
    assert (network["source_kind"], network["label"], network["latitude"], network["ts"], network["extra"]) == (
        "wifi network", "Motel 6", 36.1147, "2023-03-08T20:26:40.000000Z",
        {"identifier": "net-1", "access_points": 2, "captive": 1, "public": 1, "moving": 0})
    assert (ap["source_kind"], ap["label"], ap["extra"]) == ("wifi access point", "Motel 6", {"bssid": 154072485461})
    assert wal["from_wal"]
