"""Discord: the Android app's message store and the API responses the Android and iOS apps cache.

Android ``com.discord/files/kv-storage/@account.<user id>/a`` is SQLite; each ``messages0.data`` value is a JSON
object (``id``, ``channelId``, ``message``) behind a few non-JSON prefix bytes, and ``message`` is a Discord API
message object. The folder name carries the signed-in account's id, which decides the direction.

Cached API responses hold the same message objects as a JSON array (``GET /channels/<id>/messages``) or a single
object (``POST /channels/<id>/messages``, the message just sent): on Android in OkHttp's ``cache/http-cache/<key>.1``
bodies (gzip when the server sent it so), on iOS in ``Library/Caches/com.hammerandchisel.discord/``. There the
CFNetwork cache ``Cache.db`` lists every response (``cfurl_cache_response``: ``entry_ID``, ``request_key`` = the URL,
``time_stamp``; ``cfurl_cache_receiver_data``: the body inline, or with ``isDataOnFS = 1`` the name of its file in
``fsCachedData/``; the query iLEAPP's discord_cache.py runs). Read through Cache.db, responses are known by their URL:
message pages overlap (``?around=`` / ``?limit=`` pages of one channel repeat the same message up to five times), so
one record is kept per message id — the newest cached copy, with ``extra["cached_copies"]`` saying how many were
seen and any differing older text in ``extra["other_contents"]`` — and the signed-in account is the ``user_id`` of
the cached ``/auth/login`` response (or the ``id`` of ``/users/@me``), which decides the direction. The login
response also holds the account's token: it is never read into a record. A record's row is the Cache.db entry.
Without a Cache.db beside them, fsCachedData files are read one by one (no URL, no account, no direction; a
record's row is the element's position in the array); with one, they are read only through it.

Message ``type`` 3 is a call: it becomes a Call whose ``call.participants`` are the users who joined and whose
``call.ended_timestamp`` closes it. Times are ISO-8601 strings with an offset.
"""
from __future__ import annotations

import json
import re
import zlib
from datetime import datetime
from urllib.parse import urlsplit

from artifacts import timestamps
from artifacts.records import Call, Message
from parsers.framework import Unsupported, parser

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = ("ALEAPP scripts/artifacts/discordChats.py; iLEAPP scripts/artifacts/discord_cache.py; "
          "Discord API message objects (published API docs); "
          "plaso test_data/23AAD8D4-D632-4F99-8E44-152AAB8FA9D6 (real iOS cache file)")

PLATFORM = "Discord"
IOS_APP = "com.hammerandchisel.discord"
SOURCE = ("iLEAPP discordChats.py, discord_cache.py (Cache.db query, fsCachedData bodies, kv-storage messages0); "
          "ALEAPP discordChats.py; Discord API docs (Message resource); plaso test_data 23AAD8D4-...")
_API_HOSTS = ("discord.com", "discordapp.com", "canary.discord.com", "ptb.discord.com")
_MESSAGES_URL = re.compile(r"^/api(?:/v\d+)?/channels/\d+/messages(?:/\d+)?/?$")
_ACCOUNT_URL = re.compile(r"^/api(?:/v\d+)?/(auth/login|users/@me)/?$")
CALL_TYPE = 3
MAX_CACHE_BYTES = 64 * 1024 * 1024
_ACCOUNT = re.compile(r"@account\.(\d+)")


@parser(name="discord-android-messages", app="com.discord", platform=PLATFORM, source=SOURCE,
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
        paths=["*/com.discord/cache/http-cache/*.1"], source=SOURCE)
@parser(name="discord-ios-api-cache", app=IOS_APP, platform=PLATFORM, source=SOURCE,
        paths=["*/com.hammerandchisel.discord/fsCachedData/*"])
def cached_messages(db, ctx):
    """Messages in one cached API response (a message object or an array of them); on iOS only where no Cache.db
    lists the file (otherwise discord-ios-cache reads it)."""
    if ctx.app == IOS_APP and _beside(ctx, "*/com.hammerandchisel.discord/Cache.db", levels=2):
        return
    with open(ctx.local, "rb") as handle:
        head = handle.read(256)
    if head[:2] != b"\x1f\x8b" and head.lstrip()[:1] not in (b"[", b"{"):
        return  # an image or another kind of response: nothing to read
    if ctx.local.stat().st_size > MAX_CACHE_BYTES:
        raise Unsupported(f"cache file larger than {MAX_CACHE_BYTES} bytes")
    seen = set()
    for index, item in enumerate(_messages_in(ctx.local.read_bytes())):
        if item["id"] not in seen:
            seen.add(item["id"])
            yield _record(item, ctx, ctx.prov(None, index), None, item.get("channel_id"))


@parser(name="discord-ios-cache", app=IOS_APP, platform=PLATFORM, paths=["*/com.hammerandchisel.discord/Cache.db"],
        requires={"cfurl_cache_response": {"entry_ID", "request_key", "time_stamp"},
                  "cfurl_cache_receiver_data": {"entry_ID", "isDataOnFS", "receiver_data"}}, source=SOURCE)
def ios_cache(db, ctx):
    """Messages of the cached channel-message responses Cache.db lists, one per message id, with direction from
    the cached login response."""
    files = {s.path.rsplit("/", 1)[1]: s for s in _beside(ctx, "*/com.hammerandchisel.discord/fsCachedData/*",
                                                           levels=1, below="fsCachedData")}
    owner, copies = None, {}
    for row in db.execute("SELECT r.entry_ID, r.request_key, d.isDataOnFS, d.receiver_data FROM cfurl_cache_response r "
                          "JOIN cfurl_cache_receiver_data d ON d.entry_ID = r.entry_ID ORDER BY r.entry_ID"):
        url = urlsplit(str(row["request_key"] or ""))
        is_messages = _MESSAGES_URL.search(url.path)
        account_path = _ACCOUNT_URL.search(url.path)
        if not (is_messages or account_path) or url.netloc.split(":")[0] not in _API_HOSTS:
            continue
        name, body = _body(row, files)
        if body is None:
            continue
        if account_path:
            owner = _account_id(body, account_path.group(1)) or owner
            continue
        for index, item in enumerate(_messages_in(body)):
            copies.setdefault(item["id"], []).append((row["entry_ID"], index, name, item))
    for message_id, seen in sorted(copies.items(), key=lambda kv: (kv[1][-1][3].get("timestamp") or "", kv[0])):
        entry, index, name, item = seen[-1]  # the newest cached copy
        record = _record(item, ctx, ctx.prov("cfurl_cache_receiver_data", entry), owner, item.get("channel_id"))
        others = sorted({str(c[3].get("content")) for c in seen[:-1]} - {str(item.get("content"))})
        record.extra.update({k: v for k, v in (("cached_copies", len(seen)), ("cache_file", name),
                                                 ("position", index), ("other_contents", others or None))
                             if v is not None})
        yield record


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


def _beside(ctx, pattern: str, levels: int, below: str | None = None) -> list:
    """Spooled files matching ``pattern`` in the folder ``levels`` up from this file (optionally in its sub-folder
    ``below``), same partition."""
    folder = ctx.source.path.rsplit("/", levels)[0].lower()
    if below:
        folder = f"{folder}/{below.lower()}"
    return [s for s in ctx.find(pattern)
            if s.partition == ctx.source.partition and s.path.rsplit("/", 1)[0].lower() == folder]


def _body(row, files) -> tuple[str | None, bytes | None]:
    """(fsCachedData file name or None, the response body) of one Cache.db entry; None when the file is absent."""
    data = row["receiver_data"]
    if row["isDataOnFS"] == 1:
        name = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data or "")
        spooled = files.get(name)
        if spooled is None or spooled.size > MAX_CACHE_BYTES:
            return name, None
        return name, spooled.local.read_bytes()
    return None, data.encode("utf-8") if isinstance(data, str) else data


def _messages_in(data: bytes) -> list[dict]:
    """The message objects of one response body: an array of them, or one (gzip bodies inflated first)."""
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data)
    try:
        parsed = json.loads(data)
    except (ValueError, RecursionError):
        return []
    items = parsed if isinstance(parsed, list) else [parsed]
    return [i for i in items if isinstance(i, dict) and {"id", "author", "timestamp"} <= i.keys()
            and isinstance(i["id"], (str, int))]


def _account_id(body: bytes, kind: str) -> str | None:
    """The signed-in account's id: ``user_id`` of the login response, ``id`` of ``/users/@me``. Nothing else of
    the body is kept (the login response carries the account's token)."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(parsed, dict):
        return None
    value = parsed.get("user_id" if kind == "auth/login" else "id")
    return str(value) if isinstance(value, (str, int)) and str(value).isdigit() else None


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
