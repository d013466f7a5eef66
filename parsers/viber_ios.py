"""Viber for iOS: ``com.viber/database/Contacts.data`` (a Core Data store of messages, conversations, members,
recent calls and the synchronised address book) and ``com.viber/settings/Settings.data`` (key/value settings that
name the account), both in the app's shared AppGroup container.

Message and call times are Cocoa seconds. ``ZVIBERMESSAGE.ZDATE`` is reported as the message time and
``ZSTATEDATE`` (the time of the last state change, as its name says; iLEAPP reads it as the creation time) is kept
in ``extra``. ``ZSTATE`` is text: ``received`` is incoming, ``send`` and ``delivered`` outgoing (iLEAPP's reading).
The sender of a message is the conversation member ``ZPHONENUMINDEX`` points at, with that member's phone number.
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Account, Call, Contact, Location, Message
from parsers.framework import as_text, columns, optional_columns, parser, tables
from artifacts.sql_quoting import ident

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "iLEAPP scripts/artifacts/viber.py"

APP = "com.viber"
CONTACTS = ["*/com.viber/database/Contacts.data"]
DIRECTIONS = {"received": "incoming", "send": "outgoing", "delivered": "outgoing"}
# ZRECENT.ZCALLTYPE → (direction, call type, answered)
CALL_TYPES = {"incoming": ("incoming", "audio", True), "incoming_with_video": ("incoming", "video", True),
              "outgoing_viber": ("outgoing", "audio", None), "outgoing_viber_with_video": ("outgoing", "video", None),
              "missed": ("incoming", "audio", False), "missed_with_video": ("incoming", "video", False)}


@parser(name="viber-ios-messages", app=APP, platform="Viber", paths=CONTACTS,
        requires={"ZVIBERMESSAGE": {"Z_PK", "ZCONVERSATION", "ZDATE", "ZSTATE", "ZTEXT", "ZPHONENUMINDEX"},
                  "ZCONVERSATION": {"Z_PK"}, "ZMEMBER": {"Z_PK"}})
def messages(db, ctx):
    """Messages with sender (member and phone), conversation, attachment and location."""
    members = _members(db)
    message = optional_columns(db, "ZVIBERMESSAGE", ("ZSTATEDATE", "ZSYSTEMTYPE", "ZBEINGDELETED", "ZLIKESCOUNT",
                                                     "ZATTACHMENT", "ZLOCATION"), alias="m")
    conversation = optional_columns(db, "ZCONVERSATION", ("ZNAME", "ZINTERLOCUTOR", "ZGROUPID"), alias="c")
    attachments = _rows_by_pk(db, "ZATTACHMENT", ("ZNAME", "ZTYPE", "ZFILESIZE"))
    for row in db.execute(f"SELECT m.Z_PK, m.ZCONVERSATION, m.ZDATE, m.ZSTATE, m.ZTEXT, m.ZPHONENUMINDEX, "
                          f"{message}, {conversation} FROM ZVIBERMESSAGE m LEFT JOIN ZCONVERSATION c "
                          f"ON c.Z_PK = m.ZCONVERSATION ORDER BY m.Z_PK"):
        direction = DIRECTIONS.get(row["ZSTATE"])
        sender_id, sender_name = members.get(row["ZPHONENUMINDEX"], (None, None))
        partner_id, partner_name = members.get(row["ZINTERLOCUTOR"], (None, None))
        counterpart = partner_id or row["ZGROUPID"]
        state_date = timestamps.cocoa_s(row["ZSTATEDATE"])
        extra = {"state": row["ZSTATE"], "state_date": state_date.iso if state_date else None,
                 "system_type": row["ZSYSTEMTYPE"], "likes": row["ZLIKESCOUNT"], "group_id": row["ZGROUPID"],
                 "location_pk": row["ZLOCATION"]}
        attachment = attachments.get(row["ZATTACHMENT"])
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=as_text(row["ZCONVERSATION"]),
            thread_name=row["ZNAME"] or partner_name,
            sender=sender_id if direction != "outgoing" else None,
            sender_name=sender_name if direction != "outgoing" else None,
            recipients=[as_text(counterpart)] if direction == "outgoing" and counterpart else [],
            direction=direction, body=row["ZTEXT"], status=row["ZSTATE"],
            attachments=[{"name": attachment["ZNAME"], "type": attachment["ZTYPE"], "size": attachment["ZFILESIZE"]}]
            if attachment else [], deleted=bool(row["ZBEINGDELETED"]), ts=timestamps.cocoa_s(row["ZDATE"]),
            extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov("ZVIBERMESSAGE", row["Z_PK"]))


@parser(name="viber-ios-locations", app=APP, platform="Viber", paths=CONTACTS,
        requires={"ZVIBERMESSAGE": {"Z_PK", "ZDATE", "ZLOCATION", "ZCONVERSATION"},
                  "ZVIBERLOCATION": {"Z_PK", "ZLATITUDE", "ZLONGITUDE"}})
def locations(db, ctx):
    """Locations attached to messages (ZVIBERLOCATION), at the time of their message."""
    address = optional_columns(db, "ZVIBERLOCATION", ["ZADDRESS"], alias="l")
    state = optional_columns(db, "ZVIBERMESSAGE", ["ZSTATE"], alias="m")
    for row in db.execute(f"SELECT l.Z_PK, l.ZLATITUDE, l.ZLONGITUDE, {address}, m.Z_PK AS message, m.ZDATE, "
                          f"m.ZCONVERSATION, {state} FROM ZVIBERLOCATION l "
                          f"JOIN ZVIBERMESSAGE m ON m.ZLOCATION = l.Z_PK "
                          f"WHERE l.ZLATITUDE IS NOT NULL AND l.ZLONGITUDE IS NOT NULL ORDER BY l.Z_PK, m.Z_PK"):
        yield Location(app=ctx.app, latitude=row["ZLATITUDE"], longitude=row["ZLONGITUDE"], label=row["ZADDRESS"],
                       source_kind="chat message", ts=timestamps.cocoa_s(row["ZDATE"]),
                       extra={"message_pk": row["message"], "thread_id": as_text(row["ZCONVERSATION"]),
                              "direction": DIRECTIONS.get(row["ZSTATE"])},
                       prov=ctx.prov("ZVIBERLOCATION", row["Z_PK"]))


@parser(name="viber-ios-calls", app=APP, platform="Viber", paths=CONTACTS,
        requires={"ZRECENT": {"Z_PK", "ZDATE", "ZCALLTYPE", "ZDURATION"}})
def calls(db, ctx):
    """Recent calls (ZRECENT), with the number from their ZRECENTSLINE row."""
    recent = columns(db, "ZRECENT")
    line = "zrecentsline" in recent and "zphonenumber" in columns(db, "ZRECENTSLINE")
    number = "l.ZPHONENUMBER" if line else "NULL AS ZPHONENUMBER"
    join = "LEFT JOIN ZRECENTSLINE l ON l.Z_PK = r.ZRECENTSLINE" if line else ""
    message = optional_columns(db, "ZRECENT", ["ZCALLLOGMESSAGE"], alias="r")
    for row in db.execute(f"SELECT r.Z_PK, r.ZDATE, r.ZCALLTYPE, r.ZDURATION, {message}, {number} FROM ZRECENT r "
                          f"{join} ORDER BY r.Z_PK"):
        direction, call_type, answered = CALL_TYPES.get(row["ZCALLTYPE"], (None, None, None))
        yield Call(app=ctx.app, platform=ctx.platform, peers=[row["ZPHONENUMBER"]] if row["ZPHONENUMBER"] else [],
                   direction=direction, call_type=call_type, duration_s=row["ZDURATION"], answered=answered,
                   status="missed" if answered is False else None, ts=timestamps.cocoa_s(row["ZDATE"]),
                   extra={k: v for k, v in {"call_type_raw": row["ZCALLTYPE"],
                                            "message_pk": row["ZCALLLOGMESSAGE"]}.items() if v is not None},
                   prov=ctx.prov("ZRECENT", row["Z_PK"]))


@parser(name="viber-ios-contacts", app=APP, platform="Viber", paths=CONTACTS,
        requires={"ZABCONTACT": {"Z_PK", "ZMAINNAME"}, "ZABCONTACTNUMBER": {"ZCONTACT", "ZPHONE"}})
def contacts(db, ctx):
    """The address book as Viber synchronised it: ZABCONTACT with its ZABCONTACTNUMBER rows."""
    picks = optional_columns(db, "ZABCONTACT", ("ZPREFIXNAME", "ZSUFFIXNAME", "ZCONTACTID"))
    canonized = "ZCANONIZEDPHONENUM" if "zcanonizedphonenum" in columns(db, "ZABCONTACTNUMBER") else "NULL"
    for row in db.execute(f"SELECT Z_PK, ZMAINNAME, {picks} FROM ZABCONTACT ORDER BY Z_PK"):
        numbers = db.execute(f"SELECT ZPHONE, {canonized} FROM ZABCONTACTNUMBER WHERE ZCONTACT = ? ORDER BY rowid",
                             [row["Z_PK"]]).fetchall()
        name = " ".join(filter(None, (row["ZPREFIXNAME"], row["ZMAINNAME"], row["ZSUFFIXNAME"]))) or None
        yield Contact(app=ctx.app, platform=ctx.platform, name=name, phones=[n[0] for n in numbers if n[0]],
                      extra={k: v for k, v in {"canonized_phones": [n[1] for n in numbers if n[1]] or None,
                                               "address_book_id": row["ZCONTACTID"]}.items() if v is not None},
                      prov=ctx.prov("ZABCONTACT", row["Z_PK"]))


@parser(name="viber-ios-account", app=APP, platform="Viber", paths=["*/com.viber/settings/Settings.data"],
        requires={"Data": {"key", "value"}})
def account(db, ctx):
    """The registered account: phone number, user name, e-mail and Viber id from Settings.data's ``Data`` table;
    ``_registrationDate`` (Unix seconds, as iLEAPP reads it) is its time."""
    wanted = ("_myPhoneNumber", "_myCanonizedPhoneNumber", "_myUserName", "_currentEmail", "_uid",
              "_registrationDate")
    values = {row["key"]: (row["rid"], row["value"]) for row in db.execute(
        f"SELECT rowid AS rid, key, value FROM Data WHERE key IN ({', '.join('?' * len(wanted))}) ORDER BY rowid",
        wanted)}
    if not values:
        return
    value = {key: as_text(v) for key, (_, v) in values.items()}
    yield Account(app=ctx.app, platform=ctx.platform, account_type="Viber",
                  phone=value.get("_myPhoneNumber") or value.get("_myCanonizedPhoneNumber"),
                  username=value.get("_myUserName"), email=value.get("_currentEmail"), user_id=value.get("_uid"),
                  ts=timestamps.unix_s(values["_registrationDate"][1]) if "_registrationDate" in values else None,
                  extra={"canonized_phone": value["_myCanonizedPhoneNumber"]}
                  if value.get("_myCanonizedPhoneNumber") else {},
                  prov=ctx.prov("Data", min(rid for rid, _ in values.values())))


def _members(db) -> dict:
    """ZMEMBER pk → (first phone number, or member id; display name)."""
    member = columns(db, "ZMEMBER")
    name = "ZDISPLAYFULLNAME" if "zdisplayfullname" in member else ("ZNAME" if "zname" in member else "NULL")
    member_id = "ZMEMBERID" if "zmemberid" in member else "NULL"
    phones: dict = {}
    if "zphonenumber" in tables(db) and {"zmember", "zphone"} <= columns(db, "ZPHONENUMBER"):
        for pk, phone in db.execute("SELECT ZMEMBER, ZPHONE FROM ZPHONENUMBER WHERE ZPHONE IS NOT NULL "
                                    "ORDER BY rowid"):
            phones.setdefault(pk, phone)
    return {pk: (phones.get(pk) or mid, display)
            for pk, mid, display in db.execute(f"SELECT Z_PK, {member_id}, {name} FROM ZMEMBER ORDER BY Z_PK")}


def _rows_by_pk(db, table: str, names: tuple[str, ...]) -> dict:
    if table.lower() not in tables(db):
        return {}
    return {row["Z_PK"]: row for row in db.execute(f"SELECT Z_PK, {optional_columns(db, table, names)} "
                                                    f"FROM {ident(table)}")}
