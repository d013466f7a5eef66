"""The iPhone's call log: phone, FaceTime and the VoIP calls apps (WhatsApp, Signal, Telegram, ...) report to CallKit.

Files:
- ``/private/var/mobile/Library/CallHistoryDB/CallHistory.storedata`` (iOS 8+, Core Data): ``ZCALLRECORD``.
  ``ZDATE`` is Cocoa seconds (call start), ``ZDURATION`` seconds, ``ZORIGINATED`` 1 outgoing, ``ZANSWERED`` 1
  answered. ``ZCALLTYPE``: 1 phone, 8 FaceTime video, 16 FaceTime audio, 0 a third-party app, whose bundle id is
  ``ZSERVICE_PROVIDER`` and whose ``ZCALL_CATEGORY`` is 1 audio / 2 video. ``ZADDRESS`` is text or, on some
  releases, a UTF-8 blob. Group FaceTime calls list their remote participants in ``ZHANDLE`` through the
  many-to-many table ``Z_<n>REMOTEPARTICIPANTHANDLES`` (entity numbers vary by model version).
- ``call_history.db`` (iOS 7 and earlier, ``/private/var/wireless/Library/CallHistory``): table ``call``, ``date``
  Unix seconds, ``flags`` bit 0 set for outgoing calls (the database's own timer triggers test that bit).
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Call
from parsers.framework import columns, optional_columns, parser, tables
from artifacts.sql_quoting import ident

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "iLEAPP scripts/artifacts/callHistory.py, callHistoryGroupCall.py"

# ZCALLTYPE → (platform, call type); 0 (third-party app) is resolved per row
_CALL_TYPES = {1: ("Phone", "audio"), 8: ("FaceTime", "video"), 16: ("FaceTime", "audio")}
_CATEGORIES = {1: "audio", 2: "video"}
# VoIP apps' bundle ids as CallKit records them → the platform a person would name
_VOIP_APPS = {
    "net.whatsapp.WhatsApp": "WhatsApp", "net.whatsapp.WhatsAppSMB": "WhatsApp Business",
    "ph.telegra.Telegraph": "Telegram", "org.telegram.messenger": "Telegram",
    "org.whispersystems.signal": "Signal", "com.viber": "Viber", "com.facebook.Messenger": "Messenger",
    "com.burbn.instagram": "Instagram", "com.skype.skype": "Skype", "jp.naver.line": "LINE",
    "com.tencent.xin": "WeChat", "com.toyopagroup.picaboo": "Snapchat", "com.microsoft.skype.teams": "Microsoft Teams",
    "us.zoom.videomeetings": "Zoom", "com.google.Duo": "Google Meet", "im.imo.imoimiphone": "imo",
    "com.discord": "Discord", "com.hammerandchisel.discord": "Discord", "ch.threema.iapp": "Threema",
    "com.wire": "Wire", "com.kik.chat": "Kik", "com.textnow.TextNow": "TextNow", "com.burner.app": "Burner",
}
_EXTRA_COLUMNS = {"ZLOCATION": "location", "ZISO_COUNTRY_CODE": "country_code", "ZSERVICE_PROVIDER": "service_provider",
                  "ZUNIQUE_ID": "unique_id", "ZDISCONNECTED_CAUSE": "disconnected_cause", "ZREAD": "read",
                  "ZCALLTYPE": "call_type_code", "ZHANDLE_TYPE": "handle_type"}


@parser(name="ios-calls", app="com.apple.mobilephone", platform="Phone",
        paths=["*/mobile/Library/CallHistoryDB/CallHistory.storedata"],
        requires={"ZCALLRECORD": {"Z_PK", "ZDATE", "ZDURATION", "ZORIGINATED", "ZANSWERED", "ZCALLTYPE", "ZADDRESS"}})
def calls(db, ctx):
    """Every call record: phone, FaceTime, and third-party VoIP calls under their app's bundle id."""
    wanted = ("ZNAME", "ZCALL_CATEGORY", *_EXTRA_COLUMNS)
    optional = optional_columns(db, "ZCALLRECORD", [c for c in wanted if c != "ZCALLTYPE"])
    participants = _remote_participants(db)
    for row in db.execute(f"SELECT Z_PK, ZDATE, ZDURATION, ZORIGINATED, ZANSWERED, ZCALLTYPE, ZADDRESS, {optional} "
                          f"FROM ZCALLRECORD ORDER BY Z_PK"):
        app, (platform, call_type) = ctx.app, _CALL_TYPES.get(row["ZCALLTYPE"], (None, None))
        provider = row["ZSERVICE_PROVIDER"]
        if row["ZCALLTYPE"] == 0 and provider:
            app, platform = provider, _VOIP_APPS.get(provider, provider)
            call_type = _CATEGORIES.get(row["ZCALL_CATEGORY"])
        address = _text(row["ZADDRESS"])
        outgoing = _flag(row["ZORIGINATED"])
        answered = _flag(row["ZANSWERED"])
        yield Call(
            app=app, platform=platform, peers=[address] if address else participants.get(row["Z_PK"], []),
            peer_name=row["ZNAME"], direction=None if outgoing is None else "outgoing" if outgoing else "incoming",
            call_type=call_type, duration_s=row["ZDURATION"], answered=answered,
            status=_status(outgoing, answered), ts=timestamps.cocoa_s(row["ZDATE"]),
            extra={name: row[col] for col, name in _EXTRA_COLUMNS.items() if row[col] not in (None, "")},
            prov=ctx.prov("ZCALLRECORD", row["Z_PK"]),
        )


@parser(name="ios-calls-legacy", app="com.apple.mobilephone", platform="Phone",
        paths=["*/Library/CallHistory/call_history.db"],
        requires={"call": {"ROWID", "address", "date", "duration", "flags"}})
def legacy_calls(db, ctx):
    """Calls from the pre-iOS 8 call_history.db; only the direction bit of ``flags`` is interpreted."""
    optional = optional_columns(db, "call", ("name", "country_code", "read", "id"))
    for row in db.execute(f"SELECT ROWID, address, date, duration, flags, {optional} FROM call ORDER BY ROWID"):
        address = _text(row["address"])
        flags = row["flags"]
        extra = {"flags": flags}
        extra.update({k: row[k] for k in ("country_code", "read") if row[k] not in (None, "")})
        if row["id"] not in (None, -1, 0):
            extra["contact_id"] = row["id"]
        yield Call(
            app=ctx.app, platform=ctx.platform, peers=[address] if address else [], peer_name=row["name"] or None,
            direction=None if flags is None else "outgoing" if flags & 1 else "incoming",
            duration_s=row["duration"], ts=timestamps.unix_s(row["date"]), extra=extra,
            prov=ctx.prov("call", row["ROWID"]),
        )


def _remote_participants(db) -> dict[int, list[str]]:
    """Z_PK of a call → handle values of its remote participants (group FaceTime and others, iOS 14+)."""
    join = next((t for t in sorted(tables(db)) if t.startswith("z_") and t.endswith("remoteparticipanthandles")),
                None)
    if join is None or "zhandle" not in tables(db):
        return {}
    cols = columns(db, join)
    call_col = next((c for c in sorted(cols) if c.endswith("remoteparticipantcalls")), None)
    handle_col = next((c for c in sorted(cols) if c.endswith("remoteparticipanthandles")), None)
    if call_col is None or handle_col is None:
        return {}
    found: dict[int, list[str]] = {}
    for call, value in db.execute(f"SELECT j.{ident(call_col)}, h.ZVALUE FROM {ident(join)} j JOIN ZHANDLE h "
                                  f"ON h.Z_PK = j.{ident(handle_col)} ORDER BY j.{ident(call_col)}, h.Z_PK"):
        if value:
            found.setdefault(call, []).append(_text(value))
    return found


def _flag(value) -> bool | None:
    return None if value is None else bool(value)


def _status(outgoing: bool | None, answered: bool | None) -> str | None:
    if answered is None:
        return None
    if answered:
        return "answered"
    return "unanswered" if outgoing else "missed"


def _text(value) -> str | None:
    """ZADDRESS/address as text: some releases store it as a UTF-8 blob."""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", "replace")
    return value or None
