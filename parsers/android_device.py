"""Facts about an Android device itself: model, maker, OS version, build fingerprint, serial and time zone.

Files:

- ``build.prop`` of the system image (``/system/build.prop``; the system-as-root layout's ``/system/system/build.prop``
  matches the same pattern), of the vendor image (``/vendor/build.prop``) and of the product image
  (``/product/build.prop``, ``/product/etc/build.prop`` from Android 11). Text, ``key=value`` per line, ``#``
  comments. Since Android 10 the product properties are split per image (``ro.product.vendor.model``...) and
  ``ro.product.model`` is often absent from every file: init derives it from the first image in its default source
  order (product, odm, vendor, system_ext, system), and later-loaded images (product last) override earlier ones.
  So each run reads every build.prop of the device and reports a fact only from the file that supplies the value
  Android itself would use; the property it came from is kept in ``extra``.
- ``/data/property/persistent_properties`` (Android 9+; ``/property/...`` at the root of a userdata partition):
  the persistent system properties as a protobuf ``PersistentProperties { repeated PersistentPropertyRecord
  properties = 1; }`` with records ``{ string name = 1; string value = 2; }``; and the older layout of one file
  per property, named after it (``/data/property/persist.sys.timezone``). ``persist.sys.timezone`` is the user's
  Olson time zone.

No timestamps. Files are hostile: each is read up to a size limit, decoded as UTF-8 with replacement, and each value
cut to a bounded length. ``source_row`` is the line number (build.prop) or the record's position (protobuf).
"""
from __future__ import annotations

from pathlib import Path

from artifacts.records import DeviceFact
from parsers.decoders import protobuf_wire
from parsers.framework import parser

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = ("AOSP build.prop and persistent_properties formats (system/core init); "
          "ALEAPP scripts/artifacts/build.py, persistentProp.py")

BUILD_PROP_PATHS = ["*/system/build.prop", "*/vendor/build.prop", "*/product/build.prop", "*/product/etc/build.prop"]
MAX_FILE = 1024 * 1024
MAX_VALUE = 1024

# init's default ro.product.property_source_order; a file's image is read from its path.
_SOURCE_ORDER = ("product", "odm", "vendor", "system_ext", "system")


def _product(field: str) -> list[str]:
    return [f"ro.product.{field}"] + [f"ro.product.{image}.{field}" for image in _SOURCE_ORDER]


# fact key -> the properties that give it, best first
BUILD_FACTS = {
    "model": _product("model"),
    "manufacturer": _product("manufacturer"),
    "brand": _product("brand"),
    "device": _product("device"),
    "os_version": ["ro.build.version.release", "ro.system.build.version.release"],
    "sdk": ["ro.build.version.sdk", "ro.system.build.version.sdk"],
    "security_patch": ["ro.build.version.security_patch"],
    "build_id": ["ro.build.id", "ro.system.build.id"],
    "fingerprint": ["ro.build.fingerprint", "ro.system.build.fingerprint"],
    "serial": ["ro.serialno", "ro.boot.serialno"],
}
PERSISTENT_FACTS = {"persist.sys.timezone": "time_zone", "persist.sys.locale": "locale"}


@parser(name="android-build-props", app="system", platform="Android", paths=BUILD_PROP_PATHS)
def build_props(db, ctx):
    """Model, maker, OS version, fingerprint and serial from the device's build.prop files."""
    me = (ctx.source.partition, ctx.source.path)
    files = [(me, _properties(_read_limited(ctx.local)))]
    siblings = {(s.partition, s.path): s for pattern in BUILD_PROP_PATHS for s in ctx.find(pattern)}
    siblings.pop(me, None)
    for key, sibling in siblings.items():
        try:
            files.append((key, _properties(_read_limited(sibling.local))))
        except ValueError:
            continue  # that file's own run reports it
    files.sort(key=lambda item: (_image_rank(item[0][1]), item[0]))  # the image whose value Android keeps first
    first_source = None
    for fact, candidates in BUILD_FACTS.items():
        winner = _first(files, candidates)
        if winner is None:
            continue
        source, prop, value, line = winner
        first_source = first_source or source
        if source == me:
            yield DeviceFact(app=ctx.app, key=fact, value=value, extra={"property": prop}, prov=ctx.prov(None, line))
    if first_source == me:  # said once per device, by the file that gave its first fact
        yield DeviceFact(app=ctx.app, key="platform", value="android", prov=ctx.prov())


@parser(name="android-persistent-properties", app="system", platform="Android",
        paths=["*/property/persistent_properties", *(f"*/property/{name}" for name in PERSISTENT_FACTS)])
def persistent_properties(db, ctx):
    """Time zone and locale from the persistent system properties (protobuf file, or one file per property)."""
    data = _read_limited(ctx.local)
    name = ctx.source.path.rsplit("/", 1)[-1]
    if name in PERSISTENT_FACTS:  # legacy layout: the file holds the value
        value = _clean(data.decode("utf-8", "replace"))
        if value:
            yield DeviceFact(app=ctx.app, key=PERSISTENT_FACTS[name], value=value, extra={"property": name},
                             prov=ctx.prov())
        return
    for index, record in enumerate(protobuf_wire.fields(data)):
        if record.number != 1 or record.wire_type != protobuf_wire.LENGTH_DELIMITED:
            continue
        prop = protobuf_wire.text(record.value, 1)
        if prop in PERSISTENT_FACTS:
            value = _clean(protobuf_wire.text(record.value, 2) or "")
            if value:
                yield DeviceFact(app=ctx.app, key=PERSISTENT_FACTS[prop], value=value, extra={"property": prop},
                                 prov=ctx.prov(None, index))


def _read_limited(path: Path) -> bytes:
    with open(path, "rb") as f:
        data = f.read(MAX_FILE + 1)
    if len(data) > MAX_FILE:
        raise ValueError(f"file larger than {MAX_FILE} bytes: not a property file")
    return data


def _properties(data: bytes) -> dict[str, tuple[str, int]]:
    """Property name -> (value, line number); a later line overrides an earlier one, as init reads them."""
    props = {}
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        props[key.strip()] = (_clean(value), number)
    return props


def _clean(value: str) -> str:
    return value.strip().replace("\x00", "")[:MAX_VALUE]


def _first(files, candidates):
    """(file, property, value, line) of the first candidate property with a value, files in priority order."""
    for prop in candidates:
        for source, props in files:
            value, line = props.get(prop, ("", 0))
            if value:
                return source, prop, value, line
    return None


def _image_rank(path: str) -> int:
    parts = path.lower().split("/")
    for rank, image in enumerate(_SOURCE_ORDER):
        if image in parts[:-1] and image != "system":
            return rank
    return _SOURCE_ORDER.index("system")
