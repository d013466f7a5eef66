"""Signal for Android: a real SQLCipher signal.db built at test time with Signal's schema and cipher settings.

The fixture is encrypted by SQLCipher itself with the settings of Signal's SqlCipherDatabaseHook; one test checks
the page-1 HMAC with hashlib alone, so the fixture is known to be in Signal's on-disk format and not only readable
by the same library that wrote it.
"""
import hashlib
import hmac
import json
import sqlite3
from pathlib import Path

import pytest
from sqlcipher3 import dbapi2 as sqlcipher

from tests import parser_harness
from tests.fixtures.sqlite_db import damage, make_db

DB_PATH = "/data/data/org.thoughtcrime.securesms/databases/signal.db"
PREFS_PATH = "/data/data/org.thoughtcrime.securesms/shared_prefs/org.thoughtcrime.securesms_preferences.xml"
SECRETS_PATH = "/extra/Secrets/secrets.json"
KEY = "4f1c9a2be87d3065c1d2e3f40516273849a0b1c2d3e4f5061728394a5b6c7d8e"
PARSERS = ["signal-android", "signal-android-key"]

# Signal-Android CREATE TABLE statements (RecipientTable, ThreadTable, MessageTable, AttachmentTable, GroupTable,
# GroupTable.MembershipTable, CallTable, SearchTable), column for column.
SCHEMA = """
CREATE TABLE recipient (_id INTEGER PRIMARY KEY AUTOINCREMENT, type INTEGER DEFAULT 0, e164 TEXT UNIQUE DEFAULT NULL,
  aci TEXT UNIQUE DEFAULT NULL, pni TEXT UNIQUE DEFAULT NULL CHECK (pni LIKE 'PNI:%'),
  username TEXT UNIQUE DEFAULT NULL, email TEXT UNIQUE DEFAULT NULL, group_id TEXT UNIQUE DEFAULT NULL,
  distribution_list_id INTEGER DEFAULT NULL, call_link_room_id TEXT DEFAULT NULL, registered INTEGER DEFAULT 0,
  unregistered_timestamp INTEGER DEFAULT 0, blocked INTEGER DEFAULT 0, hidden INTEGER DEFAULT 0,
  profile_key TEXT DEFAULT NULL, expiring_profile_key_credential TEXT DEFAULT NULL,
  profile_sharing INTEGER DEFAULT 0, profile_given_name TEXT DEFAULT NULL, profile_family_name TEXT DEFAULT NULL,
  profile_joined_name TEXT DEFAULT NULL, profile_avatar TEXT DEFAULT NULL, last_profile_fetch INTEGER DEFAULT 0,
  system_given_name TEXT DEFAULT NULL, system_family_name TEXT DEFAULT NULL, system_joined_name TEXT DEFAULT NULL,
  system_nickname TEXT DEFAULT NULL, system_photo_uri TEXT DEFAULT NULL, system_phone_label TEXT DEFAULT NULL,
  system_phone_type INTEGER DEFAULT -1, system_contact_uri TEXT DEFAULT NULL, system_info_pending INTEGER DEFAULT 0,
  notification_channel TEXT DEFAULT NULL, message_ringtone TEXT DEFAULT NULL, message_vibrate INTEGER DEFAULT 0,
  call_ringtone TEXT DEFAULT NULL, call_vibrate INTEGER DEFAULT 0, mute_until INTEGER DEFAULT 0,
  message_expiration_time INTEGER DEFAULT 0, sealed_sender_mode INTEGER DEFAULT 0,
  storage_service_id TEXT UNIQUE DEFAULT NULL, storage_service_proto TEXT DEFAULT NULL,
  mention_setting INTEGER DEFAULT 0, capabilities INTEGER DEFAULT 0, last_session_reset BLOB DEFAULT NULL,
  wallpaper BLOB DEFAULT NULL, wallpaper_uri TEXT DEFAULT NULL, about TEXT DEFAULT NULL,
  about_emoji TEXT DEFAULT NULL, extras BLOB DEFAULT NULL, groups_in_common INTEGER DEFAULT 0,
  avatar_color TEXT DEFAULT NULL, chat_colors BLOB DEFAULT NULL, custom_chat_colors_id INTEGER DEFAULT 0,
  badges BLOB DEFAULT NULL, needs_pni_signature INTEGER DEFAULT 0, reporting_token BLOB DEFAULT NULL,
  phone_number_sharing INTEGER DEFAULT 0, phone_number_discoverable INTEGER DEFAULT 0,
  pni_signature_verified INTEGER DEFAULT 0, nickname_given_name TEXT DEFAULT NULL,
  nickname_family_name TEXT DEFAULT NULL, nickname_joined_name TEXT DEFAULT NULL, note TEXT DEFAULT NULL,
  message_expiration_time_version INTEGER DEFAULT 1 NOT NULL, key_transparency_data BLOB DEFAULT NULL,
  call_notification_setting INTEGER DEFAULT 0, reply_notification_setting INTEGER DEFAULT 0);
CREATE TABLE thread (_id INTEGER PRIMARY KEY AUTOINCREMENT, date INTEGER DEFAULT 0,
  meaningful_messages INTEGER DEFAULT 0,
  recipient_id INTEGER NOT NULL UNIQUE REFERENCES recipient (_id) ON DELETE CASCADE, read INTEGER DEFAULT 1,
  type INTEGER DEFAULT 0, error INTEGER DEFAULT 0, snippet TEXT, snippet_type INTEGER DEFAULT 0,
  snippet_uri TEXT DEFAULT NULL, snippet_content_type TEXT DEFAULT NULL, snippet_extras TEXT DEFAULT NULL,
  unread_count INTEGER DEFAULT 0, archived INTEGER DEFAULT 0, status INTEGER DEFAULT 0,
  has_delivery_receipt INTEGER DEFAULT 0, has_read_receipt INTEGER DEFAULT 0, expires_in INTEGER DEFAULT 0,
  last_seen INTEGER DEFAULT 0, has_sent INTEGER DEFAULT 0, last_scrolled INTEGER DEFAULT 0,
  pinned INTEGER DEFAULT 0, unread_self_mention_count INTEGER DEFAULT 0, active INTEGER DEFAULT 0,
  snippet_message_extras BLOB DEFAULT NULL);
CREATE TABLE message (_id INTEGER PRIMARY KEY AUTOINCREMENT, date_sent INTEGER NOT NULL,
  date_received INTEGER NOT NULL, date_server INTEGER DEFAULT -1,
  thread_id INTEGER NOT NULL REFERENCES thread (_id) ON DELETE CASCADE,
  from_recipient_id INTEGER NOT NULL REFERENCES recipient (_id) ON DELETE CASCADE, from_device_id INTEGER,
  to_recipient_id INTEGER NOT NULL REFERENCES recipient (_id) ON DELETE CASCADE, type INTEGER NOT NULL,
  body TEXT, read INTEGER DEFAULT 0, ct_l TEXT, exp INTEGER, m_type INTEGER, m_size INTEGER, st INTEGER,
  tr_id TEXT, subscription_id INTEGER DEFAULT -1, receipt_timestamp INTEGER DEFAULT -1,
  has_delivery_receipt INTEGER DEFAULT 0, has_read_receipt INTEGER DEFAULT 0, viewed INTEGER DEFAULT 0,
  mismatched_identities TEXT DEFAULT NULL, network_failures TEXT DEFAULT NULL, expires_in INTEGER DEFAULT 0,
  expire_started INTEGER DEFAULT 0, notified INTEGER DEFAULT 0, quote_id INTEGER DEFAULT 0,
  quote_author INTEGER DEFAULT 0, quote_body TEXT DEFAULT NULL, quote_missing INTEGER DEFAULT 0,
  quote_mentions BLOB DEFAULT NULL, quote_type INTEGER DEFAULT 0, shared_contacts TEXT DEFAULT NULL,
  unidentified INTEGER DEFAULT 0, link_previews TEXT DEFAULT NULL, view_once INTEGER DEFAULT 0,
  reactions_unread INTEGER DEFAULT 0, reactions_last_seen INTEGER DEFAULT -1, remote_deleted INTEGER DEFAULT 0,
  mentions_self INTEGER DEFAULT 0, notified_timestamp INTEGER DEFAULT 0, server_guid TEXT DEFAULT NULL,
  message_ranges BLOB DEFAULT NULL, story_type INTEGER DEFAULT 0, parent_story_id INTEGER DEFAULT 0,
  export_state BLOB DEFAULT NULL, exported INTEGER DEFAULT 0, scheduled_date INTEGER DEFAULT -1,
  latest_revision_id INTEGER DEFAULT NULL REFERENCES message (_id) ON DELETE CASCADE,
  original_message_id INTEGER DEFAULT NULL REFERENCES message (_id) ON DELETE CASCADE,
  revision_number INTEGER DEFAULT 0, message_extras BLOB DEFAULT NULL,
  expire_timer_version INTEGER DEFAULT 1 NOT NULL);
CREATE INDEX message_thread_count_index ON message (thread_id) WHERE story_type = 0 AND parent_story_id <= 0
  AND scheduled_date = -1 AND latest_revision_id IS NULL;
CREATE TABLE attachment (_id INTEGER PRIMARY KEY AUTOINCREMENT, message_id INTEGER, content_type TEXT,
  remote_key TEXT, remote_location TEXT, remote_digest BLOB, remote_incremental_digest BLOB,
  remote_incremental_digest_chunk_size INTEGER DEFAULT 0, cdn_number INTEGER DEFAULT 0, transfer_state INTEGER,
  transfer_file TEXT DEFAULT NULL, data_file TEXT, data_size INTEGER, data_random BLOB, file_name TEXT,
  fast_preflight_id TEXT, voice_note INTEGER DEFAULT 0, borderless INTEGER DEFAULT 0, video_gif INTEGER DEFAULT 0,
  quote INTEGER DEFAULT 0, width INTEGER DEFAULT 0, height INTEGER DEFAULT 0, caption TEXT DEFAULT NULL,
  sticker_pack_id TEXT DEFAULT NULL, sticker_pack_key DEFAULT NULL, sticker_id INTEGER DEFAULT -1,
  sticker_emoji STRING DEFAULT NULL, blur_hash TEXT DEFAULT NULL, transform_properties TEXT DEFAULT NULL,
  display_order INTEGER DEFAULT 0, upload_timestamp INTEGER DEFAULT 0, data_hash_start TEXT DEFAULT NULL,
  data_hash_end TEXT DEFAULT NULL, archive_cdn INTEGER DEFAULT NULL, archive_transfer_state INTEGER DEFAULT 0,
  thumbnail_file TEXT DEFAULT NULL, thumbnail_random BLOB DEFAULT NULL, thumbnail_restore_state INTEGER DEFAULT 0,
  attachment_uuid TEXT DEFAULT NULL, offload_restored_at INTEGER DEFAULT 0,
  quote_target_content_type TEXT DEFAULT NULL, archive_thumbnail_transfer_state INTEGER DEFAULT 0);
CREATE TABLE groups (_id INTEGER PRIMARY KEY, group_id TEXT, recipient_id INTEGER, title TEXT, avatar_id INTEGER,
  avatar_key BLOB, avatar_content_type TEXT, avatar_relay TEXT, timestamp INTEGER, active INTEGER DEFAULT 1,
  avatar_digest BLOB, mms INTEGER DEFAULT 0, master_key BLOB, revision BLOB, decrypted_group BLOB,
  expected_v2_id TEXT DEFAULT NULL, former_v1_members TEXT DEFAULT NULL, distribution_id TEXT DEFAULT NULL,
  display_as_story INTEGER DEFAULT 0, auth_service_id TEXT DEFAULT NULL,
  last_force_update_timestamp INTEGER DEFAULT 0);
CREATE TABLE group_membership (_id INTEGER PRIMARY KEY, group_id TEXT NOT NULL,
  recipient_id INTEGER NOT NULL REFERENCES recipient (_id) ON DELETE CASCADE, UNIQUE(group_id, recipient_id));
CREATE TABLE call (_id INTEGER PRIMARY KEY, call_id INTEGER NOT NULL,
  message_id INTEGER DEFAULT NULL REFERENCES message (_id) ON DELETE SET NULL,
  peer INTEGER NOT NULL REFERENCES recipient (_id) ON DELETE CASCADE, type INTEGER NOT NULL,
  direction INTEGER NOT NULL, event INTEGER NOT NULL, timestamp INTEGER NOT NULL, ringer INTEGER DEFAULT NULL,
  deletion_timestamp INTEGER DEFAULT 0, read INTEGER DEFAULT 1, local_joined INTEGER DEFAULT 0,
  group_call_active INTEGER DEFAULT 0, UNIQUE (call_id, peer) ON CONFLICT FAIL);
CREATE VIRTUAL TABLE message_fts USING fts5(body, thread_id UNINDEXED, content=message, content_rowid=_id);
CREATE TRIGGER message_ai AFTER INSERT ON message BEGIN
  INSERT INTO message_fts(rowid, body, thread_id) VALUES (new._id, new.body, new.thread_id); END;
"""

SECURE_PUSH = 0x800000 | 0x200000  # MessageTypes SECURE_MESSAGE_BIT | PUSH_MESSAGE_BIT
INBOX, SENT = 20 | SECURE_PUSH, 23 | SECURE_PUSH
GROUP_V2_UPDATE = INBOX | 0x10000 | 0x80000
GROUP_ID = "__signal_group__v2__!0011223344556677"

ROWS = f"""
INSERT INTO recipient (_id, e164, aci, profile_joined_name, registered) VALUES
  (1, '+15550000001', 'a1111111-1111-4111-8111-111111111111', 'Device Owner', 1);
INSERT INTO recipient (_id, e164, aci, pni, username, system_joined_name, profile_joined_name, about,
  last_profile_fetch, registered) VALUES (2, '+15550000002', 'a2222222-2222-4222-8222-222222222222',
  'PNI:b2222222-2222-4222-8222-222222222222', 'alice.01', 'Alice Contact', 'Alice P', 'night owl',
  1700000000000, 1);
INSERT INTO recipient (_id, aci, profile_joined_name, blocked, registered) VALUES
  (3, 'a3333333-3333-4333-8333-333333333333', 'Bob Pseudonym', 1, 1);
INSERT INTO recipient (_id, type, group_id) VALUES (4, 3, '{GROUP_ID}');
INSERT INTO thread (_id, recipient_id, date) VALUES (1, 2, 1700000300000), (2, 4, 1700000500000);
INSERT INTO groups (_id, group_id, recipient_id, title, timestamp, active, master_key)
  VALUES (1, '{GROUP_ID}', 4, 'Night shift', 1700000100000, 1, X'00');
INSERT INTO group_membership (_id, group_id, recipient_id) VALUES (1, '{GROUP_ID}', 1), (2, '{GROUP_ID}', 2),
  (3, '{GROUP_ID}', 3);
INSERT INTO message (_id, date_sent, date_received, date_server, thread_id, from_recipient_id, to_recipient_id,
  type, body, read) VALUES (1, 1700000200123, 1700000201456, 1700000200500, 1, 2, 1, {INBOX}, 'meet at 9', 1);
INSERT INTO message (_id, date_sent, date_received, thread_id, from_recipient_id, to_recipient_id, type, body,
  expires_in, quote_id, quote_author, quote_body)
  VALUES (2, 1700000300000, 1700000300000, 1, 1, 2, {SENT}, 'ok', 86400000, 1700000200123, 2, 'meet at 9');
INSERT INTO message (_id, date_sent, date_received, thread_id, from_recipient_id, to_recipient_id, type, body)
  VALUES (3, 1700000400000, 1700000400999, 2, 3, 4, {INBOX}, 'group hello'),
         (4, 1700000500000, 1700000500000, 2, 1, 4, {SENT}, NULL),
         (5, 1700000600000, 1700000600000, 1, 1, 2, 2, NULL),
         (6, 1700000700000, 1700000700000, 2, 3, 4, {GROUP_V2_UPDATE}, NULL);
INSERT INTO attachment (_id, message_id, content_type, transfer_state, data_file, data_size, data_random, width,
  height) VALUES (1, 4, 'image/jpeg', 0,
  '/data/user/0/org.thoughtcrime.securesms/app_parts/part8810.mms', 2048, X'0102', 640, 480);
INSERT INTO call (_id, call_id, message_id, peer, type, direction, event, timestamp)
  VALUES (1, 111, 5, 2, 0, 1, 1, 1700000600000), (2, 222, NULL, 4, 3, 0, 3, 1700000800000);
"""
WAL_ROW = f"""INSERT INTO message (_id, date_sent, date_received, thread_id, from_recipient_id, to_recipient_id,
  type, body) VALUES (7, 1700000900000, 1700000900500, 1, 2, 1, {INBOX}, 'only in the WAL');"""


def make_signal_db(path: Path, sql: str, key: str = KEY, wal_sql: str | None = None) -> Path:
    """A SQLCipher database keyed as Signal keys it (SqlCipherDatabaseHook), optionally with WAL-only rows."""
    def connect(name: str):
        conn = sqlcipher.connect(name)
        conn.execute(f"PRAGMA key = '{key}'")
        for pragma in ("PRAGMA cipher_compatibility = 3", "PRAGMA kdf_iter = 1", "PRAGMA cipher_page_size = 4096"):
            conn.execute(pragma)
        return conn

    return make_db(path, sql, wal_sql=wal_sql, connect=connect)


def secrets_json(key: str = KEY) -> bytes:
    return json.dumps([{"app": "com.other.app", "script_output": [{"payload": {"sqlite db key": "00" * 32}}]},
                       {"app": "org.thoughtcrime.securesms", "script_output": [{"payload": {
                           "sqlite db key": key, "signal attachment key": {"modernKey": "AAAA"}}}]}]).encode()


def prefs_xml(**strings: str) -> bytes:
    items = "".join(f'    <string name="{k}">{v}</string>\n' for k, v in strings.items())
    return f"<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n{items}</map>\n".encode()


@pytest.fixture(scope="module")
def signal_db(tmp_path_factory) -> Path:
    return make_signal_db(tmp_path_factory.mktemp("signal") / "signal.db", SCHEMA + ROWS, wal_sql=WAL_ROW)


def outcome_of(outcomes, name="signal-android"):
    (outcome,) = [o for o in outcomes if o.spec.name == name]
    return outcome


def test_fixture_is_in_signals_sqlcipher_format(signal_db):
    """Page 1's HMAC checks out with Signal's parameters computed by hashlib alone: PBKDF2-HMAC-SHA1 of the hex
    passphrase with 1 iteration, HMAC key from 2 iterations over the salt XOR 0x3a, 4096-byte pages whose last 48
    bytes are IV (16) + HMAC-SHA1 (20) + padding."""
    page = signal_db.read_bytes()[:4096]
    assert not page.startswith(b"SQLite format 3")
    salt = page[:16]
    key = hashlib.pbkdf2_hmac("sha1", KEY.encode(), salt, 1, 32)
    mac_key = hashlib.pbkdf2_hmac("sha1", key, bytes(b ^ 0x3A for b in salt), 2, 32)
    end = 4096 - 48
    expected = hmac.new(mac_key, page[16:end + 16] + (1).to_bytes(4, "little"), hashlib.sha1).digest()
    assert page[end + 16:end + 36] == expected


def test_key_from_secrets_json_gives_exact_records(tmp_path, signal_db):
    files = {DB_PATH: signal_db, DB_PATH + "-wal": Path(str(signal_db) + "-wal"), SECRETS_PATH: secrets_json()}
    outcomes, rows = parser_harness.run(tmp_path, files, PARSERS)
    main = outcome_of(outcomes)
    assert (main.outcome, main.records, main.message) == ("parsed", 12, "key from /extra/Secrets/secrets.json")
    assert KEY not in main.message
    assert outcome_of(outcomes, "signal-android-key").outcome == "no data"
    assert not list((tmp_path / "spool").rglob(".signal-*"))  # the plaintext scratch copies are gone

    contacts = rows["contacts"]
    assert [c["name"] for c in contacts] == ["Device Owner", "Alice Contact", "Bob Pseudonym", "Night shift"]
    alice = contacts[1]
    assert alice["phones"] == ["+15550000002"] and alice["user_id"] == "a2222222-2222-4222-8222-222222222222"
    assert alice["handles"] == ["alice.01", "a2222222-2222-4222-8222-222222222222"]
    assert alice["extra"]["profile_name"] == "Alice P" and alice["extra"]["about"] == "night owl"
    assert alice["extra"]["last_profile_fetch"] == "2023-11-14T22:13:20.000000Z"
    assert (alice["source_table"], alice["source_row"]) == ("recipient", "2")
    assert contacts[2]["phones"] == [] and contacts[2]["extra"]["blocked"] == 1
    group = contacts[3]
    assert group["user_id"] == GROUP_ID and group["source_table"] == "groups"
    assert group["extra"]["members"] == ["+15550000001", "+15550000002", "a3333333-3333-4333-8333-333333333333"]
    assert group["ts"] == "2023-11-14T22:15:00.000000Z"

    messages = rows["messages"]
    assert [m["source_row"] for m in messages] == ["1", "2", "3", "4", "6", "7"]  # 5 is a call event
    first = messages[0]
    assert first["ts"] == "2023-11-14T22:16:40.123000Z" and first["ts_raw"] == "1700000200123"
    assert first["received_ts"] == "2023-11-14T22:16:41.456000Z"
    assert (first["direction"], first["status"], first["sender"], first["sender_name"]) == \
        ("incoming", "received", "+15550000002", "Alice Contact")
    assert first["recipients"] == ["+15550000001"] and first["thread_name"] == "Alice Contact"
    assert first["extra"]["date_server"] == "2023-11-14T22:16:40.500000Z"
    reply = messages[1]
    assert (reply["direction"], reply["status"], reply["recipients"]) == ("outgoing", "sent", ["+15550000002"])
    assert reply["received_ts"] is None and reply["extra"]["expires_in_s"] == 86400
    assert reply["extra"]["quote"] == {"sent": "2023-11-14T22:16:40.123000Z", "body": "meet at 9",
                                       "author": "+15550000002"}
    in_group = messages[2]
    assert in_group["sender"] == "a3333333-3333-4333-8333-333333333333" and in_group["recipients"] == [GROUP_ID]
    assert in_group["thread_name"] == "Night shift" and in_group["sender_name"] == "Bob Pseudonym"
    photo = messages[3]
    assert photo["body"] is None and photo["attachments"] == [
        {"mime_type": "image/jpeg", "path": "/data/user/0/org.thoughtcrime.securesms/app_parts/part8810.mms",
         "size": 2048, "voice_note": False, "source_table": "attachment", "source_row": 1}]
    assert messages[4]["message_type"] == "group update"
    assert [m["from_wal"] for m in messages] == [False] * 5 + [True]
    assert messages[5]["body"] == "only in the WAL"

    calls = rows["calls"]
    assert [(c["direction"], c["call_type"], c["answered"], c["status"], c["peers"]) for c in calls] == [
        ("outgoing", "audio", True, "accepted", ["+15550000002"]),
        ("incoming", None, False, "missed", [GROUP_ID])]
    assert calls[0]["ts"] == "2023-11-14T22:23:20.000000Z" and calls[1]["peer_name"] == "Night shift"
    assert calls[1]["extra"]["kind"] == "group" and calls[0]["source_table"] == "call"

    # the same database without its -wal: the WAL-only message is absent, nothing is marked
    outcomes, rows = parser_harness.run(tmp_path / "b", {DB_PATH: signal_db, SECRETS_PATH: secrets_json()}, PARSERS)
    assert outcome_of(outcomes).records == 11
    assert not any(m["from_wal"] for m in rows["messages"])


def test_plain_secret_in_shared_preferences_opens_the_database(tmp_path, signal_db):
    prefs = prefs_xml(pref_database_unencrypted_secret=KEY, pref_theme="dark")
    outcomes, rows = parser_harness.run(tmp_path, {DB_PATH: signal_db, PREFS_PATH: prefs}, PARSERS)
    assert outcome_of(outcomes).outcome == "parsed" and len(rows["messages"]) == 5


def test_without_a_key_the_outcome_is_encrypted(tmp_path, signal_db):
    outcomes, rows = parser_harness.run(tmp_path, {DB_PATH: signal_db}, PARSERS)
    main = outcome_of(outcomes)
    assert (main.outcome, main.message) == ("encrypted", "encrypted: key not found")
    assert rows["messages"] == [] and rows["contacts"] == []


def test_keystore_sealed_secret_is_reported_as_not_usable(tmp_path, signal_db):
    sealed = json.dumps({"iv": "cmFuZG9taXZ4eHh4", "data": "c2VhbGVkYnl0aGVrZXlzdG9yZQ"})
    prefs = prefs_xml(pref_database_encrypted_secret=sealed.replace('"', "&quot;"))
    outcomes, _ = parser_harness.run(tmp_path, {DB_PATH: signal_db, PREFS_PATH: prefs}, PARSERS)
    main = outcome_of(outcomes)
    assert main.outcome == "encrypted"
    assert main.message.startswith("encrypted: key not found: only pref_database_encrypted_secret is present")


def test_wrong_or_malformed_key(tmp_path, signal_db):
    outcomes, _ = parser_harness.run(tmp_path / "a", {DB_PATH: signal_db, SECRETS_PATH: secrets_json("ab" * 32)},
                                     PARSERS)
    main = outcome_of(outcomes)
    assert main.outcome == "encrypted" and "the key found does not open this database" in main.message
    outcomes, _ = parser_harness.run(tmp_path / "b", {DB_PATH: signal_db,
                                                      SECRETS_PATH: secrets_json("x'; ATTACH 'evil' AS e; --")},
                                     PARSERS)
    assert outcome_of(outcomes).message == "encrypted: key in /extra/Secrets/secrets.json is not a hex database secret"


def test_unreadable_key_files_are_named_in_the_outcome(tmp_path, signal_db):
    files = {DB_PATH: signal_db, SECRETS_PATH: b"{not json", PREFS_PATH: b"<map><string name="}
    outcomes, _ = parser_harness.run(tmp_path, files, PARSERS)
    message = outcome_of(outcomes).message
    assert message.startswith("encrypted: key not found: /extra/Secrets/secrets.json is not JSON (")
    assert f"; {PREFS_PATH} is unreadable (not well-formed XML" in message


def test_garbage_and_foreign_plaintext_files(tmp_path):
    garbage = b"\x8b" * 9000
    outcomes, _ = parser_harness.run(tmp_path / "a", {DB_PATH: garbage}, PARSERS)
    assert outcome_of(outcomes).message == "encrypted: key not found"
    outcomes, _ = parser_harness.run(tmp_path / "b", {DB_PATH: garbage, SECRETS_PATH: secrets_json()}, PARSERS)
    assert outcome_of(outcomes).outcome == "encrypted"
    assert "does not open" in outcome_of(outcomes).message

    foreign = tmp_path / "foreign.db"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE notes (_id INTEGER PRIMARY KEY, text TEXT)")
    db.commit()
    db.close()
    outcomes, _ = parser_harness.run(tmp_path / "c", {DB_PATH: foreign}, PARSERS)
    main = outcome_of(outcomes)
    assert main.outcome == "unsupported version" and "no Signal message and recipient tables" in main.message


def test_already_decrypted_database_is_read_as_is(tmp_path):
    plain = tmp_path / "plain" / "signal.db"
    plain.parent.mkdir()
    db = sqlite3.connect(plain)
    db.executescript(SCHEMA + ROWS)
    db.commit()
    db.close()
    outcomes, rows = parser_harness.run(tmp_path / "run", {DB_PATH: plain}, PARSERS)
    assert outcome_of(outcomes).records == 11
    assert rows["messages"][0]["body"] == "meet at 9"


def test_damaged_encrypted_database_is_an_error_naming_the_pages(tmp_path):
    many = "".join(f"INSERT INTO message (_id, date_sent, date_received, thread_id, from_recipient_id, "
                   f"to_recipient_id, type, body) VALUES ({i}, {1700000000000 + i}, {1700000000000 + i}, 1, 2, 1, "
                   f"{INBOX}, '{'x' * 300} {i}');" for i in range(10, 210))
    good = make_signal_db(tmp_path / "good" / "signal.db", SCHEMA + ROWS + many)
    pages = good.stat().st_size // 4096
    bad = damage(good, tmp_path / "bad.db", page=pages - 3)
    outcomes, rows = parser_harness.run(tmp_path / "run", {DB_PATH: bad, SECRETS_PATH: secrets_json()}, PARSERS)
    main = outcome_of(outcomes)
    assert main.outcome == "error"
    assert main.message == (f"error: DamagedEncryptedDatabase: database disk image is malformed; HMAC verification "
                            f"failed for 1 page(s): {pages - 3}; SQLCipher will not decrypt those pages")
    assert rows["messages"] == []


LEGACY_SCHEMA = """
CREATE TABLE recipient (_id INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT UNIQUE DEFAULT NULL,
  username TEXT UNIQUE DEFAULT NULL, phone TEXT UNIQUE DEFAULT NULL, email TEXT UNIQUE DEFAULT NULL,
  group_id TEXT UNIQUE DEFAULT NULL, group_type INTEGER DEFAULT 0, blocked INTEGER DEFAULT 0,
  system_display_name TEXT DEFAULT NULL, signal_profile_name TEXT DEFAULT NULL, registered INTEGER DEFAULT 0);
CREATE TABLE thread (_id INTEGER PRIMARY KEY AUTOINCREMENT, date INTEGER DEFAULT 0, message_count INTEGER DEFAULT 0,
  thread_recipient_id INTEGER, snippet TEXT, read INTEGER DEFAULT 1, type INTEGER DEFAULT 0);
CREATE TABLE sms (_id integer PRIMARY KEY, thread_id INTEGER, address INTEGER, address_device_id INTEGER DEFAULT 1,
  person INTEGER, date INTEGER, date_sent INTEGER, date_server INTEGER DEFAULT -1, protocol INTEGER,
  read INTEGER DEFAULT 0, status INTEGER DEFAULT -1, type INTEGER, reply_path_present INTEGER,
  delivery_receipt_count INTEGER DEFAULT 0, subject TEXT, body TEXT, mismatched_identities TEXT DEFAULT NULL,
  service_center TEXT, subscription_id INTEGER DEFAULT -1, expires_in INTEGER DEFAULT 0,
  expire_started INTEGER DEFAULT 0, notified DEFAULT 0, read_receipt_count INTEGER DEFAULT 0,
  unidentified INTEGER DEFAULT 0, remote_deleted INTEGER DEFAULT 0);
CREATE TABLE mms (_id INTEGER PRIMARY KEY, thread_id INTEGER, date INTEGER, date_received INTEGER,
  date_server INTEGER DEFAULT -1, msg_box INTEGER, read INTEGER DEFAULT 0, body TEXT, part_count INTEGER,
  ct_l TEXT, address INTEGER, address_device_id INTEGER, exp INTEGER, m_type INTEGER, m_size INTEGER, st INTEGER,
  tr_id TEXT, delivery_receipt_count INTEGER DEFAULT 0, mismatched_identities TEXT DEFAULT NULL,
  network_failures TEXT DEFAULT NULL, subscription_id INTEGER DEFAULT -1, expires_in INTEGER DEFAULT 0,
  expire_started INTEGER DEFAULT 0, notified INTEGER DEFAULT 0, read_receipt_count INTEGER DEFAULT 0,
  quote_id INTEGER DEFAULT 0, quote_author TEXT, quote_body TEXT, quote_attachment INTEGER DEFAULT -1,
  quote_missing INTEGER DEFAULT 0, shared_contacts TEXT, unidentified INTEGER DEFAULT 0, previews TEXT,
  reveal_duration INTEGER DEFAULT 0, remote_deleted INTEGER DEFAULT 0);
CREATE TABLE part (_id INTEGER PRIMARY KEY, mid INTEGER, seq INTEGER DEFAULT 0, ct TEXT, name TEXT,
  chset INTEGER, cd TEXT, fn TEXT, cid TEXT, cl TEXT, ctt_s INTEGER, ctt_t TEXT, encrypted INTEGER,
  pending_push INTEGER, _data TEXT, data_size INTEGER, file_name TEXT, thumbnail TEXT, aspect_ratio REAL,
  unique_id INTEGER NOT NULL, digest BLOB, fast_preflight_id TEXT, voice_note INTEGER DEFAULT 0,
  data_random BLOB, thumbnail_random BLOB, quote INTEGER DEFAULT 0, width INTEGER DEFAULT 0,
  height INTEGER DEFAULT 0, caption TEXT DEFAULT NULL);
CREATE TABLE groups (_id INTEGER PRIMARY KEY, group_id TEXT, recipient_id INTEGER, title TEXT, members TEXT,
  avatar BLOB, avatar_id INTEGER, timestamp INTEGER, active INTEGER DEFAULT 1, mms INTEGER DEFAULT 0);
"""
LEGACY_ROWS = f"""
INSERT INTO recipient (_id, phone, system_display_name) VALUES (1, '+15550000001', NULL), (2, '+15550000002', 'Al');
INSERT INTO recipient (_id, group_id) VALUES (3, '__textsecure_group__!abcd');
INSERT INTO thread (_id, thread_recipient_id) VALUES (1, 2), (2, 3);
INSERT INTO groups (_id, group_id, recipient_id, title, members, timestamp)
  VALUES (1, '__textsecure_group__!abcd', 3, 'Old crew', '1,2', 1600000000000);
INSERT INTO sms (_id, thread_id, address, date, date_sent, type, body)
  VALUES (1, 1, 2, 1600000001500, 1600000001000, {INBOX}, 'legacy in'),
         (2, 1, 2, 1600000002000, 1600000002000, 10, NULL);
INSERT INTO mms (_id, thread_id, date, date_received, msg_box, body, address, part_count)
  VALUES (1, 2, 1600000003000, 1600000003000, {SENT}, 'to the crew', 3, 1);
INSERT INTO part (_id, mid, ct, _data, data_size, file_name, unique_id)
  VALUES (1, 1, 'video/mp4', '/data/user/0/org.thoughtcrime.securesms/app_parts/part1.mms', 9, 'clip.mp4', 5);
"""


def test_legacy_sms_mms_schema(tmp_path):
    db = make_signal_db(tmp_path / "old" / "signal.db", LEGACY_SCHEMA + LEGACY_ROWS)
    prefs = prefs_xml(pref_database_unencrypted_secret=KEY)
    outcomes, rows = parser_harness.run(tmp_path / "run", {DB_PATH: db, PREFS_PATH: prefs}, PARSERS)
    assert outcome_of(outcomes).records == 6
    assert [c["name"] for c in rows["contacts"]] == [None, "Al", "Old crew"]
    assert rows["contacts"][2]["extra"]["members"] == ["+15550000001", "+15550000002"]
    sms, mms = rows["messages"]
    assert (sms["source_table"], sms["direction"], sms["sender"], sms["recipients"]) == \
        ("sms", "incoming", "+15550000002", [])
    assert sms["ts"] == "2020-09-13T12:26:41.000000Z" and sms["received_ts"] == "2020-09-13T12:26:41.500000Z"
    assert (mms["source_table"], mms["direction"], mms["recipients"], mms["thread_name"]) == \
        ("mms", "outgoing", ["__textsecure_group__!abcd"], "Old crew")
    assert mms["attachments"][0]["name"] == "clip.mp4" and mms["attachments"][0]["source_table"] == "part"
    (call,) = rows["calls"]  # no call table in this release: the call event row of sms is the call
    assert (call["direction"], call["call_type"], call["answered"], call["peers"], call["source_table"]) == \
        ("incoming", "video", True, ["+15550000002"], "sms")
