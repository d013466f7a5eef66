"""Android AccountManager databases built with AOSP's schemas (AccountsDb CE/DE helpers, the pre-N accounts.db)."""

import pytest

from parsers.android_accounts import platform_for
from tests import parser_harness
from tests.fixtures.android_accounts import CE_SCHEMA, DE_SCHEMA
from tests.fixtures.sqlite_db import damage_leaf, make_db

CE_PATH = "/data/system_ce/0/accounts_ce.db"
DE_PATH = "/data/system_de/0/accounts_de.db"
PRE_N_PATH = "/data/system/users/0/accounts.db"

PASSWORD = "hunter2-planted-password"
TOKEN = "ya29.planted-oauth-token-value"

CE_ROWS = f"""
    INSERT INTO android_metadata VALUES ('en_US');
    INSERT INTO accounts VALUES (1, 'suspect.one@gmail.com', 'com.google', '{PASSWORD}');
    INSERT INTO accounts VALUES (2, 'WhatsApp', 'com.whatsapp', NULL);
    INSERT INTO authtokens VALUES (1, 1, 'oauth2:https://www.googleapis.com/auth/plus.me', '{TOKEN}');
    INSERT INTO extras VALUES (1, 1, 'sha1hash', '{TOKEN}-extra');
"""
CE_WAL = "INSERT INTO accounts VALUES (3, '+15551230003', 'org.telegram.messenger', NULL);"

DE_ROWS = """
    INSERT INTO android_metadata VALUES ('en_US');
    INSERT INTO accounts VALUES (1, 'suspect.one@gmail.com', 'com.google', 'old.name@gmail.com', 1600000000123);
    INSERT INTO accounts VALUES (2, 'WhatsApp', 'com.whatsapp', NULL, 0);
    INSERT INTO debug_table VALUES (1, 'action_account_add', '2020-09-13 14:26:40', 10123, 'accounts', 0);
    INSERT INTO visibility VALUES (1, 'com.whatsapp', 1);
"""


def test_ce_and_de_accounts_without_credentials(tmp_path):
    src = tmp_path / "src"
    make_db(src / "accounts_ce.db", CE_SCHEMA + CE_ROWS, wal_sql=CE_WAL)
    make_db(src / "accounts_de.db", DE_SCHEMA + DE_ROWS)
    files = {CE_PATH: src / "accounts_ce.db", CE_PATH + "-wal": src / "accounts_ce.db-wal",
             DE_PATH: src / "accounts_de.db"}
    run = tmp_path / "run"
    outcomes, rows = parser_harness.run(run, files, ["android-accounts"])
    assert {o.source.path: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        CE_PATH: ("parsed", 3, 1), DE_PATH: ("parsed", 2, 0)}
    by_source = {}
    for account in rows["accounts"]:
        by_source.setdefault(account["source_path"], []).append(account)
    ce = by_source[CE_PATH]
    assert [(a["username"], a["account_type"], a["platform"]) for a in ce] == [
        ("suspect.one@gmail.com", "com.google", "Google"), ("WhatsApp", "com.whatsapp", "WhatsApp"),
        ("+15551230003", "org.telegram.messenger", "Telegram")]
    assert ce[0]["email"] == "suspect.one@gmail.com" and ce[0]["phone"] is None
    assert ce[2]["phone"] == "+15551230003" and ce[2]["from_wal"] and not ce[0]["from_wal"]
    assert ce[1]["source_table"] == "accounts" and ce[1]["source_row"] == "2"
    assert ce[0]["ts"] is None  # the CE table keeps no times
    de = by_source[DE_PATH]
    google = de[0]
    assert google["ts"] == "2020-09-13T12:26:40.123000Z" and google["ts_raw"] == "1600000000123"
    assert google["extra"] == {"database": "accounts_de.db", "previous_name": "old.name@gmail.com",
                               "ts_is": "last password entry"}
    assert de[1]["ts"] is None  # 0 means "never entered"

    # neither the planted password nor the auth token (nor the extras value) reaches the store
    stored = b"".join(p.read_bytes() for p in run.glob("shard.sqlite*"))
    assert b"suspect.one@gmail.com" in stored  # the check below looks at the right bytes
    assert PASSWORD.encode() not in stored and TOKEN.encode() not in stored


def test_pre_n_accounts_db_before_previous_name_and_password_time(tmp_path):
    # accounts.db at AccountManagerService database version 5: neither previous_name (v6) nor
    # last_password_entry_time_millis_epoch (v7) exists yet
    path = make_db(tmp_path / "accounts.db", f"""
        CREATE TABLE accounts ( _id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, type TEXT NOT NULL,
            password TEXT, UNIQUE(name,type));
        CREATE TABLE authtokens (  _id INTEGER PRIMARY KEY AUTOINCREMENT,  accounts_id INTEGER NOT NULL,
            type TEXT NOT NULL,  authtoken TEXT,  UNIQUE (accounts_id,type));
        INSERT INTO accounts VALUES (4, 'someone@outlook.com', 'com.android.exchange', '{PASSWORD}');
        INSERT INTO accounts VALUES (5, 'x', 'com.example.unknown', NULL);
        INSERT INTO authtokens VALUES (1, 4, 'x', '{TOKEN}');""")
    run = tmp_path / "run"
    outcomes, rows = parser_harness.run(run, {PRE_N_PATH: path}, ["android-accounts"])
    assert [(o.outcome, o.records) for o in outcomes] == [("parsed", 2)]
    assert [(a["username"], a["platform"], a["source_row"]) for a in rows["accounts"]] == [
        ("someone@outlook.com", "Exchange", "4"), ("x", None, "5")]
    assert rows["accounts"][0]["extra"] == {"database": "accounts.db"}
    stored = b"".join(p.read_bytes() for p in run.glob("shard.sqlite*"))
    assert PASSWORD.encode() not in stored and TOKEN.encode() not in stored


def test_damaged_ce_database_is_recovered_without_leaking_passwords(tmp_path):
    many = "".join(f"INSERT INTO accounts VALUES ({i}, 'user{i}-{'n' * 400}@example.com', 'com.google', "
                   f"'{PASSWORD}{i}');" for i in range(1, 101))
    good = make_db(tmp_path / "good.db", CE_SCHEMA + many)
    bad = damage_leaf(good, tmp_path / "bad.db", "accounts")
    run = tmp_path / "run"
    outcomes, rows = parser_harness.run(run, {CE_PATH: bad}, ["android-accounts"])
    (outcome,) = outcomes
    assert outcome.outcome == "parsed" and outcome.recovered and "damaged" in outcome.message
    assert 60 < outcome.records < 100
    assert all(a["recovered"] for a in rows["accounts"])
    stored = b"".join(p.read_bytes() for p in run.glob("shard.sqlite*"))
    assert PASSWORD.encode() not in stored


@pytest.mark.parametrize("account_type, platform", [
    ("com.google", "Google"), ("com.google.android.gm.exchange", "Exchange"), ("com.whatsapp.w4b",
                                                                                "WhatsApp Business"),
    ("com.whatsapp", "WhatsApp"), ("com.googlex", None), ("", None), (None, None)])
def test_platform_for_matches_dotted_prefixes_only(account_type, platform):
    assert platform_for(account_type) == platform
