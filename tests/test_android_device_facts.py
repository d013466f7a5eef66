"""Android device facts: build.prop files of an older single-image layout and of the Android 10+ split layout, and
the persistent system properties as protobuf and as one file per property."""
from tests import parser_harness
from tests.fixtures.sample_device import BUILD_PROP, persistent_properties

PARSERS = ["android-build-props", "android-persistent-properties"]

# Android 9 and older keep the product properties unsplit in /system/build.prop
OLD_BUILD_PROP = """\
# begin build properties
ro.build.id=PQ3A.190801.002
ro.build.version.sdk=28
ro.build.version.release=9
ro.build.version.security_patch=2019-08-01
ro.build.fingerprint=samsung/beyond1ltexx/beyond1:9/PPR1.180610.011/G973FXXU1ASBA:user/release-keys
ro.product.model=SM-G973F
ro.product.brand=samsung
ro.product.manufacturer=samsung
ro.product.device=beyond1
ro.serialno=R58M12ABCDE
ro.product.model=SM-G973F override
# end build properties
"""
# Android 13 split layout: /system carries a generic model, the product and vendor images the real one
SYSTEM_13 = """\
ro.product.system.brand=Android
ro.product.system.model=mainline
ro.product.system.manufacturer=Google
ro.build.version.release=13
ro.build.fingerprint=google/panther/panther:13/TQ3A.230901.001/10750268:user/release-keys
"""
VENDOR_13 = "ro.product.vendor.model=Pixel 7\nro.product.vendor.brand=google\nro.vendor.build.version.release=13\n"
PRODUCT_13 = "ro.product.product.model=Pixel 7\nro.product.product.manufacturer=Google\n"


def facts(rows):
    return {(f["source_path"], f["key"]): (f["value"], f["extra"].get("property"), f["source_row"])
            for f in rows["device_facts"]}


def test_old_layout_build_prop(tmp_path):
    outcomes, rows = parser_harness.run(tmp_path, {"/system/build.prop": OLD_BUILD_PROP.encode()}, PARSERS)
    assert [(o.spec.name, o.outcome, o.records) for o in outcomes] == [("android-build-props", "parsed", 11)]
    path = "/system/build.prop"
    assert facts(rows) == {
        (path, "model"): ("SM-G973F override", "ro.product.model", "12"),  # a later line overrides, as init does
        (path, "manufacturer"): ("samsung", "ro.product.manufacturer", "9"),
        (path, "brand"): ("samsung", "ro.product.brand", "8"),
        (path, "device"): ("beyond1", "ro.product.device", "10"),
        (path, "os_version"): ("9", "ro.build.version.release", "4"),
        (path, "sdk"): ("28", "ro.build.version.sdk", "3"),
        (path, "security_patch"): ("2019-08-01", "ro.build.version.security_patch", "5"),
        (path, "build_id"): ("PQ3A.190801.002", "ro.build.id", "2"),
        (path, "fingerprint"): ("samsung/beyond1ltexx/beyond1:9/PPR1.180610.011/G973FXXU1ASBA:user/release-keys",
                                "ro.build.fingerprint", "6"),
        (path, "serial"): ("R58M12ABCDE", "ro.serialno", "11"),
        (path, "platform"): ("android", None, None),
    }
    assert {f["app"] for f in rows["device_facts"]} == {"system"}
    assert all(f["ts"] is None and f["partition"] == "p1" for f in rows["device_facts"])


def test_split_layout_takes_each_fact_from_the_image_android_uses(tmp_path):
    files = {"/system/system/build.prop": SYSTEM_13.encode(), "/vendor/build.prop": VENDOR_13.encode(),
             "/product/etc/build.prop": PRODUCT_13.encode()}
    outcomes, rows = parser_harness.run(tmp_path, files, PARSERS)
    assert {o.source.path: (o.outcome, o.records) for o in outcomes} == {
        "/product/etc/build.prop": ("parsed", 3), "/system/system/build.prop": ("parsed", 2),
        "/vendor/build.prop": ("parsed", 1)}
    assert facts(rows) == {
        ("/product/etc/build.prop", "model"): ("Pixel 7", "ro.product.product.model", "1"),
        ("/product/etc/build.prop", "manufacturer"): ("Google", "ro.product.product.manufacturer", "2"),
        ("/product/etc/build.prop", "platform"): ("android", None, None),
        ("/vendor/build.prop", "brand"): ("google", "ro.product.vendor.brand", "2"),
        ("/system/system/build.prop", "os_version"): ("13", "ro.build.version.release", "4"),
        ("/system/system/build.prop", "fingerprint"): (
            "google/panther/panther:13/TQ3A.230901.001/10750268:user/release-keys", "ro.build.fingerprint", "5"),
    }


def test_partition_specific_properties_alone(tmp_path):
    """The sample device's Android 14 system image has no ro.product.model: the system image's own model counts."""
    outcomes, rows = parser_harness.run(tmp_path, {"/system/build.prop": BUILD_PROP.encode()}, PARSERS)
    got = {key: value for (_, key), (value, _, _) in facts(rows).items()}
    assert got == {"model": "EX-1 Demo", "manufacturer": "ExampleMobile", "brand": "example", "device": "exdemo",
                   "os_version": "14", "sdk": "34", "security_patch": "2024-01-05", "build_id": "UQ1A.240105.004",
                   "fingerprint": "example/exdemo/exdemo:14/UQ1A.240105.004/11206848:user/release-keys",
                   "platform": "android"}


def test_persistent_properties_protobuf_and_legacy_files(tmp_path):
    proto = persistent_properties({"persist.sys.usb.config": "mtp", "persist.sys.timezone": "Europe/Berlin",
                                   "persist.sys.locale": "de-DE"})
    files = {"/data/property/persistent_properties": proto,
             "/legacy/data/property/persist.sys.timezone": b"Asia/Tokyo\n"}
    outcomes, rows = parser_harness.run(tmp_path, files, PARSERS)
    assert {o.source.path: (o.outcome, o.records) for o in outcomes} == {
        "/data/property/persistent_properties": ("parsed", 2), "/legacy/data/property/persist.sys.timezone": (
            "parsed", 1)}
    assert facts(rows) == {
        ("/data/property/persistent_properties", "time_zone"): ("Europe/Berlin", "persist.sys.timezone", "1"),
        ("/data/property/persistent_properties", "locale"): ("de-DE", "persist.sys.locale", "2"),
        ("/legacy/data/property/persist.sys.timezone", "time_zone"): ("Asia/Tokyo", "persist.sys.timezone", None),
    }


def test_hostile_files_are_errors_or_no_data(tmp_path):
    files = {
        "/a/system/build.prop": b"ro.product.model=" + b"A" * (1024 * 1024),  # beyond the size limit
        "/b/system/build.prop": b"\x00\xff\xfe binary junk without properties",
        "/c/system/build.prop": "ro.product.model=Caf\xe9 \x00phone\n".encode("latin-1"),
        "/d/data/property/persistent_properties": b"\x0a\xff\xff\xff\xff\x0f",  # a length running past the end
        "/e/data/property/persistent_properties": b"",
    }
    outcomes, rows = parser_harness.run(tmp_path, files, PARSERS)
    by_path = {o.source.path: o for o in outcomes}
    assert by_path["/a/system/build.prop"].outcome == "error"
    assert "larger than 1048576 bytes" in by_path["/a/system/build.prop"].message
    assert by_path["/b/system/build.prop"].outcome == "no data"
    assert by_path["/d/data/property/persistent_properties"].outcome == "error"
    assert by_path["/e/data/property/persistent_properties"].outcome == "no data"
    # the latin-1 byte is replaced, the NUL dropped; the readable file still gives the device's model
    assert by_path["/c/system/build.prop"].outcome == "parsed"
    assert [(f["key"], f["value"]) for f in rows["device_facts"]] == [("model", "Caf\ufffd phone"),
                                                                      ("platform", "android")]
