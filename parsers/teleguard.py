"""TeleGuard (Swisscows) for Android and iOS: ``teleguard_database.db``.

Layout from ALEAPP and iLEAPP ``scripts/artifacts/teleguard.py`` (no public test database): Android
``ch.swisscows.messenger.teleguardapp/app_flutter/teleguard_database.db``, iOS
``Shared/AppGroup/<UUID>/Library/teleguard_database.db``. ``messages(id, createDate, userTime [Unix ms], type,
sender, receiver, content, metadata JSON, status, isEdited, chatId)``: rows of ``type`` ``CALL`` are calls whose
metadata has ``isSuccessfull``, ``subtext`` (duration or result as the app words it), ``membersText`` and
``callType``; ``contacts(serverId, alias, type, lastActivityTime, lastVisitTime [ms], personalId)``; the owner is
the ``service`` row ``id = 'user'`` whose ``data`` JSON has ``serverId`` — a message whose ``sender`` is that id is
outgoing. Key columns other than ``messages.id`` are not shown, so contacts are identified by rowid. Key material
the ``service`` row may hold is never read.
"""
from __future__ import annotations

import json

from artifacts import timestamps
from artifacts.records import Account, Call, Contact, Message
from parsers.framework import columns, optional_columns, parser

APP, PLATFORM = "ch.swisscows.messenger.teleguardapp", "TeleGuard"
PATHS = ["*/ch.swisscows.messenger.teleguardapp/app_flutter/teleguard_database.db",
         "*/Shared/AppGroup/*/Library/teleguard_database.db"]
SOURCE = "ALEAPP scripts/artifacts/teleguard.py; iLEAPP scripts/artifacts/teleguard.py"
_MESSAGES = {"id", "createDate", "type", "sender", "receiver", "content", "chatId"}


@parser(name="teleguard-messages", app=APP, platform=PLATFORM, paths=PATHS, source=SOURCE,
        requires={"messages": _MESSAGES})
def messages(db, ctx):
    """Chat messages (every ``messages`` row but calls), direction from the owner's server id."""
    owner = _owner(db)
    optional = optional_columns(db, "messages", ("userTime", "metadata", "status", "isEdited"))
    for row in db.execute(f"SELECT rowid AS row_id, id, createDate, type, sender, receiver, content, chatId, "
                          f"{optional} FROM messages WHERE type IS NOT 'CALL' ORDER BY rowid"):
        direction = _direction(owner, row["sender"])
        user_time = timestamps.unix_ms(row["userTime"])
        extra = {"message_id": row["id"], "metadata": _json(row["metadata"]), "status": row["status"],
                 "edited": None if row["isEdited"] is None else bool(row["isEdited"]),
                 "user_time": user_time.iso if user_time else None}
        yield Message(app=ctx.app, platform=ctx.platform, thread_id=row["chatId"], sender=row["sender"],
                      recipients=[row["receiver"]] if row["receiver"] else [], direction=direction,
                      body=row["content"], message_type=row["type"], ts=timestamps.unix_ms(row["createDate"]),
                      extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov("messages", row["row_id"]))


@parser(name="teleguard-calls", app=APP, platform=PLATFORM, paths=PATHS, source=SOURCE,
        requires={"messages": _MESSAGES | {"metadata"}})
def calls(db, ctx):
    """Calls: ``messages`` rows of type ``CALL``."""
    owner = _owner(db)
    for row in db.execute("SELECT rowid AS row_id, id, createDate, sender, receiver, content, chatId, metadata "
                          "FROM messages WHERE type = 'CALL' ORDER BY rowid"):
        meta = _json(row["metadata"])
        meta = meta if isinstance(meta, dict) else {}
        direction = _direction(owner, row["sender"])
        peer = row["receiver"] if direction == "outgoing" else row["sender"]
        connected = meta.get("isSuccessfull")
        extra = {"message_id": row["id"], "chat_id": row["chatId"], "call_type": meta.get("callType"),
                 "result": meta.get("subtext"), "members": meta.get("membersText"), "label": row["content"]}
        yield Call(app=ctx.app, platform=ctx.platform, peers=[peer] if peer else [], direction=direction,
                   answered=None if connected is None else bool(connected), ts=timestamps.unix_ms(row["createDate"]),
                   extra={k: v for k, v in extra.items() if v not in (None, "")},
                   prov=ctx.prov("messages", row["row_id"]))


@parser(name="teleguard-contacts", app=APP, platform=PLATFORM, paths=PATHS, source=SOURCE,
        requires={"contacts": {"serverId", "alias"}})
def contacts(db, ctx):
    """Contacts; ``ts`` is their last activity."""
    optional = optional_columns(db, "contacts", ("type", "lastActivityTime", "lastVisitTime", "personalId"))
    for row in db.execute(f"SELECT rowid AS row_id, serverId, alias, {optional} FROM contacts ORDER BY rowid"):
        visit = timestamps.unix_ms(row["lastVisitTime"])
        extra = {"type": row["type"], "last_visit": visit.iso if visit else None, "personal_id": row["personalId"],
                 "ts_is": "last activity" if row["lastActivityTime"] else None}
        yield Contact(app=ctx.app, platform=ctx.platform, name=row["alias"], user_id=row["serverId"],
                      ts=timestamps.unix_ms(row["lastActivityTime"]),
                      extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov("contacts", row["row_id"]))


@parser(name="teleguard-account", app=APP, platform=PLATFORM, paths=PATHS, source=SOURCE,
        requires={"service": {"id", "data"}})
def account(db, ctx):
    """The owner's TeleGuard server id (``service`` row ``user``)."""
    for row in db.execute("SELECT rowid AS row_id, data FROM service WHERE id = 'user' ORDER BY rowid"):
        data = _json(row["data"])
        if isinstance(data, dict) and data.get("serverId"):
            yield Account(app=ctx.app, platform=ctx.platform, account_type="TeleGuard", user_id=str(data["serverId"]),
                          prov=ctx.prov("service", row["row_id"]))


def _owner(db) -> str | None:
    if not {"id", "data"} <= columns(db, "service"):
        return None
    for (data,) in db.execute("SELECT data FROM service WHERE id = 'user'"):
        value = _json(data)
        if isinstance(value, dict) and value.get("serverId"):
            return str(value["serverId"])
    return None


def _direction(owner: str | None, sender) -> str | None:
    if not owner or not sender:
        return None
    return "outgoing" if sender == owner else "incoming"


def _json(value):
    if value is None:
        return None
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value
