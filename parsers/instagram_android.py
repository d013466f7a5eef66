"""Instagram direct messages on Android: ``com.instagram.android/databases/direct.db``.

``messages`` holds one row per item of a thread: the table's own ``thread_id``, ``timestamp``, ``message_type`` and
``text`` columns, and ``message``, a JSON copy of the item whose ``user_id`` is the sender. The table's ``user_id``
column is the signed-in account the row belongs to (the app keeps several accounts in one file), so it decides the
direction; ``session.user_id`` is the fallback. ``threads.thread_info`` is JSON naming the thread
(``thread_title``) and its other members (``recipients`` or ``users``, plus ``inviter``), which gives recipients
and usernames. Items of type ``video_call_event`` are call events and become calls.

Times: ``messages.timestamp`` is Unix microseconds; ``taken_at`` inside media JSON is Unix seconds (kept in extra).
"""
from __future__ import annotations

import json

from artifacts import timestamps
from artifacts.records import Call, Message
from parsers.framework import columns, parser, tables

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "ALEAPP scripts/artifacts/instagram.py"

APP = "com.instagram.android"
PLATFORM = "Instagram"
CALL_EVENT = "video_call_event"


@parser(name="instagram-android-direct", app=APP, platform=PLATFORM,
        paths=["*/com.instagram.android/databases/direct.db"],
        requires={"messages": {"_id", "thread_id", "timestamp", "message_type", "text", "message"},
                  "threads": {"thread_id", "thread_info"}})
def direct(db, ctx):
    """Direct messages and video-call events (messages, threads)."""
    threads = _threads(db)
    session_user = _session_user(db)
    owner_col = "user_id" if "user_id" in columns(db, "messages") else "NULL"
    for row in db.execute(f"SELECT _id, {owner_col} AS owner, thread_id, timestamp, message_type, text, message "
                          f"FROM messages ORDER BY _id"):
        item = _json_object(row["message"])
        owner = _text(row["owner"]) or session_user
        sender = _text(item.get("user_id"))
        thread_id = _text(row["thread_id"])
        title, members = threads.get(thread_id, (None, {}))
        direction = None if not (owner and sender) else "outgoing" if sender == owner else "incoming"
        others = [pk for pk in members if pk != sender]
        if owner and sender and sender != owner and owner not in others:
            others.append(owner)
        extra = {k: item[k] for k in ("item_id", "client_context") if item.get(k) is not None}
        if row["message_type"] == CALL_EVENT:
            event = item.get(CALL_EVENT) if isinstance(item.get(CALL_EVENT), dict) else {}
            yield Call(app=ctx.app, platform=ctx.platform, ts=timestamps.unix_us(row["timestamp"]),
                       direction=direction, call_type="video", peers=[pk for pk in members if pk != owner],
                       peer_name=title, status=_text(event.get("action")),
                       extra={**extra, **{k: event[k] for k in ("description", "did_join", "vc_id") if k in event},
                              "thread_id": thread_id, "sender": sender},
                       prov=ctx.prov("messages", row["_id"]))
            continue
        media_url, media_extra = _media(item)
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=thread_id, thread_name=title,
            sender=sender, sender_name=members.get(sender), recipients=others, direction=direction,
            body=row["text"] if row["text"] is not None else _text(item.get("text")),
            message_type=row["message_type"], ts=timestamps.unix_us(row["timestamp"]),
            attachments=[{"url": media_url, **media_extra}] if media_url else [],
            extra=extra, prov=ctx.prov("messages", row["_id"]))


def _threads(db) -> dict[str, tuple[str | None, dict[str, str | None]]]:
    """thread_id -> (title, {member user id: username}) from thread_info JSON."""
    result = {}
    for row in db.execute("SELECT thread_id, thread_info FROM threads ORDER BY _rowid_"):
        info = _json_object(row["thread_info"])
        members: dict[str, str | None] = {}
        people = [p for key in ("recipients", "users") if isinstance(info.get(key), list) for p in info[key]]
        people.append(info.get("inviter"))
        for person in people:
            if isinstance(person, dict):
                pk = _text(person.get("pk") or person.get("pk_id") or person.get("id"))
                if pk and pk not in members:
                    members[pk] = _text(person.get("username"))
        result[_text(row["thread_id"])] = (_text(info.get("thread_title")), members)
    return result


def _session_user(db) -> str | None:
    if "session" not in tables(db):
        return None
    row = db.execute("SELECT user_id FROM session ORDER BY _rowid_ LIMIT 1").fetchone()
    return _text(row[0]) if row else None


def _media(item: dict) -> tuple[str | None, dict]:
    """The first image or video URL of a media item, with the media's id, owner and capture time."""
    media = item.get("media")
    if not isinstance(media, dict):
        return None, {}
    url = None
    for key in ("video_versions", "image_versions2"):
        value = media.get(key)
        candidates = value.get("candidates") if isinstance(value, dict) else value
        if isinstance(candidates, list) and candidates and isinstance(candidates[0], dict):
            url = _text(candidates[0].get("url"))
            if url:
                break
    details = {"media_id": _text(media.get("id")), "taken_at": media.get("taken_at")}
    return url, {k: v for k, v in details.items() if v is not None}


def _json_object(raw) -> dict:
    try:
        value = json.loads(raw) if raw else None
    except (TypeError, ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _text(value) -> str | None:
    return None if value is None or value == "" else str(value)
