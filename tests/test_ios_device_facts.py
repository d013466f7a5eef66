"""iOS device facts from system plists (SystemVersion, LastBuildInfo, data_ark, MobileGestalt cache, CommCenter),
written as XML and binary plists the way the device keeps them, and hostile plists that must be refused."""
import plistlib
import struct

import pytest

from parsers.ios_device import MAX_PLIST_BYTES
from tests import parser_harness

SYSTEM_VERSION = "/filesystem1/System/Library/CoreServices/SystemVersion.plist"
LAST_BUILD = "/private/var/installd/Library/MobileInstallation/LastBuildInfo.plist"
DATA_ARK = "/filesystem1/private/var/root/Library/Lockdown/data_ark.plist"
ACTIVATION_ARK = ("/private/var/containers/Shared/SystemGroup/systemgroup.com.apple.mobileactivationd/Library/"
                  "internal/data_ark.plist")
GESTALT = ("/private/var/containers/Shared/SystemGroup/systemgroup.com.apple.mobilegestaltcache/Library/Caches/"
           "com.apple.MobileGestalt.plist")
COMMCENTER = "/private/var/wireless/Library/Preferences/com.apple.commcenter.plist"
COMMCENTER_DEVICE = "/private/var/wireless/Library/Preferences/com.apple.commcenter.device_specific_nobackup.plist"


def facts(tmp_path, files):
    outcomes, rows = parser_harness.run(tmp_path, files)
    return {o.source.path: o for o in outcomes}, rows["device_facts"]


def pairs(rows, path=None):
    return [(r["key"], r["value"]) for r in rows if path is None or r["source_path"] == path]


def test_system_version_and_last_build_info(tmp_path):
    version = {"BuildID": "9A1B2C3D-0000-11EE-8000-0123456789AB", "ProductBuildVersion": "21E236",
               "ProductCopyright": "1983-2024 Apple Inc.", "ProductName": "iPhone OS", "ProductVersion": "17.4.1",
               "ReleaseType": "", "SystemImageID": "5C0A7D5E-0000-4000-8000-000000000001"}
    last_build = {"ProductBuildVersion": "20F66", "ProductName": "iPhone OS", "ProductVersion": "16.5"}
    outcomes, rows = facts(tmp_path, {SYSTEM_VERSION: plistlib.dumps(version),
                                      LAST_BUILD: plistlib.dumps(last_build, fmt=plistlib.FMT_BINARY)})
    assert {p: (o.spec.name, o.outcome, o.records) for p, o in outcomes.items()} == {
        SYSTEM_VERSION: ("ios-device-build", "parsed", 4), LAST_BUILD: ("ios-device-build", "parsed", 4)}
    assert pairs(rows, SYSTEM_VERSION) == [("platform", "ios"), ("os_version", "17.4.1"), ("build", "21E236"),
                                           ("product_name", "iPhone OS")]
    assert pairs(rows, LAST_BUILD) == [("platform", "ios"), ("os_version", "16.5"), ("build", "20F66"),
                                       ("product_name", "iPhone OS")]
    os_version = next(r for r in rows if r["key"] == "os_version" and r["source_path"] == SYSTEM_VERSION)
    assert os_version["extra"] == {"plist_key": "ProductVersion"} and os_version["app"] == "system"
    assert os_version["parser"] == "ios-device-build" and os_version["ts"] is None


def test_macos_system_version_is_not_taken_for_ios(tmp_path):
    mac = {"ProductBuildVersion": "23E224", "ProductName": "macOS", "ProductVersion": "14.4.1"}
    outcomes, rows = facts(tmp_path, {"/System/Library/CoreServices/SystemVersion.plist": plistlib.dumps(mac)})
    (outcome,) = outcomes.values()
    assert outcome.outcome == "unsupported version" and "'macOS' is not iOS" in outcome.message
    assert rows == []


def test_data_ark_lockdown_and_mobileactivationd(tmp_path):
    lockdown = {"-ActivationState": "Activated", "-BrickState": False, "-DeviceName": "Suspect iPhone",
                "-TimeZone": "America/New_York", "-Uses24HourClock": False, "-PasswordProtected": True,
                "com.apple.iTunes.backup-LastBackupComputerName": "DESKTOP-7Q2", "-SerialNumber": "",
                "com.apple.international-Locale": "en_US"}
    activation = {"ActivationState": "Activated", "SerialNumber": "F2LXK0TEST01",
                  "UniqueDeviceID": "00008110-001A2B3C4D5E801E", "ProductType": "iPhone14,2"}
    outcomes, rows = facts(tmp_path, {DATA_ARK: plistlib.dumps(lockdown, fmt=plistlib.FMT_BINARY),
                                      ACTIVATION_ARK: plistlib.dumps(activation)})
    assert all(o.spec.name == "ios-device-data-ark" and o.outcome == "parsed" for o in outcomes.values())
    assert pairs(rows, DATA_ARK) == [("platform", "ios"), ("device_name", "Suspect iPhone"),
                                     ("time_zone", "America/New_York"), ("activation_state", "Activated"),
                                     ("last_backup_computer_name", "DESKTOP-7Q2")]
    assert [r["extra"].get("plist_key") for r in rows if r["source_path"] == DATA_ARK][:3] == [
        None, "-DeviceName", "-TimeZone"]
    assert pairs(rows, ACTIVATION_ARK) == [("platform", "ios"), ("serial", "F2LXK0TEST01"),
                                           ("udid", "00008110-001A2B3C4D5E801E"), ("model", "iPhone14,2"),
                                           ("activation_state", "Activated")]


def test_mobilegestalt_cache(tmp_path):
    cache = {"CacheVersion": "21E236", "CacheUUID": "D2A1E0F4-0000-4000-8000-00000000000A",
             "CacheData": bytes(range(64)),
             "CacheExtra": {"h9jDsbgj7xIVeIQ8S3/X3Q": "iPhone14,2", "+3Uf0Pm5F8Xy7Onyvko0vA": "iPhone",
                            "zHeENZu+wbg7PUprwNwBWg": "LL/A", "H5TSt7Pu4zNCD5RvHuk5CQ": "",
                            "oPeik/9e8lQWMszEjbPzng": {"ArtworkDeviceIdiom": "phone"}}}
    no_extra = {"CacheVersion": "21E236"}
    outcomes, rows = facts(tmp_path, {GESTALT: plistlib.dumps(cache, fmt=plistlib.FMT_BINARY),
                                      "/private/var/mobile/Library/Caches/com.apple.MobileGestalt.plist":
                                          plistlib.dumps(no_extra)})
    assert [(o.spec.name, o.outcome) for o in outcomes.values()] == [("ios-device-mobilegestalt", "parsed"),
                                                                      ("ios-device-mobilegestalt", "no data")]
    assert pairs(rows) == [("platform", "ios"), ("model", "iPhone14,2")]
    assert rows[1]["extra"] == {"plist_key": "h9jDsbgj7xIVeIQ8S3/X3Q"} and rows[1]["source_path"] == GESTALT


def test_commcenter_phone_number_iccid_imeis(tmp_path):
    shared = {"LastKnownICCID": "8901260971148676693", "PhoneNumber": "15550100199", "LastKnownServingMcc": 310,
              "PersonalWallet": {"8901260971148676693": {"phonebook": {"PNRPhoneNumber": "+15550100199"}}}}
    device = {"ReportedPhoneNumber": "15550100199", "meid": "",
              "imeis": [{"first": "1:kOne", "second": "356789104321098"}, {"first": "2:kTwo", "second": 35678},
                        "not a pair"],
              "imei_svns": [{"first": "1:kOne", "second": "42"}]}
    outcomes, rows = facts(tmp_path, {COMMCENTER: plistlib.dumps(shared, fmt=plistlib.FMT_BINARY),
                                      COMMCENTER_DEVICE: plistlib.dumps(device)})
    assert all(o.spec.name == "ios-device-commcenter" and o.outcome == "parsed" for o in outcomes.values())
    assert pairs(rows, COMMCENTER) == [("platform", "ios"), ("phone_number", "15550100199"),
                                       ("iccid", "8901260971148676693")]
    assert pairs(rows, COMMCENTER_DEVICE) == [("platform", "ios"), ("phone_number", "15550100199"),
                                              ("imei", "356789104321098"), ("imei", "35678")]


ENTITY_PLIST = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist [<!ENTITY boom "iPhone14,2iPhone14,2iPhone14,2"><!ENTITY bigger "&boom;&boom;&boom;&boom;">]>
<plist version="1.0"><dict><key>-DeviceName</key><string>&bigger;</string></dict></plist>"""


def _cyclic_binary_plist() -> bytes:
    """A binary plist whose root dictionary's "imeis" array contains itself: object 2 refers back to object 2."""
    objects = [bytes([0xD1, 1, 2]),  # dict of one pair: key object 1, value object 2
               b"\x55imeis",  # ASCII string of 5
               bytes([0xA1, 2])]  # array of one element: object 2 itself
    offsets, body = [], b"bplist00"
    for obj in objects:
        offsets.append(len(body))
        body += obj
    table = len(body)
    body += bytes(offsets)
    return body + struct.pack(">6xBBQQQ", 1, 1, len(objects), 0, table)


def _deep_binary_plist(depth: int = 100_000) -> bytes:
    """Arrays nested ``depth`` deep (each the only element of the one before): recursion bait."""
    offsets, body = [], b"bplist00"
    for i in range(depth):
        offsets.append(len(body))
        body += bytes([0xA1]) + struct.pack(">I", i + 1) if i + 1 < depth else bytes([0xA0])
    table = len(body)
    body += b"".join(struct.pack(">I", o) for o in offsets)
    return body + struct.pack(">6xBBQQQ", 4, 4, depth, 0, table)


def test_this_python_refuses_xml_entity_declarations():
    with pytest.raises(plistlib.InvalidFileException, match="entity declarations are not supported"):
        plistlib.loads(ENTITY_PLIST)


def test_hostile_plists_are_errors_never_facts(tmp_path):
    oversized = tmp_path / "big.plist"
    with open(oversized, "wb") as f:
        f.write(plistlib.dumps({"-DeviceName": "x"}))
        f.truncate(MAX_PLIST_BYTES + 1)
    files = {DATA_ARK: ENTITY_PLIST, ACTIVATION_ARK: oversized, SYSTEM_VERSION: plistlib.dumps(["iPhone OS"]),
             LAST_BUILD: b"bplist00\xff\xff garbage", COMMCENTER_DEVICE: _cyclic_binary_plist(),
             GESTALT: _deep_binary_plist()}
    outcomes, rows = facts(tmp_path, files)
    messages = {p: (o.outcome, o.message) for p, o in outcomes.items()}
    assert messages[DATA_ARK] == ("error", "error: ValueError: not a readable property list (InvalidFileException: "
                                           "XML entity declarations are not supported in plist files)")
    assert messages[ACTIVATION_ARK] == ("error", f"error: ValueError: {MAX_PLIST_BYTES + 1} bytes, more than the "
                                                 f"{MAX_PLIST_BYTES} a device plist can plausibly be; not read")
    assert messages[SYSTEM_VERSION] == ("error", "error: ValueError: property list root is a list, not a dictionary")
    assert messages[LAST_BUILD][0] == "error" and "not a readable property list" in messages[LAST_BUILD][1]
    assert messages[COMMCENTER_DEVICE] == ("no data", None)  # the self-containing array holds no IMEI pair
    assert messages[GESTALT][0] == "error" and "not a readable property list" in messages[GESTALT][1]
    assert rows == []
