"""Microsoft Teams for Android: ``com.microsoft.teams/databases/SkypeTeams.db``.

Layout from ALEAPP ``scripts/artifacts/teams.py`` (no public test database exists): its queries read
``Message(arrivalTime, userDisplayName, content, deleteTime, conversationId, messageId)`` joined to
``Conversation(conversationId, displayName)`` — ``displayName`` is unqualified there and shown as the topic, so it is
read from ``Conversation`` —, ``User(mri, lastSyncTime, givenName, surname, displayName, email, secondaryEmail,
alternativeEmail, telephoneNumber, homeNumber, type, userType)`` and ``MessagePropertyAttribute(propertyId,
attributeValue)``, whose ``CallLog`` rows are JSON with ``connectTimeMillis``, ``endTimeMillis``, ``callState``,
``callType``, ``originatorDisplayName``, ``callDirection``, ``target`` (an MRI) and ``sessionType``. Times are
Unix milliseconds. No key column is shown, so rows are identified by rowid. ALEAPP joins a call to ``User`` on its
target and so drops calls to people not in ``User``; here those calls are kept, with no target name.
"""
from __future__ import annotations

import json

from artifacts import timestamps
from artifacts.records import Call, Contact, Message
from parsers.framework import columns, optional_columns, parser

APP = "com.microsoft.teams"
PLATFORM = "Microsoft Teams"
PATHS = ["*/com.microsoft.teams/databases/SkypeTeams.db"]
SOURCE = "ALEAPP scripts/artifacts/teams.py"


@parser(name="teams-android-messages", app=APP, platform=PLATFORM, paths=PATHS, source=SOURCE,
        requires={"Message": {"arrivalTime", "userDisplayName", "content", "conversationId", "messageId"},
                  "Conversation": {"conversationId"}})
def messages(db, ctx):
    """Messages with their conversation's name; ``deleteTime`` marks a deleted one."""
    deleted = optional_columns(db, "Message", ("deleteTime",), alias="m")
    topic = optional_columns(db, "Conversation", ("displayName",), alias="c")
    for row in db.execute(f"SELECT m.rowid AS row_id, m.arrivalTime, m.userDisplayName, m.content, "
                          f"m.conversationId, m.messageId, {deleted}, {topic} FROM Message m "
                          f"LEFT JOIN Conversation c ON c.conversationId = m.conversationId ORDER BY m.rowid"):
        removed = timestamps.unix_ms(row["deleteTime"])
        yield Message(app=ctx.app, platform=ctx.platform, thread_id=_text(row["conversationId"]),
                      thread_name=row["displayName"], sender_name=row["userDisplayName"], body=row["content"],
                      deleted=bool(removed), ts=timestamps.unix_ms(row["arrivalTime"]),
                      extra={k: v for k, v in {"message_id": _text(row["messageId"]),
                                               "delete_time": removed.iso if removed else None}.items() if v},
                      prov=ctx.prov("Message", row["row_id"]))


@parser(name="teams-android-calls", app=APP, platform=PLATFORM, paths=PATHS, source=SOURCE,
        requires={"MessagePropertyAttribute": {"propertyId", "attributeValue"}})
def calls(db, ctx):
    """Call-log entries (MessagePropertyAttribute rows with propertyId ``CallLog``)."""
    names = {}
    if _has(db, "User", {"mri", "givenName"}):
        names = {mri: name for mri, name in db.execute("SELECT mri, givenName FROM User ORDER BY rowid")}
    for rowid, value in db.execute("SELECT rowid, attributeValue FROM MessagePropertyAttribute "
                                   "WHERE propertyId = 'CallLog' ORDER BY rowid"):
        try:
            call = json.loads(value)
        except (TypeError, ValueError):
            continue
        if not isinstance(call, dict):
            continue
        connect, end = timestamps.unix_ms(call.get("connectTimeMillis")), timestamps.unix_ms(call.get("endTimeMillis"))
        direction = call.get("callDirection") if call.get("callDirection") in ("incoming", "outgoing") else None
        duration = None
        if isinstance(call.get("connectTimeMillis"), int) and isinstance(call.get("endTimeMillis"), int) and connect:
            duration = (call["endTimeMillis"] - call["connectTimeMillis"]) / 1000
        target = call.get("target")
        extra = {"call_type": call.get("callType"), "session_type": call.get("sessionType"),
                 "originator_name": call.get("originatorDisplayName"), "target": target,
                 "end_time": end.iso if end else None}
        yield Call(app=ctx.app, platform=ctx.platform,
                   peers=[target] if direction == "outgoing" and target else [],
                   peer_name=names.get(target) if direction == "outgoing" else call.get("originatorDisplayName"),
                   direction=direction, duration_s=duration, status=call.get("callState"),
                   answered=None if call.get("callState") is None else call.get("callState") == "accepted",
                   ts=connect, extra={k: v for k, v in extra.items() if v is not None},
                   prov=ctx.prov("MessagePropertyAttribute", rowid))


@parser(name="teams-android-users", app=APP, platform=PLATFORM, paths=PATHS, source=SOURCE,
        requires={"User": {"mri", "displayName", "lastSyncTime"}})
def users(db, ctx):
    """Teams users the app synced (User); ``ts`` is the last sync."""
    optional = optional_columns(db, "User", ("givenName", "surname", "email", "secondaryEmail", "alternativeEmail",
                                             "telephoneNumber", "homeNumber", "type", "userType"))
    for row in db.execute(f"SELECT rowid AS row_id, mri, displayName, lastSyncTime, {optional} FROM User "
                          f"ORDER BY rowid"):
        emails = [e for e in (row["email"], row["secondaryEmail"], row["alternativeEmail"]) if e]
        phones = [p for p in (row["telephoneNumber"], row["homeNumber"]) if p]
        name = row["displayName"] or " ".join(filter(None, (row["givenName"], row["surname"]))) or None
        extra = {"user_type": row["userType"], "type": row["type"], "ts_is": "last sync"}
        yield Contact(app=ctx.app, platform=ctx.platform, name=name, user_id=row["mri"], emails=emails, phones=phones,
                      ts=timestamps.unix_ms(row["lastSyncTime"]), extra={k: v for k, v in extra.items() if v},
                      prov=ctx.prov("User", row["row_id"]))


def _has(db, table: str, wanted: set[str]) -> bool:
    return {c.lower() for c in wanted} <= columns(db, table)


def _text(value) -> str | None:
    return None if value is None else str(value)
