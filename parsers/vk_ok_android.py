"""VK (ВКонтакте, ``com.vkontakte.android``, and the Kate Mobile client) and OK (Одноклассники,
``ru.ok.android``) messengers for Android, in the older layouts the one public parser reads; no public source
covers current builds of either app.

Source: unhure/autopsy_modules ``vk.py`` and ``odnoklassniki_app.py`` (Autopsy modules; files found by name,
``vk.db`` and ``odnklassniki.db`` — spelt so). Times are Unix seconds for VK (the module hands them to Autopsy as
seconds) and Unix milliseconds for OK (it divides ``_date`` by 1000).

VK, two layouts of ``vk.db``: (1) ``messages(mid, peer, time, sender, text, attachments)`` with
``users(uid, firstname, lastname, photo_small, is_friend)`` — a message whose ``sender`` equals its ``peer`` came
from the other party; otherwise the module takes the sender for the account's user, except in group chats, so
the direction is left unset; (2) ``messages(account_name, record_data, dialog_id, message_date)`` whose
``record_data`` is the VK API message JSON (``id``, ``date``, ``out`` 0 incoming, ``body``, ``user_id``,
``read_state``), with ``profile(profile_id, record_data)`` the account (``first_name``, ``last_name``).

Kate Mobile (``com.perm.kate``, a VK client; ``kate.py``), ``kate.db``: ``messages(message_id, account_id, uid,
title, body, date, read_state, is_out)`` — ``account_id`` the user's VK id, ``uid`` the other party, ``is_out`` 0
incoming, ``date`` Unix seconds — and ``users(_id, first_name, last_name, nickname, birthdate, mobile_phone,
home_phone, status)``.

OK, ``odnklassniki.db``: ``authorized_users(uid, login, first_name, last_name, uri_pic)`` the signed-in users,
``users(user_id, user_first_name, user_last_name, user_name, user_avatar_url)`` known users, and (the layout with a
``message`` column) ``messages(_id, author_id, message, _date)``. A message whose ``author_id`` is an authorized
user's ``uid`` is marked outgoing (the module shows both ids; it does not compare them). The layout whose
``messages.data`` is an undocumented binary record is not read. The later ``tamtam_messages`` database
(``odnoklassniki_tamtam.py``): ``messages(msg_server_id, msg_time, msg_text, msg_sender, msg_media_type,
msg_chat_id)``, ``msg_time`` Unix milliseconds, ``msg_media_type`` 0 a text and anything else media; the chat's
name sits in an undocumented ``contacts.ctt_data`` record, not read. ``mid``/``_id``, which the module
read as message ids are kept in ``extra``; provenance uses the rowid.
"""
from __future__ import annotations

import json

from artifacts import timestamps
from artifacts.records import Account, Contact, Message
from parsers.framework import as_text, optional_columns, parser, tables

VK, OK = "com.vkontakte.android", "ru.ok.android"
VK_PATHS, OK_PATHS = [f"*/{VK}/databases/vk.db"], [f"*/{OK}/databases/odnklassniki.db"]
SOURCE_VK = "unhure/autopsy_modules vk.py"
SOURCE_OK = "unhure/autopsy_modules odnoklassniki_app.py"
KATE, KATE_PATHS = "com.perm.kate", ["*/com.perm.kate*/databases/kate.db"]
SOURCE_KATE = "unhure/autopsy_modules kate.py"


@parser(name="vk-android-messages", app=VK, platform="VK", paths=VK_PATHS, source=SOURCE_VK,
        requires={"messages": {"mid", "peer", "time", "sender", "text"}})
def vk_messages(db, ctx):
    """VK messages, older layout (messages with mid/peer/sender), named from users."""
    names = _names(db, "users", "uid", ("firstname", "lastname"))
    optional = optional_columns(db, "messages", ("attachments",))
    for row in db.execute(f"SELECT rowid AS row_id, mid, peer, time, sender, text, {optional} FROM messages "
                          f"ORDER BY time, rowid"):
        sender, peer = _text(row["sender"]), _text(row["peer"])
        incoming = sender is not None and sender == peer
        attachments = row["attachments"]
        yield Message(app=ctx.app, platform=ctx.platform, thread_id=peer, thread_name=names.get(peer),
                      sender=sender, sender_name=names.get(sender), direction="incoming" if incoming else None,
                      body=row["text"], ts=timestamps.unix_s(row["time"]),
                      extra={k: v for k, v in {"message_id": _text(row["mid"]),
                                               "attachments_raw": as_text(attachments)}.items() if v},
                      prov=ctx.prov("messages", row["row_id"]))


@parser(name="vk-android-json-messages", app=VK, platform="VK", paths=VK_PATHS, source=SOURCE_VK,
        requires={"messages": {"account_name", "record_data", "dialog_id", "message_date"}})
def vk_json_messages(db, ctx):
    """VK messages, JSON layout (messages.record_data holds the API message)."""
    for row in db.execute("SELECT rowid AS row_id, account_name, record_data, dialog_id, message_date "
                          "FROM messages ORDER BY message_date, rowid"):
        account, prov = _text(row["account_name"]), ctx.prov("messages", row["row_id"])
        try:
            data = json.loads(row["record_data"])
        except (TypeError, ValueError, RecursionError) as exc:
            yield Message(app=ctx.app, platform=ctx.platform, thread_id=_text(row["dialog_id"]),
                          extra={"error": f"record_data is not JSON: {exc}"}, prov=prov)
            continue
        data = data if isinstance(data, dict) else {}
        out, other = data.get("out"), _text(data.get("user_id"))
        direction = {0: "incoming", 1: "outgoing"}.get(out)
        yield Message(app=ctx.app, platform=ctx.platform, thread_id=_text(row["dialog_id"]),
                      sender=other if direction == "incoming" else account if direction == "outgoing" else None,
                      recipients=[v for v in ([account] if direction == "incoming" else [other]
                                              if direction == "outgoing" else []) if v],
                      direction=direction, body=data.get("body"),
                      ts=timestamps.unix_s(data.get("date")) or timestamps.unix_s(row["message_date"]),
                      extra={k: v for k, v in {"message_id": _text(data.get("id")), "read_state":
                                               data.get("read_state")}.items() if v is not None}, prov=prov)


@parser(name="vk-android-contacts", app=VK, platform="VK", paths=VK_PATHS, source=SOURCE_VK,
        requires={"users": {"uid", "firstname", "lastname"}})
def vk_contacts(db, ctx):
    """VK users the app knows, with the friend flag and avatar (users)."""
    optional = optional_columns(db, "users", ("photo_small", "is_friend"))
    for row in db.execute(f"SELECT rowid AS row_id, uid, firstname, lastname, {optional} FROM users ORDER BY rowid"):
        extra = {"friend": None if row["is_friend"] is None else bool(row["is_friend"]), "photo": row["photo_small"]}
        yield Contact(app=ctx.app, platform=ctx.platform, name=_join(row["firstname"], row["lastname"]),
                      user_id=_text(row["uid"]), extra={k: v for k, v in extra.items() if v is not None},
                      prov=ctx.prov("users", row["row_id"]))


@parser(name="vk-kate-messages", app=KATE, platform="VK", paths=KATE_PATHS, source=SOURCE_KATE,
        requires={"messages": {"message_id", "account_id", "uid", "body", "date", "is_out"}})
def kate_messages(db, ctx):
    """VK messages kept by Kate Mobile (messages): the account's own id, the other party, ``is_out``."""
    names = _names(db, "users", "_id", ("first_name", "last_name"))
    optional = optional_columns(db, "messages", ("title", "read_state"))
    for row in db.execute(f"SELECT rowid AS row_id, message_id, account_id, uid, body, date, is_out, {optional} "
                          f"FROM messages ORDER BY date, rowid"):
        own, other = _text(row["account_id"]), _text(row["uid"])
        direction = {0: "incoming", 1: "outgoing"}.get(row["is_out"])
        sender = other if direction == "incoming" else own if direction == "outgoing" else None
        recipient = own if direction == "incoming" else other if direction == "outgoing" else None
        extra = {"message_id": _text(row["message_id"]), "title": row["title"] or None, "read_state": row["read_state"]}
        yield Message(app=ctx.app, platform=ctx.platform, thread_id=other, thread_name=names.get(other),
                      sender=sender, sender_name=names.get(sender), recipients=[recipient] if recipient else [],
                      direction=direction, body=row["body"], ts=timestamps.unix_s(row["date"]),
                      extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov("messages", row["row_id"]))


@parser(name="vk-kate-contacts", app=KATE, platform="VK", paths=KATE_PATHS, source=SOURCE_KATE,
        requires={"users": {"_id", "first_name", "last_name"}})
def kate_contacts(db, ctx):
    """VK users Kate Mobile knows (users), with nickname, birth date, phones and status."""
    optional = optional_columns(db, "users", ("nickname", "birthdate", "mobile_phone", "home_phone", "status"))
    for row in db.execute(f"SELECT rowid AS row_id, _id, first_name, last_name, {optional} FROM users "
                          f"ORDER BY rowid"):
        extra = {"nickname": row["nickname"], "birthdate": row["birthdate"], "status": row["status"]}
        yield Contact(app=ctx.app, platform=ctx.platform, name=_join(row["first_name"], row["last_name"]),
                      user_id=_text(row["_id"]), phones=[p for p in (row["mobile_phone"], row["home_phone"]) if p],
                      extra={k: v for k, v in extra.items() if v}, prov=ctx.prov("users", row["row_id"]))


@parser(name="ok-android-messages", app=OK, platform="OK", paths=OK_PATHS, source=SOURCE_OK,
        requires={"messages": {"_id", "author_id", "message", "_date"}})
def ok_messages(db, ctx):
    """OK messages (layout with a message column), named from users; outgoing when the author is signed in."""
    names = _names(db, "users", "user_id", ("user_first_name", "user_last_name"))
    own = set(_names(db, "authorized_users", "uid", ("uid",)))
    for row in db.execute("SELECT rowid AS row_id, _id, author_id, message, _date FROM messages "
                          "ORDER BY _date, rowid"):
        author = _text(row["author_id"])
        direction = None if not own or author is None else "outgoing" if author in own else "incoming"
        yield Message(app=ctx.app, platform=ctx.platform, sender=author, sender_name=names.get(author),
                      direction=direction, body=row["message"], ts=timestamps.unix_ms(row["_date"]),
                      extra={"message_id": _text(row["_id"])}, prov=ctx.prov("messages", row["row_id"]))


@parser(name="ok-android-tamtam-messages", app=OK, platform="OK", paths=[f"*/{OK}/databases/tamtam_messages"],
        source="unhure/autopsy_modules odnoklassniki_tamtam.py",
        requires={"messages": {"msg_server_id", "msg_time", "msg_text", "msg_sender", "msg_media_type"}})
def ok_tamtam_messages(db, ctx):
    """OK messages in the later ``tamtam_messages`` database (sender id, text, media flag; no owner is known)."""
    optional = optional_columns(db, "messages", ("msg_chat_id",))
    for row in db.execute(f"SELECT rowid AS row_id, msg_server_id, msg_time, msg_text, msg_sender, msg_media_type, "
                          f"{optional} FROM messages ORDER BY msg_time, rowid"):
        media = row["msg_media_type"]
        extra = {"message_id": _text(row["msg_server_id"]), "media_type": media}
        yield Message(app=ctx.app, platform=ctx.platform, thread_id=_text(row["msg_chat_id"]),
                      sender=_text(row["msg_sender"]), body=row["msg_text"] or None,
                      message_type="text" if media == 0 else "media" if media is not None else None,
                      ts=timestamps.unix_ms(row["msg_time"]), extra={k: v for k, v in extra.items() if v is not None},
                      prov=ctx.prov("messages", row["row_id"]))


@parser(name="ok-android-contacts", app=OK, platform="OK", paths=OK_PATHS, source=SOURCE_OK,
        requires={"users": {"user_id", "user_first_name", "user_last_name"}})
def ok_contacts(db, ctx):
    """OK users the app knows (users)."""
    optional = optional_columns(db, "users", ("user_name", "user_avatar_url"))
    for row in db.execute(f"SELECT rowid AS row_id, user_id, user_first_name, user_last_name, {optional} "
                          f"FROM users ORDER BY rowid"):
        yield Contact(app=ctx.app, platform=ctx.platform,
                      name=_join(row["user_first_name"], row["user_last_name"]) or row["user_name"],
                      user_id=_text(row["user_id"]),
                      extra={"avatar": row["user_avatar_url"]} if row["user_avatar_url"] else {},
                      prov=ctx.prov("users", row["row_id"]))


@parser(name="ok-android-account", app=OK, platform="OK", paths=OK_PATHS, source=SOURCE_OK,
        requires={"authorized_users": {"uid", "login", "first_name", "last_name"}})
def ok_account(db, ctx):
    """The users signed in to the OK app (authorized_users)."""
    for row in db.execute("SELECT rowid AS row_id, uid, login, first_name, last_name FROM authorized_users "
                          "ORDER BY rowid"):
        yield Account(app=ctx.app, platform=ctx.platform, account_type="ok", user_id=_text(row["uid"]),
                      username=row["login"], display_name=_join(row["first_name"], row["last_name"]),
                      prov=ctx.prov("authorized_users", row["row_id"]))


def _names(db, table: str, key: str, parts: tuple[str, ...]) -> dict[str, str]:
    if table.lower() not in tables(db):
        return {}
    wanted = optional_columns(db, table, (key, *parts))
    found = {}
    for row in db.execute(f"SELECT {wanted} FROM [{table}] ORDER BY rowid"):
        if row[key] is not None:
            found[str(row[key])] = _join(*(row[p] for p in parts)) if parts != (key,) else str(row[key])
    return found


def _join(*parts) -> str | None:
    return " ".join(str(p) for p in parts if p) or None


def _text(value) -> str | None:
    return None if value is None else str(value)
