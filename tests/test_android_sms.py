"""Android SMS/MMS: the real plaso test database, and a fixture built with the provider's schema."""
import sqlite3

import pytest

from tests import parser_harness
from tests.conftest_paths import TESTDATA
from tests.fixtures.android_sms import MMSSMS_SCHEMA
from tests.fixtures.sqlite_db import damage, make_db

SMS_PATH = "/data/data/com.android.providers.telephony/databases/mmssms.db"


def test_real_mmssms_gives_nine_sms(tmp_path):
    real = TESTDATA / "log2timeline+plaso/test_data/android/mmssms.db"
    if not real.exists():
        pytest.skip(f"third-party test data absent: {real}")
    outcomes, rows = parser_harness.run(tmp_path, {SMS_PATH: real}, ["android-sms", "android-mms"])
    by_parser = {o.spec.name: o for o in outcomes}
    assert by_parser["android-sms"].outcome == "parsed" and by_parser["android-sms"].records == 9
    assert by_parser["android-mms"].outcome == "no data"
    messages = rows["messages"]
    assert len(messages) == 9
    first = messages[0]
    assert first["body"] == "Yo Fred this is my new number."
    assert first["ts"] == "2013-10-29T16:56:28.038000Z" and first["ts_raw"] == "1383065788038"
    assert first["direction"] == "outgoing" and first["recipients"] == ["1 555-521-5554"]
    incoming = messages[2]
    assert incoming["direction"] == "incoming" and incoming["sender"] == "15555215554"
    assert incoming["source_table"] == "sms" and incoming["source_row"] == "3"


MMSSMS_ROWS = """
    INSERT INTO sms (_id, thread_id, address, date, date_sent, type, body, read)
        VALUES (1, 7, '+15551230001', 1600000000123, 1600000000000, 1, '=HYPERLINK("http://x")', 1);
    INSERT INTO pdu VALUES (1, 7, 1600000100, 0, 1, 1, 132, NULL);
    INSERT INTO addr VALUES (1, 1, NULL, '+15551230001', 137, 106), (2, 1, NULL, 'insert-address-token', 151, 106);
    INSERT INTO part VALUES
        (1, 1, -1, 'application/smil', NULL, NULL, NULL, NULL, NULL, 'smil.xml', NULL, NULL, NULL, '<smil/>'),
        (2, 1, 0, 'image/jpeg', NULL, NULL, NULL, NULL, NULL, 'IMG_1.jpg', NULL, NULL,
         '/data/user_de/0/com.android.providers.telephony/app_parts/PART_1', NULL),
        (3, 1, 1, 'text/plain', NULL, 106, NULL, NULL, NULL, 'text_0.txt', NULL, NULL, NULL, 'see photo');
"""
WAL_ROW = "INSERT INTO sms (_id, thread_id, address, date, type, body) " \
          "VALUES (2, 7, '+15551230001', 1600000200000, 2, 'only in the WAL');"


def test_fixture_sms_mms_wal_and_damage(tmp_path):
    src = tmp_path / "src"
    make_db(src / "mmssms.db", MMSSMS_SCHEMA + MMSSMS_ROWS, wal_sql=WAL_ROW)
    files = {SMS_PATH: src / "mmssms.db", SMS_PATH + "-wal": src / "mmssms.db-wal"}
    outcomes, rows = parser_harness.run(tmp_path / "a", files)
    sms = [m for m in rows["messages"] if m["message_type"] == "sms"]
    assert [m["body"] for m in sms] == ['=HYPERLINK("http://x")', "only in the WAL"]
    assert [m["from_wal"] for m in sms] == [False, True]
    assert sms[0]["ts"] == "2020-09-13T12:26:40.000000Z" and sms[0]["received_ts"] == "2020-09-13T12:26:40.123000Z"
    mms = [m for m in rows["messages"] if m["message_type"] == "mms"]
    assert len(mms) == 1 and mms[0]["body"] == "see photo" and mms[0]["sender"] == "+15551230001"
    assert mms[0]["ts"] == "2020-09-13T12:28:20.000000Z"
    assert mms[0]["attachments"][0]["mime_type"] == "image/jpeg"

    # the same database without its -wal: the WAL-only row is absent
    outcomes, rows = parser_harness.run(tmp_path / "b", {SMS_PATH: src / "mmssms.db"}, ["android-sms"])
    assert [m["body"] for m in rows["messages"]] == ['=HYPERLINK("http://x")']



def test_damaged_database_is_recovered_and_says_so(tmp_path):
    many = "".join(f"INSERT INTO sms (_id, thread_id, address, date, type, body) VALUES "
                   f"({i}, 1, '555', {1600000000000 + i}, 1, '{'x' * 300} {i}');" for i in range(1, 201))
    good = make_db(tmp_path / "good.db", MMSSMS_SCHEMA + many)
    pages = good.stat().st_size // 4096
    bad = damage(good, tmp_path / "bad.db", page=pages // 2)
    outcomes, rows = parser_harness.run(tmp_path / "run", {SMS_PATH: bad}, ["android-sms"])
    (outcome,) = outcomes
    assert outcome.outcome == "parsed" and outcome.recovered
    assert "damaged" in outcome.message
    assert 150 < outcome.records < 200  # the rows of the one destroyed page are lost, the rest are kept
    assert all(m["recovered"] for m in rows["messages"])

    # the header page destroyed: nothing recognisable is left, and that is an error, not "no data"
    hopeless = damage(good, tmp_path / "hopeless.db", page=1)
    outcomes, rows = parser_harness.run(tmp_path / "run2", {SMS_PATH: hopeless}, ["android-sms"])
    assert outcomes[0].outcome == "error" and outcomes[0].message.startswith("error: damaged database")
    assert rows["messages"] == []


def test_schema_variant_without_date_sent(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript("""CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, date INTEGER,
                        type INTEGER, body TEXT);
                        INSERT INTO sms VALUES (5, 1, '555', 1300000000000, 2, 'old schema');""")
    db.commit()
    db.close()
    outcomes, rows = parser_harness.run(tmp_path, {SMS_PATH: path}, ["android-sms", "android-mms"])
    assert {o.spec.name: o.outcome for o in outcomes} == {"android-sms": "parsed",
                                                          "android-mms": "unsupported version"}
    assert rows["messages"][0]["body"] == "old schema"


def _row_by_row_sms(db, ctx):
    """The SMS mapping as it was written row by row in Python, kept as the reference the SQL mapping must equal."""
    from artifacts import timestamps
    from artifacts.records import Message
    from parsers.android_sms import _SMS_TYPES
    from parsers.framework import columns

    optional = columns(db, "sms")
    date_sent = "date_sent" if "date_sent" in optional else "NULL"
    read = "read" if "read" in optional else "NULL"
    for row in db.execute(f"SELECT _id, thread_id, address, date, {date_sent} AS date_sent, {read} AS read, "
                          f"type, body FROM sms ORDER BY _id"):
        direction, status = _SMS_TYPES.get(row["type"], (None, f"type {row['type']}"))
        address = row["address"]
        received = timestamps.unix_ms(row["date"])
        sent = timestamps.unix_ms(row["date_sent"])
        yield Message(
            app=ctx.app, platform=ctx.platform, thread_id=None if row["thread_id"] is None else str(row["thread_id"]),
            body=row["body"], direction=direction, status=status, message_type="sms",
            sender=address if direction == "incoming" else None,
            recipients=[address] if direction == "outgoing" and address else [],
            ts=sent if direction == "incoming" and sent else received,
            received_ts=received if direction == "incoming" else None,
            extra={"read": row["read"]} if row["read"] is not None else {}, prov=ctx.prov("sms", row["_id"]))


@pytest.mark.parametrize("with_optional", [True, False])
def test_sms_mapped_in_sql_equals_the_row_by_row_mapping(tmp_path, with_optional):
    """Odd values in columns without affinity (types as text, reals, blobs, zero and text times, empty addresses,
    quotes and control characters) give the same records from the SQL mapping as from a row-by-row Python one."""
    from parsers import framework

    values = [
        (1, "+15550001", 1700000000123, 1700000000000, 1, 1, 'hi "there"\n\ttab'),
        (2, "+15550002", 1700000001000, 0, 0, 2, "sent"),
        ("7", "", 1700000002000, None, None, 3, None),
        (4.5, None, "1700000003000", "1700000002500", "yes", 2.0, "real type"),
        (b"\x01\x02", b"\xff\x00", 0, 1700000004000, 2.5, "1", "text type"),
        (None, 0, None, None, b"\x00", None, "null type"),
        (9, 5551234, -5, 1700000005000, 1, 7, "unknown type"),
        (10, 1.5, 1e12, 1700000006000.5, 3, 1.5, "real address"),
        (11, "a'b\\c\u2028\U0001F600", 10 ** 18, 9 * 10 ** 18, -1, 5, "far future"),
    ]
    columns = "thread_id, address, date, date_sent, read, type, body" if with_optional else \
        "thread_id, address, date, type, body"
    db = tmp_path / "mmssms.db"
    conn = sqlite3.connect(db)
    conn.execute(f"CREATE TABLE sms (_id INTEGER PRIMARY KEY, {columns})")
    for number, row in enumerate(values, start=1):
        kept = row if with_optional else (row[0], row[1], row[2], row[5], row[6])
        conn.execute(f"INSERT INTO sms VALUES ({', '.join('?' * (len(kept) + 1))})", (number, *kept))
    conn.commit()
    conn.close()
    framework.parser(name="test-sms-row-by-row", app="com.android.providers.telephony", platform="SMS",
                     paths=["*/com.android.providers.telephony/databases/mmssms.db"],
                     requires={"sms": {"_id", "thread_id", "address", "date", "type", "body"}})(_row_by_row_sms)
    try:
        outcomes, rows = parser_harness.run(tmp_path / "run", {SMS_PATH: db}, ["android-sms", "test-sms-row-by-row"])
    finally:
        framework._REGISTRY.pop("test-sms-row-by-row", None)
    # row 11's times are beyond 9999: kept undecoded, one warning per run
    kept = ("1 time(s) could not be decoded to UTC (messages.ts 1): raw value and encoding (which says why) kept, UTC "
            "time left empty")
    assert [(o.outcome, o.records, o.message) for o in outcomes] == [("parsed", 9, kept)] * 2
    by_parser = {}
    for message in rows["messages"]:
        by_parser.setdefault(message.pop("parser"), []).append({k: v for k, v in message.items() if k != "id"})
    assert by_parser["android-sms"] == by_parser["test-sms-row-by-row"]
    assert by_parser["android-sms"][0]["extra"] == ({"read": 1} if with_optional else {})
