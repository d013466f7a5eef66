"""Facebook Messenger (``com.facebook.orca``) and the Facebook app (``com.facebook.katana``), which keeps the same
stores: the legacy ``threads_db2`` and the newer MSYS ("lightspeed") ``msys_database_<user id>``.

threads_db2: ``messages.sender`` is JSON (``user_key`` ``FACEBOOK:<id>``, ``name``); ``attachments`` and ``shares``
are JSON lists; ``thread_participants``/``thread_users`` give members and names. The account's own id is the one line
of ``threads_db2-uid`` beside it. A call leaves a message whose ``generic_admin_message_extensible_data`` JSON holds
``call_duration`` (seconds), ``caller_id`` and ``video`` (``msg_type`` 9 one-to-one, 203 group: Autopsy's Messenger
module); it is written when the call ends, so that call's time is its end.

MSYS: ``messages(thread_key, message_id, timestamp_ms, sender_id, text, is_admin_message)``, ``contacts(id, name,
username, phone_number, email_address, ...)``, ``attachments(message_id, filename, playable_url_mime_type, ...)``,
``call_log(call_timestamp_ms, call_duration, call_direction 1 out / 2 in, call_media_type 2 video, thread_key)``
(ALEAPP ``FacebookMessenger.py``). The file name carries the account's id; a one-to-one thread's key is the other
person's id.

Times are Unix milliseconds; ``birthday_timestamp`` is kept raw.
"""
from __future__ import annotations

import json
import re

from artifacts import timestamps
from artifacts.records import Account, Call, Contact, Message
from parsers.framework import columns, optional_columns, parser, tables

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "ALEAPP scripts/artifacts/FacebookMessenger.py; Autopsy's Facebook Messenger module (call messages)"

PLATFORM = "Facebook Messenger"
MESSENGER, FACEBOOK = "com.facebook.orca", "com.facebook.katana"
CALL_MSG_TYPES = {9, 203}
MSYS_VIDEO = 2
_MSYS_DIRECTIONS = {1: "outgoing", 2: "incoming"}
_MSYS_OWNER = re.compile(r"msys_database_(\d+)")


def _paths(package: str, name: str) -> list[str]:
    return [f"*/{package}/*{name}"]


@parser(name="facebook-messenger-threads-messages", app=MESSENGER, platform=PLATFORM,
        paths=_paths(MESSENGER, "/threads_db2"), requires={"messages": {"msg_id", "thread_key", "timestamp_ms",
                                                                         "sender", "text"}})
@parser(name="facebook-katana-threads-messages", app=FACEBOOK, platform=PLATFORM,
        paths=_paths(FACEBOOK, "/threads_db2"), requires={"messages": {"msg_id", "thread_key", "timestamp_ms",
                                                                        "sender", "text"}})
def threads_messages(db, ctx):
    """Messages and call summaries of threads_db2 (messages, thread_participants, threads)."""
    owner = next((_uid_file(s.local) for s in ctx.find(f"*/{ctx.app}/*threads_db2-uid")), None)
    members = _thread_members(db)
    titles = {}
    if {"thread_key", "name"} <= columns(db, "threads"):
        titles = {r[0]: r[1] for r in db.execute("SELECT thread_key, name FROM threads") if r[1]}
    optional = optional_columns(db, "messages",
                                ("msg_type", "attachments", "shares", "snippet", "timestamp_sent_ms",
                                 "generic_admin_message_extensible_data", "admin_text_thread_rtc_event"))
    for row in db.execute(f"SELECT _rowid_ AS row_id, msg_id, thread_key, timestamp_ms, sender, text, {optional} "
                          f"FROM messages ORDER BY _rowid_"):
        sender = _json(row["sender"], {})
        sender_id = _user_id(sender.get("user_key"))
        thread = row["thread_key"]
        direction = None if not (owner and sender_id) else "outgoing" if sender_id == owner else "incoming"
        call = _json(row["generic_admin_message_extensible_data"], {})
        prov = ctx.prov("messages", row["row_id"])
        if row["msg_type"] in CALL_MSG_TYPES or "call_duration" in call:
            caller = _user_id(call.get("caller_id")) or sender_id
            duration = _number(call.get("call_duration"))
            video = call.get("video")
            yield Call(app=ctx.app, platform=ctx.platform, ts=timestamps.unix_ms(row["timestamp_ms"]),
                       peers=[m for m in members.get(thread, []) if m != (owner or caller)],
                       direction=None if not (owner and caller) else "outgoing" if caller == owner else "incoming",
                       call_type=None if not isinstance(video, bool) else "video" if video else "audio",
                       duration_s=duration, answered=None if duration is None else duration > 0,
                       status=row["admin_text_thread_rtc_event"],
                       extra={"msg_id": row["msg_id"], "msg_type": row["msg_type"], "thread_key": thread,
                              "caller_id": caller}, prov=prov)
            continue
        extra = {"msg_id": row["msg_id"], "msg_type": row["msg_type"],
                 "sent": _iso(timestamps.unix_ms(row["timestamp_sent_ms"])),
                 "shares": [{k: s.get(k) for k in ("name", "description", "href") if s.get(k)}
                            for s in _json(row["shares"], []) if isinstance(s, dict)] or None,
                 "sender_email": sender.get("email"), "sender_phone": sender.get("phone")}
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=thread, thread_name=titles.get(thread), sender=sender_id,
            sender_name=sender.get("name"), recipients=[m for m in members.get(thread, []) if m != sender_id],
            direction=direction, body=row["text"] if row["text"] is not None else row["snippet"],
            ts=timestamps.unix_ms(row["timestamp_ms"]), attachments=_threads_attachments(row["attachments"]),
            extra={k: v for k, v in extra.items() if v is not None}, prov=prov)


@parser(name="facebook-messenger-threads-contacts", app=MESSENGER, platform=PLATFORM,
        paths=_paths(MESSENGER, "/threads_db2"), requires={"thread_users": {"user_key"}})
@parser(name="facebook-katana-threads-contacts", app=FACEBOOK, platform=PLATFORM,
        paths=_paths(FACEBOOK, "/threads_db2"), requires={"thread_users": {"user_key"}})
def threads_contacts(db, ctx):
    """People the account has threads with (thread_users)."""
    have = columns(db, "thread_users")
    fields = [c for c in ("name", "first_name", "last_name", "username", "is_messenger_user", "is_friend",
                          "friendship_status", "contact_relationship_status") if c in have]
    for row in db.execute(f"SELECT _rowid_ AS row_id, user_key{''.join(f', {c}' for c in fields)} FROM thread_users "
                          f"ORDER BY _rowid_"):
        values = {c: row[c] for c in fields}
        name = values.get("name") or " ".join(p for p in (values.get("first_name"), values.get("last_name")) if p)
        extra = {k: values[k] for k in ("is_messenger_user", "is_friend", "friendship_status",
                                        "contact_relationship_status") if values.get(k) is not None}
        yield Contact(app=ctx.app, platform=ctx.platform, user_id=_user_id(row["user_key"]), name=name or None,
                      handles=[values["username"]] if values.get("username") else [], extra=extra,
                      prov=ctx.prov("thread_users", row["row_id"]))


@parser(name="facebook-messenger-account", app=MESSENGER, platform=PLATFORM,
        paths=_paths(MESSENGER, "threads_db2-uid"))
@parser(name="facebook-katana-account", app=FACEBOOK, platform=PLATFORM, paths=_paths(FACEBOOK, "threads_db2-uid"))
def account(db, ctx):
    """The signed-in account's Facebook id (threads_db2-uid)."""
    uid = _uid_file(ctx.local)
    if uid:
        yield Account(app=ctx.app, platform=ctx.platform, account_type="Facebook", user_id=uid, prov=ctx.prov())


@parser(name="facebook-messenger-msys-messages", app=MESSENGER, platform=PLATFORM,
        paths=_paths(MESSENGER, "/msys_database_*"),
        requires={"messages": {"message_id", "thread_key", "timestamp_ms", "sender_id", "text"}})
@parser(name="facebook-katana-msys-messages", app=FACEBOOK, platform=PLATFORM,
        paths=_paths(FACEBOOK, "/msys_database_*"),
        requires={"messages": {"message_id", "thread_key", "timestamp_ms", "sender_id", "text"}})
def msys_messages(db, ctx):
    """Messages of an MSYS database (messages, with contacts names and attachments)."""
    owner = _msys_owner(ctx)
    names = _msys_names(db)
    attachments = _msys_attachments(db)
    admin = "is_admin_message" if "is_admin_message" in columns(db, "messages") else "NULL"
    for row in db.execute(f"SELECT _rowid_ AS row_id, message_id, thread_key, timestamp_ms, sender_id, text, "
                          f"{admin} AS is_admin_message FROM messages ORDER BY _rowid_"):
        sender, thread = _text(row["sender_id"]), _text(row["thread_key"])
        direction = None if not (owner and sender) else "outgoing" if sender == owner else "incoming"
        one_to_one = thread in names
        recipients = ([thread] if direction == "outgoing" and one_to_one else
                      [owner] if direction == "incoming" and one_to_one else [])
        yield Message(app=ctx.app, platform=ctx.platform, thread_id=thread, thread_name=names.get(thread),
                      sender=sender, sender_name=names.get(sender), recipients=recipients, direction=direction,
                      body=row["text"], message_type="admin" if row["is_admin_message"] == 1 else None,
                      ts=timestamps.unix_ms(row["timestamp_ms"]), attachments=attachments.get(row["message_id"], []),
                      extra={"message_id": row["message_id"]}, prov=ctx.prov("messages", row["row_id"]))


@parser(name="facebook-messenger-msys-calls", app=MESSENGER, platform=PLATFORM,
        paths=_paths(MESSENGER, "/msys_database_*"), requires={"call_log": {"call_timestamp_ms", "thread_key"}})
@parser(name="facebook-katana-msys-calls", app=FACEBOOK, platform=PLATFORM,
        paths=_paths(FACEBOOK, "/msys_database_*"), requires={"call_log": {"call_timestamp_ms", "thread_key"}})
def msys_calls(db, ctx):
    """Call log of an MSYS database (call_log)."""
    names = _msys_names(db)
    optional = optional_columns(db, "call_log",
                                ("call_duration", "call_direction", "call_media_type", "has_been_seen"))
    for row in db.execute(f"SELECT _rowid_ AS row_id, call_timestamp_ms, thread_key, {optional} FROM call_log "
                          f"ORDER BY _rowid_"):
        thread, duration = _text(row["thread_key"]), _number(row["call_duration"])
        extra = {k: row[k] for k in ("call_direction", "call_media_type", "has_been_seen") if row[k] is not None}
        yield Call(app=ctx.app, platform=ctx.platform, ts=timestamps.unix_ms(row["call_timestamp_ms"]),
                   peers=[thread] if thread else [], peer_name=names.get(thread),
                   direction=_MSYS_DIRECTIONS.get(row["call_direction"]),
                   call_type="video" if row["call_media_type"] == MSYS_VIDEO else None, duration_s=duration,
                   answered=None if duration is None else duration > 0, extra=extra,
                   prov=ctx.prov("call_log", row["row_id"]))


@parser(name="facebook-messenger-msys-contacts", app=MESSENGER, platform=PLATFORM,
        paths=_paths(MESSENGER, "/msys_database_*"), requires={"contacts": {"id", "name"}})
@parser(name="facebook-katana-msys-contacts", app=FACEBOOK, platform=PLATFORM,
        paths=_paths(FACEBOOK, "/msys_database_*"), requires={"contacts": {"id", "name"}})
def msys_contacts(db, ctx):
    """People known to an MSYS database (contacts)."""
    fields = ("username", "phone_number", "email_address", "work_company_name", "is_messenger_user",
              "friendship_status", "blocked_by_viewer_status", "birthday_timestamp")
    optional = optional_columns(db, "contacts", fields)
    for row in db.execute(f"SELECT _rowid_ AS row_id, id, name, {optional} FROM contacts ORDER BY _rowid_"):
        extra = {k: row[k] for k in ("is_messenger_user", "friendship_status", "blocked_by_viewer_status",
                                     "birthday_timestamp") if row[k] is not None}
        yield Contact(app=ctx.app, platform=ctx.platform, user_id=_text(row["id"]), name=row["name"],
                      handles=[row["username"]] if row["username"] else [],
                      phones=[row["phone_number"]] if row["phone_number"] else [],
                      emails=[row["email_address"]] if row["email_address"] else [],
                      organization=row["work_company_name"], extra=extra, prov=ctx.prov("contacts", row["row_id"]))


def _thread_members(db) -> dict[str, list[str]]:
    if not {"thread_key", "user_key"} <= columns(db, "thread_participants"):
        return {}
    members: dict[str, list[str]] = {}
    for row in db.execute("SELECT thread_key, user_key FROM thread_participants ORDER BY _rowid_"):
        member = _user_id(row["user_key"])
        if member and member not in members.setdefault(row["thread_key"], []):
            members[row["thread_key"]].append(member)
    return members


def _threads_attachments(raw) -> list[dict]:
    result = []
    for item in _json(raw, []):
        if isinstance(item, dict):
            described = {"name": item.get("filename"), "mime_type": item.get("mime_type"),
                         "size": item.get("file_size"), "id": _text(item.get("id"))}
            result.append({k: v for k, v in described.items() if v is not None})
    return result


def _msys_owner(ctx) -> str | None:
    found = _MSYS_OWNER.search(ctx.source.path.rsplit("/", 1)[-1])
    return found.group(1) if found else None


def _msys_names(db) -> dict[str, str]:
    if "contacts" not in tables(db) or not {"id", "name"} <= columns(db, "contacts"):
        return {}
    return {_text(r[0]): r[1] for r in db.execute("SELECT id, name FROM contacts") if r[0] is not None and r[1]}


def _msys_attachments(db) -> dict[str, list[dict]]:
    have = columns(db, "attachments")
    if "message_id" not in have:
        return {}
    fields = {"filename": "name", "playable_url_mime_type": "mime_type", "playable_url": "url",
              "title_text": "title", "subtitle_text": "subtitle"}
    picked = [c for c in fields if c in have]
    result: dict[str, list[dict]] = {}
    for row in db.execute(f"SELECT message_id{''.join(f', {c}' for c in picked)} FROM attachments ORDER BY _rowid_"):
        item = {fields[c]: row[c] for c in picked if row[c] is not None}
        result.setdefault(row["message_id"], []).append(item)
    return result


def _uid_file(path) -> str | None:
    """The account id in a ``threads_db2-uid`` file: its first non-empty line."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    line = next((part.strip() for part in head.decode("utf-8", "replace").splitlines() if part.strip()), None)
    return line


def _user_id(user_key) -> str | None:
    """``FACEBOOK:123`` (or a bare ``123``) -> ``123``."""
    if user_key is None or user_key == "":
        return None
    return str(user_key).split(":", 1)[-1]


def _json(raw, default):
    try:
        value = json.loads(raw) if raw else default
    except (TypeError, ValueError, RecursionError):
        return default
    return value if isinstance(value, type(default)) else default


def _number(value) -> float | None:
    try:
        return float(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _iso(value) -> str | None:
    return value.iso if value else None


def _text(value) -> str | None:
    return None if value is None or value == "" else str(value)
