"""WhatsApp and WhatsApp Business for Android: ``msgstore.db`` (messages, calls) and ``wa.db`` (contacts).

Files: ``<package>/databases/msgstore.db`` and its companion ``wa.db`` for ``com.whatsapp`` and ``com.whatsapp.w4b``;
the package a record belongs to is taken from the path. ``msgstore.db`` exists in two generations:

- current (2021 onwards): ``message`` rows point into ``chat`` and ``jid`` by row id, with one side table per kind of
  content (``message_media``, ``message_location``, ``message_revoked``, ``message_system``, ``receipt_user``),
  groups in ``group_participant_user`` (older: ``group_participants``), calls in ``call_log``;
- legacy: one flat ``messages`` table keyed by ``key_remote_jid``, with ``chat_list`` and ``group_participants``.

Databases written during the migration carry both tables; the legacy parser then leaves the work to the current one
as soon as ``message`` holds rows, so no message is reported twice.

Every time is Unix milliseconds (``timestamps.unix_ms``). Message codes (``message_type``, legacy ``media_wa_type``,
``status``, ``call_result``) follow the public decoders (WhatsApp-Chat-Exporter, whapa, ALEAPP); codes nobody has
identified are reported as ``type N`` / ``status N`` rather than guessed.

Speed: one query per table with LEFT JOINs on the side tables' primary keys returns everything a message needs;
rows are streamed as tuples and names and group members come from dictionaries loaded once.
"""
from __future__ import annotations

import re
import sqlite3
from pathlib import PurePosixPath

from artifacts import timestamps
from artifacts.records import Call, Contact, Location, Message
from parsers.framework import columns, open_readonly, parser, tables

PLATFORM = "WhatsApp"
PACKAGES = ("com.whatsapp", "com.whatsapp.w4b")
MSGSTORE = [f"*/{package}/databases/msgstore.db" for package in PACKAGES]
WA_DB = [f"*/{package}/databases/wa.db" for package in PACKAGES]
_PACKAGE = re.compile(r"/(com\.whatsapp(?:\.w4b)?)/databases/", re.IGNORECASE)

# message.message_type and messages.media_wa_type (the codes are shared where both know them)
TYPES = {0: "text", 1: "image", 2: "audio", 3: "video", 4: "contact", 5: "location", 7: "system", 9: "document",
         10: "missed call", 13: "gif", 14: "contacts", 15: "revoked", 16: "live location", 20: "sticker",
         24: "group invite", 42: "view once image", 43: "view once video", 64: "revoked by admin", 66: "poll",
         81: "video note", 82: "view once audio", 90: "call", 92: "event", 99: "album"}
LEGACY_TYPES = {**TYPES, 8: "call"}
REVOKED_TYPES = {15, 64}
LOCATION_TYPES = {5, 16}
STATUS_SYSTEM = 6
STATUS_OUT = {0: "pending", 1: "pending", 4: "sent", 5: "delivered", 8: "played", 13: "read"}
STATUS_IN = {0: "received", 9: "played", 10: "played", 17: "opened on linked device"}
LEGACY_REVOKED_EDIT = 7  # messages.edit_version of a message deleted for everyone
CALL_RESULTS = {2: ("missed", False), 4: ("rejected", False), 5: ("answered", True)}
SOURCE_KIND = "whatsapp message"


def _package(ctx) -> str:
    found = _PACKAGE.search("/" + ctx.source.path)
    return found.group(1).lower() if found else ctx.app


# --- current schema ------------------------------------------------------------------------------------------------

@parser(name="whatsapp-android-messages", app=PACKAGES[0], platform=PLATFORM, paths=MSGSTORE,
        requires={"message": {"_id", "chat_row_id", "from_me", "timestamp", "message_type", "text_data"},
                  "chat": {"_id", "jid_row_id"}, "jid": {"_id", "raw_string"},
                  "message_location": {"message_row_id", "latitude", "longitude"}})
def messages(db, ctx):
    """Messages of the current schema, with their media, locations (also as Location records) and revocations."""
    app, names = _package(ctx), _contact_names(ctx)
    present = tables(db)
    members = _group_members(db, present)
    phone_of = _lid_to_phone(db, present)
    sql = _current_query(db, present)
    cursor = db.cursor()
    cursor.row_factory = None
    for (row_id, chat_row_id, from_me, key_id, sent, received, mtype, text, status, starred, chat_jid, subject,
         sender_jid, file_path, mime, size, caption, media_name, duration, lat, lon, place, address,
         live_duration, revoked, revoke_ts, revoked_by, action, read_ts) in cursor.execute(sql):
        is_revoked = revoked is not None or mtype in REVOKED_TYPES
        message_type = None if mtype is None else TYPES.get(mtype, f"type {mtype}")
        outgoing = bool(from_me)
        group = chat_jid is not None and chat_jid.endswith("@g.us")
        extra = {"key_id": key_id}
        if chat_jid is None:
            extra["chat_row_id"] = chat_row_id  # the chat row is gone: a deleted conversation's message
        if status is not None:
            extra["status_code"] = status
        if starred:
            extra["starred"] = True
        if action is not None:
            extra["system_action"] = action
        if is_revoked:
            if revoke_ts:
                extra["revoked_at"] = timestamps.unix_ms(revoke_ts).iso
            if revoked_by:
                extra["revoked_by"] = revoked_by
        if group and chat_jid in members:
            extra["group_participants"] = members[chat_jid]
        if phone_of:
            _add_phone_jids(extra, phone_of, chat_jid, sender_jid)
        if status == STATUS_SYSTEM or mtype == 7:  # a notice by WhatsApp itself: no author unless one is named
            sender, recipients = sender_jid, []
        else:
            sender, recipients = _parties(outgoing, group, chat_jid, sender_jid, members)
        attachments = []
        if file_path is not None or mime is not None or media_name is not None:
            attachments.append({"path": file_path, "mime_type": mime, "size": size, "name": media_name,
                                "caption": caption, "duration_s": duration})
        message_ts = timestamps.unix_ms(sent)
        yield Message(
            app=app, platform=PLATFORM, ts=message_ts, thread_id=chat_jid,
            thread_name=subject if group else _name(names, phone_of, chat_jid), sender=sender,
            sender_name=_name(names, phone_of, sender),
            recipients=recipients, direction="outgoing" if outgoing else "incoming", body=text,
            message_type=message_type, attachments=attachments,
            status="revoked" if is_revoked else _status(status, outgoing), deleted=is_revoked,
            received_ts=None if outgoing else timestamps.unix_ms(received),
            read_ts=timestamps.unix_ms(read_ts) if outgoing and read_ts else None,
            extra=extra, prov=ctx.prov("message", row_id))
        if lat is not None and lon is not None and (lat or lon):
            extra = {"thread_id": chat_jid, "sender": sender, "direction": "outgoing" if outgoing else "incoming",
                     "message_type": message_type, "key_id": key_id}
            if live_duration:
                extra["live_duration_s"] = live_duration
            yield Location(app=app, ts=message_ts, latitude=lat, longitude=lon,
                           label=", ".join(p for p in (place, address) if p) or None, source_kind=SOURCE_KIND,
                           extra=extra, prov=ctx.prov("message_location", row_id))


def _current_query(db, present: set[str]) -> str:
    """One SELECT over message and its side tables; a side table or column the database lacks reads as NULL."""
    have = {table: columns(db, table) if table in present else set()
            for table in ("message", "chat", "message_media", "message_location", "message_revoked",
                          "message_system", "receipt_user")}

    def col(table: str, alias: str, name: str) -> str:
        return f"{alias}.{name}" if name in have[table] else "NULL"

    joins = ["LEFT JOIN chat c ON c._id = m.chat_row_id", "LEFT JOIN jid cj ON cj._id = c.jid_row_id",
             "LEFT JOIN message_location ml ON ml.message_row_id = m._id"]
    if "sender_jid_row_id" in have["message"]:
        joins.append("LEFT JOIN jid sj ON sj._id = m.sender_jid_row_id")
    for table, alias in (("message_media", "mm"), ("message_revoked", "mr"), ("message_system", "ms")):
        if have[table]:
            joins.append(f"LEFT JOIN {table} {alias} ON {alias}.message_row_id = m._id")
    if "admin_jid_row_id" in have["message_revoked"]:
        joins.append("LEFT JOIN jid aj ON aj._id = mr.admin_jid_row_id")
    size = col("message_media", "mm", "file_size")
    if "file_length" in have["message_media"]:  # some rows only fill file_length
        size = f"COALESCE(NULLIF({size}, 0), mm.file_length)"
    read = "NULL"
    if "read_timestamp" in have["receipt_user"]:  # the first recipient to read an outgoing message
        read = ("CASE WHEN m.from_me = 1 THEN (SELECT MIN(NULLIF(read_timestamp, 0)) FROM receipt_user "
                "WHERE message_row_id = m._id) END")
    fields = [
        "m._id", "m.chat_row_id", "m.from_me", col("message", "m", "key_id"), "m.timestamp",
        col("message", "m", "received_timestamp"), "m.message_type", "m.text_data", col("message", "m", "status"),
        col("message", "m", "starred"), "cj.raw_string", col("chat", "c", "subject"),
        "sj.raw_string" if "sender_jid_row_id" in have["message"] else "NULL",
        col("message_media", "mm", "file_path"), col("message_media", "mm", "mime_type"), size,
        col("message_media", "mm", "media_caption"), col("message_media", "mm", "media_name"),
        col("message_media", "mm", "media_duration"),
        "ml.latitude", "ml.longitude", col("message_location", "ml", "place_name"),
        col("message_location", "ml", "place_address"), col("message_location", "ml", "live_location_share_duration"),
        col("message_revoked", "mr", "message_row_id"), col("message_revoked", "mr", "revoke_timestamp"),
        "aj.raw_string" if "admin_jid_row_id" in have["message_revoked"] else "NULL",
        col("message_system", "ms", "action_type"), read,
    ]
    # chat_row_id -1 is the app's own placeholder row, not a message
    return (f"SELECT {', '.join(fields)} FROM message m {' '.join(joins)} "
            f"WHERE m.chat_row_id IS NOT -1 ORDER BY m._id")


def _group_members(db, present: set[str]) -> dict[str, list[str]]:
    """Group JID → member JIDs as the database holds them now (membership at extraction time, not per message)."""
    members: dict[str, list[str]] = {}
    if "group_participant_user" in present:
        rows = db.execute("SELECT g.raw_string, u.raw_string FROM group_participant_user p "
                          "JOIN jid g ON g._id = p.group_jid_row_id JOIN jid u ON u._id = p.user_jid_row_id "
                          "ORDER BY p._id")
    elif "group_participants" in present:
        rows = db.execute("SELECT gjid, jid FROM group_participants ORDER BY _id")
    else:
        return members
    for group, member in rows:
        if group and member:  # the owner's own membership is stored with an empty jid
            members.setdefault(group, []).append(member)
    return members


def _lid_to_phone(db, present: set[str]) -> dict[str, str]:
    """Hidden-identity JIDs (``…@lid``) → the phone-number JID ``jid_map`` links them to."""
    if "jid_map" not in present:
        return {}
    return dict(db.execute("SELECT l.raw_string, p.raw_string FROM jid_map m JOIN jid l ON l._id = m.lid_row_id "
                           "JOIN jid p ON p._id = m.jid_row_id"))


def _add_phone_jids(extra: dict, phone_of: dict, chat_jid, sender_jid) -> None:
    if chat_jid in phone_of:
        extra["chat_phone_jid"] = phone_of[chat_jid]
    if sender_jid in phone_of:
        extra["sender_phone_jid"] = phone_of[sender_jid]


def _name(names: dict, phone_of: dict, jid) -> str | None:
    """The contact name of a JID, or of the phone-number JID a hidden ``@lid`` identity maps to."""
    return names.get(jid) or names.get(phone_of.get(jid))


def _parties(outgoing: bool, group: bool, chat_jid, sender_jid, members) -> tuple[str | None, list]:
    """(sender, recipients): the owner sends with sender None, to the chat or the group's members; an incoming group
    message names its author, an incoming one-to-one message comes from the chat's JID."""
    if outgoing:
        if group and chat_jid in members:
            return None, list(members[chat_jid])
        return None, [chat_jid] if chat_jid else []
    if group or sender_jid:
        return sender_jid, []
    return chat_jid, []


def _status(code, outgoing: bool) -> str | None:
    if code is None:
        return None
    if code == STATUS_SYSTEM:
        return "system"
    return (STATUS_OUT if outgoing else STATUS_IN).get(code, f"status {code}")


# --- legacy schema -------------------------------------------------------------------------------------------------

@parser(name="whatsapp-android-messages-legacy", app=PACKAGES[0], platform=PLATFORM, paths=MSGSTORE,
        requires={"messages": {"_id", "key_remote_jid", "key_from_me", "data", "timestamp"}})
def legacy_messages(db, ctx):
    """Messages of the flat legacy ``messages`` table (before the 2021 migration), with locations and media."""
    present = tables(db)
    if "message" in present and db.execute("SELECT 1 FROM message WHERE chat_row_id IS NOT -1 LIMIT 1").fetchone():
        return  # a migrated database: whatsapp-android-messages reads the same messages from `message`
    app, names = _package(ctx), _contact_names(ctx)
    members = _group_members(db, present)
    have = columns(db, "messages")
    wanted = ("received_timestamp", "remote_resource", "media_url", "media_mime_type", "media_wa_type", "media_size",
              "media_name", "media_caption", "latitude", "longitude", "status", "read_device_timestamp",
              "edit_version", "key_id", "starred")
    fields = ", ".join(f"x.{name}" if name in have else "NULL" for name in wanted)
    subject = "cl.subject" if "subject" in columns(db, "chat_list") else "NULL"
    join = "LEFT JOIN chat_list cl ON cl.key_remote_jid = x.key_remote_jid" if subject != "NULL" else ""
    cursor = db.cursor()
    cursor.row_factory = None
    for (row_id, chat_jid, from_me, text, sent, received, resource, media_url, mime, wa_type, size, media_name,
         caption, lat, lon, status, read_ts, edit_version, key_id, starred, group_subject) in cursor.execute(
            f"SELECT x._id, x.key_remote_jid, x.key_from_me, x.data, x.timestamp, {fields}, {subject} "
            f"FROM messages x {join} WHERE x.key_remote_jid IS NOT '-1' ORDER BY x._id"):
        mtype = _int(wa_type)
        outgoing = bool(from_me)
        group = (chat_jid or "").endswith("@g.us")
        is_revoked = mtype == 15 or edit_version == LEGACY_REVOKED_EDIT
        if status == STATUS_SYSTEM:
            message_type = "system"
        else:
            message_type = None if wa_type is None else LEGACY_TYPES.get(mtype, f"type {wa_type}")
        extra = {"key_id": key_id}
        if status is not None:
            extra["status_code"] = status
        if starred:
            extra["starred"] = True
        if group and chat_jid in members:
            extra["group_participants"] = members[chat_jid]
        if status == STATUS_SYSTEM:
            sender, recipients = resource or None, []
        else:
            sender, recipients = _parties(outgoing, group, chat_jid, resource or None, members)
        attachments = []
        if media_url or mime or media_name:
            attachments.append({"url": media_url, "mime_type": mime, "size": size, "name": media_name,
                                "caption": caption})
        message_ts = timestamps.unix_ms(sent)
        yield Message(
            app=app, platform=PLATFORM, ts=message_ts, thread_id=chat_jid,
            thread_name=group_subject if group else names.get(chat_jid), sender=sender,
            sender_name=names.get(sender), recipients=recipients, direction="outgoing" if outgoing else "incoming",
            body=text, message_type="revoked" if is_revoked else message_type, attachments=attachments,
            status="revoked" if is_revoked else _status(status, outgoing), deleted=is_revoked,
            received_ts=None if outgoing else timestamps.unix_ms(received),
            read_ts=timestamps.unix_ms(read_ts) if outgoing and read_ts else None,
            extra=extra, prov=ctx.prov("messages", row_id))
        if mtype in LOCATION_TYPES and lat is not None and lon is not None and (lat or lon):
            yield Location(app=app, ts=message_ts, latitude=lat, longitude=lon, label=media_name or None,
                           source_kind=SOURCE_KIND,
                           extra={"thread_id": chat_jid, "sender": sender,
                                  "direction": "outgoing" if outgoing else "incoming",
                                  "message_type": message_type, "key_id": key_id},
                           prov=ctx.prov("messages", row_id))


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- calls ---------------------------------------------------------------------------------------------------------

@parser(name="whatsapp-android-calls", app=PACKAGES[0], platform=PLATFORM, paths=MSGSTORE,
        requires={"call_log": {"_id", "jid_row_id", "from_me", "timestamp", "video_call", "duration"},
                  "jid": {"_id", "raw_string"}})
def calls(db, ctx):
    """Voice and video calls from ``call_log``; group calls list the other participants as peers."""
    app, names = _package(ctx), _contact_names(ctx)
    present = tables(db)
    have = columns(db, "call_log")
    fields = ", ".join(f"c.{name}" if name in have else "NULL" for name in ("call_result", "call_id"))
    group = "g.raw_string" if "group_jid_row_id" in have else "NULL"
    group_join = "LEFT JOIN jid g ON g._id = c.group_jid_row_id" if group != "NULL" else ""
    participants: dict[int, list[str]] = {}
    if "call_log_participant_v2" in present:
        for call_row, jid in db.execute("SELECT p.call_log_row_id, j.raw_string FROM call_log_participant_v2 p "
                                        "JOIN jid j ON j._id = p.jid_row_id ORDER BY p._id"):
            participants.setdefault(call_row, []).append(jid)
    for row_id, peer, from_me, when, video, duration, result, call_id, group_jid in db.execute(
            f"SELECT c._id, j.raw_string, c.from_me, c.timestamp, c.video_call, c.duration, {fields}, {group} "
            f"FROM call_log c LEFT JOIN jid j ON j._id = c.jid_row_id {group_join} ORDER BY c._id"):
        outgoing = bool(from_me)
        status, answered = CALL_RESULTS.get(result, (None if result is None else f"call_result {result}", None))
        if status == "missed" and outgoing:
            status = "unanswered"
        if answered is None and duration:
            answered = True  # a call that lasted was answered, whatever its result code
        peers = [peer] if peer else []
        peers += [p for p in participants.get(row_id, ()) if p not in peers]
        extra = {key: value for key, value in (("call_id", call_id), ("call_result", result)) if value is not None}
        if group_jid:
            extra["group_jid"] = group_jid
        yield Call(app=app, platform=PLATFORM, ts=timestamps.unix_ms(when), peers=peers,
                   peer_name=names.get(peer), direction="outgoing" if outgoing else "incoming",
                   call_type="video" if video else "audio", duration_s=duration, answered=answered, status=status,
                   extra=extra, prov=ctx.prov("call_log", row_id))


# --- wa.db ---------------------------------------------------------------------------------------------------------

_CONTACT_FIELDS = ("number", "display_name", "wa_name", "given_name", "family_name", "nickname", "status",
                   "status_timestamp", "company", "title", "is_whatsapp_user")


@parser(name="whatsapp-android-contacts", app=PACKAGES[0], platform=PLATFORM, paths=WA_DB,
        requires={"wa_contacts": {"jid"}})
def contacts(db, ctx):
    """WhatsApp's contact list (``wa_contacts``): address-book name, the contact's own WhatsApp name and status."""
    app = _package(ctx)
    have = columns(db, "wa_contacts")
    fields = ", ".join(name if name in have else "NULL" for name in _CONTACT_FIELDS)
    cursor = db.cursor()
    cursor.row_factory = None
    for (row_id, jid, number, display_name, wa_name, given, family, nickname, status, status_ts, company, title,
         is_user) in cursor.execute(f"SELECT rowid, jid, {fields} FROM wa_contacts ORDER BY rowid"):
        extra = {key: value for key, value in (("wa_name", wa_name), ("given_name", given), ("family_name", family),
                                               ("nickname", nickname), ("status", status), ("title", title))
                 if value}
        status_time = timestamps.unix_ms(status_ts)
        if status_time:
            extra["status_ts"] = status_time.iso
        if is_user is not None:
            extra["is_whatsapp_user"] = bool(is_user)
        yield Contact(app=app, platform=PLATFORM, name=display_name or None, phones=[number] if number else [],
                      user_id=jid, organization=company or None, extra=extra, prov=ctx.prov("wa_contacts", row_id))


def _contact_names(ctx) -> dict[str, str]:
    """JID → the name WhatsApp shows for it, from the ``wa.db`` in the same folder as this ``msgstore.db``.

    A missing or unreadable ``wa.db`` only means messages carry no names: that file's own parser run reports why.
    """
    folder = PurePosixPath(ctx.source.path).parent
    companions = [s for s in ctx.find(f"*/{_package(ctx)}/databases/wa.db")
                  if s.partition == ctx.source.partition and PurePosixPath(s.path).parent == folder]
    if not companions:
        return {}
    try:
        db = open_readonly(companions[0].local)
    except sqlite3.DatabaseError:
        return {}
    try:
        have = columns(db, "wa_contacts")
        if "jid" not in have:
            return {}
        shown = [c if c in have else "NULL" for c in ("display_name", "wa_name")]
        return {jid: display or wa_name
                for jid, display, wa_name in db.execute(f"SELECT jid, {', '.join(shown)} FROM wa_contacts "
                                                         f"ORDER BY rowid")
                if display or wa_name}
    except sqlite3.DatabaseError:
        return {}
    finally:
        db.close()
