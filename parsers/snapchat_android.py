"""Snapchat for Android: chats in ``com.snapchat.android/databases/arroyo.db``, the signed-in account in
``shared_prefs/user_session_shared_pref.xml``, and friends in ``databases/main.db`` on older builds.

arroyo.db ``conversation_message`` (primary key ``client_conversation_id``, ``client_message_id``) stores each
message's content as a protobuf blob in ``message_content``; the text of a chat message is at field path 4>4>2>1
(ALEAPP ``snapchat.py``, cross-checked there against the row's own columns: 4>2 is ``content_type``). Content types
as the app numbers them (SnapEnhance's ``ContentType``): 0 snap, 1 chat, 2 external media, 3 share, 4 note,
5 sticker, 6 status; later numbers moved between versions and are kept raw. ``sender_id`` is a user UUID; the
account's own is ``key_user_id`` in the session preferences, which decides the direction (without that file the
direction stays unknown: ``created_on_device`` only says which device wrote a row). The preferences also hold a
session refresh token: only ``key_user_id`` is read from them.

main.db ``Friend`` (older builds): ``userId``, ``username``, ``displayName``, ``phone``, ``birthday``,
``addedTimestamp``.

Times: ``creation_timestamp``, ``read_timestamp`` and ``addedTimestamp`` are Unix milliseconds.
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Account, Contact, Message
from parsers.decoders import protobuf_wire
from parsers.decoders.abx import AndroidXMLError, load_android_xml
from parsers.framework import optional_columns, parser

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "ALEAPP scripts/artifacts/snapchat.py"

APP = "com.snapchat.android"
PLATFORM = "Snapchat"
SESSION_PREFS = "*/com.snapchat.android/shared_prefs/user_session_shared_pref.xml"
TEXT_PATH = (4, 4, 2, 1)
MAX_PREFS = 4 * 1024 * 1024
_CONTENT_TYPES = {0: "snap", 1: "chat", 2: "external_media", 3: "share", 4: "note", 5: "sticker", 6: "status"}


@parser(name="snapchat-android-messages", app=APP, platform=PLATFORM,
        paths=["*/com.snapchat.android/databases/arroyo.db"],
        requires={"conversation_message": {"client_conversation_id", "client_message_id", "sender_id",
                                           "creation_timestamp", "content_type", "message_content"}})
def messages(db, ctx):
    """Chat messages and snaps (conversation_message)."""
    owner = next((_owner_or_none(s.local) for s in ctx.find(SESSION_PREFS)), None)
    optional = optional_columns(db, "conversation_message",
                                ("read_timestamp", "server_message_id", "message_state_type", "is_saved",
                                 "is_viewed_by_user", "created_on_device", "remote_media_count",
                                 "quoted_server_message_id"))
    for row in db.execute(f"SELECT _rowid_ AS row_id, client_conversation_id, client_message_id, sender_id, "
                          f"creation_timestamp, content_type, message_content, {optional} "
                          f"FROM conversation_message ORDER BY _rowid_"):
        sender = row["sender_id"]
        content = row["message_content"]
        body = protobuf_wire.text(content, *TEXT_PATH) if isinstance(content, bytes) else None
        extra = {k: row[k] for k in ("client_message_id", "server_message_id", "message_state_type", "is_saved",
                                     "is_viewed_by_user", "created_on_device", "remote_media_count",
                                     "quoted_server_message_id") if row[k] is not None}
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=row["client_conversation_id"], sender=sender,
            direction=None if not (owner and sender) else "outgoing" if sender == owner else "incoming",
            body=body, message_type=_CONTENT_TYPES.get(row["content_type"], f"content_type {row['content_type']}"),
            ts=timestamps.unix_ms(row["creation_timestamp"]), read_ts=timestamps.unix_ms(row["read_timestamp"]),
            extra=extra, prov=ctx.prov("conversation_message", row["row_id"]))


@parser(name="snapchat-android-account", app=APP, platform=PLATFORM, paths=[SESSION_PREFS])
def account(db, ctx):
    """The signed-in account's user id (user_session_shared_pref.xml)."""
    user_id = _session_user(ctx.local)
    if user_id:
        yield Account(app=ctx.app, platform=ctx.platform, account_type="Snapchat", user_id=user_id,
                      prov=ctx.prov("key_user_id"))


@parser(name="snapchat-android-friends", app=APP, platform=PLATFORM,
        paths=["*/com.snapchat.android/databases/main.db"],
        requires={"Friend": {"userId", "username", "displayName"}})
def friends(db, ctx):
    """Friends of older builds (main.db Friend)."""
    optional = optional_columns(db, "Friend", ("phone", "birthday", "addedTimestamp"))
    for row in db.execute(f"SELECT _rowid_ AS row_id, userId, username, displayName, {optional} FROM Friend "
                          f"ORDER BY _rowid_"):
        yield Contact(app=ctx.app, platform=ctx.platform, user_id=row["userId"], name=row["displayName"],
                      handles=[row["username"]] if row["username"] else [],
                      phones=[row["phone"]] if row["phone"] else [], ts=timestamps.unix_ms(row["addedTimestamp"]),
                      extra={"birthday": row["birthday"]} if row["birthday"] else {},
                      prov=ctx.prov("Friend", row["row_id"]))


def _session_user(path) -> str | None:
    """``key_user_id`` from a session preferences file, None when the key is absent; a file that is not Android XML
    raises ``AndroidXMLError``."""
    if path.stat().st_size > MAX_PREFS:
        raise AndroidXMLError(f"preferences file larger than {MAX_PREFS} bytes")
    root = load_android_xml(path.read_bytes())
    node = next((e for e in root if e.get("name") == "key_user_id"), None)
    return (node.text or node.get("value") or None) if node is not None else None


def _owner_or_none(path) -> str | None:
    """The account id for deciding directions; an unreadable preferences file only leaves them unknown."""
    try:
        return _session_user(path)
    except AndroidXMLError:
        return None
