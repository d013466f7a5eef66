"""Wi-Fi networks an iPhone knows, with the times it joined them and where it was when it did.

Keys from iLEAPP ``scripts/artifacts/appleWifiPlist.py`` and the real plists iLEAPP tests on
(``admin/test/cases/data/appleWifiPlist``: josh_ios15_ffs, mvs_ios_2023, belkasoft_ctf6_ios_device1):

- iOS 14 and later: ``/private/var/preferences/com.apple.wifi.known-networks.plist``, a dictionary keyed
  ``wifi.network.ssid.<SSID>``; each value has ``SSID`` (bytes), ``AddedAt``, ``JoinedByUserAt``,
  ``JoinedBySystemAt``, ``UpdatedAt``, ``LastDiscoveredAt`` (plist dates), ``Hidden``, ``AddReason``, ``BundleID``,
  ``CaptiveProfile``, ``__OSSpecific__`` (``BSSID``, ``networkUsage``, ``prevJoined``,
  ``WiFiNetworkPasswordModificationDate``) and ``BSSList``: one entry per access point with ``BSSID``, ``Channel``,
  ``LastAssociatedAt`` and, on some releases, ``LocationLatitude``/``LocationLongitude``/``LocationAccuracy``/
  ``LocationTimestamp`` — the device's position when it associated.
- Older releases: ``SystemConfiguration/com.apple.wifi.plist`` (and its ``com.apple.wifi-networks.plist.backup``),
  ``List of known networks``: ``SSID_STR``, ``BSSID``, ``lastJoined``, ``lastAutoJoined``, ``lastUpdated``,
  ``networkUsage``, ``enabled``, ``Hidden``.

- ``/private/var/root/Library/Caches/com.apple.wifid/ThreeBars.sqlite`` (iLEAPP ``scripts/artifacts/threeBars.py``):
  ``ZNETWORK(Z_PK, ZCREATED [Cocoa s], ZCENTROIDLAT, ZCENTROIDLNG, ZNAME, ZIDENTIFIER, ZACCESSPOINTCOUNT, ZCAPTIVE,
  ZPUBLIC, ZMOVING)`` and ``ZACCESSPOINT(Z_PK, ZCREATED, ZLAT, ZLNG, ZBSSID, ZNETWORK)``: Wi-Fi networks and access
  points near the phone, downloaded by wifid with their positions — not proof of a connection; 0/0 means no
  position. ``source_kind`` ``wifi network`` and ``wifi access point``.

Each known network is a ``wifi_network`` device fact (value = SSID) whose ``ts`` is its latest join and whose
``extra.times`` holds every time the plist gives; each located access point is a Location with ``source_kind``
``wifi``. plistlib reads the files (XML or binary, no XML entities); its dates are UTC.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from artifacts import timestamps
from artifacts.records import DeviceFact, Location
from parsers.framework import columns, optional_columns, parser
from parsers.ios_device import read_plist

APP = "com.apple.wifid"
SOURCE = "iLEAPP scripts/artifacts/appleWifiPlist.py; iLEAPP admin/test/cases/data/appleWifiPlist (real plists)"
_KNOWN_TIMES = {"AddedAt": "added", "JoinedByUserAt": "joined_by_user", "JoinedBySystemAt": "joined_by_system",
                "UpdatedAt": "updated", "LastDiscoveredAt": "last_discovered"}
_OS_SPECIFIC_TIMES = {"prevJoined": "previous_join", "WiFiNetworkPasswordModificationDate": "password_changed"}
_LEGACY_TIMES = {"lastJoined": "last_joined", "lastAutoJoined": "last_auto_joined", "lastUpdated": "updated",
                 "prevJoined": "previous_join", "WiFiNetworkPasswordModificationDate": "password_changed"}
_JOINS = ("joined_by_user", "joined_by_system", "last_joined", "last_auto_joined", "previous_join")


@parser(name="ios-wifi-known-networks", app=APP, paths=["*/preferences/com.apple.wifi.known-networks.plist"],
        source=SOURCE)
def known_networks(_db, ctx):
    """Known networks (iOS 14+) with their join times; access points with the position of the association."""
    for key, network in sorted(read_plist(ctx.local).items()):
        if not isinstance(network, dict):
            continue
        ssid = _ssid(network.get("SSID")) or key.removeprefix("wifi.network.ssid.")
        os_specific = _dict(network.get("__OSSpecific__"))
        captive = _dict(network.get("CaptiveProfile"))
        times = _times(network, _KNOWN_TIMES) | _times(os_specific, _OS_SPECIFIC_TIMES)
        extra = {"bssid": os_specific.get("BSSID"), "hidden": network.get("Hidden"),
                 "add_reason": network.get("AddReason"), "bundle_id": network.get("BundleID"),
                 "security": network.get("SupportedSecurityTypes"), "network_usage": os_specific.get("networkUsage"),
                 "captive_portal_url": captive.get("UserPortalURL")}
        yield _fact(ctx, ssid, times, extra, row=key)
        for index, bss in enumerate(network.get("BSSList") or []):
            if not isinstance(bss, dict):
                continue
            lat, lon = bss.get("LocationLatitude"), bss.get("LocationLongitude")
            if not _number(lat) or not _number(lon):
                continue
            associated = _time(bss.get("LastAssociatedAt"))
            yield Location(app=ctx.app, latitude=float(lat), longitude=float(lon), source_kind="wifi",
                           accuracy_m=bss.get("LocationAccuracy") if _number(bss.get("LocationAccuracy")) else None,
                           label=ssid, ts=_time(bss.get("LocationTimestamp")),
                           extra=_clean({"bssid": bss.get("BSSID"), "channel": bss.get("Channel"),
                                         "last_associated": dataclasses.asdict(associated) if associated else None}),
                           prov=ctx.prov("BSSList", f"{key}/{index}"))


@parser(name="ios-wifi-legacy-networks", app=APP,
        paths=["*/preferences/SystemConfiguration/com.apple.wifi.plist",
               "*/preferences/SystemConfiguration/com.apple.wifi-networks.plist.backup"], source=SOURCE)
def legacy_networks(_db, ctx):
    """Known networks of older releases (``List of known networks``)."""
    for index, network in enumerate(read_plist(ctx.local).get("List of known networks") or []):
        if not isinstance(network, dict):
            continue
        extra = {"bssid": network.get("BSSID"), "hidden": network.get("Hidden"), "enabled": network.get("enabled"),
                 "network_usage": network.get("networkUsage")}
        yield _fact(ctx, _ssid(network.get("SSID_STR")), _times(network, _LEGACY_TIMES), extra,
                    row=str(index), table="List of known networks")


THREEBARS = ["*/root/Library/Caches/com.apple.wifid/ThreeBars.sqlite"]
THREEBARS_SOURCE = "iLEAPP scripts/artifacts/threeBars.py"


@parser(name="ios-wifi-threebars-networks", app=APP, paths=THREEBARS, source=THREEBARS_SOURCE,
        requires={"ZNETWORK": {"Z_PK", "ZCREATED", "ZCENTROIDLAT", "ZCENTROIDLNG", "ZNAME"}})
def threebars_networks(db, ctx):
    """Networks wifid downloaded with their positions (not proof of a connection)."""
    optional = optional_columns(db, "ZNETWORK", ("ZIDENTIFIER", "ZACCESSPOINTCOUNT", "ZCAPTIVE", "ZPUBLIC",
                                                 "ZMOVING"))
    for row in db.execute(f"SELECT Z_PK, ZCREATED, ZCENTROIDLAT, ZCENTROIDLNG, ZNAME, {optional} FROM ZNETWORK "
                          f"ORDER BY Z_PK"):
        extra = {"identifier": row["ZIDENTIFIER"], "access_points": row["ZACCESSPOINTCOUNT"],
                 "captive": row["ZCAPTIVE"], "public": row["ZPUBLIC"], "moving": row["ZMOVING"]}
        yield from _placed(ctx, "ZNETWORK", row["Z_PK"], row["ZCENTROIDLAT"], row["ZCENTROIDLNG"], row["ZCREATED"],
                           "wifi network", row["ZNAME"], extra)


@parser(name="ios-wifi-threebars-access-points", app=APP, paths=THREEBARS, source=THREEBARS_SOURCE,
        requires={"ZACCESSPOINT": {"Z_PK", "ZCREATED", "ZLAT", "ZLNG", "ZBSSID"}})
def threebars_access_points(db, ctx):
    """Access points wifid downloaded with their positions, with their network's name where known."""
    names = {}
    if {"z_pk", "zname"} <= columns(db, "ZNETWORK"):
        names = dict(db.execute("SELECT Z_PK, ZNAME FROM ZNETWORK"))
    network = optional_columns(db, "ZACCESSPOINT", ("ZNETWORK",))
    for row in db.execute(f"SELECT Z_PK, ZCREATED, ZLAT, ZLNG, ZBSSID, {network} FROM ZACCESSPOINT ORDER BY Z_PK"):
        yield from _placed(ctx, "ZACCESSPOINT", row["Z_PK"], row["ZLAT"], row["ZLNG"], row["ZCREATED"],
                           "wifi access point", names.get(row["ZNETWORK"]), {"bssid": row["ZBSSID"]})


def _placed(ctx, table, key, lat, lon, created, kind, label, extra):
    if not _number(lat) or not _number(lon) or (lat == 0 and lon == 0):
        return
    yield Location(app=ctx.app, latitude=float(lat), longitude=float(lon), source_kind=kind, label=label,
                   ts=timestamps.cocoa_s(created) if _number(created) and created > 0 else None,
                   extra=_clean(extra), prov=ctx.prov(table, key))


def _fact(ctx, ssid, times: dict, extra: dict, row: str, table: str | None = None) -> DeviceFact:
    joins = [times[name] for name in _JOINS if name in times]
    latest = max(joins, key=lambda t: t.iso) if joins else times.get("added") or times.get("updated")
    extra = _clean(extra) | {"times": {name: dataclasses.asdict(t) for name, t in sorted(times.items())}}
    if latest:
        extra["ts_is"] = next(name for name, t in times.items() if t is latest)
    return DeviceFact(app=ctx.app, key="wifi_network", value=ssid, ts=latest, extra=extra, prov=ctx.prov(table, row))


def _times(source: dict, names: dict[str, str]) -> dict[str, timestamps.TimeValue]:
    found = {name: _time(source.get(key)) for key, name in names.items()}
    return {name: value for name, value in found.items() if value}


def _time(value) -> timestamps.TimeValue | None:
    """A plist <date> (naive UTC from plistlib)."""
    if isinstance(value, dt.datetime):
        return timestamps.from_datetime(value, value.isoformat(), "plist_date")
    return None


def _ssid(value) -> str | None:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.hex()
    return value if isinstance(value, str) else None


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _clean(extra: dict) -> dict:
    return {k: v for k, v in extra.items() if v is not None and v != ""}
