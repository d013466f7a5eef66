"""Facts about an iPhone itself, from the system property lists of a full-file-system extraction (and the few of them
an iTunes/Finder backup holds). Each becomes a ``DeviceFact``; the ingest folds the ones with a device-row column
(platform, model, os_version, serial, udid, phone_number, device_name, time_zone) into the device row, after the
facts the evidence layer already took from a backup's Info.plist.

Sources, and the keys read (every one optional; a value is kept only when it is non-empty text or an integer):

- ``/System/Library/CoreServices/SystemVersion.plist`` and ``/private/var/installd/Library/MobileInstallation/
  LastBuildInfo.plist`` (the latter also in backups, InstallDomain): ``ProductVersion`` → os_version,
  ``ProductBuildVersion`` → build, ``ProductName`` → product_name. A ProductName that is not iOS's ("iPhone OS",
  "iOS", "iPadOS") — macOS has the same file at the same path — is refused as unsupported.
- ``/private/var/root/Library/Lockdown/data_ark.plist`` (lockdownd's store; newer releases keep one under
  mobileactivationd's ``Library/internal``): ``-DeviceName`` → device_name, ``-TimeZone`` → time_zone (the zone set
  on the device, e.g. ``America/New_York``), ``-SerialNumber``, ``-UniqueDeviceID``, ``-ProductType``,
  ``-ActivationState``, ``com.apple.iTunes.backup-LastBackupComputerName``; the same names without the leading
  ``-`` are read too.
- the MobileGestalt cache ``.../systemgroup.com.apple.mobilegestaltcache/Library/Caches/com.apple.MobileGestalt.plist``:
  its ``CacheExtra`` dictionary is keyed by MobileGestalt's obfuscated key names; the ones read are those of
  ProductType (``h9jDsbgj7xIVeIQ8S3/X3Q``) → model, and, where the cache holds them, ProductVersion, BuildVersion,
  SerialNumber, UniqueDeviceID, DeviceName, PhoneNumber and InternationalMobileEquipmentIdentity.
- CommCenter's ``/private/var/wireless/Library/Preferences/com.apple.commcenter.plist`` (also in backups,
  WirelessDomain) and ``com.apple.commcenter.device_specific_nobackup.plist``: ``PhoneNumber`` and
  ``ReportedPhoneNumber`` → phone_number (as stored, not normalized), ``LastKnownICCID`` → iccid, ``imei`` or each
  ``second`` of ``imeis`` → imei, ``meid``.

Not read: ``/private/var/db/timezone/localtime`` is a symbolic link whose target names the zone, but links are not
spooled to parsers (the inventory keeps the target in ``files.link_target``); the keys of
``com.apple.preferences.datetime.plist`` are not publicly documented.

Every source is iOS's own, so each file that gives any fact also gives platform ``ios``. Plists are evidence and
hostile: a file over MAX_PLIST_BYTES is not parsed, plistlib (XML or binary) refuses XML entity declarations, and a
root that is not a dictionary is an error. No times are decoded here.
"""
from __future__ import annotations

import plistlib
from typing import Iterator

from artifacts.records import DeviceFact
from parsers.framework import Unsupported, parser

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = ("iLEAPP scripts/artifacts/systemVersionPlist.py, lastBuild.py, serialNumber.py, imeiImsi.py, deviceName.py, timezoneSet.py")

APP = "system"
PLATFORM = "ios"
MAX_PLIST_BYTES = 8 * 1024 * 1024  # these plists are kilobytes; MobileGestalt's cache, the largest, ~100 kB
IOS_PRODUCT_NAMES = ("iPhone OS", "iOS", "iPadOS")

_BUILD_KEYS = {"ProductVersion": "os_version", "ProductBuildVersion": "build", "ProductName": "product_name"}
_DATA_ARK_KEYS = {"DeviceName": "device_name", "TimeZone": "time_zone", "SerialNumber": "serial",
                  "UniqueDeviceID": "udid", "ProductType": "model", "ActivationState": "activation_state",
                  "com.apple.iTunes.backup-LastBackupComputerName": "last_backup_computer_name"}
# MobileGestalt's obfuscated key names (the cache stores answers under these) → fact.
_GESTALT_KEYS = {"h9jDsbgj7xIVeIQ8S3/X3Q": "model",  # ProductType
                 "qNNddlUK+B/YlooNoymwgA": "os_version",  # ProductVersion
                 "mZfUC7qo4pURNhyMHZ62RQ": "build",  # BuildVersion
                 "VasUgeSzVyHdB27g2XpN0g": "serial",  # SerialNumber
                 "re6Zb+zwFKJNlkQTUeT+/w": "udid",  # UniqueDeviceID
                 "rkqlwPcRHwixY4gapPjanw": "device_name",  # DeviceName
                 "H5TSt7Pu4zNCD5RvHuk5CQ": "phone_number",  # PhoneNumber
                 "QZgogo2DypSAZfkRW4dP/A": "imei"}  # InternationalMobileEquipmentIdentity
_COMMCENTER_KEYS = {"PhoneNumber": "phone_number", "ReportedPhoneNumber": "phone_number",
                    "LastKnownICCID": "iccid", "imei": "imei", "meid": "meid"}


def read_plist(path) -> dict:
    """The root dictionary of a device plist (XML or binary), refusing oversized files and XML entities."""
    size = path.stat().st_size
    if size > MAX_PLIST_BYTES:
        raise ValueError(f"{size} bytes, more than the {MAX_PLIST_BYTES} a device plist can plausibly be; not read")
    try:
        with open(path, "rb") as handle:
            root = plistlib.load(handle)
    except Exception as exc:  # hostile input fails in many of plistlib's ways; each one means "unreadable"
        raise ValueError(f"not a readable property list ({type(exc).__name__}: {exc})") from None
    if not isinstance(root, dict):
        raise ValueError(f"property list root is a {type(root).__name__}, not a dictionary")
    return root


def _text(value) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) and value.strip() else None


def _facts(ctx, pairs: Iterator[tuple[str, str, object]]) -> Iterator[DeviceFact]:
    """(plist key, fact key, value) → records, platform first, nothing at all when no value is usable."""
    facts = [DeviceFact(app=APP, key=fact, value=_text(value), extra={"plist_key": plist_key}, prov=ctx.prov())
             for plist_key, fact, value in pairs if _text(value) is not None]
    if facts:
        yield DeviceFact(app=APP, key="platform", value=PLATFORM, prov=ctx.prov())
        yield from facts


@parser(name="ios-device-build", app=APP,
        paths=["*/System/Library/CoreServices/SystemVersion.plist",
               "*/installd/Library/MobileInstallation/LastBuildInfo.plist"])
def build(_db, ctx):
    """iOS version, build and product name from SystemVersion.plist or LastBuildInfo.plist."""
    plist = read_plist(ctx.local)
    name = plist.get("ProductName")
    if name is not None and name not in IOS_PRODUCT_NAMES:
        raise Unsupported(f"ProductName {name!r} is not iOS")
    yield from _facts(ctx, ((key, fact, plist.get(key)) for key, fact in _BUILD_KEYS.items()))


@parser(name="ios-device-data-ark", app=APP,
        paths=["*/Library/Lockdown/data_ark.plist", "*/Library/internal/data_ark.plist"])
def data_ark(_db, ctx):
    """Device name, time zone and identifiers lockdownd keeps in data_ark.plist."""
    plist = read_plist(ctx.local)

    def pairs():
        for name, fact in _DATA_ARK_KEYS.items():
            for key in (f"-{name}", name):
                if key in plist:
                    yield key, fact, plist[key]

    yield from _facts(ctx, pairs())


@parser(name="ios-device-mobilegestalt", app=APP, paths=["*/Library/Caches/com.apple.MobileGestalt.plist"])
def mobile_gestalt(_db, ctx):
    """Model (ProductType) and whatever identifiers MobileGestalt's answer cache holds."""
    extra = read_plist(ctx.local).get("CacheExtra")
    if not isinstance(extra, dict):
        return
    yield from _facts(ctx, ((key, fact, extra.get(key)) for key, fact in _GESTALT_KEYS.items()))


@parser(name="ios-device-commcenter", app=APP,
        paths=["*/wireless/Library/Preferences/com.apple.commcenter.plist",
               "*/wireless/Library/Preferences/com.apple.commcenter.device_specific_nobackup.plist"])
def commcenter(_db, ctx):
    """Phone number, ICCID, IMEI(s) and MEID CommCenter recorded for the SIM and the modem."""
    plist = read_plist(ctx.local)

    def pairs():
        for key, fact in _COMMCENTER_KEYS.items():
            yield key, fact, plist.get(key)
        imeis = plist.get("imeis")
        for entry in imeis if isinstance(imeis, list) else ():
            if isinstance(entry, dict):
                yield "imeis", "imei", entry.get("second")

    yield from _facts(ctx, pairs())
