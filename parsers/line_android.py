"""LINE for Android: ``jp.naver.line.android/databases/naver_line`` (chats, contacts) and ``call_history``.

naver_line: ``chat_history`` rows belong to ``chat_id`` (a user mid ``u...`` for one-to-one chats, a group or room
id otherwise). ``from_mid`` is the sender's mid and is empty on everything the account itself sent, which is what
decides the direction: ``status`` is 1/2 on older builds but a constant 3 on newer ones (kept raw). Names come from
``chat.chat_name``, ``groups.name`` and ``contacts`` (newer builds move contacts to another database and leave this
table empty); group members from ``membership`` and ``chat_member``. Observed ``type``/``attachement_type`` [sic]
values: type 4 is a call message whose ``parameter`` holds tab-separated ``KEY\\tvalue`` pairs (TYPE A/V,
RESULT, DURATION in ms); attachment type 1 an image, 15 a location (latitude/longitude stored as degrees x 1e6).

call_history: ``call_type`` ends in O (outgoing) or I (incoming); ``voip_type`` V video, A audio, G group call (its
media type in ``voip_gc_media_type``, kept raw); ``result`` kept raw.

Times: ``created_time``, ``start_time`` and ``end_time`` are Unix milliseconds stored as text.
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Call, Contact, Location, Message
from parsers.framework import columns, optional_columns, parser, tables
from artifacts.sql_quoting import ident

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "ALEAPP scripts/artifacts/line.py"

APP = "jp.naver.line.android"
PLATFORM = "LINE"
_CALL_MESSAGE = 4
_ATTACHMENT_KINDS = {1: "image", 15: "location"}
_LOCATION_SCALE = 1_000_000
_CALL_DIRECTIONS = {"O": "outgoing", "I": "incoming"}
_VOIP_TYPES = {"V": "video", "A": "audio"}


@parser(name="line-android-messages", app=APP, platform=PLATFORM,
        paths=["*/jp.naver.line.android/databases/naver_line"],
        requires={"chat_history": {"id", "chat_id", "from_mid", "content", "created_time"}})
def messages(db, ctx):
    """Chat messages and shared locations (chat_history, with chat, groups, contacts and membership)."""
    names = _contact_names(db)
    titles = {**_pairs(db, "groups", "id", "name"), **_pairs(db, "chat", "chat_id", "chat_name")}
    members: dict[str, list[str]] = {}
    for table, key, mid in (("membership", "id", "m_id"), ("chat_member", "chat_id", "mid")):
        for chat, member in _pairs(db, table, key, mid, unique=False):
            if member not in members.setdefault(chat, []):
                members[chat].append(member)
    optional = optional_columns(db, "chat_history",
                                ("server_id", "type", "status", "delivered_time", "attachement_type",
                                 "attachement_local_uri", "location_name", "location_address", "location_latitude",
                                 "location_longitude", "parameter"))
    for row in db.execute(f"SELECT id, chat_id, from_mid, content, created_time, {optional} FROM chat_history "
                          f"ORDER BY id"):
        chat, sender = row["chat_id"], row["from_mid"] or None
        outgoing = sender is None
        recipients = [] if not outgoing else members.get(chat) or ([chat] if chat and chat.startswith("u") else [])
        extra = {k: row[k] for k in ("server_id", "type", "status", "attachement_type", "delivered_time")
                 if row[k] is not None}
        kind = "call" if row["type"] == _CALL_MESSAGE else _ATTACHMENT_KINDS.get(row["attachement_type"])
        if kind == "call":
            extra["call"] = _call_parameters(row["parameter"])
        ts = timestamps.unix_ms(row["created_time"])
        prov = ctx.prov("chat_history", row["id"])
        yield Message(app=ctx.app, platform=ctx.platform, thread_id=chat, thread_name=titles.get(chat),
                      sender=sender, sender_name=names.get(sender), recipients=recipients,
                      direction="outgoing" if outgoing else "incoming", body=row["content"], message_type=kind,
                      ts=ts, attachments=[{"path": row["attachement_local_uri"]}] if row["attachement_local_uri"]
                      else [], extra=extra, prov=prov)
        if kind == "location" and row["location_latitude"] is not None and row["location_longitude"] is not None:
            yield Location(app=ctx.app, ts=ts, latitude=row["location_latitude"] / _LOCATION_SCALE,
                           longitude=row["location_longitude"] / _LOCATION_SCALE,
                           label=row["location_name"] or row["location_address"], source_kind="chat message",
                           extra={"address": row["location_address"], "thread_id": chat, "sender": sender},
                           prov=prov)


@parser(name="line-android-contacts", app=APP, platform=PLATFORM,
        paths=["*/jp.naver.line.android/databases/naver_line"], requires={"contacts": {"m_id"}})
def contacts(db, ctx):
    """LINE friends and other known users (contacts)."""
    have = columns(db, "contacts")
    fields = [c for c in ("name", "server_name", "custom_name", "addressbook_name", "status_msg", "relation",
                          "status", "hidden", "favorite") if c in have]
    for row in db.execute(f"SELECT _rowid_ AS row_id, m_id{''.join(f', {c}' for c in fields)} FROM contacts "
                          f"ORDER BY _rowid_"):
        values = {c: row[c] for c in fields if row[c] is not None}
        yield Contact(app=ctx.app, platform=ctx.platform, user_id=row["m_id"], name=_best_name(values),
                      extra=values, prov=ctx.prov("contacts", row["row_id"]))


@parser(name="line-android-calls", app=APP, platform=PLATFORM,
        paths=["*/jp.naver.line.android/databases/call_history"],
        requires={"call_history": {"id", "call_type", "caller_mid", "start_time", "end_time", "voip_type"}})
def calls(db, ctx):
    """Call log (call_history)."""
    optional = optional_columns(db, "call_history",
                                ("caller_name", "phone_number", "duration", "voip_gc_media_type", "result"))
    for row in db.execute(f"SELECT id, call_type, caller_mid, start_time, end_time, voip_type, {optional} "
                          f"FROM call_history ORDER BY id"):
        start, end = timestamps.unix_ms(row["start_time"]), timestamps.unix_ms(row["end_time"])
        peer = row["caller_mid"] or row["phone_number"]
        extra = {k: row[k] for k in ("call_type", "voip_type", "voip_gc_media_type", "duration", "phone_number")
                 if row[k] is not None}
        if end:
            extra["end"] = end.iso
        yield Call(app=ctx.app, platform=ctx.platform, ts=start, peers=[peer] if peer else [],
                   peer_name=row["caller_name"], direction=_CALL_DIRECTIONS.get(str(row["call_type"] or "")[-1:]),
                   call_type=_VOIP_TYPES.get(row["voip_type"]),
                   duration_s=_seconds_between(row["start_time"], row["end_time"]) if start and end else None,
                   status=row["result"], extra=extra, prov=ctx.prov("call_history", row["id"]))


def _pairs(db, table: str, key: str, value: str, unique: bool = True):
    """(key, value) rows of a table that may be missing; as a dict when ``unique``."""
    if not {key, value} <= columns(db, table):
        return {} if unique else []
    rows = [(r[0], r[1]) for r in db.execute(f"SELECT {key}, {value} FROM {ident(table)} ORDER BY _rowid_")
            if r[0] is not None and r[1] is not None]
    return dict(rows) if unique else rows


def _contact_names(db) -> dict[str, str]:
    if "contacts" not in tables(db):
        return {}
    have = columns(db, "contacts")
    fields = [c for c in ("custom_name", "name", "server_name", "addressbook_name") if c in have]
    if not fields:
        return {}
    return {r["m_id"]: _best_name(dict(r)) for r in db.execute(f"SELECT m_id, {', '.join(fields)} FROM contacts")
            if _best_name(dict(r))}


def _best_name(values: dict) -> str | None:
    """The name the account gave the person, else the one they chose, else the address-book one."""
    return next((values[c] for c in ("custom_name", "name", "server_name", "addressbook_name") if values.get(c)), None)


def _call_parameters(parameter) -> dict:
    parts = str(parameter or "").split("\t")
    return dict(zip(parts[0::2], parts[1::2]))


def _seconds_between(start, end) -> float | None:
    try:
        return (int(str(end)) - int(str(start))) / 1000
    except ValueError:
        return None
