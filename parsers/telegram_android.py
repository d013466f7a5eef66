"""Telegram for Android (and forks such as Telegram Web builds and Plus Messenger): ``cache4.db``.

Files: ``<package>/files/cache4.db`` for the first account and ``<package>/files/account<N>/cache4.db`` for the
others; the package a record belongs to is taken from the path.

Tables: ``messages_v2`` (``messages`` before 2021) holds one TL-serialized ``TLRPC.Message`` per row in ``data``,
decoded by ``parsers.decoders.telegram_tl``; its ``uid`` is the dialog id in the client's own convention: a user's
id for a private chat, minus the chat or channel id for groups and channels, ``0x4000000000000000 | id`` for a secret
chat (whose peer is ``enc_chats.user``). ``users`` (``uid``, ``name`` = "first last;;;username" lower-cased, ``status``,
``data`` = ``TLRPC.User``), ``chats`` (title lower-cased in ``name``; its blob is not decoded here) and ``enc_chats``
name the dialogs and senders. ``user_contacts_v7`` with ``user_phones_v7`` is the phone's address book as imported by
the app; ``contacts`` marks users in the account's Telegram contact list.

Times: ``date`` is Unix seconds (``timestamps.unix_s``), ``users.status`` above zero is the last-seen time in Unix
seconds (zero and below are the client's presence buckets). A row whose blob cannot be decoded still becomes a
Message, with what the columns say and ``extra["decode_error"]``.
"""
from __future__ import annotations

import re

from artifacts import timestamps
from artifacts.records import Account, Call, Contact, Location, Message
from parsers.decoders.telegram_tl import TLDecodeError, decode_message, decode_user
from parsers.framework import columns, parser, tables

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "ALEAPP scripts/artifacts/telegramAndroid.py; Telegram for Android's published source (TLRPC classes)"

APP = "org.telegram.messenger"
PLATFORM = "Telegram"
PATHS = [f"*/{package}/files/{folder}cache4.db" for package in ("org.telegram.messenger*", "org.telegram.plus")
         for folder in ("", "account*/")]
_PACKAGE = re.compile(r"/(org\.telegram\.[^/]+)/files/", re.IGNORECASE)

SECRET_BIT, FOLDER_BIT = 0x4000000000000000, 0x2000000000000000
READ = 1  # read_state bit: read by the owner (incoming) or by the peer (outgoing)
SEND_STATES = {0: "sent", 1: "sending", 2: "failed"}
MEDIA_TYPES = {"geo": "location", "geo_live": "live location"}
LOCATION_MEDIA = {"geo", "geo_live", "venue"}
NOT_ATTACHMENTS = LOCATION_MEDIA | {"empty"}


def _package(ctx) -> str:
    found = _PACKAGE.search("/" + ctx.source.path)
    return found.group(1).lower() if found else ctx.app


# --- messages ------------------------------------------------------------------------------------------------------

@parser(name="telegram-android-messages", app=APP, platform=PLATFORM, paths=PATHS,
        requires={"messages_v2": {"mid", "uid", "date", "out", "data"}})
def messages(db, ctx):
    """Messages of every dialog (private, group, channel, secret), with locations and calls they record."""
    yield from _messages(db, ctx, "messages_v2")


@parser(name="telegram-android-messages-legacy", app=APP, platform=PLATFORM, paths=PATHS,
        requires={"messages": {"mid", "uid", "date", "out", "data"}})
def legacy_messages(db, ctx):
    """Messages of clients before the 2021 ``messages_v2`` table (channel message ids carry the channel id in
    their high 32 bits there)."""
    if "messages_v2" in tables(db) and db.execute("SELECT 1 FROM messages_v2 LIMIT 1").fetchone():
        return  # the client has moved its messages to messages_v2, which the other parser reads
    yield from _messages(db, ctx, "messages")


def _messages(db, ctx, table: str):
    app = _package(ctx)
    present = tables(db)
    users, chats, secret_peers = _users(db, present), _chats(db, present), _secret_peers(db, present)
    have = columns(db, table)
    optional = ", ".join(name if name in have else "NULL" for name in ("read_state", "send_state", "ttl",
                                                                        "is_channel"))
    dialogs: dict[int, tuple] = {}
    cursor = db.cursor()
    cursor.row_factory = None
    for row_id, mid, uid, date, out, data, read_state, send_state, ttl, is_channel in cursor.execute(
            f"SELECT rowid, mid, uid, date, out, data, {optional} FROM {table} ORDER BY mid, uid"):
        try:
            msg, error = decode_message(data), None
        except TLDecodeError as exc:
            msg, error = exc.partial or {}, str(exc)
        dialog = dialogs.get(uid)
        if dialog is None:
            dialog = dialogs[uid] = _dialog(uid, is_channel, users, chats, secret_peers)
        kind, peer, thread_name = dialog
        outgoing = bool(out) if out is not None else bool(msg.get("out"))
        media = msg.get("media") or None
        action = msg.get("action")
        if outgoing:
            sender, recipients = None, [peer] if peer else []
        else:
            sender, recipients = _peer_id(msg.get("from_id")) or peer, []
        extra = {"mid": mid, "dialog_kind": kind}
        for key in ("name", "reply_to", "fwd_from", "ttl", "action"):
            if msg.get(key) not in (None, False):
                extra["constructor" if key == "name" else key] = msg[key]
        if ttl and "ttl" not in extra:
            extra["ttl"] = ttl
        if error:
            extra["decode_error"] = error
        status = _status(outgoing, read_state, send_state)
        ts = timestamps.unix_s(date if date is not None else msg.get("date"))
        yield Message(
            app=app, platform=PLATFORM, ts=ts, thread_id=str(uid), thread_name=thread_name, sender=sender,
            sender_name=_name(sender, users, chats), recipients=recipients,
            direction="outgoing" if outgoing else "incoming", body=None if error else msg.get("message"),
            message_type=None if error else _message_type(msg, media, action),
            attachments=[media] if media and media["kind"] not in NOT_ATTACHMENTS else [],
            status=status, extra=extra, prov=ctx.prov(table, row_id))
        if media and media["kind"] in LOCATION_MEDIA and media.get("lat") is not None and \
                media.get("long") is not None:
            yield _location(app, ts, media, uid, sender, outgoing, mid, ctx.prov(table, row_id))
        if action and action.get("kind") == "phone_call":
            yield _call(app, ts, action, peer, users, outgoing, mid, uid, ctx.prov(table, row_id))


def _dialog(uid: int, is_channel, users: dict, chats: dict, secret_peers: dict) -> tuple:
    """(kind, peer identifier, thread name) of a dialog id; the peer is who an outgoing message goes to."""
    if uid >= 0 and uid & SECRET_BIT:
        peer = secret_peers.get(uid & 0xFFFFFFFF)
        return "secret", None if peer is None else str(peer), users.get(peer, {}).get("name")
    if uid >= 0 and uid & FOLDER_BIT:
        return "folder", None, None
    if uid > 0:
        return "user", str(uid), users.get(uid, {}).get("name")
    kind = "group or channel" if is_channel is None else ("channel" if is_channel else "group")
    return kind, str(uid), chats.get(-uid)


def _peer_id(peer: dict | None) -> str | None:
    """A decoded Peer in the client's dialog-id form: a user's id, minus a chat's or channel's id."""
    if not peer:
        return None
    return str(peer["id"]) if peer["kind"] == "user" else str(-peer["id"])


def _name(identifier: str | None, users: dict, chats: dict) -> str | None:
    if identifier is None:
        return None
    number = int(identifier)
    return users.get(number, {}).get("name") if number > 0 else chats.get(-number)


def _message_type(msg: dict, media: dict | None, action: dict | None) -> str:
    if msg.get("type") == "service":
        return "call" if action and action.get("kind") == "phone_call" else "service"
    if msg.get("type") == "empty":
        return "empty"
    if media is None or media["kind"] == "empty":
        return "text"
    return MEDIA_TYPES.get(media["kind"], media["kind"])


def _status(outgoing: bool, read_state, send_state) -> str | None:
    read = read_state is not None and bool(read_state & READ)
    if not outgoing:
        return None if read_state is None else ("read" if read else "unread")
    if read:
        return "read"
    return None if send_state is None else SEND_STATES.get(send_state, f"send_state {send_state}")


def _location(app, ts, media: dict, uid: int, sender, outgoing: bool, mid: int, prov) -> Location:
    label = ", ".join(p for p in (media.get("title"), media.get("address")) if p) or None
    extra = {"thread_id": str(uid), "sender": sender, "direction": "outgoing" if outgoing else "incoming",
             "mid": mid, "media": media["kind"]}
    if media.get("period"):
        extra["live_period_s"] = media["period"]
    return Location(app=app, ts=ts, latitude=media["lat"], longitude=media["long"],
                    accuracy_m=media.get("accuracy_radius"), label=label, source_kind="telegram message",
                    extra=extra, prov=prov)


def _call(app, ts, action: dict, peer, users: dict, outgoing: bool, mid: int, uid: int, prov) -> Call:
    """A call, from the service message the client keeps for it (messageActionPhoneCall)."""
    duration = action.get("duration")
    reason = (action.get("reason") or {}).get("kind")
    if duration:
        status, answered = "answered", True
    elif reason == "missed":
        status, answered = ("unanswered" if outgoing else "missed"), False
    elif reason == "busy":
        status, answered = "busy", False
    else:
        status, answered = reason, None
    return Call(app=app, platform=PLATFORM, ts=ts, peers=[peer] if peer else [],
                peer_name=users.get(int(peer), {}).get("name") if peer else None,
                direction="outgoing" if outgoing else "incoming", call_type="video" if action.get("video") else "audio",
                duration_s=duration, answered=answered, status=status,
                extra={"call_id": action.get("call_id"), "reason": reason, "mid": mid, "thread_id": str(uid)},
                prov=prov)


# --- the directory: users, chats, secret chats ---------------------------------------------------------------------

def _users(db, present: set[str]) -> dict[int, dict]:
    """User id → decoded user fields with a display ``name``; the lower-cased ``name`` column where the blob fails."""
    users = {}
    if "users" not in present:
        return users
    data = "data" if "data" in columns(db, "users") else "NULL"
    for uid, name, blob in db.execute(f"SELECT uid, name, {data} FROM users ORDER BY uid"):
        users[uid] = _user(name, blob)
    return users


def _user(name_column, blob) -> dict:
    try:
        user = decode_user(blob)
    except TLDecodeError as exc:
        shown, _, username = (name_column or "").partition(";;;")
        return {"name": shown or None, "username": username or None, "decode_error": str(exc)}
    user["name"] = " ".join(p for p in (user["first_name"], user["last_name"]) if p) or None
    return user


def _chats(db, present: set[str]) -> dict[int, str]:
    if "chats" not in present:
        return {}
    return {uid: name for uid, name in db.execute("SELECT uid, name FROM chats ORDER BY uid") if name}


def _secret_peers(db, present: set[str]) -> dict[int, int]:
    if "enc_chats" not in present or "user" not in columns(db, "enc_chats"):
        return {}
    return dict(db.execute("SELECT uid, user FROM enc_chats ORDER BY uid"))


# --- contacts --------------------------------------------------------------------------------------------------------

@parser(name="telegram-android-contacts", app=APP, platform=PLATFORM, paths=PATHS,
        requires={"users": {"uid", "name", "status", "data"}, "user_contacts_v7": {"key", "uid", "fname", "sname"}})
def contacts(db, ctx):
    """Telegram users the client knows (the account owner also as an Account), and the imported address book."""
    app = _package(ctx)
    present = tables(db)
    in_contacts = dict(db.execute("SELECT uid, mutual FROM contacts")) if "contacts" in present else {}
    for uid, name_column, status, blob in db.execute("SELECT uid, name, status, data FROM users ORDER BY uid"):
        user = _user(name_column, blob)
        extra = {key: True for key in ("self", "contact", "mutual_contact", "bot", "deleted") if user.get(key)}
        if uid in in_contacts:
            extra["in_contacts"] = True
            extra["mutual"] = bool(in_contacts[uid])
        seen = timestamps.unix_s(status) if isinstance(status, int) and status > 0 else None
        if seen:
            extra["last_seen"] = seen.iso
        elif status:
            extra["status_code"] = status
        if "decode_error" in user:
            extra["decode_error"] = user["decode_error"]
        phone, username = user.get("phone"), user.get("username")
        yield Contact(app=app, platform=PLATFORM, name=user["name"], phones=[phone] if phone else [],
                      handles=[username] if username else [], user_id=str(uid), extra=extra,
                      prov=ctx.prov("users", uid))
        if user.get("self"):
            yield Account(app=app, platform=PLATFORM, account_type="telegram", user_id=str(uid), username=username,
                          display_name=user["name"], phone=phone, prov=ctx.prov("users", uid))
    phones: dict[str, list] = {}
    if "user_phones_v7" in present:
        for key, phone, deleted in db.execute("SELECT key, phone, deleted FROM user_phones_v7 ORDER BY rowid"):
            phones.setdefault(key, []).append((phone, bool(deleted)))
    imported = "imported" if "imported" in columns(db, "user_contacts_v7") else "NULL"
    for row_id, key, local_id, first, last, was_imported in db.execute(
            f"SELECT rowid, key, uid, fname, sname, {imported} FROM user_contacts_v7 ORDER BY rowid"):
        numbers = phones.get(key, [])
        extra = {"source": "address book", "key": key, "address_book_id": local_id}
        if was_imported is not None:
            extra["imported"] = was_imported
        removed = [phone for phone, deleted in numbers if deleted]
        if removed:
            extra["deleted_phones"] = removed
        yield Contact(app=app, platform=PLATFORM, name=" ".join(p for p in (first, last) if p) or None,
                      phones=[phone for phone, deleted in numbers if not deleted], extra=extra,
                      prov=ctx.prov("user_contacts_v7", row_id))
