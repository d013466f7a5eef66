"""Signal for Android: recipients, groups, messages (with attachments) and calls from the encrypted ``signal.db``.

Files: ``*/org.thoughtcrime.securesms/databases/signal.db`` (and its ``-wal``). The database is SQLCipher with the
settings Signal's ``SqlCipherDatabaseHook`` sets: ``cipher_compatibility = 3`` (HMAC-SHA1, PBKDF2-HMAC-SHA1),
4096-byte pages and ``kdf_iter = 1``; the passphrase is the 32-byte ``DatabaseSecret`` written as 64 hex digits. The
secret comes from either

- an extraction tool's ``*/Secrets/secrets.json`` (the ``"sqlite db key"`` of the ``org.thoughtcrime.securesms``
  entry; the format ALEAPP reads), or
- the app's default shared preferences ``shared_prefs/org.thoughtcrime.securesms_preferences.xml``, key
  ``pref_database_unencrypted_secret`` (only old installs keep it there). ``pref_database_encrypted_secret`` is the
  same secret sealed with AES-GCM by the Android Keystore key ``SignalSecret``, which never leaves the device: with
  only that, the outcome is "encrypted: key not found ..." and says why.

The framework decrypts the database (``framework.Cipher``: plain copies of the database with its -wal and of the
main file alone, so WAL rows are flagged as for any database); a ``signal.db`` that is already plain SQLite
(decrypted by an extraction tool) is read as it is. The run's message says where the key was found, never the key.

Schemas: since 2023 one ``message`` table (``from_recipient_id``/``to_recipient_id``) with ``attachment`` (earlier
``part``); before that ``sms`` and ``mms`` (the other party in ``address``, later ``recipient_id``). Direction and
status come from the base type, the low five bits of ``type``/``msg_box`` (``MessageTypes``: 20 inbox; 21 outbox,
22 sending, 23 sent, 24 failed, 25/26 pending SMS fallback; 27 draft; 1-12 call events). Calls come from the ``call``
table where it exists (``CallTable``: type 0 audio, 1 video, 3 group, 4 ad hoc; direction 0 incoming, 1 outgoing),
else from call-event rows of the message tables.

Times: ``date_sent``, ``date_received``, ``date_server``, ``call.timestamp`` and ``groups.timestamp`` are Unix
milliseconds (``unix_ms``).
"""
from __future__ import annotations

import json
import re

from artifacts import timestamps
from artifacts.records import Call, Contact, Message
from parsers.decoders.abx import AndroidXMLError, load_android_xml
from parsers.framework import Cipher, Encrypted, Unsupported, parser, tables
from artifacts.sql_quoting import ident

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = ("ALEAPP scripts/artifacts/signalAndroid.py; "
          "Signal-Android's published source (SqlCipherDatabaseHook, table definitions)")

APP = "org.thoughtcrime.securesms"
DATABASE = "*/org.thoughtcrime.securesms/databases/signal.db"
SECRETS_JSON = "*/Secrets/secrets.json"
PREFERENCES = "*/org.thoughtcrime.securesms/shared_prefs/org.thoughtcrime.securesms_preferences.xml"

CIPHER_SETTINGS = ("PRAGMA cipher_compatibility = 3", "PRAGMA kdf_iter = 1", "PRAGMA cipher_page_size = 4096")

BASE_TYPE_MASK = 0x1F
_BASE_TYPES = {20: ("incoming", "received"), 21: ("outgoing", "outbox"), 22: ("outgoing", "sending"),
               23: ("outgoing", "sent"), 24: ("outgoing", "failed"), 25: ("outgoing", "pending secure SMS fallback"),
               26: ("outgoing", "pending insecure SMS fallback"), 27: ("outgoing", "draft")}
# call events kept in the message tables: base type -> (direction, call type, answered, status)
_CALL_TYPES = {1: ("incoming", "audio", True, "answered"), 2: ("outgoing", "audio", None, None),
               3: ("incoming", "audio", False, "missed"), 8: ("incoming", "video", False, "missed"),
               10: ("incoming", "video", True, "answered"), 11: ("outgoing", "video", None, None),
               12: (None, None, None, "group call")}
GROUP_UPDATE_BIT, EXPIRATION_TIMER_UPDATE_BIT = 0x10000, 0x40000

_CALL_TABLE_TYPES = {0: "audio", 1: "video"}
_CALL_TABLE_KINDS = {0: "audio", 1: "video", 3: "group", 4: "ad hoc"}
_CALL_EVENTS = {0: ("ongoing", None), 1: ("accepted", True), 2: ("not accepted", False), 3: ("missed", False),
                4: ("deleted", None), 5: ("generic group call", None), 6: ("joined", True), 7: ("ringing", None),
                8: ("declined", False), 9: ("outgoing ring", None), 10: ("missed (notification profile)", False)}

# recipient columns by preference, newest name first (older releases: phone, uuid, system_display_name, ...)
_NAME_COLUMNS = ("nickname_joined_name", "system_joined_name", "system_display_name", "profile_joined_name",
                 "signal_profile_name", "profile_given_name", "system_given_name")
_ID_COLUMNS = ("e164", "phone", "aci", "uuid", "username", "pni", "group_id", "email")


@parser(name="signal-android", app=APP, platform="Signal", paths=[DATABASE], requires={},
        cipher=Cipher(CIPHER_SETTINGS, lambda ctx: [_database_key(ctx)]),
        source="Signal-Android source (SqlCipherDatabaseHook, RecipientTable, MessageTable, CallTable); "
               "ALEAPP signal.py (secrets.json)")
def signal(db, ctx):
    """Signal recipients, groups, messages and calls from signal.db (SQLCipher; key from secrets.json or prefs)."""
    yield from _records(db, ctx)


@parser(name="signal-android-key", app=APP, platform="Signal", paths=[SECRETS_JSON, PREFERENCES])
def signal_key_files(db, ctx):
    """Key files for signal.db: declared so they are spooled for signal-android; they yield no records."""
    return ()


# --- the key ---------------------------------------------------------------------------------------------------


def _database_key(ctx) -> tuple[str, str]:
    """The database secret from secrets.json or the shared preferences and where it was found; Encrypted (saying
    why) when there is none."""
    notes = []
    for spooled in ctx.find(SECRETS_JSON):
        try:
            key = _key_from_secrets(json.loads(spooled.local.read_bytes()))
        except (ValueError, UnicodeDecodeError) as exc:
            notes.append(f"{spooled.path} is not JSON ({exc})")
            continue
        if key is not None:
            return _checked(key, spooled.path)
    for spooled in ctx.find(PREFERENCES):
        try:
            values = {e.get("name"): e.text for e in load_android_xml(spooled.local.read_bytes()).iter("string")}
        except AndroidXMLError as exc:
            notes.append(f"{spooled.path} is unreadable ({exc})")
            continue
        if values.get("pref_database_unencrypted_secret"):
            return _checked(values["pref_database_unencrypted_secret"], spooled.path)
        if values.get("pref_database_encrypted_secret"):
            notes.append("only pref_database_encrypted_secret is present, sealed by the Android Keystore key "
                         "SignalSecret, which cannot be unwrapped off the device")
    raise Encrypted(f"key not found: {'; '.join(notes)}" if notes else "key not found")


def _checked(key: str, where: str) -> tuple[str, str]:
    key = key.strip()
    if not re.fullmatch(r"[0-9a-fA-F]{2,256}", key):
        raise Encrypted(f"key in {where} is not a hex database secret")
    return key, f"key from {where}"


def _key_from_secrets(entries) -> str | None:
    """The "sqlite db key" of Signal's entry in an extraction tool's secrets.json list."""
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or entry.get("app") != APP:
            continue
        for item in entry.get("script_output") or []:
            payload = item.get("payload") if isinstance(item, dict) else None
            if isinstance(payload, dict) and isinstance(payload.get("sqlite db key"), str):
                return payload["sqlite db key"]
    return None


# --- records ---------------------------------------------------------------------------------------------------


def _records(db, ctx):
    present = tables(db)
    message_tables = [t for t in ("message", "sms", "mms") if t in present]
    if not message_tables or "recipient" not in present:
        raise Unsupported(f"no Signal message and recipient tables (found: {', '.join(sorted(present)) or 'none'})")
    recipients = {row["_id"]: _Recipient(row) for row in db.execute("SELECT * FROM recipient ORDER BY _id")}
    groups = _groups(db, present, recipients)
    for rid, who in recipients.items():
        if who.is_individual:
            yield who.contact(ctx, rid)
    for group in groups.values():
        yield group.contact(ctx)
    threads = _thread_recipients(db, present)
    attachments = _attachments(db, present)
    call_table = "call" in present
    for table in message_tables:
        type_column = _LAYOUTS[table][2]
        for row in db.execute(f"SELECT * FROM {ident(table)} ORDER BY _id"):
            if _is_call_event(row[type_column]):
                if not call_table:  # releases before the call table keep calls only as message rows
                    yield _call_from_message(ctx, table, row, recipients, groups)
                continue
            yield _message(ctx, table, row, recipients, groups, threads, attachments)
    if call_table:
        for row in db.execute("SELECT * FROM call ORDER BY _id"):
            yield _call(ctx, row, recipients, groups)


def _get(row, *names):
    """The first non-empty value among the columns this release has."""
    keys = row.keys()
    for name in names:
        if name in keys and row[name] not in (None, ""):
            return row[name]
    return None


class _Recipient:
    def __init__(self, row):
        self.row = row
        self.identifier = str(_get(row, *_ID_COLUMNS) or f"recipient:{row['_id']}")
        self.name = _get(row, *_NAME_COLUMNS, "username")
        self.is_individual = _get(row, "group_id", "distribution_list_id", "call_link_room_id") is None \
            and (_get(row, "type") or 0) == 0

    def contact(self, ctx, rid) -> Contact:
        row = self.row
        extra = {k: row[k] for k in ("blocked", "hidden", "registered", "about", "note", "profile_sharing")
                 if k in row.keys() and row[k] not in (None, "")}
        for label, names in (("profile_name", ("profile_joined_name", "signal_profile_name")),
                             ("system_name", ("system_joined_name", "system_display_name")),
                             ("nickname", ("nickname_joined_name",)), ("pni", ("pni",))):
            if (value := _get(row, *names)) is not None:
                extra[label] = value
        fetched = timestamps.unix_ms(_get(row, "last_profile_fetch"))
        if fetched:
            extra["last_profile_fetch"] = fetched.iso
        phone = _get(row, "e164", "phone")
        return Contact(app=ctx.app, platform=ctx.platform, name=self.name, phones=[phone] if phone else [],
                       emails=[e] if (e := _get(row, "email")) else [],
                       handles=[h for h in (_get(row, "username"), _get(row, "aci", "uuid")) if h],
                       user_id=_get(row, "aci", "uuid") or phone, extra=extra, prov=ctx.prov("recipient", rid))


class _Group:
    def __init__(self, row, members: list[str]):
        self.row, self.members = row, members
        self.title = _get(row, "title")

    def contact(self, ctx) -> Contact:
        row = self.row
        extra = {"kind": "group", "members": self.members, "active": _get(row, "active"), "mms": _get(row, "mms")}
        return Contact(app=ctx.app, platform=ctx.platform, name=self.title, user_id=_get(row, "group_id"),
                       ts=timestamps.unix_ms(_get(row, "timestamp")), extra={k: v for k, v in extra.items()
                                                                             if v is not None},
                       prov=ctx.prov("groups", row["_id"]))


def _groups(db, present, recipients) -> dict:
    """Groups keyed by their recipient id, with member identifiers from group_membership or legacy groups.members."""
    if "groups" not in present:
        return {}
    membership: dict[str, list] = {}
    if "group_membership" in present:
        for row in db.execute("SELECT group_id, recipient_id FROM group_membership ORDER BY _id"):
            membership.setdefault(row["group_id"], []).append(row["recipient_id"])
    groups = {}
    for row in db.execute("SELECT * FROM groups ORDER BY _id"):
        ids = membership.get(row["group_id"])
        if ids is None:  # before group_membership: a comma-separated list in groups.members
            ids = [_as_id(x.strip()) for x in str(_get(row, "members") or "").split(",") if x.strip()]
        members = [recipients[i].identifier if i in recipients else str(i) for i in ids]
        rid = _get(row, "recipient_id")
        groups[rid if rid is not None else f"group:{row['_id']}"] = _Group(row, members)
    return groups


def _thread_recipients(db, present) -> dict:
    if "thread" not in present:
        return {}
    rows = db.execute("SELECT * FROM thread ORDER BY _id").fetchall()
    return {row["_id"]: _as_id(_get(row, "recipient_id", "thread_recipient_id", "recipient_ids")) for row in rows}


def _attachments(db, present) -> dict:
    """Attachment descriptions keyed by message id (attachment table, or the older part table)."""
    if "attachment" in present:
        table, mid, mime, path = "attachment", "message_id", "content_type", "data_file"
    elif "part" in present:
        table, mid, mime, path = "part", "mid", "ct", "_data"
    else:
        return {}
    found: dict = {}
    for row in db.execute(f"SELECT * FROM {ident(table)} ORDER BY _id"):
        item = {"mime_type": row[mime], "name": _get(row, "file_name"), "path": row[path],
                "size": _get(row, "data_size"), "caption": _get(row, "caption"),
                "voice_note": bool(_get(row, "voice_note")), "source_table": table, "source_row": row["_id"]}
        found.setdefault(row[mid], []).append({k: v for k, v in item.items() if v is not None})
    return found


def _name_of(rid, recipients, groups):
    if rid in groups and groups[rid].title:
        return groups[rid].title
    return recipients[rid].name if rid in recipients else None


def _identifier(rid, recipients):
    if rid is None:
        return None
    if rid in recipients:
        return recipients[rid].identifier
    return f"recipient:{rid}"


# column layout per message table: (sent, received, type)
_LAYOUTS = {"message": ("date_sent", "date_received", "type"), "mms": ("date", "date_received", "msg_box"),
            "sms": ("date_sent", "date", "type")}


def _is_call_event(raw_type) -> bool:
    return (raw_type or 0) in _CALL_TYPES  # call events are stored as the bare base type


def _parties(row, incoming: bool):
    """(sender recipient id, addressee recipient id); older releases keep only the other party."""
    if "from_recipient_id" in row.keys():
        return row["from_recipient_id"], row["to_recipient_id"]
    other = _as_id(_get(row, "recipient_id", "address"))
    return (other, None) if incoming else (None, other)


def _as_id(value):
    return int(value) if isinstance(value, str) and value.isdigit() else value


def _call_from_message(ctx, table, row, recipients, groups) -> Call:
    sent_col, _, type_col = _LAYOUTS[table]
    direction, kind, answered, status = _CALL_TYPES[row[type_col]]
    sender_id, to_id = _parties(row, direction == "incoming")
    peer = sender_id if direction == "incoming" else to_id
    return Call(app=ctx.app, platform=ctx.platform, peers=_listed(_identifier(peer, recipients)),
                peer_name=_name_of(peer, recipients, groups), direction=direction, call_type=kind,
                answered=answered, status=status, ts=timestamps.unix_ms(row[sent_col]),
                extra={"type": row[type_col], "thread_id": str(row["thread_id"])}, prov=ctx.prov(table, row["_id"]))


def _message(ctx, table, row, recipients, groups, threads, attachments) -> Message:
    sent_col, received_col, type_col = _LAYOUTS[table]
    raw_type = row[type_col] or 0
    direction, status = _BASE_TYPES.get(raw_type & BASE_TYPE_MASK, (None, None))
    sender_id, to_id = _parties(row, direction == "incoming")
    extra = {"type": raw_type, "read": _get(row, "read"), "view_once": bool(_get(row, "view_once")) or None}
    if (expires := _get(row, "expires_in")):
        extra["expires_in_s"] = expires / 1000
    if (server := _get(row, "date_server")) and server > 0:
        extra["date_server"] = timestamps.unix_ms(server).iso
    if (quoted := _get(row, "quote_id")):
        extra["quote"] = {"sent": timestamps.unix_ms(quoted).iso, "body": _get(row, "quote_body"),
                          "author": _identifier(_get(row, "quote_author"), recipients)}
    received = timestamps.unix_ms(row[received_col])
    return Message(
        app=ctx.app, platform=ctx.platform, thread_id=str(row["thread_id"]),
        thread_name=_name_of(threads.get(row["thread_id"]), recipients, groups), body=row["body"],
        sender=_identifier(sender_id, recipients), sender_name=_name_of(sender_id, recipients, groups),
        recipients=_listed(_identifier(to_id, recipients)), direction=direction, status=status,
        message_type=_message_type(raw_type), attachments=[] if table == "sms" else attachments.get(row["_id"], []),
        deleted=bool(_get(row, "remote_deleted")), ts=timestamps.unix_ms(row[sent_col]),
        received_ts=received if direction == "incoming" else None,
        extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov(table, row["_id"]))


def _listed(value) -> list:
    return [value] if value is not None else []


def _message_type(raw_type: int) -> str:
    if raw_type & GROUP_UPDATE_BIT:
        return "group update"
    if raw_type & EXPIRATION_TIMER_UPDATE_BIT:
        return "timer update"
    return "message" if (raw_type & BASE_TYPE_MASK) >= 20 else f"event {raw_type & BASE_TYPE_MASK}"


def _call(ctx, row, recipients, groups) -> Call:
    status, answered = _CALL_EVENTS.get(row["event"], (f"event {row['event']}", None))
    direction = {0: "incoming", 1: "outgoing"}.get(row["direction"])
    peer = _get(row, "peer")
    extra = {"call_id": row["call_id"], "kind": _CALL_TABLE_KINDS.get(row["type"], f"type {row['type']}"),
             "message_id": _get(row, "message_id"), "read": _get(row, "read")}
    if (deleted := timestamps.unix_ms(_get(row, "deletion_timestamp"))):
        extra["deleted_at"] = deleted.iso
    return Call(app=ctx.app, platform=ctx.platform, peers=_listed(_identifier(peer, recipients)),
                peer_name=_name_of(peer, recipients, groups), direction=direction,
                call_type=_CALL_TABLE_TYPES.get(row["type"]), answered=answered, status=status,
                ts=timestamps.unix_ms(row["timestamp"]), extra={k: v for k, v in extra.items() if v is not None},
                prov=ctx.prov("call", row["_id"]))
