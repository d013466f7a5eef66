"""Tango (``com.sgiggle.production``) on Android: chats in ``files/tc.db``, people in ``files/profilecache.db``.

tc.db ``messages`` has one row per chat item with its ``conv_id``, ``type``, ``direction``, ``create_time`` and
``send_time``; the content is in ``payload``: base64 text of a protocol buffers message. Its field 4 is the text,
76 a system text ("X liked the video."), 5/6 the media and thumbnail URLs, 7 and 15 local copies of the media, 21
the sender (21.3 its account id) on incoming items, 97 a copy of the item a "like" refers to (97.23 its msg_id).
``conversations.payload`` (base64 protobuf too) names each conversation's peers in field 2 (2.3 the account id).

``direction`` 1 is outgoing and 2 incoming. Public notes disagree (one for Android says the reverse, one for iOS says
this), so it was settled on the app's own data: in plaso's test tc.db every direction-2 item carries a sender block
and every direction-1 item lacks one; the friend requests profilecache.db lists as sent by the user ("outRequest",
"I am following you on Tango") are direction 1; and the like the user made ("Hank liked the message.", liker field
99.3 = the user's own account id, likes.liker_aid NULL) is direction 1 while the peer's likes are direction 2.

profilecache.db ``profiletable`` holds every profile the app has seen, with first and last name, status and friend
request message base64-encoded UTF-8; ``profiles`` is a key/value table whose ``keyCurrentUserId`` is the account
signed in on the device (given as an Account; its own profile row also comes out as a Contact).

Times: every time column is Unix milliseconds. A message's ``ts`` is ``send_time`` (it follows the server's clock:
tc.db's ``profiles.time_delta_ms`` gives the device's offset from it), ``create_time`` (the device clock) is kept in
extra. A contact's ``ts`` is ``itemLastLocalAccessTime``, when the app last stored the profile.
"""
from __future__ import annotations

import base64
import binascii
import sqlite3

from artifacts import timestamps
from artifacts.records import Account, Contact, Message
from parsers.decoders import protobuf_wire
from parsers.framework import open_readonly, optional_columns, parser

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = ("ALEAPP scripts/artifacts/tangomessage.py; plaso plaso/parsers/sqlite_plugins/android_tango.py; "
          "plaso test_data/android/tango_android_tc.db, tango_profile.db (real files)")

APP = "com.sgiggle.production"
PLATFORM = "Tango"
TC_DB = "*/com.sgiggle.production/files/tc.db"
PROFILE_DB = "*/com.sgiggle.production/files/profilecache.db"

DIRECTIONS = {1: "outgoing", 2: "incoming"}
# messages.type: 0, 30, 35, 36 and 61 per the public notes on plaso issue #713, 1 and 3 by the media they carry
# (.mp4 and .jpg local copies) in plaso's test tc.db.
MESSAGE_TYPES = {0: "text", 1: "video", 3: "image", 30: "music", 35: "call", 36: "call", 61: "like"}
CURRENT_USER = "keyCurrentUserId"


@parser(name="tango-android-messages", app=APP, platform=PLATFORM, paths=[TC_DB],
        requires={"messages": {"msg_id", "conv_id", "type", "create_time", "send_time", "direction", "payload"},
                  "conversations": {"conv_id", "payload"}})
def messages(db, ctx):
    """Chat messages (tc.db messages, with the conversations' peers and profilecache.db's names)."""
    owner, names = _profiles_beside(ctx)
    peers = {row["conv_id"]: _peers(_payload(row["payload"])[0])
             for row in db.execute("SELECT conv_id, payload FROM conversations ORDER BY rowid")}
    optional = optional_columns(db, "messages", ["media_id", "status", "del_status"])
    for row in db.execute(f"SELECT msg_id, conv_id, type, create_time, send_time, direction, payload, {optional} "
                          f"FROM messages ORDER BY msg_id"):
        payload, problem = _payload(row["payload"])
        direction = DIRECTIONS.get(row["direction"])
        others = peers.get(row["conv_id"], [])
        if direction == "incoming":
            sender = _text(payload, 21, 3) or (others[0] if len(others) == 1 else None)
            recipients = [owner] if owner else []
        else:
            sender = owner if direction == "outgoing" else None
            recipients = others if direction == "outgoing" else []
        created = timestamps.unix_ms(row["create_time"])
        extra = {"type_raw": row["type"], "direction_raw": row["direction"], "status": row["status"],
                 "del_status": row["del_status"], "media_id": row["media_id"],
                 "create_time": created.iso if created else None,
                 "liked_msg_id": _int(payload, 97, 23), "payload_undecoded": problem}
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=row["conv_id"], sender=sender,
            sender_name=names.get(sender), recipients=recipients, direction=direction,
            body=_text(payload, 4) or _text(payload, 76), message_type=MESSAGE_TYPES.get(row["type"],
                                                                                        f"type {row['type']}"),
            attachments=_attachments(payload), ts=timestamps.unix_ms(row["send_time"]) or created,
            extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov("messages", row["msg_id"]))


@parser(name="tango-android-profiles", app=APP, platform=PLATFORM, paths=[PROFILE_DB],
        requires={"profiletable": {"itemUserId", "itemFirstName", "itemLastName"}, "profiles": {"key", "value"}})
def profiles(db, ctx):
    """Profiles the app has seen (profiletable) and the signed-in account (profiles.keyCurrentUserId)."""
    owner = db.execute("SELECT rowid, value FROM profiles WHERE key = ?", [CURRENT_USER]).fetchone()
    wanted = ["itemGender", "itemBirthday", "itemStatus", "itemLastActiveTime", "itemLastLocalAccessTime",
              "itemDistance", "itemIsFriend", "itemIsBlocked", "itemFriendRequestType", "itemFriendRequestMessage",
              "itemFriendRequestTime", "itemAvatarUrl", "itemProfileType"]
    names = {}
    for row in db.execute(f"SELECT rowid, itemUserId, itemFirstName, itemLastName, "
                          f"{optional_columns(db, 'profiletable', wanted)} FROM profiletable ORDER BY rowid"):
        name = _full_name(row)
        names[row["itemUserId"]] = name
        active, request = (timestamps.unix_ms(row[c]) for c in ("itemLastActiveTime", "itemFriendRequestTime"))
        extra = {"gender": row["itemGender"] or None, "birthday": row["itemBirthday"] or None,
                 "status": _unbase64(row["itemStatus"]) or None, "last_active": active.iso if active else None,
                 "distance": _distance(row["itemDistance"]), "is_friend": _flag(row["itemIsFriend"]),
                 "is_blocked": _flag(row["itemIsBlocked"]), "friend_request_type": row["itemFriendRequestType"],
                 "friend_request_message": _unbase64(row["itemFriendRequestMessage"]) or None,
                 "friend_request_time": request.iso if request else None,
                 "avatar_url": row["itemAvatarUrl"] or None, "profile_type": row["itemProfileType"],
                 "is_account_owner": True if owner and row["itemUserId"] == owner["value"] else None}
        yield Contact(app=ctx.app, platform=ctx.platform, name=name, user_id=row["itemUserId"],
                      ts=timestamps.unix_ms(row["itemLastLocalAccessTime"]),
                      extra={k: v for k, v in extra.items() if v is not None},
                      prov=ctx.prov("profiletable", row["rowid"]))
    if owner and owner["value"]:
        yield Account(app=ctx.app, platform=ctx.platform, account_type=PLATFORM, user_id=owner["value"],
                      display_name=names.get(owner["value"]), prov=ctx.prov("profiles", owner["rowid"]))


def _profiles_beside(ctx) -> tuple[str | None, dict[str, str]]:
    """(signed-in account id, {account id: name}) from a profilecache.db next to tc.db; names only help reading
    the messages, so an unreadable profilecache.db leaves them out rather than losing the messages."""
    for spooled in ctx.find(PROFILE_DB):
        try:
            db = open_readonly(spooled.local)
            try:
                owner = db.execute("SELECT value FROM profiles WHERE key = ?", [CURRENT_USER]).fetchone()
                names = {r["itemUserId"]: _full_name(r) for r in db.execute(
                    "SELECT itemUserId, itemFirstName, itemLastName FROM profiletable ORDER BY rowid")}
            finally:
                db.close()
        except sqlite3.DatabaseError:
            continue
        return (owner["value"] if owner else None), {k: v for k, v in names.items() if v}
    return None, {}


def _payload(value) -> tuple[bytes, str | None]:
    """The protobuf bytes of a base64 payload column, and why it could not be decoded (None when it could)."""
    if value is None:
        return b"", None
    try:
        data = base64.b64decode(value, validate=True)
        list(protobuf_wire.fields(data))
    except (binascii.Error, ValueError) as exc:
        return b"", f"{type(exc).__name__}: {exc}"
    return data, None


def _text(payload: bytes, *path: int) -> str | None:
    return protobuf_wire.text(payload, *path) or None


def _int(payload: bytes, *path: int) -> int | None:
    try:
        value = protobuf_wire.path(payload, *path)
    except protobuf_wire.ProtobufError:
        return None
    return value if isinstance(value, int) else None


def _peers(payload: bytes) -> list[str]:
    """Account ids of a conversation's members: field 3 of each field-2 entry."""
    found = []
    for entry in protobuf_wire.fields(payload):
        if entry.number == 2 and isinstance(entry.value, bytes):
            peer = _text(entry.value, 3)
            if peer and peer not in found:
                found.append(peer)
    return found


def _attachments(payload: bytes) -> list[dict]:
    url = _text(payload, 5)
    paths = [p for p in (_text(payload, 7), _text(payload, 15)) if p]
    if not url and not paths:
        return []
    return [{"url": url, "thumbnail_url": _text(payload, 6), "paths": paths}]


def _full_name(row) -> str | None:
    return " ".join(p for p in (_unbase64(row["itemFirstName"]), _unbase64(row["itemLastName"])) if p) or None


def _unbase64(value) -> str | None:
    """Tango keeps names and texts as base64 of UTF-8; a value that is not is returned as stored."""
    if value is None:
        return None
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return value


def _distance(value) -> float | None:
    """profiletable.itemDistance, -1 where the app does not know it."""
    return value if isinstance(value, (int, float)) and value >= 0 else None


def _flag(value) -> bool | None:
    return None if value is None else bool(value)
