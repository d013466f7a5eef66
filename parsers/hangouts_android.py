"""Google Hangouts for Android: ``com.google.android.talk/databases/babel<N>.db``, one database per signed-in Google
account (``babel0.db``, ``babel1.db``, ...; plaso's test copy is called ``babel.db``).

``messages``: ``author_chat_id``/``author_gaia_id`` name who wrote each message (Google's numeric account ids, the
same value for Google users); ``type`` 1 is a message sent by the account and 2 one it received (plaso's
formatter); other types are events kept with their raw type and no direction. ``status`` is kept raw: its codes
are not documented. ``text`` is stored HTML-escaped (``It&#39;s``), so the body is unescaped and the stored text
kept in ``extra["text_raw"]`` where the two differ. ``conversation_participants`` ⋈ ``participants`` give the
members of a conversation (the others are a message's recipients) and their names; ``conversations`` gives its
name (``name``, else the app's ``generated_name``). Attachments come from the message row (``local_url``,
``remote_url``) and ``multipart_attachments``; a shared place (``latitude``/``longitude``) is also a Location.

``participants`` are the people the account has talked with → Contact; the author of the account's sent messages
is the account itself → Account.

Times: ``messages.timestamp`` is Unix microseconds (plaso reads it as such; the app's own views compare
``expiration_timestamp`` with ``julianday('now')`` scaled to microseconds).
"""
from __future__ import annotations

import html
import re

from artifacts import timestamps
from artifacts.records import Account, Contact, Location, Message
from parsers.framework import columns, optional_columns, parser

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "plaso plaso/parsers/sqlite_plugins/android_hangouts.py; plaso test_data/android/babel.db (real file)"

APP = "com.google.android.talk"
PLATFORM = "Hangouts"
PATHS = ["*/com.google.android.talk/databases/babel*.db"]
_DIRECTIONS = {1: "outgoing", 2: "incoming"}
_SENT = 1
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_MESSAGE_EXTRAS = ("message_id", "status", "type", "transport_type", "transport_phone", "sms_raw_sender",
                   "sms_raw_recipients", "off_the_record")


@parser(name="hangouts-android-messages", app=APP, platform=PLATFORM, paths=PATHS,
        requires={"messages": {"_id", "conversation_id", "author_chat_id", "text", "timestamp", "type"}})
def messages(db, ctx):
    """Chat messages and events (messages, with participants, conversations and multipart_attachments)."""
    people = _people(db)
    members = _members(db)
    names = _conversation_names(db)
    parts = _multipart(db)
    optional = optional_columns(db, "messages", (
        "message_id", "author_gaia_id", "status", "transport_type", "transport_phone", "sms_raw_sender",
        "sms_raw_recipients", "off_the_record", "local_url", "remote_url", "attachment_content_type",
        "attachment_name", "latitude", "longitude", "address"))
    for row in db.execute(f"SELECT _id, conversation_id, author_chat_id, text, timestamp, type, {optional} "
                          f"FROM messages ORDER BY _id"):
        author = row["author_chat_id"] or row["author_gaia_id"]
        conversation = row["conversation_id"]
        ts = timestamps.unix_us(row["timestamp"])
        extra = {k: row[k] for k in _MESSAGE_EXTRAS if row[k] is not None}
        if row["author_gaia_id"] and row["author_gaia_id"] != author:
            extra["author_gaia_id"] = row["author_gaia_id"]
        body = html.unescape(row["text"]) if isinstance(row["text"], str) else row["text"]
        if body != row["text"]:
            extra["text_raw"] = row["text"]
        direction = _DIRECTIONS.get(row["type"])
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=conversation, thread_name=names.get(conversation),
            sender=author, sender_name=people.get(author), direction=direction, body=body,
            recipients=[m for m in members.get(conversation, []) if m != author],
            attachments=_attachments(row) + parts.get((row["message_id"], conversation), []),
            ts=ts, extra=extra, prov=ctx.prov("messages", row["_id"]))
        if _is_number(row["latitude"]) and _is_number(row["longitude"]) and (row["latitude"] or row["longitude"]):
            yield Location(app=ctx.app, ts=ts, latitude=row["latitude"], longitude=row["longitude"],
                           label=row["address"], source_kind="hangouts message",
                           extra={"thread_id": conversation, "sender": author, "direction": direction},
                           prov=ctx.prov("messages", row["_id"]))


@parser(name="hangouts-android-participants", app=APP, platform=PLATFORM, paths=PATHS,
        requires={"participants": {"_id", "gaia_id", "chat_id", "full_name"}})
def participants(db, ctx):
    """People the account has talked with (participants); the author of its sent messages is the account."""
    own = _own_ids(db)
    optional = optional_columns(db, "participants", ("participant_type", "phone_id", "circle_id", "first_name",
                                                     "fallback_name", "blocked"))
    for row in db.execute(f"SELECT _id, gaia_id, chat_id, full_name, {optional} FROM participants ORDER BY _id"):
        user_id = row["gaia_id"] or row["chat_id"]
        fallback = row["fallback_name"]
        email = fallback if fallback and _EMAIL.fullmatch(fallback) else None
        name = row["full_name"] or fallback
        extra = {k: row[k] for k in ("participant_type", "circle_id", "first_name", "blocked") if row[k] is not None}
        if row["chat_id"] and row["chat_id"] != user_id:
            extra["chat_id"] = row["chat_id"]
        if fallback and fallback not in (name, email):
            extra["fallback_name"] = fallback
        prov = ctx.prov("participants", row["_id"])
        if own & {row["gaia_id"], row["chat_id"]}:
            yield Account(app=ctx.app, platform=ctx.platform, account_type="Google", user_id=user_id,
                          display_name=name, email=email, phone=row["phone_id"], extra=extra, prov=prov)
        else:
            yield Contact(app=ctx.app, platform=ctx.platform, name=name, user_id=user_id,
                          phones=[row["phone_id"]] if row["phone_id"] else [], emails=[email] if email else [],
                          extra=extra, prov=prov)


def _people(db) -> dict[str, str]:
    """chat id and gaia id -> display name, as the app's own views choose it (full_name, else fallback_name)."""
    have = columns(db, "participants")
    if not {"gaia_id", "chat_id", "full_name"} <= have:
        return {}
    fallback = "fallback_name" if "fallback_name" in have else "NULL"
    names = {}
    for row in db.execute(f"SELECT gaia_id, chat_id, IFNULL(full_name, {fallback}) AS name FROM participants "
                          f"ORDER BY _id"):
        for key in (row["chat_id"], row["gaia_id"]):
            if key and row["name"]:
                names.setdefault(key, row["name"])
    return names


def _members(db) -> dict[str, list[str]]:
    """conversation id -> its participants' ids (chat id, else gaia id, else phone id), in the app's row order."""
    if not ({"conversation_id", "participant_row_id"} <= columns(db, "conversation_participants")
            and {"gaia_id", "chat_id"} <= columns(db, "participants")):
        return {}
    phone = "p.phone_id" if "phone_id" in columns(db, "participants") else "NULL"
    members: dict[str, list[str]] = {}
    for row in db.execute(f"SELECT cp.conversation_id, IFNULL(IFNULL(p.chat_id, p.gaia_id), {phone}) AS member "
                          f"FROM conversation_participants cp JOIN participants p ON p._id = cp.participant_row_id "
                          f"ORDER BY cp._id"):
        if row["member"] and row["member"] not in members.get(row["conversation_id"], []):
            members.setdefault(row["conversation_id"], []).append(row["member"])
    return members


def _conversation_names(db) -> dict[str, str]:
    have = columns(db, "conversations")
    if "conversation_id" not in have:
        return {}
    name = "name" if "name" in have else "NULL"
    generated = "generated_name" if "generated_name" in have else "NULL"
    return {r["conversation_id"]: r["title"] for r in db.execute(
        f"SELECT conversation_id, IFNULL({name}, {generated}) AS title FROM conversations ORDER BY _id")
        if r["title"]}


def _multipart(db) -> dict[tuple[str, str], list[dict]]:
    if not {"message_id", "conversation_id", "url", "content_type"} <= columns(db, "multipart_attachments"):
        return {}
    parts: dict[tuple[str, str], list[dict]] = {}
    for row in db.execute("SELECT message_id, conversation_id, url, content_type FROM multipart_attachments "
                          "ORDER BY _id"):
        parts.setdefault((row["message_id"], row["conversation_id"]), []).append(
            {"url": row["url"], "mime_type": row["content_type"]})
    return parts


def _attachments(row) -> list[dict]:
    if not (row["local_url"] or row["remote_url"]):
        return []
    attachment = {"path": row["local_url"], "url": row["remote_url"], "mime_type": row["attachment_content_type"],
                  "name": row["attachment_name"]}
    return [{k: v for k, v in attachment.items() if v is not None}]


def _own_ids(db) -> set[str]:
    """Ids of the account itself: the authors of the messages it sent (type 1)."""
    if not {"type", "author_chat_id"} <= columns(db, "messages"):
        return set()
    gaia = "author_gaia_id" if "author_gaia_id" in columns(db, "messages") else "NULL"
    own = set()
    for row in db.execute(f"SELECT DISTINCT author_chat_id, {gaia} AS gaia FROM messages WHERE type = ?", [_SENT]):
        own.update(v for v in (row["author_chat_id"], row["gaia"]) if v)
    return own


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
