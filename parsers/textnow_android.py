"""TextNow (second phone numbers) for Android: ``com.enflick.android.TextNow/databases/textnow_data.db``.

Sources: ALEAPP ``scripts/artifacts/textnow.py`` and Autopsy ``InternalPythonModules/android/textnow.py`` (which
documents app version 6.41.0.2). ``messages(contact_value, message_direction, message_text, message_type, date,
read, attach)`` holds texts and calls: ``message_type`` 100 and 102 are calls (Autopsy: audio and video), every
other type a message; ``message_direction`` 1 is incoming, 2 outgoing (both tools; other values are kept raw);
``date`` is Unix milliseconds; ``contact_value`` is the other party — or a group, when it is a ``groups``
``contact_value``, whose members are ``group_members(contact_value, member_contact_value)``. Autopsy reads a
call's ``message_text`` as its duration in seconds (ALEAPP calls that unproven): it becomes ``duration_s`` only
when it is a whole number, and is kept raw in ``extra``. ``contacts(contact_value, contact_name)`` is the address
book. Neither source shows a key column: provenance uses the rowid. Neither reads the user's own number.
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Call, Contact, Message
from parsers.framework import parser, tables

APP = "com.enflick.android.TextNow"
PLATFORM = "TextNow"
PATHS = [f"*/{APP}/databases/textnow_data.db"]
SOURCE = ("abrignoni/ALEAPP scripts/artifacts/textnow.py; "
          "sleuthkit/autopsy InternalPythonModules/android/textnow.py (v6.41.0.2)")
_DIRECTIONS = {1: "incoming", 2: "outgoing"}
_CALLS = {100: "audio", 102: "video"}


@parser(name="textnow-android-messages", app=APP, platform=PLATFORM, paths=PATHS, source=SOURCE,
        requires={"messages": {"contact_value", "message_direction", "message_text", "message_type", "date",
                               "read", "attach"}})
def messages(db, ctx):
    """Texts, pictures and calls (messages), with group members and contact names."""
    names = _names(db)
    members = _group_members(db)
    for row in db.execute("SELECT rowid AS row_id, contact_value, message_direction, message_text, message_type, "
                          "date, read, attach FROM messages ORDER BY date, rowid"):
        direction = _DIRECTIONS.get(row["message_direction"])
        other, kind = row["contact_value"], row["message_type"]
        extra = {"message_type_raw": kind, "read": row["read"]}
        if direction is None:
            extra["direction_raw"] = row["message_direction"]
        ts, prov = timestamps.unix_ms(row["date"]), ctx.prov("messages", row["row_id"])
        if kind in _CALLS:
            text = row["message_text"]
            seconds = int(text) if isinstance(text, int) or (isinstance(text, str) and text.isdigit()) else None
            yield Call(app=ctx.app, platform=ctx.platform, peers=[other] if other else [],
                       peer_name=names.get(other), direction=direction, call_type=_CALLS[kind], duration_s=seconds,
                       ts=ts, extra={**_clean(extra), "message_text": text}, prov=prov)
            continue
        group = members.get(other)
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=other, thread_name=names.get(other),
            sender=None if direction != "incoming" or group else other,
            sender_name=None if direction != "incoming" or group else names.get(other),
            recipients=(group or [other]) if direction == "outgoing" and other else [], direction=direction,
            body=row["message_text"], message_type="group" if group else "sms",
            attachments=[{"path": row["attach"]}] if row["attach"] else [], ts=ts, extra=_clean(extra), prov=prov)


@parser(name="textnow-android-contacts", app=APP, platform=PLATFORM, paths=PATHS, source=SOURCE,
        requires={"contacts": {"contact_value", "contact_name"}})
def contacts(db, ctx):
    """The TextNow address book (contacts); a group's members are listed in ``extra``."""
    members = _group_members(db)
    for row in db.execute("SELECT rowid AS row_id, contact_value, contact_name FROM contacts ORDER BY rowid"):
        value = row["contact_value"]
        group = members.get(value)
        yield Contact(app=ctx.app, platform=ctx.platform, name=row["contact_name"] or None,
                      phones=[value] if value and not group else [], user_id=value,
                      extra={"group_members": group} if group else {}, prov=ctx.prov("contacts", row["row_id"]))


def _names(db) -> dict[str, str]:
    if "contacts" not in tables(db):
        return {}
    return {r["contact_value"]: r["contact_name"] for r in db.execute(
        "SELECT contact_value, contact_name FROM contacts ORDER BY rowid") if r["contact_name"]}


def _group_members(db) -> dict[str, list[str]]:
    if not {"groups", "group_members"} <= tables(db):
        return {}
    found: dict[str, list[str]] = {}
    for r in db.execute("SELECT m.contact_value, m.member_contact_value FROM group_members m "
                        "JOIN groups g ON g.contact_value = m.contact_value ORDER BY m.contact_value, m.rowid"):
        found.setdefault(r["contact_value"], []).append(r["member_contact_value"])
    return found


def _clean(extra: dict) -> dict:
    return {k: v for k, v in extra.items() if v is not None}
