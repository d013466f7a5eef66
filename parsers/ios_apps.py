"""Apps on an iPhone, from three independent sources:

- FrontBoard's ``/private/var/mobile/Library/FrontBoard/applicationState.db``: one ``application_identifier_tab`` row
  per app SpringBoard knows; its ``compatibilityInfo`` value (``kvs`` joined through ``key_tab``) is an
  XBApplicationLaunchCompatibilityInfo archived with NSKeyedArchiver, usually wrapped as data in an outer binary
  plist, giving ``bundlePath``, ``bundleContainerPath`` and ``sandboxPath`` (the app's data container).
- ``iTunesMetadata.plist`` in each App Store app's bundle container (``/private/var/containers/Bundle/Application/
  <UUID>``): bundle id, store name, version, the Apple ID that bought it and the purchase date (a plist date, or an
  ISO-8601 text in ``com.apple.iTunesStore.downloadInfo``). Plists are read with plistlib, which refuses XML entity
  declarations.
- ``.com.apple.mobile_container_manager.metadata.plist`` at the root of a data container or app-group container:
  ``MCMMetadataIdentifier`` names the bundle id (data container) or app-group id (group container) the container's
  UUID belongs to.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import plistlib
from pathlib import PurePosixPath

from artifacts import timestamps
from artifacts.records import InstalledApp
from parsers.decoders.nskeyedarchive import unarchive
from parsers.framework import parser

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "iLEAPP scripts/artifacts/applicationStateDB.py, appItunesmeta.py, mobileContainerManager.py"

_COMPATIBILITY_PATHS = {"bundlePath": "bundle_path", "bundleContainerPath": "bundle_container_path",
                        "sandboxPath": "data_container_path"}
_UNDECODABLE = (plistlib.InvalidFileException, ValueError, TypeError,
                KeyError, IndexError, OverflowError, RecursionError, OSError)


@parser(name="ios-application-state", app="system", paths=["*/mobile/Library/FrontBoard/applicationState.db"],
        requires={"application_identifier_tab": {"id", "application_identifier"},
                  "kvs": {"application_identifier", "key", "value"}, "key_tab": {"id", "key"}})
def application_state(db, ctx):
    """Every app FrontBoard has state for, with its bundle and data container paths."""
    for row in db.execute("SELECT a.id, a.application_identifier, (SELECT v.value FROM kvs v JOIN key_tab k "
                          "ON k.id = v.key WHERE v.application_identifier = a.id AND k.key = 'compatibilityInfo') "
                          "AS info FROM application_identifier_tab a ORDER BY a.id"):
        extra = {}
        if row["info"] is not None:
            try:
                info = _compatibility_info(bytes(row["info"]))
            except _UNDECODABLE as exc:
                extra["compatibility_info_error"] = f"{type(exc).__name__}: {exc}"
            else:
                extra.update({name: info[key] for key, name in _COMPATIBILITY_PATHS.items()
                              if isinstance(info, dict) and isinstance(info.get(key), str)})
        yield InstalledApp(app=ctx.app, package=row["application_identifier"], extra=extra,
                           prov=ctx.prov("application_identifier_tab", row["id"]))


def _compatibility_info(blob: bytes) -> dict:
    """``compatibilityInfo``: an NSKeyedArchiver archive, which some iOS releases wrap in a plist holding it as
    data."""
    wrapped = plistlib.loads(blob)
    return unarchive(wrapped if isinstance(wrapped, bytes) else blob)


@parser(name="ios-itunes-metadata", app="com.apple.AppStore", paths=["*/iTunesMetadata.plist"])
def itunes_metadata(db, ctx):
    """An App Store app's bundle id, name, version, buyer Apple ID and purchase date."""
    meta = _plist_dict(ctx.local)
    download = meta.get("com.apple.iTunesStore.downloadInfo")
    download = download if isinstance(download, dict) else {}
    account = download.get("accountInfo") if isinstance(download.get("accountInfo"), dict) else {}
    package = meta.get("softwareVersionBundleId") or meta.get("bundleId")
    if not package:
        return
    purchased = _plist_time(download.get("purchaseDate")) or _plist_time(meta.get("purchaseDate"))
    extra = {"container_path": str(PurePosixPath(ctx.source.path).parent)}
    if purchased:
        extra["ts_is"] = "purchase"
    extra.update({name: value for name, value in (
        ("apple_id", account.get("AppleID") or meta.get("appleId")), ("ds_person_id", account.get("DSPersonID")),
        ("buyer_first_name", account.get("FirstName")), ("buyer_last_name", account.get("LastName")),
        ("item_id", meta.get("itemId")), ("artist", meta.get("artistName")), ("genre", meta.get("genre")),
        ("bundle_version", meta.get("bundleVersion")), ("factory_install", meta.get("isFactoryInstall")))
        if value not in (None, "")})
    released = _plist_time(meta.get("releaseDate"))
    if released:
        extra["release_ts"] = dataclasses.asdict(released)
    yield InstalledApp(app=ctx.app, package=str(package), name=meta.get("itemName"),
                       version=meta.get("bundleShortVersionString") or meta.get("bundleVersion"),
                       installer=meta.get("sourceApp"), ts=purchased, extra=extra, prov=ctx.prov())


@parser(name="ios-container-metadata", app="system",
        paths=["*/Containers/Data/Application/*/.com.apple.mobile_container_manager.metadata.plist",
               "*/Containers/Shared/AppGroup/*/.com.apple.mobile_container_manager.metadata.plist"])
def container_metadata(db, ctx):
    """Which bundle id (data container) or app-group id (group container) a container UUID belongs to."""
    meta = _plist_dict(ctx.local)
    identifier = meta.get("MCMMetadataIdentifier")
    if not identifier:
        return
    container = PurePosixPath(ctx.source.path).parent
    kind = "app group" if container.parent.name.lower() == "appgroup" else "app data"
    yield InstalledApp(app=ctx.app, package=str(identifier),
                       extra={"container_kind": kind, "container_uuid": container.name,
                              "container_path": str(container), "content_class": meta.get("MCMMetadataContentClass")},
                       prov=ctx.prov())


def _plist_dict(path) -> dict:
    """A plist file's root dictionary (XML or binary; plistlib rejects XML entity declarations)."""
    with open(path, "rb") as handle:
        root = plistlib.load(handle)
    if not isinstance(root, dict):
        raise ValueError(f"plist root is a {type(root).__name__}, not a dictionary")
    return root


def _plist_time(value) -> timestamps.TimeValue | None:
    """A plist <date> (naive UTC from plistlib) or an ISO-8601 text with its zone."""
    if isinstance(value, dt.datetime):
        return timestamps.from_datetime(value, value.isoformat(), "plist_date")
    if isinstance(value, str):
        return timestamps.iso8601(value)
    return None
