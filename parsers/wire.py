"""Wire for iOS and Android.

iOS (``com.wearezeta.zclient.ios``), from iLEAPP ``scripts/artifacts/wire.py``:
``AppGroup/<UUID>/AccountData/<account id>/store/store.wiredatabase``, a Core Data store.
``ZMESSAGE(ZSERVERTIMESTAMP Cocoa s, ZSENDER → ZUSER, ZNORMALIZEDTEXT, ZCACHEDCATEGORY [0 none, 2 text, 8 image,
256 location, 2048 system], ZDURATION)``; ``ZUSER(Z_PK, ZHANDLE, ZNAME, ZEMAILADDRESS, ZPHONENUMBER — dropped in
newer versions)``; ``ZUSERCLIENT(ZUSER, ZACTIVATIONDATE Cocoa s, ZACTIVATIONLOCATIONLATITUDE,
ZACTIVATIONLOCATIONLONGITUDE)`` — where a device of that user was registered. No conversation or direction column is
shown, so messages carry neither. iLEAPP leaves out messages of category 1; they are kept here.

Android (``com.wire``), from ALEAPP ``scripts/artifacts/wireMessenger.py``: the legacy app keeps a plain SQLite
database named by the account id (a UUID) in ``databases/``: ``Messages(_id, time [Unix ms], user_id, msg_type,
content [JSON, text at $[0].content], duration [ms], asset_id)``, ``Users(_id, name, email, phone, handle,
connection ['self' = the owner], conn_timestamp [ms])``, ``MsgDeletion(message_id, timestamp)``. Newer builds keep
``databases/user-db-<account>-wirecom``, which is SQLCipher (wireapp/kalium); it is reported as encrypted.
"""
from __future__ import annotations

import json

from artifacts import timestamps
from artifacts.records import Contact, Location, Message
from parsers.framework import Unsupported, columns, optional_columns, parser, refuse_encrypted

IOS_APP, ANDROID_APP, PLATFORM = "com.wearezeta.zclient.ios", "com.wire", "Wire"
IOS_PATHS = ["*/AppGroup/*/AccountData/*/store/store.wiredatabase"]
ANDROID_PATHS = ["*/com.wire/databases/????????-????-????-????-????????????"]
IOS_SOURCE = "iLEAPP scripts/artifacts/wire.py"
ANDROID_SOURCE = "ALEAPP scripts/artifacts/wireMessenger.py"
CATEGORIES = {0: None, 2: "text", 8: "image", 256: "location", 2048: "system"}


@parser(name="wire-ios-messages", app=IOS_APP, platform=PLATFORM, paths=IOS_PATHS, source=IOS_SOURCE,
        requires={"ZMESSAGE": {"Z_PK", "ZSERVERTIMESTAMP", "ZSENDER", "ZNORMALIZEDTEXT", "ZCACHEDCATEGORY"},
                  "ZUSER": {"Z_PK", "ZHANDLE", "ZNAME"}})
def ios_messages(db, ctx):
    """Messages with their sender's handle and name; ``ZDURATION`` (calls) in ``extra``."""
    duration = optional_columns(db, "ZMESSAGE", ("ZDURATION",), alias="m")
    for row in db.execute(f"SELECT m.Z_PK, m.ZSERVERTIMESTAMP, m.ZNORMALIZEDTEXT, m.ZCACHEDCATEGORY, {duration}, "
                          f"u.ZHANDLE, u.ZNAME FROM ZMESSAGE m LEFT JOIN ZUSER u ON u.Z_PK = m.ZSENDER "
                          f"ORDER BY m.Z_PK"):
        category = row["ZCACHEDCATEGORY"]
        kind = CATEGORIES[category] if category in CATEGORIES else f"category {category}"
        yield Message(app=ctx.app, platform=ctx.platform, sender=row["ZHANDLE"], sender_name=row["ZNAME"],
                      body=row["ZNORMALIZEDTEXT"], message_type=kind, ts=timestamps.cocoa_s(row["ZSERVERTIMESTAMP"]),
                      extra={"duration_s": row["ZDURATION"]} if row["ZDURATION"] else {},
                      prov=ctx.prov("ZMESSAGE", row["Z_PK"]))


@parser(name="wire-ios-users", app=IOS_APP, platform=PLATFORM, paths=IOS_PATHS, source=IOS_SOURCE,
        requires={"ZUSER": {"Z_PK", "ZHANDLE", "ZNAME", "ZEMAILADDRESS"}})
def ios_users(db, ctx):
    """Wire users (ZUSER) with their e-mail and, on older versions, phone number."""
    phone = optional_columns(db, "ZUSER", ("ZPHONENUMBER",))
    for row in db.execute(f"SELECT Z_PK, ZHANDLE, ZNAME, ZEMAILADDRESS, {phone} FROM ZUSER ORDER BY Z_PK"):
        yield Contact(app=ctx.app, platform=ctx.platform, name=row["ZNAME"],
                      handles=[row["ZHANDLE"]] if row["ZHANDLE"] else [],
                      emails=[row["ZEMAILADDRESS"]] if row["ZEMAILADDRESS"] else [],
                      phones=[row["ZPHONENUMBER"]] if row["ZPHONENUMBER"] else [], prov=ctx.prov("ZUSER", row["Z_PK"]))


@parser(name="wire-ios-client-locations", app=IOS_APP, platform=PLATFORM, paths=IOS_PATHS, source=IOS_SOURCE,
        requires={"ZUSERCLIENT": {"Z_PK", "ZUSER", "ZACTIVATIONDATE", "ZACTIVATIONLOCATIONLATITUDE",
                                  "ZACTIVATIONLOCATIONLONGITUDE"}})
def ios_client_locations(db, ctx):
    """Where a user's device (client) was activated (ZUSERCLIENT activation location)."""
    user = "u.ZHANDLE, u.ZNAME" if {"z_pk", "zhandle", "zname"} <= columns(db, "ZUSER") else \
        "NULL AS ZHANDLE, NULL AS ZNAME"
    join = "LEFT JOIN ZUSER u ON u.Z_PK = c.ZUSER" if user.startswith("u.") else ""
    for row in db.execute(f"SELECT c.Z_PK, c.ZACTIVATIONDATE, c.ZACTIVATIONLOCATIONLATITUDE AS lat, "
                          f"c.ZACTIVATIONLOCATIONLONGITUDE AS lon, {user} FROM ZUSERCLIENT c {join} ORDER BY c.Z_PK"):
        if not isinstance(row["lat"], (int, float)) or not isinstance(row["lon"], (int, float)) or \
                (row["lat"] == 0 and row["lon"] == 0):
            continue
        yield Location(app=ctx.app, latitude=float(row["lat"]), longitude=float(row["lon"]),
                       source_kind="client activation", label=row["ZNAME"],
                       ts=timestamps.cocoa_s(row["ZACTIVATIONDATE"]),
                       extra={"handle": row["ZHANDLE"]} if row["ZHANDLE"] else {},
                       prov=ctx.prov("ZUSERCLIENT", row["Z_PK"]))


@parser(name="wire-android-messages", app=ANDROID_APP, platform=PLATFORM, paths=ANDROID_PATHS, source=ANDROID_SOURCE,
        requires={"Messages": {"_id", "time", "user_id", "msg_type", "content"}, "Users": {"_id", "name"}})
def android_messages(db, ctx):
    """Messages of the legacy account database; the owner is the ``Users`` row with connection ``self``."""
    owner = None
    if "connection" in columns(db, "Users"):
        owner = next((r[0] for r in db.execute("SELECT _id FROM Users WHERE connection = 'self'")), None)
    deleted = {}
    if {"message_id", "timestamp"} <= columns(db, "MsgDeletion"):
        deleted = dict(db.execute("SELECT message_id, timestamp FROM MsgDeletion"))
    duration = optional_columns(db, "Messages", ("duration",), alias="m")
    for row in db.execute(f"SELECT m.rowid AS row_id, m._id, m.time, m.user_id, m.msg_type, m.content, {duration}, "
                          f"u.name "
                          f"FROM Messages m LEFT JOIN Users u ON u._id = m.user_id ORDER BY m.rowid"):
        direction = None if owner is None else ("outgoing" if row["user_id"] == owner else "incoming")
        removed = timestamps.unix_ms(deleted.get(row["_id"]))
        extra = {"message_id": row["_id"], "duration_s": row["duration"] / 1000 if row["duration"] else None,
                 "deleted_at": removed.iso if removed else None}
        yield Message(app=ctx.app, platform=ctx.platform, sender=row["user_id"], sender_name=row["name"],
                      direction=direction, body=_text_content(row["content"]), message_type=row["msg_type"],
                      deleted=row["_id"] in deleted, ts=timestamps.unix_ms(row["time"]),
                      extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov("Messages", row["row_id"]))


@parser(name="wire-android-users", app=ANDROID_APP, platform=PLATFORM, paths=ANDROID_PATHS, source=ANDROID_SOURCE,
        requires={"Users": {"_id", "name"}})
def android_users(db, ctx):
    """Users of the legacy account database; the owner (connection ``self``) is marked in ``extra``."""
    optional = optional_columns(db, "Users", ("email", "phone", "handle", "connection", "conn_timestamp"))
    for row in db.execute(f"SELECT rowid AS row_id, _id, name, {optional} FROM Users ORDER BY rowid"):
        extra = {"connection": row["connection"], "owner": True if row["connection"] == "self" else None}
        yield Contact(app=ctx.app, platform=ctx.platform, name=row["name"], user_id=row["_id"],
                      handles=[row["handle"]] if row["handle"] else [], emails=[row["email"]] if row["email"] else [],
                      phones=[row["phone"]] if row["phone"] else [], ts=timestamps.unix_ms(row["conn_timestamp"]),
                      extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov("Users", row["row_id"]))


@parser(name="wire-android-encrypted", app=ANDROID_APP, platform=PLATFORM, source=ANDROID_SOURCE,
        paths=["*/com.wire/databases/user-db-*-wirecom"])
def android_encrypted(_db, ctx):
    """The current app's account database: SQLCipher, reported as encrypted."""
    refuse_encrypted(ctx, "the current Wire app keys it from its encrypted preferences (wireapp/kalium)")
    raise Unsupported("a plaintext user-db-*-wirecom: its layout is not published by a public tool")
    yield  # a generator like every parser


def _text_content(content) -> str | None:
    """``$[0].content`` of the message's JSON content (what ALEAPP shows); other JSON is kept as it is."""
    if content is None:
        return None
    try:
        value = json.loads(content)
    except (TypeError, ValueError):
        return content
    if isinstance(value, list) and value and isinstance(value[0], dict) and "content" in value[0]:
        return value[0]["content"]
    return content
