"""GroupMe for iOS and Android.

iOS (``com.groupme.iphone-app``), layout from iLEAPP ``scripts/artifacts/groupMe.py``:
``Library/Application Support/GroupMe.sqlite`` (older builds ``Documents/``), a Core Data store.
``ZGMMESSAGE(ZCREATEDAT Cocoa s, ZNAME sender name, ZUSERID sender id, ZMESSAGE, ZSYSTEM, ZHIDDEN,
ZMESSAGEDELETIONSTATUS [NSKeyedArchiver: isSystemDeleted, deletionActor], ZREPLYMESSAGEID, ZSOURCEGUID,
ZDIRECTMESSAGEID / ZLINEID, ZGROUP / ZUSER → ZGMCHAT)``; ``ZGMCHAT(Z_PK, ZNAME, ZCHATTYPE, ZCHATID)``;
``ZGMATTACHMENT(ZMESSAGE, ZTYPE, ZURL, ZFILENAME, ZLAT, ZLNG, ZVENUENAME)`` (only ``location`` rows carry real
coordinates); ``ZGMRELATIONSHIP(ZCREATEDAT, ZUPDATEDAT, ZNAME, ZPHONENUMBER, ZUSERID, ZBLOCKED, ZHIDDEN, ZISAPPUSER)``.
No row says who sent a message; the owner's id is ``userId`` in ``Library/Preferences/com.groupme.iphone-app.plist``
(its ``user`` dictionary has ``name``, ``email``, ``phone_number``, ``created_at``), confirmed by the real plist in
iLEAPP's test cases (josh_ios17_ffs). A message whose ``ZUSERID`` is the owner's is outgoing; without the plist,
direction is left empty as iLEAPP does.

Android (``com.groupme.android``), layout from ALEAPP ``scripts/artifacts/groupMe.py``: ``databases/groupme.db``
``messages(created_at, deleted_at [Unix s], conversation_id, name, sender_type, is_system, hidden, read,
deletion_actor, message_text, photo_url, photo_uri, video_url, location_lat, location_lng, location_name)``,
``groups(group_id, name, group_type, creator_user_id, created_at)``, ``members(user_id, group_id, user_real_name,
role)``. No sender id or direction is shown; rows are identified by rowid.
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Account, Contact, Location, Message
from parsers.decoders.nskeyedarchive import unarchive
from parsers.framework import columns, optional_columns, parser
from parsers.ios_device import read_plist

IOS_APP, ANDROID_APP, PLATFORM = "com.groupme.iphone-app", "com.groupme.android", "GroupMe"
IOS_PATHS = ["*/Containers/Data/Application/*/Library/Application Support/GroupMe.sqlite",
             "*/Containers/Data/Application/*/Documents/GroupMe.sqlite"]
IOS_PREFS = "*/Containers/Data/Application/*/Library/Preferences/com.groupme.iphone-app.plist"
ANDROID_PATHS = ["*/com.groupme.android/databases/groupme.db"]
IOS_SOURCE = "iLEAPP scripts/artifacts/groupMe.py; iLEAPP admin/test/cases/data/groupMe (real preferences plist)"
ANDROID_SOURCE = "ALEAPP scripts/artifacts/groupMe.py"


@parser(name="groupme-ios-messages", app=IOS_APP, platform=PLATFORM, paths=IOS_PATHS, source=IOS_SOURCE,
        requires={"ZGMMESSAGE": {"Z_PK", "ZCREATEDAT", "ZNAME", "ZUSERID", "ZMESSAGE"}})
def ios_messages(db, ctx):
    """Group and direct messages with their chat, attachments and deletion status."""
    owner = _ios_owner(ctx)
    optional = optional_columns(db, "ZGMMESSAGE", ("ZSYSTEM", "ZHIDDEN", "ZMESSAGEDELETIONSTATUS", "ZREPLYMESSAGEID",
                                                   "ZSOURCEGUID", "ZDIRECTMESSAGEID", "ZLINEID", "ZGROUP", "ZUSER"),
                                alias="m")
    chats = {}
    if {"z_pk", "zname", "zchattype", "zchatid"} <= columns(db, "ZGMCHAT"):
        chats = {r["Z_PK"]: r for r in db.execute("SELECT Z_PK, ZNAME, ZCHATTYPE, ZCHATID FROM ZGMCHAT")}
    attachments = _ios_attachments(db)
    for row in db.execute(f"SELECT m.Z_PK, m.ZCREATEDAT, m.ZNAME, m.ZUSERID, m.ZMESSAGE, {optional} "
                          f"FROM ZGMMESSAGE m ORDER BY m.Z_PK"):
        chat = chats.get(row["ZGROUP"] if row["ZGROUP"] is not None else row["ZUSER"])
        sender = None if row["ZUSERID"] is None else str(row["ZUSERID"])
        direction = None
        if owner and not row["ZSYSTEM"]:
            direction = "outgoing" if sender == owner else "incoming"
        deletion = _deletion_status(row["ZMESSAGEDELETIONSTATUS"])
        extra = {"system": bool(row["ZSYSTEM"]) or None, "hidden": bool(row["ZHIDDEN"]) or None,
                 "deletion_status": deletion, "reply_to": row["ZREPLYMESSAGEID"], "source_guid": row["ZSOURCEGUID"],
                 "message_id": row["ZDIRECTMESSAGEID"] or row["ZLINEID"],
                 "chat_type": chat["ZCHATTYPE"] if chat else None}
        yield Message(app=ctx.app, platform=ctx.platform, thread_id=_text(chat["ZCHATID"]) if chat else None,
                      thread_name=chat["ZNAME"] if chat else None, sender=sender, sender_name=row["ZNAME"],
                      direction=direction, body=row["ZMESSAGE"], deleted=deletion is not None,
                      message_type="system" if row["ZSYSTEM"] else None,
                      attachments=attachments.get(row["Z_PK"], []), ts=timestamps.cocoa_s(row["ZCREATEDAT"]),
                      extra={k: v for k, v in extra.items() if v is not None},
                      prov=ctx.prov("ZGMMESSAGE", row["Z_PK"]))


@parser(name="groupme-ios-locations", app=IOS_APP, platform=PLATFORM, paths=IOS_PATHS, source=IOS_SOURCE,
        requires={"ZGMATTACHMENT": {"Z_PK", "ZMESSAGE", "ZTYPE", "ZLAT", "ZLNG"},
                  "ZGMMESSAGE": {"Z_PK", "ZCREATEDAT", "ZNAME", "ZUSERID"}})
def ios_locations(db, ctx):
    """Locations shared in messages (ZGMATTACHMENT rows of type ``location``)."""
    venue = optional_columns(db, "ZGMATTACHMENT", ("ZVENUENAME",), alias="a")
    for row in db.execute(f"SELECT a.Z_PK, a.ZLAT, a.ZLNG, {venue}, m.ZCREATEDAT, m.ZNAME, m.ZUSERID "
                          f"FROM ZGMATTACHMENT a LEFT JOIN ZGMMESSAGE m ON m.Z_PK = a.ZMESSAGE "
                          f"WHERE a.ZTYPE = 'location' ORDER BY a.Z_PK"):
        try:
            lat, lon = float(row["ZLAT"]), float(row["ZLNG"])
        except (TypeError, ValueError):
            continue
        yield Location(app=ctx.app, latitude=lat, longitude=lon, label=row["ZVENUENAME"], source_kind="chat message",
                       ts=timestamps.cocoa_s(row["ZCREATEDAT"]),
                       extra={k: v for k, v in {"sender": _text(row["ZUSERID"]), "sender_name": row["ZNAME"]}.items()
                              if v is not None}, prov=ctx.prov("ZGMATTACHMENT", row["Z_PK"]))


@parser(name="groupme-ios-contacts", app=IOS_APP, platform=PLATFORM, paths=IOS_PATHS, source=IOS_SOURCE,
        requires={"ZGMRELATIONSHIP": {"Z_PK", "ZNAME", "ZPHONENUMBER", "ZUSERID"}})
def ios_contacts(db, ctx):
    """GroupMe contacts (ZGMRELATIONSHIP); ``ts`` is when the relationship was created."""
    optional = optional_columns(db, "ZGMRELATIONSHIP", ("ZCREATEDAT", "ZUPDATEDAT", "ZBLOCKED", "ZHIDDEN",
                                                        "ZISAPPUSER"))
    for row in db.execute(f"SELECT Z_PK, ZNAME, ZPHONENUMBER, ZUSERID, {optional} FROM ZGMRELATIONSHIP "
                          f"ORDER BY Z_PK"):
        updated = timestamps.cocoa_s(row["ZUPDATEDAT"])
        extra = {"blocked": bool(row["ZBLOCKED"]) or None, "hidden": bool(row["ZHIDDEN"]) or None,
                 "app_user": None if row["ZISAPPUSER"] is None else bool(row["ZISAPPUSER"]),
                 "updated": updated.iso if updated else None}
        yield Contact(app=ctx.app, platform=ctx.platform, name=row["ZNAME"], user_id=_text(row["ZUSERID"]),
                      phones=[row["ZPHONENUMBER"]] if row["ZPHONENUMBER"] else [],
                      ts=timestamps.cocoa_s(row["ZCREATEDAT"]), extra={k: v for k, v in extra.items() if v is not None},
                      prov=ctx.prov("ZGMRELATIONSHIP", row["Z_PK"]))


@parser(name="groupme-ios-account", app=IOS_APP, platform=PLATFORM, paths=[IOS_PREFS], source=IOS_SOURCE)
def ios_account(_db, ctx):
    """The signed-in account from the app's preferences (``userId`` and the ``user`` profile)."""
    prefs = read_plist(ctx.local)
    user = prefs.get("user") if isinstance(prefs.get("user"), dict) else {}
    user_id = prefs.get("userId") or user.get("id")
    if user_id is None and not user:
        return
    created = user.get("created_at")
    yield Account(app=ctx.app, platform=ctx.platform, account_type="GroupMe", user_id=_text(user_id),
                  display_name=_str(user.get("name")), email=_str(user.get("email")),
                  phone=_str(user.get("phone_number")),
                  ts=timestamps.from_datetime(created, created.isoformat(), "plist_date")
                  if hasattr(created, "isoformat") else None,
                  extra={k: v for k, v in {"app_version": _str(prefs.get("GMAppVersion")),
                                           "ts_is": "account created" if created else None}.items() if v},
                  prov=ctx.prov())


@parser(name="groupme-android-messages", app=ANDROID_APP, platform=PLATFORM, paths=ANDROID_PATHS,
        source=ANDROID_SOURCE,
        requires={"messages": {"created_at", "conversation_id", "name", "message_text"}})
def android_messages(db, ctx):
    """Messages with their group's name, photos, videos and locations."""
    optional = optional_columns(db, "messages", (
        "deleted_at", "sender_type", "is_system", "hidden", "read", "deletion_actor", "photo_url", "photo_uri",
        "video_url", "location_lat", "location_lng", "location_name"), alias="m")
    group_name = "g.name" if {"group_id", "name"} <= columns(db, "groups") else "NULL"
    join = "LEFT JOIN groups g ON g.group_id = m.conversation_id" if group_name != "NULL" else ""
    for row in db.execute(f"SELECT m.rowid AS row_id, m.created_at, m.conversation_id, m.name, m.message_text, "
                          f"{optional}, {group_name} AS group_name FROM messages m {join} ORDER BY m.rowid"):
        deleted = timestamps.unix_s(row["deleted_at"])
        media = [{"url": u} for u in (row["photo_url"], row["video_url"]) if u]
        if row["photo_uri"]:
            media.append({"path": row["photo_uri"]})
        extra = {"sender_type": row["sender_type"], "read": row["read"], "hidden": row["hidden"],
                 "deletion_actor": row["deletion_actor"], "deleted_at": deleted.iso if deleted else None,
                 "location": {"latitude": row["location_lat"], "longitude": row["location_lng"],
                              "name": row["location_name"]} if row["location_lat"] is not None else None}
        yield Message(app=ctx.app, platform=ctx.platform, thread_id=_text(row["conversation_id"]),
                      thread_name=row["group_name"], sender_name=row["name"], body=row["message_text"],
                      message_type="system" if row["is_system"] else None, attachments=media,
                      deleted=bool(deleted), ts=timestamps.unix_s(row["created_at"]),
                      extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov("messages", row["row_id"]))


@parser(name="groupme-android-locations", app=ANDROID_APP, platform=PLATFORM, paths=ANDROID_PATHS,
        source=ANDROID_SOURCE,
        requires={"messages": {"created_at", "name", "location_lat", "location_lng"}})
def android_locations(db, ctx):
    """Locations shared in messages (``location_lat``/``location_lng``)."""
    label = optional_columns(db, "messages", ("location_name",))
    for row in db.execute(f"SELECT rowid AS row_id, created_at, name, location_lat, location_lng, {label} "
                          f"FROM messages WHERE location_lat IS NOT NULL AND location_lng IS NOT NULL ORDER BY rowid"):
        try:
            lat, lon = float(row["location_lat"]), float(row["location_lng"])
        except (TypeError, ValueError):
            continue
        yield Location(app=ctx.app, latitude=lat, longitude=lon, label=row["location_name"],
                       source_kind="chat message", ts=timestamps.unix_s(row["created_at"]),
                       extra={"sender_name": row["name"]} if row["name"] else {},
                       prov=ctx.prov("messages", row["row_id"]))


@parser(name="groupme-android-members", app=ANDROID_APP, platform=PLATFORM, paths=ANDROID_PATHS,
        source=ANDROID_SOURCE, requires={"members": {"user_id", "group_id", "user_real_name"}})
def android_members(db, ctx):
    """Group members (members), one contact per membership, with the group and the member's role."""
    role = optional_columns(db, "members", ("role",))
    names = dict(db.execute("SELECT group_id, name FROM groups")) if {"group_id", "name"} <= columns(
        db, "groups") else {}
    for row in db.execute(f"SELECT rowid AS row_id, user_id, group_id, user_real_name, {role} FROM members "
                          f"ORDER BY rowid"):
        extra = {"group_id": _text(row["group_id"]), "group_name": names.get(row["group_id"]), "role": row["role"]}
        yield Contact(app=ctx.app, platform=ctx.platform, name=row["user_real_name"], user_id=_text(row["user_id"]),
                      extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov("members", row["row_id"]))


def _ios_owner(ctx) -> str | None:
    """The signed-in user id from the preferences plist in the same app container, if it was collected."""
    container = ctx.source.path.split("/Library/")[0].split("/Documents/")[0]
    for spooled in ctx.find(IOS_PREFS):
        if spooled.path.startswith(container + "/"):
            try:
                user_id = read_plist(spooled.local).get("userId")
            except ValueError:
                return None
            return None if user_id is None else str(user_id)
    return None


def _ios_attachments(db) -> dict[int, list[dict]]:
    if not {"zmessage", "ztype"} <= columns(db, "ZGMATTACHMENT"):
        return {}
    optional = optional_columns(db, "ZGMATTACHMENT", ("ZURL", "ZFILENAME", "ZLAT", "ZLNG", "ZVENUENAME"))
    found: dict[int, list[dict]] = {}
    for row in db.execute(f"SELECT ZMESSAGE, ZTYPE, {optional} FROM ZGMATTACHMENT ORDER BY Z_PK"):
        item = {"type": row["ZTYPE"], "url": row["ZURL"], "name": row["ZFILENAME"]}
        if row["ZTYPE"] == "location":
            item.update(latitude=row["ZLAT"], longitude=row["ZLNG"], venue=row["ZVENUENAME"])
        found.setdefault(row["ZMESSAGE"], []).append({k: v for k, v in item.items() if v is not None})
    return found


def _deletion_status(blob) -> dict | None:
    """ZMESSAGEDELETIONSTATUS: an archived GMMessageDeletionStatus (``isSystemDeleted``, ``deletionActor``)."""
    if not blob:
        return None
    try:
        status = unarchive(bytes(blob))
    except ValueError:
        return {"undecoded": bytes(blob).hex()}
    return {k: status[k] for k in ("isSystemDeleted", "deletionActor") if k in status}


def _text(value) -> str | None:
    return None if value is None else str(value)


def _str(value) -> str | None:
    return value if isinstance(value, str) and value else None
