"""Signal for iOS: ``grdb/signal.sqlite`` in the app's shared AppGroup container.

Signal encrypts this database with SQLCipher (32-byte plaintext header); the key is in the device keychain, which
this parser is not given, so an encrypted file gives the outcome "encrypted: key not found". A plaintext copy (one
decrypted elsewhere) is read: ``model_TSInteraction`` rows with ``recordType`` 19 are incoming and 21 outgoing
messages, ``timestamp`` and ``receivedAtTimestamp`` are Unix milliseconds, and the thread's contact comes from
``model_TSThread``.
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Message
from parsers.decoders.sqlcipher import HEAD_SIZE, is_sqlcipher
from parsers.framework import Encrypted, Unsupported, open_readonly, optional_columns, parser, tables

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "iLEAPP scripts/artifacts/signalIOS.py"

APP = "org.whispersystems.signal"
PATHS = ["*/AppGroup/*/grdb/signal.sqlite"]
INCOMING, OUTGOING = 19, 21


@parser(name="signal-ios-messages", app=APP, platform="Signal", paths=PATHS)
def messages(_, ctx):
    """Messages of a plaintext signal.sqlite; an encrypted one (the normal case) is reported as such."""
    with open(ctx.local, "rb") as handle:
        if is_sqlcipher(handle.read(HEAD_SIZE)):
            raise Encrypted("key not found")
    db = open_readonly(ctx.local)
    try:
        if not {"model_tsinteraction", "model_tsthread"} <= tables(db):
            raise Unsupported("plaintext signal.sqlite without model_TSInteraction and model_TSThread")
        interaction = optional_columns(db, "model_TSInteraction",
                                       ("uniqueId", "recordType", "body", "timestamp", "receivedAtTimestamp",
                                        "authorPhoneNumber", "authorUUID", "uniqueThreadId", "read",
                                        "wasRemotelyDeleted", "isViewOnceMessage"), alias="i")
        thread = optional_columns(db, "model_TSThread", ("contactPhoneNumber", "contactUUID"), alias="t")
        for row in db.execute(f"SELECT i.id, {interaction}, {thread} FROM model_TSInteraction i "
                              f"LEFT JOIN model_TSThread t ON t.uniqueId = i.uniqueThreadId ORDER BY i.id"):
            kind = row["recordType"]
            direction = {INCOMING: "incoming", OUTGOING: "outgoing"}.get(kind)
            contact = row["contactPhoneNumber"] or row["contactUUID"]
            received = timestamps.unix_ms(row["receivedAtTimestamp"])
            extra = {"unique_id": row["uniqueId"], "record_type": kind, "read": row["read"],
                     "view_once": row["isViewOnceMessage"], "author_uuid": row["authorUUID"]}
            yield Message(
                app=ctx.app, platform=ctx.platform, thread_id=row["uniqueThreadId"],
                sender=(row["authorPhoneNumber"] or row["authorUUID"]) if direction == "incoming" else None,
                recipients=[contact] if direction == "outgoing" and contact else [], direction=direction,
                body=row["body"], message_type="message" if direction else f"record type {kind}",
                deleted=bool(row["wasRemotelyDeleted"]), ts=timestamps.unix_ms(row["timestamp"]),
                received_ts=received if direction == "incoming" else None,
                extra={k: v for k, v in extra.items() if v is not None},
                prov=ctx.prov("model_TSInteraction", row["id"]))
    finally:
        db.close()
