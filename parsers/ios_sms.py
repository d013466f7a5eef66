"""iOS Messages (iMessage, SMS, RCS) from sms.db: message with its handle, chat, participants and attachments.

``message.date``, ``date_read`` and ``date_delivered`` are Cocoa seconds on iOS before 11 and Cocoa nanoseconds
since; the database says nothing about which, so they are decoded with ``timestamps.cocoa_auto`` (whose encoding
records that the unit was chosen by magnitude). When ``text`` is NULL the body is read from ``attributedBody``, an
NSAttributedString archived as a typedstream. Messages the user deleted but iOS still keeps ("Recently Deleted",
iOS 16+) sit in ``chat_recoverable_message_join`` instead of ``chat_message_join`` and are marked deleted.
"""
from __future__ import annotations

import dataclasses

import typedstream
from typedstream.types.foundation import NSString

from artifacts import timestamps
from artifacts.records import Message
from parsers.framework import columns, optional_columns, parser, tables
from artifacts.sql_quoting import ident

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "iLEAPP scripts/artifacts/sms.py; typedstream format as read by pytypedstream"

APP = "com.apple.MobileSMS"
_PLATFORMS = {"imessage": "iMessage", "sms": "SMS", "rcs": "SMS"}
_OPTIONAL = ("attributedBody", "service", "date_read", "date_delivered", "is_read", "is_sent", "is_delivered",
             "error", "item_type", "associated_message_guid", "associated_message_type", "subject", "account",
             "destination_caller_id")
_EXTRA_COLUMNS = ("service", "account", "destination_caller_id", "subject", "associated_message_guid",
                  "associated_message_type", "item_type", "error")
# IndexError/KeyError: pytypedstream on a damaged blob (a shared-object reference past its table; found by
# tests/test_fuzz.py)
_UNDECODABLE = (typedstream.InvalidTypedStreamError, ValueError, TypeError, EOFError, UnicodeDecodeError,
                RecursionError, IndexError, KeyError, AttributeError)


@parser(name="ios-sms", app=APP, platform="iMessage", paths=["*/mobile/Library/SMS/sms.db"],
        requires={"message": {"ROWID", "guid", "text", "handle_id", "date", "is_from_me"},
                  "handle": {"ROWID", "id"}},
        carve=("message", "chat_message_join"))
def messages(db, ctx):
    """iMessage, SMS and RCS messages with thread, participants and attachments."""
    present = tables(db)
    handles = {row[0]: row[1] for row in db.execute("SELECT ROWID, id FROM handle")}
    chats = _chats(db, present, handles)
    threads = _message_chats(db, present, "chat_message_join")
    deleted = _message_chats(db, present, "chat_recoverable_message_join")
    attachments = _attachments(db, present)
    optional = optional_columns(db, "message", _OPTIONAL)
    for row in db.execute(f"SELECT ROWID, guid, text, handle_id, date, is_from_me, {optional} "
                          f"FROM message ORDER BY ROWID"):
        rowid = row["ROWID"]
        outgoing = bool(row["is_from_me"])
        handle = handles.get(row["handle_id"])
        is_deleted = rowid not in threads and rowid in deleted
        chat_id, delete_raw = threads.get(rowid, deleted.get(rowid, (None, None)))
        chat = chats.get(chat_id, {})
        participants = chat.get("participants", [])
        body, extra = row["text"], {"guid": row["guid"]}
        if body is None and row["attributedBody"] is not None:
            try:
                body = attributed_text(row["attributedBody"])
            except _UNDECODABLE as exc:
                extra["attributed_body_error"] = f"{type(exc).__name__}: {exc}"
        if outgoing:
            sender, recipients = None, participants or ([handle] if handle else [])
        else:
            sender = handle
            recipients = [p for p in participants if p != handle] if len(participants) > 1 else []
        extra.update({key: row[key] for key in _EXTRA_COLUMNS if row[key]})
        if chat:
            extra["chat_guid"] = chat["guid"]
        delivered = timestamps.cocoa_auto(row["date_delivered"])
        if delivered:
            extra["delivered_ts"] = dataclasses.asdict(delivered)
        deleted_at = timestamps.cocoa_auto(delete_raw) if is_deleted else None
        if deleted_at:
            extra["deleted_ts"] = dataclasses.asdict(deleted_at)
        service = (row["service"] or "").lower()
        yield Message(
            app=ctx.app, platform=_PLATFORMS.get(service, row["service"]), thread_id=chat.get("identifier"),
            thread_name=chat.get("name"), sender=sender, recipients=recipients,
            direction="outgoing" if outgoing else "incoming", body=body, message_type=service or None,
            attachments=attachments.get(rowid, []), status=_status(row, outgoing), deleted=is_deleted,
            ts=timestamps.cocoa_auto(row["date"]), read_ts=timestamps.cocoa_auto(row["date_read"]),
            extra=extra, prov=ctx.prov("message", rowid),
        )


def attributed_text(blob: bytes) -> str:
    """The plain text of an NSAttributedString archived as a typedstream: the NSString it was built from."""
    root = typedstream.unarchive_from_data(bytes(blob))
    if isinstance(root, NSString):
        return root.value
    for group in getattr(root, "contents", ()):
        for value in group.values:
            if isinstance(value, NSString):
                return value.value
    raise ValueError(f"no string in the archived {type(root).__name__}")


def _status(row, outgoing: bool) -> str | None:
    if outgoing:
        if row["error"]:
            return "failed"
        if row["is_delivered"]:
            return "delivered"
        if row["is_sent"]:
            return "sent"
        return None if row["is_sent"] is None else "not sent"
    if row["is_read"] is None:
        return None
    return "read" if row["is_read"] else "unread"


def _chats(db, present: set[str], handles: dict) -> dict[int, dict]:
    """chat ROWID → identifier, guid, display name and participant handles (chat_handle_join)."""
    if "chat" not in present:
        return {}
    name = "display_name" if "display_name" in columns(db, "chat") else "NULL"
    chats = {row[0]: {"identifier": row[1], "guid": row[2], "name": row[3] or None, "participants": []}
             for row in db.execute(f"SELECT ROWID, chat_identifier, guid, {name} FROM chat ORDER BY ROWID")}
    if "chat_handle_join" in present:
        for chat_id, handle_id in db.execute("SELECT chat_id, handle_id FROM chat_handle_join "
                                             "ORDER BY chat_id, handle_id"):
            if chat_id in chats and handle_id in handles:
                chats[chat_id]["participants"].append(handles[handle_id])
    return chats


def _message_chats(db, present: set[str], table: str) -> dict[int, tuple]:
    """message ROWID → (chat ROWID, delete date or None) from a join table; the lowest chat when there are several."""
    if table not in present:
        return {}
    when = "delete_date" if "delete_date" in columns(db, table) else "NULL"
    found: dict[int, tuple] = {}
    for message_id, chat_id, deleted in db.execute(f"SELECT message_id, chat_id, {when} FROM {ident(table)} "
                                                   f"ORDER BY message_id, chat_id"):
        found.setdefault(message_id, (chat_id, deleted))
    return found


def _attachments(db, present: set[str]) -> dict[int, list]:
    if not {"attachment", "message_attachment_join"} <= present:
        return {}
    wanted = ("filename", "transfer_name", "mime_type", "uti", "total_bytes", "created_date")
    select = optional_columns(db, "attachment", wanted, alias="a")
    found: dict[int, list] = {}
    for row in db.execute(f"SELECT j.message_id, a.ROWID AS attachment_id, {select} FROM message_attachment_join j "
                          f"JOIN attachment a ON a.ROWID = j.attachment_id ORDER BY j.message_id, a.ROWID"):
        created = timestamps.cocoa_auto(row["created_date"])
        found.setdefault(row["message_id"], []).append({
            "attachment_id": row["attachment_id"], "path": row["filename"], "name": row["transfer_name"],
            "mime_type": row["mime_type"], "uti": row["uti"], "size": row["total_bytes"],
            "created_ts": dataclasses.asdict(created) if created else None})
    return found
