"""Tinder for iOS: ``Library/Application Support/Tinder/Tinder2.sqlite`` in the app's data container, a Core Data
store of messages (ZMESSAGE), matches (ZMATCH) and the people behind them and the account itself (ZUSER).

Every time is Cocoa seconds. A message's direction comes from comparing ``ZFROMUSERID`` with the user flagged
``ZISCURRENTUSER``; without that row the direction is unknown. Messages from the literal sender
``com.tinder.inbox.user`` are the app's own inbox notices.
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Account, Contact, Message
from parsers.framework import columns, optional_columns, parser

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "iLEAPP scripts/artifacts/tinder.py"

APP = "com.cardify.tinder"
PATHS = ["*/Library/Application Support/Tinder/Tinder2.sqlite"]
MEDIA = ("ZMEDIAURL", "ZPHOTOURL", "ZLOCALIMAGEURL", "ZLINKURL")


@parser(name="tinder-ios-messages", app=APP, platform="Tinder", paths=PATHS,
        requires={"ZMESSAGE": {"Z_PK", "ZCREATED", "ZFROMUSERID", "ZTEXT", "ZMATCH"},
                  "ZMATCH": {"Z_PK", "ZUSER"}, "ZUSER": {"Z_PK", "ZUSERID", "ZFIRSTNAME"}})
def messages(db, ctx):
    """Messages of every match, with sender, the matched person and any media or link URLs."""
    me = _current_user(db)
    names = dict(db.execute("SELECT ZUSERID, ZFIRSTNAME FROM ZUSER WHERE ZUSERID IS NOT NULL ORDER BY Z_PK"))
    picks = optional_columns(db, "ZMESSAGE",
                             ("ZCLIENTCREATED", "ZTYPE", "ZSUBTYPE", "ZMESSAGEID", "ZISHIDDEN", "ZLIKED") + MEDIA,
                             alias="m")
    match_id = "t.ZMATCHID" if "zmatchid" in columns(db, "ZMATCH") else "NULL"
    for row in db.execute(f"SELECT m.Z_PK, m.ZCREATED, m.ZFROMUSERID, m.ZTEXT, {picks}, {match_id} AS match_id, "
                          f"u.ZUSERID AS partner, u.ZFIRSTNAME AS partner_name FROM ZMESSAGE m "
                          f"LEFT JOIN ZMATCH t ON t.Z_PK = m.ZMATCH LEFT JOIN ZUSER u ON u.Z_PK = t.ZUSER "
                          f"ORDER BY m.Z_PK"):
        sender = row["ZFROMUSERID"]
        direction = None if not (me and sender) else ("outgoing" if sender == me else "incoming")
        client = timestamps.cocoa_s(row["ZCLIENTCREATED"])
        extra = {"message_id": row["ZMESSAGEID"], "client_created": client.iso if client else None,
                 "subtype": row["ZSUBTYPE"], "hidden": row["ZISHIDDEN"], "liked": row["ZLIKED"]}
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=row["match_id"], thread_name=row["partner_name"],
            sender=sender, sender_name=names.get(sender), direction=direction, body=row["ZTEXT"],
            recipients=[row["partner"]] if direction == "outgoing" and row["partner"] else [],
            message_type=None if row["ZTYPE"] is None else str(row["ZTYPE"]),
            attachments=[{"kind": c[1:].lower(), "url": row[c]} for c in MEDIA if row[c]],
            ts=timestamps.cocoa_s(row["ZCREATED"]), extra={k: v for k, v in extra.items() if v is not None},
            prov=ctx.prov("ZMESSAGE", row["Z_PK"]))


@parser(name="tinder-ios-matches", app=APP, platform="Tinder", paths=PATHS,
        requires={"ZMATCH": {"Z_PK", "ZUSER", "ZCREATED"}, "ZUSER": {"Z_PK", "ZUSERID", "ZFIRSTNAME"}})
def matches(db, ctx):
    """Each match as a contact: the matched person, at the time the match was made.

    Birth dates are Core Data dates that hold a calendar date; only the date part is meaningful.
    """
    match = optional_columns(db, "ZMATCH", ("ZMATCHID", "ZLASTACTIVITY", "ZISSUPERLIKEMATCH", "ZISEXPIRED",
                                            "ZMESSAGEDRAFT"), alias="t")
    user = optional_columns(db, "ZUSER", ("ZBIO", "ZCITYNAME", "ZBIRTHDATE", "ZGENDER", "ZDISTANCEMILES",
                                          "ZINSTAGRAMNAME", "ZPUBLICUSERNAME"), alias="u")
    for row in db.execute(f"SELECT t.Z_PK, t.ZCREATED, u.ZUSERID, u.ZFIRSTNAME, {match}, {user} FROM ZMATCH t "
                          f"LEFT JOIN ZUSER u ON u.Z_PK = t.ZUSER ORDER BY t.Z_PK"):
        last, birth = timestamps.cocoa_s(row["ZLASTACTIVITY"]), timestamps.cocoa_s(row["ZBIRTHDATE"])
        extra = {"match_id": row["ZMATCHID"], "last_activity": last.iso if last else None,
                 "birth_date": birth.iso[:10] if birth else None, "bio": row["ZBIO"], "city": row["ZCITYNAME"],
                 "gender_raw": row["ZGENDER"], "distance_miles": row["ZDISTANCEMILES"],
                 "super_like": row["ZISSUPERLIKEMATCH"], "expired": row["ZISEXPIRED"], "draft": row["ZMESSAGEDRAFT"],
                 "instagram": row["ZINSTAGRAMNAME"]}
        yield Contact(app=ctx.app, platform=ctx.platform, name=row["ZFIRSTNAME"], user_id=row["ZUSERID"],
                      handles=[row["ZPUBLICUSERNAME"]] if row["ZPUBLICUSERNAME"] else [],
                      ts=timestamps.cocoa_s(row["ZCREATED"]), extra={k: v for k, v in extra.items() if v is not None},
                      prov=ctx.prov("ZMATCH", row["Z_PK"]))


@parser(name="tinder-ios-account", app=APP, platform="Tinder", paths=PATHS,
        requires={"ZUSER": {"Z_PK", "ZUSERID", "ZFIRSTNAME", "ZISCURRENTUSER"}})
def account(db, ctx):
    """The account holder: the ZUSER row flagged ZISCURRENTUSER."""
    username = optional_columns(db, "ZUSER", ["ZPUBLICUSERNAME"])
    for row in db.execute(f"SELECT Z_PK, ZUSERID, ZFIRSTNAME, {username} FROM ZUSER WHERE ZISCURRENTUSER = 1 "
                          f"ORDER BY Z_PK"):
        yield Account(app=ctx.app, platform=ctx.platform, account_type="Tinder", user_id=row["ZUSERID"],
                      display_name=row["ZFIRSTNAME"], username=row["ZPUBLICUSERNAME"],
                      prov=ctx.prov("ZUSER", row["Z_PK"]))


def _current_user(db) -> str | None:
    if "ziscurrentuser" not in columns(db, "ZUSER"):
        return None
    row = db.execute("SELECT ZUSERID FROM ZUSER WHERE ZISCURRENTUSER = 1 ORDER BY Z_PK").fetchone()
    return row[0] if row else None
