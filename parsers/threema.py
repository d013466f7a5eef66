"""Threema: iOS ``ThreemaData.sqlite`` (Core Data, not database-encrypted) and the Android ``threema4.db``
(SQLCipher: detected and reported as encrypted).

iOS source: iLEAPP ``scripts/artifacts/Threema.py`` (abrignoni/iLEAPP, @C_Peter). ``ZMESSAGE``: ``ZDATE`` (Cocoa
seconds), ``ZISOWN`` (1 sent by the user), ``ZTEXT`` or ``ZCAPTION``, ``ZREAD``, ``ZSENDER`` → ``ZCONTACT`` (the
author in a group), ``ZCONVERSATION`` → ``ZCONVERSATION(ZGROUPNAME, ZCONTACT)``, the message kind as the Core Data
entity name (``Z_PRIMARYKEY.Z_NAME`` for ``Z_ENT``), media in ``ZAUDIODATA``/``ZVIDEODATA``/``ZIMAGEDATA`` (by
``ZAUDIO``/``ZVIDEO``/``ZIMAGE``) and ``ZFILEDATA`` (by ``ZMESSAGE``), whose ``ZDATA`` is the bytes after a 0x01
byte or, between 0x02 and a closing 0x00, the name of a file in ``.ThreemaData_SUPPORT/_EXTERNAL_DATA/``;
``ZFILENAME``, ``ZMIMETYPE``; a shared location in ``ZLATITUDE``/``ZLONGITUDE``/``ZACCURACY``. ``ZCONTACT``:
``ZIDENTITY`` (the Threema ID), ``ZFIRSTNAME``, ``ZLASTNAME``, ``ZPUBLICNICKNAME``, ``ZCNCONTACTID``. iLEAPP
drops ``SystemMessage`` rows; they are kept here with that message type.

Android source: threema-ch/threema-android (``DatabaseServiceNew``: ``threema4.db``), whose database is SQLCipher
keyed from the master key in ``files/key.dat`` (which a passphrase may protect); no key derivation is implemented
here, so the run is recorded as ``encrypted`` with what the evidence holds.
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Contact, Location, Message
from parsers.decoders.sqlcipher import HEAD_SIZE, SQLITE_MAGIC, is_sqlcipher
from parsers.framework import Encrypted, Unsupported, columns, optional_columns, parser, tables

APP_IOS = "ch.threema.iapp"
PLATFORM = "Threema"
IOS_PATHS = ["*/AppGroup/*/ThreemaData.sqlite"]
IOS_SOURCE = "abrignoni/iLEAPP scripts/artifacts/Threema.py"
_MEDIA = (("ZAUDIO", "ZAUDIODATA"), ("ZVIDEO", "ZVIDEODATA"), ("ZIMAGE", "ZIMAGEDATA"))
EXTERNAL = ".ThreemaData_SUPPORT/_EXTERNAL_DATA/"


@parser(name="threema-ios-messages", app=APP_IOS, platform=PLATFORM, paths=IOS_PATHS, source=IOS_SOURCE,
        requires={"ZMESSAGE": {"Z_PK", "Z_ENT", "ZDATE", "ZISOWN", "ZCONVERSATION"}})
def messages(db, ctx):
    """Chat messages of every kind (text, media, location, ballot, system), with group and sender names."""
    kinds = _entity_names(db)
    people = _contacts(db)
    chats = _conversations(db)
    files = _file_data(db)
    optional = optional_columns(db, "ZMESSAGE", ("ZSENDER", "ZREAD", "ZTEXT", "ZCAPTION", "ZAUDIO", "ZVIDEO",
                                                 "ZIMAGE", "ZFILENAME", "ZMIMETYPE", "ZLATITUDE", "ZLONGITUDE"))
    for row in db.execute(f"SELECT Z_PK, Z_ENT, ZDATE, ZISOWN, ZCONVERSATION, {optional} FROM ZMESSAGE "
                          f"ORDER BY ZDATE, Z_PK"):
        group, partner = chats.get(row["ZCONVERSATION"], (None, None))
        partner_id, partner_name = people.get(partner, (None, None))
        author_id, author_name = people.get(row["ZSENDER"], (None, None)) if row["ZSENDER"] else (
            partner_id, partner_name)
        own = None if row["ZISOWN"] is None else bool(row["ZISOWN"])
        media = [_media(db, table, row[column]) for column, table in _MEDIA if row[column]]
        media += files.get(row["Z_PK"], [])
        attachments = [{k: v for k, v in {**m, "name": row["ZFILENAME"], "mime_type": row["ZMIMETYPE"]}.items()
                        if v is not None} for m in media if m]
        extra = {"read": row["ZREAD"], "conversation": row["ZCONVERSATION"]}
        if row["ZLATITUDE"] is not None and row["ZLONGITUDE"] is not None:
            extra.update(latitude=row["ZLATITUDE"], longitude=row["ZLONGITUDE"])
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=str(row["ZCONVERSATION"]),
            thread_name=group or partner_name, direction=None if own is None else "outgoing" if own else "incoming",
            sender=None if own is not False else author_id, sender_name=None if own is not False else author_name,
            recipients=[partner_id] if own and partner_id and not group else [],
            body=row["ZTEXT"] if row["ZTEXT"] is not None else row["ZCAPTION"],
            message_type=kinds.get(row["Z_ENT"], f"entity {row['Z_ENT']}"), attachments=attachments,
            ts=timestamps.cocoa_s(row["ZDATE"]), extra={k: v for k, v in extra.items() if v is not None},
            prov=ctx.prov("ZMESSAGE", row["Z_PK"]))


@parser(name="threema-ios-locations", app=APP_IOS, platform=PLATFORM, paths=IOS_PATHS, source=IOS_SOURCE,
        requires={"ZMESSAGE": {"Z_PK", "ZDATE", "ZISOWN", "ZLATITUDE", "ZLONGITUDE"}})
def locations(db, ctx):
    """Locations shared in chats (ZMESSAGE rows with a latitude and longitude)."""
    optional = optional_columns(db, "ZMESSAGE", ("ZACCURACY",))
    for row in db.execute(f"SELECT Z_PK, ZDATE, ZISOWN, ZLATITUDE, ZLONGITUDE, {optional} FROM ZMESSAGE "
                          f"WHERE ZLATITUDE IS NOT NULL AND ZLONGITUDE IS NOT NULL ORDER BY ZDATE, Z_PK"):
        yield Location(app=ctx.app, latitude=row["ZLATITUDE"], longitude=row["ZLONGITUDE"],
                       accuracy_m=row["ZACCURACY"], source_kind="chat location",
                       label="sent" if row["ZISOWN"] else "received", ts=timestamps.cocoa_s(row["ZDATE"]),
                       prov=ctx.prov("ZMESSAGE", row["Z_PK"]))


@parser(name="threema-ios-contacts", app=APP_IOS, platform=PLATFORM, paths=IOS_PATHS, source=IOS_SOURCE,
        requires={"ZCONTACT": {"Z_PK", "ZIDENTITY"}})
def contacts(db, ctx):
    """Known Threema users (ZCONTACT): Threema ID, names and nickname."""
    optional = optional_columns(db, "ZCONTACT", ("ZFIRSTNAME", "ZLASTNAME", "ZPUBLICNICKNAME", "ZCNCONTACTID"))
    for row in db.execute(f"SELECT Z_PK, ZIDENTITY, {optional} FROM ZCONTACT ORDER BY Z_PK"):
        extra = {"nickname": row["ZPUBLICNICKNAME"], "address_book_id": row["ZCNCONTACTID"]}
        yield Contact(app=ctx.app, platform=ctx.platform, name=_name(row), user_id=row["ZIDENTITY"],
                      handles=[row["ZIDENTITY"]] if row["ZIDENTITY"] else [],
                      extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov("ZCONTACT", row["Z_PK"]))


@parser(name="threema-android", app="ch.threema.app", platform=PLATFORM,
        paths=["*/ch.threema.app*/databases/threema4.db"],
        source="threema-ch/threema-android (DatabaseServiceNew: threema4.db, SQLCipher keyed from files/key.dat)")
def android(db, ctx):
    """threema4.db is SQLCipher: recorded as encrypted, saying whether the master key file is in the evidence."""
    with open(ctx.local, "rb") as f:
        head = f.read(HEAD_SIZE)
    if head.startswith(SQLITE_MAGIC) and not is_sqlcipher(head):
        raise Unsupported("threema4.db is plain SQLite; only the SQLCipher database Threema writes is known")
    folder = ctx.source.path.rsplit("/databases/", 1)[0]
    keys = [s.path for s in ctx.find("*/files/*key.dat") if s.path.startswith(folder + "/files/")]
    where = (f"master key file {', '.join(keys)} is in the evidence" if keys
             else "no master key file (files/key.dat, files/master_key.dat) is in the evidence")
    raise Encrypted(f"SQLCipher database keyed from Threema's master key; {where}; deriving the key from it "
                    f"(and any passphrase protecting it) is not implemented")


@parser(name="threema-android-key", app="ch.threema.app", platform=PLATFORM,
        paths=["*/ch.threema.app*/files/key.dat", "*/ch.threema.app*/files/master_key.dat"],
        source="threema-ch/threema-android")
def android_key(db, ctx):
    """Threema's master key file: declared so it is spooled for threema-android; no records (never stored)."""
    return ()


def _entity_names(db) -> dict[int, str]:
    if "z_primarykey" not in tables(db):
        return {}
    return {r["Z_ENT"]: r["Z_NAME"] for r in db.execute("SELECT Z_ENT, Z_NAME FROM Z_PRIMARYKEY")}


def _contacts(db) -> dict[int, tuple]:
    if "zcontact" not in tables(db):
        return {}
    optional = optional_columns(db, "ZCONTACT", ("ZIDENTITY", "ZFIRSTNAME", "ZLASTNAME", "ZPUBLICNICKNAME"))
    return {r["Z_PK"]: (r["ZIDENTITY"], _name(r)) for r in db.execute(f"SELECT Z_PK, {optional} FROM ZCONTACT")}


def _conversations(db) -> dict[int, tuple]:
    if "zconversation" not in tables(db):
        return {}
    optional = optional_columns(db, "ZCONVERSATION", ("ZGROUPNAME", "ZCONTACT"))
    return {r["Z_PK"]: (r["ZGROUPNAME"], r["ZCONTACT"])
            for r in db.execute(f"SELECT Z_PK, {optional} FROM ZCONVERSATION")}


def _file_data(db) -> dict[int, list[dict]]:
    if not {"zmessage", "zdata"} <= columns(db, "ZFILEDATA"):
        return {}
    found: dict[int, list[dict]] = {}
    for r in db.execute("SELECT ZMESSAGE, ZDATA FROM ZFILEDATA WHERE ZMESSAGE IS NOT NULL ORDER BY rowid"):
        described = _described(r["ZDATA"])
        if described:
            found.setdefault(r["ZMESSAGE"], []).append(described)
    return found


def _media(db, table: str, pk) -> dict | None:
    if table.lower() not in tables(db):
        return None
    row = db.execute(f"SELECT ZDATA FROM [{table}] WHERE Z_PK = ?", [pk]).fetchone()
    return _described(row["ZDATA"]) if row else None


def _described(data) -> dict | None:
    """Where a ZDATA value's bytes are: inline after a 0x01 byte, or in an external file named between 0x02 and
    0x00 (iLEAPP's reading of Core Data's external storage)."""
    if not isinstance(data, bytes) or not data:
        return None
    if data[0] == 0x01:
        return {"embedded_bytes": len(data) - 1}
    if data[0] == 0x02 and data[-1] == 0x00:
        try:
            return {"path": EXTERNAL + data[1:-1].decode("ascii")}
        except UnicodeDecodeError:
            return None
    return None


def _name(row) -> str | None:
    full = " ".join(p for p in (row["ZFIRSTNAME"], row["ZLASTNAME"]) if p)
    return full or row["ZPUBLICNICKNAME"] or None
