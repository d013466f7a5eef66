"""Browser history of the Chromium family, on Android and on iOS (Chrome for iOS uses the same History database):
the Chromium family (Chrome and its beta/dev/canary builds, Samsung Internet, Opera,
Brave, Edge, and Android System WebView inside any app), and the system download manager's ``downloads.db``.

Chromium ``History`` (one per browser profile) holds ``urls`` (one row per page), ``visits`` (one row per visit),
``downloads`` with ``downloads_url_chains`` (the URL and its redirects), and ``keyword_search_terms`` (what was typed
into a search engine, tied to the result page's ``urls`` row). Times are WebKit microseconds since 1601 (``webkit_us``)
and ``visit_duration`` is microseconds. One exception, chosen by schema and not by magnitude: the ``downloads`` table
of History databases before version 24 (recognised by its ``full_path`` and ``url`` columns, which Chromium's
``MigrateDownloadsReasonPathsAndDangerType`` replaced) stored ``start_time``/``end_time`` as time_t seconds.

WebView keeps a History database in the data folder of the app that embeds it
(``<package>/app_webview/Default/History``); the records' ``app`` is that package, read from the path, as it is for
every browser here (so Chrome Beta's rows say ``com.chrome.beta``).

The download manager (``com.android.providers.downloads``) keeps every DownloadManager request of every app in
``downloads.db``; its only time is ``lastmod`` (milliseconds since 1970, the row's last change), which becomes the
record's ``ts`` because the provider keeps no start time. Cookies and request headers stored there are never read.
"""
from __future__ import annotations

import re

from artifacts import timestamps
from artifacts.records import Download, SearchTerm, WebVisit
from parsers.framework import columns, optional_columns, parser, tables

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = ("Chromium's published History schema; ALEAPP scripts/artifacts/chrome.py, downloads.py; "
          "plaso test_data/chrome/History (real file)")

# ui::PageTransition: the core type is the low byte, qualifiers are high bits.
_CORE_TRANSITIONS = ("link", "typed", "auto_bookmark", "auto_subframe", "manual_subframe", "generated",
                     "auto_toplevel", "form_submit", "reload", "keyword", "keyword_generated")
_QUALIFIERS = ((0x00800000, "blocked"), (0x01000000, "forward_back"), (0x02000000, "from_address_bar"),
               (0x04000000, "home_page"), (0x08000000, "from_api"), (0x10000000, "chain_start"),
               (0x20000000, "chain_end"), (0x40000000, "client_redirect"), (0x80000000, "server_redirect"))
# history::DownloadDatabase state values (3 is the pre-migration spelling of "interrupted", crbug.com/140687).
_CHROMIUM_DOWNLOAD_STATES = {0: "in_progress", 1: "complete", 2: "cancelled", 3: "interrupted", 4: "interrupted"}

_OWNER = re.compile(r"/([^/]+)/app_(?:chrome|sbrowser|opera|webview)/", re.IGNORECASE)


def _profiles(packages: list[str], folder: str) -> list[str]:
    return [f"*/{package}/{folder}/{profile}/History" for package in packages for profile in ("Default", "Profile *")]


# (parser name prefix, browser name, package, History paths)
_BROWSERS = (
    ("chrome", "Chrome", "com.android.chrome",
     _profiles(["com.android.chrome", "com.chrome.beta", "com.chrome.dev", "com.chrome.canary"], "app_chrome")),
    ("samsung-internet", "Samsung Internet", "com.sec.android.app.sbrowser",
     _profiles(["com.sec.android.app.sbrowser", "com.sec.android.app.sbrowser.beta"], "app_sbrowser")),
    ("opera", "Opera", "com.opera.browser",
     ["*/com.opera.browser/app_opera/History", "*/com.opera.browser.beta/app_opera/History"]),
    ("brave", "Brave", "com.brave.browser", _profiles(["com.brave.browser"], "app_chrome")),
    ("edge", "Microsoft Edge", "com.microsoft.emmx", _profiles(["com.microsoft.emmx"], "app_chrome")),
    ("android-webview", "Android WebView", "com.google.android.webview", ["*/app_webview/Default/History"]),
    # Chrome for iOS keeps the same Chromium History in its app container (bundle com.google.chrome.ios).
    ("chrome-ios", "Chrome", "com.google.chrome.ios",
     ["*/Library/Application Support/Google/Chrome/Default/History",
      "*/Library/Application Support/Google/Chrome/Profile */History"]),
)


def _owner(ctx) -> str:
    """The package whose data folder holds the database (``/data/data/<package>/app_webview/...``)."""
    match = _OWNER.search(ctx.source.path)
    return match.group(1) if match else ctx.app


def _transition(raw) -> tuple[str | None, list[str]]:
    if raw is None:
        return None, []
    core = raw & 0xFF
    name = _CORE_TRANSITIONS[core] if core < len(_CORE_TRANSITIONS) else f"core {core}"
    return name, [label for bit, label in _QUALIFIERS if raw & bit]


def visits(db, ctx):
    """Every visit in a Chromium History database (visits joined to urls)."""
    duration = "v.visit_duration" if "visit_duration" in columns(db, "visits") else "NULL"
    app = _owner(ctx)
    for row in db.execute(f"SELECT v.id, v.url AS url_id, v.visit_time, v.from_visit, v.transition, "
                          f"{duration} AS duration, u.id AS known, u.url, u.title, u.visit_count, u.typed_count, "
                          f"u.hidden FROM visits v LEFT JOIN urls u ON u.id = v.url ORDER BY v.id"):
        visit_type, qualifiers = _transition(row["transition"])
        extra = {"url_id": row["url_id"], "transition": row["transition"], "qualifiers": qualifiers,
                 "from_visit": row["from_visit"] or None}
        if row["known"] is None:
            extra["url_row_missing"] = True
        else:
            extra.update(typed_count=row["typed_count"], hidden=bool(row["hidden"]))
        yield WebVisit(
            app=app, browser=ctx.platform, url=row["url"] or "", title=row["title"] or None, visit_type=visit_type,
            visit_count=row["visit_count"], ts=timestamps.webkit_us(row["visit_time"]),
            duration_s=row["duration"] / 1_000_000 if row["duration"] else None,
            extra=extra, prov=ctx.prov("visits", row["id"]),
        )


def downloads(db, ctx):
    """Downloads in a Chromium History database, with the URL after redirects (downloads_url_chains)."""
    present = columns(db, "downloads")
    legacy = "full_path" in present  # before History version 24: one url, local path, time_t seconds
    decode = timestamps.unix_s if legacy else timestamps.webkit_us
    chains = {}
    if not legacy and "downloads_url_chains" in tables(db):
        for link in db.execute("SELECT id, url FROM downloads_url_chains ORDER BY id, chain_index"):
            chains.setdefault(link["id"], []).append(link["url"])
    wanted = ["id", "start_time", "state", "end_time", "received_bytes", "total_bytes", "target_path",
              "current_path", "full_path", "url", "mime_type", "danger_type", "interrupt_reason", "opened",
              "last_access_time", "referrer", "tab_url", "site_url", "by_ext_name"]
    select = optional_columns(db, "downloads", wanted)
    app = _owner(ctx)
    for row in db.execute(f"SELECT {select} FROM downloads ORDER BY id"):
        chain = [row["url"]] if legacy else chains.get(row["id"], [])
        extra = {key: row[key] for key in ("received_bytes", "danger_type", "interrupt_reason", "referrer",
                                           "tab_url", "site_url", "by_ext_name", "current_path")
                 if row[key] not in (None, "")}
        if len(chain) > 1:
            extra["url_chain"] = chain
        if row["opened"] is not None:
            extra["opened"] = bool(row["opened"])
        last_access = timestamps.webkit_us(row["last_access_time"])
        if last_access:
            extra["last_access_time"] = last_access.iso
        yield Download(
            app=app, url=chain[-1] if chain else None, target_path=row["target_path"] or row["full_path"],
            size=row["total_bytes"] if row["total_bytes"] and row["total_bytes"] > 0 else None,
            mime_type=row["mime_type"] or None,
            state=_CHROMIUM_DOWNLOAD_STATES.get(row["state"], f"state {row['state']}"),
            ts=decode(row["start_time"]), end_ts=decode(row["end_time"]), extra=extra,
            prov=ctx.prov("downloads", row["id"]),
        )


def searches(db, ctx):
    """Search terms (keyword_search_terms), timed by the last visit of the result page they belong to."""
    app = _owner(ctx)
    for row in db.execute("SELECT k.rowid AS rid, k.keyword_id, k.url_id, k.term, u.url, u.last_visit_time "
                          "FROM keyword_search_terms k LEFT JOIN urls u ON u.id = k.url_id ORDER BY k.rowid"):
        yield SearchTerm(app=app, term=row["term"], url=row["url"], ts=timestamps.webkit_us(row["last_visit_time"]),
                         extra={"keyword_id": row["keyword_id"], "url_id": row["url_id"]},
                         prov=ctx.prov("keyword_search_terms", row["rid"]))


for _key, _browser, _package, _paths in _BROWSERS:
    parser(name=f"{_key}-history", app=_package, platform=_browser, paths=_paths,
           requires={"urls": {"id", "url", "title"}, "visits": {"id", "url", "visit_time", "transition"}})(visits)
    parser(name=f"{_key}-downloads", app=_package, platform=_browser, paths=_paths,
           requires={"downloads": {"id", "start_time", "state"}})(downloads)
    parser(name=f"{_key}-searches", app=_package, platform=_browser, paths=_paths,
           requires={"keyword_search_terms": {"url_id", "term"}})(searches)


# android.provider.Downloads.Impl status codes
def _download_manager_state(status) -> str | None:
    if status is None:
        return None
    if status == 190:
        return "pending"
    if status == 192:
        return "running"
    if 193 <= status <= 197:
        return "paused"
    if 200 <= status < 300:
        return "complete"
    if status == 490:
        return "cancelled"
    return "failed"


@parser(name="android-download-manager", app="com.android.providers.downloads", platform="Download Manager",
        paths=["*/com.android.providers.downloads/databases/downloads.db"],
        requires={"downloads": {"_id", "uri", "lastmod", "status"}})
def download_manager(db, ctx):
    """Downloads requested through Android's DownloadManager by any app (downloads.db)."""
    wanted = ["_data", "hint", "mimetype", "total_bytes", "current_bytes", "notificationpackage", "title",
              "description", "referer", "deleted", "errormsg", "destination", "mediaprovider_uri", "mediastore_uri",
              "is_visible_in_downloads_ui"]
    select = optional_columns(db, "downloads", wanted)
    for row in db.execute(f"SELECT _id, uri, lastmod, status, {select} FROM downloads ORDER BY _id"):
        extra = {key: row[key] for key in ("status", "notificationpackage", "title", "description", "referer",
                                           "errormsg", "destination", "hint", "current_bytes", "mediaprovider_uri",
                                           "mediastore_uri") if row[key] not in (None, "")}
        extra["deleted"] = bool(row["deleted"])
        extra["ts_is"] = "lastmod"
        yield Download(
            app=ctx.app, url=row["uri"], target_path=row["_data"] or None,
            size=row["total_bytes"] if row["total_bytes"] and row["total_bytes"] > 0 else None,
            mime_type=row["mimetype"] or None, state=_download_manager_state(row["status"]),
            ts=timestamps.unix_ms(row["lastmod"]), extra=extra, prov=ctx.prov("downloads", row["_id"]),
        )
