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
    """SMS text messages (sms table), mapped inside SQLite (``ctx.bulk``): a phone can hold hundreds of thousands."""
    optional = columns(db, "sms")
    yield ctx.bulk(Message, "sms", _sms_sql(ctx.platform, "date_sent" in optional, "read" in optional),
                   times={"ts": "unix_ms", "received_ts": "unix_ms"})


def _sms_sql(platform: str, has_date_sent: bool, has_read: bool) -> str:
    """One Message per sms row. Every expression gives exactly what a row-by-row Python mapping of the same row
    would (``str()`` of a thread id, ``[address]`` and ``{"read": read}`` as the store writes JSON, the type's
    direction and status, ``type N`` for others); reals and blobs, which SQL would write differently, go through the
    store's Python functions (``py_str``, ``json_list_of``, ``json_object_of``)."""
    kind = "(CASE WHEN typeof(s.type) IN ('integer', 'real') THEN s.type END)"  # no affinity: '1' is not 1
    directions = " ".join(f"WHEN {code} THEN '{direction}'" for code, (direction, _) in sorted(_SMS_TYPES.items()))
    statuses = " ".join(f"WHEN {code} THEN '{status}'" for code, (_, status) in sorted(_SMS_TYPES.items()))
    unknown = ("'type ' || CASE WHEN s.type IS NULL THEN 'None' WHEN typeof(s.type) IN ('integer', 'text') "
               "THEN s.type ELSE py_str(s.type) END")
    incoming = f"{kind} = 1"
    outgoing = f"{kind} IN ({', '.join(str(c) for c, (d, _) in sorted(_SMS_TYPES.items()) if d == 'outgoing')})"
    address_given = ("(CASE typeof(s.address) WHEN 'null' THEN 0 WHEN 'text' THEN s.address <> '' "
                     "WHEN 'blob' THEN length(s.address) > 0 ELSE s.address <> 0 END)")
    recipients = ("CASE WHEN typeof(s.address) IN ('text', 'integer') THEN json_array(s.address) "
                  "ELSE json_list_of(s.address) END")
    date_sent = "s.date_sent" if has_date_sent else "NULL"
    read = ("CASE WHEN s.read IS NULL THEN '{}' WHEN typeof(s.read) = 'integer' THEN '{\"read\": ' || s.read || '}' "
            "WHEN typeof(s.read) = 'text' THEN '{\"read\": ' || json_quote(s.read) || '}' "
            "ELSE json_object_of('read', s.read) END") if has_read else "'{}'"
    return f"""
    SELECT s._id AS source_row, '{platform.replace("'", "''")}' AS platform,
           CASE WHEN typeof(s.thread_id) IN ('integer', 'text') THEN CAST(s.thread_id AS TEXT)
                WHEN s.thread_id IS NULL THEN NULL ELSE py_str(s.thread_id) END AS thread_id,
           s.body AS body, CASE {kind} {directions} END AS direction,
           CASE {kind} {statuses} ELSE {unknown} END AS status, 'sms' AS message_type,
           CASE WHEN {incoming} THEN s.address END AS sender,
           CASE WHEN {outgoing} AND {address_given} THEN {recipients} ELSE '[]' END AS recipients,
           CASE WHEN {incoming} AND {timestamps.sql_iso("unix_ms", date_sent)} IS NOT NULL THEN {date_sent}
                ELSE s.date END AS ts,
           CASE WHEN {incoming} THEN s.date END AS received_ts, {read} AS extra
    FROM src.sms s ORDER BY s._id"""


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
