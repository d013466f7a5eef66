"""Wi-Fi networks an Android phone has saved: ``WifiConfigStore.xml``.

Paths and keys from ALEAPP ``scripts/artifacts/wifiProfiles.py`` and ``wifiConfigstore2.py``:
``/data/misc/wifi/WifiConfigStore.xml`` (Android 10 and older) and ``/data/misc/apexdata/com.android.wifi/
WifiConfigStore.xml``. Each ``<Network>`` holds a ``<WifiConfiguration>`` whose children are named values:
``ConfigKey``, ``SSID`` (quoted), ``BSSID``, ``HiddenSSID``, ``RandomizedMacAddress``, ``CreatorName``,
``CreationTime`` (a local-time text without zone or year, kept as text), ``HasEverConnected``,
``DefaultGwMacAddress`` (the gateway's MAC), ``IpAssignment``, ``ConnectChoiceTimeStamp``, and on Samsung builds
``semCreationTime``, ``semUpdateTime`` and ``LastConnectedTime`` (Unix ms, ``value`` attribute).

Each network is a ``wifi_network`` device fact (as on iOS) whose ``ts`` is its last connection where the file has
one. Pre-shared keys, WEP keys and passwords are never read into a record. The file may be text XML (read with
defusedxml: no entities) or Android's binary ABX; both go through ``decoders.abx.load_android_xml``.
"""
from __future__ import annotations

import dataclasses

from artifacts import timestamps
from artifacts.records import DeviceFact
from parsers.decoders.abx import load_android_xml
from parsers.framework import parser

APP = "com.android.wifi"
SOURCE = "ALEAPP scripts/artifacts/wifiProfiles.py and wifiConfigstore2.py"
MAX_BYTES = 16 * 1024 * 1024
_TEXT = {"ConfigKey": "config_key", "BSSID": "bssid", "RandomizedMacAddress": "randomized_mac",
         "CreatorName": "creator", "CreationTime": "creation_time_local", "DefaultGwMacAddress": "gateway_mac",
         "IpAssignment": "ip_assignment"}
_VALUES = {"HiddenSSID": "hidden", "HasEverConnected": "has_ever_connected"}
_TIMES = {"LastConnectedTime": "last_connected", "semUpdateTime": "updated", "semCreationTime": "created",
          "ConnectChoiceTimeStamp": "connect_choice"}
_NEVER = {"PreSharedKey", "WEPKeys", "Password"}  # credentials stay out of the store


@parser(name="android-wifi-networks", app=APP, source=SOURCE,
        paths=["*/misc/wifi/WifiConfigStore.xml", "*/misc/apexdata/com.android.wifi/WifiConfigStore.xml"])
def networks(_db, ctx):
    """Saved Wi-Fi networks with their last connection and creation times."""
    if ctx.local.stat().st_size > MAX_BYTES:
        raise ValueError(f"larger than {MAX_BYTES} bytes; not read")
    root = load_android_xml(ctx.local.read_bytes())
    for index, network in enumerate(root.iter("Network")):
        fields = {e.get("name"): e for e in network.iter() if e.get("name") and e.get("name") not in _NEVER}
        ssid = _text(fields.get("SSID"))
        if ssid is None and "ConfigKey" not in fields:
            continue
        times = {}
        for key, name in _TIMES.items():
            raw = fields[key].get("value") if key in fields else None
            decoded = timestamps.unix_ms(int(raw)) if raw and raw.lstrip("-").isdigit() and int(raw) > 1 else None
            if decoded:
                times[name] = decoded
        extra = {name: _text(fields.get(key)) for key, name in _TEXT.items()}
        extra.update({name: fields[key].get("value") for key, name in _VALUES.items() if key in fields})
        extra = {k: v for k, v in extra.items() if v not in (None, "")}
        extra["times"] = {name: dataclasses.asdict(t) for name, t in sorted(times.items())}
        ts = times.get("last_connected") or times.get("updated") or times.get("created")
        if ts:
            extra["ts_is"] = next(name for name, t in times.items() if t is ts)
        yield DeviceFact(app=ctx.app, key="wifi_network", value=ssid.strip('"') if ssid else None, ts=ts,
                         extra=extra, prov=ctx.prov("Network", str(index)))


def _text(element) -> str | None:
    if element is None:
        return None
    return element.text if element.text is not None else element.get("value")
