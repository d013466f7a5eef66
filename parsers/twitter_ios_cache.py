"""X / Twitter for iOS, current app: direct messages from the NSKeyedArchiver inbox cache and posts and users from
the model cache (the legacy ``twitter.db`` is read by ``twitter.py``).

Layout (iLEAPP ``scripts/artifacts/twitterX.py``; its test extraction josh_ios17_ffs):

- ``Library/Caches/com.atebits.tweetie.direct-message.cache/<account>`` is one NSKeyedArchiver archive per signed-in
  account. ``inbox.context.userID`` is the account's user id. ``inbox.{trusted,untrusted,low_quality}_conversations_
  timeline.conversations[]`` each have ``identifier.canonicalID``, ``conversationName``, ``participants`` (a set of
  ``participatingUser``) and ``entries[]``; an entry has ``identifier.canonicalID``, ``time`` (NSDate, Cocoa
  seconds), ``sender.userID``, ``displayText``/``originalText``, ``attachment.entityMedia.mediaURL``,
  ``inReplyToMessageEntry``, ``marked_as_spam``. ``cachedUserByUserID`` maps user ids to users (``fullName``,
  ``username``, ``bio``, ``verified``, ``protected``). A message's row is its place in the archive
  (``trusted_conversations_timeline[0].entries[3]``).
- ``AppGroup/*/TFSModelCache.*/*/database/modelCache.sqlite3``: ``ItemKeys(itemKey, itemId)`` → ``Items(id,
  archivedObjectData)``; the data is gzip-compressed JSON whose ``cacheableModel`` is the object, its type the middle
  field of ``itemKey`` (``<id>|<type>|...``). ``TwitterStatus`` (posts: ``date`` Cocoa seconds, ``originalText``,
  ``fromUserID``, ``conversationID``) becomes a Message of type ``post`` with no direction (the file does not name the
  account); ``TwitterMasterUser`` (``username``, ``bio``/``followersCount`` as ``{projectedValue, defaultValue}``)
  a Contact. ``URTNotification`` rows are not read. A key whose Items row is gone (evicted) gives nothing.
"""
from __future__ import annotations

import json
import zlib

from artifacts import timestamps
from artifacts.records import Account, Contact, Message
from parsers.decoders.nskeyedarchive import unarchive
from parsers.framework import Unsupported, parser

APP = "com.atebits.Tweetie2"
PLATFORM = "Twitter"
SOURCE = "iLEAPP scripts/artifacts/twitterX.py (DM cache archive keys; modelCache ItemKeys/Items query)"
TIMELINES = (("trusted_conversations_timeline", "trusted"), ("untrusted_conversations_timeline", "untrusted"),
             ("low_quality_conversations_timeline", "low quality"))
MAX_ARCHIVE = 64 * 1024 * 1024
MAX_MODEL = 16 * 1024 * 1024


@parser(name="twitter-ios-dm-cache", app=APP, platform=PLATFORM, source=SOURCE,
        paths=["*/Library/Caches/com.atebits.tweetie.direct-message.cache/*"])
def dm_cache(db, ctx):
    """Direct messages, the account and the users cached with them, from the DM inbox archive."""
    if ctx.local.stat().st_size > MAX_ARCHIVE:
        raise Unsupported(f"archive larger than {MAX_ARCHIVE} bytes")
    with open(ctx.local, "rb") as handle:
        if handle.read(8) != b"bplist00":
            return  # not an archive (a leftover or hidden file in the cache folder)
    cache = unarchive(ctx.local.read_bytes())
    inbox = _dict(cache.get("inbox"))
    owner = _id(_dict(inbox.get("context")).get("userID"))
    users = {_id(k): _dict(v) for k, v in _dict(cache.get("cachedUserByUserID")).items()}
    if owner:
        me = users.get(owner, {})
        yield Account(app=ctx.app, platform=ctx.platform, account_type="Twitter", user_id=owner,
                      username=me.get("username"), display_name=me.get("fullName"),
                      extra={"account_id": _dict(inbox.get("context")).get("accountID")}, prov=ctx.prov("inbox.context"))
    for user_id, user in sorted(users.items(), key=lambda kv: kv[0] or ""):
        extra = {k: user.get(k) for k in ("bio", "verified", "isBlueVerified", "protected", "blocking")
                 if user.get(k) not in (None, "", False)}
        yield Contact(app=ctx.app, platform=ctx.platform, user_id=user_id, name=user.get("fullName"),
                      handles=[f"@{user['username']}"] if user.get("username") else [], extra=extra,
                      prov=ctx.prov("cachedUserByUserID", user_id))
    for key, label in TIMELINES:
        for ci, conversation in enumerate(_dict(inbox.get(key)).get("conversations") or []):
            yield from _conversation(ctx, _dict(conversation), owner, users, f"{key}[{ci}]", label)


def _conversation(ctx, conversation, owner, users, place, label):
    thread = _id(_dict(conversation.get("identifier")).get("canonicalID"))
    participants = conversation.get("participants")
    members = participants.values() if isinstance(participants, dict) else participants or []
    people = [_id(_dict(_dict(p).get("participatingUser")).get("userID")) for p in members]
    people = sorted({p for p in people if p})
    others = [p for p in people if p != owner]
    name = conversation.get("conversationName") or ", ".join(
        filter(None, (users.get(p, {}).get("username") for p in others))) or None
    for ei, entry in enumerate(conversation.get("entries") or []):
        entry = _dict(entry)
        sender_user = _dict(entry.get("sender"))
        sender = _id(sender_user.get("userID"))
        outgoing = bool(owner and sender == owner)
        media = _dict(_dict(entry.get("attachment")).get("entityMedia"))
        extra = {"message_id": _id(_dict(entry.get("identifier")).get("canonicalID")), "timeline": label,
                 "reply_to": _id(_dict(_dict(entry.get("inReplyToMessageEntry")).get("identifier"))
                                 .get("canonicalID")),
                 "marked_as_spam": entry.get("marked_as_spam") or None}
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=thread, thread_name=name, sender=sender,
            sender_name=sender_user.get("fullName") or users.get(sender, {}).get("fullName"),
            recipients=[p for p in people if p != sender] if sender else [],
            direction=None if not (owner and sender) else "outgoing" if outgoing else "incoming",
            body=entry.get("displayText") or entry.get("originalText"), message_type="direct message",
            attachments=[{"url": media["mediaURL"]}] if media.get("mediaURL") else [],
            ts=timestamps.cocoa_s(_dict(entry.get("time")).get("NS.time")),
            extra={k: v for k, v in extra.items() if v is not None}, prov=ctx.prov(None, f"{place}.entries[{ei}]"))


@parser(name="twitter-ios-model-cache", app=APP, platform=PLATFORM, source=SOURCE,
        paths=["*/TFSModelCache.*/*/database/modelCache.sqlite3"],
        requires={"ItemKeys": {"itemKey", "itemId"}, "Items": {"id", "archivedObjectData"}})
def model_cache(db, ctx):
    """Cached posts (TwitterStatus) and users (TwitterMasterUser) of the model cache."""
    for row in db.execute("SELECT k.itemKey, i.id, i.archivedObjectData FROM ItemKeys k JOIN Items i ON i.id = k.itemId "
                          "WHERE k.itemKey LIKE '%|TwitterStatus|%' OR k.itemKey LIKE '%|TwitterMasterUser|%' "
                          "ORDER BY i.id, k.itemKey"):
        uid, kind = str(row["itemKey"]).split("|")[:2]
        model = _model(row["archivedObjectData"])
        prov = ctx.prov("Items", row["id"])
        if model is None:
            yield Message(app=ctx.app, platform=ctx.platform, extra={"error": "cached object is not gzip JSON",
                                                                     "item_key": row["itemKey"]}, prov=prov)
        elif kind == "TwitterStatus":
            yield Message(app=ctx.app, platform=ctx.platform, message_type="post", body=model.get("originalText"),
                          sender=_id(model.get("fromUserID")), thread_id=_id(model.get("conversationID")),
                          ts=timestamps.cocoa_s(model.get("date")),
                          extra={k: v for k, v in (("post_id", uid), ("language", model.get("language")),
                                                   ("retweets", model.get("retweetCount")),
                                                   ("replies", model.get("replyCount"))) if v is not None},
                          prov=prov)
        else:
            extra = {k: _projected(model.get(k)) for k in ("bio", "followersCount", "followingCount")}
            yield Contact(app=ctx.app, platform=ctx.platform, user_id=uid,
                          handles=[f"@{model['username']}"] if model.get("username") else [],
                          ts=timestamps.cocoa_s(model.get("updatedTimestamp")),
                          extra={k: v for k, v in extra.items() if v not in (None, "")}, prov=prov)


def _model(blob) -> dict | None:
    """``cacheableModel`` of one gzip-compressed JSON object, inflated to a bounded size."""
    if not isinstance(blob, bytes):
        return None
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(blob, MAX_MODEL)
        parsed = json.loads(data) if not inflater.unconsumed_tail else None
    except (zlib.error, ValueError, RecursionError):
        return None
    model = parsed.get("cacheableModel") if isinstance(parsed, dict) else None
    return model if isinstance(model, dict) else None


def _projected(value):
    """Users keep some values as ``{"projectedValue": x, "defaultValue": y}``."""
    if isinstance(value, dict) and ("projectedValue" in value or "defaultValue" in value):
        return value.get("projectedValue") if value.get("projectedValue") is not None else value.get("defaultValue")
    return value


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _id(value) -> str | None:
    return None if value is None or value == "" else str(value)
