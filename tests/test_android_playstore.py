"""Google Play Store: localappstate.db, library.db and frosting.db built at test time with the Play Store's tables."""
from tests import parser_harness
from tests.fixtures.sqlite_db import damage, make_db

BASE = "/data/data/com.android.vending/databases/"
ACCOUNT = "suspect.account@gmail.com"

# appstate as the Play Store's InstallerDataStore creates it (database version 33)
APPSTATE_SCHEMA = """
CREATE TABLE android_metadata (locale TEXT);
CREATE TABLE appstate (package_name STRING, auto_update INTEGER, desired_version INTEGER, download_uri STRING,
  delivery_data BLOB, delivery_data_timestamp_ms INTEGER,installer_state INTEGER, first_download_ms INTEGER,
  referrer STRING, account STRING, title STRING,flags INTEGER, continue_url STRING, last_notified_version INTEGER,
  last_update_timestamp_ms INTEGER, account_for_update STRING, auto_acquire_tags STRING,
  external_referrer_timestamp_ms INTEGER, persistent_flags INTEGER, permissions_version INTEGER,
  delivery_token STRING,completed_split_ids STRING, active_split_id STRING, request_id STRING,
  managed_configuration_token BLOB, total_completed_bytes_downloaded INTEGER,app_details BLOB,
  install_client_event_id INTEGER,last_client_event_id INTEGER, requesting_package_name STRING,
  update_discovered_timestamp_ms INTEGER, install_logging_context BLOB, logging_context BLOB,
  install_request_timestamp_ms INTEGER, desired_derived_apk_id INTEGER, notification_intent STRING,
  auto_update_flow_policy BLOB, install_reason STRING, sandbox_version INTEGER,requested_modules TEXT,
  install_request_data BLOB,PRIMARY KEY (package_name));
"""
APPSTATE_ROWS = f"""
INSERT INTO appstate (package_name, auto_update, desired_version, installer_state, first_download_ms, referrer,
  account, title, last_update_timestamp_ms, delivery_token, install_reason, install_request_timestamp_ms)
VALUES
  ('org.telegram.messenger', 1, 47210, 0, 1690000000000, 'utm_source=google-play', '{ACCOUNT}', 'Telegram',
   1700000000123, 'DELIVERY-TOKEN-SECRET', 'single_install', 1689999999000),
  ('com.whatsapp', 1, 232475002, 0, 1680000000000, '', '{ACCOUNT}', 'WhatsApp Messenger', NULL, NULL, NULL, NULL);
"""
APPSTATE_WAL = f"""INSERT INTO appstate (package_name, first_download_ms, account, title)
  VALUES ('com.example.hidden', 1700000500000, '{ACCOUNT}', 'Calculator Vault');"""

# ownership as the Play Store's library creates it (with purchase_time, newer releases)
OWNERSHIP_SCHEMA = """
CREATE TABLE android_metadata (locale TEXT);
CREATE TABLE ownership (account STRING, library_id STRING, backend INTEGER, doc_id STRING, doc_type INTEGER,
  offer_type INTEGER, document_hash INTEGER, subs_valid_until_time INTEGER, app_certificate_hash STRING,
  app_refund_pre_delivery_endtime_ms INTEGER, app_refund_post_delivery_window_ms INTEGER,
  subs_auto_renewing INTEGER, subs_initiation_time INTEGER, subs_trial_until_time INTEGER,
  inapp_purchase_data STRING, inapp_signature STRING, preordered INTEGER, owned_via_license INTEGER,
  shared_by_me INTEGER, sharer_gaia_id TEXT, shareability INTEGER, purchase_time INTEGER,
  PRIMARY KEY (account, library_id, backend, doc_id, doc_type, offer_type));
"""
OWNERSHIP_ROWS = f"""
INSERT INTO ownership (account, library_id, backend, doc_id, doc_type, offer_type, inapp_signature, purchase_time)
VALUES
  ('{ACCOUNT}', '3', 3, 'org.telegram.messenger', 1, 1, NULL, 1600000000000),
  ('{ACCOUNT}', '3', 3, 'inapp:org.telegram.messenger:premium', 11, 1, 'SIGNATURE-SECRET', 1600000100000),
  ('{ACCOUNT}', 'u-wl', 3, 'com.burner.app', 1, 1, NULL, 0);
"""


def test_installs_library_frosting_and_wal(tmp_path):
    src = tmp_path / "src"
    state = make_db(src / "localappstate.db", APPSTATE_SCHEMA + APPSTATE_ROWS, wal_sql=APPSTATE_WAL)
    library = make_db(src / "library.db", OWNERSHIP_SCHEMA + OWNERSHIP_ROWS)
    frosting = make_db(src / "frosting.db", """
        CREATE TABLE frosting (pk TEXT, apk_path TEXT, last_updated INTEGER);
        INSERT INTO frosting VALUES ('com.whatsapp', '/data/app/~~aa==/com.whatsapp-bb==/base.apk', 1700000300000);""")
    files = {BASE + "localappstate.db": state, BASE + "localappstate.db-wal": state.with_name("localappstate.db-wal"),
             BASE + "library.db": library, BASE + "frosting.db": frosting}
    outcomes, rows = parser_harness.run(tmp_path / "run", files,
                                        ["playstore-installs", "playstore-library", "playstore-frosting"])
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "playstore-installs": ("parsed", 3, 1), "playstore-library": ("parsed", 2, 0),
        "playstore-frosting": ("parsed", 1, 0)}
    apps = rows["apps"]
    installs = [a for a in apps if a["parser"] == "playstore-installs"]
    telegram, whatsapp, hidden = installs
    assert telegram["package"] == "org.telegram.messenger" and telegram["name"] == "Telegram"
    assert telegram["installer"] == "com.android.vending" and telegram["app"] == "com.android.vending"
    assert telegram["ts"] == "2023-07-22T04:26:40.000000Z" and telegram["ts_encoding"] == "unix_ms"
    assert telegram["updated_ts"] == "2023-11-14T22:13:20.123000Z"
    assert telegram["extra"]["account"] == ACCOUNT and telegram["extra"]["referrer"] == "utm_source=google-play"
    assert telegram["extra"]["install_request_time"] == "2023-07-22T04:26:39.000000Z"
    assert telegram["source_table"] == "appstate" and telegram["source_row"] == "1"
    assert whatsapp["updated_ts"] is None and "referrer" not in whatsapp["extra"]
    assert hidden["package"] == "com.example.hidden" and hidden["from_wal"] and not telegram["from_wal"]

    owned = [a for a in apps if a["parser"] == "playstore-library"]
    assert [a["package"] for a in owned] == ["org.telegram.messenger", "com.burner.app"]  # the in-app item is left out
    assert owned[0]["ts"] == "2020-09-13T12:26:40.000000Z" and owned[0]["extra"]["account"] == ACCOUNT
    assert owned[0]["extra"]["owned_by_account"] is True and owned[1]["ts"] is None
    assert owned[1]["source_table"] == "ownership" and owned[1]["source_row"] == "3"

    (frosted,) = [a for a in apps if a["parser"] == "playstore-frosting"]
    assert frosted["package"] == "com.whatsapp" and frosted["installer"] is None and frosted["ts"] is None
    assert frosted["updated_ts"] == "2023-11-14T22:18:20.000000Z"
    assert frosted["extra"]["apk_path"] == "/data/app/~~aa==/com.whatsapp-bb==/base.apk"
    assert "SECRET" not in repr(apps)


def test_old_play_store_schemas(tmp_path):
    # appstate before last_update_timestamp_ms and the other later columns; ownership before purchase_time
    state = make_db(tmp_path / "localappstate.db", """
        CREATE TABLE appstate (package_name STRING, auto_update INTEGER, desired_version INTEGER,
          download_uri STRING, delivery_data BLOB, delivery_data_timestamp_ms INTEGER, installer_state INTEGER,
          first_download_ms INTEGER, referrer STRING, account STRING, title STRING, flags INTEGER,
          continue_url STRING, last_notified_version INTEGER, PRIMARY KEY (package_name));
        INSERT INTO appstate (package_name, first_download_ms, account, title)
          VALUES ('com.kik.android', 1400000000000, 'old@gmail.com', 'Kik');""")
    library = make_db(tmp_path / "library.db", """
        CREATE TABLE ownership (account STRING, library_id STRING, backend INTEGER, doc_id STRING, doc_type INTEGER,
          offer_type INTEGER, document_hash INTEGER, subs_valid_until_time INTEGER, app_certificate_hash STRING,
          app_refund_pre_delivery_endtime_ms INTEGER, app_refund_post_delivery_window_ms INTEGER,
          subs_auto_renewing INTEGER, subs_initiation_time INTEGER, subs_trial_until_time INTEGER,
          inapp_purchase_data STRING, inapp_signature STRING, preordered INTEGER,
          PRIMARY KEY (account, library_id, backend, doc_id, doc_type, offer_type));
        INSERT INTO ownership (account, library_id, backend, doc_id, doc_type, offer_type)
          VALUES ('old@gmail.com', '3', 3, 'com.kik.android', 1, 1);""")
    outcomes, rows = parser_harness.run(tmp_path / "run", {BASE + "localappstate.db": state,
                                                           BASE + "library.db": library},
                                        ["playstore-installs", "playstore-library"])
    assert sorted((o.spec.name, o.outcome) for o in outcomes) == [("playstore-installs", "parsed"),
                                                                  ("playstore-library", "parsed")]
    installed, owned = sorted(rows["apps"], key=lambda a: a["parser"])
    assert installed["ts"] == "2014-05-13T16:53:20.000000Z" and installed["updated_ts"] is None
    assert installed["name"] == "Kik" and installed["extra"]["account"] == "old@gmail.com"
    assert owned["package"] == "com.kik.android" and owned["ts"] is None


def test_damaged_localappstate_is_recovered(tmp_path):
    many = "".join(f"INSERT INTO appstate (package_name, first_download_ms, account, title, delivery_token) VALUES "
                   f"('com.example.app{i}', {1600000000000 + i}, '{ACCOUNT}', 'App {i}', '{'t' * 300}');"
                   for i in range(1, 201))
    good = make_db(tmp_path / "good.db", APPSTATE_SCHEMA + many)
    bad = damage(good, tmp_path / "localappstate.db", page=good.stat().st_size // 4096 // 2)
    outcomes, rows = parser_harness.run(tmp_path / "run", {BASE + "localappstate.db": bad}, ["playstore-installs"])
    (outcome,) = outcomes
    assert outcome.outcome == "parsed" and outcome.recovered and "damaged" in outcome.message
    assert 150 < outcome.records < 200 and all(a["recovered"] for a in rows["apps"])
