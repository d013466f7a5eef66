"""iOS sms.db: fixtures built with the Messages schema (iOS 16 and iOS 6), typedstream bodies written by hand from the
format, a WAL-only row, Recently Deleted, a damaged copy and a pre-iOS 6 database."""
import struct

import pytest

from parsers.ios_sms import attributed_text
from tests import parser_harness
from tests.fixtures.ios_sms import ROWS_IOS16, SCHEMA_IOS16, WAL_ROW
from tests.fixtures.sqlite_db import damage, make_db

SMS_PATH = "/private/var/mobile/Library/SMS/sms.db"


class TypedStream:
    """A little-endian typedstream (streamer 4, system 1000) as NSArchiver writes it, for attributedBody fixtures.

    Shared strings and objects (classes, objects, C strings) are numbered in order of first appearance; a repeat is
    written as a back-reference (number - 110 in the head byte), exactly as the format defines."""

    def __init__(self):
        self.out = bytearray(b"\x04\x0bstreamtyped\x81\xe8\x03")
        self.strings: list[bytes] = []
        self.objects: list = []

    def integer(self, value: int):
        if -111 < value <= 127:
            self.out += struct.pack("<b", value)
        elif -32768 <= value <= 32767:
            self.out += b"\x81" + struct.pack("<h", value)
        else:
            self.out += b"\x82" + struct.pack("<i", value)

    def shared(self, text: bytes):
        if text in self.strings:
            self.integer(self.strings.index(text) - 110)
            return
        self.out.append(0x84)
        self.integer(len(text))
        self.out += text
        self.strings.append(text)

    def typed(self, encoding: bytes, *values):
        self.shared(encoding)
        for write in values:
            write()

    def obj(self, chain, body):
        self.out.append(0x84)
        self.objects.append(object())
        for name, version in chain:
            if ("class", name) in self.objects:
                self.integer(self.objects.index(("class", name)) - 110)
                break
            self.out.append(0x84)
            self.shared(name.encode())
            self.integer(version)
            self.objects.append(("class", name))
        else:
            self.out.append(0x85)
        body()
        self.out.append(0x86)

    def nsstring(self, text: str):
        data = text.encode()
        self.obj([("NSString", 1), ("NSObject", 0)],
                 lambda: self.typed(b"+", lambda: (self.integer(len(data)), self.out.extend(data))))

    def c_string(self, text: bytes):
        self.out.append(0x84)
        self.shared(text)
        self.objects.append(("cstring", text))


def attributed_body(text: str) -> bytes:
    """An NSMutableAttributedString as Messages archives a body: the string, one attribute run, its dictionary."""
    w = TypedStream()

    def number():
        w.obj([("NSNumber", 0), ("NSValue", 0), ("NSObject", 0)],
              lambda: (w.typed(b"*", lambda: w.c_string(b"i")), w.typed(b"i", lambda: w.integer(0))))

    def attributes():
        w.obj([("NSDictionary", 0), ("NSObject", 0)],
              lambda: (w.typed(b"i", lambda: w.integer(1)),
                       w.typed(b"@", lambda: w.nsstring("__kIMMessagePartAttributeName")),
                       w.typed(b"@", number)))

    def attributed():
        w.obj([("NSMutableAttributedString", 0), ("NSAttributedString", 0), ("NSObject", 0)],
              lambda: (w.typed(b"@", lambda: w.nsstring(text)),
                       w.typed(b"iI", lambda: w.integer(1), lambda: w.integer(len(text.encode("utf-16-le")) // 2)),
                       w.typed(b"@", attributes)))

    w.typed(b"@", attributed)
    return bytes(w.out)


def test_attributed_body_round_trip():
    text = "Meet at 5 — café ☕ " * 10  # > 127 bytes: the length takes the two-byte integer form
    blob = attributed_body(text)
    assert blob.startswith(b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x84\x84\x84\x19NSMutableAttributedString")
    assert attributed_text(blob) == text
    with pytest.raises(Exception):
        attributed_text(blob[:40])


def _ios16_db(path, wal_sql=None):
    body = attributed_body("Meet at 5 — café")
    broken = b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x84\x84\x84"
    # message 2: outgoing, body only in attributedBody, delivered (inserted with a parameter: it is a blob)
    rows = ROWS_IOS16 + (
        "INSERT INTO message (ROWID, guid, text, attributedBody, handle_id, service, date, date_delivered, is_from_me,"
        f" is_sent, is_delivered) VALUES (2, 'G-2', NULL, X'{body.hex()}', 1, 'iMessage', 704637600500000000,"
        " 704637601000000000, 1, 1, 1);"
        f"UPDATE message SET attributedBody = X'{broken.hex()}' WHERE ROWID = 7;")
    return make_db(path, SCHEMA_IOS16 + rows, wal_sql=wal_sql)


def test_ios16_messages_threads_attachments_wal(tmp_path):
    db = _ios16_db(tmp_path / "src" / "sms.db", wal_sql=WAL_ROW)
    outcomes, rows = parser_harness.run(tmp_path / "run", {SMS_PATH: db, SMS_PATH + "-wal": str(db) + "-wal"},
                                        ["ios-sms"])
    (outcome,) = outcomes
    assert outcome.outcome == "parsed" and outcome.records == 8 and outcome.from_wal == 1
    by_row = {m["source_row"]: m for m in rows["messages"]}
    assert [m["source_row"] for m in rows["messages"]] == [str(i) for i in range(1, 9)]
    assert all(m["source_table"] == "message" and m["app"] == "com.apple.MobileSMS" for m in rows["messages"])

    first = by_row["1"]
    assert first["body"] == "hi there" and first["direction"] == "incoming" and first["platform"] == "iMessage"
    assert first["ts"] == "2023-05-01T12:34:56.789000Z" and first["ts_raw"] == "704637296789000000"
    assert first["ts_encoding"] == "cocoa_ns(by magnitude)"
    assert first["read_ts"] == "2023-05-01T12:35:00.000000Z" and first["status"] == "read"
    assert first["sender"] == "+15551230001" and first["recipients"] == []
    assert first["thread_id"] == "+15551230001" and first["thread_name"] is None
    assert first["extra"]["chat_guid"] == "iMessage;-;+15551230001" and first["extra"]["guid"] == "G-1"

    archived = by_row["2"]
    assert archived["body"] == "Meet at 5 — café" and archived["direction"] == "outgoing"
    assert archived["sender"] is None and archived["recipients"] == ["+15551230001"]
    assert archived["status"] == "delivered" and archived["ts"] == "2023-05-01T12:40:00.500000Z"
    assert archived["extra"]["delivered_ts"]["iso"] == "2023-05-01T12:40:01.000000Z"

    group_in = by_row["3"]
    assert group_in["thread_id"] == "chat123456" and group_in["thread_name"] == "Trip"
    assert group_in["sender"] == "friend@example.com" and group_in["recipients"] == ["+15551230001"]
    assert group_in["attachments"] == [{
        "attachment_id": 1, "path": "~/Library/SMS/Attachments/ab/11/A-1/IMG_0001.HEIC", "name": "IMG_0001.HEIC",
        "mime_type": "image/heic", "uti": "public.heic", "size": 123456,
        "created_ts": {"iso": "2023-05-01T12:36:39.000000Z", "raw": "704637399",
                       "encoding": "cocoa_s(by magnitude)"}}]
    group_out = by_row["4"]
    assert group_out["recipients"] == ["+15551230001", "friend@example.com"] and group_out["status"] == "sent"

    sms = by_row["5"]
    assert sms["platform"] == "SMS" and sms["message_type"] == "sms" and sms["sender"] == "+15551230003"

    deleted = by_row["6"]
    assert deleted["deleted"] is True and deleted["thread_id"] == "+15551230001"
    assert deleted["extra"]["deleted_ts"]["iso"] == "2023-05-01T13:20:00.000000Z"
    assert not any(m["deleted"] for k, m in by_row.items() if k != "6")

    broken = by_row["7"]
    assert broken["body"] is None and broken["extra"]["attributed_body_error"].startswith("InvalidTypedStreamError")

    wal = by_row["8"]
    assert wal["body"] == "only in the WAL" and wal["from_wal"] is True
    assert not any(m["from_wal"] for k, m in by_row.items() if k != "8")


SCHEMA_IOS6 = """
CREATE TABLE _SqliteDatabaseProperties (key TEXT, value TEXT, UNIQUE(key));
CREATE TABLE chat (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, style INTEGER, state INTEGER,
  account_id TEXT, properties BLOB, chat_identifier TEXT, service_name TEXT, room_name TEXT, account_login TEXT,
  is_archived INTEGER DEFAULT 0, last_addressed_handle TEXT);
CREATE TABLE handle (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, id TEXT NOT NULL, country TEXT,
  service TEXT NOT NULL, uncanonicalized_id TEXT, UNIQUE (id, service));
CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, text TEXT,
  replace INTEGER DEFAULT 0, service_center TEXT, handle_id INTEGER DEFAULT 0, subject TEXT, country TEXT,
  attributedBody BLOB, version INTEGER DEFAULT 0, type INTEGER DEFAULT 0, service TEXT, account TEXT,
  account_guid TEXT, error INTEGER DEFAULT 0, date INTEGER, date_read INTEGER, date_delivered INTEGER,
  is_delivered INTEGER DEFAULT 0, is_finished INTEGER DEFAULT 0, is_emote INTEGER DEFAULT 0,
  is_from_me INTEGER DEFAULT 0, is_empty INTEGER DEFAULT 0, is_delayed INTEGER DEFAULT 0,
  is_auto_reply INTEGER DEFAULT 0, is_prepared INTEGER DEFAULT 0, is_read INTEGER DEFAULT 0,
  is_system_message INTEGER DEFAULT 0, is_sent INTEGER DEFAULT 0, has_dd_results INTEGER DEFAULT 0,
  is_service_message INTEGER DEFAULT 0, is_forward INTEGER DEFAULT 0, was_downgraded INTEGER DEFAULT 0,
  is_archive INTEGER DEFAULT 0, cache_has_attachments INTEGER DEFAULT 0, cache_roomnames TEXT,
  was_data_detected INTEGER DEFAULT 0, was_deduplicated INTEGER DEFAULT 0);
CREATE TABLE attachment (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL,
  created_date INTEGER DEFAULT 0, start_date INTEGER DEFAULT 0, filename TEXT, uti TEXT, mime_type TEXT,
  transfer_state INTEGER DEFAULT 0, is_outgoing INTEGER DEFAULT 0);
CREATE TABLE chat_message_join (chat_id INTEGER REFERENCES chat (ROWID) ON DELETE CASCADE,
  message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE, PRIMARY KEY (chat_id, message_id));
CREATE TABLE chat_handle_join (chat_id INTEGER REFERENCES chat (ROWID) ON DELETE CASCADE,
  handle_id INTEGER REFERENCES handle (ROWID) ON DELETE CASCADE, UNIQUE(chat_id, handle_id));
CREATE TABLE message_attachment_join (message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE,
  attachment_id INTEGER REFERENCES attachment (ROWID) ON DELETE CASCADE, UNIQUE(message_id, attachment_id));
INSERT INTO handle VALUES (1, '+15551230001', 'us', 'SMS', NULL);
INSERT INTO chat (ROWID, guid, style, chat_identifier, service_name) VALUES
  (1, 'SMS;-;+15551230001', 45, '+15551230001', 'SMS');
INSERT INTO chat_handle_join VALUES (1, 1);
INSERT INTO message (ROWID, guid, text, handle_id, service, date, date_read, is_from_me, is_sent)
  VALUES (1, 'OLD-1', 'from 2013', 1, 'SMS', 391857330, 0, 1, 1);
INSERT INTO attachment (ROWID, guid, created_date, filename, mime_type) VALUES
  (1, 'OLD-A', 391857329, '~/Library/SMS/Attachments/00/00/OLD-A/photo.jpg', 'image/jpeg');
INSERT INTO message_attachment_join VALUES (1, 1);
INSERT INTO chat_message_join VALUES (1, 1);
"""


def test_ios6_schema_seconds_and_fewer_columns(tmp_path):
    db = make_db(tmp_path / "sms.db", SCHEMA_IOS6)
    outcomes, rows = parser_harness.run(tmp_path / "run", {SMS_PATH: db}, ["ios-sms"])
    assert outcomes[0].outcome == "parsed"
    (message,) = rows["messages"]
    assert message["ts"] == "2013-06-02T09:15:30.000000Z" and message["ts_encoding"] == "cocoa_s(by magnitude)"
    assert message["direction"] == "outgoing" and message["recipients"] == ["+15551230001"]
    assert message["platform"] == "SMS" and message["thread_id"] == "+15551230001"
    assert message["attachments"][0]["path"] == "~/Library/SMS/Attachments/00/00/OLD-A/photo.jpg"
    assert message["attachments"][0]["name"] is None and message["read_ts"] is None


def test_pre_ios6_database_is_unsupported(tmp_path):
    db = make_db(tmp_path / "sms.db", """CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT,
        address TEXT, date INTEGER, text TEXT, flags INTEGER, replace INTEGER, svc_center TEXT, group_id INTEGER,
        association_id INTEGER, height INTEGER, UIFlags INTEGER, version INTEGER);
        INSERT INTO message (address, date, text, flags) VALUES ('5551230001', 1300000000, 'iOS 4', 2);""")
    outcomes, rows = parser_harness.run(tmp_path / "run", {SMS_PATH: db}, ["ios-sms"])
    assert outcomes[0].outcome == "unsupported version" and "table handle" in outcomes[0].message
    assert rows["messages"] == []


def test_damaged_sms_db_is_recovered(tmp_path):
    many = "".join(f"INSERT INTO message (ROWID, guid, text, handle_id, service, date, is_from_me) VALUES "
                   f"({i}, 'D-{i}', '{'x' * 300} {i}', 1, 'iMessage', {704637296789000000 + i}, 0);"
                   for i in range(1, 201))
    good = make_db(tmp_path / "good.db", SCHEMA_IOS16 + "INSERT INTO handle VALUES (1, '+1555', 'us', 'iMessage', "
                   "NULL, NULL);" + many)
    page = good.read_bytes().find(b"x" * 300 + b" 100") // 4096 + 1  # a leaf page of the message table
    bad = damage(good, tmp_path / "bad.db", page=page)
    outcomes, rows = parser_harness.run(tmp_path / "run", {SMS_PATH: bad}, ["ios-sms"])
    (outcome,) = outcomes
    assert outcome.outcome == "parsed" and outcome.recovered and "damaged" in outcome.message
    assert 150 < outcome.records < 200
    assert all(m["recovered"] and m["sender"] == "+1555" for m in rows["messages"])
