"""Telegram for iOS: plaintext Postbox stores written at test time; SQLCipher-encrypted ones made with sqlcipher3."""
import pytest

from forensics.backups import backup_path
from parsers.decoders import telegram_postbox
from parsers.framework import load_parsers
from tests import parser_harness
from tests.fixtures import telegram_postbox as pb
from tests.fixtures.sqlite_db import damage, make_db

POSTBOX = ("/private/var/mobile/Containers/Shared/AppGroup/1B2C3D4E-0000-4000-8000-000000000010/telegram-data/"
           "account-9876543210123456789/postbox/db/db_sqlite")
NAMES = ["telegram-ios-messages", "telegram-ios-peers"]
ME, IVAN, NEWS = 1, 100, -1000000000200
USER_HASH, CHANNEL_HASH, MEDIA_HASH = 0x1A2B3C4D, 0x0BADF00D, 0x600DCAFE


def _rows(compact=False):
    peers = {ME: pb.root(USER_HASH, pb.int64("i", ME), pb.string("fn", "Me")),
             IVAN: pb.root(USER_HASH, pb.int64("i", IVAN), pb.string("fn", "Ivan"), pb.string("ln", "Petrov"),
                           pb.string("un", "ivan_p"), pb.string("p", "79001234567")),
             NEWS: pb.root(CHANNEL_HASH, pb.int64("i", NEWS), pb.string("t", "Night News")),
             5: b"\x01_\x05garbage"}
    photo = pb.root(MEDIA_HASH, pb.field("i", 10, b"\x0c\x00\x00\x00" + b"\x00" * 12))
    messages = [(pb.message_key(IVAN, 0, 1700000000, 1), pb.message("privet", True, author=IVAN)),
                (pb.message_key(IVAN, 0, 1700000060, 2), pb.message("hello", False, author=ME, global_tags=3)),
                (pb.message_key(NEWS, 0, 1700000120, 3),
                 pb.message("fwd", True, author=NEWS, forward=(IVAN, 1699990000), media=(photo,))),
                (pb.message_key(IVAN, 0, 1700000180, 4), b"\x00\x01"),
                (pb.message_key(IVAN, 1, 1700000200, 5), pb.message("", True, entry_type=1))]
    sql = pb.schema(compact)
    sql += "".join(f"INSERT INTO t2 VALUES ({k}, X'{v.hex()}');" for k, v in peers.items())
    sql += "".join(f"INSERT INTO t7 VALUES (X'{k.hex()}', X'{v.hex()}');" for k, v in messages)
    return sql


WAL = (f"INSERT INTO t7 VALUES (X'{pb.message_key(IVAN, 0, 1700000300, 6).hex()}', "
       f"X'{pb.message('only in the WAL', True, author=IVAN).hex()}');")


def test_plaintext_postbox_messages_and_peers(tmp_path):
    db = make_db(tmp_path / "src" / "db_sqlite", _rows(), wal_sql=WAL)
    outcomes, rows = parser_harness.run(
        tmp_path / "run", {POSTBOX: db, POSTBOX + "-wal": db.with_name(db.name + "-wal")}, NAMES)
    assert {o.spec.name: (o.outcome, o.records) for o in outcomes} == {
        "telegram-ios-messages": ("parsed", 5), "telegram-ios-peers": ("parsed", 4)}
    # keys sort as bytes: Ivan's chat first, then the channel (a negative peer id has its top bit set)
    assert [m["extra"]["message_id"] for m in rows["messages"]] == [1, 2, 4, 6, 3]
    m1, m2, m4, m6, m3 = rows["messages"]
    assert (m1["direction"], m1["sender"], m1["sender_name"], m1["thread_id"], m1["thread_name"], m1["body"]) == (
        "incoming", str(IVAN), "Ivan Petrov", str(IVAN), "Ivan Petrov", "privet")
    assert m1["ts"] == "2023-11-14T22:13:20.000000Z" and m1["ts_raw"] == "1700000000"
    assert m1["ts_encoding"] == "unix_s" and m1["source_table"] == "t7"
    assert m1["source_row"] == pb.message_key(IVAN, 0, 1700000000, 1).hex()
    assert m1["extra"] == {"namespace": 0, "message_id": 1, "flags": 4, "tags": 0, "stable_id": 1001,
                           "media_count": 0, "attributes_count": 0}
    assert (m2["direction"], m2["sender"], m2["sender_name"], m2["recipients"], m2["body"]) == (
        "outgoing", str(ME), "Me", [str(IVAN)], "hello")
    assert (m3["thread_name"], m3["extra"]["media_count"]) == ("Night News", 1)
    assert m3["extra"]["forwarded_from"] == {"author_id": str(IVAN), "date": "2023-11-14T19:26:40.000000Z",
                                             "name": "Ivan Petrov"}
    assert m4["body"] is None and m4["direction"] is None and m4["extra"]["undecoded"].startswith("truncated")
    assert m4["ts"] == "2023-11-14T22:16:20.000000Z"  # the key alone still dates and places the message
    assert m6["body"] == "only in the WAL"

    me, ivan, news, broken = _by_id(rows["contacts"])
    assert me["name"] == "Me" and me["source_table"] == "t2" and me["source_row"] == str(ME)
    assert (ivan["name"], ivan["handles"], ivan["phones"]) == ("Ivan Petrov", ["ivan_p"], ["79001234567"])
    assert (news["name"], news["extra"]) == ("Night News", {"type_hash": CHANNEL_HASH})
    assert broken["name"] is None and "undecoded" in broken["extra"]


def _by_id(contacts):
    found = {int(c["user_id"]): c for c in contacts}
    return found[ME], found[IVAN], found[NEWS], found[5]


@pytest.mark.parametrize("plaintext_header", [True, False])
def test_sqlcipher_postbox_is_reported_encrypted(tmp_path, plaintext_header):
    sqlcipher3 = pytest.importorskip("sqlcipher3")
    path = tmp_path / "db_sqlite"
    db = sqlcipher3.connect(str(path))
    db.execute("PRAGMA key=\"x'" + "2f" * 32 + "'\"")
    if plaintext_header:  # as Telegram's SqliteValueBox opens it
        db.execute("PRAGMA cipher_plaintext_header_size=32")
        db.execute("PRAGMA cipher_salt=\"x'" + "a5" * 16 + "'\"")
    db.executescript(_rows())
    db.commit()
    db.close()
    assert path.read_bytes().startswith(b"SQLite format 3\x00") == plaintext_header
    outcomes, rows = parser_harness.run(tmp_path / "run", {POSTBOX: path}, NAMES)
    assert [(o.outcome, o.message) for o in outcomes] == [("encrypted", "encrypted: postbox database is encrypted")] * 2
    assert rows["messages"] == [] and rows["contacts"] == []


def test_compact_table_variant_and_store_without_messages(tmp_path):
    compact = make_db(tmp_path / "compact" / "db_sqlite", _rows(compact=True))
    outcomes, rows = parser_harness.run(tmp_path / "run1", {POSTBOX: compact}, ["telegram-ios-messages"])
    assert [(o.outcome, o.records) for o in outcomes] == [("parsed", 4)]
    empty = make_db(tmp_path / "empty" / "db_sqlite", "CREATE TABLE t0 (key INTEGER PRIMARY KEY, value BLOB);")
    outcomes, rows = parser_harness.run(tmp_path / "run2", {POSTBOX: empty}, NAMES)
    assert [(o.outcome, o.message) for o in outcomes] == [
        ("unsupported version", "unsupported version: postbox without table t7"),
        ("unsupported version", "unsupported version: postbox without table t2")]


def test_damaged_plaintext_postbox_is_recovered(tmp_path):
    many = "".join(f"INSERT INTO t7 VALUES (X'{pb.message_key(IVAN, 0, 1700000000 + i, 100 + i).hex()}', "
                   f"X'{pb.message('x' * 300, True, author=IVAN).hex()}');" for i in range(200))
    good = make_db(tmp_path / "good", _rows() + many)
    bad = damage(good, tmp_path / "bad", page=good.stat().st_size // 4096 // 2)
    outcomes, rows = parser_harness.run(tmp_path / "run", {POSTBOX: bad}, ["telegram-ios-messages"])
    (outcome,) = outcomes
    assert outcome.outcome == "parsed" and outcome.recovered and 150 < outcome.records < 204
    assert all(m["recovered"] for m in rows["messages"])


def test_decoder_refuses_hostile_values():
    with pytest.raises(ValueError, match="expected 20"):
        telegram_postbox.message_key(b"\x00" * 8)
    assert telegram_postbox.decode_message(pb.message("", True, entry_type=1)) is None
    with pytest.raises(ValueError, match="unknown entry type 7"):
        telegram_postbox.decode_message(pb.message("", True, entry_type=7))
    with pytest.raises(ValueError, match="unknown data flags"):
        telegram_postbox.decode_message(b"\x00" + b"\x00" * 8 + b"\x80")
    huge_count = pb.message("a", True)[:-4] + b"\xff\xff\xff\x7f"
    with pytest.raises(ValueError, match="exceeds the data"):
        telegram_postbox.decode_message(huge_count)
    with pytest.raises(ValueError, match="unknown value type"):
        telegram_postbox.decode_object(pb.field("x", 99, b""))
    nested = b""
    for _ in range(40):
        nested = pb.field("o", 5, pb.obj(1, nested))
    with pytest.raises(ValueError, match="too deeply"):
        telegram_postbox.decode_object(nested)
    assert telegram_postbox.decode_object(pb.root(7, pb.string("t", "ok"))) == {"t": "ok", "@type": 7}


def test_paths_match_device_vendor_and_backup_layouts():
    spec = next(s for s in load_parsers() if s.name == "telegram-ios-messages")
    for path in (POSTBOX, "filesystem1" + POSTBOX, backup_path("AppDomainGroup-group.ph.telegra.Telegraph", "telegram-data/account-123/postbox/db/db_sqlite")):
        assert spec.matches(path), path
    assert not spec.matches("/private/var/mobile/telegram-data/account-1/postbox/media/db_sqlite")
