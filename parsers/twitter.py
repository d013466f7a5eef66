"""Twitter / X: the Android app's per-account database and the iOS app's ``twitter.db``.

Android (``com.twitter.android``): ``databases/<user id>.db``, named after the signed-in account (plaso issue #714);
search history later moved to ``databases/<user id>-search.db`` (ALEAPP ``Twitter.py``). Tables read: ``statuses``
(tweets the app cached: ``status_id``, ``author_id``, ``content``, ``created``), ``users`` (every account it has
shown), ``conversation_entries`` (direct messages, with ``conversation_participants`` and ``conversations``; the
text is inside ``data``, written with Twitter's Serial library) and ``search_queries``. The user id in the file name
is the account's own: it gives direct messages their direction and marks the account's own tweets.

iOS (``com.atebits.Tweetie2``): ``Library/Caches/databases/twitter.db`` (plaso). ``Statuses`` and ``Users`` hold
the same facts under other names; ``MyRetweets`` maps a tweet to the account's own retweet of it, so the author of
those retweets is the account.

Tweets become Messages with message_type "post", direction "outgoing" for the account's own and None for the rest
(a timeline tweet is not addressed to anyone); accounts become Contacts; searches SearchTerms.

Times: Android stores Unix milliseconds (``statuses.created``, ``users.updated``, ``profile_created`` (-1 when
unknown), ``friendship_time``, ``conversation_entries.created``, ``search_queries.time``). iOS stores Unix seconds
with a fraction, not Cocoa time (``Statuses.date``, ``updatedAt``, ``Users.createdDate``, ``updatedAt``): a tweet
about 9/11 is dated 2014-09-11 that way, as plaso reads it too. A contact's ``ts`` is when the app last updated it.
"""
from __future__ import annotations

import json
import math
import re
from collections import defaultdict

from artifacts import timestamps
from artifacts.records import Contact, Location, Message, SearchTerm
from parsers.framework import as_text, optional_columns, parser, tables

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = ("ALEAPP scripts/artifacts/Twitter.py; "
          "plaso plaso/parsers/sqlite_plugins/android_twitter.py, ios_twitter.py; "
          "plaso test_data/android/twitter.db, ios/twitter.db (real files)")

ANDROID = "com.twitter.android"
IOS = "com.atebits.Tweetie2"
PLATFORM = "Twitter"
ANDROID_DB = "*/com.twitter.android/databases/[0-9]*[0-9].db"
ANDROID_SEARCH_DB = "*/com.twitter.android/databases/[0-9]*-search.db"
IOS_DB = "*/Library/Caches/databases/twitter.db"
DM_MESSAGE = 0  # conversation_entries.entry_type of a message; other entry types are conversation events


@parser(name="twitter-android", app=ANDROID, platform=PLATFORM, paths=[ANDROID_DB],
        requires={"statuses": {"_id", "status_id", "author_id", "content", "created"},
                  "users": {"_id", "user_id", "username", "name"}})
def android(db, ctx):
    """Tweets (statuses) and the accounts the app has shown (users)."""
    owner = _android_owner(ctx.source.path)
    wanted = ["source", "in_r_status_id", "in_r_user_id", "quoted_tweet_id", "retweet_count", "favorite_count",
              "favorited", "retweeted", "lang", "latitude", "longitude"]
    for row in db.execute(f"SELECT s._id, s.status_id, s.author_id, s.content, s.created, "
                          f"{optional_columns(db, 'statuses', wanted, 's')}, u.username, u.name "
                          f"FROM statuses s LEFT JOIN users u ON u.user_id = s.author_id ORDER BY s._id"):
        extra = {"in_reply_to_status_id": _id(row["in_r_status_id"]),
                 "in_reply_to_user_id": _id(row["in_r_user_id"]), "quoted_status_id": _id(row["quoted_tweet_id"]),
                 **{k: row[k] for k in ("source", "retweet_count", "favorite_count", "favorited", "retweeted",
                                        "lang")}}
        yield from _post(ctx, owner, ("statuses", row["_id"]), row, timestamps.unix_ms(row["created"]),
                         row["content"], extra, [], (row["latitude"], row["longitude"]))
    wanted = ["description", "location", "web_url", "image_url", "followers", "friends", "statuses",
              "profile_created", "updated", "friendship", "friendship_time"]
    for row in db.execute(f"SELECT _id, user_id, username, name, {optional_columns(db, 'users', wanted)} "
                          f"FROM users ORDER BY _id"):
        created, befriended = (_positive_ms(row[c]) for c in ("profile_created", "friendship_time"))
        extra = {"location": row["location"], "url": row["web_url"], "profile_image_url": row["image_url"],
                 "followers": row["followers"], "following": row["friends"], "tweets": row["statuses"],
                 "account_created": created.iso if created else None,
                 "friendship_flags": row["friendship"], "friendship_time": befriended.iso if befriended else None}
        yield _profile(ctx, owner, ("users", row["_id"]), row["user_id"], row["username"], row["name"],
                       row["description"], _positive_ms(row["updated"]), extra)


@parser(name="twitter-android-dms", app=ANDROID, platform=PLATFORM, paths=[ANDROID_DB],
        requires={"conversation_entries": {"_id", "conversation_id", "user_id", "created", "entry_type", "data"},
                  "conversation_participants": {"conversation_id", "user_id"}})
def android_dms(db, ctx):
    """Direct messages (conversation_entries with their conversation's participants and title)."""
    owner = _android_owner(ctx.source.path)
    present = tables(db)
    members = defaultdict(list)
    for row in db.execute("SELECT conversation_id, user_id FROM conversation_participants ORDER BY rowid"):
        members[row["conversation_id"]].append(_id(row["user_id"]))
    titles = dict(db.execute("SELECT conversation_id, title FROM conversations")) if "conversations" in present \
        else {}
    users = {_id(r[0]): (r[1], r[2]) for r in db.execute("SELECT user_id, username, name FROM users")} \
        if "users" in present else {}
    for row in db.execute("SELECT _id, entry_id, conversation_id, user_id, created, entry_type, data "
                          "FROM conversation_entries ORDER BY _id"):
        sender = _id(row["user_id"])
        username, name = users.get(sender, (None, None))
        is_message = row["entry_type"] == DM_MESSAGE
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=row["conversation_id"],
            thread_name=titles.get(row["conversation_id"]), sender=sender, sender_name=name,
            recipients=[m for m in members[row["conversation_id"]] if m != sender],
            direction=None if not (owner and sender) else "outgoing" if sender == owner else "incoming",
            body=next(serial_strings(row["data"]), None) if is_message and isinstance(row["data"], bytes) else None,
            message_type="dm" if is_message else f"entry type {row['entry_type']}",
            ts=timestamps.unix_ms(row["created"]),
            extra=_present({"entry_id": _id(row["entry_id"]), "sender_username": username}),
            prov=ctx.prov("conversation_entries", row["_id"]))


@parser(name="twitter-android-searches", app=ANDROID, platform=PLATFORM, paths=[ANDROID_DB, ANDROID_SEARCH_DB],
        requires={"search_queries": {"_id", "name", "query", "time"}})
def android_searches(db, ctx):
    """Searches the account made (search_queries)."""
    wanted = ["type", "latitude", "longitude", "location"]
    for row in db.execute(f"SELECT _id, name, query, time, {optional_columns(db, 'search_queries', wanted)} "
                          f"FROM search_queries ORDER BY _id"):
        if row["query"] is None:
            continue
        extra = {"name": row["name"] if row["name"] != row["query"] else None,
                 **{k: row[k] for k in ("type", "latitude", "longitude", "location")}}
        yield SearchTerm(app=ctx.app, term=row["query"], ts=timestamps.unix_ms(row["time"]), extra=_present(extra),
                         prov=ctx.prov("search_queries", row["_id"]))


@parser(name="twitter-ios", app=IOS, platform=PLATFORM, paths=[IOS_DB],
        requires={"Statuses": {"id", "text", "date", "userId"}, "Users": {"id", "screenName", "name"}})
def ios(db, ctx):
    """Tweets (Statuses) and the accounts the app has shown (Users)."""
    owner = _ios_owner(db)
    wanted = ["inReplyToStatusId", "inReplyToUsername", "retweetedStatusId", "quotedStatusId", "retweetCount",
              "favoriteCount", "favorited", "lang", "source", "updatedAt", "entities", "geotag"]
    for row in db.execute(f"SELECT s.id, s.text, s.date, s.userId, {optional_columns(db, 'Statuses', wanted, 's')}, "
                          f"u.screenName AS username, u.name FROM Statuses s LEFT JOIN Users u ON u.id = s.userId "
                          f"ORDER BY s.id"):
        updated = timestamps.unix_s(row["updatedAt"])
        extra = {"in_reply_to_status_id": _id(row["inReplyToStatusId"]),
                 "in_reply_to_username": row["inReplyToUsername"],
                 "retweeted_status_id": _id(row["retweetedStatusId"]), "quoted_status_id": _id(row["quotedStatusId"]),
                 "retweet_count": row["retweetCount"], "favorite_count": row["favoriteCount"],
                 "favorited": row["favorited"], "lang": row["lang"], "source": row["source"],
                 "updated": updated.iso if updated else None, "geotag_raw": as_text(row["geotag"])}
        record = dict(row) | {"status_id": row["id"], "author_id": row["userId"]}
        yield from _post(ctx, owner, ("Statuses", row["id"]), record, timestamps.unix_s(row["date"]), row["text"],
                         extra, _ios_media(row["entities"]), (None, None))
    wanted = ["description", "location", "url", "profileImageUrl", "followersCount", "followingCount",
              "statusesCount", "following", "verified", "protected", "createdDate", "updatedAt"]
    for row in db.execute(f"SELECT id, screenName, name, {optional_columns(db, 'Users', wanted)} "
                          f"FROM Users ORDER BY id"):
        created = timestamps.unix_s(row["createdDate"])
        extra = {"location": row["location"], "url": row["url"], "profile_image_url": row["profileImageUrl"],
                 "followers": row["followersCount"], "following": row["followingCount"],
                 "tweets": row["statusesCount"], "account_created": created.iso if created else None,
                 "followed_by_account": row["following"], "verified": row["verified"],
                 "protected": row["protected"]}
        yield _profile(ctx, owner, ("Users", row["id"]), row["id"], row["screenName"], row["name"],
                       row["description"], timestamps.unix_s(row["updatedAt"]), extra)


def _post(ctx, owner, source, row, ts, text, extra, attachments, coordinates):
    """A tweet as a Message, and a Location when it carries coordinates; ``row`` gives its ``status_id`` and
    ``author_id`` and the author's ``name`` and ``username``."""
    table, row_id = source
    author = _id(row["author_id"])
    status_id = _id(row["status_id"])
    yield Message(app=ctx.app, platform=ctx.platform, sender=author, sender_name=row["name"], body=text,
                  message_type="post", direction="outgoing" if owner and author == owner else None, ts=ts,
                  attachments=attachments,
                  extra=_present({"status_id": status_id, "sender_username": row["username"], **extra}),
                  prov=ctx.prov(table, row_id))
    latitude, longitude = (_float(c) for c in coordinates)
    if latitude is not None and longitude is not None and abs(latitude) <= 90 and abs(longitude) <= 180:
        yield Location(app=ctx.app, ts=ts, latitude=latitude, longitude=longitude, label=text,
                       source_kind="post", extra={"status_id": status_id, "sender": author},
                       prov=ctx.prov(table, row_id))


def _profile(ctx, owner, source, user_id, username, name, description, ts, extra) -> Contact:
    user_id = _id(user_id)
    return Contact(app=ctx.app, platform=ctx.platform, name=name, handles=[username] if username else [],
                   user_id=user_id, note=description or None, ts=ts,
                   extra=_present({**extra, "is_account_owner": True if owner and user_id == owner else None}),
                   prov=ctx.prov(*source))


def _android_owner(path: str) -> str | None:
    """The account user id a ``<user id>.db`` is named after."""
    match = re.fullmatch(r"(\d+)\.db", path.rsplit("/", 1)[-1])
    return match.group(1) if match else None


def _ios_owner(db) -> str | None:
    """The account's user id: the author of the retweets MyRetweets lists as its own (when they agree)."""
    if "myretweets" not in tables(db):
        return None
    authors = {_id(r[0]) for r in db.execute(
        "SELECT s.userId FROM MyRetweets m JOIN Statuses s ON s.id = m.myRetweetId")} - {None}
    return authors.pop() if len(authors) == 1 else None


def _ios_media(entities) -> list[dict]:
    """Media of a tweet from Statuses.entities (JSON): mediaUrls[].mediaURL and mediaType."""
    try:
        parsed = json.loads(entities) if entities else {}
    except (ValueError, TypeError):
        return []
    media = parsed.get("mediaUrls") if isinstance(parsed, dict) else None
    return [{"url": m.get("mediaURL"), "media_type": m.get("mediaType"), "expanded_url": m.get("expandedURL")}
            for m in media or [] if isinstance(m, dict) and m.get("mediaURL")]


# Twitter's Serial format (github.com/twitter/Serial, ByteBufferSerializerDefs): every value starts with a header
# byte whose high five bits are its type and low three its subtype, which sizes the number or length that follows:
# 1 the value zero (nothing follows), 2 one byte, 3 two bytes, otherwise four (eight for a long of subtype 5).
_BYTE, _INT, _LONG, _FLOAT, _DOUBLE, _BOOLEAN, _NULL, _UTF8, _OBJECT, _OBJECT_DEBUG, _END, _ASCII, _BYTES = (
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14)
_FIXED = {_BYTE: 1, _FLOAT: 4, _DOUBLE: 8}
_SIZED = {_INT, _LONG, _UTF8, _OBJECT, _OBJECT_DEBUG, _ASCII, _BYTES}


def serial_strings(data: bytes):
    """Every string value of a Serial blob in stored order; stops at the first value it cannot read."""
    pos = 0
    while pos < len(data):
        kind, subtype = data[pos] >> 3, data[pos] & 7
        pos += 1
        if kind in (_BOOLEAN, _NULL, _END):
            continue
        if kind in _FIXED:
            pos += 0 if subtype == 1 else _FIXED[kind]
            continue
        if kind not in _SIZED:
            return
        size = 8 if kind == _LONG and subtype == 5 else {1: 0, 2: 1, 3: 2}.get(subtype, 4)
        if pos + size > len(data):
            return
        value, pos = int.from_bytes(data[pos:pos + size], "big"), pos + size
        if kind in (_UTF8, _ASCII, _BYTES):
            if pos + value > len(data):
                return
            chunk, pos = data[pos:pos + value], pos + value
            if kind != _BYTES:
                yield chunk.decode("utf-8" if kind == _UTF8 else "latin-1", "replace")


def _positive_ms(value):
    return timestamps.unix_ms(value) if isinstance(value, int) and value > 0 else None


def _id(value) -> str | None:
    """A user or tweet id as text; 0, -1 (Android's drafts) and empty mean "none" in these tables."""
    if value is None or value == "" or (isinstance(value, int) and value <= 0) or value in ("0", "-1"):
        return None
    return str(value)


def _float(value) -> float | None:
    """A coordinate stored as text or number; None when absent or not a finite number."""
    try:
        number = float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
    return number if number is not None and math.isfinite(number) else None


def _present(values: dict) -> dict:
    return {k: v for k, v in values.items() if v is not None and v != ""}
