"""LINE for iOS: ``Line.sqlite`` (in the shared container under ``PrivateStore/P_<account mid>/Messages/``), a Core
Data store of messages (ZMESSAGE), chats (ZCHAT), users (ZUSER) and groups (ZGROUP).

``ZMESSAGE.ZTIMESTAMP`` is Unix milliseconds (an integer the app writes itself); Core Data dates such as
``ZUSER.ZCREATEDTIME`` are Cocoa seconds. A message with no ``ZSENDER`` is the account's own, unless it also has no
server id (``ZID``), which marks a system line. ``ZCONTENTTYPE`` names follow public parsers (0 text, 1 image, 2 video,
3 audio, 6 call, 7 sticker, 14 file, 18 system, 100 location).
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Contact, Location, Message
from parsers.framework import columns, optional_columns, parser, tables

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "iLEAPP scripts/artifacts/line.py"

APP = "jp.naver.line"
PATHS = ["*/Line.sqlite"]
CONTENT_TYPES = {0: "text", 1: "image", 2: "video", 3: "audio", 6: "call", 7: "sticker", 14: "file", 18: "system",
                 100: "location"}
LOCATION = 100


@parser(name="line-ios-messages", app=APP, platform="LINE", paths=PATHS,
        requires={"ZMESSAGE": {"Z_PK", "ZTIMESTAMP", "ZSENDER", "ZTEXT", "ZCHAT"}, "ZUSER": {"Z_PK", "ZMID", "ZNAME"},
                  "ZCHAT": {"Z_PK", "ZMID"}})
def messages(db, ctx):
    """Messages with their chat (a friend's or a group's mid) and sender."""
    names = _chat_names(db)
    message = columns(db, "ZMESSAGE")
    picks = optional_columns(db, "ZMESSAGE", ("ZID", "ZCONTENTTYPE", "ZSENDSTATUS", "ZREADCOUNT"), alias="m")
    custom = "u.ZCUSTOMNAME" if "zcustomname" in columns(db, "ZUSER") else "NULL"
    chat_type = "c.ZTYPE" if "ztype" in columns(db, "ZCHAT") else "NULL"
    for row in db.execute(f"SELECT m.Z_PK, m.ZTIMESTAMP, m.ZSENDER, m.ZTEXT, {picks}, c.ZMID AS chat_mid, "
                          f"{chat_type} AS chat_type, u.ZMID AS sender_mid, u.ZNAME, {custom} AS custom_name "
                          f"FROM ZMESSAGE m LEFT JOIN ZCHAT c ON c.Z_PK = m.ZCHAT "
                          f"LEFT JOIN ZUSER u ON u.Z_PK = m.ZSENDER ORDER BY m.Z_PK"):
        if row["ZSENDER"] is not None:
            direction = "incoming"
        elif row["ZID"] is not None or "zid" not in message:
            direction = "outgoing"
        else:
            direction = None
        chat = row["chat_mid"]
        extra = {"server_id": row["ZID"], "send_status": row["ZSENDSTATUS"], "read_count": row["ZREADCOUNT"],
                 "chat_type": row["chat_type"], "content_type_raw": row["ZCONTENTTYPE"]}
        kind = row["ZCONTENTTYPE"]
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=chat, thread_name=names.get(chat),
            sender=row["sender_mid"], sender_name=row["custom_name"] or row["ZNAME"],
            recipients=[chat] if direction == "outgoing" and chat else [], direction=direction, body=row["ZTEXT"],
            message_type=None if kind is None else CONTENT_TYPES.get(kind, f"type {kind}"),
            ts=timestamps.unix_ms(row["ZTIMESTAMP"]), extra={k: v for k, v in extra.items() if v is not None},
            prov=ctx.prov("ZMESSAGE", row["Z_PK"]))


@parser(name="line-ios-locations", app=APP, platform="LINE", paths=PATHS,
        requires={"ZMESSAGE": {"Z_PK", "ZTIMESTAMP", "ZCONTENTTYPE", "ZLATITUDE", "ZLONGITUDE", "ZTEXT", "ZCHAT"},
                  "ZCHAT": {"Z_PK", "ZMID"}})
def locations(db, ctx):
    """Location messages (content type 100): their coordinates, with the message text as the place label."""
    for row in db.execute(f"SELECT m.Z_PK, m.ZTIMESTAMP, m.ZLATITUDE, m.ZLONGITUDE, m.ZTEXT, m.ZSENDER, c.ZMID "
                          f"FROM ZMESSAGE m LEFT JOIN ZCHAT c ON c.Z_PK = m.ZCHAT WHERE m.ZCONTENTTYPE = {LOCATION} "
                          f"AND m.ZLATITUDE IS NOT NULL AND m.ZLONGITUDE IS NOT NULL ORDER BY m.Z_PK"):
        yield Location(app=ctx.app, latitude=row["ZLATITUDE"], longitude=row["ZLONGITUDE"], label=row["ZTEXT"],
                       source_kind="chat message", ts=timestamps.unix_ms(row["ZTIMESTAMP"]),
                       extra={"thread_id": row["ZMID"],
                              "direction": "incoming" if row["ZSENDER"] is not None else "outgoing"},
                       prov=ctx.prov("ZMESSAGE", row["Z_PK"]))


@parser(name="line-ios-contacts", app=APP, platform="LINE", paths=PATHS,
        requires={"ZUSER": {"Z_PK", "ZMID", "ZNAME"}})
def contacts(db, ctx):
    """Friends and other users LINE knows (ZUSER), with the name the account gave them and their status line."""
    picks = optional_columns(db, "ZUSER",
                             ("ZCUSTOMNAME", "ZADDRESSBOOKNAME", "ZSTATUSMESSAGE", "ZISFRIEND", "ZCREATEDTIME"))
    for row in db.execute(f"SELECT Z_PK, ZMID, ZNAME, {picks} FROM ZUSER ORDER BY Z_PK"):
        extra = {"profile_name": row["ZNAME"], "custom_name": row["ZCUSTOMNAME"],
                 "address_book_name": row["ZADDRESSBOOKNAME"],
                 "is_friend": None if row["ZISFRIEND"] is None else bool(row["ZISFRIEND"])}
        yield Contact(app=ctx.app, platform=ctx.platform, user_id=row["ZMID"],
                      name=row["ZCUSTOMNAME"] or row["ZADDRESSBOOKNAME"] or row["ZNAME"], note=row["ZSTATUSMESSAGE"],
                      ts=timestamps.cocoa_s(row["ZCREATEDTIME"]),
                      extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov("ZUSER", row["Z_PK"]))


def _chat_names(db) -> dict[str, str]:
    """Chat mid → display name: a group's ZGROUP.ZNAME, a friend's ZUSER name."""
    names = {}
    if "zgroup" in tables(db) and {"zid", "zname"} <= columns(db, "ZGROUP"):
        names.update(db.execute("SELECT ZID, ZNAME FROM ZGROUP WHERE ZID IS NOT NULL ORDER BY Z_PK").fetchall())
    custom = "ZCUSTOMNAME" if "zcustomname" in columns(db, "ZUSER") else "NULL"
    for mid, name in db.execute(f"SELECT ZMID, COALESCE({custom}, ZNAME) FROM ZUSER WHERE ZMID IS NOT NULL "
                                f"ORDER BY Z_PK"):
        names.setdefault(mid, name)
    return names
