"""Tinder for Android tinder-3.db: matches with the matched person's profile, and direction-derived messages.

``message`` and ``match_person`` are the Room tables as a real tinder-3.db has them (column for column, as in the
public HPI test data); `` `match` `` carries the columns ALEAPP's tinder.py reads (the full table is not public).
"""
import json

from tests import parser_harness
from tests.fixtures.sqlite_db import damage, make_db

PATH = "/data/data/com.tinder/databases/tinder-3.db"


def _len_delimited(number: int, payload: bytes) -> bytes:
    return bytes([number << 3 | 2, len(payload)]) + payload


PHOTOS = b"".join(_len_delimited(1, _len_delimited(1, url.encode()))
                  for url in ("https://images-ssl.gotinder.com/u/a1/original.jpg",
                              "https://images-ssl.gotinder.com/u/a2/original.jpg"))
GIF = "https://media.tenor.com/abc/x.gif"

SCHEMA = """
CREATE TABLE match_person (id TEXT NOT NULL PRIMARY KEY, name TEXT NOT NULL, bio TEXT, birth_date INTEGER,
  gender BLOB NOT NULL, photos BLOB NOT NULL, badges BLOB NOT NULL, jobs BLOB NOT NULL, schools BLOB NOT NULL,
  city BLOB, membership_status TEXT);
CREATE TABLE `match` (id TEXT NOT NULL PRIMARY KEY, person_id TEXT NOT NULL, creation_date INTEGER NOT NULL,
  last_activity_date INTEGER NOT NULL, is_blocked INTEGER NOT NULL DEFAULT 0, is_muted INTEGER NOT NULL DEFAULT 0,
  type TEXT, attribution TEXT);
CREATE TABLE message (client_sequential_id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
  match_id TEXT NOT NULL, to_id TEXT NOT NULL, from_id TEXT NOT NULL, text TEXT NOT NULL, sent_date INTEGER NOT NULL,
  is_liked INTEGER NOT NULL DEFAULT 0, type TEXT NOT NULL, delivery_status TEXT NOT NULL,
  is_seen INTEGER NOT NULL DEFAULT 0, raw_message_data_version INTEGER NOT NULL DEFAULT -1,
  raw_message_data TEXT NOT NULL DEFAULT "");
"""
ROWS = f"""
INSERT INTO match_person VALUES ('P1', 'Jess', 'travel & coffee', -94694400000, X'0801', X'{PHOTOS.hex()}', X'',
  X'', X'', NULL, NULL);
INSERT INTO `match` VALUES ('P1ME', 'P1', 1699800000000, 1699813000165, 0, 0, 'MATCH', NULL);
INSERT INTO `match` VALUES ('P9ME', 'P9', 1699700000000, 1699700000000, 1, 0, 'MATCH', NULL);
INSERT INTO message VALUES (274, 'M274', 'P1ME', 'ME', 'P1', 'hey there', 1699812983158, 0, 'UNKNOWN', 'SUCCESS', 1,
  0, '');
INSERT INTO message VALUES (275, 'M275', 'P1ME', 'P1', 'ME', '{GIF}', 1699813000165, 1, 'UNKNOWN', 'SUCCESS', 1, 1,
  '{json.dumps({"_id": "M275", "type": "gif", "gif_description": "house wave"})}');
"""
WAL = "INSERT INTO message VALUES (276, 'M276', 'P1ME', 'P1', 'ME', 'see you at 8', 1699814000000, 0, " \
      "'UNKNOWN', 'PENDING', 0, 0, '');"


def test_matches_and_messages_with_wal_row(tmp_path):
    db = make_db(tmp_path / "src" / "tinder-3.db", SCHEMA + ROWS, wal_sql=WAL)
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: db, PATH + "-wal": db.with_name("tinder-3.db-wal")},
                                        ["tinder-android"])
    (outcome,) = outcomes
    assert (outcome.outcome, outcome.records, outcome.from_wal) == ("parsed", 5, 1)

    jess, unknown = rows["contacts"]
    assert (jess["platform"], jess["user_id"], jess["name"]) == ("Tinder", "P1", "Jess")
    assert jess["ts"] == "2023-11-12T14:40:00.000000Z" and jess["ts_raw"] == "1699800000000"
    assert jess["extra"] == {"match_id": "P1ME", "bio": "travel & coffee", "is_blocked": 0, "is_muted": 0,
                             "type": "MATCH", "birth_date": "1967-01-01T00:00:00.000000Z",
                             "last_activity": "2023-11-12T18:16:40.165000Z", "gender_code": 1,
                             "photo_urls": ["https://images-ssl.gotinder.com/u/a1/original.jpg",
                                            "https://images-ssl.gotinder.com/u/a2/original.jpg"],
                             "match_person_row": 1}
    assert (jess["source_table"], jess["source_row"]) == ("match", "1")
    assert unknown["user_id"] == "P9" and unknown["name"] is None and unknown["extra"]["is_blocked"] == 1

    first, gif, wal = rows["messages"]
    assert (first["direction"], first["sender"], first["sender_name"], first["recipients"]) == \
        ("incoming", "P1", "Jess", ["ME"])
    assert first["ts"] == "2023-11-12T18:16:23.158000Z" and first["thread_name"] == "Jess"
    assert (first["source_table"], first["source_row"], first["from_wal"]) == ("message", "274", False)
    assert (gif["direction"], gif["body"], gif["sender_name"]) == ("outgoing", GIF, None)
    assert gif["extra"] == {"id": "M275", "delivery_status": "SUCCESS", "is_liked": 1, "is_seen": 1,
                            "content_type": "gif", "gif_description": "house wave"}
    assert (wal["body"], wal["from_wal"], wal["extra"]["delivery_status"]) == ("see you at 8", True, "PENDING")


def test_older_schema_without_raw_message_data(tmp_path):
    old = """CREATE TABLE message (client_sequential_id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
               id TEXT NOT NULL UNIQUE, match_id TEXT NOT NULL, to_id TEXT NOT NULL, from_id TEXT NOT NULL,
               text TEXT NOT NULL, sent_date INTEGER NOT NULL, is_liked INTEGER NOT NULL DEFAULT 0, type TEXT NOT NULL,
               delivery_status TEXT NOT NULL, is_seen INTEGER NOT NULL DEFAULT 0);
             INSERT INTO message VALUES (1, 'X', 'AB', 'B', 'A', 'no match row', 1600000000000, 0, 'UNKNOWN',
               'SUCCESS', 0);"""
    db = make_db(tmp_path / "old.db", old)
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: db}, ["tinder-android"])
    assert outcomes[0].outcome == "parsed"
    (message,) = rows["messages"]
    assert message["direction"] is None and message["sender"] == "A" and message["thread_id"] == "AB"
    assert message["ts"] == "2020-09-13T12:26:40.000000Z"


def test_damaged_copy_is_recovered(tmp_path):
    many = "".join(f"INSERT INTO message VALUES ({i}, 'M{i}', 'P1ME', 'P1', 'ME', '{'x' * 400} {i}', "
                   f"{1699812983158 + i}, 0, 'UNKNOWN', 'SUCCESS', 1, 0, '');" for i in range(1000, 1200))
    good = make_db(tmp_path / "good.db", SCHEMA + ROWS + many)
    bad = damage(good, tmp_path / "bad.db", page=good.stat().st_size // 4096 // 2)
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: bad}, ["tinder-android"])
    (outcome,) = outcomes
    assert outcome.outcome == "parsed" and outcome.recovered
    assert 150 < len(rows["messages"]) < 202
    assert all(m["recovered"] for m in rows["messages"])
