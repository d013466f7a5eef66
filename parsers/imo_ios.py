"""imo for iOS (imo HD): IMODb2.sqlite, a Core Data store of chat messages (ZIMOCHATMSG), contacts (ZIMOCONTACT)
and key/value settings (ZIMOKEYVAL, which names the account).

Times (``ZTS``, ``ZSENDERTS``) are Unix nanoseconds, not Cocoa. ``ZISSENT`` is 1 for the account's own messages.
``ZIMDATA`` is an NSKeyedArchiver dictionary whose ``type`` names what the message is (``photo_uploaded``,
``__deleted_im`` for a message its sender deleted) and whose ``objects`` list the uploaded files.
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Account, Contact, Message
from parsers.decoders.nskeyedarchive import unarchive
from parsers.framework import optional_columns, parser

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "iLEAPP scripts/artifacts/imoHD_Chat.py; plaso test_data/ios/IMODb2.sqlite (real file)"

APP = "com.imoim.imoiphone"
PATHS = ["*/IMODb2.sqlite"]
DELETED = "__deleted_im"


@parser(name="imo-ios-messages", app=APP, platform="imo", paths=PATHS,
        requires={"ZIMOCHATMSG": {"Z_PK", "ZTS", "ZISSENT", "ZBUID", "ZTEXT"}})
def messages(db, ctx):
    """Chat messages: ``ZBUID`` is the conversation's buddy (or group) id, ``ZA_UID``/``ZALIAS`` the author."""
    optional = optional_columns(db, "ZIMOCHATMSG",
                                ("ZA_UID", "ZALIAS", "ZCONTACT_ALIAS", "ZSENDERTS", "ZSTATE", "ZTYPE", "ZIMDATA"))
    for row in db.execute(f"SELECT Z_PK, ZTS, ZISSENT, ZBUID, ZTEXT, {optional} FROM ZIMOCHATMSG ORDER BY Z_PK"):
        outgoing = None if row["ZISSENT"] is None else bool(row["ZISSENT"])
        extra = {"type_raw": row["ZTYPE"], "state": row["ZSTATE"]}
        kind, attachments = ("text" if row["ZTYPE"] == 0 else f"type {row['ZTYPE']}"), []
        if row["ZIMDATA"]:
            try:
                data = unarchive(row["ZIMDATA"])
            except ValueError as exc:
                extra["imdata_undecoded"] = str(exc)
            else:
                kind = data.get("type") or kind
                attachments = [{"name": o.get("filename"), "object_id": o.get("object_id"),
                                "mime_type": _dict(o.get("type_specific_params")).get("mime")}
                               for o in map(_dict, _list(data.get("objects")))]
        sender_ts = timestamps.unix_ns(row["ZSENDERTS"])
        extra["sender_ts"] = sender_ts.iso if sender_ts else None
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=row["ZBUID"], thread_name=row["ZCONTACT_ALIAS"],
            sender=None if outgoing is not False else (row["ZA_UID"] or row["ZBUID"]),
            sender_name=None if outgoing is not False else row["ZALIAS"],
            recipients=[row["ZBUID"]] if outgoing and row["ZBUID"] else [],
            direction=None if outgoing is None else ("outgoing" if outgoing else "incoming"),
            body=row["ZTEXT"], message_type=kind, attachments=attachments, deleted=kind == DELETED,
            ts=timestamps.unix_ns(row["ZTS"]), extra={k: v for k, v in extra.items() if v is not None},
            prov=ctx.prov("ZIMOCHATMSG", row["Z_PK"]))


@parser(name="imo-ios-contacts", app=APP, platform="imo", paths=PATHS,
        requires={"ZIMOCONTACT": {"Z_PK", "ZBUID", "ZDISPLAY"}})
def contacts(db, ctx):
    """imo contacts and groups, with the phone-book name and number imo matched them to."""
    optional = optional_columns(db, "ZIMOCONTACT",
                                ("ZALIAS", "ZPH_NAME", "ZPHONE", "ZDIGIT_PHONE", "ZIS_GROUP", "ZBLOCK_STATE"))
    for row in db.execute(f"SELECT Z_PK, ZBUID, ZDISPLAY, {optional} FROM ZIMOCONTACT ORDER BY Z_PK"):
        extra = {"alias": row["ZALIAS"], "phonebook_name": row["ZPH_NAME"], "digit_phone": row["ZDIGIT_PHONE"],
                 "is_group": None if row["ZIS_GROUP"] is None else bool(row["ZIS_GROUP"]),
                 "block_state": row["ZBLOCK_STATE"]}
        yield Contact(app=ctx.app, platform=ctx.platform, name=row["ZDISPLAY"], user_id=row["ZBUID"],
                      phones=[row["ZPHONE"]] if row["ZPHONE"] else [],
                      extra={k: v for k, v in extra.items() if v not in (None, "")},
                      prov=ctx.prov("ZIMOCONTACT", row["Z_PK"]))


@parser(name="imo-ios-account", app=APP, platform="imo", paths=PATHS,
        requires={"ZIMOKEYVAL": {"Z_PK", "ZKEY", "ZSTRING_VAL"}})
def account(db, ctx):
    """The signed-in account from ZIMOKEYVAL (``imo_account_uid``, ``imo_account_alias``); cookies are not read."""
    values = {row["ZKEY"]: (row["Z_PK"], row["ZSTRING_VAL"]) for row in db.execute(
        "SELECT Z_PK, ZKEY, ZSTRING_VAL FROM ZIMOKEYVAL WHERE ZKEY IN ('imo_account_uid', 'imo_account_alias') "
        "ORDER BY Z_PK")}
    if not values:
        return
    row_id = min(pk for pk, _ in values.values())
    yield Account(app=ctx.app, platform=ctx.platform, account_type="imo",
                  user_id=values.get("imo_account_uid", (None, None))[1],
                  username=values.get("imo_account_alias", (None, None))[1], prov=ctx.prov("ZIMOKEYVAL", row_id))


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value) -> list:
    return value if isinstance(value, list) else []
