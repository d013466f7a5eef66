"""Google Voice for Android (``com.google.android.apps.googlevoice``): texts, calls and voicemails as protobuf blobs
in ``files/accounts/<n>/LegacyMsgDbInstance.db``, and the account's numbers in
``files/accounts/<n>/SqliteKeyValueCache:VoiceAccountCache.db``.

Source: ALEAPP ``scripts/artifacts/googleVoice.py`` (abrignoni/ALEAPP; tested by its authors on app version
2025.07.20). ``message_t(message_blob, conversation_id)``: a ``conversation_id`` starting ``t`` is a one-to-one
thread, ``g`` a group. Fields of ``message_blob`` (read with the schema-less ``protobuf_wire`` reader):
1 message id; 2 time (Unix ms); 3 the user's Voice number; 4.1 the other party; 6 read (0/1); 9 duration (a
32-bit float's bits, seconds); 10 the text; 7.2[].1 the words of a voicemail transcript; 13 the kind — 0 a missed
or declined call, 1 an answered incoming call, 2 an outgoing call, 3 a voicemail (``welcome_voicemail`` in the id
is Google's own greeting), 5 a received text, 6 a sent text; 22 present: the call was missed; 23 present: the call
was recorded. Group texts carry 15.1 the text, 15.4[].1 the members and 15.5 the sender (absent when the user
sent it). ``cache_table.response_data`` (VoiceAccountCache): 3.1.1.1 the Voice number, 3.2.1.1 the linked phone.
``files/AccountData.pb``: one field 2 per signed-in account, with 2.1 the account number, 2.2.2.2 the full name
and 2.2.2.3 the e-mail address.
No key column is shown for either table: provenance uses the rowid.
"""
from __future__ import annotations

import struct

from artifacts import timestamps
from artifacts.records import Account, Call, Message
from parsers.decoders import protobuf_wire as pw
from parsers.framework import Unsupported, parser

APP = "com.google.android.apps.googlevoice"
PLATFORM = "Google Voice"
SOURCE = "abrignoni/ALEAPP scripts/artifacts/googleVoice.py"
_CALL_KINDS = {0: ("incoming", "missed", False), 1: ("incoming", "answered", True), 2: ("outgoing", None, None),
               3: ("incoming", "voicemail", False)}
_TEXT_KINDS = {5: "incoming", 6: "outgoing"}


@parser(name="google-voice-android-messages", app=APP, platform=PLATFORM, source=SOURCE,
        paths=[f"*/{APP}/files/accounts/*/LegacyMsgDbInstance.db"],
        requires={"message_t": {"message_blob", "conversation_id"}})
def messages(db, ctx):
    """Texts (one-to-one and group), calls and voicemails (message_t protobuf blobs)."""
    for row in db.execute("SELECT rowid AS row_id, message_blob, conversation_id FROM message_t ORDER BY rowid"):
        prov = ctx.prov("message_t", row["row_id"])
        blob, conversation = row["message_blob"], row["conversation_id"]
        try:
            record = _record(blob, _top(blob), conversation, ctx, prov)
        except (pw.ProtobufError, TypeError) as exc:
            record = Message(app=ctx.app, platform=ctx.platform, thread_id=conversation,
                             extra={"error": f"message_blob is not a readable protobuf message: {exc}"}, prov=prov)
        yield record


def _record(blob, values, conversation, ctx, prov):
    message_id, own, kind = _str(values.get(1)), _str(values.get(3)), values.get(13)
    other = pw.text(blob, 4, 1)
    extra = {"message_id": message_id, "voice_number": own, "kind": kind,
             "read": None if values.get(6) is None else values[6] == 1}
    ts = timestamps.unix_ms(values.get(2)) if isinstance(values.get(2), int) else None
    group = values.get(15) if conversation and str(conversation).startswith("g") else None
    if group is None and (kind in _CALL_KINDS or 22 in values):
        direction, status, answered = _CALL_KINDS.get(kind, ("incoming", None, None))
        if 22 in values:
            status, answered = "missed", False
        if kind == 3:
            transcript = _transcript(blob)
            extra.update(transcript=transcript, welcome=message_id is not None and "welcome_voicemail" in message_id)
        extra["recorded"] = True if 23 in values else None
        return Call(app=ctx.app, platform=ctx.platform, peers=[other] if other else [], direction=direction,
                    call_type="audio", duration_s=_duration(values.get(9)), status=status, answered=answered, ts=ts,
                    extra=_clean({**extra, "conversation_id": conversation}), prov=prov)
    if isinstance(group, bytes):
        sender = pw.text(group, 5)
        members = [m for m in (_str(pw.path(f.value, 1)) for f in pw.fields(group)
                               if f.number == 4 and f.wire_type == pw.LENGTH_DELIMITED) if m]
        direction = "incoming" if sender else "outgoing"
        recipients = [own, *[m for m in members if m != sender]] if sender else members
        return Message(app=ctx.app, platform=ctx.platform, thread_id=conversation, direction=direction,
                       sender=sender or own, recipients=[r for r in recipients if r], body=pw.text(group, 1),
                       message_type="group", ts=ts, extra=_clean(extra), prov=prov)
    direction = _TEXT_KINDS.get(kind)
    body = values.get(10)
    text = _str(body) if isinstance(body, bytes) else None
    if direction is None:
        extra["unknown_kind"] = True
    return Message(app=ctx.app, platform=ctx.platform, thread_id=conversation, direction=direction,
                   sender=other if direction == "incoming" else own if direction == "outgoing" else None,
                   recipients=[v for v in ([own] if direction == "incoming" else [other]
                                           if direction == "outgoing" else []) if v],
                   body=text, message_type="sms", ts=ts, extra=_clean(extra), prov=prov)


@parser(name="google-voice-android-account", app=APP, platform=PLATFORM, source=SOURCE,
        paths=[f"*/{APP}/files/accounts/*/SqliteKeyValueCache:VoiceAccountCache.db"],
        requires={"cache_table": {"response_data"}})
def account(db, ctx):
    """The account's Voice number and the phone it is linked to (cached account responses)."""
    account_id = ctx.source.path.rsplit("/", 2)[-2]
    for row in db.execute("SELECT rowid AS row_id, response_data FROM cache_table ORDER BY rowid"):
        data = row["response_data"]
        if not isinstance(data, bytes):
            continue
        voice, linked = pw.text(data, 3, 1, 1, 1), pw.text(data, 3, 2, 1, 1)
        if voice or linked:
            yield Account(app=ctx.app, platform=ctx.platform, account_type="google voice number",
                          user_id=account_id, phone=voice, extra=_clean({"linked_number": linked}),
                          prov=ctx.prov("cache_table", row["row_id"]))


@parser(name="google-voice-android-account-data", app=APP, platform=PLATFORM, source=SOURCE,
        paths=[f"*/{APP}/files/AccountData.pb"])
def account_data(db, ctx):
    """The Google accounts signed in to Voice (AccountData.pb): account number, full name and e-mail address."""
    size = ctx.local.stat().st_size
    if size > pw.MAX_BLOB:
        raise Unsupported(f"AccountData.pb of {size} bytes exceeds {pw.MAX_BLOB}")
    data = ctx.local.read_bytes()
    entries = (f.value for f in pw.fields(data) if f.number == 2 and f.wire_type == pw.LENGTH_DELIMITED)
    for index, entry in enumerate(entries):
        number = pw.path(entry, 1)
        yield Account(app=ctx.app, platform=ctx.platform, account_type="google",
                      user_id=str(number) if isinstance(number, int) else _str(number),
                      display_name=pw.text(entry, 2, 2, 2), email=pw.text(entry, 2, 2, 3),
                      prov=ctx.prov(None, index))


def _top(blob) -> dict[int, int | bytes]:
    """The first value of each top-level field."""
    if not isinstance(blob, bytes):
        raise TypeError(f"message_blob is {type(blob).__name__}, not a blob")
    values: dict[int, int | bytes] = {}
    for f in pw.fields(blob):
        values.setdefault(f.number, f.value)
    return values


def _transcript(blob) -> str | None:
    """The words in 7.2[].1, joined by spaces (the app keeps punctuation as words of their own)."""
    part = pw.path(blob, 7)
    if not isinstance(part, bytes):
        return None
    words = [_str(pw.path(f.value, 1)) for f in pw.fields(part) if f.number == 2 and f.wire_type == pw.LENGTH_DELIMITED]
    return " ".join(w for w in words if w) or None


def _duration(value) -> float | None:
    """Field 9 holds the bits of a 32-bit float (ALEAPP reinterprets them the same way)."""
    if not isinstance(value, int) or not 0 <= value < 2 ** 32:
        return None
    seconds = struct.unpack("<f", struct.pack("<I", value))[0]
    return round(seconds, 3) if seconds == seconds and 0 <= seconds < 10 ** 7 else None


def _str(value) -> str | None:
    if not isinstance(value, bytes):
        return None
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.hex()


def _clean(extra: dict) -> dict:
    return {k: v for k, v in extra.items() if v is not None}
