"""Signal for iOS: an SQLCipher signal.sqlite made with sqlcipher3 the way Signal's GRDB store is keyed, and a
plaintext copy built with the app's table layout."""
import pytest

from forensics.backups import backup_path
from parsers.framework import load_parsers
from tests import parser_harness
from tests.fixtures.sqlite_db import damage, make_db

SIGNAL = "/private/var/mobile/Containers/Shared/AppGroup/2C3D4E5F-0000-4000-8000-000000000011/grdb/signal.sqlite"
SCHEMA = """
    CREATE TABLE model_TSThread (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, recordType INTEGER NOT NULL,
        uniqueId TEXT NOT NULL UNIQUE, conversationColorName TEXT, creationDate DOUBLE, isArchived INTEGER,
        lastInteractionRowId INTEGER, messageDraft TEXT, mutedUntilDate DOUBLE, shouldThreadBeVisible INTEGER,
        contactPhoneNumber TEXT, contactUUID TEXT, groupModel BLOB, hasDismissedOffers INTEGER,
        isMarkedUnread INTEGER, mutedUntilTimestamp INTEGER);
    CREATE TABLE model_TSInteraction (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, recordType INTEGER NOT NULL,
        uniqueId TEXT NOT NULL UNIQUE, receivedAtTimestamp INTEGER NOT NULL, timestamp INTEGER NOT NULL,
        uniqueThreadId TEXT NOT NULL, attachmentIds BLOB, authorId TEXT, authorPhoneNumber TEXT, authorUUID TEXT,
        body TEXT, expiresInSeconds INTEGER, isViewOnceMessage INTEGER, read INTEGER, serverTimestamp INTEGER,
        wasRemotelyDeleted INTEGER);
    INSERT INTO model_TSThread (recordType, uniqueId, contactPhoneNumber, contactUUID)
        VALUES (72, 'thread-1', '+15550001111', 'uuid-peer');
    INSERT INTO model_TSInteraction (recordType, uniqueId, receivedAtTimestamp, timestamp, uniqueThreadId,
                                     authorPhoneNumber, authorUUID, body, read, wasRemotelyDeleted) VALUES
        (19, 'i1', 1700000000500, 1700000000123, 'thread-1', '+15550001111', 'uuid-peer', 'be there at 8', 1, 0),
        (21, 'i2', 1700000060000, 1700000060000, 'thread-1', NULL, NULL, 'ok', NULL, 0),
        (19, 'i3', 1700000120000, 1700000120000, 'thread-1', NULL, 'uuid-peer', NULL, 0, 1),
        (38, 'i4', 1700000180000, 1700000180000, 'thread-1', NULL, NULL, NULL, NULL, 0);
"""


@pytest.mark.parametrize("plaintext_header", [True, False])
def test_encrypted_store_is_reported_without_key(tmp_path, plaintext_header):
    sqlcipher3 = pytest.importorskip("sqlcipher3")
    path = tmp_path / "signal.sqlite"
    db = sqlcipher3.connect(str(path))
    db.execute("PRAGMA key=\"x'" + "3c" * 32 + "'\"")
    if plaintext_header:
        db.execute("PRAGMA cipher_plaintext_header_size=32")
        db.execute("PRAGMA cipher_salt=\"x'" + "5a" * 16 + "'\"")
    db.executescript(SCHEMA)
    db.commit()
    db.close()
    outcomes, rows = parser_harness.run(tmp_path / "run", {SIGNAL: path}, ["signal-ios-messages"])
    assert [(o.outcome, o.message, o.records) for o in outcomes] == [("encrypted", "encrypted: key not found", 0)]
    assert rows["messages"] == []


def test_plaintext_copy_is_read(tmp_path):
    db = make_db(tmp_path / "src" / "signal.sqlite", SCHEMA)
    outcomes, rows = parser_harness.run(tmp_path / "run", {SIGNAL: db}, ["signal-ios-messages"])
    assert [(o.outcome, o.records) for o in outcomes] == [("parsed", 4)]
    incoming, outgoing, deleted, other = rows["messages"]
    assert (incoming["direction"], incoming["sender"], incoming["body"], incoming["thread_id"]) == (
        "incoming", "+15550001111", "be there at 8", "thread-1")
    assert incoming["ts"] == "2023-11-14T22:13:20.123000Z" and incoming["received_ts"] == "2023-11-14T22:13:20.500000Z"
    assert (incoming["source_table"], incoming["source_row"]) == ("model_TSInteraction", "1")
    assert (outgoing["direction"], outgoing["sender"], outgoing["recipients"]) == ("outgoing", None, ["+15550001111"])
    assert deleted["deleted"] and deleted["sender"] == "uuid-peer"
    assert (other["direction"], other["message_type"]) == (None, "record type 38")


def test_plaintext_store_of_another_layout_and_damaged_copy(tmp_path):
    other = make_db(tmp_path / "other.sqlite", "CREATE TABLE keyvalue (collection TEXT, key TEXT, value BLOB);")
    outcomes, _ = parser_harness.run(tmp_path / "run1", {SIGNAL: other}, ["signal-ios-messages"])
    assert [o.outcome for o in outcomes] == ["unsupported version"]
    many = "".join(f"INSERT INTO model_TSInteraction (recordType, uniqueId, receivedAtTimestamp, timestamp, "
                   f"uniqueThreadId, body) VALUES (19, 'm{i}', 0, {1700000000000 + i}, 'thread-1', '{'x' * 300}');"
                   for i in range(200))
    good = make_db(tmp_path / "good.sqlite", SCHEMA + many)
    bad = damage(good, tmp_path / "bad.sqlite", page=good.stat().st_size // 4096 // 2)
    outcomes, rows = parser_harness.run(tmp_path / "run2", {SIGNAL: bad}, ["signal-ios-messages"])
    (outcome,) = outcomes
    assert outcome.outcome == "parsed" and outcome.recovered and 150 < outcome.records <= 204


def test_paths_match_device_vendor_and_backup_layouts():
    spec = next(s for s in load_parsers() if s.name == "signal-ios-messages")
    for path in (SIGNAL, "filesystem1" + SIGNAL, backup_path("AppDomainGroup-group.org.whispersystems.signal.group", "grdb/signal.sqlite")):
        assert spec.matches(path), path
    assert not spec.matches("/private/var/mobile/Containers/Data/Application/X/grdb/signal.sqlite")
