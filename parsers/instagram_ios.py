"""Instagram for iOS direct messages: ``Library/Application Support/DirectSQLiteDatabase/<viewer pk>.db`` in the app's
data container (plaso's test file 9368974384.db is one; the name is the account's numeric user id).

``threads.metadata`` and ``messages.archive`` are NSKeyedArchiver plists whose keys carry the Objective-C type,
e.g. ``IGDirectPublishedMessageMetadata*metadata`` → ``NSString*senderPk``, ``NSDate*serverTimestamp``. The
server timestamp is an NSDate: Cocoa seconds (kept raw). Video/audio chats appear as thread-activity messages
(``SUBTYPE_VOIP``) announcing a call's start and end; each call id becomes one Call.
"""
from __future__ import annotations

from decimal import Decimal

from artifacts import timestamps
from artifacts.records import Account, Call, Contact, Message
from parsers.decoders.nskeyedarchive import unarchive
from parsers.framework import parser

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "plaso test_data/ios/9368974384.db (real file) and plaso plaso/parsers/sqlite_plugins/ios_instagram.py"

APP = "com.burbn.instagram"
PATHS = ["*/Library/Application Support/DirectSQLiteDatabase/*.db"]
REQUIRES = {"messages": {"message_id", "thread_id", "archive"}, "threads": {"thread_id", "viewer_id", "metadata"}}

METADATA, CONTENT = "IGDirectPublishedMessageMetadata*metadata", "IGDirectPublishedMessageContent*content"
ACTIVITY = "IGDirectThreadActivityAnnouncement*threadActivity"
USERS, INVITER = "NSArray<IGUser *>*users", "IGUser*inviter"
# IGDirectVideoCallEventTypevoipEventType values seen on real data: 1 a call started, 4 it ended.
CALL_STARTED, CALL_ENDED = 1, 4


@parser(name="instagram-ios-messages", app=APP, platform="Instagram", paths=PATHS, requires=REQUIRES)
def messages(db, ctx):
    """Every direct message, including thread-activity announcements (calls, likes), in row order."""
    threads = _threads(db)
    for row in db.execute("SELECT rowid AS rid, message_id, thread_id, archive FROM messages ORDER BY rowid"):
        thread = threads.get(row["thread_id"], Thread())
        try:
            message = unarchive(row["archive"])
        except ValueError as exc:  # one undecodable row is kept, not dropped
            yield Message(app=ctx.app, platform=ctx.platform, thread_id=row["thread_id"],
                          extra={"message_id": row["message_id"], "undecoded": str(exc)},
                          prov=ctx.prov("messages", row["rid"]))
            continue
        meta, content = _dict(message.get(METADATA)), _dict(message.get(CONTENT))
        sender = meta.get("NSString*senderPk")
        outgoing = None if not sender or not thread.viewer else sender == thread.viewer
        activity = _dict(content.get(ACTIVITY))
        body = content.get("NSString*string") or activity.get("NSString*voipTitle") or activity.get(
            "NSString*actionLogTitle")
        extra = {"message_id": row["message_id"], "server_id": meta.get("NSString*serverId"),
                 "call_id": activity.get("NSString*videoCallId")}
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=row["thread_id"], sender=sender,
            sender_name=thread.names.get(sender), body=body,
            recipients=thread.others() if outgoing else [],
            direction=None if outgoing is None else ("outgoing" if outgoing else "incoming"),
            message_type=_subtype(content.get("codedSubtype")), attachments=_attachments(content),
            ts=_nsdate(meta.get("NSDate*serverTimestamp")), extra={k: v for k, v in extra.items() if v},
            prov=ctx.prov("messages", row["rid"]))


@parser(name="instagram-ios-calls", app=APP, platform="Instagram", paths=PATHS, requires=REQUIRES)
def calls(db, ctx):
    """Audio and video calls, one per call id, from the thread-activity announcements of its start and end.

    The call's time is its first announcement; the duration is end minus start where both are present.
    """
    threads = _threads(db)
    found: dict[str, dict] = {}
    for row in db.execute("SELECT rowid AS rid, thread_id, archive FROM messages ORDER BY rowid"):
        try:
            message = unarchive(row["archive"])
        except ValueError:  # the messages parser keeps and flags this row
            continue
        activity = _dict(_dict(message.get(CONTENT)).get(ACTIVITY))
        call_id = activity.get("NSString*videoCallId")
        if not call_id:
            continue
        meta = _dict(message.get(METADATA))
        call = found.setdefault(call_id, {"rid": row["rid"], "thread": row["thread_id"], "events": []})
        call["events"].append((activity.get("IGDirectVideoCallEventTypevoipEventType"), meta.get(
            "NSString*senderPk"), _nsdate(meta.get("NSDate*serverTimestamp")), activity))
    for call_id, call in found.items():
        thread = threads.get(call["thread"], Thread())
        events = call["events"]
        start = next((e for e in events if e[0] == CALL_STARTED), None)
        end = next((e for e in events if e[0] == CALL_ENDED), None)
        caller = start[1] if start else None
        outgoing = None if not caller or not thread.viewer else caller == thread.viewer
        duration = None
        if start and end and start[2] and end[2]:
            duration = float(Decimal(end[2].raw) - Decimal(start[2].raw))
        audio_only = events[0][3].get("BOOLthreadHasAudioOnlyCall")
        yield Call(
            app=ctx.app, platform=ctx.platform, peers=thread.others(), peer_name=", ".join(
                filter(None, (thread.names.get(pk) for pk in thread.others()))) or None,
            direction=None if outgoing is None else ("outgoing" if outgoing else "incoming"),
            call_type=None if audio_only is None else ("audio" if audio_only else "video"),
            duration_s=duration, ts=events[0][2],
            extra={"call_id": call_id, "thread_id": call["thread"], "caller": caller,
                   "announcements": [e[3].get("NSString*voipTitle") for e in events]},
            prov=ctx.prov("messages", call["rid"]))


@parser(name="instagram-ios-users", app=APP, platform="Instagram", paths=PATHS, requires=REQUIRES)
def users(db, ctx):
    """The account (the threads' viewer) and the people it has threads with, each once, from thread metadata."""
    seen = set()
    for rid, _, viewer, people in _thread_rows(db):
        for pk, (name, username) in people.items():
            if pk in seen:
                continue
            seen.add(pk)
            if pk == viewer:
                yield Account(app=ctx.app, platform=ctx.platform, account_type="Instagram", user_id=pk,
                              username=username, display_name=name, prov=ctx.prov("threads", rid))
            else:
                yield Contact(app=ctx.app, platform=ctx.platform, name=name, user_id=pk,
                              handles=[username] if username else [], prov=ctx.prov("threads", rid))


class Thread:
    """A thread's viewer (the account) and its participants' display names by user pk."""

    def __init__(self, viewer: str | None = None, names: dict | None = None):
        self.viewer = viewer
        self.names = names or {}

    def others(self) -> list[str]:
        return [pk for pk in self.names if pk != self.viewer]


def _threads(db) -> dict[str, Thread]:
    return {thread_id: Thread(viewer, {pk: name or username for pk, (name, username) in people.items()})
            for _, thread_id, viewer, people in _thread_rows(db)}


def _thread_rows(db):
    """(rowid, thread id, viewer pk, {user pk: (full name, username)}) per thread; an undecodable metadata
    archive leaves the thread without participants rather than failing the file."""
    for row in db.execute("SELECT rowid AS rid, thread_id, viewer_id, metadata FROM threads ORDER BY rowid"):
        try:
            metadata = unarchive(row["metadata"]) if row["metadata"] else {}
        except ValueError:
            metadata = {}
        people = {}
        for user in [*_list(metadata.get(USERS)), metadata.get(INVITER)]:
            user = _dict(user)
            if user.get("pk"):
                people.setdefault(user["pk"], (user.get("fullName") or None, user.get("userName") or None))
        yield row["rid"], row["thread_id"], row["viewer_id"], people


def _attachments(content: dict) -> list[dict]:
    media = _dict(content.get("IGDirectPublishedMessageMedia*media"))
    if not media:
        return []
    permanent = _dict(media.get("IGDirectPublishedMessagePermanentMedia*permanentMedia"))
    photo = _dict(permanent.get("IGPhoto*photo"))
    versions = [_dict(v) for v in _list(photo.get("imageVersions"))]
    largest = max(versions, key=lambda v: (v.get("width") or 0) * (v.get("height") or 0), default={})
    return [{"type": _subtype(permanent.get("codedSubtype") or media.get("codedSubtype")),
             "media_id": photo.get("kIGPhotoMediaID"), "url": largest.get("url")}]


def _subtype(coded) -> str | None:
    return coded.removeprefix("SUBTYPE_").lower() if isinstance(coded, str) else None


def _nsdate(value):
    return timestamps.cocoa_s(value.get("NS.time")) if isinstance(value, dict) else None


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value) -> list:
    return value if isinstance(value, list) else []
