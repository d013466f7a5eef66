"""Zalo for iOS (``vn.com.vng.zingalo``): one SQLite database per chat, ``Documents/chat_dbs/<user id>/<peer
id>.db`` or ``.../group_<group id>.db``, with names in ``Documents/profile.sqlite`` and ``Documents/chatgroup.sqlite``.

Source: iLEAPP ``scripts/artifacts/ZaloChats.py`` (abrignoni/iLEAPP, C_Peter; its message-type mapping was
established by testing, not documented by the vendor). The folder under ``chat_dbs`` is the user's own Zalo id;
databases whose name contains ``_ext`` are not chats (iLEAPP skips them). ``ChatContent(SenderId, CliMsgId,
MsgType, TimeStamp, MsgContent, BinNet, LocalPath)``: a row whose ``SenderId`` is the user's id was sent by the
user. ``MsgType`` 0 text; 1, 2, 3, 4, 19, 23 media; 6 voice note (its URL in ``BinNet`` when ``MsgContent`` is
empty); 10 sticker; 12 a call, missed call, group call, link or contact card, told apart by the strings
``recommened.calltime``/``.misscall``/``.groupcall``/``.link``/``.user`` in ``BinNet`` (spelt so by the app);
15, 20, 24, 36 system; 18 a location (``"latitude":``/``"longitude":`` in ``BinNet``); 22 a file; 26 a poll.
Calls become Call records and locations also Location records. ``profile.sqlite``: ``ProfileEntity(userid,
displayname)``, ``BuddyEntity(zaloid, mobile)``, and in some versions ``GlobalIdEntity(rawid, globalid)``;
``chatgroup.sqlite``: ``GroupEntity(groupid, name)``.

``TimeStamp``'s unit is pinned by no public source (iLEAPP converts it by magnitude): it is decoded with
``unix_auto``, whose encoding name says which unit was chosen. No key column is shown: provenance uses the rowid.
"""
from __future__ import annotations

import re
import sqlite3

from artifacts import timestamps
from artifacts.records import Call, Contact, Location, Message
from parsers.framework import Unsupported, as_text, open_readonly, optional_columns, parser, tables

APP = "vn.com.vng.zingalo"
PLATFORM = "Zalo"
SOURCE = "abrignoni/iLEAPP scripts/artifacts/ZaloChats.py"
PROFILES = "*/Documents/profile.sqlite"
GROUPS = "*/Documents/chatgroup.sqlite"
_MEDIA, _SYSTEM = {1, 2, 3, 4, 19, 23}, {15, 20, 24, 36}
_KINDS = {0: "text", 6: "voice note", 10: "sticker", 18: "location", 22: "file", 26: "poll"}
_MARKERS = ((b"recommened.calltime", "call"), (b"recommened.misscall", "missed call"),
            (b"recommened.groupcall", "group call"), (b"recommened.link", "link"), (b"recommened.user", "contact card"))
_URL = re.compile(rb'https?://[^\x00\s"]+')
_LAT, _LON = re.compile(rb'"latitude":(-?\d+(?:\.\d+)?)'), re.compile(rb'"longitude":(-?\d+(?:\.\d+)?)')


@parser(name="zalo-ios-messages", app=APP, platform=PLATFORM, paths=["*/Documents/chat_dbs/*/*.db"],
        source=SOURCE, requires={"ChatContent": {"SenderId", "MsgType", "TimeStamp", "MsgContent"}})
def messages(db, ctx):
    """Chat messages, calls and shared locations of one conversation's database."""
    owner, name = ctx.source.path.rsplit("/", 2)[-2:]
    if "_ext" in name:
        raise Unsupported("a chat_dbs '_ext' database, which iLEAPP does not read as a chat")
    chat = name[:-3]
    group = chat[len("group_"):] if chat.startswith("group_") else None
    documents = ctx.source.path.split("/chat_dbs/", 1)[0]
    people = _companion(ctx, documents + "/profile.sqlite", "ProfileEntity", "userid", "displayname")
    groups = _companion(ctx, documents + "/chatgroup.sqlite", "GroupEntity", "groupid", "name")
    thread_name = groups.get(group) if group else people.get(chat)
    optional = optional_columns(db, "ChatContent", ("CliMsgId", "BinNet", "LocalPath"))
    for row in db.execute(f"SELECT rowid AS row_id, SenderId, MsgType, TimeStamp, MsgContent, {optional} "
                          f"FROM ChatContent ORDER BY TimeStamp, rowid"):
        sender, kind, blob = as_text(row["SenderId"]), row["MsgType"], _bytes(row["BinNet"])
        outgoing = sender == owner
        direction = None if sender is None else "outgoing" if outgoing else "incoming"
        body = row["MsgContent"] if row["MsgContent"] not in ("", " ") else None
        label = _label(kind, blob)
        attachments = [{"path": row["LocalPath"]}] if row["LocalPath"] else []
        if kind in (6, 12) or (kind in _MEDIA and not attachments):
            url = _last_url(blob)
            if url and kind != 12:
                attachments.append({"url": url})
            elif url and label == "link" and body is None:
                body = url
        extra = {"client_message_id": row["CliMsgId"], "type_raw": kind, "group": bool(group)}
        ts, prov = timestamps.unix_auto(row["TimeStamp"]), ctx.prov("ChatContent", row["row_id"])
        if label in ("call", "missed call", "group call"):
            yield Call(app=ctx.app, platform=ctx.platform, peers=[group or chat] if outgoing else [p for p in [sender] if p],
                       peer_name=thread_name, direction=direction,
                       status="missed" if label == "missed call" else None,
                       answered=False if label == "missed call" else None, ts=ts,
                       extra={**{k: v for k, v in extra.items() if v is not None}, "call_kind": label}, prov=prov)
            continue
        latitude, longitude = _coordinates(blob) if kind == 18 else (None, None)
        if latitude is not None:
            extra.update(latitude=latitude, longitude=longitude)
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=chat, thread_name=thread_name,
            sender=sender, sender_name=people.get(sender), recipients=[chat] if outgoing and not group else [],
            direction=direction, body=body, message_type=label,
            attachments=attachments, ts=ts, extra={k: v for k, v in extra.items() if v is not None}, prov=prov)
        if latitude is not None:
            yield Location(app=ctx.app, latitude=latitude, longitude=longitude, source_kind="chat location",
                           label="sent" if outgoing else "received", ts=ts, prov=prov)


@parser(name="zalo-ios-contacts", app=APP, platform=PLATFORM, paths=[PROFILES], source=SOURCE,
        requires={"ProfileEntity": {"userid", "displayname"}})
def contacts(db, ctx):
    """Known Zalo users (ProfileEntity) with the phone number (BuddyEntity) and global id where present."""
    mobiles = _pairs(db, "BuddyEntity", "zaloid", "mobile")
    global_ids = _pairs(db, "GlobalIdEntity", "rawid", "globalid")
    for row in db.execute("SELECT rowid AS row_id, userid, displayname FROM ProfileEntity ORDER BY rowid"):
        user = None if row["userid"] is None else str(row["userid"])
        mobile = mobiles.get(user)
        yield Contact(app=ctx.app, platform=ctx.platform, name=row["displayname"], user_id=user,
                      phones=[mobile] if mobile else [],
                      extra={"global_id": global_ids[user]} if user in global_ids else {},
                      prov=ctx.prov("ProfileEntity", row["row_id"]))


@parser(name="zalo-ios-groups", app=APP, platform=PLATFORM, paths=[GROUPS], source=SOURCE,
        requires={"GroupEntity": {"groupid", "name"}})
def chat_groups(db, ctx):
    """Zalo group chats the user is in (GroupEntity), as contacts marked ``group``."""
    for row in db.execute("SELECT rowid AS row_id, groupid, name FROM GroupEntity ORDER BY rowid"):
        yield Contact(app=ctx.app, platform=ctx.platform, name=row["name"],
                      user_id=None if row["groupid"] is None else str(row["groupid"]), extra={"group": True},
                      prov=ctx.prov("GroupEntity", row["row_id"]))


def _label(kind, blob: bytes) -> str:
    if kind in _MEDIA:
        return "media"
    if kind in _SYSTEM:
        return "system"
    if kind == 12:
        return next((label for marker, label in _MARKERS if marker in blob), "type 12")
    return _KINDS.get(kind, f"type {kind}")


def _companion(ctx, path: str, table: str, key: str, value: str) -> dict[str, str]:
    """id → name from profile.sqlite or chatgroup.sqlite in the same Documents folder; a damaged one gives no names
    here (its own parser run records the damage)."""
    spooled = next((s for s in ctx.find("*/" + path.rsplit("/", 1)[-1])
                    if s.path == path and s.partition == ctx.source.partition), None)
    if spooled is None:
        return {}
    try:
        db = open_readonly(spooled.local)
        try:
            return _pairs(db, table, key, value)
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return {}


def _pairs(db, table: str, key: str, value: str) -> dict[str, str]:
    if table.lower() not in tables(db):
        return {}
    return {str(r[0]): r[1] for r in db.execute(f"SELECT [{key}], [{value}] FROM [{table}] ORDER BY rowid")
            if r[0] is not None and r[1] is not None}


def _bytes(value) -> bytes:
    if isinstance(value, bytes):
        return value
    return value.encode("utf-8", "replace") if isinstance(value, str) else b""


def _last_url(blob: bytes) -> str | None:
    found = _URL.findall(blob)
    return found[-1].decode("utf-8", "ignore") if found else None


def _coordinates(blob: bytes) -> tuple[float | None, float | None]:
    lat, lon = _LAT.search(blob), _LON.search(blob)
    if not (lat and lon):
        return None, None
    return float(lat.group(1)), float(lon.group(1))
