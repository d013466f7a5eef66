"""packages.xml and package-restrictions.xml, as ABX and as text XML, written at test time by the ABX fixture writer."""
import xml.etree.ElementTree as ET

from tests import parser_harness
from tests.fixtures.abx import PACKAGES_ATTR_TYPES, WHATSAPP, encode_abx, packages_element

PACKAGES = "/data/system/packages.xml"
RESTRICTIONS_0 = "/data/system/users/0/package-restrictions.xml"
RESTRICTIONS_10 = "/data/system/users/10/package-restrictions.xml"
PARSERS = ["android-packages", "android-package-restrictions"]

SIDELOADED = {"name": "com.example.vault", "codePath": "/data/app/~~c2lkZQ==/com.example.vault-dmF1bHQ=",
              "ft": 1_700_000_400_000, "it": 1_700_000_400_000, "ut": 1_700_000_400_000, "version": 7,
              "userId": 10_301, "installer": None}
GMS = {"name": "com.google.android.gms", "codePath": "/data/app/~~Z21z/com.google.android.gms-Z21z",
       "ft": 1_699_000_000_000, "it": 1_230_768_000_000, "ut": 1_699_000_000_000, "version": 234_414_044,
       "publicFlags": 0x30D8BE45, "installer": "com.android.vending"}


def packages_tree() -> ET.Element:
    """An Android 13 style packages.xml: WhatsApp from Play, a sideloaded app, and Play services as an updated
    system app with a shared user id and its factory <updated-package>."""
    root = packages_element([WHATSAPP, SIDELOADED, GMS])
    gms = root.find("package[@name='com.google.android.gms']")
    del gms.attrib["userId"]
    gms.set("sharedUserId", "10117")
    vault = root.find("package[@name='com.example.vault']")
    vault.set("installInitiator", "com.google.android.packageinstaller")
    vault.set("installOriginator", "com.android.chrome")
    ET.SubElement(root, "updated-package", {"name": "com.google.android.gms",
                                            "codePath": "/system/priv-app/PrebuiltGmsCore", "ft": "11e0a1e0f00",
                                            "it": "11e0a1e0f00", "ut": "11e0a1e0f00", "version": "230000000",
                                            "sharedUserId": "10117"})
    ET.SubElement(root, "shared-user", {"name": "com.google.uid.shared", "userId": "10117"})
    return root


def test_abx_and_text_packages_xml_give_the_same_records(tmp_path):
    root = packages_tree()
    abx = encode_abx(root, PACKAGES_ATTR_TYPES)
    text = b"<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n" + ET.tostring(root, encoding="utf-8")
    results = []
    for name, data in (("abx", abx), ("text", text)):
        outcomes, rows = parser_harness.run(tmp_path / name, {PACKAGES: data}, PARSERS)
        assert [(o.spec.name, o.outcome, o.records) for o in outcomes] == [("android-packages", "parsed", 3)]
        results.append([{k: v for k, v in r.items() if k != "id"} for r in rows["apps"]])
    assert results[0] == results[1]
    whatsapp, vault, gms = results[0]
    assert whatsapp["package"] == "com.whatsapp" and whatsapp["version"] == "232475002"
    assert whatsapp["installer"] == "com.android.vending" and whatsapp["app"] == "system"
    assert whatsapp["ts"] == "2023-07-22T04:26:40.000000Z" and whatsapp["ts_raw"] == "1897bd98400"
    assert whatsapp["ts_encoding"] == "hex_ms" and whatsapp["updated_ts"] == "2023-11-14T22:15:00.000000Z"
    assert whatsapp["extra"]["file_time"] == "2023-11-14T22:15:23.456000Z"
    assert whatsapp["extra"]["code_path"] == WHATSAPP["codePath"] and whatsapp["extra"]["system"] is False
    assert whatsapp["source_table"] == "package" and whatsapp["source_row"] == "com.whatsapp"
    # sideloaded: no installer attribute, so the initiator (the package installer UI) is the installer
    assert vault["installer"] == "com.google.android.packageinstaller"
    assert vault["extra"]["install_originator"] == "com.android.chrome"
    assert gms["extra"]["system"] is True and gms["extra"]["shared_user"] == "com.google.uid.shared"
    assert gms["extra"]["factory_code_path"] == "/system/priv-app/PrebuiltGmsCore"
    assert gms["extra"]["factory_version"] == "230000000" and gms["ts"] == "2009-01-01T00:00:00.000000Z"


def test_abx_times_stored_as_decimal_longs_are_read_as_decimal(tmp_path):
    root = packages_element([WHATSAPP])
    package = root.find("package")
    for name in ("ft", "it", "ut"):
        package.set(name, str(int(package.get(name), 16)))
    data = encode_abx(root, {**PACKAGES_ATTR_TYPES, "ft": "long", "it": "long", "ut": "long"})
    outcomes, rows = parser_harness.run(tmp_path, {PACKAGES: data}, PARSERS)
    (app,) = rows["apps"]
    assert app["ts"] == "2023-07-22T04:26:40.000000Z" and app["ts_encoding"] == "unix_ms"
    assert app["ts_raw"] == "1690000000000" and app["updated_ts"] == "2023-11-14T22:15:00.000000Z"


def test_orphan_updated_package_is_kept(tmp_path):
    root = packages_element([])
    ET.SubElement(root, "updated-package", {"name": "com.android.chrome", "codePath": "/product/app/Chrome",
                                            "ft": "18bcfe56800", "it": "18bcfe56800", "ut": "18bcfe56800",
                                            "version": "1", "userId": "10120"})
    outcomes, rows = parser_harness.run(tmp_path, {PACKAGES: encode_abx(root, PACKAGES_ATTR_TYPES)}, PARSERS)
    (app,) = rows["apps"]
    assert app["package"] == "com.android.chrome" and app["extra"]["factory_entry_only"] is True
    assert app["source_table"] == "updated-package" and app["ts"] == "2023-11-14T22:13:20.000000Z"


def test_package_restrictions_per_user(tmp_path):
    first_install = 1_700_000_000_000
    owner = ET.Element("package-restrictions")
    ET.SubElement(owner, "pkg", {"name": "com.whatsapp", "ceDataInode": "123456", "install-reason": "4",
                                 "first-install-time": f"{first_install:x}"})
    ET.SubElement(owner, "pkg", {"name": "com.example.vault", "inst": "false", "stopped": "true", "nl": "true",
                                 "install-reason": "0", "first-install-time": f"{first_install + 1000:x}"})
    second = ET.Element("package-restrictions")
    ET.SubElement(second, "pkg", {"name": "com.example.vault", "enabled": "3", "enabledCaller": "com.android.settings",
                                  "first-install-time": f"{first_install + 2000:x}"})
    types = {"ceDataInode": "long", "install-reason": "int", "first-install-time": "long_hex", "inst": "bool",
             "stopped": "bool", "nl": "bool", "enabled": "int"}
    files = {RESTRICTIONS_0: encode_abx(owner, types),
             RESTRICTIONS_10: b"<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n" + ET.tostring(second)}
    outcomes, rows = parser_harness.run(tmp_path, files, PARSERS)
    assert sorted((o.source.path, o.records) for o in outcomes) == [(RESTRICTIONS_0, 2), (RESTRICTIONS_10, 1)]
    whatsapp, hidden, second_user = rows["apps"]
    assert whatsapp["ts"] == "2023-11-14T22:13:20.000000Z" and whatsapp["ts_encoding"] == "hex_ms"
    assert whatsapp["extra"] == {"user": "0", "installed": True, "stopped": False, "not_launched": False,
                                 "hidden": False, "install_reason": "user"}
    assert hidden["extra"]["installed"] is False and hidden["extra"]["not_launched"] is True
    assert second_user["extra"]["user"] == "10" and second_user["extra"]["enabled"] == "3"
    assert second_user["ts"] == "2023-11-14T22:13:22.000000Z" and second_user["source_row"] == "10/com.example.vault"


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE packages [
  <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
  <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
]>
<packages><package name="&d;" codePath="/data/app/x" ft="1" it="1" ut="1" version="1" userId="10000"/></packages>
"""


def test_hostile_and_damaged_files_are_errors_not_no_data(tmp_path):
    abx = encode_abx(packages_tree(), PACKAGES_ATTR_TYPES)
    cases = {"bomb": BOMB, "truncated": abx[: len(abx) // 2], "garbage": b"\x00\x01 not xml at all",
             "wrong_root": b"<settings><setting name='x'/></settings>"}
    results = {}
    for name, data in cases.items():
        outcomes, rows = parser_harness.run(tmp_path / name, {PACKAGES: data}, PARSERS)
        (outcome,) = outcomes
        assert rows["apps"] == []
        results[name] = (outcome.outcome, outcome.message)
    assert results["bomb"][0] == "error" and "refused XML" in results["bomb"][1]
    assert results["truncated"][0] == "error" and "ABXDecodeError" in results["truncated"][1]
    assert results["garbage"][0] == "error" and "not well-formed" in results["garbage"][1]
    assert results["wrong_root"] == ("unsupported version",
                                     "unsupported version: root element <settings>, expected <packages>")
