"""Burner (second phone numbers) for Android: ``com.adhoclabs.burner/databases/burners.db`` (plaso's test copy,
from Josh Hickman's Android 13 image, is called ``burners.sqlite``; Burner on iOS keeps ``Phoenix.sqlite``, read by
``burner_ios_store``; newer Android builds keep a ``burnerDatabase.db`` of JSON entities, not read here).

``burners``: the numbers the user holds (``phone_number_id``, ``name``, ``alias``, allowance and expiry) → one
Account each: a burner number is an identity of the user's, and the one the other party sees. ``messages``: texts
and calls through a burner (``burner_id`` → ``burners.burner_id``) with one other party (``contact_phone_number``);
``message_type`` 1 is a call and 2 a text, ``direction`` 1 incoming and 2 outgoing (ALEAPP); ``asset_url`` is a
picture sent or received; a call's ``duration`` is whole minutes as billed (in plaso's file two 2-minute calls
took the number's ``remaining_minutes`` from 50 to 46), ``connected`` 1 a call that was answered. ``contacts``: the
user's Burner address book → Contact, and names for the other parties.

Times: ``date_created``, ``last_updated_date``, ``expiration_date``, ``renewal_date`` are Unix milliseconds.
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Account, Call, Contact, Message
from parsers.framework import columns, optional_columns, parser

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = ("ALEAPP scripts/artifacts/burner.py, burnerMessages.py, burnerContacts.py; "
          "plaso test_data/android/burners.sqlite (real file)")

APP = "com.adhoclabs.burner"
PLATFORM = "Burner"
PATHS = ["*/com.adhoclabs.burner/databases/burners.db"]
_DIRECTIONS = {1: "incoming", 2: "outgoing"}
_CALL, _TEXT = 1, 2


@parser(name="burner-android-messages", app=APP, platform=PLATFORM, paths=PATHS,
        requires={"messages": {"_id", "message_id", "message", "contact_phone_number", "message_type",
                               "date_created", "burner_id", "direction"}})
def messages(db, ctx):
    """Texts and calls through the user's burner numbers (messages, with burners and contacts)."""
    numbers = _burner_numbers(db)
    names = _contact_names(db)
    optional = optional_columns(db, "messages", ("state", "connected", "voice_url", "last_updated_date", "read",
                                                 "user_id", "sid", "duration", "asset_url", "send_status"))
    for row in db.execute(f"SELECT _id, message_id, message, contact_phone_number, message_type, date_created, "
                          f"burner_id, direction, {optional} FROM messages ORDER BY _id"):
        direction = _DIRECTIONS.get(row["direction"])
        burner, other = numbers.get(row["burner_id"]), row["contact_phone_number"]
        extra = {k: row[k] for k in ("message_id", "burner_id", "state", "read", "sid", "send_status", "voice_url")
                 if row[k] is not None}
        if burner:
            extra["burner_number"] = burner
        updated = timestamps.unix_ms(row["last_updated_date"])
        if updated and row["last_updated_date"] != row["date_created"]:
            extra["last_updated"] = updated.iso
        ts, prov = timestamps.unix_ms(row["date_created"]), ctx.prov("messages", row["_id"])
        if row["message_type"] == _CALL:
            minutes = row["duration"]
            if minutes is not None:
                extra["duration_minutes"] = minutes
            yield Call(app=ctx.app, platform=ctx.platform, peers=[other] if other else [], peer_name=names.get(other),
                       direction=direction, call_type="audio",
                       duration_s=minutes * 60 if isinstance(minutes, int) else None,
                       answered=None if row["connected"] is None else row["connected"] == 1,
                       ts=ts, extra=extra, prov=prov)
            continue
        if row["message_type"] != _TEXT:
            extra["message_type"] = row["message_type"]
        incoming, outgoing = direction == "incoming", direction == "outgoing"
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=other, thread_name=names.get(other),
            sender=other if incoming else burner if outgoing else None,
            sender_name=names.get(other) if incoming else None,
            recipients=[v for v in ([burner] if incoming else [other] if outgoing else []) if v],
            direction=direction, body=row["message"] or None, message_type="mms" if row["asset_url"] else "sms",
            attachments=[{"url": row["asset_url"]}] if row["asset_url"] else [], ts=ts, extra=extra, prov=prov)


@parser(name="burner-android-numbers", app=APP, platform=PLATFORM, paths=PATHS,
        requires={"burners": {"_id", "burner_id", "phone_number_id", "user_id", "date_created"}})
def numbers(db, ctx):
    """The burner numbers the user holds (burners), with their allowance, expiry and auto-reply."""
    optional = optional_columns(db, "burners", (
        "name", "alias", "total_minutes", "remaining_minutes", "total_texts", "remaining_texts", "expiration_date",
        "renewal_date", "disabled", "last_updated_date", "extension_count", "auto_reply_active", "auto_reply_text",
        "caller_id_enabled", "features", "call_forward_status"))
    for row in db.execute(f"SELECT _id, burner_id, phone_number_id, user_id, date_created, {optional} "
                          f"FROM burners ORDER BY _id"):
        extra = {k: row[k] for k in ("burner_id", "alias", "total_minutes", "remaining_minutes", "total_texts",
                                     "remaining_texts", "disabled", "extension_count", "auto_reply_active",
                                     "auto_reply_text", "caller_id_enabled", "features", "call_forward_status")
                 if row[k] is not None}
        for key in ("expiration_date", "renewal_date", "last_updated_date"):
            moment = timestamps.unix_ms(row[key])
            if moment:
                extra[key] = moment.iso
        yield Account(app=ctx.app, platform=ctx.platform, account_type="burner number", user_id=row["user_id"],
                      phone=row["phone_number_id"], display_name=row["name"] or row["alias"],
                      ts=timestamps.unix_ms(row["date_created"]), extra=extra, prov=ctx.prov("burners", row["_id"]))


@parser(name="burner-android-contacts", app=APP, platform=PLATFORM, paths=PATHS,
        requires={"contacts": {"_id", "contact_id", "name", "phone_number"}})
def contacts(db, ctx):
    """The user's Burner address book (contacts), with blocked/muted flags and notes."""
    optional = optional_columns(db, "contacts", ("burner_id", "date_created", "blocked", "muted", "notes"))
    for row in db.execute(f"SELECT _id, contact_id, name, phone_number, {optional} FROM contacts ORDER BY _id"):
        extra = {k: row[k] for k in ("contact_id", "burner_id", "blocked", "muted") if row[k] not in (None, "")}
        named = row["name"] if row["name"] != row["phone_number"] else None  # the app's stand-in for "no name"
        yield Contact(app=ctx.app, platform=ctx.platform, name=named,
                      phones=[row["phone_number"]] if row["phone_number"] else [], note=row["notes"] or None,
                      ts=timestamps.unix_ms(row["date_created"]), extra=extra, prov=ctx.prov("contacts", row["_id"]))


def _burner_numbers(db) -> dict[str, str]:
    if not {"burner_id", "phone_number_id"} <= columns(db, "burners"):
        return {}
    return {r["burner_id"]: r["phone_number_id"]
            for r in db.execute("SELECT burner_id, phone_number_id FROM burners ORDER BY _id")}


def _contact_names(db) -> dict[str, str]:
    """phone number -> the name the user gave it; the app stores the number itself as the name when there is none."""
    if not {"name", "phone_number"} <= columns(db, "contacts"):
        return {}
    return {r["phone_number"]: r["name"] for r in db.execute("SELECT name, phone_number FROM contacts ORDER BY _id")
            if r["name"] and r["name"] != r["phone_number"]}
