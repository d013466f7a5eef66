"""Android call log: plaso's real contacts2.db, and calllog.db / contacts2.db / Samsung logs.db fixtures built with
the providers' schemas (AOSP CallLogDatabaseHelper and its upgrade steps; Samsung LogsProvider's logs columns)."""

import pytest

from tests import parser_harness
from tests.conftest_paths import TESTDATA
from tests.fixtures.android_calls import CALLLOG_SCHEMA, SIM
from tests.fixtures.sqlite_db import damage_leaf, make_db

CALLLOG_PATH = "/data/data/com.android.providers.contacts/databases/calllog.db"
CONTACTS2_PATH = "/data/data/com.android.providers.contacts/databases/contacts2.db"
SAMSUNG_CALLLOG_PATH = "/data/data/com.samsung.android.providers.contacts/databases/calllog.db"
LOGS_PATH = "/data/data/com.sec.android.provider.logsprovider/databases/logs.db"
CALL_PARSERS = ["android-calllog", "android-calllog-legacy", "samsung-logs-calls"]


def test_real_contacts2_gives_plasos_three_calls(tmp_path):
    real = TESTDATA / "log2timeline+plaso/test_data/android/contacts2.db"
    if not real.exists():
        pytest.skip(f"third-party test data absent: {real}")
    outcomes, rows = parser_harness.run(tmp_path, {CONTACTS2_PATH: real}, CALL_PARSERS)
    assert [(o.spec.name, o.outcome, o.records) for o in outcomes] == [("android-calllog-legacy", "parsed", 3)]
    calls = rows["calls"]
    assert [c["source_row"] for c in calls] == ["714", "715", "717"]
    missed, outgoing, incoming = calls
    assert missed["ts"] == "2013-11-06T21:17:16.690000Z" and missed["ts_raw"] == "1383772636690"
    assert missed["ts_encoding"] == "unix_ms"
    assert missed["peers"] == ["5404561685"] and missed["peer_name"] == "Barney"
    assert (missed["direction"], missed["answered"], missed["status"]) == ("incoming", False, "missed")
    assert missed["call_type"] is None  # this schema predates the features column
    assert missed["extra"]["normalized_number"] == "+15404561685"
    assert missed["extra"]["geocoded_location"] == "Bedrock"
    assert (outgoing["direction"], outgoing["status"], outgoing["duration_s"]) == ("outgoing", "dialed", 126)
    assert (incoming["direction"], incoming["answered"], incoming["duration_s"]) == ("incoming", True, 639)
    assert incoming["ts"] == "2013-11-07T00:03:36.690000Z"
    assert all(c["source_table"] == "calls" and c["platform"] == "Phone" for c in calls)


WHATSAPP = "'com.whatsapp/com.whatsapp.voipcalling.SelfManagedConnectionService', 'WhatsApp'"
CALLLOG_ROWS = f"""
    INSERT INTO calls (_id, number, date, duration, type, features, subscription_component_name, subscription_id,
                       name, countryiso, normalized_number, last_modified)
        VALUES (1, '+15551230001', 1700000000000, 62, 2, 0, {SIM}, 'Alice', 'US', '+15551230001', 1700000062000);
    INSERT INTO calls (_id, number, date, duration, type, features, subscription_component_name, subscription_id,
                       phone_account_address)
        VALUES (2, '+447700900123', 1700000100000, 305, 1, 1, {WHATSAPP}, '+15550009999');
    INSERT INTO calls (_id, number, presentation, date, duration, type, features, subscription_component_name,
                       subscription_id, is_read, missed_reason)
        VALUES (3, '', 2, 1700000200500, 0, 3, 0, {SIM}, 0, 65536);
    INSERT INTO calls (_id, number, date, duration, type, subscription_component_name, subscription_id,
                       transcription, _data, has_content, mime_type)
        VALUES (4, '+15551230004', 1700000300000, 21, 4, {SIM}, 'meet me at the usual place',
                '/data/user/0/com.android.providers.contacts/app_voicemail-data/voicemail1', 1, 'audio/amr');
"""
CALLLOG_WAL = f"""INSERT INTO calls (_id, number, date, duration, type, subscription_component_name, subscription_id,
                                     block_reason, call_screening_app_name)
                  VALUES (5, '+15551230005', 1700000400000, 0, 6, {SIM}, 3, 'Phone');"""


def test_calllog_fixture_calls_voip_wal_row(tmp_path):
    src = make_db(tmp_path / "src" / "calllog.db", CALLLOG_SCHEMA + CALLLOG_ROWS, wal_sql=CALLLOG_WAL)
    files = {CALLLOG_PATH: src, CALLLOG_PATH + "-wal": src.with_name("calllog.db-wal")}
    outcomes, rows = parser_harness.run(tmp_path / "run", files, CALL_PARSERS)
    assert [(o.spec.name, o.outcome, o.records, o.from_wal) for o in outcomes] == [
        ("android-calllog", "parsed", 5, 1)]
    sim_out, whatsapp, hidden, voicemail, blocked = rows["calls"]

    assert sim_out["ts"] == "2023-11-14T22:13:20.000000Z" and sim_out["ts_raw"] == "1700000000000"
    assert (sim_out["direction"], sim_out["call_type"], sim_out["duration_s"], sim_out["peers"]) == (
        "outgoing", "audio", 62, ["+15551230001"])
    assert sim_out["platform"] == "Phone" and sim_out["peer_name"] == "Alice" and sim_out["app"] == (
        "com.android.providers.contacts")
    assert "phone_account_app" not in sim_out["extra"]
    assert sim_out["extra"]["phone_account_id"] == "89014103211118510720"
    assert sim_out["extra"]["last_modified"] == {"iso": "2023-11-14T22:14:22.000000Z", "raw": "1700000062000",
                                                 "encoding": "unix_ms"}

    # a WhatsApp video call that WhatsApp logged in the system call log through its ConnectionService
    assert (whatsapp["platform"], whatsapp["call_type"], whatsapp["direction"], whatsapp["answered"]) == (
        "WhatsApp", "video", "incoming", True)
    assert whatsapp["extra"]["phone_account_app"] == "com.whatsapp"
    assert whatsapp["extra"]["phone_account_component"] == (
        "com.whatsapp/com.whatsapp.voipcalling.SelfManagedConnectionService")
    assert whatsapp["extra"]["phone_account_address"] == "+15550009999"

    assert hidden["peers"] == [] and hidden["extra"]["number_presentation"] == "restricted"
    assert (hidden["status"], hidden["answered"], hidden["ts"]) == ("missed", False, "2023-11-14T22:16:40.500000Z")
    assert hidden["extra"]["missed_reason"] == 65536 and hidden["extra"]["read"] == 0

    assert voicemail["status"] == "voicemail"
    assert voicemail["extra"]["voicemail_transcription"] == "meet me at the usual place"
    assert voicemail["extra"]["voicemail_file"].endswith("app_voicemail-data/voicemail1")

    assert (blocked["status"], blocked["from_wal"], blocked["source_row"]) == ("blocked", True, "5")
    assert blocked["extra"]["block_reason"] == 3 and not sim_out["from_wal"]

    # the same database without its -wal: the WAL-only call is absent
    outcomes, rows = parser_harness.run(tmp_path / "run2", {CALLLOG_PATH: src}, ["android-calllog"])
    assert [c["source_row"] for c in rows["calls"]] == ["1", "2", "3", "4"]


def test_samsung_calllog_path_and_logtype_column(tmp_path):
    # Samsung's calls table carries a logtype column; message logtypes are not calls
    path = make_db(tmp_path / "calllog.db", CALLLOG_SCHEMA + """
        ALTER TABLE calls ADD logtype INTEGER DEFAULT 100;
        INSERT INTO calls (_id, number, date, duration, type, logtype) VALUES (1, '+15551230001', 1700000000000,
                                                                                 9, 1, 100);
        INSERT INTO calls (_id, number, date, duration, type, logtype) VALUES (2, '+15551230001', 1700000100000,
                                                                                 0, 1, 300);
        INSERT INTO calls (_id, number, date, duration, type, logtype) VALUES (3, '+15551230001', 1700000200000,
                                                                                 5, 2, NULL);""")
    outcomes, rows = parser_harness.run(tmp_path / "run", {SAMSUNG_CALLLOG_PATH: path}, CALL_PARSERS)
    assert [(o.spec.name, o.records) for o in outcomes] == [("android-calllog", 2)]
    call, unmarked = rows["calls"]  # a row without a logtype is a call like any other
    assert call["app"] == "com.samsung.android.providers.contacts" and call["extra"]["samsung_logtype"] == 100
    assert unmarked["source_row"] == "3" and "samsung_logtype" not in unmarked["extra"]


# contacts2.db at version 1109 (Android 6): the calls table the provider later moves to calllog.db
LEGACY_CALLS = """
    CREATE TABLE calls (_id INTEGER PRIMARY KEY AUTOINCREMENT,number TEXT,presentation INTEGER NOT NULL DEFAULT 1,
        post_dial_digits TEXT NOT NULL DEFAULT '',date INTEGER,duration INTEGER,data_usage INTEGER,type INTEGER,
        features INTEGER NOT NULL DEFAULT 0,subscription_component_name TEXT,subscription_id TEXT,
        phone_account_address TEXT,phone_account_hidden INTEGER NOT NULL DEFAULT 0,sub_id INTEGER DEFAULT -1,
        new INTEGER,name TEXT,numbertype INTEGER,numberlabel TEXT,countryiso TEXT,voicemail_uri TEXT,is_read INTEGER,
        geocoded_location TEXT,lookup_uri TEXT,matched_number TEXT,normalized_number TEXT,
        photo_id INTEGER NOT NULL DEFAULT 0,photo_uri TEXT,formatted_number TEXT,
        add_for_all_users INTEGER NOT NULL DEFAULT 1,_data TEXT,has_content INTEGER,mime_type TEXT,source_data TEXT,
        source_package TEXT,transcription TEXT,state INTEGER,dirty INTEGER NOT NULL DEFAULT 0,
        deleted INTEGER NOT NULL DEFAULT 0, last_modified INTEGER DEFAULT 0);
"""


def test_legacy_contacts2_calls_and_a_current_contacts2_without_them(tmp_path):
    old = make_db(tmp_path / "old" / "contacts2.db", LEGACY_CALLS + """
        INSERT INTO calls (_id, number, date, duration, type, features, subscription_component_name)
            VALUES (7, '+15551230007', 1450000000000, 12, 5, 0,
                    'com.android.phone/com.android.services.telephony.TelephonyConnectionService');""")
    outcomes, rows = parser_harness.run(tmp_path / "run", {CONTACTS2_PATH: old}, CALL_PARSERS)
    assert [(o.spec.name, o.outcome, o.records) for o in outcomes] == [("android-calllog-legacy", "parsed", 1)]
    (call,) = rows["calls"]
    assert (call["status"], call["answered"], call["call_type"]) == ("rejected", False, "audio")
    assert call["ts"] == "2015-12-13T09:46:40.000000Z"

    # once migrated, contacts2.db has no calls table: this parser says so rather than reporting "no data"
    current = make_db(tmp_path / "new" / "contacts2.db", "CREATE TABLE raw_contacts (_id INTEGER PRIMARY KEY);")
    outcomes, rows = parser_harness.run(tmp_path / "run2", {CONTACTS2_PATH: current}, CALL_PARSERS)
    assert [(o.spec.name, o.outcome, o.message) for o in outcomes] == [
        ("android-calllog-legacy", "unsupported version", "unsupported version: missing table calls")]


# Samsung LogsProvider logs table: the columns a device's provider selects from it (column list from a
# Samsung device's query; the declared types are this fixture's)
SAMSUNG_LOGS = """
    CREATE TABLE logs (_id INTEGER PRIMARY KEY AUTOINCREMENT, number TEXT, address TEXT, date INTEGER,
        duration INTEGER, type INTEGER, new INTEGER, name TEXT, numbertype INTEGER, numberlabel TEXT,
        countryiso TEXT, voicemail_uri TEXT, is_read INTEGER, geocoded_location TEXT, lookup_uri TEXT,
        matched_number TEXT, normalized_number TEXT, photo_id INTEGER, formatted_number TEXT, logtype INTEGER,
        messageid INTEGER, m_subject TEXT, m_content TEXT, contactid INTEGER, raw_contact_id INTEGER,
        account_id INTEGER, account_name TEXT, sim_id INTEGER, real_phone_number TEXT, presentation INTEGER,
        remind_me_later_set INTEGER, e164_number TEXT, call_out_duration INTEGER, vvm_id INTEGER,
        dormant_set INTEGER, photoring_uri TEXT, cityid TEXT, sdn_alpha_id TEXT, subscription_component_name TEXT,
        subscription_id TEXT, sec_custom1 TEXT, sec_custom2 TEXT, sec_custom3 TEXT, simnum INTEGER,
        country_code TEXT, fname TEXT, lname TEXT, bname TEXT, pinyin_name TEXT, cnap_name TEXT, sns_tid TEXT,
        sns_pkey TEXT, sns_receiver_count INTEGER, frequent INTEGER, sp_type TEXT, features INTEGER,
        data_usage INTEGER, reject_flag INTEGER, service_type INTEGER, spam_report INTEGER, transcription TEXT,
        cdnip_number TEXT);
    INSERT INTO logs (_id, number, date, duration, type, logtype, name, features, m_content) VALUES
        (1, '01012345678', 1500000000000, 40, 2, 100, 'Kim', 0, NULL),
        (2, '01012345678', 1500000100000, 0, 1, 300, 'Kim', 0, 'an SMS, not a call'),
        (3, '01087654321', 1500000200000, 75, 1, 500, NULL, 1, NULL);
"""


def test_samsung_logs_db_keeps_only_call_logtypes(tmp_path):
    path = make_db(tmp_path / "logs.db", SAMSUNG_LOGS)
    outcomes, rows = parser_harness.run(tmp_path / "run", {LOGS_PATH: path}, CALL_PARSERS)
    assert [(o.spec.name, o.outcome, o.records) for o in outcomes] == [("samsung-logs-calls", "parsed", 2)]
    first, video = rows["calls"]
    assert (first["source_table"], first["source_row"], first["peers"], first["direction"]) == (
        "logs", "1", ["01012345678"], "outgoing")
    assert first["app"] == "com.sec.android.provider.logsprovider" and first["ts"] == "2017-07-14T02:40:00.000000Z"
    assert (video["source_row"], video["call_type"], video["extra"]["samsung_logtype"]) == ("3", "video", 500)


def test_damaged_calllog_is_recovered(tmp_path):
    many = "".join(f"INSERT INTO calls (_id, number, date, duration, type, geocoded_location) VALUES "
                   f"({i}, '+1555{i:07d}', {1700000000000 + i}, {i}, 1, '{'x' * 300}');" for i in range(1, 201))
    good = make_db(tmp_path / "good.db", CALLLOG_SCHEMA + many)
    bad = damage_leaf(good, tmp_path / "bad.db", "calls")
    outcomes, rows = parser_harness.run(tmp_path / "run", {CALLLOG_PATH: bad}, ["android-calllog"])
    (outcome,) = outcomes
    assert outcome.outcome == "parsed" and outcome.recovered and "damaged" in outcome.message
    assert 150 < outcome.records < 200
    assert all(c["recovered"] for c in rows["calls"])
