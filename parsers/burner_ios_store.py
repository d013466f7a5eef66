"""Burner for iOS, the app's own Core Data store: ``AppGroup/<group.adhoclabs.Burners>/Phoenix.sqlite`` (the API
responses it caches are read by ``burner_ios``).

Source: iLEAPP ``scripts/artifacts/burner.py`` (abrignoni/iLEAPP, Django Faiola; tested on app versions 4.0.18 to
5.4.11). ``ZMESSAGE``: ``ZDATECREATED`` (Cocoa seconds), ``ZDIRECTION`` (1 incoming, 2 outgoing), ``ZTYPE`` (1 a
call — ``ZSTATE`` 3 completed, 4 missed, 5 voicemail —, 2 a text, a picture when ``ZASSETURL`` is set), ``ZBODY``,
``ZREAD``, ``ZVOICEMAILURL``, ``ZLOCALASSETURL``, ``ZMESSAGEID``, ``ZBURNERID`` (→ ``ZBURNER.ZBURNERID``, the
user's burner number), ``ZMESSAGETHREAD`` (→ ``ZMESSAGETHREAD(ZMESSAGETHREADID, ZCONTACT, ZCONTACTPHONENUMBER)``,
``ZCONTACT`` → ``ZCONTACT.ZPHONENUMBER``: the other party) and, in some versions, ``ZCONTACTPHONENUMBER``.
``ZBURNER(ZPHONENUMBER, ZNAME, ZDATECREATED, ZEXPIRATIONDATE, ZBURNERID, ZUSER, ZTOTALMINUTES, ZREMAININGMINUTES,
ZTOTALTEXTS, ZREMAININGTEXTS, ZAUTOREPLYTEXT)``; ``ZUSER(ZPHONENUMBER, ZCOUNTRYCODE, ZTOTALNUMBERBURNERS,
ZDATECREATED, ZUSERID)`` the account; ``ZCONTACT(ZPHONENUMBER, ZNAME, ZVERIFIED, ZBLOCKED, ZMUTED, ZCONTACTID)``
with ``ZCONTACTPHONENUMBER(ZCONTACT, ZPHONENUMBER, ZPHONENUMBERLABEL)`` and ``ZCONTACTNOTE(ZCONTACT, ZNOTEVALUE)``.
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Account, Call, Contact, Message
from parsers.framework import columns, optional_columns, parser, tables

APP = "com.adhoclabs.burner"
PLATFORM = "Burner"
PATHS = ["*/AppGroup/*/Phoenix.sqlite"]
SOURCE = "abrignoni/iLEAPP scripts/artifacts/burner.py"
_STATES = {3: ("completed", True), 4: ("missed", False), 5: ("voicemail", False)}
_DIRECTIONS = {1: "incoming", 2: "outgoing"}


@parser(name="burner-ios-store-messages", app=APP, platform=PLATFORM, paths=PATHS, source=SOURCE,
        requires={"ZMESSAGE": {"Z_PK", "ZDATECREATED", "ZDIRECTION", "ZTYPE", "ZBODY", "ZBURNERID"}})
def messages(db, ctx):
    """Texts, pictures, calls and voicemails (ZMESSAGE), with the burner line and the other party."""
    lines = _pairs(db, "ZBURNER", "ZBURNERID", "ZPHONENUMBER")
    threads = _threads(db)
    names = _pairs(db, "ZCONTACT", "ZPHONENUMBER", "ZNAME")
    optional = optional_columns(db, "ZMESSAGE", ("ZREAD", "ZSTATE", "ZASSETURL", "ZVOICEMAILURL", "ZLOCALASSETURL",
                                                 "ZMESSAGEID", "ZMESSAGETHREAD", "ZCONTACTPHONENUMBER"))
    for row in db.execute(f"SELECT Z_PK, ZDATECREATED, ZDIRECTION, ZTYPE, ZBODY, ZBURNERID, {optional} "
                          f"FROM ZMESSAGE ORDER BY ZDATECREATED, Z_PK"):
        direction = _DIRECTIONS.get(row["ZDIRECTION"])
        thread_id, thread_party = threads.get(row["ZMESSAGETHREAD"], (None, None))
        other, line = thread_party or row["ZCONTACTPHONENUMBER"], lines.get(row["ZBURNERID"])
        extra = {"message_id": row["ZMESSAGEID"], "burner_id": row["ZBURNERID"], "burner_number": line,
                 "read": row["ZREAD"], "state": row["ZSTATE"], "type_raw": row["ZTYPE"]}
        extra = {k: v for k, v in extra.items() if v is not None}
        ts, prov = timestamps.cocoa_s(row["ZDATECREATED"]), ctx.prov("ZMESSAGE", row["Z_PK"])
        attachments = [{k: v for k, v in {"url": url, "local": local}.items() if v}
                       for url, local in ((row["ZASSETURL"], row["ZLOCALASSETURL"]), (row["ZVOICEMAILURL"], None))
                       if url or local]
        if row["ZTYPE"] == 1:
            status, answered = _STATES.get(row["ZSTATE"], (None, None))
            yield Call(app=ctx.app, platform=ctx.platform, peers=[other] if other else [],
                       peer_name=names.get(other), direction=direction, call_type="audio", status=status,
                       answered=answered, ts=ts,
                       extra={**extra, "attachments": attachments} if attachments else extra, prov=prov)
            continue
        incoming, outgoing = direction == "incoming", direction == "outgoing"
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=thread_id or other, thread_name=names.get(other),
            sender=other if incoming else line if outgoing else None, sender_name=names.get(other) if incoming else None,
            recipients=[v for v in ([line] if incoming else [other] if outgoing else []) if v], direction=direction,
            body=row["ZBODY"] or None, message_type="mms" if row["ZASSETURL"] else "sms", attachments=attachments,
            ts=ts, extra=extra, prov=prov)


@parser(name="burner-ios-store-numbers", app=APP, platform=PLATFORM, paths=PATHS, source=SOURCE,
        requires={"ZBURNER": {"Z_PK", "ZPHONENUMBER", "ZBURNERID"}})
def burner_numbers(db, ctx):
    """The burner numbers the user holds (ZBURNER), with allowance, expiry and auto-reply."""
    users = _pairs(db, "ZUSER", "Z_PK", "ZUSERID")
    optional = optional_columns(db, "ZBURNER", ("ZNAME", "ZDATECREATED", "ZEXPIRATIONDATE", "ZUSER", "ZTOTALMINUTES",
                                                "ZREMAININGMINUTES", "ZTOTALTEXTS", "ZREMAININGTEXTS",
                                                "ZAUTOREPLYTEXT"))
    for row in db.execute(f"SELECT Z_PK, ZPHONENUMBER, ZBURNERID, {optional} FROM ZBURNER ORDER BY Z_PK"):
        expires = timestamps.cocoa_s(row["ZEXPIRATIONDATE"])
        extra = {"burner_id": row["ZBURNERID"], "expiration_date": expires.iso if expires else None,
                 "total_minutes": row["ZTOTALMINUTES"], "remaining_minutes": row["ZREMAININGMINUTES"],
                 "total_texts": row["ZTOTALTEXTS"], "remaining_texts": row["ZREMAININGTEXTS"],
                 "auto_reply_text": row["ZAUTOREPLYTEXT"]}
        yield Account(app=ctx.app, platform=ctx.platform, account_type="burner number", phone=row["ZPHONENUMBER"],
                      display_name=row["ZNAME"], user_id=users.get(row["ZUSER"]),
                      ts=timestamps.cocoa_s(row["ZDATECREATED"]),
                      extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov("ZBURNER", row["Z_PK"]))


@parser(name="burner-ios-store-account", app=APP, platform=PLATFORM, paths=PATHS, source=SOURCE,
        requires={"ZUSER": {"Z_PK", "ZPHONENUMBER", "ZUSERID"}})
def account(db, ctx):
    """The Burner user (ZUSER): the user's own phone number."""
    optional = optional_columns(db, "ZUSER", ("ZDATECREATED", "ZCOUNTRYCODE", "ZTOTALNUMBERBURNERS"))
    for row in db.execute(f"SELECT Z_PK, ZPHONENUMBER, ZUSERID, {optional} FROM ZUSER ORDER BY Z_PK"):
        extra = {"country_code": row["ZCOUNTRYCODE"], "total_number_burners": row["ZTOTALNUMBERBURNERS"]}
        yield Account(app=ctx.app, platform=ctx.platform, account_type="burner user", user_id=row["ZUSERID"],
                      phone=row["ZPHONENUMBER"], ts=timestamps.cocoa_s(row["ZDATECREATED"]),
                      extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov("ZUSER", row["Z_PK"]))


@parser(name="burner-ios-store-contacts", app=APP, platform=PLATFORM, paths=PATHS, source=SOURCE,
        requires={"ZCONTACT": {"Z_PK", "ZPHONENUMBER", "ZNAME"}})
def contacts(db, ctx):
    """The user's Burner address book (ZCONTACT) with other numbers and notes."""
    phones = _grouped(db, "ZCONTACTPHONENUMBER", "ZPHONENUMBER")
    notes = _grouped(db, "ZCONTACTNOTE", "ZNOTEVALUE")
    optional = optional_columns(db, "ZCONTACT", ("ZVERIFIED", "ZBLOCKED", "ZMUTED", "ZCONTACTID"))
    for row in db.execute(f"SELECT Z_PK, ZPHONENUMBER, ZNAME, {optional} FROM ZCONTACT ORDER BY Z_PK"):
        numbers = list(dict.fromkeys(p for p in [row["ZPHONENUMBER"], *phones.get(row["Z_PK"], [])] if p))
        extra = {"verified": row["ZVERIFIED"], "blocked": row["ZBLOCKED"], "muted": row["ZMUTED"]}
        yield Contact(app=ctx.app, platform=ctx.platform, name=row["ZNAME"], phones=numbers,
                      user_id=row["ZCONTACTID"], note="\n".join(notes.get(row["Z_PK"], [])) or None,
                      extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov("ZCONTACT", row["Z_PK"]))


def _pairs(db, table: str, key: str, value: str) -> dict:
    if not {key.lower(), value.lower()} <= columns(db, table):
        return {}
    return {r[0]: r[1] for r in db.execute(f"SELECT [{key}], [{value}] FROM [{table}] ORDER BY Z_PK")
            if r[0] is not None and r[1] is not None}


def _threads(db) -> dict:
    """ZMESSAGETHREAD.Z_PK → (thread id, the other party's number: the thread's contact, else its own number)."""
    if "zmessagethread" not in tables(db):
        return {}
    contact_numbers = _pairs(db, "ZCONTACT", "Z_PK", "ZPHONENUMBER")
    wanted = optional_columns(db, "ZMESSAGETHREAD", ("ZMESSAGETHREADID", "ZCONTACT", "ZCONTACTPHONENUMBER"))
    return {r["Z_PK"]: (r["ZMESSAGETHREADID"], contact_numbers.get(r["ZCONTACT"]) or r["ZCONTACTPHONENUMBER"])
            for r in db.execute(f"SELECT Z_PK, {wanted} FROM ZMESSAGETHREAD")}


def _grouped(db, table: str, value: str) -> dict[int, list]:
    if not {"zcontact", value.lower()} <= columns(db, table):
        return {}
    found: dict[int, list] = {}
    for r in db.execute(f"SELECT ZCONTACT, [{value}] FROM [{table}] WHERE [{value}] IS NOT NULL AND [{value}] != '' "
                        f"ORDER BY ZCONTACT, Z_PK"):
        found.setdefault(r[0], []).append(r[1])
    return found
