"""Safari on iOS: browsing history from History.db (history_visits joined to history_items).

The file lives under ``/private/var/mobile/Library/Safari`` before iOS 17 and in Safari's data container from iOS 17;
profiles (iOS 17+) keep one History.db each under ``Safari/Profiles/<id>``. ``visit_time`` is Cocoa seconds with a
fraction. Chrome on iOS keeps a Chromium History database, which the Chromium parser reads.
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import WebVisit
from parsers.framework import optional_columns, parser

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "iLEAPP scripts/artifacts/safariHistory.py; plaso test_data/safari/History.db (real file)"

_ORIGINS = {0: "this device", 1: "iCloud"}


@parser(name="safari-ios-history", app="com.apple.mobilesafari", platform="Safari",
        paths=["*/Library/Safari/History.db", "*/Library/Safari/Profiles/*/History.db"],
        requires={"history_visits": {"id", "history_item", "visit_time"}, "history_items": {"id", "url"}})
def history(db, ctx):
    """One record per visit, with the page title, the item's visit count and redirect links."""
    optional = optional_columns(db, "history_visits", ("title", "redirect_source", "redirect_destination", "origin",
                                                       "load_successful"), alias="v")
    count = optional_columns(db, "history_items", ["visit_count"], alias="i")
    for row in db.execute(f"SELECT v.id, v.visit_time, i.url, {count}, {optional} FROM history_visits v "
                          f"JOIN history_items i ON i.id = v.history_item ORDER BY v.id"):
        extra = {key: row[key] for key in ("redirect_source", "redirect_destination") if row[key] is not None}
        if row["origin"] is not None:
            extra["origin"] = _ORIGINS.get(row["origin"], f"origin {row['origin']}")
        if row["load_successful"] == 0:
            extra["load_successful"] = False
        yield WebVisit(app=ctx.app, browser="Safari", url=row["url"], title=row["title"],
                       visit_count=row["visit_count"], ts=timestamps.cocoa_s(row["visit_time"]), extra=extra,
                       prov=ctx.prov("history_visits", row["id"]))
