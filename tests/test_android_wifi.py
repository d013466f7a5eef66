"""Android WifiConfigStore.xml with the named values ALEAPP reads; credentials never reach the store."""
import json

from tests import parser_harness
from tests.fixtures import android_wifi


def test_saved_networks_with_times_and_no_credentials(tmp_path):
    outcomes, rows = parser_harness.run(tmp_path / "run", {android_wifi.PATH: android_wifi.build(tmp_path / "w.xml")},
                                        ["android-wifi-networks"])
    assert [(o.outcome, o.records) for o in outcomes] == [("parsed", 2)]
    motel, guest = rows["device_facts"]
    assert (motel["key"], motel["value"], motel["ts"], motel["ts_encoding"]) == (
        "wifi_network", "Motel 6", "2024-03-03T02:00:00.000000Z", "unix_ms")
    assert {k: v for k, v in motel["extra"].items() if k != "times"} == {
        "config_key": '"Motel 6"WPA_PSK', "randomized_mac": "6a:1b:2c:3d:4e:5f", "creator": "android.uid.system:1000",
        "creation_time_local": "time=03-01 20:00:00.123", "gateway_mac": "00:11:22:33:44:55", "ip_assignment": "DHCP",
        "hidden": "false", "has_ever_connected": "true", "ts_is": "last_connected"}
    assert sorted(motel["extra"]["times"]) == ["created", "last_connected", "updated"]
    assert (guest["value"], guest["ts"], guest["extra"]["times"]) == ("Guest", None, {})
    assert "hunter22" not in json.dumps(rows)


def test_entities_are_refused(tmp_path):
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><WifiConfigStoreData>&a;'
                    '</WifiConfigStoreData>')
    outcomes, rows = parser_harness.run(tmp_path / "run", {android_wifi.LEGACY_PATH: bomb}, ["android-wifi-networks"])
    assert [o.outcome for o in outcomes] == ["error"] and rows["device_facts"] == []
