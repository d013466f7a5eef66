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
