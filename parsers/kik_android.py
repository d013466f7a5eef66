"""Kik for Android: ``kik.android/databases/<account>.kikDatabase.db`` (the account prefix is optional).

``messagesTable``: ``was_me`` 1 marks a message sent from this device; ``partner_jid`` is the other party of a
one-to-one chat and the member who wrote it in a group; ``bin_id`` is the conversation (a group's
``..._g@groups.kik.com`` JID, or the partner's JID). Attachments are described by ``KIKContentTable`` rows
(``content_id``, ``content_name`` such as ``file-name``/``file-size``/``file-url``, ``content_string``).
``KIKcontactsTable`` holds users and groups the account has seen, with ``display_name`` and ``user_name``.
The account's own username is in ``kikCoreDatabase.db``, not here, so a sent message has no sender here.

Times: ``messagesTable.timestamp`` is Unix milliseconds (ALEAPP's tested images; iOS Kik uses Cocoa seconds);
``photo_timestamp`` is kept raw.
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Contact, Message
from parsers.framework import columns, optional_columns, parser, tables

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "ALEAPP scripts/artifacts/kikMessenger.py"

APP = "kik.android"
PLATFORM = "Kik"
PATHS = ["*/kik.android/databases/*kikDatabase.db"]
GROUP_SUFFIX = "@groups.kik.com"
_ATTACHMENT_FIELDS = {"file-name": "name", "file-size": "size", "file-url": "url", "app-name": "app",
                      "file-content-type": "mime_type"}


@parser(name="kik-android-messages", app=APP, platform=PLATFORM, paths=PATHS,
        requires={"messagesTable": {"_id", "body", "partner_jid", "was_me", "timestamp"}})
def messages(db, ctx):
    """Chat messages (messagesTable, with KIKcontactsTable names and KIKContentTable attachments)."""
    names = _contact_names(db)
    content = _content(db)
    optional = optional_columns(db, "messagesTable",
                                ("bin_id", "read_state", "uid", "content_id", "app_id", "sys_msg", "stat_msg"))
    for row in db.execute(f"SELECT _id, body, partner_jid, was_me, timestamp, {optional} FROM messagesTable "
                          f"ORDER BY _id"):
        outgoing = row["was_me"] == 1
        partner, chat = row["partner_jid"], row["bin_id"] or row["partner_jid"]
        kind = "system" if row["sys_msg"] else "status" if row["stat_msg"] else None
        extra = {k: row[k] for k in ("uid", "read_state", "app_id", "content_id", "sys_msg", "stat_msg")
                 if row[k] is not None}
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=chat, thread_name=names.get(chat),
            sender=None if outgoing else partner, sender_name=None if outgoing else names.get(partner),
            recipients=[chat] if outgoing and chat else [], direction="outgoing" if outgoing else "incoming",
            body=row["body"] if row["body"] is not None else row["sys_msg"] or row["stat_msg"],
            message_type=kind, ts=timestamps.unix_ms(row["timestamp"]),
            attachments=[content[row["content_id"]]] if row["content_id"] in content else [],
            extra=extra, prov=ctx.prov("messagesTable", row["_id"]))


@parser(name="kik-android-contacts", app=APP, platform=PLATFORM, paths=PATHS,
        requires={"KIKcontactsTable": {"_id", "jid", "display_name", "user_name"}})
def contacts(db, ctx):
    """Users and groups the account has seen (KIKcontactsTable)."""
    have = columns(db, "KIKcontactsTable")
    flags = [c for c in ("is_group", "in_roster", "is_blocked", "is_ignored", "verified", "group_hashtag",
                         "photo_url", "photo_timestamp") if c in have]
    optional = "".join(f", {c}" for c in flags)
    for row in db.execute(f"SELECT _id, jid, display_name, user_name{optional} FROM KIKcontactsTable ORDER BY _id"):
        yield Contact(app=ctx.app, platform=ctx.platform, user_id=row["jid"], name=row["display_name"],
                      handles=[row["user_name"]] if row["user_name"] else [],
                      extra={c: row[c] for c in flags if row[c] is not None},
                      prov=ctx.prov("KIKcontactsTable", row["_id"]))


def _contact_names(db) -> dict[str, str]:
    if "kikcontactstable" not in tables(db):
        return {}
    return {r["jid"]: r["display_name"] or r["user_name"]
            for r in db.execute("SELECT jid, display_name, user_name FROM KIKcontactsTable ORDER BY _id")
            if r["jid"] and (r["display_name"] or r["user_name"])}


def _content(db) -> dict[str, dict]:
    """content_id -> attachment description from KIKContentTable's name/value rows."""
    if not {"content_id", "content_name", "content_string"} <= columns(db, "KIKContentTable"):
        return {}
    attachments: dict[str, dict] = {}
    for row in db.execute("SELECT content_id, content_name, content_string FROM KIKContentTable ORDER BY _rowid_"):
        field = _ATTACHMENT_FIELDS.get(row["content_name"])
        if field and row["content_id"]:
            attachments.setdefault(row["content_id"], {"content_id": row["content_id"]})[field] = row["content_string"]
    return attachments
