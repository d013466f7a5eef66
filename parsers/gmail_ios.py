"""Gmail for iOS: the offline search index,
``Containers/Data/Application/<UUID>/Library/Application Support/data/<account address>/searchsqlitedb``.

Layout from iLEAPP ``scripts/artifacts/gmail.py`` (gmailOfflineSearch) and the real files it tests on
(``admin/test/cases/data/gmail``: josh_ios15_ffs, mvs_ios_2023). The e-mails sit in ``offline_search_content``, the
content table of a full-text index: ``c0`` time (Unix ms, stored as a real), ``c1`` thread id, ``c2`` message id,
``c3`` sender as ``Name, address``, ``c4`` To, ``c5`` CC, ``c6`` BCC, ``c7`` subject, ``c8`` body text. The folder
holding the file is named after the signed-in account's address (both real files show it), which makes a message
from that address outgoing. Each e-mail is a Message with ``message_type`` ``email`` and its subject in ``extra``.
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Message
from parsers.framework import parser

APP, PLATFORM = "com.google.Gmail", "Gmail"
SOURCE = "iLEAPP scripts/artifacts/gmail.py; iLEAPP admin/test/cases/data/gmail (real searchsqlitedb files)"


@parser(name="gmail-ios-offline-search", app=APP, platform=PLATFORM, source=SOURCE,
        paths=["*/Containers/Data/Application/*/Library/Application Support/data/*/searchsqlitedb"],
        requires={"offline_search_content": {"id", "c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"}})
def offline_search(db, ctx):
    """E-mails kept for offline search, with sender, recipients, subject and body text."""
    account = ctx.source.path.rsplit("/", 2)[-2]
    owner = account.lower() if "@" in account else None
    for row in db.execute("SELECT id, c0, c1, c2, c3, c4, c5, c6, c7, c8 FROM offline_search_content ORDER BY id"):
        name, address = _sender(row["c3"])
        direction = None if not owner or not address else ("outgoing" if address.lower() == owner else "incoming")
        extra = {"subject": row["c7"], "message_id": row["c2"], "to": row["c4"] or None, "cc": _addresses(row["c5"]),
                 "bcc": _addresses(row["c6"]), "account": account}
        yield Message(app=ctx.app, platform=ctx.platform, message_type="email", thread_id=row["c1"], sender=address,
                      sender_name=name, recipients=_addresses(row["c4"]) or [], direction=direction, body=row["c8"],
                      ts=timestamps.unix_ms(row["c0"]), extra={k: v for k, v in extra.items() if v},
                      prov=ctx.prov("offline_search_content", row["id"]))


def _sender(value) -> tuple[str | None, str | None]:
    """``Name, address`` (iLEAPP splits it at the comma); a lone value is the address if it has an ``@``."""
    if not value:
        return None, None
    parts = [p.strip() for p in str(value).split(",")]
    address = next((p for p in reversed(parts) if "@" in p), None)
    name = ", ".join(p for p in parts if p != address) or None
    return name, address


def _addresses(value) -> list[str] | None:
    """The addresses in a ``Name, address, Name, address`` list (the names are dropped here; the raw text is kept
    in ``extra.to``)."""
    if not value:
        return None
    return [p.strip() for p in str(value).split(",") if "@" in p] or None
