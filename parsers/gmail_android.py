"""Gmail for Android: ``com.google.android.gm/databases/bigTopDataDB.<n>``.

Layout from ALEAPP ``scripts/artifacts/gmailEmails.py`` (no public test database): each ``item_messages`` row has a
``zipped_message_proto``: drop its first byte, zlib-inflate the rest, and read the protobuf. The fields ALEAPP
established by testing: 17 time (Unix ms); 1.2 / 1.3 recipient address / name; 5 subject; 6.2[].3.2 the HTML body
parts; 11.17 / 11.15 reply-to address / name; 11.8 mailed-by; 11.9 signed-by. No field is known to hold the sender,
so ``sender`` stays empty and the reply-to and mailed-by values go to ``extra``. Rows are identified by rowid. ALEAPP
joins ``item_message_attachments`` and so repeats a message once per attachment; here each message is one record.
Inflation is bounded, so a crafted blob cannot exhaust memory.

The signed-in account is ``active-account`` in ``shared_prefs/Gmail.xml`` (ALEAPP ``scripts/artifacts/gmail.py``).
"""
from __future__ import annotations

import zlib

from artifacts import timestamps
from artifacts.records import Account, Message
from parsers.decoders import protobuf_wire as pw
from parsers.decoders.abx import load_android_xml
from parsers.framework import parser

APP, PLATFORM = "com.google.android.gm", "Gmail"
SOURCE = "ALEAPP scripts/artifacts/gmailEmails.py"
MAX_INFLATED = 32 * 1024 * 1024
MAX_PREFS = 4 * 1024 * 1024


@parser(name="gmail-android-messages", app=APP, platform=PLATFORM, source=SOURCE,
        paths=["*/com.google.android.gm/databases/bigTopDataDB.*"],
        requires={"item_messages": {"zipped_message_proto"}})
def messages(db, ctx):
    """E-mails from the zipped message protobufs (item_messages)."""
    for row in db.execute("SELECT rowid AS row_id, zipped_message_proto FROM item_messages "
                          "WHERE zipped_message_proto IS NOT NULL ORDER BY rowid"):
        try:
            proto = _inflate(bytes(row["zipped_message_proto"]))
            sent = pw.path(proto, 17)
        except (zlib.error, pw.ProtobufError, ValueError) as exc:
            yield Message(app=ctx.app, platform=ctx.platform, message_type="email",
                          extra={"undecoded": f"{type(exc).__name__}: {exc}"}, prov=ctx.prov("item_messages",
                                                                                            row["row_id"]))
            continue
        recipient = pw.text(proto, 1, 2)
        extra = {"subject": pw.text(proto, 5), "recipient_name": pw.text(proto, 1, 3),
                 "reply_to": pw.text(proto, 11, 17), "reply_to_name": pw.text(proto, 11, 15),
                 "mailed_by": pw.text(proto, 11, 8), "signed_by": pw.text(proto, 11, 9)}
        yield Message(app=ctx.app, platform=ctx.platform, message_type="email",
                      recipients=[recipient] if recipient else [], body=_body(proto),
                      ts=timestamps.unix_ms(sent) if isinstance(sent, int) else None,
                      extra={k: v for k, v in extra.items() if v}, prov=ctx.prov("item_messages", row["row_id"]))


@parser(name="gmail-android-account", app=APP, platform=PLATFORM, source="ALEAPP scripts/artifacts/gmail.py",
        paths=["*/com.google.android.gm/shared_prefs/Gmail.xml"])
def account(_db, ctx):
    """The active Gmail account (``active-account`` in Gmail.xml)."""
    if ctx.local.stat().st_size > MAX_PREFS:
        raise ValueError(f"preferences file larger than {MAX_PREFS} bytes")
    for element in load_android_xml(ctx.local.read_bytes()):
        if element.get("name") == "active-account" and (element.text or "").strip():
            address = element.text.strip()
            yield Account(app=ctx.app, platform=ctx.platform, account_type="Google", email=address, username=address,
                          extra={"active": True}, prov=ctx.prov("active-account"))


def _inflate(blob: bytes) -> bytes:
    inflater = zlib.decompressobj()
    data = inflater.decompress(blob[1:], MAX_INFLATED)
    if inflater.unconsumed_tail:
        raise ValueError(f"message inflates past {MAX_INFLATED} bytes")
    return data


def _body(proto: bytes) -> str | None:
    """The HTML parts at 6.2[].3.2, joined."""
    parts = []
    container = pw.path(proto, 6)
    if isinstance(container, bytes):
        for field in pw.fields(container):
            if field.number == 2 and isinstance(field.value, bytes):
                part = pw.text(field.value, 3, 2)
                if part:
                    parts.append(part)
    return "\n".join(parts) or None
