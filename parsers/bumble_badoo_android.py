"""Bumble and Badoo for Android (one company, one chat code base): ``ChatComDatabase`` and Badoo's connections.

``ChatComDatabase``: ``conversation_info`` has one row per person chatted with or matched (``user_id``,
``encrypted_user_id``, ``user_name``, ``age``, ``gender`` code, ``game_mode`` - on Bumble 0 Date, 1 BFF, 5 Bizz as
ALEAPP's bumble.py labels them - ``user_photos`` JSON, ``work``, ``education``); ``message`` (keyed by ``id`` in
current releases - the column ALEAPP's bumble.py reads - and by ``_id`` in some older ones, so rows are cited by
rowid and ``id`` is kept in ``extra``) has
``conversation_id`` (the other person's ``user_id``), ``sender_id``/``recipient_id`` (encrypted user ids),
``is_incoming``, ``payload_type`` and a JSON ``payload`` (``text`` for text and question-game messages, ``url``
for audio/image/video, ``message`` and ``photo_url`` for reactions). Badoo's ``CombinedConnectionsDatabase`` table
``connection`` lists connections (``id``, ``name``, ``gender``, ``origin``, ``sort_timestamp``, ``avatar_url``,
``display_message``; the columns ALEAPP's BadooConnections.py reads).

Times: ``created_timestamp``, ``modified_timestamp`` and ``sort_timestamp`` are Unix milliseconds.
"""
from __future__ import annotations

import json

from artifacts import timestamps
from artifacts.records import Contact, Message
from parsers.framework import parser

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "ALEAPP scripts/artifacts/bumble.py, BadooChat.py, BadooConnections.py"

CHAT_REQUIRES = {"message": {"conversation_id", "sender_id", "recipient_id", "created_timestamp", "payload",
                             "payload_type"},
                 "conversation_info": {"user_id", "user_name"}}
CHAT_SOURCE = "ALEAPP scripts/artifacts/bumble.py and BadooChat.py (message, conversation_info columns)"
BUMBLE_MODES = {0: "Date", 1: "BFF", 5: "Bizz"}
_PROFILE_FIELDS = ("age", "gender", "work", "education", "user_image_url", "match_status", "conversation_type",
                   "is_user_verified", "user_deleted")


@parser(name="bumble-android-chat", app="com.bumble.app", platform="Bumble",
        paths=["*/com.bumble.app/databases/ChatComDatabase"], requires=CHAT_REQUIRES, source=CHAT_SOURCE)
@parser(name="badoo-android-chat", app="com.badoo.mobile", platform="Badoo",
        paths=["*/com.badoo.mobile/databases/ChatComDatabase"], requires=CHAT_REQUIRES, source=CHAT_SOURCE)
def chat(db, ctx):
    """Matches and chat partners (conversation_info) and chat messages (message with JSON payloads)."""
    people = {}
    for row in db.execute("SELECT rowid AS row_id, * FROM conversation_info ORDER BY rowid"):
        people[row["user_id"]] = row
        yield _person(ctx, row)
    for row in db.execute("SELECT rowid AS row_id, * FROM message ORDER BY rowid"):
        person = people.get(row["conversation_id"])
        name = person["user_name"] if person is not None else None
        direction = _direction(row, person)
        payload, extra = _payload(row["payload"])
        urls = [payload[k] for k in ("url", "photo_url") if isinstance(payload.get(k), str)]
        for key in ("id", "status", "reply_to_id", "is_liked", "is_forwarded"):
            if key in row.keys() and row[key] not in (None, 0, ""):
                extra[key] = row[key]
        modified = row["modified_timestamp"] if "modified_timestamp" in row.keys() else None
        if modified and modified != row["created_timestamp"]:
            extra["modified"] = timestamps.unix_ms(modified).iso
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=row["conversation_id"], thread_name=name,
            sender=row["sender_id"], sender_name=name if direction == "incoming" else None,
            recipients=[row["recipient_id"]] if row["recipient_id"] else [], direction=direction,
            body=payload.get("text") or payload.get("message"), message_type=row["payload_type"],
            attachments=[{"url": url, "kind": row["payload_type"]} for url in urls],
            ts=timestamps.unix_ms(row["created_timestamp"]), extra=extra, prov=ctx.prov("message", row["row_id"]))


def _person(ctx, row) -> Contact:
    keys = row.keys()
    extra = {k: row[k] for k in _PROFILE_FIELDS if k in keys and row[k] not in (None, "")}
    if ctx.platform == "Bumble" and "game_mode" in keys and row["game_mode"] is not None:
        extra["mode"] = BUMBLE_MODES.get(row["game_mode"], f"game_mode {row['game_mode']}")
    if "user_photos" in keys and (photos := _photo_urls(row["user_photos"])):
        extra["photo_urls"] = photos
    encrypted = row["encrypted_user_id"] if "encrypted_user_id" in keys else None
    return Contact(app=ctx.app, platform=ctx.platform, user_id=row["user_id"], name=row["user_name"],
                   handles=[encrypted] if encrypted else [], extra=extra,
                   prov=ctx.prov("conversation_info", row["row_id"]))


def _direction(row, person) -> str | None:
    """From ``is_incoming`` where stored; else from whether the partner's encrypted id sent or received it."""
    if "is_incoming" in row.keys() and row["is_incoming"] in (0, 1):
        return "incoming" if row["is_incoming"] else "outgoing"
    encrypted = person["encrypted_user_id"] if person is not None and "encrypted_user_id" in person.keys() else None
    if encrypted and row["sender_id"] == encrypted:
        return "incoming"
    if encrypted and row["recipient_id"] == encrypted:
        return "outgoing"
    return None


def _payload(raw) -> tuple[dict, dict]:
    """(the parsed payload, extra fields to keep: the payload itself, or its raw text when it is not JSON)."""
    try:
        payload = json.loads(raw) if raw else {}
    except ValueError:
        return {}, {"payload_raw": raw}
    if not isinstance(payload, dict):
        return {}, {"payload_raw": raw}
    return payload, {"payload": payload}


def _photo_urls(raw) -> list[str]:
    try:
        photos = json.loads(raw) if raw else []
    except ValueError:
        return []
    return [p["url"] for p in photos if isinstance(p, dict) and isinstance(p.get("url"), str)] \
        if isinstance(photos, list) else []


@parser(name="badoo-android-connections", app="com.badoo.mobile", platform="Badoo",
        paths=["*/com.badoo.mobile/databases/CombinedConnectionsDatabase"],
        requires={"connection": {"id", "name", "sort_timestamp"}},
        source="ALEAPP scripts/artifacts/BadooConnections.py (connection columns)")
def connections(db, ctx):
    """Badoo connections (people who messaged, liked or visited), with the last displayed message."""
    for row in db.execute("SELECT rowid AS row_id, * FROM connection ORDER BY rowid"):
        keys = row.keys()
        extra = {k: row[k] for k in ("gender", "origin", "avatar_url", "display_message")
                 if k in keys and row[k] not in (None, "")}
        yield Contact(app=ctx.app, platform=ctx.platform, user_id=str(row["id"]), name=row["name"],
                      ts=timestamps.unix_ms(row["sort_timestamp"]), extra=extra,
                      prov=ctx.prov("connection", row["row_id"]))
