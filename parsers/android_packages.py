"""Installed applications as Android's package manager records them: ``/data/system/packages.xml`` (device-wide) and
``/data/system/users/<user>/package-restrictions.xml`` (per user), each as text XML (Android 11 and older) or Android
Binary XML (Android 12 and later), read through ``parsers.decoders.abx.load_android_xml``. Text XML that declares
entities or external references is refused (an error outcome), never expanded.

packages.xml: one ``<package>`` per installed package with its ``version`` (versionCode), ``codePath``, installer
(``installer``, ``installInitiator``, ``installOriginator``) and three times in milliseconds since 1970: ``ft`` (the
APK file's time), ``it`` (first install) and ``ut`` (last update). Text XML writes them as hexadecimal
(``Long.toHexString``), and so does ABX with its long-hex type; an attribute stored with ABX's decimal int/long type
is decoded as decimal: the stored type decides, never the value's size. ``<updated-package>`` is the factory version
of a system app that an update replaced; it is folded into that package's record. ``<shared-user>`` names the
shared user ids that packages refer to with ``sharedUserId``. Newer Android releases also keep a first-install time
per user, in package-restrictions.xml's ``first-install-time`` (long hex); a package without ``it`` has no ``ts`` here.

package-restrictions.xml: one ``<pkg>`` per package known to that user, with whether it is installed for the user
(``inst``, default true), stopped, never launched (``nl``), hidden, its enabled state, install reason and the
per-user ``first-install-time``; each becomes a record tagged with the user id taken from the path.
"""
from __future__ import annotations

import re

from artifacts import timestamps
from artifacts.records import InstalledApp
from parsers.decoders.abx import abx_attribute_type, load_android_xml
from parsers.framework import Unsupported, parser

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = ("AOSP PackageManager packages.xml and Android Binary XML (frameworks/base BinaryXmlSerializer); "
          "ALEAPP scripts/artifacts/packageInfo.py")

APP = "system"
_FLAG_SYSTEM = 1  # ApplicationInfo.FLAG_SYSTEM in publicFlags
# PackageManager.INSTALL_REASON_*
_INSTALL_REASONS = {0: "unknown", 1: "policy", 2: "device_restore", 3: "device_setup", 4: "user", 5: "rollback"}
_USER = re.compile(r"/users/(\d+)/package-restrictions(?:-backup)?\.xml$", re.IGNORECASE)


def _root(ctx, tag: str):
    root = load_android_xml(ctx.local.read_bytes())
    if root.tag != tag:
        raise Unsupported(f"root element <{root.tag}>, expected <{tag}>")
    return root


def _time(element, name: str):
    """An ms-since-1970 attribute: hexadecimal unless ABX stored it with a decimal type."""
    raw = element.get(name)
    if raw is None:
        return None
    if abx_attribute_type(element, name) in ("int", "long"):
        return timestamps.unix_ms(raw)
    return timestamps.hex_ms(raw)


def _int(element, name: str) -> int | None:
    try:
        return int(element.get(name))
    except (TypeError, ValueError):
        return None


def _package_record(element, ctx, table: str, shared_users: dict, factory=None) -> InstalledApp:
    flags = _int(element, "publicFlags")
    extra = {key: element.get(attr) for key, attr in (
        ("code_path", "codePath"), ("install_initiator", "installInitiator"),
        ("install_originator", "installOriginator"), ("primary_cpu_abi", "primaryCpuAbi"),
        ("user_id", "userId"), ("shared_user_id", "sharedUserId"), ("package_source", "packageSource"),
        ("public_flags", "publicFlags"), ("private_flags", "privateFlags")) if element.get(attr) is not None}
    if flags is not None:
        extra["system"] = bool(flags & _FLAG_SYSTEM)
    if element.get("sharedUserId") in shared_users:
        extra["shared_user"] = shared_users[element.get("sharedUserId")]
    file_time = _time(element, "ft")
    if file_time:
        extra["file_time"] = file_time.iso
    if table == "updated-package":
        extra["factory_entry_only"] = True  # an <updated-package> without its <package>
    if factory is not None:
        extra["factory_code_path"] = factory.get("codePath")
        extra["factory_version"] = factory.get("version")
    installer = element.get("installer") or element.get("installInitiator") or element.get("installOriginator")
    return InstalledApp(app=ctx.app, package=element.get("name"), version=element.get("version"), installer=installer,
                        ts=_time(element, "it"), updated_ts=_time(element, "ut"), extra=extra,
                        prov=ctx.prov(table, element.get("name")))


@parser(name="android-packages", app=APP, platform="Android",
        paths=["*/system/packages.xml", "*/system/packages-backup.xml"])
def packages(db, ctx):
    """Installed packages (packages.xml, text or ABX)."""
    root = _root(ctx, "packages")
    shared_users = {e.get("userId"): e.get("name") for e in root.findall("shared-user") if e.get("userId")}
    factory = {e.get("name"): e for e in root.findall("updated-package")}
    seen = set()
    for element in root.findall("package"):
        seen.add(element.get("name"))
        yield _package_record(element, ctx, "package", shared_users, factory.get(element.get("name")))
    for name, element in factory.items():
        if name not in seen:
            yield _package_record(element, ctx, "updated-package", shared_users)


def _flag(element, name: str, default: bool) -> bool:
    value = element.get(name)
    return default if value is None else value == "true"


@parser(name="android-package-restrictions", app=APP, platform="Android",
        paths=["*/system/users/*/package-restrictions.xml", "*/system/users/*/package-restrictions-backup.xml"])
def package_restrictions(db, ctx):
    """Per-user package state (users/<id>/package-restrictions.xml, text or ABX)."""
    root = _root(ctx, "package-restrictions")
    match = _USER.search(ctx.source.path)
    user = match.group(1) if match else None
    for element in root.findall("pkg"):
        extra = {"user": user, "installed": _flag(element, "inst", True), "stopped": _flag(element, "stopped", False),
                 "not_launched": _flag(element, "nl", False), "hidden": _flag(element, "hidden", False)}
        for key, attr in (("enabled", "enabled"), ("enabled_caller", "enabledCaller"),
                          ("uninstall_reason", "uninstall-reason")):
            if element.get(attr) is not None:
                extra[key] = element.get(attr)
        reason = _int(element, "install-reason")
        if reason is not None:
            extra["install_reason"] = _INSTALL_REASONS.get(reason, str(reason))
        yield InstalledApp(app=ctx.app, package=element.get("name"), ts=_time(element, "first-install-time"),
                           extra=extra, prov=ctx.prov("pkg", f"{user}/{element.get('name')}"))
