"""WhatsApp for iOS: messages and shared locations (ChatStorage.sqlite), address book (ContactsV2.sqlite), calls
(CallHistory.sqlite) and the privacy-id pairs (LID.sqlite), all in the app's shared AppGroup container.

All four are Core Data stores; every time is Cocoa seconds (``ZMESSAGEDATE``, ``ZDATE``, ``ZLASTUPDATED``, ...).
Newer WhatsApp releases address people by a "LID" (``<digits>@lid``) instead of their phone number; where
LID.sqlite beside the database pairs a LID with a phone number, messages and calls carry the phone-number JID and
keep the LID in ``extra``. An unreadable LID.sqlite is reported by ``whatsapp-ios-lid``'s own outcome; the other
parsers then leave LIDs unresolved.

``ZWAMESSAGE.ZPUSHNAME`` is the sender's self-chosen name, but some builds store a base64-encoded protobuf message
there instead. No public source describes that message's fields, so it is not decoded: it never becomes
``sender_name`` (nor ``push_name``) and is kept as stored in ``extra["push_name_blob"]``. Address-book labels such as
``_$!<Mobile>!$_`` are reported as ``mobile`` (``decoders.apple_labels``).
"""
from __future__ import annotations

import base64
import binascii
import re
import sqlite3

from artifacts import timestamps
from artifacts.records import Call, Contact, Location, Message
from parsers.decoders import protobuf_wire
from parsers.decoders.apple_labels import clean_label
from parsers.framework import as_text, columns, open_readonly, optional_columns, parser, tables

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "iLEAPP scripts/artifacts/whatsApp.py"

APP = "net.whatsapp.WhatsApp"
GROUP = "*/Containers/Shared/AppGroup/*/"
CHATS = GROUP + "ChatStorage.sqlite"

# ZWAMESSAGE.ZMESSAGETYPE as public parsers and examiners corroborate them; others are kept as "type N".
MESSAGE_TYPES = {0: "text", 1: "image", 2: "video", 3: "audio", 4: "contact", 5: "location", 6: "group event",
                 7: "link", 8: "document", 10: "system", 11: "gif", 15: "sticker", 38: "image", 39: "video"}
LOCATION_TYPE = 5
# ZWACHATSESSION.ZSESSIONTYPE
SESSION_TYPES = {0: "direct", 1: "group", 2: "broadcast", 3: "status", 4: "community"}
# ZWACDCALLEVENT.ZOUTCOME as iLEAPP labels it (0 ended, 1 missed, 4 rejected); other values are kept raw.
CALL_OUTCOMES = {0: ("ended", True), 1: ("missed", False), 4: ("rejected", False)}


@parser(name="whatsapp-ios-messages", app=APP, platform="WhatsApp", paths=[CHATS],
        source="iLEAPP scripts/artifacts/whatsApp.py, whatsAppExtended.py (ZWAMESSAGE, ZWACHATSESSION, "
               "ZWAGROUPMEMBER, ZWAMEDIAITEM)",
        requires={"ZWAMESSAGE": {"Z_PK", "ZCHATSESSION", "ZISFROMME", "ZMESSAGEDATE", "ZTEXT", "ZMESSAGETYPE"},
                  "ZWACHATSESSION": {"Z_PK", "ZCONTACTJID"}})
def messages(db, ctx):
    """Messages of every chat, with group senders from ZWAGROUPMEMBER and media from ZWAMEDIAITEM."""
    lids = LidMap.beside(ctx)
    for row in db.execute(_message_query(db)):
        message_type = row["ZMESSAGETYPE"]
        chat_jid = row["ZCONTACTJID"]
        outgoing = _flag(row["ZISFROMME"])
        extra = {"session_type": SESSION_TYPES.get(row["ZSESSIONTYPE"], row["ZSESSIONTYPE"]),
                 "message_type_raw": message_type, "starred": _flag(row["ZSTARRED"]),
                 "stanza_id": row["ZSTANZAID"], "message_status": row["ZMESSAGESTATUS"]}
        push_name = row["ZPUSHNAME"]
        if push_name is not None and is_protobuf_blob(push_name):
            extra["push_name_blob"], push_name = _stored(push_name), None
        else:
            extra["push_name"] = push_name = as_text(push_name)
        sender = sender_name = None
        recipients = []
        if outgoing is False:
            sender, lid = lids.resolve(row["ZMEMBERJID"] or row["ZFROMJID"] or chat_jid)
            partner = row["ZPARTNERNAME"] if row["ZSESSIONTYPE"] != 1 else None  # a group's name is not a sender's
            sender_name = row["ZCONTACTNAME"] or partner or push_name
            extra["sender_lid"] = lid
        elif outgoing:
            recipient, lid = lids.resolve(row["ZTOJID"] or chat_jid)
            recipients = [recipient] if recipient else []
            extra["recipient_lid"] = lid
        attachments = []
        if row["ZMEDIALOCALPATH"] or (row["ZTITLE"] and message_type != LOCATION_TYPE):
            attachments.append({"path": row["ZMEDIALOCALPATH"], "title": row["ZTITLE"]})
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=chat_jid, thread_name=row["ZPARTNERNAME"],
            sender=sender, sender_name=sender_name, recipients=recipients,
            direction=None if outgoing is None else ("outgoing" if outgoing else "incoming"),
            body=row["ZTEXT"], message_type=MESSAGE_TYPES.get(message_type, f"type {message_type}"),
            attachments=attachments, ts=timestamps.cocoa_s(row["ZMESSAGEDATE"]),
            extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov("ZWAMESSAGE", row["Z_PK"]))


@parser(name="whatsapp-ios-locations", app=APP, platform="WhatsApp", paths=[CHATS],
        requires={"ZWAMESSAGE": {"Z_PK", "ZCHATSESSION", "ZMESSAGEDATE", "ZMESSAGETYPE", "ZMEDIAITEM"},
                  "ZWAMEDIAITEM": {"Z_PK", "ZLATITUDE", "ZLONGITUDE"}, "ZWACHATSESSION": {"Z_PK", "ZCONTACTJID"}})
def locations(db, ctx):
    """Locations shared in chats: location messages (type 5) and the coordinates of their media item."""
    optional = (f"{optional_columns(db, 'ZWAMEDIAITEM', ['ZTITLE'], alias='mi')}, "
                f"{optional_columns(db, 'ZWAMESSAGE', ['ZISFROMME'], alias='m')}")
    for row in db.execute(
            f"SELECT mi.Z_PK, mi.ZLATITUDE, mi.ZLONGITUDE, m.Z_PK AS message, m.ZMESSAGEDATE, s.ZCONTACTJID, "
            f"{optional} FROM ZWAMESSAGE m JOIN ZWAMEDIAITEM mi ON mi.Z_PK = m.ZMEDIAITEM "
            f"LEFT JOIN ZWACHATSESSION s ON s.Z_PK = m.ZCHATSESSION "
            f"WHERE m.ZMESSAGETYPE = {LOCATION_TYPE} AND mi.ZLATITUDE IS NOT NULL AND mi.ZLONGITUDE IS NOT NULL "
            f"ORDER BY mi.Z_PK"):
        outgoing = _flag(row["ZISFROMME"])
        yield Location(
            app=ctx.app, latitude=row["ZLATITUDE"], longitude=row["ZLONGITUDE"], label=row["ZTITLE"],
            source_kind="chat message", ts=timestamps.cocoa_s(row["ZMESSAGEDATE"]),
            extra={"thread_id": row["ZCONTACTJID"], "message_pk": row["message"],
                   "direction": None if outgoing is None else ("outgoing" if outgoing else "incoming")},
            prov=ctx.prov("ZWAMEDIAITEM", row["Z_PK"]))


@parser(name="whatsapp-ios-contacts", app=APP, platform="WhatsApp", paths=[GROUP + "ContactsV2.sqlite"],
        source="iLEAPP scripts/artifacts/whatsApp.py (ZWAADDRESSBOOKCONTACT)",
        requires={"ZWAADDRESSBOOKCONTACT": {"Z_PK", "ZFULLNAME", "ZPHONENUMBER", "ZWHATSAPPID"}})
def contacts(db, ctx):
    """The address book as WhatsApp synchronised it (ZWAADDRESSBOOKCONTACT)."""
    optional = optional_columns(db, "ZWAADDRESSBOOKCONTACT", [
        "ZLID", "ZUSERNAME", "ZBUSINESSNAME", "ZABOUTTEXT", "ZABOUTTIMESTAMP", "ZPHONENUMBERLABEL", "ZIDENTIFIER",
        "ZLASTUPDATED"], alias="c")
    for row in db.execute(f"SELECT c.Z_PK, c.ZFULLNAME, c.ZPHONENUMBER, c.ZWHATSAPPID, {optional} "
                          f"FROM ZWAADDRESSBOOKCONTACT c ORDER BY c.Z_PK"):
        about_ts = timestamps.cocoa_s(row["ZABOUTTIMESTAMP"])
        extra = {"about": row["ZABOUTTEXT"], "about_ts": about_ts.iso if about_ts else None,
                 "phone_label": clean_label(row["ZPHONENUMBERLABEL"]), "address_book_id": row["ZIDENTIFIER"], "lid": row["ZLID"]}
        yield Contact(
            app=ctx.app, platform=ctx.platform, name=row["ZFULLNAME"],
            phones=[row["ZPHONENUMBER"]] if row["ZPHONENUMBER"] else [],
            handles=[h for h in (row["ZWHATSAPPID"], row["ZLID"], row["ZUSERNAME"]) if h],
            user_id=row["ZWHATSAPPID"], organization=row["ZBUSINESSNAME"],
            ts=timestamps.cocoa_s(row["ZLASTUPDATED"]), extra={k: v for k, v in extra.items() if v is not None},
            prov=ctx.prov("ZWAADDRESSBOOKCONTACT", row["Z_PK"]))


@parser(name="whatsapp-ios-calls", app=APP, platform="WhatsApp", paths=[GROUP + "CallHistory.sqlite"],
        requires={"ZWACDCALLEVENT": {"Z_PK", "ZDATE", "ZDURATION", "ZOUTCOME", "Z1CALLEVENTS"},
                  "ZWACDCALLEVENTPARTICIPANT": {"Z1PARTICIPANTS", "ZJIDSTRING"}})
def calls(db, ctx):
    """Call log: one call per ZWACDCALLEVENT row.

    Both the call event (``Z1CALLEVENTS``) and its participants (``Z1PARTICIPANTS``) point at the aggregate call
    event (Core Data entity 1, ZWAAGGREGATECALLEVENT), which also says whether the call was incoming or video.
    """
    lids = LidMap.beside(ctx)
    has_aggregate = "zwaaggregatecallevent" in tables(db)
    picks = ", ".join([
        optional_columns(db, "ZWACDCALLEVENT", ["ZCALLIDSTRING", "ZGROUPJIDSTRING", "ZGROUPCALLCREATORUSERJIDSTRING",
                                                "ZBYTESSENT", "ZBYTESRECEIVED"], alias="e"),
        optional_columns(db, "ZWAAGGREGATECALLEVENT", ["ZINCOMING", "ZVIDEO", "ZMISSED"], alias="a")])
    join = "LEFT JOIN ZWAAGGREGATECALLEVENT a ON a.Z_PK = e.Z1CALLEVENTS" if has_aggregate else ""
    for row in db.execute(f"SELECT e.Z_PK, e.ZDATE, e.ZDURATION, e.ZOUTCOME, e.Z1CALLEVENTS, {picks} "
                          f"FROM ZWACDCALLEVENT e {join} ORDER BY e.Z_PK"):
        peers, peer_lids = [], []
        for (jid,) in db.execute("SELECT ZJIDSTRING FROM ZWACDCALLEVENTPARTICIPANT WHERE Z1PARTICIPANTS = ? "
                                 "AND ZJIDSTRING IS NOT NULL ORDER BY Z_PK", [row["Z1CALLEVENTS"]]):
            peer, lid = lids.resolve(jid)
            peers.append(peer)
            if lid:
                peer_lids.append(lid)
        status, answered = CALL_OUTCOMES.get(row["ZOUTCOME"], (f"outcome {row['ZOUTCOME']}", None))
        incoming = _flag(row["ZINCOMING"])
        video = _flag(row["ZVIDEO"])
        extra = {"call_id": row["ZCALLIDSTRING"], "group_jid": row["ZGROUPJIDSTRING"],
                 "group_call_creator": row["ZGROUPCALLCREATORUSERJIDSTRING"], "bytes_sent": row["ZBYTESSENT"],
                 "bytes_received": row["ZBYTESRECEIVED"], "missed": _flag(row["ZMISSED"]),
                 "outcome_raw": row["ZOUTCOME"], "peer_lids": peer_lids or None}
        yield Call(
            app=ctx.app, platform=ctx.platform, peers=peers,
            direction=None if incoming is None else ("incoming" if incoming else "outgoing"),
            call_type=None if video is None else ("video" if video else "audio"),
            duration_s=row["ZDURATION"], answered=answered, status=status, ts=timestamps.cocoa_s(row["ZDATE"]),
            extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov("ZWACDCALLEVENT", row["Z_PK"]))


@parser(name="whatsapp-ios-lid", app=APP, platform="WhatsApp", paths=[GROUP + "LID.sqlite"],
        requires={"ZWAPHONENUMBERLIDPAIR": {"Z_PK", "ZLID", "ZPHONENUMBER"}})
def lid_pairs(db, ctx):
    """Each LID / phone-number pair WhatsApp learnt, as a contact identity (the pair is evidence in itself)."""
    stamp = optional_columns(db, "ZWAPHONENUMBERLIDPAIR", ["ZTIMESTAMP"])
    for row in db.execute(f"SELECT Z_PK, ZLID, ZPHONENUMBER, {stamp} FROM ZWAPHONENUMBERLIDPAIR ORDER BY Z_PK"):
        yield Contact(
            app=ctx.app, platform=ctx.platform, phones=[row["ZPHONENUMBER"]] if row["ZPHONENUMBER"] else [],
            handles=[row["ZLID"]] if row["ZLID"] else [], user_id=row["ZLID"],
            ts=timestamps.cocoa_s(row["ZTIMESTAMP"]), extra={"kind": "lid pair"},
            prov=ctx.prov("ZWAPHONENUMBERLIDPAIR", row["Z_PK"]))


class LidMap:
    """LID → phone-number JID, from the LID.sqlite next to the database being parsed (the same AppGroup folder).

    LID.sqlite stores either bare digits or full JIDs; both are accepted, and a resolved identifier is always a
    ``<digits>@s.whatsapp.net`` JID so it compares equal to the phone-number JIDs elsewhere in the same stores.
    """

    def __init__(self, pairs: dict[str, str]):
        self.pairs = pairs

    @classmethod
    def beside(cls, ctx) -> "LidMap":
        folder = ctx.source.path.rsplit("/", 1)[0].lower()
        for spooled in ctx.find("*/LID.sqlite"):
            if spooled.partition == ctx.source.partition and spooled.path.rsplit("/", 1)[0].lower() == folder:
                return cls(_read_lid_pairs(spooled.local))
        return cls({})

    def resolve(self, jid: str | None) -> tuple[str | None, str | None]:
        """(identifier to report, the LID it replaced or None)."""
        if not jid or not jid.endswith("@lid"):
            return jid, None
        phone = self.pairs.get(_user(jid))
        return (f"{phone}@s.whatsapp.net", jid) if phone else (jid, None)


def _read_lid_pairs(path) -> dict[str, str]:
    try:
        db = open_readonly(path)
        try:
            rows = db.execute("SELECT ZLID, ZPHONENUMBER FROM ZWAPHONENUMBERLIDPAIR ORDER BY Z_PK").fetchall()
        finally:
            db.close()
    except sqlite3.DatabaseError:  # reported as whatsapp-ios-lid's outcome for that file
        return {}
    pairs = {}
    for lid, phone in rows:
        if lid and phone:
            pairs.setdefault(_user(str(lid)), _user(str(phone)).lstrip("+"))
    return pairs


def _user(jid: str) -> str:
    """The user part of a JID, without a device suffix: ``123:4@lid`` → ``123``."""
    return jid.split("@", 1)[0].split(":", 1)[0]


def _message_query(db) -> str:
    message = columns(db, "ZWAMESSAGE")
    has = tables(db)
    picks = [optional_columns(db, "ZWAMESSAGE", ["ZFROMJID", "ZTOJID", "ZPUSHNAME", "ZSTARRED", "ZSTANZAID",
                                                 "ZMESSAGESTATUS"], alias="m"),
             optional_columns(db, "ZWACHATSESSION", ["ZPARTNERNAME", "ZSESSIONTYPE"], alias="s")]
    joins = []
    for table, alias, link, names in (("ZWAGROUPMEMBER", "g", "ZGROUPMEMBER", ["ZMEMBERJID", "ZCONTACTNAME"]),
                                      ("ZWAMEDIAITEM", "mi", "ZMEDIAITEM", ["ZMEDIALOCALPATH", "ZTITLE"])):
        if link.lower() in message and table.lower() in has:
            picks.append(optional_columns(db, table, names, alias=alias))
            joins.append(f"LEFT JOIN {table} {alias} ON {alias}.Z_PK = m.{link}")
        else:  # nothing to join: every column of that table is absent
            picks.append(", ".join(f"NULL AS {n}" for n in names))
    return (f"SELECT m.Z_PK, m.ZMESSAGEDATE, m.ZISFROMME, m.ZTEXT, m.ZMESSAGETYPE, s.ZCONTACTJID, "
            f"{', '.join(picks)} FROM ZWAMESSAGE m LEFT JOIN ZWACHATSESSION s ON s.Z_PK = m.ZCHATSESSION "
            f"{' '.join(joins)} ORDER BY m.Z_PK")


_BASE64 = re.compile(r"[A-Za-z0-9+/]{8,}={0,2}")


def is_protobuf_blob(value) -> bool:
    """Whether a ZPUSHNAME value is binary or base64 of a well-formed protobuf message rather than a name: bytes
    that are not UTF-8 text, or a space-free base64 string (at least 12 characters) whose bytes are not printable
    text and parse as protobuf fields to the last byte."""
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            return True
    if not isinstance(value, str) or len(value) < 12 or len(value) % 4 or not _BASE64.fullmatch(value):
        return False
    try:
        raw = base64.b64decode(value, validate=True)
        if raw.decode("utf-8", "ignore").isprintable() and raw.isascii():
            return False
        return sum(1 for _ in protobuf_wire.fields(raw)) > 0
    except (binascii.Error, protobuf_wire.ProtobufError):
        return False


def _stored(value) -> str:
    return base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value


def _flag(value) -> bool | None:
    return None if value is None else bool(value)
