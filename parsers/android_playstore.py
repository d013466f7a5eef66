"""Google Play Store (com.android.vending): what Play installed, what the Google account owns, and the APKs Play keeps
provenance metadata ("frosting") for.

- ``localappstate.db`` ``appstate``: one row per app Play installed or manages on this device, with the Play account
  that installed it, the first download and the last update (milliseconds since 1970).
- ``library.db`` ``ownership``: every item the device's Google accounts own (apps, in-app items, subscriptions,
  books, ...). Only apps (``doc_type`` 1, ANDROID_APP) become records; ``doc_id`` is then the package name and
  ``purchase_time`` (milliseconds since 1970, in newer Play releases) the acquisition time. Owning an app says the
  account acquired it on some device, not that it is installed on this one.
- ``frosting.db`` ``frosting``: ``pk`` (package), ``apk_path`` and ``last_updated`` (milliseconds since 1970). A row
  says Play looked at that installed APK; it does not say Play installed it, so the installer is left empty.

The Play account (an e-mail address) goes into ``extra``; delivery tokens and purchase signatures are never read.
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import InstalledApp
from parsers.framework import optional_columns, parser

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "ALEAPP scripts/artifacts/installedappsVending.py, installedappsLibrary.py, frosting.py"

APP = "com.android.vending"
_ANDROID_APP = 1  # finsky DocumentType.ANDROID_APP


def _kept(row, keys) -> dict:
    return {key: row[key] for key in keys if row[key] not in (None, "")}


@parser(name="playstore-installs", app=APP, platform="Google Play",
        paths=["*/com.android.vending/databases/localappstate.db"],
        requires={"appstate": {"package_name", "first_download_ms"}})
def installs(db, ctx):
    """Apps Play installed or manages (localappstate.db appstate)."""
    select = optional_columns(db, "appstate", ["title", "account", "account_for_update", "last_update_timestamp_ms",
                                               "install_reason", "auto_update", "desired_version", "installer_state",
                                               "referrer", "requesting_package_name", "install_request_timestamp_ms"])
    for row in db.execute(f"SELECT rowid AS rid, package_name, first_download_ms, {select} FROM appstate "
                          f"ORDER BY rowid"):
        extra = _kept(row, ("account", "account_for_update", "install_reason", "auto_update", "desired_version",
                            "installer_state", "referrer", "requesting_package_name"))
        requested = timestamps.unix_ms(row["install_request_timestamp_ms"])
        if requested:
            extra["install_request_time"] = requested.iso
        yield InstalledApp(
            app=ctx.app, package=row["package_name"], name=row["title"] or None, installer=APP,
            ts=timestamps.unix_ms(row["first_download_ms"]),
            updated_ts=timestamps.unix_ms(row["last_update_timestamp_ms"]), extra=extra,
            prov=ctx.prov("appstate", row["rid"]),
        )


@parser(name="playstore-library", app=APP, platform="Google Play",
        paths=["*/com.android.vending/databases/library.db"],
        requires={"ownership": {"account", "doc_id", "doc_type"}})
def library(db, ctx):
    """Apps the device's Google accounts own (library.db ownership, doc_type 1)."""
    select = optional_columns(db, "ownership", ["library_id", "backend", "offer_type", "purchase_time",
                                                "preordered", "owned_via_license", "shared_by_me"])
    for row in db.execute(f"SELECT rowid AS rid, account, doc_id, {select} FROM ownership WHERE doc_type = ? "
                          f"ORDER BY rowid", [_ANDROID_APP]):
        extra = _kept(row, ("account", "library_id", "backend", "offer_type", "preordered", "owned_via_license",
                            "shared_by_me"))
        extra["owned_by_account"] = True
        yield InstalledApp(app=ctx.app, package=row["doc_id"], installer=APP,
                           ts=timestamps.unix_ms(row["purchase_time"]), extra=extra,
                           prov=ctx.prov("ownership", row["rid"]))


@parser(name="playstore-frosting", app=APP, platform="Google Play",
        paths=["*/com.android.vending/databases/frosting.db"],
        requires={"frosting": {"pk", "last_updated"}})
def frosting(db, ctx):
    """Installed APKs Play holds provenance metadata for (frosting.db frosting)."""
    select = optional_columns(db, "frosting", ["apk_path"])
    for row in db.execute(f"SELECT rowid AS rid, pk, last_updated, {select} FROM frosting ORDER BY rowid"):
        yield InstalledApp(app=ctx.app, package=row["pk"], updated_ts=timestamps.unix_ms(row["last_updated"]),
                           extra=_kept(row, ("apk_path",)), prov=ctx.prov("frosting", row["rid"]))
