"""iOS Accounts3.sqlite: plaso's real file (Digital Corpora) and fixtures with the Accounts framework's schema."""
import pytest

from tests import parser_harness
from tests.conftest_paths import TESTDATA
from tests.fixtures.ios_accounts import SCHEMA, WAL
from tests.fixtures.sqlite_db import damage, make_db

PATH = "/private/var/mobile/Library/Accounts/Accounts3.sqlite"


def test_real_accounts3_gives_18_accounts(tmp_path):
    real = TESTDATA / "log2timeline+plaso/test_data/ios/Accounts3.sqlite"
    if not real.exists():
        pytest.skip(f"third-party test data absent: {real}")
    outcomes, rows = parser_harness.run(tmp_path, {PATH: real}, ["ios-accounts"])
    assert outcomes[0].outcome == "parsed" and outcomes[0].records == 18
    accounts = rows["accounts"]
    assert [a["source_row"] for a in accounts] == [str(i) for i in range(1, 19)]
    gmail = accounts[-1]
    assert gmail["platform"] == "Gmail" and gmail["account_type"] == "com.apple.account.Google"
    assert gmail["username"] == "thisisdfir@gmail.com" and gmail["email"] == "thisisdfir@gmail.com"
    assert gmail["display_name"] == "Gmail" and gmail["ts"] == "2020-03-22T01:11:29.572603Z"
    assert gmail["extra"]["owning_bundle"] == "com.apple.Preferences"
    assert gmail["extra"]["identifier"] == "4FD35256-CE13-47FE-9840-EBEB5B9FD9C1"
    icloud = accounts[3]
    assert (icloud["platform"], icloud["account_type"]) == ("iCloud", "com.apple.account.AppleAccount")
    local = accounts[0]
    assert local["username"] is None and local["email"] is None and local["platform"] == "iTunes Store"
    assert local["ts"] == "2020-03-21T21:39:51.912371Z" and local["ts_encoding"] == "cocoa_s"
    assert sum(a["username"] == "thisisdfir@gmail.com" for a in accounts) == 10


def test_fixture_with_wal_row(tmp_path):
    db = make_db(tmp_path / "src" / "Accounts3.sqlite", SCHEMA, wal_sql=WAL)
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: db, PATH + "-wal": str(db) + "-wal"},
                                        ["ios-accounts"])
    assert outcomes[0].outcome == "parsed" and outcomes[0].from_wal == 1
    first, second = rows["accounts"]
    assert first["extra"] == {"identifier": "ID-1", "owning_bundle": "com.apple.purplebuddy", "active": True,
                              "authenticated": True, "visible": True}
    assert first["ts"] == "2023-03-08T20:26:40.125000Z" and first["email"] == "suspect@icloud.com"
    assert "secret" not in str(rows)
    assert second["username"] == "burner.account" and second["email"] is None and second["from_wal"] is True
    assert second["platform"] == "Gmail" and second["extra"]["parent_account"] == 1


def test_older_schema_without_owning_bundle(tmp_path):
    db = make_db(tmp_path / "Accounts3.sqlite", """
        CREATE TABLE ZACCOUNT ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZACTIVE INTEGER,
          ZAUTHENTICATED INTEGER, ZSUPPORTSAUTHENTICATION INTEGER, ZACCOUNTTYPE INTEGER, ZPARENTACCOUNT INTEGER,
          ZDATE TIMESTAMP, ZACCOUNTDESCRIPTION VARCHAR, ZAUTHENTICATIONTYPE VARCHAR, ZCREDENTIALTYPE VARCHAR,
          ZIDENTIFIER VARCHAR, ZUSERNAME VARCHAR, ZDATACLASSPROPERTIES BLOB );
        CREATE TABLE ZACCOUNTTYPE ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
          ZSUPPORTSAUTHENTICATION INTEGER, ZSUPPORTSMULTIPLEACCOUNTS INTEGER, ZVISIBILITY INTEGER,
          ZACCOUNTTYPEDESCRIPTION VARCHAR, ZCREDENTIALPROTECTIONPOLICY VARCHAR, ZCREDENTIALTYPE VARCHAR,
          ZIDENTIFIER VARCHAR, ZOWNINGBUNDLEID VARCHAR );
        INSERT INTO ZACCOUNTTYPE (Z_PK, ZACCOUNTTYPEDESCRIPTION, ZIDENTIFIER) VALUES (1, 'Twitter',
          'com.apple.twitter');
        INSERT INTO ZACCOUNT (Z_PK, ZACTIVE, ZACCOUNTTYPE, ZDATE, ZUSERNAME) VALUES (5, 0, 1, 400000000, 'handle');
        """)
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: db}, ["ios-accounts"])
    (account,) = rows["accounts"]
    assert account["platform"] == "Twitter" and account["username"] == "handle"
    assert account["extra"] == {"identifier": None, "owning_bundle": None, "active": False}
    assert account["ts"] == "2013-09-04T15:06:40.000000Z"


def test_damaged_accounts_db_is_recovered(tmp_path):
    many = "".join(f"INSERT INTO ZACCOUNT (Z_PK, ZACCOUNTTYPE, ZDATE, ZUSERNAME, ZACCOUNTDESCRIPTION) VALUES "
                   f"({i}, 1, {700000000 + i}, 'user{i}', '{'d' * 300} {i}');" for i in range(2, 202))
    good = make_db(tmp_path / "good.sqlite", SCHEMA + many)
    page = good.read_bytes().find(b"d" * 300 + b" 100") // 4096 + 1
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: damage(good, tmp_path / "bad.sqlite", page)},
                                        ["ios-accounts"])
    assert outcomes[0].outcome == "parsed" and outcomes[0].recovered
    assert 150 < outcomes[0].records < 201 and all(a["recovered"] for a in rows["accounts"])
