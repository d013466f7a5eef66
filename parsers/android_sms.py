"""Android SMS and MMS from the telephony provider's mmssms.db (sms, pdu, addr and part tables)."""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Message
from parsers.framework import columns, parser

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = ("AOSP Telephony provider (sms, pdu, addr, part); ALEAPP scripts/artifacts/smsmms.py; "
          "plaso test_data/android/mmssms.db (real file)")

APP = "com.android.providers.telephony"
PATHS = ["*/com.android.providers.telephony/databases/mmssms.db"]

# sms.type / pdu.msg_box
_SMS_TYPES = {1: ("incoming", "received"), 2: ("outgoing", "sent"), 3: ("outgoing", "draft"),
              4: ("outgoing", "outbox"), 5: ("outgoing", "failed"), 6: ("outgoing", "queued")}
# addr.type: PduHeaders FROM / TO / CC / BCC
_ADDR_FROM, _ADDR_RECIPIENTS = 0x89, (0x97, 0x82, 0x81)


@parser(name="android-sms", app=APP, platform="SMS", paths=PATHS,
        requires={"sms": {"_id", "thread_id", "address", "date", "type", "body"}}, carve=("sms",))
def sms(db, ctx):
    """SMS text messages (sms table)."""
    optional = columns(db, "sms")
    date_sent = "date_sent" if "date_sent" in optional else "NULL"
    read = "read" if "read" in optional else "NULL"
    for row in db.execute(f"SELECT _id, thread_id, address, date, {date_sent} AS date_sent, {read} AS read, "
                          f"type, body FROM sms ORDER BY _id"):
        direction, status = _SMS_TYPES.get(row["type"], (None, f"type {row['type']}"))
        address = row["address"]
        received = timestamps.unix_ms(row["date"])
        sent = timestamps.unix_ms(row["date_sent"])
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=_text(row["thread_id"]), body=row["body"],
            direction=direction, status=status, message_type="sms",
            sender=address if direction == "incoming" else None,
            recipients=[address] if direction == "outgoing" and address else [],
            ts=sent if direction == "incoming" and sent else received,
            received_ts=received if direction == "incoming" else None,
            extra={"read": row["read"]} if row["read"] is not None else {},
            prov=ctx.prov("sms", row["_id"]),
        )


@parser(name="android-mms", app=APP, platform="MMS", paths=PATHS,
        requires={"pdu": {"_id", "thread_id", "date", "msg_box"}, "addr": {"msg_id", "address", "type"},
                  "part": {"mid", "ct", "text"}})
def mms(db, ctx):
    """MMS messages (pdu with its addr and part rows); pdu.date is in seconds."""
    part_cols = columns(db, "part")
    data_col = "_data" if "_data" in part_cols else "NULL"
    name_col = "cl" if "cl" in part_cols else "NULL"
    # addr and part have no index on their message id: each message's rows are looked up in indexed copies in the
    # connection's own temp schema (the working copy is not changed), not by a scan of both tables per message
    for table, select, key in (("mms_addr", "SELECT msg_id, _rowid_ AS rid, address, type FROM addr", "msg_id, rid"),
                               ("mms_part", f"SELECT mid, seq, _rowid_ AS rid, ct, text, {data_col} AS data, "
                                            f"{name_col} AS name FROM part", "mid, seq, rid")):
        db.execute(f"DROP TABLE IF EXISTS temp.{table}")
        db.execute(f"CREATE TEMP TABLE {table} AS {select}")
        db.execute(f"CREATE INDEX temp.{table}_key ON {table} ({key})")
    for pdu in db.execute("SELECT _id, thread_id, date, msg_box FROM pdu ORDER BY _id"):
        direction, status = _SMS_TYPES.get(pdu["msg_box"], (None, f"msg_box {pdu['msg_box']}"))
        sender, recipients = None, []
        for addr in db.execute("SELECT address, type FROM temp.mms_addr WHERE msg_id = ? ORDER BY rid", [pdu["_id"]]):
            if addr["type"] == _ADDR_FROM and addr["address"] != "insert-address-token":
                sender = addr["address"]
            elif addr["type"] in _ADDR_RECIPIENTS:
                recipients.append(addr["address"])
        texts, attachments = [], []
        for part in db.execute("SELECT ct, text, data, name FROM temp.mms_part WHERE mid = ? ORDER BY seq, rid",
                               [pdu["_id"]]):
            if part["ct"] == "application/smil":
                continue
            if part["ct"] == "text/plain" and part["text"] is not None:
                texts.append(part["text"])
            else:
                attachments.append({"mime_type": part["ct"], "name": part["name"], "path": part["data"]})
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=_text(pdu["thread_id"]), body="\n".join(texts) or None,
            direction=direction, status=status, message_type="mms", sender=sender, recipients=recipients,
            attachments=attachments, ts=timestamps.unix_s(pdu["date"]), prov=ctx.prov("pdu", pdu["_id"]),
        )


def _text(value) -> str | None:
    return None if value is None else str(value)
