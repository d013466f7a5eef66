"""Kik for iOS: kik.sqlite, a Core Data store of messages (ZKIKMESSAGE), users and groups (ZKIKUSER), chats
(ZKIKCHAT) and attachments (ZKIKATTACHMENT).

Message times are Cocoa seconds; ``ZKIKUSER.ZPPTIMESTAMP`` (profile picture) is Unix milliseconds. ``ZTYPE`` is
1 for a received and 2 for a sent message (3 and 4 are group housekeeping and group messages, direction unknown).
A message belongs to a chat through Core Data's join table ``Z_<n>MESSAGES`` (``Z_<n>CHAT``, ``Z_<m>MESSAGES``),
whose entity numbers vary, so it is found by its shape.
"""
from __future__ import annotations

import re

from artifacts import timestamps
from artifacts.records import Contact, Message
from parsers.framework import columns, optional_columns, parser, tables
from artifacts.sql_quoting import ident

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "iLEAPP scripts/artifacts/kikMessages.py, kikUsersgroups.py"

APP = "com.kik.chat"
PATHS = ["*/kik.sqlite"]
DIRECTIONS = {1: "incoming", 2: "outgoing"}
KINDS = {1: "received", 2: "sent", 3: "group admin", 4: "group message"}


@parser(name="kik-ios-messages", app=APP, platform="Kik", paths=PATHS,
        requires={"ZKIKMESSAGE": {"Z_PK", "ZBODY", "ZTYPE", "ZUSER", "ZTIMESTAMP"},
                  "ZKIKUSER": {"Z_PK", "ZUSERNAME", "ZDISPLAYNAME", "ZJID"}})
def messages(db, ctx):
    """Messages with their author (ZUSER), chat partner or group (the chat's ZUSER) and attachments."""
    chat_of = _chat_join(db)
    optional = optional_columns(db, "ZKIKMESSAGE", ("ZRECEIVEDTIMESTAMP", "ZSTATE", "ZSTANZAID"), alias="m")
    attachments = _attachments(db)
    for row in db.execute(
            f"SELECT m.Z_PK, m.ZBODY, m.ZTYPE, m.ZTIMESTAMP, {optional}, u.ZUSERNAME, u.ZJID, u.ZDISPLAYNAME, "
            f"t.ZJID AS thread_jid, t.ZUSERNAME AS thread_username, t.ZDISPLAYNAME AS thread_name "
            f"FROM ZKIKMESSAGE m LEFT JOIN ZKIKUSER u ON u.Z_PK = m.ZUSER {chat_of} ORDER BY m.Z_PK"):
        direction = DIRECTIONS.get(row["ZTYPE"])
        author = row["ZJID"] or row["ZUSERNAME"]
        thread = row["thread_jid"] or row["thread_username"] or author
        received = timestamps.cocoa_s(row["ZRECEIVEDTIMESTAMP"])
        extra = {"type_raw": row["ZTYPE"], "state": row["ZSTATE"], "stanza_id": row["ZSTANZAID"],
                 "author_username": row["ZUSERNAME"]}
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=thread, thread_name=row["thread_name"],
            sender=author if direction != "outgoing" else None,
            sender_name=row["ZDISPLAYNAME"] if direction != "outgoing" else None,
            recipients=[thread] if direction == "outgoing" and thread else [], direction=direction,
            body=row["ZBODY"], message_type=KINDS.get(row["ZTYPE"], f"type {row['ZTYPE']}"),
            attachments=attachments.get(row["Z_PK"], []), ts=timestamps.cocoa_s(row["ZTIMESTAMP"]),
            received_ts=received if direction == "incoming" else None,
            extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov("ZKIKMESSAGE", row["Z_PK"]))


@parser(name="kik-ios-users", app=APP, platform="Kik", paths=PATHS,
        requires={"ZKIKUSER": {"Z_PK", "ZUSERNAME", "ZDISPLAYNAME", "ZJID"}})
def users(db, ctx):
    """Every Kik user and group the app knows (ZKIKUSER)."""
    optional = optional_columns(db, "ZKIKUSER",
                                ("ZFIRSTNAME", "ZLASTNAME", "ZEMAIL", "ZPPTIMESTAMP", "ZPPURL", "ZGROUPTAG"))
    for row in db.execute(f"SELECT Z_PK, ZUSERNAME, ZDISPLAYNAME, ZJID, {optional} FROM ZKIKUSER ORDER BY Z_PK"):
        full = " ".join(filter(None, (row["ZFIRSTNAME"], row["ZLASTNAME"]))) or None
        picture = timestamps.unix_ms(row["ZPPTIMESTAMP"])
        extra = {"profile_picture_url": row["ZPPURL"], "profile_picture_ts": picture.iso if picture else None,
                 "group_tag": row["ZGROUPTAG"], "full_name": full}
        yield Contact(
            app=ctx.app, platform=ctx.platform, name=row["ZDISPLAYNAME"] or full, user_id=row["ZJID"],
            handles=[row["ZUSERNAME"]] if row["ZUSERNAME"] else [], emails=[row["ZEMAIL"]] if row["ZEMAIL"] else [],
            extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov("ZKIKUSER", row["Z_PK"]))


def _chat_join(db) -> str:
    """SQL joining each message to its chat's user as ``t``, or a join that matches nothing."""
    if "zkikchat" in tables(db) and "zuser" in columns(db, "ZKIKCHAT"):
        for name in sorted(tables(db)):
            if re.fullmatch(r"z_\d+messages", name):
                cols = columns(db, name)
                chat = next((c for c in cols if re.fullmatch(r"z_\d+chat", c)), None)
                message = next((c for c in cols if re.fullmatch(r"z_\d+messages", c)), None)
                if chat and message:
                    return (f"LEFT JOIN (SELECT {ident(message)} AS message, MIN({ident(chat)}) AS chat "
                            f"FROM {ident(name)} GROUP BY {ident(message)}) j ON j.message = m.Z_PK "
                            f"LEFT JOIN ZKIKCHAT c ON c.Z_PK = j.chat "
                            f"LEFT JOIN ZKIKUSER t ON t.Z_PK = c.ZUSER")
    return "LEFT JOIN ZKIKUSER t ON 0"


def _attachments(db) -> dict[int, list[dict]]:
    if not {"zmessage", "zcontent"} <= columns(db, "ZKIKATTACHMENT"):
        return {}
    found: dict[int, list[dict]] = {}
    for message, content in db.execute("SELECT ZMESSAGE, ZCONTENT FROM ZKIKATTACHMENT ORDER BY Z_PK"):
        found.setdefault(message, []).append({"content": content})
    return found
