"""Apple Mail on iOS 13 and later: ``/private/var/mobile/Library/Mail/Envelope Index`` with its companion
``Protected Index`` in the same folder.

Layout from iLEAPP ``scripts/artifacts/mailprotect.py`` (no public test database could be had: the test zips are
over the mirror's size limit). ``Envelope Index`` holds ``messages(ROWID, date_sent, date_received [Unix s], sender,
subject, summary, mailbox, read, flagged, deleted, global_message_id)``, ``mailboxes(ROWID, url)``,
``recipients(message, address, type)`` and the attachment tables (``message_attachments(global_message_id, name,
attachment)`` → ``attachments(ROWID, size)`` on current versions, ``attachments(message, name)`` on iOS 13 and 14);
``Protected Index`` holds the text those ids point to: ``addresses(ROWID, address, comment)``,
``subjects(ROWID, subject)``, ``summaries(ROWID, summary)``. ``recipients.type`` 1 is To (established by iLEAPP's
testing); other types are kept with their number. CC/BCC live only in the ``.emlx`` files, not read here.

Each e-mail is a Message with ``message_type`` ``email``, its subject in ``extra``, the summary as ``body``; every
address the Protected Index holds is also a Contact, so addresses link across devices. Without a Protected Index the
messages are still read, with the raw ids of sender, subject and summary in ``extra``.
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Contact, Message
from artifacts.sql_quoting import sqlite_uri
from parsers.framework import columns, optional_columns, parser, tables

APP = "com.apple.mobilemail"
ENVELOPE = "*/mobile/Library/Mail/Envelope Index"
PROTECTED = "*/mobile/Library/Mail/Protected Index"
SOURCE = "iLEAPP scripts/artifacts/mailprotect.py"
TO = 1


@parser(name="apple-mail-messages", app=APP, platform="E-mail", paths=[ENVELOPE], source=SOURCE,
        requires={"messages": {"date_sent", "date_received", "sender", "subject", "summary", "mailbox", "read",
                               "flagged", "deleted"},
                  "recipients": {"message", "address", "type"}})
def messages(db, ctx):
    """E-mails (messages) with sender, To recipients, subject, summary, mailbox and attachments."""
    protected = _attach_protected(db, ctx)
    mailboxes = dict(db.execute("SELECT ROWID, url FROM mailboxes")) if "mailboxes" in tables(db) else {}
    addresses = subjects = summaries = {}
    if protected:
        addresses = {r[0]: (r[1], r[2]) for r in db.execute("SELECT ROWID, address, comment FROM pi.addresses")}
        subjects = dict(db.execute("SELECT ROWID, subject FROM pi.subjects"))
        summaries = dict(db.execute("SELECT ROWID, summary FROM pi.summaries"))
    recipients: dict[int, list[tuple[int, int]]] = {}
    for message, address, kind in db.execute("SELECT message, address, type FROM recipients ORDER BY rowid"):
        recipients.setdefault(message, []).append((address, kind))
    attachments = _attachments(db)
    global_id = optional_columns(db, "messages", ("global_message_id",))
    for row in db.execute(f"SELECT ROWID, date_sent, date_received, sender, subject, summary, mailbox, read, "
                          f"flagged, deleted, {global_id} FROM messages ORDER BY ROWID"):
        sender, sender_name = addresses.get(row["sender"], (None, None))
        to, others = [], []
        for address, kind in recipients.get(row["ROWID"], []):
            text = addresses.get(address, (None, None))[0] if protected else str(address)
            if kind == TO:
                to.append(text)
            else:
                others.append({"address": text, "type": kind})
        extra = {"subject": subjects.get(row["subject"]), "mailbox": mailboxes.get(row["mailbox"]),
                 "read": row["read"], "flagged": row["flagged"], "global_message_id": row["global_message_id"],
                 "other_recipients": others or None}
        if not protected:
            extra.update({"protected_index": "absent", "sender_id": row["sender"], "subject_id": row["subject"],
                          "summary_id": row["summary"]})
        key = row["global_message_id"] if row["global_message_id"] is not None else row["ROWID"]
        yield Message(app=ctx.app, platform=ctx.platform, message_type="email", sender=sender,
                      sender_name=sender_name or None, recipients=[t for t in to if t],
                      body=summaries.get(row["summary"]),
                      deleted=bool(row["deleted"]), attachments=attachments.get(key, []),
                      ts=timestamps.unix_s(row["date_sent"]), received_ts=timestamps.unix_s(row["date_received"]),
                      extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov("messages", row["ROWID"]))


@parser(name="apple-mail-addresses", app=APP, platform="E-mail", paths=[PROTECTED], source=SOURCE,
        requires={"addresses": {"address", "comment"}})
def addresses(db, ctx):
    """Every e-mail address Mail has seen, with the display name it came with (Protected Index ``addresses``)."""
    for row in db.execute("SELECT ROWID, address, comment FROM addresses ORDER BY ROWID"):
        if row["address"]:
            yield Contact(app=ctx.app, platform=ctx.platform, name=row["comment"] or None, emails=[row["address"]],
                          extra={"source": "mail addresses"}, prov=ctx.prov("addresses", row["ROWID"]))


def _attach_protected(db, ctx) -> bool:
    """Attach the Protected Index from the same folder as ``pi``; False when there is none usable."""
    folder = ctx.source.path.rsplit("/", 1)[0]
    for spooled in ctx.find(PROTECTED):
        if spooled.path.rsplit("/", 1)[0] == folder and spooled.partition == ctx.source.partition:
            db.execute("ATTACH DATABASE ? AS pi", (sqlite_uri(spooled.local),))
            present = {r[0].lower() for r in db.execute("SELECT name FROM pi.sqlite_master WHERE type = 'table'")}
            if {"addresses", "subjects", "summaries"} <= present:
                return True
            db.execute("DETACH DATABASE pi")
    return False


def _attachments(db) -> dict:
    """Attachments by global_message_id (current layout) or by message ROWID (iOS 13 and 14)."""
    found: dict = {}
    if {"global_message_id", "name", "attachment"} <= columns(db, "message_attachments"):
        size = "a.size" if "size" in columns(db, "attachments") else "NULL"
        rows = db.execute(f"SELECT m.global_message_id, m.name, {size} FROM message_attachments m "
                          f"LEFT JOIN attachments a ON a.ROWID = m.attachment ORDER BY m.rowid")
    elif {"message", "name"} <= columns(db, "attachments"):
        rows = db.execute("SELECT message, name, NULL FROM attachments ORDER BY rowid")
    else:
        return found
    for key, name, size in rows:
        found.setdefault(key, []).append({k: v for k, v in {"name": name, "size": size}.items() if v is not None})
    return found
