"""Telegram for iOS: the Postbox key-value store ``telegram-data/account-<id>/postbox/db/db_sqlite`` in the app's
shared container. Messages live in table t7, peers (users, groups, channels) in t2; see
``parsers.decoders.telegram_postbox`` for the byte layouts.

Current Telegram releases encrypt this database with SQLCipher (key material in ``.tempkeyEncrypted`` beside it,
itself protected by the device); such a file gives the outcome "encrypted". A plaintext store (older releases, or a
copy decrypted elsewhere) is read: message time is the key's Unix-seconds timestamp, direction the message's
incoming flag. A message whose value cannot be decoded is kept with ``body`` None and ``extra["undecoded"]``.
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Contact, Message
from parsers.decoders.sqlcipher import HEAD_SIZE, is_sqlcipher
from parsers.decoders.telegram_postbox import INCOMING, decode_message, decode_object, message_key
from parsers.framework import Encrypted, Unsupported, open_readonly, parser, tables

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "iLEAPP scripts/artifacts/telegramMesssages.py; Telegram-iOS's published source (Postbox)"

APP = "ph.telegra.Telegraph"
PATHS = ["*/telegram-data/account-*/postbox/db/db_sqlite"]
MESSAGES, PEERS = "t7", "t2"


@parser(name="telegram-ios-messages", app=APP, platform="Telegram", paths=PATHS)
def messages(_, ctx):
    """Messages of every chat (t7), with author names from the peer table (t2)."""
    db = _open(ctx, MESSAGES)
    try:
        names = {peer: _display_name(fields) for peer, fields in _peers(db)}
        for key, value in db.execute(f"SELECT key, value FROM {MESSAGES} ORDER BY key"):
            yield from _message(ctx, _blob(key), _blob(value), names)
    finally:
        db.close()


@parser(name="telegram-ios-peers", app=APP, platform="Telegram", paths=PATHS)
def peers(_, ctx):
    """Users, groups and channels the account has seen (t2)."""
    db = _open(ctx, PEERS)
    try:
        for peer, fields in _peers(db):
            extra = {"type_hash": fields.get("@type"), "undecoded": fields.get("@undecoded")}
            yield Contact(app=ctx.app, platform=ctx.platform, user_id=str(peer), name=_display_name(fields),
                          handles=[fields["un"]] if fields.get("un") else [],
                          phones=[fields["p"]] if fields.get("p") else [],
                          extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov(PEERS, peer))
    finally:
        db.close()


def _open(ctx, table: str):
    with open(ctx.local, "rb") as handle:
        if is_sqlcipher(handle.read(HEAD_SIZE)):
            raise Encrypted("postbox database is encrypted")
    db = open_readonly(ctx.local)
    if table not in tables(db):
        db.close()
        raise Unsupported(f"postbox without table {table}")
    return db


def _message(ctx, key: bytes, value: bytes, names: dict):
    try:
        peer, namespace, stamp, message_id = message_key(key)
    except ValueError as exc:
        yield Message(app=ctx.app, platform=ctx.platform, extra={"undecoded": str(exc), "key": key.hex()},
                      prov=ctx.prov(MESSAGES, key.hex()))
        return
    extra = {"namespace": namespace, "message_id": message_id}
    try:
        message = decode_message(value)
    except ValueError as exc:
        message = {}
        extra["undecoded"] = str(exc)
    if message is None:  # a hole in the history, not a message
        return
    direction = author = None
    if message:
        direction = "incoming" if message["flags"] & INCOMING else "outgoing"
        author = message["author_id"]
        forward = message["forward"]
        extra.update({"flags": message["flags"], "tags": message["tags"], "stable_id": message["stable_id"],
                      "media_count": len(message["media"]), "attributes_count": len(message["attributes"]),
                      "referenced_media": message["referenced_media"] or None})
        if forward:
            sent = timestamps.unix_s(forward["date"])
            extra["forwarded_from"] = {"author_id": str(forward["author_id"]), "date": sent.iso if sent else None,
                                       "name": names.get(forward["author_id"])}
    sender = author if author is not None else (peer if direction == "incoming" else None)
    yield Message(
        app=ctx.app, platform=ctx.platform, thread_id=str(peer), thread_name=names.get(peer),
        sender=None if sender is None else str(sender), sender_name=names.get(sender),
        recipients=[str(peer)] if direction == "outgoing" else [], direction=direction,
        body=message.get("text") if message else None, ts=timestamps.unix_s(stamp),
        extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov(MESSAGES, key.hex()))


def _peers(db):
    """(peer id, decoded fields) per row of t2; an undecodable peer keeps its id with ``@undecoded``."""
    if PEERS not in tables(db):
        return
    for peer, value in db.execute(f"SELECT key, value FROM {PEERS} ORDER BY key"):
        try:
            fields = decode_object(_blob(value))
        except ValueError as exc:
            fields = {"@undecoded": str(exc)}
        yield peer, fields


def _blob(value) -> bytes:
    """A column value as bytes; an INTEGER or TEXT where a BLOB belongs is kept as its text, never expanded."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    return b"" if value is None else str(value).encode()


def _display_name(fields: dict) -> str | None:
    """A user's "first last" name, or a group's or channel's title."""
    name = " ".join(p for p in (fields.get("fn"), fields.get("ln")) if isinstance(p, str) and p)
    return name or (fields.get("t") if isinstance(fields.get("t"), str) else None) or None
