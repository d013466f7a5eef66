"""WeChat for iOS (``com.tencent.xin``): contacts and messages of ``Documents/<md5(own username)>/DB/``.

Facts (BlueMatthew/WechatExporter ``core/WechatParser.cpp``; pa_script ``apple_wechat.py``; shared docs
app-databases-corridor.md §2):

- ``DB/MM.sqlite`` and, in newer versions, ``DB/message_<n>.sqlite`` hold one table per chat, ``Chat_<md5(peer
  username)>``, with ``CreateTime`` (Unix seconds), ``Des`` (0 = sent by the owner), ``MesLocalID``, ``Message``,
  ``MesSvrID``, ``Status``, ``Type`` (the Android type values: 1 text, 3 image, 34 voice, 10000 system, ...).
  Incoming chat-room messages carry the sender as ``<username>:\\n`` before the text.
- ``DB/WCDB_Contact.sqlite`` tables ``Friend`` and ``OpenIMContact``: ``userName``, ``type`` and
  ``dbContactRemark``, a protobuf whose field 1 is the nickname, 2 the alias (WeChat ID) and 3 the owner's remark
  for the contact. Where ``MM.sqlite`` itself has a ``Friend`` table (older versions) it is read the same way.
- The user folder is named ``md5(own username)``: the contact whose username hashes to it is the owner, and a chat
  table is named after the md5 of its peer's username, so both are resolved from the contacts; an unresolved chat
  keeps its hash as the thread id. A message's row is its rowid in its ``Chat_`` table.
"""
from __future__ import annotations

import hashlib
import re
import sqlite3

from artifacts import timestamps
from artifacts.records import Contact, Message
from parsers.decoders import protobuf_wire
from parsers.framework import as_text, columns, open_readonly, optional_columns, parser, tables
from parsers.wechat_android import MESSAGE_TYPES
from artifacts.sql_quoting import ident

APP = "com.tencent.xin"
DB_DIR = "*/Documents/*/DB/"
SOURCE = ("BlueMatthew/WechatExporter core/WechatParser.cpp (Chat_ and Friend queries, dbContactRemark fields); "
          "pa_script apple_wechat.py (see shared docs app-databases-corridor.md §2)")
CONTACT_TABLES = ("Friend", "OpenIMContact")
_CHAT = re.compile(r"Chat_([0-9a-f]{32})", re.IGNORECASE)
_SENDER_PREFIX = re.compile(r"([^\s:]{1,128}):\n", re.ASCII)
MESSAGE_COLUMNS = {"createtime", "des", "message", "type"}


@parser(name="wechat-ios-contacts", app=APP, platform="WeChat", source=SOURCE, paths=[DB_DIR + "WCDB_Contact.sqlite"],
        requires={"Friend": {"userName", "dbContactRemark", "type"}})
def contacts(db, ctx):
    """Contacts and chat rooms of Friend and OpenIMContact, names from the dbContactRemark protobuf."""
    yield from _contacts(db, ctx)


@parser(name="wechat-ios-messages", app=APP, platform="WeChat", source=SOURCE, requires={},
        paths=[DB_DIR + "MM.sqlite", DB_DIR + "message_[0-9]*.sqlite"])
def messages(db, ctx):
    """Messages of every Chat_<md5> table, chats and the owner resolved through the contacts."""
    present = tables(db)
    if "friend" in present:
        yield from _contacts(db, ctx)
    people = _people(db) if "friend" in present else {}
    for spooled in ctx.find(DB_DIR + "WCDB_Contact.sqlite"):
        if spooled.partition == ctx.source.partition and _folder(spooled.path) == _folder(ctx.source.path):
            people.update(_read_people(spooled.local))
    by_hash = {hashlib.md5(name.encode("utf-8")).hexdigest(): name for name in people}
    owner = by_hash.get(ctx.source.path.rsplit("/", 3)[-3].lower())
    names = {name: info[0] for name, info in people.items()}
    chats = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    for table in (t for t in chats if _CHAT.fullmatch(t)):
        if not MESSAGE_COLUMNS <= columns(db, table):
            continue
        peer = by_hash.get(table[5:].lower())
        yield from _chat(db, ctx, table, peer, owner, names)


def _chat(db, ctx, table, peer, owner, names):
    thread = peer or table[5:].lower()
    optional = optional_columns(db, table, ["MesLocalID", "MesSvrID", "Status"])
    for row in db.execute(f"SELECT rowid AS row_id, CreateTime, Des, Message, Type, {optional} FROM {ident(table)} "
                          f"ORDER BY rowid"):
        body, kind = as_text(row["Message"]), row["Type"]
        outgoing = row["Des"] == 0
        sender = owner if outgoing else peer
        if thread.endswith("@chatroom") and not outgoing:
            match = _SENDER_PREFIX.match(body or "")
            sender, body = (match.group(1), body[match.end():]) if match else (None, body)
        direction = None if kind in (10000, 10002) else ("outgoing" if outgoing else "incoming")
        extra = {"type": kind, "Des": row["Des"], "MesLocalID": row["MesLocalID"], "MesSvrID": row["MesSvrID"],
                 "Status": row["Status"], "chat_hash": table[5:].lower() if peer else None}
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=thread, thread_name=names.get(peer), sender=sender,
            sender_name=names.get(sender) if sender else None,
            recipients=[peer] if outgoing and peer else [], direction=direction, body=body,
            message_type=MESSAGE_TYPES.get(kind, f"type {kind}"), ts=timestamps.unix_s(row["CreateTime"]),
            extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov(table, row["row_id"]))


def _contacts(db, ctx):
    present = tables(db)
    for table in (t for t in CONTACT_TABLES if t.lower() in present):
        for row in db.execute(f"SELECT rowid AS row_id, userName, dbContactRemark, "
                              f"{optional_columns(db, table, ['type'])} FROM {ident(table)} ORDER BY rowid"):
            username = as_text(row["userName"])
            nickname, alias, remark = _remark(row["dbContactRemark"])
            extra = {"nickname": nickname, "remark": remark, "type": row["type"],
                     "kind": "chat room" if username and username.endswith("@chatroom") else None,
                     "table": table if table != "Friend" else None}
            yield Contact(app=ctx.app, platform=ctx.platform, user_id=username, name=remark or nickname,
                          handles=[alias] if alias else [], extra={k: v for k, v in extra.items() if v not in
                                                                   (None, "")}, prov=ctx.prov(table, row["row_id"]))


def _remark(blob) -> tuple[str | None, str | None, str | None]:
    """(nickname, alias, remark): fields 1, 2 and 3 of dbContactRemark."""
    if not isinstance(blob, bytes):
        return None, None, None
    return tuple(protobuf_wire.text(blob, n) or None for n in (1, 2, 3))


def _people(db) -> dict[str, tuple[str | None]]:
    """username → (display name,) from the contact tables of an open database."""
    found = {}
    present = tables(db)
    for table in (t for t in CONTACT_TABLES if t.lower() in present):
        for username, blob in db.execute(f"SELECT userName, dbContactRemark FROM {ident(table)} ORDER BY rowid"):
            if isinstance(username, str) and username:
                nickname, _, remark = _remark(blob)
                found.setdefault(username, (remark or nickname,))
    return found


def _read_people(path) -> dict:
    try:
        db = open_readonly(path)
        try:
            return _people(db)
        finally:
            db.close()
    except sqlite3.DatabaseError:  # wechat-ios-contacts reports that file's own outcome
        return {}


def _folder(path: str) -> str:
    return path.rsplit("/", 1)[0].lower()
