"""Skype: the current Android app's ``com.skype.raider/databases/live:<account>`` and the classic ``main.db`` that
Skype for Android kept until 2017 (``com.skype.raider/files/<account>/main.db``) and Skype for Windows/macOS up to
version 7 (``Skype/<account>/main.db``).

live: ``chatitem`` rows belong to ``conversation_link``; ``is_sender_me`` 1/0 gives the direction, ``person_id``
the author, ``message_type`` 3 marks a call whose ``duration`` unit is not established (kept raw). ``person``
(``entry_id``, names) lists contacts and ``particiapnt`` [sic] group members. Only the columns public parsers
(ALEAPP ``skype.py``) read are known; the rest of the schema is not public.

main.db (facts from plaso's ``skype.py`` and Skyperious' ``skypedata.py``): ``Accounts.skypename`` is the owner, so a
``Messages`` row whose ``author`` is that name was sent; the other members of its conversation (``Participants``,
else the chat's ``Chats.participants``) are the recipients, an SMS row's ``identities`` its numbers.
``Messages.type`` says what a row is (61 a message, 64 an SMS, 68 a file, 30/39 call start/end, ...); ``body_xml``
is Skype's XML, kept raw in extra beside its plain text; an edited row with an empty body was deleted. ``SMSes`` are
SMS the account sent (Skype sent, never received, SMS); ``Transfers.type`` 1 means ``partner_handle`` sent the file,
2 that it was sent to them. ``Calls`` ⋈ ``CallMembers`` (``call_db_id``): ``is_incoming``, members'
``start_timestamp`` (accepted) and ``call_duration`` (seconds), ``videostatus`` 3 a video call.

Times: main.db timestamps are Unix seconds (``timestamp__ms`` on Skype 7, Unix milliseconds, is preferred when set);
live ``chatitem.time`` is Unix milliseconds. The messages file of Skype 8 on the desktop is not main.db.
"""
from __future__ import annotations

import html
import re

from defusedxml import ElementTree
from xml.etree.ElementTree import ParseError

from artifacts import timestamps
from artifacts.records import Account, Call, Contact, Message
from parsers.framework import columns, optional_columns, parser, tables

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = ("ALEAPP scripts/artifacts/skype.py; plaso plaso/parsers/sqlite_plugins/skype.py; "
          "plaso test_data/sqlite/skype_main.db (real file)")

PLATFORM = "Skype"
ANDROID = "com.skype.raider"
DESKTOP = "com.skype.skype"
LIVE_PATHS = ["*/com.skype.raider/databases/live*"]
LEGACY_PATHS = ["*/com.skype.raider/files/*/main.db"]
DESKTOP_PATHS = ["*/skype/*/main.db"]
LIVE_CALL = 3

_MESSAGE_TYPES = {2: "topic", 4: "group_created", 10: "participants_added", 12: "participants_removed",
                  13: "participant_left", 30: "call_started", 39: "call_ended", 50: "contact_request",
                  51: "contact_details_shared", 53: "contacts_blocked", 60: "emote", 61: "message",
                  63: "contacts_sent", 64: "sms", 68: "file", 70: "video_share", 110: "birthday", 201: "photo_share"}
_SMS_TYPE = 64
_SMS_STATUS = {6: "delivered", 8: "failed"}
_TRANSFER_STATUS = {7: "cancelled", 8: "delivered", 9: "failed", 10: "file unavailable",
                    11: "file unavailable on this computer", 12: "delivered"}
_TRANSFER_FROM_PARTNER, _TRANSFER_TO_PARTNER = 1, 2
_VIDEO_STATUS = 3

MAIN_MESSAGES = {"Messages": {"id", "convo_id", "author", "timestamp", "type", "body_xml"},
                 "SMSes": {"id", "timestamp", "body", "target_numbers"},
                 "Transfers": {"id", "type", "partner_handle", "starttime", "filename"},
                 "Accounts": {"skypename"}}
MAIN_CALLS = {"Calls": {"id", "begin_timestamp", "is_incoming"},
              "CallMembers": {"identity", "call_duration", "start_timestamp"}}
MAIN_CONTACTS = {"Contacts": {"id", "skypename", "fullname"}, "Accounts": {"id", "skypename"}}


@parser(name="skype-legacy-messages", app=ANDROID, platform=PLATFORM, paths=LEGACY_PATHS, requires=MAIN_MESSAGES)
@parser(name="skype-desktop-messages", app=DESKTOP, platform=PLATFORM, paths=DESKTOP_PATHS, requires=MAIN_MESSAGES)
def main_messages(db, ctx):
    """Chat messages, SMS and file transfers of a classic main.db (Messages, SMSes, Transfers)."""
    owner = _owner(db)
    members = _participants(db)
    titles = _conversation_titles(db)
    chats = _chat_members(db)
    optional = optional_columns(db, "Messages",
                                ("timestamp__ms", "from_dispname", "dialog_partner", "chatname", "edited_timestamp",
                                 "sending_status", "identities", "call_guid"))
    for row in db.execute(f"SELECT id, convo_id, author, timestamp, type, body_xml, {optional} FROM Messages "
                          f"ORDER BY id"):
        author = row["author"]
        if row["type"] == _SMS_TYPE and row["identities"]:
            recipients = row["identities"].split()
        else:
            recipients = [p for p in members.get(row["convo_id"]) or chats.get(row["chatname"], []) if p != author]
        if not recipients and row["dialog_partner"] and row["dialog_partner"] != author:
            recipients = [row["dialog_partner"]]
        body = _plain_text(row["body_xml"])
        extra = {"type": row["type"], "chatname": row["chatname"], "sending_status": row["sending_status"],
                 "identities": row["identities"], "call_guid": row["call_guid"] or None,
                 "edited": _iso(timestamps.unix_s(row["edited_timestamp"])),
                 "body_xml": row["body_xml"] if row["body_xml"] != body else None}
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=_text(row["convo_id"]),
            thread_name=titles.get(row["convo_id"]),
            sender=author, sender_name=row["from_dispname"], recipients=recipients,
            direction=None if not (owner and author) else "outgoing" if author == owner else "incoming",
            body=body, message_type=_MESSAGE_TYPES.get(row["type"], f"type {row['type']}"),
            ts=timestamps.unix_ms(row["timestamp__ms"]) or timestamps.unix_s(row["timestamp"]),
            deleted=bool(row["edited_timestamp"]) and not row["body_xml"],
            extra={k: v for k, v in extra.items() if v not in (None, "")}, prov=ctx.prov("Messages", row["id"]))
    yield from _smses(db, ctx, owner)
    yield from _transfers(db, ctx, owner, titles)


def _smses(db, ctx, owner):
    optional = optional_columns(db, "SMSes", ("status", "failurereason", "chatmsg_id", "price"))
    for row in db.execute(f"SELECT id, timestamp, body, target_numbers, {optional} FROM SMSes ORDER BY id"):
        extra = {k: row[k] for k in ("chatmsg_id", "failurereason", "price") if row[k] is not None}
        yield Message(app=ctx.app, platform=ctx.platform, sender=owner, direction="outgoing", message_type="sms",
                      recipients=[n for n in re.split(r"[\s,]+", row["target_numbers"] or "") if n],
                      body=row["body"], ts=timestamps.unix_s(row["timestamp"]),
                      status=_status(_SMS_STATUS, row["status"]),
                      extra=extra, prov=ctx.prov("SMSes", row["id"]))


def _transfers(db, ctx, owner, titles):
    optional = optional_columns(db, "Transfers",
                                ("partner_dispname", "status", "finishtime", "accepttime", "filepath", "filesize",
                                 "convo_id", "parent_id", "pk_id"))
    for row in db.execute(f"SELECT id, type, partner_handle, starttime, filename, {optional} FROM Transfers "
                          f"ORDER BY id"):
        partner = row["partner_handle"]
        received = row["type"] == _TRANSFER_FROM_PARTNER
        sent = row["type"] == _TRANSFER_TO_PARTNER
        attachment = {"name": row["filename"], "path": row["filepath"], "size": _int(row["filesize"])}
        extra = {"type": row["type"], "partner_dispname": row["partner_dispname"], "parent_id": row["parent_id"],
                 "pk_id": row["pk_id"], "accepted": _iso(timestamps.unix_s(row["accepttime"])),
                 "finished": _iso(timestamps.unix_s(row["finishtime"]))}
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=_text(row["convo_id"]),
            thread_name=titles.get(row["convo_id"]),
            sender=partner if received else owner if sent else None,
            sender_name=row["partner_dispname"] if received else None,
            recipients=[owner] if received and owner else [partner] if sent and partner else [],
            direction="incoming" if received else "outgoing" if sent else None, message_type="file_transfer",
            attachments=[{k: v for k, v in attachment.items() if v is not None}],
            ts=timestamps.unix_s(row["starttime"]),
            status=_status(_TRANSFER_STATUS, row["status"]),
            extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov("Transfers", row["id"]))


@parser(name="skype-legacy-calls", app=ANDROID, platform=PLATFORM, paths=LEGACY_PATHS, requires=MAIN_CALLS)
@parser(name="skype-desktop-calls", app=DESKTOP, platform=PLATFORM, paths=DESKTOP_PATHS, requires=MAIN_CALLS)
def main_calls(db, ctx):
    """Calls of a classic main.db (Calls with their CallMembers)."""
    member_cols = columns(db, "CallMembers")
    link = "call_db_id" if "call_db_id" in member_cols else "call_name"
    key = "id" if link == "call_db_id" else "name"
    optional = optional_columns(db, "Calls", ("name", "duration", "host_identity", "is_conference", "topic"))
    members_sql = (f"SELECT identity, {'dispname' if 'dispname' in member_cols else 'NULL'} AS dispname, "
                   f"call_duration, start_timestamp, {'videostatus' if 'videostatus' in member_cols else 'NULL'} "
                   f"AS videostatus FROM CallMembers WHERE {link} = ? ORDER BY _rowid_")
    for row in db.execute(f"SELECT id, begin_timestamp, is_incoming, {optional} FROM Calls ORDER BY id"):
        members = db.execute(members_sql, [row[key]]).fetchall()
        durations = [m["call_duration"] for m in members if m["call_duration"] is not None]
        duration = row["duration"] if row["duration"] is not None else max(durations, default=None)
        accepted = [m["start_timestamp"] for m in members if m["start_timestamp"]]
        extra = {"host_identity": row["host_identity"], "is_conference": row["is_conference"] or None,
                 "topic": row["topic"] or None, "accepted": _iso(timestamps.unix_s(min(accepted, default=None)))}
        yield Call(app=ctx.app, platform=ctx.platform, ts=timestamps.unix_s(row["begin_timestamp"]),
                   peers=[m["identity"] for m in members if m["identity"]],
                   peer_name=next((m["dispname"] for m in members if m["dispname"]), None),
                   direction={0: "outgoing", 1: "incoming"}.get(row["is_incoming"]),
                   call_type="video" if any(m["videostatus"] == _VIDEO_STATUS for m in members) else None,
                   duration_s=float(duration) if duration is not None else None,
                   answered=bool(accepted) if members else None,
                   extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov("Calls", row["id"]))


@parser(name="skype-legacy-contacts", app=ANDROID, platform=PLATFORM, paths=LEGACY_PATHS, requires=MAIN_CONTACTS)
@parser(name="skype-desktop-contacts", app=DESKTOP, platform=PLATFORM, paths=DESKTOP_PATHS, requires=MAIN_CONTACTS)
def main_contacts(db, ctx):
    """Contacts and the signed-in account of a classic main.db (Contacts, Accounts)."""
    fields = ("fullname", "displayname", "given_displayname", "pstnnumber", "phone_mobile", "phone_home",
              "phone_office", "emails", "birthday", "country", "city", "profile_timestamp", "lastonline_timestamp",
              "isblocked")
    for table in ("Contacts", "Accounts"):
        optional = optional_columns(db, table, fields)
        for row in db.execute(f"SELECT id, skypename, {optional} FROM {table} ORDER BY id"):
            phones = list(dict.fromkeys(p for p in (row["pstnnumber"], row["phone_mobile"], row["phone_home"],
                                                    row["phone_office"]) if p))
            emails = [e for e in re.split(r"[\s,]+", row["emails"] or "") if e]
            name = row["fullname"] or row["given_displayname"] or row["displayname"]
            extra = {"birthday": row["birthday"] or None, "country": row["country"], "city": row["city"],
                     "last_online": _iso(timestamps.unix_s(row["lastonline_timestamp"])),
                     "blocked": bool(row["isblocked"]) if row["isblocked"] is not None else None}
            extra = {k: v for k, v in extra.items() if v not in (None, "")}
            profile = timestamps.unix_s(row["profile_timestamp"])
            if table == "Contacts":
                yield Contact(app=ctx.app, platform=ctx.platform, user_id=row["skypename"], name=name,
                              handles=[row["skypename"]] if row["skypename"] else [], phones=phones, emails=emails,
                              ts=profile, extra=extra, prov=ctx.prov(table, row["id"]))
            else:
                yield Account(app=ctx.app, platform=ctx.platform, account_type="Skype", username=row["skypename"],
                              user_id=row["skypename"], display_name=name, phone=phones[0] if phones else None,
                              email=emails[0] if emails else None, ts=profile, extra=extra,
                              prov=ctx.prov(table, row["id"]))


@parser(name="skype-android-messages", app=ANDROID, platform=PLATFORM, paths=LIVE_PATHS,
        requires={"chatitem": {"conversation_link", "time", "content", "is_sender_me", "person_id",
                               "message_type"}})
def live_messages(db, ctx):
    """Messages and calls of the current app (chatitem, with particiapnt members and person names)."""
    names = _live_names(db)
    members: dict[str, list[str]] = {}
    if {"conversation_id", "person_id"} <= columns(db, "particiapnt"):
        for row in db.execute("SELECT conversation_id, person_id FROM particiapnt ORDER BY _rowid_"):
            members.setdefault(row["conversation_id"], []).append(row["person_id"])
    optional = optional_columns(db, "chatitem", ("duration", "device_gallery_path"))
    for row in db.execute(f"SELECT _rowid_ AS row_id, conversation_link, time, content, is_sender_me, person_id, "
                          f"message_type, {optional} FROM chatitem ORDER BY _rowid_"):
        link = row["conversation_link"]
        direction = {1: "outgoing", 0: "incoming"}.get(row["is_sender_me"])
        others = members.get(link) or ([link] if link else [])
        prov = ctx.prov("chatitem", row["row_id"])
        if row["message_type"] == LIVE_CALL:
            yield Call(app=ctx.app, platform=ctx.platform, ts=timestamps.unix_ms(row["time"]),
                       peers=[p for p in others if p != row["person_id"]] if direction == "outgoing"
                       else [row["person_id"]] if row["person_id"] else others,
                       direction=direction, extra={"duration_raw": row["duration"], "conversation": link}, prov=prov)
            continue
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=link, thread_name=names.get(link), sender=row["person_id"],
            sender_name=names.get(row["person_id"]), direction=direction,
            recipients=[p for p in others if p != row["person_id"]] if direction == "outgoing" else [],
            body=row["content"], message_type=f"type {row['message_type']}", ts=timestamps.unix_ms(row["time"]),
            attachments=[{"path": row["device_gallery_path"]}] if row["device_gallery_path"] else [], prov=prov)


@parser(name="skype-android-contacts", app=ANDROID, platform=PLATFORM, paths=LIVE_PATHS,
        requires={"person": {"entry_id", "first_name", "last_name"}})
def live_contacts(db, ctx):
    """People the current app knows (person)."""
    for row in db.execute("SELECT _rowid_ AS row_id, entry_id, first_name, last_name FROM person ORDER BY _rowid_"):
        yield Contact(app=ctx.app, platform=ctx.platform, user_id=row["entry_id"],
                      name=" ".join(p for p in (row["first_name"], row["last_name"]) if p) or None,
                      handles=[row["entry_id"]] if row["entry_id"] else [], prov=ctx.prov("person", row["row_id"]))


def _owner(db) -> str | None:
    row = db.execute("SELECT skypename FROM Accounts ORDER BY _rowid_ LIMIT 1").fetchone()
    return row[0] if row else None


def _participants(db) -> dict[int, list[str]]:
    if not {"convo_id", "identity"} <= columns(db, "Participants"):
        return {}
    result: dict[int, list[str]] = {}
    for row in db.execute("SELECT convo_id, identity FROM Participants ORDER BY id"):
        result.setdefault(row["convo_id"], []).append(row["identity"])
    return result


def _chat_members(db) -> dict[str, list[str]]:
    """Chats.name (Messages.chatname) -> its space-separated participants, for conversations without Participants."""
    if not {"name", "participants"} <= columns(db, "Chats"):
        return {}
    return {r[0]: r[1].split() for r in db.execute("SELECT name, participants FROM Chats") if r[0] and r[1]}


def _conversation_titles(db) -> dict[int, str]:
    have = columns(db, "Conversations")
    picks = [c for c in ("given_displayname", "displayname", "meta_topic") if c in have]
    if "id" not in have or not picks:
        return {}
    return {r[0]: r[1] for r in db.execute(f"SELECT id, COALESCE({', '.join(picks)}) FROM Conversations") if r[1]}


def _live_names(db) -> dict[str, str]:
    if "person" not in tables(db):
        return {}
    return {r["entry_id"]: " ".join(p for p in (r["first_name"], r["last_name"]) if p)
            for r in db.execute("SELECT entry_id, first_name, last_name FROM person")
            if r["entry_id"] and (r["first_name"] or r["last_name"])}


def _plain_text(body_xml: str | None) -> str | None:
    """The text a reader sees in a Skype ``body_xml``: markup removed, entities resolved; an SMS's ``alt`` text."""
    if not body_xml:
        return body_xml
    try:
        root = ElementTree.fromstring(f"<body>{body_xml}</body>")
    except (ParseError, ValueError):
        return html.unescape(re.sub(r"<[^>]*>", "", body_xml))
    sms = root.find("sms")
    if sms is not None and sms.get("alt"):
        return sms.get("alt")
    return "".join(root.itertext())


def _status(names: dict, value) -> str | None:
    return None if value is None else names.get(value, f"status {value}")


def _iso(value) -> str | None:
    return value.iso if value else None


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _text(value) -> str | None:
    return None if value is None else str(value)
