"""Tantan (探探, ``com.p1.mobile.putong``) for Android: one database per signed-in user, named
``core_v<N>_<user id>``.

Source: P79N6A/pa_script ``android_tantan.py`` (plugin of a Chinese forensic suite, 2019; no other public source,
no public test file). ``messages(_id, cid_c, owner_c, value_c, moment_c, media_c, location_c, createdTime_c)``:
``cid_c`` the conversation, ``owner_c`` the author, ``value_c`` the text (``[照片]`` photo, ``[视频]`` video,
``[语音]`` voice, ``[地理位置]`` location, ``[贴纸表情]`` sticker as placeholders), ``media_c`` a blob holding the
media URLs, ``location_c`` an address as UTF-8 text; a row with ``moment_c`` set is a comment on a feed post
(``moments``), kept with message type ``comment``. ``conversations(id_c, otherUser_c)`` names a conversation's
other party; ``users(id_c, name_c, age_c, gender_c, description_c)`` the people the app knows, the user's own row
among them (its ``id_c`` is the number in the file name). The suite compares ``owner_c`` with that number to tell
the user's own messages, as done here. ``createdTime_c`` is cut to ten digits by the suite (so its unit is not
pinned): decoded with ``unix_auto``. ``_id`` is not shown to be the key: provenance uses the rowid.
"""
from __future__ import annotations

import re

from artifacts import timestamps
from artifacts.records import Account, Contact, Message
from parsers.framework import Unsupported, as_text, optional_columns, parser, tables

APP = "com.p1.mobile.putong"
PLATFORM = "Tantan"
PATHS = [f"*/{APP}/*core_v*_*"]
SOURCE = "P79N6A/pa_script android_tantan.py"
_NAME = re.compile(r"core_v\d+_(\d+)")
_URL = re.compile(rb"https?://[\x21-\x7e]+?(?=[\x00-\x20\x7f-\xff]|$)")
_PLACEHOLDERS = {"[照片]": "photo", "[视频]": "video", "[语音]": "voice", "[地理位置]": "location",
                 "[贴纸表情]": "sticker"}


def _user(ctx) -> str:
    match = _NAME.fullmatch(ctx.source.path.rsplit("/", 1)[-1])
    if not match:
        raise Unsupported("not a core_v<N>_<user id> database")
    return match.group(1)


@parser(name="tantan-android-messages", app=APP, platform=PLATFORM, paths=PATHS, source=SOURCE,
        requires={"messages": {"cid_c", "owner_c", "value_c", "createdTime_c"}})
def messages(db, ctx):
    """Chat messages and comments on feed posts (messages), named from users and conversations."""
    own = _user(ctx)
    names = _names(db)
    others = _other_parties(db)
    optional = optional_columns(db, "messages", ("_id", "moment_c", "media_c", "location_c"))
    for row in db.execute(f"SELECT rowid AS row_id, cid_c, owner_c, value_c, createdTime_c, {optional} "
                          f"FROM messages ORDER BY createdTime_c, rowid"):
        author, chat = as_text(row["owner_c"]), as_text(row["cid_c"])
        other = others.get(chat)
        outgoing = author == own
        text = row["value_c"]
        kind = "comment" if row["moment_c"] is not None else _PLACEHOLDERS.get(text, "text")
        media = _URL.findall(row["media_c"]) if isinstance(row["media_c"], bytes) else []
        extra = {"message_id": as_text(row["_id"]), "moment": as_text(row["moment_c"]),
                 "address": as_text(row["location_c"]) if row["location_c"] is not None else None}
        yield Message(app=ctx.app, platform=ctx.platform, thread_id=chat, thread_name=names.get(other),
                      sender=author, sender_name=names.get(author),
                      recipients=[other] if outgoing and other else [],
                      direction=None if author is None else "outgoing" if outgoing else "incoming",
                      body=None if kind in _PLACEHOLDERS.values() else text, message_type=kind,
                      attachments=[{"url": u.decode("ascii")} for u in media], ts=timestamps.unix_auto(
                          row["createdTime_c"]), extra={k: v for k, v in extra.items() if v is not None},
                      prov=ctx.prov("messages", row["row_id"]))


@parser(name="tantan-android-contacts", app=APP, platform=PLATFORM, paths=PATHS, source=SOURCE,
        requires={"users": {"id_c", "name_c"}})
def contacts(db, ctx):
    """People the app knows (users); the user's own row is the account."""
    own = _user(ctx)
    optional = optional_columns(db, "users", ("age_c", "gender_c", "description_c"))
    for row in db.execute(f"SELECT rowid AS row_id, id_c, name_c, {optional} FROM users ORDER BY rowid"):
        user = as_text(row["id_c"])
        if user in (None, "0"):
            continue  # the suite skips empty rows
        extra = {"age": row["age_c"], "gender": row["gender_c"], "description": row["description_c"]}
        extra = {k: v for k, v in extra.items() if v not in (None, "")}
        prov = ctx.prov("users", row["row_id"])
        if user == own:
            yield Account(app=ctx.app, platform=ctx.platform, account_type="tantan", user_id=user,
                          display_name=row["name_c"], extra=extra, prov=prov)
        else:
            yield Contact(app=ctx.app, platform=ctx.platform, name=row["name_c"], user_id=user, extra=extra,
                          prov=prov)


def _names(db) -> dict[str, str]:
    if "users" not in tables(db):
        return {}
    return {as_text(r["id_c"]): r["name_c"] for r in db.execute("SELECT id_c, name_c FROM users ORDER BY rowid")
            if r["id_c"] is not None and r["name_c"]}


def _other_parties(db) -> dict[str, str]:
    if "conversations" not in tables(db):
        return {}
    return {as_text(r["id_c"]): as_text(r["otherUser_c"]) for r in db.execute(
        f"SELECT id_c, {optional_columns(db, 'conversations', ('otherUser_c',))} FROM conversations ORDER BY rowid")
        if r["id_c"] is not None and r["otherUser_c"] is not None}
