"""Microsoft Teams for iOS: ``AppGroup/<UUID>/SkypeSpacesDogfood/<UUID>/SkypeSpacesDogfood-<guid>.sqlite``.

Layout from iLEAPP ``scripts/artifacts/teams.py`` and the real database it tests on (``admin/test/cases/data/teams``,
josh_ios15_ffs), whose schema shows every column read here:

- ``ZSMESSAGE``: ``ZARRIVALTIME`` (Cocoa seconds), ``ZCOMPOSETIME`` (ISO-8601 text), ``ZTS_ISSENTBYME``, ``ZFROM``
  (the author's MRI, e.g. ``8:live:…``), ``ZIMDISPLAYNAME``, ``ZCONTENT`` (HTML), ``ZMESSAGETYPE``, ``ZTHREADID``
  joined to ``ZTHREAD.ZTSID`` (``ZTHREADTOPIC``, ``ZTHREADTYPE``), ``ZTS_ISSOFTDELETED``, ``ZDELETETIME``.
- ``ZMESSAGEPROPERTIES(ZTSID, ZPROPERTIES)``: an NSKeyedArchiver dictionary. Its ``call-log`` value (a dictionary,
  or JSON text) is a call: ``startTime``, ``connectTime``, ``endTime`` (ISO-8601), ``callDirection``, ``callType``,
  ``callState``, ``originator``, ``target``, ``originatorParticipant``/``targetParticipant`` ``displayName``. Its
  ``cards`` value is JSON Adaptive Cards; a shared location has ``body[0].selectAction.url`` (a map link whose
  ``pos.<lat>_<lon>`` gives the place), ``body[0].id`` (JSON ``latitude``, ``longitude``, ``expiresAt`` ms,
  ``deviceId``; live locations only) and ``body[1].text`` (the address).
- ``ZDEVICECONTACTHASH(ZDISPLAYNAME, ZEMAIL, ZPHONENUMBER)``: the phone's address book as Teams saw it;
  ``ZUSER(ZDISPLAYNAME, ZMAIL, ZTELEPHONENUMBER, ZUSERPRINCIPALNAME, ZTSID, ZTS_LASTSYNCEDAT Cocoa)``: Teams users.
"""
from __future__ import annotations

import datetime as dt
import json
import re

from artifacts import timestamps
from artifacts.records import Call, Contact, Location, Message
from parsers.decoders.nskeyedarchive import unarchive
from parsers.framework import optional_columns, parser

APP = "com.microsoft.skype.teams"
PLATFORM = "Microsoft Teams"
PATHS = ["*/SkypeSpacesDogfood/*/Skype*.sqlite"]
SOURCE = "iLEAPP scripts/artifacts/teams.py; iLEAPP admin/test/cases/data/teams (real josh_ios15_ffs database)"
_MESSAGE = {"Z_PK", "ZARRIVALTIME", "ZCONTENT", "ZFROM", "ZIMDISPLAYNAME", "ZTHREADID"}
_PROPERTIES = {"ZTSID", "ZPROPERTIES"}
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE | re.DOTALL)
_SRC = re.compile(r"\bsrc\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
_MAP_POSITION = re.compile(r"pos\.(-?\d+(?:\.\d+)?)_(-?\d+(?:\.\d+)?)")


@parser(name="teams-ios-messages", app=APP, platform=PLATFORM, paths=PATHS, source=SOURCE,
        requires={"ZSMESSAGE": _MESSAGE, "ZTHREAD": {"ZTSID", "ZTHREADTOPIC"}})
def messages(db, ctx):
    """Chat messages and thread activity (ZSMESSAGE) with their thread's topic (ZTHREAD)."""
    optional = optional_columns(db, "ZSMESSAGE", ("ZTS_ISSENTBYME", "ZCOMPOSETIME", "ZMESSAGETYPE",
                                                  "ZTS_ISSOFTDELETED", "ZDELETETIME", "ZTSID"), alias="m")
    thread_type = optional_columns(db, "ZTHREAD", ("ZTHREADTYPE",), alias="t")
    for row in db.execute(f"SELECT m.Z_PK, m.ZARRIVALTIME, m.ZCONTENT, m.ZFROM, m.ZIMDISPLAYNAME, m.ZTHREADID, "
                          f"{optional}, t.ZTHREADTOPIC, {thread_type} FROM ZSMESSAGE m "
                          f"LEFT JOIN ZTHREAD t ON t.ZTSID = m.ZTHREADID ORDER BY m.Z_PK"):
        sent = row["ZTS_ISSENTBYME"]
        direction = None if sent is None else ("outgoing" if sent else "incoming")
        images = [_SRC.search(tag).group(1) for tag in _IMG.findall(row["ZCONTENT"] or "")
                  if _SRC.search(tag) and "schema.skype.com/Emoji" not in tag]  # emoji are images too
        extra = {"compose_time": row["ZCOMPOSETIME"], "thread_type": row["ZTHREADTYPE"],
                 "message_id": row["ZTSID"], "delete_time": row["ZDELETETIME"],
                 "soft_deleted": bool(row["ZTS_ISSOFTDELETED"]) if row["ZTS_ISSOFTDELETED"] is not None else None}
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=row["ZTHREADID"], thread_name=row["ZTHREADTOPIC"],
            sender=row["ZFROM"], sender_name=row["ZIMDISPLAYNAME"], direction=direction, body=row["ZCONTENT"],
            message_type=row["ZMESSAGETYPE"], attachments=[{"url": src} for src in images],
            deleted=bool(row["ZTS_ISSOFTDELETED"] or row["ZDELETETIME"]), ts=timestamps.cocoa_s(row["ZARRIVALTIME"]),
            extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov("ZSMESSAGE", row["Z_PK"]))


@parser(name="teams-ios-calls", app=APP, platform=PLATFORM, paths=PATHS, source=SOURCE,
        requires={"ZMESSAGEPROPERTIES": _PROPERTIES})
def calls(db, ctx):
    """Calls: the ``call-log`` property of a message (ZMESSAGEPROPERTIES)."""
    for rowid, _tsid, properties in _properties(db, "call-log"):
        call = properties["call-log"]
        call = json.loads(call) if isinstance(call, str) else call
        if not isinstance(call, dict):
            continue
        start, connect, end = (timestamps.iso8601(call.get(k)) for k in ("startTime", "connectTime", "endTime"))
        direction = call.get("callDirection") if call.get("callDirection") in ("incoming", "outgoing") else None
        peer = call.get("originator") if direction == "incoming" else call.get("target")
        peer_side = _dict(call.get("originatorParticipant" if direction == "incoming" else "targetParticipant"))
        duration = _seconds(connect, end)
        extra = {"call_type": call.get("callType"), "call_id": call.get("callId"), "originator": call.get("originator"),
                 "target": call.get("target"), "connect_time": connect.iso if connect else None,
                 "end_time": end.iso if end else None,
                 "originator_name": _dict(call.get("originatorParticipant")).get("displayName"),
                 "target_name": _dict(call.get("targetParticipant")).get("displayName")}
        yield Call(app=ctx.app, platform=ctx.platform, peers=[peer] if peer else [],
                   peer_name=peer_side.get("displayName"), direction=direction, duration_s=duration,
                   answered=None if call.get("callState") is None else call.get("callState") == "accepted",
                   status=call.get("callState"), ts=start or connect,
                   extra={k: v for k, v in extra.items() if v is not None},
                   prov=ctx.prov("ZMESSAGEPROPERTIES", rowid))


@parser(name="teams-ios-locations", app=APP, platform=PLATFORM, paths=PATHS, source=SOURCE,
        requires={"ZMESSAGEPROPERTIES": _PROPERTIES, "ZSMESSAGE": _MESSAGE})
def locations(db, ctx):
    """Locations shared in chats: Adaptive Cards in a message's ``cards`` property."""
    senders = {r["ZTSID"]: r for r in db.execute(
        f"SELECT ZFROM, ZIMDISPLAYNAME, {optional_columns(db, 'ZSMESSAGE', ('ZTSID', 'ZCOMPOSETIME'))} "
        f"FROM ZSMESSAGE ORDER BY Z_PK")}
    for rowid, tsid, properties in _properties(db, "cards"):
        try:
            body = json.loads(properties["cards"])[0]["content"]["body"]
            card, text = body[0], (body[1].get("text") if len(body) > 1 else None)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            continue
        live = _live(card.get("id"))
        url = _dict(card.get("selectAction")).get("url")
        position = _MAP_POSITION.search(url or "")
        lat, lon = live.get("latitude"), live.get("longitude")
        if lat is None and position:
            lat, lon = position.groups()
        try:
            lat, lon = float(lat), float(lon)
        except (TypeError, ValueError):
            continue
        message = senders.get(tsid)
        expires = timestamps.unix_ms(live.get("expiresAt")) if isinstance(live.get("expiresAt"), int) else None
        extra = {"map_url": url, "sender": message["ZFROM"] if message else None,
                 "sender_name": message["ZIMDISPLAYNAME"] if message else None,
                 "live": bool(live), "device_id": live.get("deviceId"),
                 "expires": expires.iso if expires else None, "coordinates_from": "card id" if live.get(
                     "latitude") is not None else "map link"}
        yield Location(app=ctx.app, latitude=lat, longitude=lon, label=text, source_kind="chat message",
                       ts=timestamps.iso8601(message["ZCOMPOSETIME"]) if message else None,
                       extra={k: v for k, v in extra.items() if v is not None},
                       prov=ctx.prov("ZMESSAGEPROPERTIES", rowid))


@parser(name="teams-ios-contacts", app=APP, platform=PLATFORM, paths=PATHS, source=SOURCE,
        requires={"ZDEVICECONTACTHASH": {"Z_PK", "ZDISPLAYNAME", "ZEMAIL", "ZPHONENUMBER"}})
def device_contacts(db, ctx):
    """The address-book entries Teams copied (ZDEVICECONTACTHASH)."""
    for row in db.execute("SELECT Z_PK, ZDISPLAYNAME, ZEMAIL, ZPHONENUMBER FROM ZDEVICECONTACTHASH ORDER BY Z_PK"):
        yield Contact(app=ctx.app, platform=ctx.platform, name=row["ZDISPLAYNAME"],
                      emails=[row["ZEMAIL"]] if row["ZEMAIL"] else [],
                      phones=[row["ZPHONENUMBER"]] if row["ZPHONENUMBER"] else [],
                      extra={"source": "device address book"}, prov=ctx.prov("ZDEVICECONTACTHASH", row["Z_PK"]))


@parser(name="teams-ios-users", app=APP, platform=PLATFORM, paths=PATHS, source=SOURCE,
        requires={"ZUSER": {"Z_PK", "ZDISPLAYNAME", "ZTELEPHONENUMBER", "ZTS_LASTSYNCEDAT"}})
def users(db, ctx):
    """Teams users the app has synced (ZUSER); ``ts`` is the last sync."""
    optional = optional_columns(db, "ZUSER", ("ZMAIL", "ZUSERPRINCIPALNAME", "ZTSID"))
    for row in db.execute(f"SELECT Z_PK, ZDISPLAYNAME, ZTELEPHONENUMBER, ZTS_LASTSYNCEDAT, {optional} "
                          f"FROM ZUSER ORDER BY Z_PK"):
        handles = [row["ZUSERPRINCIPALNAME"]] if row["ZUSERPRINCIPALNAME"] else []
        yield Contact(app=ctx.app, platform=ctx.platform, name=row["ZDISPLAYNAME"], user_id=row["ZTSID"],
                      emails=[row["ZMAIL"]] if row["ZMAIL"] else [], handles=handles,
                      phones=[row["ZTELEPHONENUMBER"]] if row["ZTELEPHONENUMBER"] else [],
                      ts=timestamps.cocoa_s(row["ZTS_LASTSYNCEDAT"]), extra={"ts_is": "last sync"},
                      prov=ctx.prov("ZUSER", row["Z_PK"]))


def _properties(db, key: str):
    """(rowid, ZTSID, decoded dictionary) of every ZMESSAGEPROPERTIES row whose archive holds ``key``; an archive that
    does not decode is skipped (it holds no call or card iLEAPP could read either)."""
    for rowid, tsid, blob in db.execute("SELECT rowid, ZTSID, ZPROPERTIES FROM ZMESSAGEPROPERTIES "
                                  "WHERE ZPROPERTIES IS NOT NULL ORDER BY rowid"):
        try:
            decoded = unarchive(bytes(blob))
        except Exception:  # a damaged archive is one row's problem, never the run's
            continue
        if isinstance(decoded, dict) and key in decoded:
            yield rowid, tsid, decoded


def _live(card_id) -> dict:
    try:
        value = json.loads(card_id) if card_id else {}
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _seconds(start: timestamps.TimeValue | None, end: timestamps.TimeValue | None) -> float | None:
    if not start or not end:
        return None
    delta = dt.datetime.fromisoformat(end.iso[:-1]) - dt.datetime.fromisoformat(start.iso[:-1])
    return round(delta.total_seconds(), 6)
