"""Discord: the Android app's message store and the API responses the Android and iOS apps cache.

Android ``com.discord/files/kv-storage/@account.<user id>/a`` is SQLite; each ``messages0.data`` value is a JSON
object (``id``, ``channelId``, ``message``) behind a few non-JSON prefix bytes, and ``message`` is a Discord API
message object. The folder name carries the signed-in account's id, which decides the direction.

Cached API responses hold the same message objects as a JSON array (``GET /channels/<id>/messages``): on Android in
OkHttp's ``cache/http-cache/<key>.1`` bodies (gzip when the server sent it so), on iOS in
``Library/Caches/com.hammerandchisel.discord/fsCachedData/<UUID>``. Those folders also hold images and other
responses; a file that is not an array of messages gives no records. The account is not named there, so cached
messages carry no direction. A record's row is the element's position in the array.

Message ``type`` 3 is a call: it becomes a Call whose ``call.participants`` are the users who joined and whose
``call.ended_timestamp`` closes it. Times are ISO-8601 strings with an offset.
"""
from __future__ import annotations

import json
import re
import zlib
from datetime import datetime

from artifacts import timestamps
from artifacts.records import Call, Message
from parsers.framework import Unsupported, parser

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = ("ALEAPP scripts/artifacts/discordChats.py; iLEAPP scripts/artifacts/discord_cache.py; "
          "Discord API message objects (published API docs); "
          "plaso test_data/23AAD8D4-D632-4F99-8E44-152AAB8FA9D6 (real iOS cache file)")

PLATFORM = "Discord"
CALL_TYPE = 3
MAX_CACHE_BYTES = 64 * 1024 * 1024
_ACCOUNT = re.compile(r"@account\.(\d+)")


@parser(name="discord-android-messages", app="com.discord", platform=PLATFORM,
        paths=["*/com.discord/files/kv-storage/*/a"], requires={"messages0": {"data"}})
def kv_messages(db, ctx):
    """Messages and calls kept in the kv-storage database (messages0)."""
    found = _ACCOUNT.search(ctx.source.path)
    owner = found.group(1) if found else None
    for row in db.execute("SELECT _rowid_ AS row_id, data FROM messages0 ORDER BY _rowid_"):
        prov = ctx.prov("messages0", row["row_id"])
        entry = _json_after_prefix(row["data"])
        message = entry.get("message") if isinstance(entry, dict) else None
        if not isinstance(message, dict):
            yield Message(app=ctx.app, platform=ctx.platform, extra={"error": "data is not a stored message"},
                          prov=prov)
            continue
        channel = entry.get("channelId") or message.get("channel_id")
        yield _record(message, ctx, prov, owner, channel)


@parser(name="discord-android-api-cache", app="com.discord", platform=PLATFORM,
        paths=["*/com.discord/cache/http-cache/*.1"])
@parser(name="discord-ios-api-cache", app="com.hammerandchisel.discord", platform=PLATFORM,
        paths=["*/com.hammerandchisel.discord/fsCachedData/*"])
def cached_messages(db, ctx):
    """Messages in cached API responses (a JSON array of message objects)."""
    with open(ctx.local, "rb") as handle:
        head = handle.read(256)
    gzipped = head[:2] == b"\x1f\x8b"
    if not gzipped and head.lstrip()[:1] != b"[":
        return  # an image or another kind of response: nothing to read
    if ctx.local.stat().st_size > MAX_CACHE_BYTES:
        raise Unsupported(f"cache file larger than {MAX_CACHE_BYTES} bytes")
    data = ctx.local.read_bytes()
    if gzipped:
        data = _gunzip(data)
    if data.lstrip()[:1] != b"[":
        return
    try:
        items = json.loads(data)
    except (ValueError, RecursionError):
        return
    for index, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict) and {"id", "author", "timestamp"} <= item.keys():
            yield _record(item, ctx, ctx.prov(None, index), None, item.get("channel_id"))


def _record(message: dict, ctx, prov, owner: str | None, channel) -> Message | Call:
    author = message.get("author") if isinstance(message.get("author"), dict) else {}
    author_id = _text(author.get("id"))
    direction = None if not (owner and author_id) else "outgoing" if author_id == owner else "incoming"
    ts = timestamps.iso8601(message.get("timestamp"))
    extra = {"message_id": _text(message.get("id")), "type": message.get("type"),
             "edited": _text(message.get("edited_timestamp")), "username": _text(author.get("username")),
             "pinned": message.get("pinned") or None,
             "mentions": [_text(m.get("id")) for m in message.get("mentions") or [] if isinstance(m, dict)] or None}
    extra = {k: v for k, v in extra.items() if v is not None}
    if message.get("type") == CALL_TYPE:
        call = message.get("call") if isinstance(message.get("call"), dict) else {}
        joined = [_text(p) for p in call.get("participants") or []]
        peers = [p for p in dict.fromkeys([author_id, *joined]) if p and p != owner]
        ended = timestamps.iso8601(call.get("ended_timestamp"))
        return Call(app=ctx.app, platform=ctx.platform, ts=ts, peers=peers, direction=direction,
                    duration_s=_seconds(ts, ended), answered=any(p != author_id for p in joined) if call else None,
                    extra={**extra, "channel_id": _text(channel), "ended": ended.iso if ended else None}, prov=prov)
    return Message(
        app=ctx.app, platform=ctx.platform, thread_id=_text(channel), sender=author_id,
        sender_name=_text(author.get("global_name") or author.get("username")), direction=direction,
        body=message.get("content") or None, ts=ts, attachments=_attachments(message), extra=extra, prov=prov)


def _attachments(message: dict) -> list[dict]:
    result = []
    for item in message.get("attachments") or []:
        if isinstance(item, dict):
            described = {"name": item.get("filename"), "mime_type": item.get("content_type"),
                         "size": item.get("size"), "url": item.get("url"), "proxy_url": item.get("proxy_url")}
            result.append({k: v for k, v in described.items() if v is not None})
    return result


def _json_after_prefix(raw):
    """The JSON object in a kv-storage value, skipping the non-JSON bytes the store puts before it."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, (bytes, bytearray)) else str(raw or "")
    start = text.find("{")
    if start < 0:
        return None
    try:
        return json.JSONDecoder().raw_decode(text, start)[0]
    except (ValueError, RecursionError):
        return None


def _gunzip(data: bytes) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, MAX_CACHE_BYTES)
    except zlib.error:
        return b""
    if inflater.unconsumed_tail:
        raise Unsupported(f"cache body inflates beyond {MAX_CACHE_BYTES} bytes")
    return out


def _seconds(start, end) -> float | None:
    if not (start and end):
        return None
    return (datetime.fromisoformat(end.iso.replace("Z", "+00:00")) -
            datetime.fromisoformat(start.iso.replace("Z", "+00:00"))).total_seconds()


def _text(value) -> str | None:
    return None if value is None or value == "" else str(value)
