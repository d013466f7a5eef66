"""WeChat for Android (``com.tencent.mm``): the owner's account, contacts, chat rooms and messages from the
encrypted ``MicroMsg/<md5("mm" + uin)>/EnMicroMsg.db``.

Facts (public tools; see /work/shared/docs/app-databases-corridor.md §1):

- Encryption: SQLCipher 1 settings as WeChat's WCDB writes them — PBKDF2-HMAC-SHA1 with 4,000 iterations,
  1,024-byte pages, no HMAC (wechat-dump ``cipher_compatibility = 1``, its commit c27df0e spelling out the
  equivalent PRAGMAs). The passphrase is the first 7 lower-case hex digits of ``md5(IMEI + uin)`` (wechat-dump
  ``get_key``, pa_script ``android_wechat.py``, ForensicsTool ``CalWechat``).
- uin: ``shared_prefs/system_config_prefs.xml`` ``default_uin`` and ``shared_prefs/auth_info_key_prefs.xml``
  ``_auth_uin`` (may be negative; used as stored, sign included, as pa_script and ForensicsTool do). A uin whose
  ``md5("mm" + uin)`` names the database's folder is tried first.
- IMEI, in order: the device's IMEIs other parsers stored as ``imei`` device facts; ``IMEI_DENGTA`` in the app's
  ``shared_prefs/DENGTA_META.xml`` (ForensicsTool README); the fixed ``1234567890ABCDEF`` WeChat uses when it may
  not read the device id (Android 10 and later; wechat-dump issue #70, ForensicsTool default).
- Tables: ``message`` (``msgId`` key, ``msgSvrId``, ``type``, ``status``, ``isSend`` 1 = sent by the owner,
  ``createTime`` Unix ms, ``talker`` the peer or ``<n>@chatroom``, ``content``, ``imgPath``; wechat-dump
  ``parser.py``, DianQK wechat-archive); an incoming chat-room message carries its sender as ``<wxid>:\\n`` before
  the text (wechat-dump, pa_script). ``rcontact`` (``username`` key, ``alias``, ``conRemark``, ``nickname``,
  ``type``, ``verifyFlag``); ``chatroom`` (``chatroomname``, ``memberlist`` usernames joined by ``;``,
  ``displayname`` joined by ``、``, ``roomowner``; pa_script, WxDBDecrypt); ``userinfo(id, type, value)`` with
  id 2 the owner's wxid, 4 nickname, 5 e-mail, 6 phone, 42 alias (wechat-dump, pa_script, WxDBDecrypt).

No key is ever written anywhere: the run's message says how the key was derived (which IMEI source, which uin
file), and a failure lists what was tried without the candidate keys.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import PurePosixPath

from artifacts import timestamps
from artifacts.records import Account, Contact, Message
from parsers.decoders.abx import ABXDecodeError, AndroidXMLError, load_android_xml
from parsers.framework import Cipher, Encrypted, as_text, optional_columns, parser, tables

APP = "com.tencent.mm"
DATABASE = "*/com.tencent.mm/MicroMsg/*/EnMicroMsg.db"
PREFS = "*/com.tencent.mm/shared_prefs/"
UIN_FILES = ((PREFS + "system_config_prefs.xml", "default_uin"), (PREFS + "auth_info_key_prefs.xml", "_auth_uin"))
DENGTA = (PREFS + "DENGTA_META.xml", "IMEI_DENGTA")
FALLBACK_IMEI = "1234567890ABCDEF"
CIPHER_SETTINGS = ("PRAGMA cipher_compatibility = 1",)  # PBKDF2-HMAC-SHA1 4000, 1024-byte pages, no HMAC
SOURCE = ("wechat-dump (ppwwyyxx) parser.py, decrypt-db.py; pa_script android_wechat.py; DianQK wechat-archive; "
          "xutao123 WxDBDecrypt; ForensicsTool README (see shared docs app-databases-corridor.md §1)")

OWNER_FIELDS = {2: "wxid", 4: "nickname", 5: "email", 6: "phone", 42: "alias"}
MESSAGE_TYPES = {1: "text", 3: "image", 34: "voice", 37: "friend verification", 40: "friend recommendation",
                 42: "contact card", 43: "video", 47: "sticker", 48: "location", 49: "app message", 50: "voip",
                 62: "short video", 64: "group voip", 10000: "system", 10002: "system xml"}
_SENDER_PREFIX = re.compile(r"([^\s:]{1,128}):\n", re.ASCII)


def derive_key(imei: str, uin: str) -> str:
    """The EnMicroMsg.db passphrase: the first 7 hex digits of md5(IMEI + uin)."""
    return hashlib.md5((imei + uin).encode("utf-8")).hexdigest()[:7]


def _prefs(ctx, pattern: str, name: str) -> list[tuple[str, str]]:
    """(value, file path) of preference ``name`` in every spooled file matching ``pattern``."""
    found = []
    for spooled in ctx.find(pattern):
        try:
            root = load_android_xml(spooled.local.read_bytes())
        except (AndroidXMLError, ABXDecodeError, OSError):
            continue
        for element in root:
            if element.get("name") == name:
                value = element.get("value") if element.get("value") is not None else element.text
                if value and value.strip() and value.strip() != "0":
                    found.append((value.strip(), spooled.path))
    return found


def candidate_keys(ctx) -> list[tuple[str, str]]:
    """Every (passphrase, how) the public tools would try, best first; Encrypted when no uin is found."""
    uins = []
    for pattern, name in UIN_FILES:
        for value, path in _prefs(ctx, pattern, name):
            if re.fullmatch(r"-?\d{1,20}", value) and value not in [u for u, _ in uins]:
                uins.append((value, f"uin from {PurePosixPath(path).name} {name}"))
    if not uins:
        raise Encrypted("key not found: no uin in shared_prefs (system_config_prefs.xml default_uin, "
                        "auth_info_key_prefs.xml _auth_uin)")
    folder = PurePosixPath(ctx.source.path).parent.name.lower()
    uins.sort(key=lambda u: hashlib.md5(("mm" + u[0]).encode()).hexdigest() != folder)  # stable: folder match first
    imeis = [(imei, "IMEI from device facts") for imei in ctx.device_facts("imei")]
    imeis += [(value, f"IMEI from {PurePosixPath(path).name} {DENGTA[1]}") for value, path in _prefs(ctx, *DENGTA)]
    imeis.append((FALLBACK_IMEI, "fallback IMEI"))
    candidates, seen = [], set()
    for imei, imei_how in imeis:
        for uin, uin_how in uins:
            key = derive_key(imei, uin)
            if key not in seen:
                seen.add(key)
                candidates.append((key, f"key derived from IMEI + uin; {imei_how}; {uin_how}"))
    return candidates


@parser(name="wechat-android", app=APP, platform="WeChat", paths=[DATABASE], source=SOURCE,
        requires={"message": {"msgId", "type", "isSend", "createTime", "talker", "content"},
                  "rcontact": {"username", "alias", "conRemark", "nickname"}},
        cipher=Cipher(CIPHER_SETTINGS, candidate_keys))
def wechat(db, ctx):
    """WeChat owner account, contacts, chat rooms and messages from EnMicroMsg.db (SQLCipher, key derived)."""
    present = tables(db)
    owner = _owner(db) if "userinfo" in present else {}
    if owner:
        yield Account(app=ctx.app, platform=ctx.platform, account_type="WeChat", username=owner.get("alias"),
                      user_id=owner.get("wxid"), display_name=owner.get("nickname"), phone=owner.get("phone"),
                      email=owner.get("email"), prov=ctx.prov("userinfo"))
    names = {}
    contact_cols = optional_columns(db, "rcontact", ["type", "verifyFlag"])
    for row in db.execute(f"SELECT rowid AS row_id, username, alias, conRemark, nickname, {contact_cols} "
                          f"FROM rcontact ORDER BY rowid"):
        username = as_text(row["username"])
        names[username] = as_text(row["conRemark"]) or as_text(row["nickname"])
        if username and username.endswith("@chatroom"):
            continue  # chat rooms are reported from the chatroom table, with their members
        extra = {k: row[k] for k in ("nickname", "conRemark", "type", "verifyFlag") if row[k] not in (None, "")}
        yield Contact(app=ctx.app, platform=ctx.platform, user_id=username, name=names[username],
                      handles=[h for h in (as_text(row["alias"]),) if h], extra=extra,
                      prov=ctx.prov("rcontact", row["row_id"]))
    if "chatroom" in present:
        yield from _chat_rooms(db, ctx, names)
    yield from _messages(db, ctx, names, owner.get("wxid"))


def _owner(db) -> dict:
    rows = db.execute(f"SELECT id, value FROM userinfo WHERE id IN ({','.join(map(str, OWNER_FIELDS))}) "
                      f"ORDER BY rowid")
    return {OWNER_FIELDS[r["id"]]: as_text(r["value"]) for r in rows if r["value"] not in (None, "")}


def _chat_rooms(db, ctx, names):
    cols = optional_columns(db, "chatroom", ["memberlist", "displayname", "roomowner"])
    for row in db.execute(f"SELECT rowid AS row_id, chatroomname, {cols} FROM chatroom ORDER BY rowid"):
        room = as_text(row["chatroomname"])
        members = [m for m in (as_text(row["memberlist"]) or "").split(";") if m]
        shown = (as_text(row["displayname"]) or "").split("、")
        extra = {"kind": "chat room", "members": members, "owner": as_text(row["roomowner"])}
        if len(shown) == len(members):
            extra["member_names"] = dict(zip(members, shown))
        yield Contact(app=ctx.app, platform=ctx.platform, user_id=room, name=names.get(room),
                      extra={k: v for k, v in extra.items() if v}, prov=ctx.prov("chatroom", row["row_id"]))


def _messages(db, ctx, names, owner):
    cols = optional_columns(db, "message", ["msgSvrId", "status", "imgPath"])
    for row in db.execute(f"SELECT msgId, type, isSend, createTime, talker, content, {cols} FROM message "
                          f"ORDER BY msgId"):
        talker, body = as_text(row["talker"]), as_text(row["content"])
        outgoing = row["isSend"] == 1
        sender = owner if outgoing else talker
        if talker and talker.endswith("@chatroom") and not outgoing and body:
            match = _SENDER_PREFIX.match(body)
            sender, body = (match.group(1), body[match.end():]) if match else (None, body)
        extra = {"type": row["type"], "isSend": row["isSend"], "msgSvrId": row["msgSvrId"], "status": row["status"],
                 "imgPath": as_text(row["imgPath"])}
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=talker, thread_name=names.get(talker),
            sender=sender, sender_name=names.get(sender) if sender else None,
            recipients=[talker] if outgoing and talker else [], direction=_direction(row),
            body=body, message_type=MESSAGE_TYPES.get(row["type"], f"type {row['type']}"),
            ts=timestamps.unix_ms(row["createTime"]), extra={k: v for k, v in extra.items() if v is not None},
            prov=ctx.prov("message", row["msgId"]))


def _direction(row) -> str | None:
    """isSend 1 is the owner's, 0 another's; system rows (10000, 10002) are neither."""
    if row["type"] in (10000, 10002):
        return None
    return {1: "outgoing", 0: "incoming"}.get(row["isSend"])


@parser(name="wechat-android-key", app=APP, platform="WeChat", source=SOURCE,
        paths=[pattern for pattern, _ in UIN_FILES] + [DENGTA[0]])
def wechat_key_files(db, ctx):
    """Key files for EnMicroMsg.db: declared so they are spooled for wechat-android; they yield no records."""
    return ()
