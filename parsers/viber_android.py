"""Viber for Android: ``com.viber.voip/databases/viber_messages`` (chats) and ``viber_data`` (call log, address
book). Only these exact basenames: ``viberpay_data`` and ``viber_unicode_emoji_data`` live in the same folder.

viber_messages: ``messages.participant_id`` points at ``participants``, whose ``participant_info_id`` points at
``participants_info`` (``number``, ``member_id``, names); ``send_type`` is 0 for received and 1 for sent, so the
participant of a sent message is the account itself. The other participants of the conversation are the
recipients. Older builds (before ``conversations``/``participants``) kept ``messages(address, date, type)``; that
layout is reported as an unsupported version.

viber_data: ``calls.type`` 1 incoming, 2 outgoing (other values are kept raw), ``viber_call_type`` 1 audio,
4 video, ``duration`` in seconds; ``phonebookcontact`` ⋈ ``phonebookdata`` (``mime_type`` 0 rows are phone numbers:
``data1`` as typed, ``data2`` canonical).

Times: ``msg_date`` and ``calls.date`` are Unix milliseconds.
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Call, Contact, Message
from parsers.framework import columns, optional_columns, parser, tables

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "ALEAPP scripts/artifacts/Viber.py"

APP = "com.viber.voip"
PLATFORM = "Viber"
_SEND_TYPES = {0: "incoming", 1: "outgoing"}
_CALL_DIRECTIONS = {1: "incoming", 2: "outgoing"}
_CALL_MEDIA = {1: "audio", 4: "video"}
_PHONE_MIME = 0


@parser(name="viber-android-messages", app=APP, platform=PLATFORM,
        paths=["*/com.viber.voip/databases/viber_messages"],
        requires={"messages": {"_id", "conversation_id", "participant_id", "msg_date", "send_type", "body"},
                  "participants": {"_id", "conversation_id", "participant_info_id"},
                  "participants_info": {"_id", "number"}})
def messages(db, ctx):
    """Chat messages (messages, participants, participants_info, conversations)."""
    people = _participants(db)
    members: dict[int, list[int]] = {}
    for row in db.execute("SELECT _id, conversation_id FROM participants ORDER BY _id"):
        members.setdefault(row["conversation_id"], []).append(row["_id"])
    names = {}
    if "conversations" in tables(db) and "name" in columns(db, "conversations"):
        names = {r["_id"]: r["name"] for r in db.execute("SELECT _id, name FROM conversations")}
    optional = optional_columns(db, "messages", ("unread", "deleted", "extra_uri", "extra_mime", "token",
                                                 "location_lat", "location_lng", "read_message_time"))
    for row in db.execute(f"SELECT _id, conversation_id, participant_id, msg_date, send_type, body, {optional} "
                          f"FROM messages ORDER BY _id"):
        sender_id, sender_name = people.get(row["participant_id"], (None, None))
        recipients = [people[p][0] for p in members.get(row["conversation_id"], [])
                      if p != row["participant_id"] and p in people and people[p][0]]
        extra = {k: row[k] for k in ("unread", "token", "extra_mime", "location_lat", "location_lng")
                 if row[k] not in (None, 0)}
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=str(row["conversation_id"]),
            thread_name=names.get(row["conversation_id"]), sender=sender_id, sender_name=sender_name,
            recipients=recipients, direction=_SEND_TYPES.get(row["send_type"]),
            status=None if row["send_type"] in _SEND_TYPES else f"send_type {row['send_type']}",
            body=row["body"], ts=timestamps.unix_ms(row["msg_date"]), deleted=bool(row["deleted"]),
            read_ts=timestamps.unix_ms(row["read_message_time"]),
            attachments=[{"path": row["extra_uri"]}] if row["extra_uri"] else [],
            extra=extra, prov=ctx.prov("messages", row["_id"]))


def _participants(db) -> dict[int, tuple[str | None, str | None]]:
    """participants._id -> (number or member id, best display name)."""
    have = columns(db, "participants_info")
    pick = [c for c in ("contact_name", "display_name", "viber_name") if c in have]
    name = f"COALESCE({', '.join(pick)})" if pick else "NULL"
    member = "i.member_id" if "member_id" in have else "NULL"
    people = {}
    for row in db.execute(f"SELECT p._id, i.number, {member} AS member_id, {name} AS name FROM participants p "
                          f"JOIN participants_info i ON i._id = p.participant_info_id ORDER BY p._id"):
        people[row["_id"]] = (row["number"] or row["member_id"], row["name"])
    return people


@parser(name="viber-android-calls", app=APP, platform=PLATFORM, paths=["*/com.viber.voip/databases/viber_data"],
        requires={"calls": {"_id", "number", "date", "duration", "type"}})
def calls(db, ctx):
    """Call log (calls)."""
    optional = optional_columns(db, "calls",
                                ("canonized_number", "viber_call_type", "end_reason", "start_reason", "call_id"))
    for row in db.execute(f"SELECT _id, number, date, duration, type, {optional} FROM calls ORDER BY _id"):
        peer = row["canonized_number"] or row["number"]
        extra = {k: row[k] for k in ("number", "end_reason", "start_reason", "viber_call_type", "call_id")
                 if row[k] is not None}
        yield Call(app=ctx.app, platform=ctx.platform, ts=timestamps.unix_ms(row["date"]),
                   peers=[peer] if peer else [], direction=_CALL_DIRECTIONS.get(row["type"]),
                   call_type=_CALL_MEDIA.get(row["viber_call_type"]),
                   duration_s=float(row["duration"]) if row["duration"] is not None else None,
                   status=None if row["type"] in _CALL_DIRECTIONS else f"type {row['type']}",
                   extra=extra, prov=ctx.prov("calls", row["_id"]))


@parser(name="viber-android-contacts", app=APP, platform=PLATFORM, paths=["*/com.viber.voip/databases/viber_data"],
        requires={"phonebookcontact": {"_id", "display_name"},
                  "phonebookdata": {"contact_id", "data1", "data2", "mime_type"}})
def contacts(db, ctx):
    """Address book as Viber copied it (phonebookcontact, phonebookdata)."""
    numbers: dict[int, list[str]] = {}
    for row in db.execute("SELECT contact_id, data1, data2 FROM phonebookdata WHERE mime_type = ? ORDER BY _rowid_",
                          [_PHONE_MIME]):
        number = row["data2"] or row["data1"]
        if number and number not in numbers.setdefault(row["contact_id"], []):
            numbers[row["contact_id"]].append(number)
    viber_flag = "viber" if "viber" in columns(db, "phonebookcontact") else "NULL"
    for row in db.execute(f"SELECT _id, display_name, {viber_flag} AS viber FROM phonebookcontact ORDER BY _id"):
        yield Contact(app=ctx.app, platform=ctx.platform, name=row["display_name"],
                      phones=numbers.get(row["_id"], []),
                      extra={"viber_user": bool(row["viber"])} if row["viber"] is not None else {},
                      prov=ctx.prov("phonebookcontact", row["_id"]))
