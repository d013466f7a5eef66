"""WhatsApp for Android: msgstore.db (current and legacy schema) and wa.db, built with the app's own schema."""
import re

import pytest

from tests import parser_harness
from tests.fixtures.sqlite_db import damage, make_db
from tests.fixtures.whatsapp_android import (
    LEGACY_MESSAGES_TABLE, MSGSTORE_LEGACY_SCHEMA, MSGSTORE_SCHEMA, WA_SCHEMA, expected_counts, generate_msgstore,
    generate_wa_db,
)

DIR = "/data/data/com.whatsapp/databases/"
ALICE, BOB, CAROL = "15551230001@s.whatsapp.net", "15551230002@s.whatsapp.net", "15551230003@s.whatsapp.net"
CAROL_LID, GROUP = "98765432101234@lid", "120363025246125486@g.us"

CURRENT_ROWS = f"""
    INSERT INTO jid (_id, user, server, agent, device, type, raw_string) VALUES
        (1, '15551230001', 's.whatsapp.net', 0, 0, 0, '{ALICE}'),
        (2, '15551230002', 's.whatsapp.net', 0, 0, 0, '{BOB}'),
        (3, '120363025246125486', 'g.us', 0, 0, 1, '{GROUP}'), (4, '98765432101234', 'lid', 0, 0, 0, '{CAROL_LID}'),
        (5, '15551230003', 's.whatsapp.net', 0, 0, 0, '{CAROL}');
    INSERT INTO jid_map VALUES (4, 5, 1);
    INSERT INTO chat (_id, jid_row_id, hidden, subject, created_timestamp, sort_timestamp) VALUES
        (1, 1, 0, NULL, 1599990000000, 1600000000123), (2, 3, 0, 'Trip planning', 1599990000000, 1600000200000);
    INSERT INTO group_participant_user (group_jid_row_id, user_jid_row_id, rank, pending) VALUES
        (3, 2, 0, 0), (3, 4, 2, 0);
    INSERT INTO message (_id, chat_row_id, from_me, key_id, sort_id) VALUES (1, -1, 0, '-1', 0);
    INSERT INTO message (_id, chat_row_id, from_me, key_id, sender_jid_row_id, status, timestamp, received_timestamp,
                         message_type, text_data, starred, sort_id) VALUES
        (2, 1, 0, 'A1', 0, 0, 1600000000123, 1600000001456, 0, 'Hi, are you there?', 0, 2),
        (3, 1, 1, 'A2', 0, 13, 1600000060000, 1600000060010, 1, 'the room', 1, 3),
        (4, 2, 0, 'G1', 4, 0, 1600000100000, 1600000100900, 5, NULL, 0, 4),
        (5, 2, 1, 'G2', 0, 5, 1600000200000, 1600000200005, 0, 'see you there', 0, 5),
        (6, 2, 0, 'G3', 2, 0, 1600000250000, 1600000251000, 15, NULL, 0, 6),
        (7, 1, 0, 'S1', 0, 6, 1600000000000, 1600000000000, 7, NULL, 0, 7),
        (8, 99, 0, 'X1', 0, 0, 1500000000000, 1500000000500, 0, 'from a deleted chat', 0, 8);
    INSERT INTO message_media (message_row_id, chat_row_id, transferred, file_path, file_size, mime_type,
                               file_length, media_name, file_hash) VALUES
        (3, 1, 1, 'Media/WhatsApp Images/Sent/IMG-20200913-WA0001.jpg', 0, 'image/jpeg', 54321, NULL, 'aGFzaA==');
    INSERT INTO receipt_user (message_row_id, receipt_user_jid_row_id, receipt_timestamp, read_timestamp)
        VALUES (3, 1, 1600000061000, 1600000090000);
    INSERT INTO message_location (message_row_id, chat_row_id, latitude, longitude, place_name, place_address,
                                  live_location_share_duration)
        VALUES (4, 2, 40.4168, -3.7038, 'Hotel X', 'Calle Y 1', 0);
    INSERT INTO message_revoked (message_row_id, revoked_key_id, admin_jid_row_id, revoke_timestamp)
        VALUES (6, 'G3', NULL, 1600000300000);
    INSERT INTO message_system (message_row_id, action_type) VALUES (7, 67);
    INSERT INTO call_log (_id, jid_row_id, from_me, call_id, transaction_id, timestamp, video_call, duration,
                          call_result, group_jid_row_id) VALUES
        (1, 1, 0, 'C1', 1, 1600000500000, 1, 0, 2, 0), (2, 2, 1, 'C2', 2, 1600000600000, 0, 125, 5, 0);
"""
CURRENT_WAL = ("INSERT INTO message (_id, chat_row_id, from_me, key_id, sender_jid_row_id, status, timestamp, "
               "received_timestamp, message_type, text_data, sort_id) "
               "VALUES (9, 1, 0, 'A3', 0, 0, 1600000700000, 1600000700100, 0, 'only in the WAL', 9);")
WA_ROWS = f"""
    INSERT INTO wa_contacts (_id, jid, is_whatsapp_user, status, status_timestamp, number, display_name, given_name,
                             family_name, wa_name) VALUES
        (1, '{ALICE}', 1, 'Available', 1590000000000, '+1 555-123-0001', 'Alice Example', 'Alice', 'Example', 'Al'),
        (2, '{BOB}', 1, NULL, NULL, '+15551230002', NULL, NULL, NULL, 'bobby'),
        (3, '{CAROL}', 1, NULL, NULL, '+15551230003', 'Carol', 'Carol', NULL, NULL);
"""


def build_current(tmp_path, wal=True):
    src = tmp_path / "src"
    make_db(src / "msgstore.db", MSGSTORE_SCHEMA + CURRENT_ROWS, wal_sql=CURRENT_WAL if wal else None)
    make_db(src / "wa.db", WA_SCHEMA + WA_ROWS)
    files = {DIR + "msgstore.db": src / "msgstore.db", DIR + "wa.db": src / "wa.db"}
    if wal:
        files[DIR + "msgstore.db-wal"] = src / "msgstore.db-wal"
    return files


def test_current_schema_messages_media_locations_revoked_and_wal(tmp_path):
    outcomes, rows = parser_harness.run(tmp_path / "run", build_current(tmp_path))
    by_parser = {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes}
    assert by_parser == {"whatsapp-android-messages": ("parsed", 9, 1),
                         "whatsapp-android-messages-legacy": ("unsupported version", 0, 0),
                         "whatsapp-android-calls": ("parsed", 2, 0), "whatsapp-android-contacts": ("parsed", 3, 0)}
    messages = {m["source_row"]: m for m in rows["messages"]}
    assert sorted(messages, key=int) == ["2", "3", "4", "5", "6", "7", "8", "9"]  # the placeholder row 1 is no message
    assert all(m["source_table"] == "message" and m["app"] == "com.whatsapp" and m["platform"] == "WhatsApp"
               for m in messages.values())

    first = messages["2"]
    assert (first["ts"], first["ts_raw"], first["ts_encoding"]) == ("2020-09-13T12:26:40.123000Z", "1600000000123",
                                                                    "unix_ms")
    assert first["received_ts"] == "2020-09-13T12:26:41.456000Z"
    assert (first["direction"], first["sender"], first["sender_name"], first["recipients"]) == (
        "incoming", ALICE, "Alice Example", [])
    assert (first["thread_id"], first["thread_name"], first["body"], first["message_type"], first["status"]) == (
        ALICE, "Alice Example", "Hi, are you there?", "text", "received")

    image = messages["3"]
    assert (image["direction"], image["sender"], image["recipients"], image["status"]) == (
        "outgoing", None, [ALICE], "read")
    assert image["read_ts"] == "2020-09-13T12:28:10.000000Z" and image["received_ts"] is None
    assert image["body"] == "the room" and image["message_type"] == "image"
    assert image["attachments"] == [{"path": "Media/WhatsApp Images/Sent/IMG-20200913-WA0001.jpg",
                                     "mime_type": "image/jpeg", "size": 54321, "name": None, "caption": None,
                                     "duration_s": None}]
    assert image["extra"] == {"key_id": "A2", "status_code": 13, "starred": True}

    shared = messages["4"]  # a location in a group, from a member known by hidden identity
    assert (shared["thread_id"], shared["thread_name"], shared["sender"], shared["sender_name"]) == (
        GROUP, "Trip planning", CAROL_LID, "Carol")
    assert shared["message_type"] == "location" and shared["extra"]["sender_phone_jid"] == CAROL
    assert shared["extra"]["group_participants"] == [BOB, CAROL_LID]

    to_group = messages["5"]
    assert (to_group["direction"], to_group["sender"], to_group["recipients"], to_group["status"]) == (
        "outgoing", None, [BOB, CAROL_LID], "delivered")

    revoked = messages["6"]
    assert (revoked["deleted"], revoked["status"], revoked["message_type"], revoked["body"]) == (
        True, "revoked", "revoked", None)
    assert revoked["sender"] == BOB and revoked["sender_name"] == "bobby"
    assert revoked["extra"]["revoked_at"] == "2020-09-13T12:31:40.000000Z"

    notice = messages["7"]
    assert (notice["message_type"], notice["status"], notice["sender"]) == ("system", "system", None)
    assert notice["extra"]["system_action"] == 67

    orphan = messages["8"]  # its chat row was deleted: kept, with the chat row id it pointed to
    assert orphan["thread_id"] is None and orphan["extra"]["chat_row_id"] == 99
    assert orphan["body"] == "from a deleted chat" and orphan["sender"] is None

    assert [m["source_row"] for m in rows["messages"] if m["from_wal"]] == ["9"]
    assert messages["9"]["body"] == "only in the WAL"

    (place,) = rows["locations"]
    assert (place["latitude"], place["longitude"], place["label"], place["source_kind"]) == (
        40.4168, -3.7038, "Hotel X, Calle Y 1", "whatsapp message")
    assert place["ts"] == "2020-09-13T12:28:20.000000Z"
    assert (place["source_table"], place["source_row"]) == ("message_location", "4")
    assert place["extra"] == {"thread_id": GROUP, "sender": CAROL_LID, "direction": "incoming",
                              "message_type": "location", "key_id": "G1"}

    missed, answered = rows["calls"]
    assert (missed["peers"], missed["peer_name"], missed["direction"], missed["call_type"]) == (
        [ALICE], "Alice Example", "incoming", "video")
    assert (missed["answered"], missed["status"], missed["duration_s"], missed["ts"]) == (
        False, "missed", 0, "2020-09-13T12:35:00.000000Z")
    assert (answered["direction"], answered["call_type"], answered["answered"], answered["status"]) == (
        "outgoing", "audio", True, "answered")
    assert answered["duration_s"] == 125 and answered["source_table"] == "call_log" and answered["source_row"] == "2"

    alice = rows["contacts"][0]
    assert (alice["name"], alice["phones"], alice["user_id"]) == ("Alice Example", ["+1 555-123-0001"], ALICE)
    assert alice["extra"] == {"wa_name": "Al", "given_name": "Alice", "family_name": "Example", "status": "Available",
                              "status_ts": "2020-05-20T18:40:00.000000Z", "is_whatsapp_user": True}
    assert rows["contacts"][1]["name"] is None and rows["contacts"][1]["extra"]["wa_name"] == "bobby"

    # without its -wal the WAL-only message is gone
    files = build_current(tmp_path / "nowal", wal=False)
    _, rows = parser_harness.run(tmp_path / "run2", files, ["whatsapp-android-messages"])
    assert [m["source_row"] for m in rows["messages"]] == ["2", "3", "4", "5", "6", "7", "8"]


LEGACY_ROWS = f"""
    INSERT INTO messages (_id, key_remote_jid, key_from_me, key_id, status, needs_push, data, timestamp,
                          media_wa_type, media_size, received_timestamp, remote_resource)
        VALUES (1, '-1', 0, '-1', -1, 0, NULL, 0, NULL, 0, 0, NULL);
    INSERT INTO messages (_id, key_remote_jid, key_from_me, key_id, status, data, timestamp, media_wa_type,
                          media_mime_type, media_size, media_name, media_caption, media_url, latitude, longitude,
                          remote_resource, received_timestamp, read_device_timestamp, edit_version) VALUES
        (2, '{ALICE}', 0, 'L1', 0, 'old hello', 1400000000000, '0', NULL, 0, NULL, NULL, NULL, 0, 0, NULL,
         1400000002000, NULL, 0),
        (3, '{ALICE}', 1, 'L2', 13, NULL, 1400000100000, '1', 'image/jpeg', 2048, 'IMG-20140513-WA0000.jpg',
         'beach', 'https://mmg.whatsapp.net/d/f/abc.enc', 0, 0, NULL, 1400000100050, 1400000200000, 0),
        (4, '{GROUP}', 0, 'L3', 0, NULL, 1400000300000, '5', NULL, 0, 'Cafe Central', NULL, NULL, 48.2104, 16.3655,
         '{BOB}', 1400000301000, NULL, 0),
        (5, '{GROUP}', 0, 'L4', 0, NULL, 1400000400000, '15', NULL, 0, NULL, NULL, NULL, 0, 0, '{BOB}',
         1400000401000, NULL, 7),
        (6, '{ALICE}', 0, 'L5', 0, NULL, 1400000500000, '0', NULL, 0, NULL, NULL, NULL, 0, 0, NULL,
         1400000501000, NULL, 7),
        (7, '{GROUP}', 1, 'L6', 6, NULL, 1400000600000, '0', NULL, 0, NULL, NULL, NULL, 0, 0, NULL,
         1400000600000, NULL, 0);
    INSERT INTO chat_list (_id, key_remote_jid, message_table_id, subject, creation) VALUES
        (1, '{ALICE}', 6, NULL, NULL), (2, '{GROUP}', 7, 'Old group', 1399990000000);
    INSERT INTO group_participants (gjid, jid, admin, pending, sent_sender_key) VALUES
        ('{GROUP}', '', 1, 0, 0), ('{GROUP}', '{BOB}', 0, 0, 0);
"""


def test_legacy_schema(tmp_path):
    src = tmp_path / "src"
    make_db(src / "msgstore.db", MSGSTORE_LEGACY_SCHEMA + LEGACY_ROWS)
    make_db(src / "wa.db", WA_SCHEMA + WA_ROWS)
    outcomes, rows = parser_harness.run(tmp_path / "run", {DIR + "msgstore.db": src / "msgstore.db",
                                                           DIR + "wa.db": src / "wa.db"})
    by_parser = {o.spec.name: (o.outcome, o.records) for o in outcomes}
    assert by_parser["whatsapp-android-messages-legacy"] == ("parsed", 7)
    assert by_parser["whatsapp-android-messages"][0] == "unsupported version"
    assert by_parser["whatsapp-android-calls"][0] == "unsupported version"
    messages = {m["source_row"]: m for m in rows["messages"]}
    assert sorted(messages, key=int) == ["2", "3", "4", "5", "6", "7"]
    assert all(m["source_table"] == "messages" for m in messages.values())

    hello = messages["2"]
    assert (hello["ts"], hello["received_ts"], hello["sender"], hello["sender_name"], hello["thread_name"]) == (
        "2014-05-13T16:53:20.000000Z", "2014-05-13T16:53:22.000000Z", ALICE, "Alice Example", "Alice Example")
    assert (hello["body"], hello["message_type"], hello["direction"], hello["status"]) == (
        "old hello", "text", "incoming", "received")

    photo = messages["3"]
    assert (photo["direction"], photo["recipients"], photo["status"], photo["read_ts"]) == (
        "outgoing", [ALICE], "read", "2014-05-13T16:56:40.000000Z")
    assert photo["attachments"] == [{"url": "https://mmg.whatsapp.net/d/f/abc.enc", "mime_type": "image/jpeg",
                                     "size": 2048, "name": "IMG-20140513-WA0000.jpg", "caption": "beach"}]

    place = messages["4"]
    assert (place["thread_id"], place["thread_name"], place["sender"], place["message_type"]) == (
        GROUP, "Old group", BOB, "location")
    assert place["extra"]["group_participants"] == [BOB]  # the owner's own row has an empty jid

    for row in ("5", "6"):  # media_wa_type 15, and edit_version 7 on a text row: both deleted for everyone
        assert (messages[row]["deleted"], messages[row]["status"], messages[row]["message_type"]) == (
            True, "revoked", "revoked")
    assert messages["7"]["message_type"] == "system" and messages["7"]["sender"] is None

    (location,) = rows["locations"]
    assert (location["latitude"], location["longitude"], location["label"]) == (48.2104, 16.3655, "Cafe Central")
    assert (location["source_table"], location["source_row"], location["ts"]) == (
        "messages", "4", "2014-05-13T16:58:20.000000Z")


def test_migrated_database_is_read_once(tmp_path):
    """During the 2021 migration msgstore.db carries both tables with the same messages: only `message` is read."""
    make_db(tmp_path / "msgstore.db", MSGSTORE_SCHEMA + LEGACY_MESSAGES_TABLE + CURRENT_ROWS + f"""
        INSERT INTO messages (_id, key_remote_jid, key_from_me, key_id, status, data, timestamp, media_wa_type)
            VALUES (2, '{ALICE}', 0, 'A1', 0, 'Hi, are you there?', 1600000000123, '0');""")
    outcomes, rows = parser_harness.run(tmp_path / "run", {DIR + "msgstore.db": tmp_path / "msgstore.db"},
                                        ["whatsapp-android-messages", "whatsapp-android-messages-legacy"])
    assert {o.spec.name: o.outcome for o in outcomes} == {"whatsapp-android-messages": "parsed",
                                                         "whatsapp-android-messages-legacy": "no data"}
    assert len(rows["messages"]) == 7 and {m["source_table"] for m in rows["messages"]} == {"message"}


EARLY_ROWS = f"""
    INSERT INTO jid (_id, user, server, agent, device, type, raw_string) VALUES
        (1, '15551230001', 's.whatsapp.net', 0, 0, 0, '{ALICE}'),
        (2, '15551230002', 's.whatsapp.net', 0, 0, 0, '{BOB}'), (3, '120363025246125486', 'g.us', 0, 0, 1, '{GROUP}');
    INSERT INTO chat (_id, jid_row_id, hidden, subject) VALUES (1, 1, 0, NULL), (2, 3, 0, 'Trip planning');
    INSERT INTO group_participants (gjid, jid, admin, pending, sent_sender_key) VALUES
        ('{GROUP}', '', 1, 0, 0), ('{GROUP}', '{CAROL}', 0, 0, 0), ('{GROUP}', '{BOB}', 0, 0, 0);
    INSERT INTO message (_id, chat_row_id, from_me, key_id, sender_jid_row_id, status, timestamp, received_timestamp,
                         message_type, text_data, sort_id) VALUES
        (1, 1, 0, 'B1', 0, 0, 1600000000123, 1600000001456, 0, 'hello', 1),
        (2, 2, 1, 'B2', 0, 5, 1600000060000, 1600000060010, 5, NULL, 2),
        (3, 2, 0, 'B3', 2, 0, 1600000120000, 1600000121000, 15, NULL, 3);
    INSERT INTO message_location (message_row_id, chat_row_id, latitude, longitude, place_name)
        VALUES (2, 2, 48.2104, 16.3655, 'Cafe Central');
    INSERT INTO message_revoked (message_row_id, revoked_key_id, admin_jid_row_id, revoke_timestamp)
        VALUES (3, 'B3', NULL, 99999999999999999);
"""


def _without_tables(schema: str, *names: str) -> str:
    """``schema`` minus the CREATE TABLE and CREATE INDEX statements of the tables ``names``."""
    table = re.compile(rf"(?:TABLE|ON)\s+(?:{'|'.join(names)})\s*\(", re.IGNORECASE)
    return ";".join(statement for statement in schema.split(";") if not table.search(statement))


def test_current_schema_without_the_later_side_tables(tmp_path):
    """A msgstore.db from before jid_map, group_participant_user, message_system and receipt_user: group members
    come from group_participants, and an unreadable revoke time is left out rather than failing the file."""
    schema = _without_tables(MSGSTORE_SCHEMA, "jid_map", "group_participant_user", "message_system", "receipt_user")
    assert "jid_map" not in schema and "CREATE TABLE group_participants" in schema
    make_db(tmp_path / "msgstore.db", schema + EARLY_ROWS)
    make_db(tmp_path / "wa.db", WA_SCHEMA + WA_ROWS)
    outcomes, rows = parser_harness.run(tmp_path / "run", {DIR + "msgstore.db": tmp_path / "msgstore.db",
                                                           DIR + "wa.db": tmp_path / "wa.db"},
                                        ["whatsapp-android-messages"])
    assert [(o.outcome, o.records) for o in outcomes] == [("parsed", 4)]
    hello, to_group, revoked = rows["messages"]
    assert (hello["sender"], hello["sender_name"], hello["recipients"], hello["extra"]) == (
        ALICE, "Alice Example", [], {"key_id": "B1", "status_code": 0})
    assert (to_group["direction"], to_group["sender"], to_group["recipients"], to_group["status"]) == (
        "outgoing", None, [CAROL, BOB], "delivered")  # in membership order, without the owner's empty row
    assert to_group["extra"] == {"key_id": "B2", "status_code": 5, "group_participants": [CAROL, BOB]}
    assert to_group["read_ts"] is None and to_group["thread_name"] == "Trip planning"
    assert (revoked["deleted"], revoked["status"], revoked["sender"], revoked["sender_name"]) == (
        True, "revoked", BOB, "bobby")
    assert revoked["extra"] == {"key_id": "B3", "status_code": 0, "group_participants": [CAROL, BOB]}
    (place,) = rows["locations"]
    assert (place["label"], place["source_row"], place["ts"]) == ("Cafe Central", "2", "2020-09-13T12:27:40.000000Z")
    assert place["extra"] == {"thread_id": GROUP, "sender": None, "direction": "outgoing",
                              "message_type": "location", "key_id": "B2"}


def test_generated_database_business_app_and_companion_from_the_same_folder(tmp_path):
    n = 2000
    generate_msgstore(tmp_path / "src/msgstore.db", n)
    generate_wa_db(tmp_path / "src/wa.db")
    other_user = make_db(tmp_path / "other/wa.db", WA_SCHEMA + """
        INSERT INTO wa_contacts (jid, is_whatsapp_user, display_name) VALUES ('15550000001@s.whatsapp.net', 1, 'X');""")
    business = "/data/user/0/com.whatsapp.w4b/databases/"
    files = {business + "msgstore.db": tmp_path / "src/msgstore.db", business + "wa.db": tmp_path / "src/wa.db",
             "/data/user/10/com.whatsapp.w4b/databases/wa.db": other_user}
    outcomes, rows = parser_harness.run(tmp_path / "run", files, ["whatsapp-android-messages",
                                                                  "whatsapp-android-calls"])
    expected = expected_counts(n)
    by_parser = {o.spec.name: (o.outcome, o.records) for o in outcomes}
    assert by_parser == {"whatsapp-android-messages": ("parsed", n + expected["locations"]),
                         "whatsapp-android-calls": ("parsed", expected["calls"])}
    messages = rows["messages"]
    assert len(messages) == n and {m["app"] for m in messages} == {"com.whatsapp.w4b"}
    assert sum(m["deleted"] for m in messages) == expected["revoked"]
    assert sum(m["message_type"] == "image" for m in messages) == expected["images"]
    assert len(rows["locations"]) == expected["locations"]
    first = messages[0]  # message i = 1: chat 2, incoming image
    assert (first["source_row"], first["thread_id"], first["sender_name"], first["ts"]) == (
        "2", "15550000002@s.whatsapp.net", "Contact 2", "2023-11-14T22:13:21.000000Z")
    assert messages[0]["attachments"][0]["path"] == "Media/WhatsApp Images/IMG-1.jpg"
    to_group = next(m for m in messages if m["thread_id"].endswith("@g.us") and m["direction"] == "outgoing")
    assert len(to_group["recipients"]) == 5 and to_group["thread_name"].startswith("Group ")
    # the other user's wa.db (profile 10) never names this profile's contacts
    assert "X" not in {m["sender_name"] for m in messages}


def test_damaged_msgstore_is_recovered_and_says_so(tmp_path):
    good = generate_msgstore(tmp_path / "good.db", 3000)
    page = good.read_bytes().index(b"message 1500") // 4096 + 1  # the table page holding message 1500
    bad = damage(good, tmp_path / "bad.db", page=page)
    outcomes, rows = parser_harness.run(tmp_path / "run", {DIR + "msgstore.db": bad}, ["whatsapp-android-messages"])
    (outcome,) = outcomes
    assert outcome.outcome == "parsed" and outcome.recovered and "damaged" in outcome.message
    assert 2000 < len(rows["messages"]) < 3000
    assert all(m["recovered"] for m in rows["messages"])
    assert "message 1500" not in {m["body"] for m in rows["messages"]}


@pytest.mark.parametrize("path", ["/data/data/com.whatsapp/databases/msgstore.db",
                                  "Dump/data/user/0/com.whatsapp.w4b/databases/msgstore.db"])
def test_paths(path, tmp_path):
    make_db(tmp_path / "m.db", MSGSTORE_SCHEMA + CURRENT_ROWS)
    outcomes, _ = parser_harness.run(tmp_path / "run", {path: tmp_path / "m.db"}, ["whatsapp-android-messages"])
    assert [(o.spec.name, o.outcome, o.records) for o in outcomes] == [("whatsapp-android-messages", "parsed", 8)]


def test_a_message_deleted_in_the_wal_is_read_from_the_main_file(tmp_path):
    """Deleted after the last checkpoint: gone from the database's current state, still in its main file."""
    src = tmp_path / "src"
    make_db(src / "msgstore.db", MSGSTORE_SCHEMA + CURRENT_ROWS,
            wal_sql="DELETE FROM message WHERE _id = 2; DELETE FROM message_location WHERE message_row_id = 4;")
    make_db(src / "wa.db", WA_SCHEMA + WA_ROWS)
    files = {DIR + "msgstore.db": src / "msgstore.db", DIR + "msgstore.db-wal": src / "msgstore.db-wal",
             DIR + "wa.db": src / "wa.db"}
    outcomes, rows = parser_harness.run(tmp_path / "run", files, ["whatsapp-android-messages"])
    (outcome,) = outcomes
    assert outcome.outcome == "parsed" and outcome.wal_deleted == 2  # a message and a location row
    assert [(loc["source_table"], loc["wal_deleted"]) for loc in rows["locations"]] == [("message_location", True)]
    deleted = [m for m in rows["messages"] if m["wal_deleted"]]
    assert [(m["source_row"], m["body"], m["sender"]) for m in deleted] == [("2", "Hi, are you there?", ALICE)]
    assert all(not m["wal_deleted"] for m in rows["messages"] if m["source_row"] != "2")
    assert len(rows["messages"]) == 7  # rows 3-8 as they are now + row 2 from the main file, none twice


def test_extra_members_are_spliced_exactly_as_json_patch_writes_them():
    """The SQL mapping appends the optional ``extra`` members as text; for every kind of value a database can hold
    in those columns the result is the text ``json_patch(base, json_object(...))`` gives."""
    import sqlite3

    from parsers.whatsapp_android import _json_with
    values = [None, 0, -7, 2 ** 63 - 1, 1.5, -0.0, 1e300, "", "plain", 'quote " and \\ backslash', "tab\tnew\nline",
              "\x01\x1f control", "ünïcödé 😀", "{\"looks\": [\"like json\"]}", "null", "true"]
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (k, a, b, c)")
    rows = [(k, a, b, c) for k in ("K1", 'k"2', None) for a in values for b in values[:6] for c in (None, 1)]
    conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    base = "json_object('key_id', k, 'n', 3)"
    optional = {"a": "a", "b": "b", "flag": "CASE WHEN c THEN json('true') END",
                "list": "CASE WHEN c THEN json_array(a, b) END"}
    members = ", ".join(f"'{key}', {value}" for key, value in optional.items())
    patched = (f"CASE WHEN COALESCE({', '.join(optional.values())}) IS NULL THEN {base} "
               f"ELSE json_patch({base}, json_object({members})) END")
    got = conn.execute(f"SELECT {_json_with(base, optional)}, {patched} FROM t").fetchall()
    assert len(got) == len(rows) and all(a == b for a, b in got), [g for g in got if g[0] != g[1]][:3]
    assert {g[0] for g in got} >= {'{"key_id":"K1","n":3}', '{"key_id":"K1","n":3,"b":0,"flag":true,"list":[null,0]}'}
    # members written beforehand (per chat, per sender) go last, as the last members json_patch would add
    tail = "CASE WHEN c AND a IS NOT NULL THEN ',\"tail\":' || json_quote(a) END"
    optional["tail"] = "CASE WHEN c THEN a END"
    members = ", ".join(f"'{key}', {value}" for key, value in optional.items())
    patched = (f"CASE WHEN COALESCE({', '.join(optional.values())}) IS NULL THEN {base} "
               f"ELSE json_patch({base}, json_object({members})) END")
    del optional["tail"]
    got = conn.execute(f"SELECT {_json_with(base, optional, tails=(tail,))}, {patched} FROM t").fetchall()
    assert all(a == b for a, b in got), [g for g in got if g[0] != g[1]][:3]
