"""Android contacts provider: contacts2.db fixtures built with AOSP ContactsDatabaseHelper's schema (as a device at
database version 1603 has it, and the version 625 layout of Android 4.0), and plaso's real contacts2.db."""
import pytest

from tests import parser_harness
from tests.conftest_paths import TESTDATA
from tests.fixtures.android_contacts import MIMETYPES, SCHEMA_1603, make_contacts_db
from tests.fixtures.sqlite_db import damage_leaf

CONTACTS2_PATH = "/data/data/com.android.providers.contacts/databases/contacts2.db"
SAMSUNG_PATH = "/data/data/com.samsung.android.providers.contacts/databases/contacts2.db"
PROFILE_PATH = "/data/data/com.android.providers.contacts/databases/profile.db"


ROWS = """
    INSERT INTO accounts (_id, account_name, account_type, data_set) VALUES (1, NULL, NULL, NULL),
        (2, 'suspect.one@gmail.com', 'com.google', NULL), (3, 'WhatsApp', 'com.whatsapp', NULL),
        (4, '+15550009999', 'org.telegram.messenger', NULL);
    INSERT INTO packages VALUES (1, 'com.whatsapp'), (2, 'org.telegram.messenger');
    INSERT INTO contacts (_id, name_raw_contact_id, contact_last_updated_timestamp) VALUES (1, 1, 1700000000123),
        (2, 2, 1700000100000);
    INSERT INTO raw_contacts (_id, account_id, sourceid, deleted, contact_id, display_name, sort_key, starred,
                              x_times_contacted, x_last_time_contacted)
        VALUES (1, 1, NULL, 0, 1, 'Bob Local', 'Bob Local', 1, 4, 1699999000000),
               (2, 2, '3c9f0e', 0, 2, 'Alice', 'Alice', 0, 0, NULL),
               (3, 3, '447700900123@s.whatsapp.net', 0, 2, 'Alice', 'Alice', 0, 0, NULL),
               (4, 4, '123456789', 1, 2, 'Alice T', 'Alice T', 0, 0, NULL);
    INSERT INTO data (_id, package_id, mimetype_id, raw_contact_id, data1, data2, data3, data4, data5, data6) VALUES
        (1, NULL, 7, 1, 'Bob Local', 'Bob', 'Local', NULL, NULL, NULL),
        (2, NULL, 5, 1, '(555) 123-0001', '2', NULL, '+15551230001', NULL, NULL),
        (3, NULL, 5, 1, '555-123-0002', '1', NULL, NULL, NULL, NULL),
        (4, NULL, 1, 1, 'bob@example.com', '1', NULL, NULL, NULL, NULL),
        (5, NULL, 2, 1, 'bob.skype', '1', NULL, NULL, '3', NULL),
        (6, NULL, 2, 1, 'bob_wickr', '1', NULL, NULL, '-1', 'Wickr'),
        (7, NULL, 3, 1, 'Bobby', '1', NULL, NULL, NULL, NULL),
        (8, NULL, 4, 1, 'Acme Haulage', '1', NULL, 'Driver', NULL, NULL),
        (9, NULL, 12, 1, 'owes 2k', NULL, NULL, NULL, NULL, NULL),
        (10, NULL, 8, 1, '1 Dock Road, Harbour Town', '1', NULL, NULL, NULL, NULL),
        (11, NULL, 13, 1, '1990-04-01', '3', NULL, NULL, NULL, NULL),
        (12, NULL, 11, 1, '1', NULL, NULL, NULL, NULL, NULL),
        (13, NULL, 3, 1, NULL, '1', NULL, NULL, NULL, NULL),
        (14, NULL, 7, 2, 'Alice', 'Alice', NULL, NULL, NULL, NULL),
        (15, NULL, 5, 2, '+447700900123', '2', NULL, '+447700900123', NULL, NULL),
        (16, NULL, 16, 2, NULL, NULL, NULL, NULL, NULL, NULL),
        (17, 1, 7, 3, 'Alice', NULL, NULL, NULL, NULL, NULL),
        (18, 1, 5, 3, '+44 7700 900123', '2', NULL, '+447700900123', NULL, NULL),
        (19, 1, 17, 3, '447700900123@s.whatsapp.net', 'WhatsApp', 'Message +44 7700 900123', NULL, NULL, NULL),
        (20, 1, 18, 3, '447700900123@s.whatsapp.net', 'WhatsApp', 'Voice call +44 7700 900123', NULL, NULL, NULL),
        (21, 1, 19, 3, '447700900123@s.whatsapp.net', 'WhatsApp', 'Video call +44 7700 900123', NULL, NULL, NULL),
        (22, 2, 20, 4, '123456789', 'Telegram Profile', '+447700900123', '123456789', NULL, NULL);
    INSERT INTO deleted_contacts VALUES (9, 1690000000000);
"""
WAL_ROWS = """
    INSERT INTO raw_contacts (_id, account_id, deleted, contact_id, display_name, sort_key)
        VALUES (5, 1, 0, NULL, 'Carol WAL', 'Carol WAL');
    INSERT INTO data (_id, mimetype_id, raw_contact_id, data1, data2) VALUES (23, 5, 5, '+15551230005', '2');
"""


def test_raw_contacts_with_accounts_handles_and_wal_row(tmp_path):
    src = make_contacts_db(tmp_path / "src" / "contacts2.db", SCHEMA_1603 + MIMETYPES + ROWS,
                           wal_sql=WAL_ROWS)
    files = {CONTACTS2_PATH: src, CONTACTS2_PATH + "-wal": src.with_name("contacts2.db-wal")}
    outcomes, rows = parser_harness.run(tmp_path / "run", files, ["android-contacts"])
    assert [(o.outcome, o.records, o.from_wal) for o in outcomes] == [("parsed", 5, 1)]
    bob, alice_google, alice_whatsapp, alice_telegram, carol = rows["contacts"]

    assert (bob["name"], bob["source_table"], bob["source_row"]) == ("Bob Local", "raw_contacts", "1")
    assert bob["phones"] == ["(555) 123-0001", "555-123-0002"] and bob["emails"] == ["bob@example.com"]
    assert bob["handles"] == [{"kind": "im", "protocol": "Skype", "value": "bob.skype"},
                              {"kind": "im", "protocol": "Wickr", "value": "bob_wickr"},
                              {"kind": "nickname", "value": "Bobby"}]
    assert (bob["organization"], bob["note"], bob["platform"]) == ("Acme Haulage", "owes 2k", "Android Contacts")
    assert bob["ts"] == "2023-11-14T22:13:20.123000Z" and bob["ts_raw"] == "1700000000123"
    assert bob["extra"] == {
        "contact_id": 1, "starred": 1, "times_contacted": 4,
        "last_time_contacted": {"iso": "2023-11-14T21:56:40.000000Z", "raw": "1699999000000",
                                "encoding": "unix_ms"},
        "phones_e164": ["+15551230001"], "job_titles": ["Driver"], "addresses": ["1 Dock Road, Harbour Town"],
        "events": [{"date": "1990-04-01", "type": 3}]}

    assert alice_google["extra"]["account_type"] == "com.google"
    assert alice_google["extra"]["account_name"] == "suspect.one@gmail.com"
    assert alice_google["extra"]["account_platform"] == "Google" and alice_google["handles"] == []

    # WhatsApp's raw contact: its account names the app, its JID is a handle with the app named, once
    assert alice_whatsapp["extra"]["account_type"] == "com.whatsapp"
    assert alice_whatsapp["extra"]["source_id"] == "447700900123@s.whatsapp.net"
    assert alice_whatsapp["handles"] == [{
        "kind": "app", "app": "com.whatsapp", "platform": "WhatsApp", "value": "447700900123@s.whatsapp.net",
        "label": "Message +44 7700 900123",
        "mimetypes": ["vnd.android.cursor.item/vnd.com.whatsapp.profile",
                      "vnd.android.cursor.item/vnd.com.whatsapp.voip.call",
                      "vnd.android.cursor.item/vnd.com.whatsapp.video.call"]}]
    assert alice_whatsapp["phones"] == ["+44 7700 900123"] and alice_whatsapp["extra"]["contact_id"] == 2

    # Telegram's raw contact was deleted on the phone: kept and flagged
    assert alice_telegram["extra"]["deleted"] is True and "deleted" not in alice_whatsapp["extra"]
    assert alice_telegram["handles"][0]["platform"] == "Telegram"
    assert alice_telegram["handles"][0]["value"] == "123456789"

    assert (carol["name"], carol["phones"], carol["from_wal"]) == ("Carol WAL", ["+15551230005"], True)
    assert carol["ts"] is None and not bob["from_wal"]

    # the same database without its -wal: the WAL-only contact is absent
    outcomes, rows = parser_harness.run(tmp_path / "run2", {CONTACTS2_PATH: src}, ["android-contacts"])
    assert [c["name"] for c in rows["contacts"]] == ["Bob Local", "Alice", "Alice", "Alice T"]


def test_samsung_provider_and_owner_profile(tmp_path):
    src = make_contacts_db(tmp_path / "contacts2.db", SCHEMA_1603 + MIMETYPES + ROWS)
    outcomes, rows = parser_harness.run(tmp_path / "run", {SAMSUNG_PATH: src, PROFILE_PATH: src},
                                        ["android-contacts"])
    assert [(o.source.path, o.records) for o in outcomes] == [(PROFILE_PATH, 4), (SAMSUNG_PATH, 4)]
    samsung = [c for c in rows["contacts"] if c["source_path"] == SAMSUNG_PATH]
    profile = [c for c in rows["contacts"] if c["source_path"] == PROFILE_PATH]
    assert {c["app"] for c in samsung} == {"com.samsung.android.providers.contacts"}
    assert all(c["extra"]["profile"] is True for c in profile) and "profile" not in samsung[0]["extra"]


# ContactsDatabaseHelper at database version 625 (Android 4.0): the account is on the raw contact, there are no
# x_ usage columns and no contact_last_updated_timestamp
SCHEMA_625 = """
    CREATE TABLE contacts (_id INTEGER PRIMARY KEY AUTOINCREMENT,name_raw_contact_id INTEGER REFERENCES
        raw_contacts(_id),photo_id INTEGER REFERENCES data(_id),photo_file_id INTEGER REFERENCES photo_files(_id),
        custom_ringtone TEXT,send_to_voicemail INTEGER NOT NULL DEFAULT 0,times_contacted INTEGER NOT NULL DEFAULT 0,
        last_time_contacted INTEGER,starred INTEGER NOT NULL DEFAULT 0,has_phone_number INTEGER NOT NULL DEFAULT 0,
        lookup TEXT,status_update_id INTEGER REFERENCES data(_id));
    CREATE TABLE raw_contacts (_id INTEGER PRIMARY KEY AUTOINCREMENT,account_name STRING DEFAULT NULL,
        account_type STRING DEFAULT NULL, data_set STRING DEFAULT NULL, sourceid TEXT,raw_contact_is_read_only
        INTEGER NOT NULL DEFAULT 0,version INTEGER NOT NULL DEFAULT 1,dirty INTEGER NOT NULL DEFAULT 0,deleted
        INTEGER NOT NULL DEFAULT 0,contact_id INTEGER REFERENCES contacts(_id),aggregation_mode INTEGER NOT NULL
        DEFAULT 0,aggregation_needed INTEGER NOT NULL DEFAULT 1,custom_ringtone TEXT,send_to_voicemail INTEGER NOT
        NULL DEFAULT 0,times_contacted INTEGER NOT NULL DEFAULT 0,last_time_contacted INTEGER,starred INTEGER NOT
        NULL DEFAULT 0,display_name TEXT,display_name_alt TEXT,display_name_source INTEGER NOT NULL DEFAULT 0,
        phonetic_name TEXT,phonetic_name_style TEXT,sort_key TEXT COLLATE PHONEBOOK,sort_key_alt TEXT COLLATE
        PHONEBOOK,name_verified INTEGER NOT NULL DEFAULT 0,sync1 TEXT, sync2 TEXT, sync3 TEXT, sync4 TEXT );
    CREATE TABLE packages (_id INTEGER PRIMARY KEY AUTOINCREMENT,package TEXT NOT NULL);
    CREATE TABLE mimetypes (_id INTEGER PRIMARY KEY AUTOINCREMENT,mimetype TEXT NOT NULL);
    CREATE TABLE data (_id INTEGER PRIMARY KEY AUTOINCREMENT,package_id INTEGER REFERENCES package(_id),
        mimetype_id INTEGER REFERENCES mimetype(_id) NOT NULL,raw_contact_id INTEGER REFERENCES raw_contacts(_id)
        NOT NULL,is_read_only INTEGER NOT NULL DEFAULT 0,is_primary INTEGER NOT NULL DEFAULT 0,is_super_primary
        INTEGER NOT NULL DEFAULT 0,data_version INTEGER NOT NULL DEFAULT 0,data1 TEXT,data2 TEXT,data3 TEXT,
        data4 TEXT,data5 TEXT,data6 TEXT,data7 TEXT,data8 TEXT,data9 TEXT,data10 TEXT,data11 TEXT,data12 TEXT,
        data13 TEXT,data14 TEXT,data15 TEXT,data_sync1 TEXT, data_sync2 TEXT, data_sync3 TEXT, data_sync4 TEXT );
"""


def test_android_4_schema_with_account_on_the_raw_contact(tmp_path):
    path = make_contacts_db(tmp_path / "contacts2.db", SCHEMA_625 + MIMETYPES + """
        INSERT INTO raw_contacts (_id, account_name, account_type, deleted, contact_id, display_name,
                                  times_contacted, last_time_contacted)
            VALUES (3, 'someone@gmail.com', 'com.google', 0, 1, NULL, 2, 1330000000000);
        INSERT INTO data (_id, mimetype_id, raw_contact_id, data1) VALUES (1, 7, 3, 'Dave Old'),
            (2, 5, 3, '0161 496 0000');""")
    outcomes, rows = parser_harness.run(tmp_path / "run", {CONTACTS2_PATH: path}, ["android-contacts"])
    assert [(o.outcome, o.records) for o in outcomes] == [("parsed", 1)]
    (dave,) = rows["contacts"]
    assert (dave["name"], dave["phones"], dave["ts"]) == ("Dave Old", ["0161 496 0000"], None)
    assert dave["extra"]["account_type"] == "com.google" and dave["extra"]["account_name"] == "someone@gmail.com"
    assert dave["extra"]["times_contacted"] == 2
    assert dave["extra"]["last_time_contacted"]["iso"] == "2012-02-23T12:26:40.000000Z"


def test_real_plaso_contacts2_has_no_raw_contacts(tmp_path):
    real = TESTDATA / "log2timeline+plaso/test_data/android/contacts2.db"
    if not real.exists():
        pytest.skip(f"third-party test data absent: {real}")
    # plaso's copy keeps only the call log: the contacts parser reports what is missing instead of "no data"
    outcomes, rows = parser_harness.run(tmp_path, {CONTACTS2_PATH: real}, ["android-contacts"])
    assert [(o.outcome, o.message) for o in outcomes] == [
        ("unsupported version", "unsupported version: missing table raw_contacts")]
    assert rows["contacts"] == []


def test_damaged_contacts2_is_recovered(tmp_path):
    many = "".join(f"INSERT INTO raw_contacts (_id, account_id, contact_id, display_name, sort_key) VALUES "
                   f"({i}, 1, {i}, 'Person {i} {'x' * 300}', 'Person {i}');" for i in range(1, 201))
    good = make_contacts_db(tmp_path / "good.db", SCHEMA_1603 + MIMETYPES
                            + "INSERT INTO accounts (_id) VALUES (1);" + many)
    bad = damage_leaf(good, tmp_path / "bad.db", "raw_contacts")
    outcomes, rows = parser_harness.run(tmp_path / "run", {CONTACTS2_PATH: bad}, ["android-contacts"])
    (outcome,) = outcomes
    assert (outcome.outcome, outcome.recovered) == ("parsed", True), outcome.message
    assert "damaged" in outcome.message and 150 < outcome.records < 200
    assert all(c["recovered"] for c in rows["contacts"])
