"""Google Voice for iOS: ``AppGroup/<UUID>/Library/Application Support/<account id>/threadingStore.sqlite``.

Source: iLEAPP ``scripts/artifacts/googleVoice.py`` (abrignoni/iLEAPP), checked against the real database in its
josh_ios17 test extraction (``admin/test/cases/data/googleVoice/``). ``ThreadItem`` holds every text, call and
voicemail; ``itemType`` says which and the direction (``SmsIn``, ``SmsOut``, ``IncomingCall``, ``OutgoingCall``,
``MissedCall``, ``Voicemail``). ``senderPhoneNumber`` is the other party on incoming items and the user's own Voice
number on outgoing ones (in the test file every ``SmsOut``/``OutgoingCall`` sender is absent from the thread's
participants, who are the other parties): the recipients of an outgoing item are the thread's
``ThreadParticipant`` rows. ``Thread.groupName`` names group threads; ``Transcript.text`` is a voicemail's
transcription; ``MMSAttachmentInfo`` rows are a message's attachments; ``Participant`` lists every number seen.

``timestamp`` is a REAL in Unix seconds (``sortID`` is the same instant in microseconds). The key of ``ThreadItem``
is the pair (threadItemKey, threadItemType): provenance uses the rowid. The folder above the database is the
numeric Google account id.
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Account, Call, Contact, Message
from parsers.framework import optional_columns, parser, tables

APP = "com.google.GVDialer"
PLATFORM = "Google Voice"
PATHS = ["*/AppGroup/*/Library/Application Support/*/threadingStore.sqlite"]
SOURCE = ("abrignoni/iLEAPP scripts/artifacts/googleVoice.py; "
          "abrignoni/iLEAPP admin/test/cases/data/googleVoice josh_ios17_ffs threadingStore.sqlite")
ITEMS = {"ThreadItem": {"threadItemKey", "threadItemType", "sortID", "messageText", "senderPhoneNumber",
                        "isUnread", "isDeleted", "duration", "timestamp", "itemType", "threadKey", "threadType"}}
_TEXTS = {"SmsIn": "incoming", "SmsOut": "outgoing"}
_CALLS = {"IncomingCall": ("incoming", "answered", True), "OutgoingCall": ("outgoing", None, None),
          "MissedCall": ("incoming", "missed", False), "Voicemail": ("incoming", "voicemail", False)}
_OUTGOING = ("SmsOut", "OutgoingCall")


@parser(name="google-voice-ios-messages", app=APP, platform=PLATFORM, paths=PATHS, requires=ITEMS, source=SOURCE)
def messages(db, ctx):
    """Texts (SmsIn/SmsOut) and calls and voicemails (IncomingCall, OutgoingCall, MissedCall, Voicemail)."""
    parties = _participants(db)
    names = _group_names(db)
    transcripts = _transcripts(db)
    attachments = _attachments(db)
    optional = optional_columns(db, "ThreadItem", ("isSystemMessage", "ringGroupName", "ringGroupPhoneNumber",
                                                   "transferredFromE164", "transferredToE164"))
    for row in db.execute(f"SELECT rowid AS row_id, threadItemKey, threadItemType, sortID, messageText, "
                          f"senderPhoneNumber, isUnread, isDeleted, duration, timestamp, itemType, threadKey, "
                          f"threadType, {optional} FROM ThreadItem ORDER BY sortID, rowid"):
        kind, thread = row["itemType"], (row["threadKey"], row["threadType"])
        others = parties.get(thread, [])
        outgoing = kind in _OUTGOING
        own = row["senderPhoneNumber"] if outgoing else None
        other = None if outgoing else row["senderPhoneNumber"]
        extra = {"item_key": row["threadItemKey"], "item_type": kind, "unread": _flag(row["isUnread"]),
                 "system_message": _flag(row["isSystemMessage"]), "voice_number": own,
                 "ring_group": row["ringGroupName"], "ring_group_number": row["ringGroupPhoneNumber"],
                 "transferred_from": row["transferredFromE164"], "transferred_to": row["transferredToE164"]}
        extra = {k: v for k, v in extra.items() if v is not None}
        ts, prov = timestamps.unix_s(row["timestamp"]), ctx.prov("ThreadItem", row["row_id"])
        key = (row["threadItemKey"], row["threadItemType"])
        if kind in _CALLS:
            direction, status, answered = _CALLS[kind]
            if key in transcripts:
                extra["transcript"], extra["transcript_confidence"] = transcripts[key]
            yield Call(app=ctx.app, platform=ctx.platform, peers=others if outgoing else [p for p in [other] if p],
                       direction=direction, call_type="audio", duration_s=row["duration"], status=status,
                       answered=answered, ts=ts, extra={**extra, "deleted": _flag(row["isDeleted"])}, prov=prov)
            continue
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=row["threadKey"], thread_name=names.get(thread),
            sender=row["senderPhoneNumber"], direction=_TEXTS.get(kind),
            recipients=others if outgoing else [], body=row["messageText"],
            message_type="mms" if key in attachments else "sms" if kind in _TEXTS else kind,
            attachments=attachments.get(key, []), deleted=bool(row["isDeleted"]), ts=ts, extra=extra, prov=prov)


@parser(name="google-voice-ios-contacts", app=APP, platform=PLATFORM, paths=PATHS,
        requires={"Participant": {"phoneNumberE164", "isBlocked"}}, source=SOURCE)
def contacts(db, ctx):
    """Every number Google Voice exchanged texts or calls with (Participant), and whether the user blocked it."""
    for row in db.execute("SELECT rowid AS row_id, phoneNumberE164, isBlocked FROM Participant "
                          "ORDER BY phoneNumberE164, rowid"):
        yield Contact(app=ctx.app, platform=ctx.platform, phones=[row["phoneNumberE164"]],
                      extra={"blocked": _flag(row["isBlocked"])}, prov=ctx.prov("Participant", row["row_id"]))


@parser(name="google-voice-ios-numbers", app=APP, platform=PLATFORM, paths=PATHS, requires=ITEMS, source=SOURCE)
def voice_numbers(db, ctx):
    """The user's own Voice numbers: the senders of outgoing texts and calls, one account each (first use)."""
    account_id = ctx.source.path.rsplit("/", 2)[-2]
    for row in db.execute("SELECT senderPhoneNumber AS number, MIN(timestamp) AS first, MAX(timestamp) AS last, "
                          "COUNT(*) AS items, MIN(rowid) AS row_id FROM ThreadItem "
                          "WHERE itemType IN ('SmsOut', 'OutgoingCall') AND senderPhoneNumber IS NOT NULL "
                          "GROUP BY senderPhoneNumber ORDER BY first, senderPhoneNumber"):
        last = timestamps.unix_s(row["last"])
        yield Account(app=ctx.app, platform=ctx.platform, account_type="google voice number",
                      user_id=account_id if account_id.isdigit() else None, phone=row["number"],
                      ts=timestamps.unix_s(row["first"]),
                      extra={"outgoing_items": row["items"], "last_used": last.iso if last else None},
                      prov=ctx.prov("ThreadItem", row["row_id"]))


def _participants(db) -> dict[tuple, list[str]]:
    if "threadparticipant" not in tables(db):
        return {}
    found: dict[tuple, list[str]] = {}
    for row in db.execute("SELECT threadKey, threadType, phoneNumberE164 FROM ThreadParticipant "
                          "ORDER BY threadKey, threadType, phoneNumberE164"):
        found.setdefault((row["threadKey"], row["threadType"]), []).append(row["phoneNumberE164"])
    return found


def _group_names(db) -> dict[tuple, str]:
    if "thread" not in tables(db):
        return {}
    return {(r["threadKey"], r["threadType"]): r["groupName"] for r in db.execute(
        "SELECT threadKey, threadType, groupName FROM Thread WHERE groupName IS NOT NULL AND groupName != ''")}


def _transcripts(db) -> dict[tuple, tuple]:
    if "transcript" not in tables(db):
        return {}
    return {(r["threadItemKey"], r["threadItemType"]): (r["text"], r["confidence"]) for r in db.execute(
        "SELECT threadItemKey, threadItemType, text, confidence FROM Transcript")}


def _attachments(db) -> dict[tuple, list[dict]]:
    if "mmsattachmentinfo" not in tables(db):
        return {}
    found: dict[tuple, list[dict]] = {}
    for r in db.execute("SELECT attachmentKey, mediaType, threadItemKey, threadItemType FROM MMSAttachmentInfo "
                        "ORDER BY threadItemKey, threadItemType, attachmentKey"):
        found.setdefault((r["threadItemKey"], r["threadItemType"]), []).append(
            {"attachment_key": r["attachmentKey"], "media_type": r["mediaType"]})
    return found


def _flag(value) -> bool | None:
    return None if value is None else bool(value)
