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

Speed: a current-schema ``msgstore.db`` can hold millions of messages, so its messages and their locations are
mapped in SQL (``ctx.bulk``) and copied into the store by SQLite without a Python object per row. The legacy schema
(small, old databases), calls and contacts stream rows as tuples through Python.
"""
from __future__ import annotations

import json
import re
import sqlite3
from pathlib import PurePosixPath

from artifacts import timestamps
from artifacts.records import Call, Contact, Location, Message
from parsers.framework import columns, open_readonly, parser, tables

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "ALEAPP scripts/artifacts/WhatsApp.py"

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
#
# A msgstore.db can hold millions of messages, so both mappings below run inside SQLite (``ctx.bulk``): the store
# copies the rows with one INSERT ... SELECT. Only wa.db's contact names are read in Python (a few thousand rows,
# through the same tolerant reader the calls use) and reach the query as one JSON parameter.

MESSAGE_TIMES = {"ts": "unix_ms", "received_ts": "unix_ms", "read_ts": "unix_ms"}
LOCATION_TIMES = {"ts": "unix_ms"}
_CURRENT_TABLES = ("message", "chat", "jid_map", "message_media", "message_location", "message_revoked",
                   "message_system", "receipt_user", "group_participant_user", "group_participants")


@parser(name="whatsapp-android-messages", app=PACKAGES[0], platform=PLATFORM, paths=MSGSTORE,
        requires={"message": {"_id", "chat_row_id", "from_me", "timestamp", "message_type", "text_data"},
                  "chat": {"_id", "jid_row_id"}, "jid": {"_id", "raw_string"},
                  "message_location": {"message_row_id", "latitude", "longitude"}},
        carve=("message",))
def messages(db, ctx):
    """Messages of the current schema, with their media, locations (also as Location records) and revocations."""
    present = tables(db)
    have = {table: columns(db, table) if table in present else set() for table in _CURRENT_TABLES}
    params = (json.dumps(_contact_names(ctx), ensure_ascii=False, sort_keys=True), _package(ctx))
    yield ctx.bulk(Message, "message", _message_sql(have), params, times=MESSAGE_TIMES, order_by="source_row")
    # (not ordered by source_row here: the planner would then walk every message rather than the few locations)
    yield ctx.bulk(Location, "message_location", _location_sql(have), params, times=LOCATION_TIMES)


def _code_name(code: str, names: dict[int, str], unknown: str) -> str:
    """SQL giving the name of a numeric code, ``<unknown> N`` for a code not in ``names``, NULL for NULL."""
    cases = " ".join(f"WHEN {number} THEN '{name}'" for number, name in sorted(names.items()))
    return f"CASE {code} {cases} ELSE '{unknown} ' || {code} END"


def _json_with(base: str, optional: dict[str, str], tails: tuple[str, ...] = ()) -> str:
    """SQL for the JSON object ``base`` plus each member of ``optional`` whose value is not NULL, appended in
    order, then ``tails`` (SQL giving ready members as text, ``,"key":value...``, or NULL): the text
    ``json_patch(base, json_object(...))`` gives, without parsing any JSON.

    ``json_quote`` writes a value exactly as ``json_object`` does (both use SQLite's one JSON value writer), so
    the members are spliced in as text before ``base``'s closing brace, which ``rtrim`` finds because the last
    value of ``base`` is a plain SQL value (text, number or null: never ends in a brace). Rows without any
    member to add (most) take ``base`` as it is.
    """
    values = ", ".join([*optional.values(), *tails, "NULL"])
    members = [f"CASE WHEN {value} IS NULL THEN '' ELSE ',\"{key}\":' || json_quote({value}) END"
               for key, value in optional.items()] + [f"IFNULL({tail}, '')" for tail in tails]
    return (f"CASE WHEN COALESCE({values}) IS NULL THEN {base} "
            f"ELSE rtrim({base}, '}}') || {' || '.join(members)} || '}}' END")


def _reader(have: dict[str, set[str]]):
    """``col(table, alias, column)``: the column in SQL, or NULL when this database lacks it."""
    def col(table: str, alias: str, name: str) -> str:
        return f"{alias}.{name}" if name in have[table] else "NULL"
    return col


def _facts_sql(have: dict[str, set[str]]) -> str:
    """The WITH clause both mappings share: one row per message (``fact``) with its chat, author and type resolved.

    ``person`` gives every jid row its raw JID, the phone-number JID a hidden ``@lid`` identity maps to (jid_map)
    and the name wa.db shows for either; ``thread`` gives every chat its JID, whether it is a group, its subject
    and its members (as the database holds them now, not per message; the owner's own row has an empty jid). Both
    are small and materialized once, so each of the millions of messages costs two indexed look-ups; what a message
    takes from them unchanged (the recipients of an outgoing message, the ``extra`` members naming the chat's
    members and phone-number JIDs) is written there once per chat or JID rather than once per message.
    """
    col = _reader(have)
    if {"lid_row_id", "jid_row_id"} <= have["jid_map"]:
        phone = ("(SELECT p.raw_string FROM src.jid_map lm JOIN src.jid p ON p._id = lm.jid_row_id "
                 "WHERE lm.lid_row_id = j._id)")
    else:
        phone = "NULL"
    if have["group_participant_user"]:
        members = ("SELECT u.raw_string AS member FROM src.group_participant_user gp "
                   "JOIN src.jid g ON g._id = gp.group_jid_row_id JOIN src.jid u ON u._id = gp.user_jid_row_id "
                   "WHERE g.raw_string = c.jid AND u.raw_string <> '' ORDER BY gp._id")
    elif have["group_participants"]:
        members = "SELECT jid AS member FROM src.group_participants WHERE gjid = c.jid AND jid <> '' ORDER BY _id"
    else:
        members = "SELECT NULL AS member WHERE 0"
    notice = "(m.status IS 6 OR m.message_type IS 7)"  # a notice by WhatsApp itself: no author unless one is named
    # whose JID is the author's: the named sender's, or for an incoming one-to-one message the chat's
    author = (f"CASE WHEN {notice} THEN 'sender' WHEN m.from_me THEN NULL "
              f"WHEN t.is_group OR s.jid <> '' THEN 'sender' ELSE 'chat' END")
    return f"""
    WITH arg(names) AS (SELECT ?),
    contact(jid, name) AS MATERIALIZED (SELECT key, value FROM json_each((SELECT names FROM arg))),
    jid_phone(jid_row_id, jid, phone_jid) AS (SELECT j._id, j.raw_string, {phone} FROM src.jid j),
    person(jid_row_id, jid, phone_jid, name, extra_tail) AS MATERIALIZED (
        SELECT j.jid_row_id, j.jid, j.phone_jid, COALESCE(n.name, pn.name),
               CASE WHEN j.phone_jid IS NOT NULL THEN ',"sender_phone_jid":' || json_quote(j.phone_jid) END
        FROM jid_phone j
        LEFT JOIN contact n ON n.jid = j.jid LEFT JOIN contact pn ON pn.jid = j.phone_jid),
    chat_jid(chat_row_id, jid, phone_jid, name, subject, is_group) AS (
        SELECT c._id, p.jid, p.phone_jid, p.name, {col("chat", "c", "subject")}, IFNULL(p.jid GLOB '*@g.us', 0)
        FROM src.chat c LEFT JOIN person p ON p.jid_row_id = c.jid_row_id),
    chat_members(chat_row_id, jid, phone_jid, name, subject, is_group, members) AS MATERIALIZED (
        SELECT c.*, CASE WHEN c.is_group THEN NULLIF((SELECT json_group_array(member) FROM ({members})), '[]') END
        FROM chat_jid c),
    thread(chat_row_id, jid, phone_jid, name, subject, is_group, members, recipients, extra_tail) AS MATERIALIZED (
        SELECT c.*, COALESCE(c.members, CASE WHEN c.jid <> '' THEN json_array(c.jid) END, '[]'),
               NULLIF(CASE WHEN c.is_group AND c.members IS NOT NULL
                           THEN ',"group_participants":' || c.members ELSE '' END ||
                      CASE WHEN c.phone_jid IS NOT NULL THEN ',"chat_phone_jid":' || json_quote(c.phone_jid) ELSE ''
                      END, '')
        FROM chat_members c),
    fact AS (
        SELECT m._id AS row_id, m.chat_row_id, m.from_me, m.timestamp, m.message_type AS type_code,
               m.text_data, m.status, {col("message", "m", "key_id")} AS key_id,
               {col("message", "m", "starred")} AS starred,
               {col("message", "m", "received_timestamp")} AS received_timestamp,
               t.jid AS thread_id, t.phone_jid AS thread_phone_jid, t.name AS thread_contact, t.subject,
               IFNULL(t.is_group, 0) AS is_group, t.members, s.jid AS sender_jid, s.phone_jid AS sender_phone_jid,
               t.recipients AS thread_recipients, t.extra_tail AS thread_tail, s.extra_tail AS sender_tail,
               {notice} AS notice,
               CASE {author} WHEN 'sender' THEN s.jid WHEN 'chat' THEN t.jid END AS sender,
               CASE {author} WHEN 'sender' THEN s.name WHEN 'chat' THEN t.name END AS sender_name,
               CASE WHEN m.from_me THEN 'outgoing' ELSE 'incoming' END AS direction,
               {_code_name("m.message_type", TYPES, "type")} AS message_type
        FROM src.message m LEFT JOIN thread t ON t.chat_row_id = m.chat_row_id
        LEFT JOIN person s ON s.jid_row_id = {col("message", "m", "sender_jid_row_id")}
        WHERE m.chat_row_id IS NOT -1)"""  # chat_row_id -1 is the app's own placeholder row, not a message


def _side_sql(have: dict[str, set[str]]) -> str | None:
    """The WITH member ``side``: one row per message that has a row in ``message_media``, ``message_revoked`` or
    ``message_system`` (a few percent of them), with what the message's record takes from those rows already
    written: its attachments (JSON), whether it was revoked, and its ``extra`` members ``system_action``,
    ``revoked_at`` and ``revoked_by`` as text (``_json_with``'s tails). Materialized once, so each message costs
    one look-up rather than one per side table, and the members are built only for the messages that have them.
    None when the database has none of the three tables."""
    col = _reader(have)
    present = [(table, alias) for table, alias in (("message_media", "mm"), ("message_revoked", "mr"),
                                                   ("message_system", "ms")) if have[table]]
    if not present:
        return None
    ids = " UNION ".join(f"SELECT message_row_id FROM src.{table}" for table, _ in present)
    joins = [f"LEFT JOIN src.{table} {alias} ON {alias}.message_row_id = i.message_row_id"
             for table, alias in present]
    if "admin_jid_row_id" in have["message_revoked"]:
        joins.append("LEFT JOIN src.jid aj ON aj._id = mr.admin_jid_row_id")
    size = col("message_media", "mm", "file_size")
    if "file_length" in have["message_media"]:  # some rows only fill file_length
        size = f"COALESCE(NULLIF({size}, 0), mm.file_length)"
    path, mime, name = (col("message_media", "mm", c) for c in ("file_path", "mime_type", "media_name"))
    attachment = (f"json_object('path', {path}, 'mime_type', {mime}, 'size', {size}, 'name', {name}, "
                  f"'caption', {col('message_media', 'mm', 'media_caption')}, "
                  f"'duration_s', {col('message_media', 'mm', 'media_duration')})")
    revoke_ts = col("message_revoked", "mr", "revoke_timestamp")
    revoked_by = "aj.raw_string" if "admin_jid_row_id" in have["message_revoked"] else "NULL"
    # a message with a message_revoked row is revoked whatever its type, so these need nothing of the message
    members = {"system_action": col("message_system", "ms", "action_type"),
               "revoked_at": f"CASE WHEN {revoke_ts} THEN {timestamps.sql_iso('unix_ms', revoke_ts)} END",
               "revoked_by": f"CASE WHEN {revoked_by} <> '' THEN {revoked_by} END"}
    tail = " || ".join(f"CASE WHEN {value} IS NULL THEN '' ELSE ',\"{key}\":' || json_quote({value}) END"
                       for key, value in members.items())
    return f"""side(message_row_id, attachments, revoked, extra_tail) AS MATERIALIZED (
        SELECT i.message_row_id,
               CASE WHEN {path} IS NOT NULL OR {mime} IS NOT NULL OR {name} IS NOT NULL
                    THEN json_array({attachment}) END,
               {col("message_revoked", "mr", "message_row_id")} IS NOT NULL, NULLIF({tail}, '')
        FROM ({ids}) i {' '.join(joins)})"""


def _message_sql(have: dict[str, set[str]]) -> str:
    """Message records: one result column per Message field (times raw, lists and dicts as JSON text)."""
    side = _side_sql(have)
    joins = ["LEFT JOIN side sd ON sd.message_row_id = f.row_id"] if side else []
    if {"message_row_id", "read_timestamp"} <= have["receipt_user"]:
        # when the first recipient read an outgoing message; a join, not a subquery per row, because the store's
        # time decoding repeats the expression it is given; the key is NULL for other messages, which then skip
        # the look-up (with ``f.from_me = 1 AND ...`` SQLite looks up every message and tests from_me after)
        joins.append("LEFT JOIN (SELECT message_row_id, MIN(NULLIF(read_timestamp, 0)) AS read_ts "
                     "FROM src.receipt_user GROUP BY message_row_id) r "
                     "ON r.message_row_id = CASE WHEN f.from_me = 1 THEN f.row_id END")
        read = "r.read_ts"
    else:
        read = "NULL"
    attachments, side_revoked, side_tail = ("sd.attachments", "sd.revoked", "sd.extra_tail") if side else \
        ("NULL", "0", "NULL")
    revoked = f"(IFNULL({side_revoked}, 0) OR IFNULL(f.type_code IN {tuple(sorted(REVOKED_TYPES))}, 0))"
    # extra: key_id always, status_code when known, the other keys only when they have a value (in this order);
    # the chat's and the sender's members are written once per chat and per JID (``thread``, ``person``), those of
    # the side tables once per message that has them (``side``)
    known = "CASE WHEN f.status IS NULL THEN json_object('key_id', f.key_id) " \
            "ELSE json_object('key_id', f.key_id, 'status_code', f.status) END"
    own = {"chat_row_id": "CASE WHEN f.thread_id IS NULL THEN f.chat_row_id END",
           "starred": "CASE WHEN f.starred THEN json('true') END"}
    extra = _json_with(known, own, tails=(side_tail, "f.thread_tail", "f.sender_tail"))
    status = (f"CASE WHEN {revoked} THEN 'revoked' WHEN f.status IS NULL THEN NULL WHEN f.status = {STATUS_SYSTEM} "
              f"THEN 'system' WHEN f.from_me THEN {_code_name('f.status', STATUS_OUT, 'status')} "
              f"ELSE {_code_name('f.status', STATUS_IN, 'status')} END")
    # the owner writes to the chat, or to every member of a group; incoming messages and notices have no recipients
    recipients = "CASE WHEN f.from_me AND NOT f.notice THEN IFNULL(f.thread_recipients, '[]') ELSE '[]' END"
    facts = _facts_sql(have)
    if side:
        facts += f",\n    {side}"
    return f"""{facts}
    SELECT f.row_id AS source_row, ? AS app, '{PLATFORM}' AS platform, f.timestamp AS ts,
           f.thread_id, CASE WHEN f.is_group THEN f.subject ELSE f.thread_contact END AS thread_name,
           f.sender, f.sender_name, {recipients} AS recipients, f.direction, f.text_data AS body, f.message_type,
           IFNULL({attachments}, '[]') AS attachments, {status} AS status, {revoked} AS deleted,
           CASE WHEN f.from_me THEN NULL ELSE f.received_timestamp END AS received_ts,
           {read} AS read_ts, {extra} AS extra
    FROM fact f {' '.join(joins)}
    ORDER BY f.row_id"""


def _location_sql(have: dict[str, set[str]]) -> str:
    """Location records for messages that share a place (a point other than 0,0), labelled "name, address"."""
    col = _reader(have)
    place, address = col("message_location", "ml", "place_name"), col("message_location", "ml", "place_address")
    live = col("message_location", "ml", "live_location_share_duration")
    extra = _json_with("json_object('thread_id', f.thread_id, 'sender', f.sender, 'direction', f.direction, "
                       "'message_type', f.message_type, 'key_id', f.key_id)",
                       {"live_duration_s": f"CASE WHEN {live} THEN {live} END"})
    return f"""{_facts_sql(have)}
    SELECT f.row_id AS source_row, ? AS app, f.timestamp AS ts, ml.latitude, ml.longitude,
           CASE WHEN {place} <> '' AND {address} <> '' THEN {place} || ', ' || {address}
                WHEN {place} <> '' THEN {place} WHEN {address} <> '' THEN {address} END AS label,
           '{SOURCE_KIND}' AS source_kind,
           {extra} AS extra
    FROM fact f JOIN src.message_location ml ON ml.message_row_id = f.row_id
    WHERE ml.latitude IS NOT NULL AND ml.longitude IS NOT NULL AND (ml.latitude OR ml.longitude)
    ORDER BY ml.message_row_id"""  # the same order as the messages', read from the few location rows


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
