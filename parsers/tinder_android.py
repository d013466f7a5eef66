"""Tinder for Android: matches (with the matched person's profile) and chat messages from ``tinder-3.db``.

Tables: ``message`` (``client_sequential_id`` key, ``match_id``, ``from_id``, ``to_id``, ``text``, ``sent_date``,
``type``, ``delivery_status``, ``is_liked``, ``is_seen``, ``raw_message_data`` JSON), `` `match` `` (``id``,
``person_id``, ``creation_date``, ``last_activity_date``, ``is_blocked``, ``is_muted``) and ``match_person`` (``id``,
``name``, ``bio``, ``birth_date``, ``gender`` and ``photos`` as protobuf). Direction is not stored: a message from the
matched person is incoming, one to them outgoing (as ALEAPP's tinder.py derives it). ``gender`` is a protobuf whose
field 1 is a code the app does not label; it is kept as stored. ``photos`` holds one entry per photo whose field 1
is the image URL.

Times: ``sent_date``, ``creation_date``, ``last_activity_date`` and ``birth_date`` are Unix milliseconds (birth dates
before 1970 are negative).
"""
from __future__ import annotations

import json

from artifacts import timestamps
from artifacts.records import Contact, Message
from parsers.decoders import protobuf_wire
from parsers.framework import parser, tables

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "ALEAPP scripts/artifacts/tinder.py"

APP = "com.tinder"


@parser(name="tinder-android", app=APP, platform="Tinder", paths=["*/com.tinder/databases/tinder-3.db"],
        requires={"message": {"match_id", "from_id", "to_id", "text", "sent_date"}})
def tinder(db, ctx):
    """Tinder matches (as contacts) and chat messages."""
    people = _people(db)
    matches = {}
    if "match" in tables(db):
        for row in db.execute("SELECT rowid AS row_id, * FROM `match` ORDER BY rowid"):
            person = people.get(row["person_id"], {})
            matches[row["id"]] = (row["person_id"], person.get("name"))
            yield _match_contact(ctx, row, person)
    for row in db.execute("SELECT rowid AS row_id, * FROM message ORDER BY rowid"):
        keys = row.keys()
        person_id, person_name = matches.get(row["match_id"], (None, None))
        direction = "incoming" if person_id and row["from_id"] == person_id else \
            "outgoing" if person_id and row["to_id"] == person_id else None
        extra = {k: row[k] for k in ("id", "delivery_status", "is_liked", "is_seen")
                 if k in keys and row[k] is not None}
        extra.update(_raw_message_fields(row["raw_message_data"] if "raw_message_data" in keys else None))
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=row["match_id"], thread_name=person_name,
            sender=row["from_id"], sender_name=person_name if direction == "incoming" else None,
            recipients=[row["to_id"]] if row["to_id"] else [], direction=direction, body=row["text"],
            message_type=row["type"] if "type" in keys else None, ts=timestamps.unix_ms(row["sent_date"]),
            extra=extra, prov=ctx.prov("message", row["row_id"]))


def _people(db) -> dict:
    if "match_person" not in tables(db):
        return {}
    return {row["id"]: dict(row) for row in db.execute("SELECT rowid AS row_id, * FROM match_person ORDER BY rowid")}


def _match_contact(ctx, row, person: dict) -> Contact:
    extra = {"match_id": row["id"], "bio": person.get("bio"), "membership_status": person.get("membership_status")}
    for name in ("is_blocked", "is_muted", "type", "attribution"):
        if name in row.keys():
            extra[name] = row[name]
    if (birth := timestamps.unix_ms(person.get("birth_date"))):
        extra["birth_date"] = birth.iso
    if (active := timestamps.unix_ms(row["last_activity_date"] if "last_activity_date" in row.keys() else None)):
        extra["last_activity"] = active.iso
    if isinstance(person.get("gender"), bytes):
        extra["gender_code"] = _varint_field(person["gender"], 1)
    if isinstance(person.get("photos"), bytes):
        extra["photo_urls"] = _photo_urls(person["photos"])
    if person:
        extra["match_person_row"] = person["row_id"]
    return Contact(app=ctx.app, platform=ctx.platform, user_id=row["person_id"], name=person.get("name"),
                   ts=timestamps.unix_ms(row["creation_date"]), extra={k: v for k, v in extra.items() if v is not None},
                   prov=ctx.prov("match", row["row_id"]))


def _varint_field(blob: bytes, number: int) -> int | None:
    try:
        value = protobuf_wire.path(blob, number)
    except protobuf_wire.ProtobufError:
        return None
    return value if isinstance(value, int) else None


def _photo_urls(blob: bytes) -> list[str] | None:
    try:
        entries = [f.value for f in protobuf_wire.fields(blob) if f.number == 1 and isinstance(f.value, bytes)]
    except protobuf_wire.ProtobufError:
        return None
    return [url for entry in entries if (url := protobuf_wire.text(entry, 1))]


def _raw_message_fields(raw) -> dict:
    """The content type and GIF description the raw_message_data JSON copy carries, as stored."""
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        return {}
    if not isinstance(parsed, dict):
        return {}
    found = {"content_type": parsed.get("type"), "gif_description": parsed.get("gif_description")}
    return {k: v for k, v in found.items() if v}
