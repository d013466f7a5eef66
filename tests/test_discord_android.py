"""Discord: the real cached API response from plaso's test data (an iOS fsCachedData file, and the same bytes gzipped
as an Android OkHttp cache body), and kv-storage ``a`` databases built at test time.

The kv-storage table is not published: ALEAPP reads ``messages0``'s seventh column and iLEAPP names it ``data``, so
the fixture has six stand-in columns before ``data``; values carry the non-JSON prefix bytes the store writes.
"""
import gzip
import json

import pytest

from tests import parser_harness
from tests.conftest_paths import TESTDATA
from tests.fixtures.sqlite_db import damage, make_db

REAL = TESTDATA / "log2timeline+plaso/test_data/23AAD8D4-D632-4F99-8E44-152AAB8FA9D6"
IOS_CACHE = ("/private/var/mobile/Containers/Data/Application/0A1B2C3D-0000-4000-8000-000000000000/Library/Caches/"
             "com.hammerandchisel.discord/fsCachedData/23AAD8D4-D632-4F99-8E44-152AAB8FA9D6")
ANDROID_CACHE = "/data/data/com.discord/cache/http-cache/3f2b8c0e6a1d4e5f9a7b6c5d4e3f2a1b.1"
OWNER, FRIEND = "579257851646574644", "1012345678901234567"
KV = f"/data/data/com.discord/files/kv-storage/@account.{OWNER}/a"


def _real_bytes() -> bytes:
    if not REAL.exists():
        pytest.skip(f"third-party test data absent: {REAL}")
    return REAL.read_bytes()


def test_real_ios_cached_messages(tmp_path):
    outcomes, rows = parser_harness.run(tmp_path, {IOS_CACHE: _real_bytes()}, ["discord-ios-api-cache"])
    assert (outcomes[0].outcome, outcomes[0].records) == ("parsed", 26)
    m = rows["messages"]
    assert len(m) == 26 and {x["app"] for x in m} == {"com.hammerandchisel.discord"}
    first = m[0]
    assert first["body"] == "That was painful to watch." and first["ts"] == "2023-04-24T18:17:21.655000Z"
    assert first["ts_raw"] == "2023-04-24T18:17:21.655000+00:00" and first["ts_encoding"] == "iso8601"
    assert first["sender"] == OWNER and first["sender_name"] == "josh_hickman1"
    assert first["thread_id"] == "622810296226152474" and first["direction"] is None
    assert first["extra"]["message_id"] == "1100123332013199470"
    assert first["source_table"] is None and first["source_row"] == "0"
    photo = m[10]
    assert photo["body"] is None and photo["ts"] == "2022-11-12T15:31:35.458000Z"
    assert photo["attachments"][0]["name"] == "IMG_1953.jpg" and photo["attachments"][0]["size"] == 2149749
    assert photo["attachments"][0]["mime_type"] == "image/jpeg"
    assert photo["attachments"][0]["proxy_url"] == (
        "https://media.discordapp.net/attachments/622810296226152474/1041012392089370735/IMG_1953.jpg")
    assert sum(1 for x in m if x["attachments"]) == 4


def test_real_bytes_as_a_gzipped_android_cache_body(tmp_path):
    files = {ANDROID_CACHE: gzip.compress(_real_bytes()),
             "/data/data/com.discord/cache/http-cache/0000000000000000000000000000000a.1": b"\x89PNG\r\n\x1a\n....",
             "/data/data/com.discord/cache/http-cache/0000000000000000000000000000000b.1":
                 json.dumps({"id": OWNER, "username": "josh_hickman1"}).encode()}
    outcomes, rows = parser_harness.run(tmp_path, files, ["discord-android-api-cache"])
    assert [(o.source.path.rsplit("/", 1)[1], o.outcome, o.records) for o in outcomes] == [
        ("0000000000000000000000000000000a.1", "no data", 0), ("0000000000000000000000000000000b.1", "no data", 0),
        ("3f2b8c0e6a1d4e5f9a7b6c5d4e3f2a1b.1", "parsed", 26)]
    assert {x["app"] for x in rows["messages"]} == {"com.discord"}


def _stored(message: dict, entry_id: str) -> bytes:
    """A kv-storage value: prefix bytes, then the stored entry as JSON."""
    body = json.dumps({"id": entry_id, "channelId": message["channel_id"], "message": message}).encode()
    return b"\x07\x8c\x02" + body


def _message(mid, author, content, ts, **more):
    return {"id": mid, "type": 0, "content": content, "channel_id": "900000000000000001",
            "author": {"id": author, "username": f"user{author[-3:]}", "global_name": None, "avatar": None},
            "attachments": [], "embeds": [], "mentions": [], "mention_roles": [], "pinned": False,
            "timestamp": ts, "edited_timestamp": None, **more}


KV_SCHEMA = "CREATE TABLE messages0 (c0, c1, c2, c3, c4, c5, data BLOB);"


def _kv_rows():
    return [
        _stored(_message("1", FRIEND, "the drop is at 5", "2024-02-08T16:44:47.780000+00:00"), "a1"),
        _stored(_message("2", OWNER, "ok", "2024-02-08T16:45:00.000000+00:00",
                         edited_timestamp="2024-02-08T16:46:00.000000+00:00",
                         attachments=[{"id": "5", "filename": "map.png", "size": 10, "url": "https://cdn/map.png",
                                       "content_type": "image/png"}]), "a2"),
        _stored(_message("3", FRIEND, "", "2024-02-08T17:00:00.000000+00:00", type=3,
                         call={"participants": [FRIEND, OWNER], "ended_timestamp": "2024-02-08T17:02:05.500000+00:00"}),
                "a3"),
        _stored(_message("4", OWNER, "", "2024-02-08T18:00:00.000000+00:00", type=3,
                         call={"participants": [OWNER], "ended_timestamp": "2024-02-08T18:00:30.000000+00:00"}), "a4"),
        b"\x00\x01not json at all",
    ]


def _inserts(values) -> str:
    return "".join(f"INSERT INTO messages0 (c0, data) VALUES ('k', X'{v.hex()}');" for v in values)


def test_kv_storage_messages_calls_direction_and_wal(tmp_path):
    make_db(tmp_path / "a", KV_SCHEMA + _inserts(_kv_rows()), wal_sql=_inserts(
        [_stored(_message("6", FRIEND, "only in the WAL", "2024-02-09T00:00:00+00:00"), "a6")]))
    outcomes, rows = parser_harness.run(tmp_path / "run", {KV: tmp_path / "a", KV + "-wal": tmp_path / "a-wal"},
                                        ["discord-android-messages"])
    assert (outcomes[0].outcome, outcomes[0].records, outcomes[0].from_wal) == ("parsed", 6, 1)
    m, calls = rows["messages"], rows["calls"]
    assert [x["source_row"] for x in m] == ["1", "2", "5", "6"] and [c["source_row"] for c in calls] == ["3", "4"]
    assert m[0]["direction"] == "incoming" and m[0]["sender"] == FRIEND and m[0]["body"] == "the drop is at 5"
    assert m[0]["ts"] == "2024-02-08T16:44:47.780000Z" and m[0]["thread_id"] == "900000000000000001"
    assert m[1]["direction"] == "outgoing" and m[1]["extra"]["edited"] == "2024-02-08T16:46:00.000000+00:00"
    assert m[1]["attachments"] == [{"name": "map.png", "mime_type": "image/png", "size": 10,
                                    "url": "https://cdn/map.png"}]
    assert m[2]["extra"] == {"error": "data is not a stored message"} and m[2]["body"] is None
    assert m[3]["body"] == "only in the WAL" and m[3]["from_wal"]
    answered, missed = calls
    assert answered["direction"] == "incoming" and answered["peers"] == [FRIEND] and answered["answered"] is True
    assert answered["duration_s"] == 125.5 and answered["ts"] == "2024-02-08T17:00:00.000000Z"
    assert missed["direction"] == "outgoing" and missed["answered"] is False and missed["peers"] == []


def test_damaged_kv_storage_is_recovered(tmp_path):
    good = make_db(tmp_path / "good", KV_SCHEMA + _inserts(
        _stored(_message(str(i), FRIEND, "v" * 400, "2024-02-08T16:44:47+00:00"), f"e{i}") for i in range(150)))
    bad = damage(good, tmp_path / "bad", page=good.stat().st_size // 4096 // 2)
    outcomes, rows = parser_harness.run(tmp_path / "run", {KV: bad}, ["discord-android-messages"])
    assert outcomes[0].outcome == "parsed" and outcomes[0].recovered and 100 < outcomes[0].records < 150
    assert all(x["recovered"] for x in rows["messages"])


def test_cache_bodies_beyond_the_size_limit_are_refused(tmp_path, monkeypatch):
    from parsers import discord_android
    monkeypatch.setattr(discord_android, "MAX_CACHE_BYTES", 1000)
    bomb = gzip.compress(b"[" + b" " * 5000 + b"]")
    outcomes, rows = parser_harness.run(tmp_path, {ANDROID_CACHE: bomb}, ["discord-android-api-cache"])
    assert outcomes[0].outcome == "unsupported version" and "inflates beyond 1000 bytes" in outcomes[0].message
    assert rows["messages"] == []


# Apple's CFNetwork cache tables, as in the Discord app's real Cache.db (iLEAPP test extraction josh_ios15_ffs)
CFURL_SCHEMA = """
CREATE TABLE cfurl_cache_response(entry_ID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, version INTEGER,
  hash_value INTEGER, storage_policy INTEGER, request_key TEXT UNIQUE, time_stamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  partition TEXT);
CREATE TABLE cfurl_cache_blob_data(entry_ID INTEGER PRIMARY KEY, response_object BLOB, request_object BLOB,
  proto_props BLOB, user_info BLOB);
CREATE TABLE cfurl_cache_receiver_data(entry_ID INTEGER PRIMARY KEY, isDataOnFS INTEGER, receiver_data BLOB);
CREATE INDEX request_key_index ON cfurl_cache_response(request_key);
"""
IOS_DIR = IOS_CACHE.rsplit("/fsCachedData/", 1)[0]
ACCOUNT = "672145484864815124"  # the signed-in account of the real extraction (author of 12 of the 26 messages)
TOKEN = "mfa.NotARealTokenButShapedLikeOne_0123456789"


def _cache_entry(entry_id, url, body: bytes | str, on_fs=False) -> str:
    data = f"'{body}'" if on_fs else f"X'{body.hex()}'"
    return (f"INSERT INTO cfurl_cache_response (entry_ID, version, hash_value, storage_policy, request_key, "
            f"time_stamp, partition) VALUES ({entry_id}, 0, {entry_id * 7}, 0, '{url}', "
            f"'2023-04-24 18:0{entry_id}:00', NULL);"
            f"INSERT INTO cfurl_cache_receiver_data VALUES ({entry_id}, {int(on_fs)}, {data});")


def test_ios_cache_db_one_record_per_message_with_direction_from_the_login_response(tmp_path):
    """Overlapping cached pages of the real messages (0-19 and 10-25), a single-object POST response, the login
    response (with a token that must never be stored) and an image: 27 messages, ten of them seen twice."""
    real = json.loads(_real_bytes())
    api = "https://discord.com/api/v9"
    channel = real[0]["channel_id"]
    sent = {**real[12], "id": "1100154999838867627", "content": "DM's?", "timestamp": "2023-04-24T20:23:11.853+00:00"}
    edited = [dict(m) for m in real[10:]]
    edited[0]["content"] = "edited later"
    cache = make_db(tmp_path / "db" / "Cache.db", CFURL_SCHEMA
                    + _cache_entry(1, f"{api}/auth/login", json.dumps({"token": TOKEN, "user_id": ACCOUNT}).encode())
                    + _cache_entry(2, f"{api}/channels/{channel}/messages?limit=25", "PAGE-A", on_fs=True)
                    + _cache_entry(3, f"{api}/channels/{channel}/messages?limit=50&around=1", "PAGE-B", on_fs=True)
                    + _cache_entry(4, f"{api}/channels/{channel}/messages", json.dumps(sent).encode())
                    + _cache_entry(5, "https://cdn.discordapp.com/attachments/1/2/a.png", "IMAGE", on_fs=True)
                    + _cache_entry(6, f"{api}/channels/{channel}/messages/1/ack", b'{"token": null}'))
    files = {f"{IOS_DIR}/Cache.db": cache, f"{IOS_DIR}/fsCachedData/PAGE-A": json.dumps(real[:20]).encode(),
             f"{IOS_DIR}/fsCachedData/PAGE-B": json.dumps(edited).encode(),
             f"{IOS_DIR}/fsCachedData/IMAGE": b"\x89PNG\r\n\x1a\n...."}
    outcomes, rows = parser_harness.run(tmp_path / "run", files, ["discord-ios-cache", "discord-ios-api-cache"])
    by_file = {o.source.path.rsplit("/", 1)[1]: (o.spec.name, o.outcome, o.records) for o in outcomes}
    assert by_file == {"Cache.db": ("discord-ios-cache", "parsed", 27),
                       "PAGE-A": ("discord-ios-api-cache", "no data", 0),
                       "PAGE-B": ("discord-ios-api-cache", "no data", 0),
                       "IMAGE": ("discord-ios-api-cache", "no data", 0)}
    m = rows["messages"]
    assert len({x["extra"]["message_id"] for x in m}) == 27
    copies = {x["extra"]["message_id"]: x["extra"]["cached_copies"] for x in m}
    assert sorted(copies.values()) == [1] * 17 + [2] * 10
    assert {x["direction"] for x in m if x["sender"] == ACCOUNT} == {"outgoing"}
    assert {x["direction"] for x in m if x["sender"] != ACCOUNT} == {"incoming"}
    assert sum(1 for x in m if x["direction"] == "outgoing") == 13
    newest = next(x for x in m if x["extra"]["message_id"] == real[10]["id"])
    assert (newest["body"], newest["extra"]["other_contents"], newest["extra"]["cache_file"]) == \
        ("edited later", [real[10]["content"]], "PAGE-B")
    assert (newest["source_table"], newest["source_row"]) == ("cfurl_cache_receiver_data", "3")
    posted = next(x for x in m if x["extra"]["message_id"] == sent["id"])
    assert (posted["body"], posted["source_row"], posted["extra"]["cached_copies"]) == ("DM's?", "4", 1)
    assert "cache_file" not in posted["extra"]
    shard = (tmp_path / "run" / "shard.sqlite").read_bytes()
    assert TOKEN.encode() not in shard


def test_ios_cache_file_without_cache_db_single_object_and_repeats(tmp_path):
    real = json.loads(_real_bytes())
    outcomes, rows = parser_harness.run(tmp_path / "a", {IOS_CACHE: json.dumps(real[3]).encode()},
                                        ["discord-ios-api-cache"])
    assert (outcomes[0].outcome, outcomes[0].records) == ("parsed", 1)
    assert rows["messages"][0]["extra"]["message_id"] == real[3]["id"]
    outcomes, _ = parser_harness.run(tmp_path / "b", {IOS_CACHE: json.dumps(real + real[:5]).encode()},
                                     ["discord-ios-api-cache"])
    assert outcomes[0].records == 26
