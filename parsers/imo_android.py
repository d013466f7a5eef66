"""imo for Android (``com.imo.android.imous``): chats in ``databases/imofriends.db``, the user in
``databases/accountdb.db``.

Sources: ALEAPP ``scripts/artifacts/imo.py`` and Autopsy ``InternalPythonModules/android/imo.py``; both cover the
``com.imo.android.imous`` package only (no public source shows the ``com.imo.android.imoim`` layout, which is not
read). ``messages(buid, imdata, last_message, timestamp, message_type, message_read)``: ``buid`` is the chat
partner (``friends(buid, name)``), ``last_message`` the text, ``timestamp`` Unix nanoseconds, ``imdata`` JSON
whose ``original_path`` (else ``local_path``) is an attachment. Direction: both tools read ``message_type`` 1 as
incoming; ALEAPP reads 2 as outgoing, Autopsy every other value — so 1 and 2 are mapped and any other value is
kept raw with no direction. ``account(uid, name)`` is the signed-in user. No key column is shown: provenance
uses the rowid.
"""
from __future__ import annotations

import json

from artifacts import timestamps
from artifacts.records import Account, Contact, Message
from parsers.framework import parser, tables

APP = "com.imo.android.imous"
PLATFORM = "imo"
SOURCE = "abrignoni/ALEAPP scripts/artifacts/imo.py; sleuthkit/autopsy InternalPythonModules/android/imo.py"
FRIENDS = [f"*/{APP}/databases/imofriends.db"]
_DIRECTIONS = {1: "incoming", 2: "outgoing"}


@parser(name="imo-android-messages", app=APP, platform=PLATFORM, paths=FRIENDS, source=SOURCE,
        requires={"messages": {"buid", "imdata", "last_message", "timestamp", "message_type", "message_read"}})
def messages(db, ctx):
    """Chat messages (messages), named by the friends table."""
    names = _names(db)
    for row in db.execute("SELECT rowid AS row_id, buid, imdata, last_message, timestamp, message_type, "
                          "message_read FROM messages ORDER BY timestamp, rowid"):
        direction, partner = _DIRECTIONS.get(row["message_type"]), row["buid"]
        extra = {"message_type_raw": row["message_type"], "read": row["message_read"]}
        attachments = []
        if row["imdata"]:
            try:
                data = json.loads(row["imdata"])
            except (ValueError, TypeError, RecursionError) as exc:
                extra["imdata_error"] = str(exc)
                data = None
            if isinstance(data, dict):
                path = data.get("original_path") or data.get("local_path")
                if path:
                    attachments.append({"path": path})
        yield Message(app=ctx.app, platform=ctx.platform, thread_id=partner, thread_name=names.get(partner),
                      sender=partner if direction == "incoming" else None,
                      sender_name=names.get(partner) if direction == "incoming" else None,
                      recipients=[partner] if direction == "outgoing" and partner else [], direction=direction,
                      body=row["last_message"], attachments=attachments, ts=timestamps.unix_ns(row["timestamp"]),
                      extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov("messages", row["row_id"]))


@parser(name="imo-android-contacts", app=APP, platform=PLATFORM, paths=FRIENDS, source=SOURCE,
        requires={"friends": {"buid", "name"}})
def contacts(db, ctx):
    """imo friends (friends)."""
    for row in db.execute("SELECT rowid AS row_id, buid, name FROM friends ORDER BY rowid"):
        yield Contact(app=ctx.app, platform=ctx.platform, name=row["name"], user_id=row["buid"],
                      prov=ctx.prov("friends", row["row_id"]))


@parser(name="imo-android-account", app=APP, platform=PLATFORM, paths=[f"*/{APP}/databases/accountdb.db"],
        source=SOURCE, requires={"account": {"uid", "name"}})
def account(db, ctx):
    """The signed-in imo user (account)."""
    for row in db.execute("SELECT rowid AS row_id, uid, name FROM account ORDER BY rowid"):
        yield Account(app=ctx.app, platform=ctx.platform, account_type="imo", user_id=row["uid"],
                      display_name=row["name"], prov=ctx.prov("account", row["row_id"]))


def _names(db) -> dict[str, str]:
    if "friends" not in tables(db):
        return {}
    return {r["buid"]: r["name"] for r in db.execute("SELECT buid, name FROM friends ORDER BY rowid") if r["name"]}
