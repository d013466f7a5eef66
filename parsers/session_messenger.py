"""Session (Oxen/Loki) for Android and iOS. Its message stores are SQLCipher; the keys are not in a file-system
extraction, so an encrypted store is reported as such (outcome ``encrypted``) with where the key lives.

Android (``network.loki.messenger``), from ALEAPP ``scripts/artifacts/sessionMessenger.py``: ``databases/
signal_v4.db`` and ``databases/session.db`` are SQLCipher; their passphrase (``pref_database_encrypted_secret``) is
AES-GCM-wrapped by the Android Keystore alias ``SignalSecret``, which the tested images did not let out. The
account is readable: ``shared_prefs/network.loki.messenger_preferences.xml`` keys ``pref_local_number`` (the Session
Account ID), ``pref_profile_name`` and ``pref_last_profile_update_time`` (Unix ms).

iOS (``com.loki-project.loki-messenger``), from iLEAPP ``scripts/artifacts/sessionIOS.py``:
``AppGroup/<UUID>/database/Session.sqlite`` is SQLCipher 4 with a 32-byte plaintext header; the key is a keychain
item (account ``GRDBDatabaseCipherKeySpec``) that a file-system extraction does not include. A copy decrypted
elsewhere is read as iLEAPP reads it: ``interaction(id, threadId, variant [0 incoming, 1 outgoing, 5000 call, other
values info messages], authorId, body, timestampMs, receivedAtTimestampMs, wasRead)`` with ``profile(id, name,
nickname)`` for names.
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Account, Message
from parsers.decoders.abx import load_android_xml
from parsers.framework import Unsupported, open_readonly, optional_columns, parser, refuse_encrypted, tables

ANDROID_APP, IOS_APP, PLATFORM = "network.loki.messenger", "com.loki-project.loki-messenger", "Session"
ANDROID_SOURCE = "ALEAPP scripts/artifacts/sessionMessenger.py"
IOS_SOURCE = "iLEAPP scripts/artifacts/sessionIOS.py"
MAX_PREFS = 4 * 1024 * 1024
INCOMING, OUTGOING, CALL = 0, 1, 5000
_VARIANT_KINDS = {2: "deleted", 3: "deleted", 4: "deleted locally", 5: "deleted", 6: "deleted locally",
                  1000: "group created", 1001: "group updated", 1002: "left group", 1005: "group invitation",
                  1006: "group info updated", 1007: "group members updated", 2000: "disappearing messages updated",
                  3000: "screenshot taken", 3001: "media saved", 4000: "message request accepted", CALL: "call"}


@parser(name="session-android-account", app=ANDROID_APP, platform=PLATFORM, source=ANDROID_SOURCE,
        paths=["*/network.loki.messenger/shared_prefs/network.loki.messenger_preferences.xml"])
def android_account(_db, ctx):
    """The Session Account ID and profile name from the app's preferences."""
    if ctx.local.stat().st_size > MAX_PREFS:
        raise ValueError(f"preferences file larger than {MAX_PREFS} bytes")
    prefs = {e.get("name"): (e.text if e.text is not None else e.get("value"))
             for e in load_android_xml(ctx.local.read_bytes())}
    if not prefs.get("pref_local_number"):
        return
    updated = timestamps.unix_ms(prefs.get("pref_last_profile_update_time"))
    yield Account(app=ctx.app, platform=ctx.platform, account_type="Session", user_id=prefs["pref_local_number"],
                  display_name=prefs.get("pref_profile_name"), ts=updated,
                  extra={"ts_is": "profile updated"} if updated else {}, prov=ctx.prov("pref_local_number"))


@parser(name="session-android-database", app=ANDROID_APP, platform=PLATFORM, source=ANDROID_SOURCE,
        paths=["*/network.loki.messenger/databases/signal_v4.db", "*/network.loki.messenger/databases/session.db"])
def android_database(_db, ctx):
    """Session's Android stores: reported as encrypted (the normal case), never guessed at."""
    refuse_encrypted(ctx, "passphrase pref_database_encrypted_secret is wrapped by the Android Keystore key "
                           "SignalSecret, which is not in the extraction")
    raise Unsupported("a plaintext Session database: its layout is not published by a public tool")
    yield  # a generator like every parser


@parser(name="session-ios-messages", app=IOS_APP, platform=PLATFORM, source=IOS_SOURCE,
        paths=["*/AppGroup/*/database/Session.sqlite"])
def ios_messages(_db, ctx):
    """Messages of a decrypted Session.sqlite; an encrypted one (the normal case) is reported as such."""
    refuse_encrypted(ctx, "the key is the keychain item GRDBDatabaseCipherKeySpec, not part of a file-system "
                           "extraction")
    db = open_readonly(ctx.local)
    try:
        if "interaction" not in tables(db):
            raise Unsupported("plaintext Session.sqlite without an interaction table")
        names = {}
        if "profile" in tables(db):
            names = {r[0]: r[1] or r[2] for r in db.execute(
                f"SELECT id, {optional_columns(db, 'profile', ('nickname', 'name'))} FROM profile")}
        optional = optional_columns(db, "interaction", ("threadId", "variant", "authorId", "body", "timestampMs",
                                                        "receivedAtTimestampMs", "wasRead"))
        for row in db.execute(f"SELECT rowid AS row_id, {optional} FROM interaction ORDER BY rowid"):
            variant, body = row["variant"], row["body"]
            direction = {INCOMING: "incoming", OUTGOING: "outgoing"}.get(variant)
            if variant == CALL and body:
                direction = "outgoing" if '"outgoing"' in body else "incoming" if '"incoming"' in body else None
            received = timestamps.unix_ms(row["receivedAtTimestampMs"])
            yield Message(app=ctx.app, platform=ctx.platform, thread_id=row["threadId"],
                          thread_name=names.get(row["threadId"]),
                          sender=row["authorId"] if direction == "incoming" else None,
                          sender_name=names.get(row["authorId"]) if direction == "incoming" else None,
                          recipients=[row["threadId"]] if direction == "outgoing" and row["threadId"] else [],
                          direction=direction, body=body,
                          message_type="message" if variant in (INCOMING, OUTGOING) else _VARIANT_KINDS.get(
                              variant, f"variant {variant}"),
                          deleted=variant in (2, 3, 4, 5, 6), ts=timestamps.unix_ms(row["timestampMs"]),
                          received_ts=received if direction == "incoming" else None,
                          extra={"read": row["wasRead"]} if row["wasRead"] is not None else {},
                          prov=ctx.prov("interaction", row["row_id"]))
    finally:
        db.close()

