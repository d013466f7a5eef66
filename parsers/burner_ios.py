"""Burner (second phone numbers) for iOS: no app database — the app's API responses in its URL cache,
``Library/Caches/com.adhoclabs.burner/Cache.db`` and the ``fsCachedData/`` files beside it (read through
``parsers.decoders.url_cache``).

Source: iLEAPP ``scripts/artifacts/burnerCache.py`` (abrignoni/iLEAPP, @djangofaiola), checked against the real
``Cache.db`` of its josh_ios15 test extraction (``admin/test/cases/data/burnerCache/``). Endpoints under
``https://phoenix.burnerapp.com[/v<n>]`` (``<u>`` the user's UUID) and the JSON fields read:

- the user: ``/register``, ``/register/phone`` (``{user: {...}}``), ``/user/<u>/token`` → ``id``, ``phoneNumber``,
  ``countryCode``, ``carrierName``, ``totalNumberBurners``, ``dateCreated``, ``lastUpdatedDate``;
- numbers: ``/user/<u>/burners[/<uuid>]`` → ``id``, ``phoneNumber`` (older: ``phoneNumberId``), ``userId``,
  ``dateCreated``, ``expirationDate``, ``settings.name`` (older: ``name``), ``entitlements`` minutes and texts;
- contacts: ``/user/<u>/contacts?...`` → ``id``, ``name``, ``phoneNumber``, ``text`` (notes), ``verified``,
  ``blocked``, ``muted``, ``burnerIds``, ``dateCreated``;
- messages: ``/user/<u>/messages``, ``/user/<u>/messages?...contactPhoneNumber=...`` and
  ``/user/<u>/burners/<uuid>/conversations/.../messages`` → ``id``, ``dateCreated``, ``direction`` (1 in, 2 out),
  ``messageType`` (1 a call: ``state`` 3 completed, 4 missed, 5 voicemail; 2 a text, a picture when ``assetUrl``
  is set), ``burnerId``, ``contactPhoneNumber``, ``message``, ``read``, ``assetUrl``, ``voiceUrl``; the newer
  conversation form (an object with ``conversation.conversationId``) says ``Inbound``/``Outbound``, ``Voice``/
  ``Text``, ``CallCompleted``/``CallMissed``/``Voicemail``, ``text``, ``mediaUrl``, ``voicemail.audioUrl``;
- media: ``https://s3.amazonaws.com/burner-*`` responses are the pictures and voicemails themselves.

Overlapping pages cache the same object several times (in the test extraction one text is in both
``/messages`` and a conversation page, and the user in ``/register/phone`` and ``/token``): one record is kept per
object id — the copy with the latest ``lastUpdatedDate`` — and ``extra.cached_copies`` says how many were seen.
Times are Unix milliseconds. Provenance: table ``cfurl_cache_receiver_data``, row ``entry_ID`` of the response.
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Account, Call, Contact, Message
from parsers.decoders import url_cache
from parsers.framework import parser

APP = "com.adhoclabs.burner"
PLATFORM = "Burner"
PATHS = ["*/Library/Caches/com.adhoclabs.burner/Cache.db"]
SOURCE = ("abrignoni/iLEAPP scripts/artifacts/burnerCache.py; "
          "abrignoni/iLEAPP admin/test/cases/data/burnerCache josh_ios15_ffs Cache.db")

_API = r"https://phoenix\.burnerapp\.com(?:/v\d+)?"
_UUID = r"[0-9a-fA-F-]{36}"
USER_URLS = _API + rf"(?:/register(?:/phone)?|/user/{_UUID}/token)"
NUMBER_URLS = _API + rf"/user/{_UUID}/burners(?:/{_UUID})?"
CONTACT_URLS = _API + rf"/user/{_UUID}/contacts\?.+"
MESSAGE_URLS = _API + (rf"/user/{_UUID}(?:/messages(?:\?.*contactPhoneNumber=.+)?"
                       rf"|/burners/{_UUID}/conversations/.+/messages(?:\?.*pageSize=.+)?)")
MEDIA_URLS = r"https://s3\.amazonaws\.com/burner-.*"

_CALL_STATES = {3: "completed", 4: "missed", 5: "voicemail",
                "CallCompleted": "completed", "CallMissed": "missed", "Voicemail": "voicemail"}
_DIRECTIONS = {1: "incoming", 2: "outgoing", "Inbound": "incoming", "Outbound": "outgoing"}


@parser(name="burner-ios-cache-files", app=APP, platform=PLATFORM, source=SOURCE,
        paths=["*/Library/Caches/com.adhoclabs.burner/fsCachedData/*"])
def cache_files(db, ctx):
    """Response bodies in fsCachedData: declared so they are spooled for the Cache.db parsers; no records."""
    return ()


@parser(name="burner-ios-messages", app=APP, platform=PLATFORM, paths=PATHS, requires=url_cache.REQUIRES,
        source=SOURCE)
def messages(db, ctx):
    """Texts, pictures, calls and voicemails in cached message pages, one record per message id."""
    files = url_cache.cached_files(ctx)
    numbers = {_text(n.get("id")): _number_of(n) for n, _, _ in _objects(db, NUMBER_URLS, files)}
    names = {n.get("phoneNumber"): n.get("name") for n, _, _ in _objects(db, CONTACT_URLS, files)
             if n.get("name") and n.get("phoneNumber")}
    media = {r.url: r.cached_file for r in url_cache.responses(db, MEDIA_URLS, files) if r.cached_file}
    for item, where, prov in _cached(db, ctx, MESSAGE_URLS, files):
        if item is None:
            yield Message(app=ctx.app, platform=ctx.platform, extra=where, prov=prov)
            continue
        yield _message(item, where, numbers, names, media, ctx, prov)


def _message(item, where, numbers, names, media, ctx, prov):
    conversation = item.get("conversation") if isinstance(item.get("conversation"), dict) else None
    direction = _DIRECTIONS.get(item.get("direction"))
    other = (conversation or {}).get("conversationId") if conversation else item.get("contactPhoneNumber")
    line = numbers.get(_text(item.get("burnerId")))
    kind, state = item.get("messageType"), item.get("state")
    if conversation:
        picture = item.get("mediaUrl")
        voice = (item.get("voicemail") if isinstance(item.get("voicemail"), dict) else {}).get("audioUrl")
        body, is_call = item.get("text"), kind == "Voice"
    else:
        picture, voice, body, is_call = item.get("assetUrl"), item.get("voiceUrl"), item.get("message"), kind == 1
    extra = {**where, "message_id": _text(item.get("id")), "burner_id": item.get("burnerId"),
             "burner_number": line, "state": state, "read": item.get("read"), "message_type_raw": kind,
             "message_duration": item.get("messageDuration")}
    extra = {k: v for k, v in extra.items() if v is not None}
    attachments = [{"url": u, "cached_file": f"fsCachedData/{media[u]}" if u in media else None}
                   for u in (picture, voice) if u]
    attachments = [{k: v for k, v in a.items() if v} for a in attachments]
    ts = timestamps.unix_ms(item.get("dateCreated"))
    if is_call:
        status = _CALL_STATES.get(state)
        return Call(app=ctx.app, platform=ctx.platform, peers=[other] if other else [], peer_name=names.get(other),
                    direction=direction, call_type="audio", status=status or (f"state {state}" if state else None),
                    answered=None if status is None else status == "completed", ts=ts,
                    extra={**extra, "attachments": attachments} if attachments else extra, prov=prov)
    incoming, outgoing = direction == "incoming", direction == "outgoing"
    return Message(
        app=ctx.app, platform=ctx.platform, thread_id=other, thread_name=names.get(other),
        sender=other if incoming else line if outgoing else None, sender_name=names.get(other) if incoming else None,
        recipients=[v for v in ([line] if incoming else [other] if outgoing else []) if v], direction=direction,
        body=body or None, message_type="mms" if picture else "sms", attachments=attachments, ts=ts, extra=extra,
        prov=prov)


@parser(name="burner-ios-numbers", app=APP, platform=PLATFORM, paths=PATHS, requires=url_cache.REQUIRES,
        source=SOURCE)
def burner_numbers(db, ctx):
    """The burner numbers the user holds (cached /burners responses), one per burner id."""
    for item, where, prov in _cached(db, ctx, NUMBER_URLS):
        if item is None:
            yield Account(app=ctx.app, platform=ctx.platform, account_type="burner number", extra=where, prov=prov)
            continue
        settings = item.get("settings") if isinstance(item.get("settings"), dict) else {}
        plan = item.get("entitlements") if isinstance(item.get("entitlements"), dict) else item
        extra = {**where, "burner_id": _text(item.get("id")),
                 "number_type": item.get("numberType"), "version": item.get("version"),
                 **{k: plan.get(k) for k in ("totalMinutes", "remainingMinutes", "totalTexts", "remainingTexts")}}
        expires = timestamps.unix_ms(item.get("expirationDate"))
        if expires:
            extra["expiration_date"] = expires.iso
        user = item.get("userId") or where["url"].rstrip("/").split("/user/", 1)[-1].split("/", 1)[0]
        yield Account(app=ctx.app, platform=ctx.platform, account_type="burner number", user_id=user,
                      phone=_number_of(item), display_name=settings.get("name") or item.get("name"),
                      ts=timestamps.unix_ms(item.get("dateCreated")),
                      extra={k: v for k, v in extra.items() if v is not None}, prov=prov)


@parser(name="burner-ios-contacts", app=APP, platform=PLATFORM, paths=PATHS, requires=url_cache.REQUIRES,
        source=SOURCE)
def contacts(db, ctx):
    """The user's Burner address book (cached /contacts pages), one per contact id."""
    for item, where, prov in _cached(db, ctx, CONTACT_URLS):
        if item is None:
            yield Contact(app=ctx.app, platform=ctx.platform, extra=where, prov=prov)
            continue
        notes = item.get("text")
        extra = {**where, "blocked": item.get("blocked"), "muted": item.get("muted"),
                 "verified": item.get("verified"), "burner_ids": item.get("burnerIds") or None}
        yield Contact(app=ctx.app, platform=ctx.platform, name=item.get("name") or None,
                      phones=[item["phoneNumber"]] if item.get("phoneNumber") else [], user_id=_text(item.get("id")),
                      note=notes if isinstance(notes, str) and notes else None,
                      ts=timestamps.unix_ms(item.get("dateCreated")),
                      extra={k: v for k, v in extra.items() if v is not None}, prov=prov)


@parser(name="burner-ios-account", app=APP, platform=PLATFORM, paths=PATHS, requires=url_cache.REQUIRES,
        source=SOURCE)
def account(db, ctx):
    """The Burner user (cached /register and /token responses): the user's own phone number and carrier."""
    for item, where, prov in _cached(db, ctx, USER_URLS, unwrap="user"):
        if item is None:
            yield Account(app=ctx.app, platform=ctx.platform, account_type="burner user", extra=where, prov=prov)
            continue
        extra = {**where, "country_code": item.get("countryCode"),
                 "carrier_name": item.get("carrierName"), "total_number_burners": item.get("totalNumberBurners")}
        updated = timestamps.unix_ms(item.get("lastUpdatedDate"))
        if updated:
            extra["last_updated"] = updated.iso
        yield Account(app=ctx.app, platform=ctx.platform, account_type="burner user", user_id=_text(item.get("id")),
                      phone=item.get("phoneNumber"), ts=timestamps.unix_ms(item.get("dateCreated")),
                      extra={k: v for k, v in extra.items() if v is not None}, prov=prov)


def _cached(db, ctx, url_pattern, files=None, unwrap: str | None = None):
    """(object, extra, prov) for each cached object of the matching responses, one per object id (``extra`` says
    where it was cached and how often); for a response that cannot be read, (None, extra saying why, prov).
    ``unwrap`` names a key whose object stands for the whole response (``{"token": ..., "user": {...}}``)."""
    found = _objects(db, url_pattern, url_cache.cached_files(ctx) if files is None else files, errors=True)
    if unwrap:
        found = ((i[unwrap] if isinstance(i, dict) and isinstance(i.get(unwrap), dict) else i, r, n)
                 for i, r, n in found)
    for item, response, copies in _unique(found):
        yield item, _where(response, copies), ctx.prov(url_cache.TABLE, response.entry_id)


def _objects(db, url_pattern, files, errors=False):
    """(object, response, None) for every JSON object in the matching responses (a list's items or a single
    object); with ``errors``, (None, response, problem) for a response whose body cannot be read as JSON."""
    for response in url_cache.responses(db, url_pattern, files):
        try:
            value = response.json()
        except ValueError as exc:
            if errors:
                yield None, response, f"response body unreadable: {response.problem or exc}"
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and item:
                yield item, response, None


def _unique(found):
    """One (object, response, copies) per object id, the copy with the latest lastUpdatedDate (then the latest
    cache entry); objects without an id and unreadable responses pass through once each, in entry order."""
    kept: dict[str, list] = {}
    order = []
    for item, response, problem in found:
        key = _text(item.get("id")) if item is not None else None
        if key is None:
            order.append([item, response, problem if item is None else 1])
            continue
        if key not in kept:
            kept[key] = [item, response, 0]
            order.append(kept[key])
        entry = kept[key]
        entry[2] += 1
        if (_ms(item.get("lastUpdatedDate")), response.entry_id) >= (_ms(entry[0].get("lastUpdatedDate")),
                                                                     entry[1].entry_id):
            entry[0], entry[1] = item, response
    for item, response, copies in sorted(order, key=lambda e: (e[1].entry_id, _ms((e[0] or {}).get("dateCreated")),
                                                              _text((e[0] or {}).get("id")) or "")):
        yield item, response, copies


def _where(response, copies) -> dict:
    where = {"url": response.url}
    if response.cached_file:
        where["cached_file"] = f"fsCachedData/{response.cached_file}"
    if isinstance(copies, str):
        where["error"] = copies
    elif copies and copies > 1:
        where["cached_copies"] = copies
    return where


def _number_of(item) -> str | None:
    return item.get("phoneNumber") or item.get("phoneNumberId")


def _ms(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _text(value) -> str | None:
    return None if value is None else str(value)
