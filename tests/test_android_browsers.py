"""Chromium-family browser history and the Android download manager: plaso's real Chrome History and downloads.db,
and History databases built at test time with the tables of current Chromium and of the old (version 20) schema."""

import pytest

from tests import parser_harness
from tests.conftest_paths import TESTDATA
from tests.fixtures.android_browsers import MODERN_SCHEMA
from tests.fixtures.sqlite_db import damage_leaf, make_db

CHROME = "/data/data/com.android.chrome/app_chrome/Default/History"
CHROME_PROFILE = "/data/user/0/com.android.chrome/app_chrome/Profile 1/History"
SAMSUNG = "/data/data/com.sec.android.app.sbrowser/app_sbrowser/Default/History"
WEBVIEW = "/data/data/com.example.classifieds/app_webview/Default/History"
DOWNLOAD_MANAGER = "/data/data/com.android.providers.downloads/databases/downloads.db"
PLASO = TESTDATA / "log2timeline+plaso/test_data"

# 2023-11-14T22:13:20Z (unix 1700000000) in WebKit microseconds
T0 = (1_700_000_000 + 11_644_473_600) * 1_000_000

# Transitions: 838860801 = TYPED|FROM_ADDRESS_BAR|CHAIN_START|CHAIN_END; 268435456 = LINK|CHAIN_START;
# -1610612736 = LINK|CHAIN_END|SERVER_REDIRECT as Chrome binds the 32-bit value (negative); 805306375 = FORM_SUBMIT.
MODERN_ROWS = f"""
INSERT INTO urls VALUES
  (1, 'https://classifieds.example/jobs', 'Jobs abroad', 2, 1, {T0 + 60_000_000}, 0),
  (2, 'http://short.example/x', '', 1, 0, {T0 + 10_000_000}, 1),
  (3, 'https://classifieds.example/apply?id=7', 'Apply', 1, 0, {T0 + 10_250_000}, 0),
  (4, 'https://www.google.com/search?q=visa+sponsor+jobs', 'visa sponsor jobs - Google Search', 1, 0,
   {T0 + 5_123_456}, 0);
INSERT INTO visits (id, url, visit_time, from_visit, transition, visit_duration) VALUES
  (1, 1, {T0}, 0, 838860801, 5000000),
  (2, 2, {T0 + 10_000_000}, 1, 268435456, 0),
  (3, 3, {T0 + 10_250_000}, 2, -1610612736, 42000000),
  (4, 99, {T0 + 20_000_000}, 0, 805306375, 0),
  (5, 4, {T0 + 5_123_456}, 0, 838860809, 0);
INSERT INTO keyword_search_terms VALUES (2, 4, 'visa sponsor jobs', 'visa sponsor jobs');
INSERT INTO downloads VALUES
  (1, '6f9619ff-8b86-4011-b42d-00c04fc964ff', '/storage/emulated/0/Download/contract.pdf',
   '/storage/emulated/0/Download/contract.pdf', {T0 + 100_000_000}, 48213, 48213, 1, 0, 0, X'',
   {T0 + 101_500_000}, 1, {T0 + 200_000_000}, 0, 'https://classifieds.example/apply?id=7',
   'https://classifieds.example/',
   '', 'https://classifieds.example/apply?id=7', '', 'GET', '', '', '', '', '', 'application/pdf', 'application/pdf'),
  (2, '0b5a3f1e-2c4d-4e6f-8a9b-1c2d3e4f5a6b', '/storage/emulated/0/Download/.pending-setup.apk',
   '/storage/emulated/0/Download/setup.apk', {T0 + 300_000_000}, 1024, 90000, 4, 1, 20, X'', 0, 0, 0, 0,
   '', '', '', '', '', 'GET', '', '', '', '', '', 'application/vnd.android.package-archive',
   'application/vnd.android.package-archive');
INSERT INTO downloads_url_chains VALUES
  (1, 1, 'https://cdn.example/files/contract.pdf'), (1, 0, 'https://classifieds.example/dl/7'),
  (2, 0, 'http://192.0.2.10/setup.apk');
"""
WAL_VISIT = f"INSERT INTO visits (id, url, visit_time, from_visit, transition) VALUES (6, 1, {T0 + 60_000_000}, 0, 8);"


CHROME_PARSERS = ["chrome-history", "chrome-downloads", "chrome-searches"]


def _by(outcomes):
    return {o.spec.name: o for o in outcomes}


def test_real_chrome_history(tmp_path):
    real = PLASO / "chrome/History"
    if not real.exists():
        pytest.skip(f"third-party test data absent: {real}")
    outcomes, rows = parser_harness.run(tmp_path, {CHROME: real}, CHROME_PARSERS)
    # plaso counts 71 events in this file: its 69 visits and 2 downloads; it also holds 3 search terms
    assert {name: (o.outcome, o.records) for name, o in _by(outcomes).items()} == {
        "chrome-history": ("parsed", 69), "chrome-downloads": ("parsed", 2), "chrome-searches": ("parsed", 3)}
    visits = rows["web_visits"]
    assert len(visits) == 69 and {v["app"] for v in visits} == {"com.android.chrome"}
    last = visits[-1]
    assert last["url"] == "https://chrome.google.com/webstore/detail/mfjkgbjaikamkkojmakjclmkianficch?hl=en-US#"
    assert last["ts"] == "2011-05-23T08:37:27.061516Z" and last["ts_raw"] == "12950613447061516"
    assert last["visit_type"] == "link" and last["extra"]["qualifiers"] == ["chain_end", "client_redirect"]
    assert last["source_table"] == "visits" and last["source_row"] == "69" and last["duration_s"] is None
    assert sum(v["visit_type"] == "typed" for v in visits) == 2
    # this History is version 20: its downloads table still holds time_t seconds
    first = rows["downloads"][0]
    assert first["url"] == "http://fatloss4idiotsx.com/download/funcats/funcats_scr.exe"
    assert first["target_path"] == "/home/john/Downloads/funcats_scr.exe" and first["size"] == 1132155
    assert first["ts"] == "2011-05-23T08:35:30.000000Z" and first["ts_encoding"] == "unix_s"
    assert first["state"] == "complete"
    assert [s["term"] for s in rows["searches"]] == ["funny cats", "really really funny cats", "funnycats.exe"]
    assert rows["searches"][0]["ts"] == "2011-05-23T08:34:40.436195Z"


def test_modern_history_visits_downloads_searches_and_wal(tmp_path):
    src = make_db(tmp_path / "src" / "History", MODERN_SCHEMA + MODERN_ROWS, wal_sql=WAL_VISIT)
    outcomes, rows = parser_harness.run(tmp_path / "run", {CHROME: src, CHROME + "-wal": src.with_name("History-wal")},
                                        CHROME_PARSERS)
    assert {n: o.records for n, o in _by(outcomes).items()} == {
        "chrome-history": 6, "chrome-downloads": 2, "chrome-searches": 1}
    assert _by(outcomes)["chrome-history"].from_wal == 1
    visits = {int(v["source_row"]): v for v in rows["web_visits"]}
    typed = visits[1]
    assert typed["url"] == "https://classifieds.example/jobs" and typed["title"] == "Jobs abroad"
    assert typed["ts"] == "2023-11-14T22:13:20.000000Z" and typed["duration_s"] == 5.0
    assert typed["visit_type"] == "typed" and typed["visit_count"] == 2 and typed["browser"] == "Chrome"
    assert typed["extra"]["qualifiers"] == ["from_address_bar", "chain_start", "chain_end"]
    redirect = visits[3]
    assert redirect["visit_type"] == "link" and "server_redirect" in redirect["extra"]["qualifiers"]
    assert redirect["extra"]["from_visit"] == 2 and redirect["duration_s"] == 42.0
    assert visits[2]["extra"]["hidden"] is True
    orphan = visits[4]  # its urls row is gone: the visit is kept, with what is known
    assert orphan["url"] == "" and orphan["extra"]["url_row_missing"] and orphan["visit_type"] == "form_submit"
    assert visits[5]["visit_type"] == "keyword"
    assert visits[6]["from_wal"] and visits[6]["visit_type"] == "reload"
    assert [v["from_wal"] for v in rows["web_visits"]].count(True) == 1

    done, interrupted = rows["downloads"]
    assert done["url"] == "https://cdn.example/files/contract.pdf"
    assert done["extra"]["url_chain"] == ["https://classifieds.example/dl/7", "https://cdn.example/files/contract.pdf"]
    assert done["ts"] == "2023-11-14T22:15:00.000000Z" and done["end_ts"] == "2023-11-14T22:15:01.500000Z"
    assert done["ts_encoding"] == "webkit_us" and done["state"] == "complete" and done["mime_type"] == "application/pdf"
    assert done["extra"]["tab_url"] == "https://classifieds.example/apply?id=7" and done["extra"]["opened"] is True
    assert done["extra"]["last_access_time"] == "2023-11-14T22:16:40.000000Z"
    assert interrupted["state"] == "interrupted" and interrupted["end_ts"] is None
    assert interrupted["target_path"] == "/storage/emulated/0/Download/setup.apk" and interrupted["size"] == 90000
    assert interrupted["extra"]["interrupt_reason"] == 20 and interrupted["url"] == "http://192.0.2.10/setup.apk"

    (search,) = rows["searches"]
    assert search["term"] == "visa sponsor jobs"
    assert search["url"] == "https://www.google.com/search?q=visa+sponsor+jobs"
    assert search["ts"] == "2023-11-14T22:13:25.123456Z" and search["source_table"] == "keyword_search_terms"

    # the same file without its -wal: the WAL-only visit is absent
    outcomes, rows = parser_harness.run(tmp_path / "nowal", {CHROME: src}, ["chrome-history"])
    assert len(rows["web_visits"]) == 5 and not any(v["from_wal"] for v in rows["web_visits"])


def test_other_browsers_and_webview_take_the_package_from_the_path(tmp_path):
    src = make_db(tmp_path / "History", MODERN_SCHEMA + MODERN_ROWS)
    outcomes, rows = parser_harness.run(tmp_path / "run", {SAMSUNG: src, WEBVIEW: src, CHROME_PROFILE: src},
                                        ["chrome-history", "samsung-internet-history", "android-webview-history"])
    assert sorted((o.spec.name, o.source.path, o.records) for o in outcomes) == [
        ("android-webview-history", WEBVIEW, 5), ("chrome-history", CHROME_PROFILE, 5),
        ("samsung-internet-history", SAMSUNG, 5)]
    apps = {(v["app"], v["browser"]) for v in rows["web_visits"]}
    assert apps == {("com.example.classifieds", "Android WebView"), ("com.android.chrome", "Chrome"),
                    ("com.sec.android.app.sbrowser", "Samsung Internet")}


OLD_SCHEMA = f"""
CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY,value LONGVARCHAR);
CREATE TABLE urls(id INTEGER PRIMARY KEY,url LONGVARCHAR,title LONGVARCHAR,visit_count INTEGER DEFAULT 0 NOT NULL,
  typed_count INTEGER DEFAULT 0 NOT NULL,last_visit_time INTEGER NOT NULL,hidden INTEGER DEFAULT 0 NOT NULL,
  favicon_id INTEGER DEFAULT 0 NOT NULL);
CREATE TABLE visits(id INTEGER PRIMARY KEY,url INTEGER NOT NULL,visit_time INTEGER NOT NULL,from_visit INTEGER,
  transition INTEGER DEFAULT 0 NOT NULL,segment_id INTEGER,is_indexed BOOLEAN);
CREATE TABLE keyword_search_terms (keyword_id INTEGER NOT NULL,url_id INTEGER NOT NULL,lower_term LONGVARCHAR NOT NULL,
  term LONGVARCHAR NOT NULL);
CREATE TABLE downloads (id INTEGER PRIMARY KEY,full_path LONGVARCHAR NOT NULL,url LONGVARCHAR NOT NULL,
  start_time INTEGER NOT NULL,received_bytes INTEGER NOT NULL,total_bytes INTEGER NOT NULL,state INTEGER NOT NULL,
  end_time INTEGER NOT NULL DEFAULT 0, opened INTEGER NOT NULL DEFAULT 0);
INSERT INTO meta VALUES ('version', '22');
INSERT INTO urls VALUES (1, 'http://old.example/', 'Old', 1, 1, {T0}, 0, 0);
INSERT INTO visits VALUES (1, 1, {T0}, 0, 1, 0, 1);
INSERT INTO downloads VALUES (1, '/sdcard/Download/a.zip', 'http://old.example/a.zip', 1700000000, 10, 10, 3,
  1700000002, 0);
"""


def test_old_schema_without_visit_duration_and_time_t_downloads(tmp_path):
    src = make_db(tmp_path / "History", OLD_SCHEMA)
    outcomes, rows = parser_harness.run(tmp_path / "run", {CHROME: src}, CHROME_PARSERS)
    assert {n: (o.outcome, o.records) for n, o in _by(outcomes).items()} == {
        "chrome-history": ("parsed", 1), "chrome-downloads": ("parsed", 1), "chrome-searches": ("no data", 0)}
    (visit,) = rows["web_visits"]
    assert visit["duration_s"] is None and visit["visit_type"] == "typed"
    assert visit["ts"] == "2023-11-14T22:13:20.000000Z"
    (download,) = rows["downloads"]
    assert download["ts"] == "2023-11-14T22:13:20.000000Z" and download["end_ts"] == "2023-11-14T22:13:22.000000Z"
    assert download["ts_encoding"] == "unix_s" and download["state"] == "interrupted"  # 3: crbug.com/140687
    assert download["url"] == "http://old.example/a.zip" and download["target_path"] == "/sdcard/Download/a.zip"


def test_damaged_history_is_recovered(tmp_path):
    many = "".join(f"INSERT INTO urls (id, url, title, last_visit_time) VALUES ({i}, 'https://site{i}.example/', "
                   f"'page {i}', {T0 + i}); "
                   f"INSERT INTO visits (id, url, visit_time, external_referrer_url, transition) "
                   f"VALUES ({i}, {i}, {T0 + i}, 'https://referrer.example/{'r' * 150}', 0);" for i in range(1, 301))
    good = make_db(tmp_path / "good.db", MODERN_SCHEMA + many)
    bad = damage_leaf(good, tmp_path / "History", "visits")
    outcomes, rows = parser_harness.run(tmp_path / "run", {CHROME: bad}, ["chrome-history"])
    (outcome,) = outcomes
    assert outcome.outcome == "parsed" and outcome.recovered and "damaged" in outcome.message
    assert 250 < outcome.records < 300  # the visits of the one destroyed page are lost, the rest are kept
    assert all(v["recovered"] and v["url"].startswith("https://site") for v in rows["web_visits"])


def test_real_download_manager_database(tmp_path):
    real = PLASO / "android/downloads.db"
    if not real.exists():
        pytest.skip(f"third-party test data absent: {real}")
    outcomes, rows = parser_harness.run(tmp_path, {DOWNLOAD_MANAGER: real}, ["android-download-manager"])
    assert outcomes[0].outcome == "parsed" and outcomes[0].records == 11
    first = rows["downloads"][0]
    assert first["url"] == "https://cdn.discordapp.com/attachments/622810296226152474/1041012392089370735/IMG_1953.jpg"
    assert first["target_path"] == "/storage/emulated/0/Download/IMG_1953.jpg" and first["size"] == 2149749
    assert first["ts"] == "2022-11-12T15:32:28.279000Z" and first["state"] == "complete"
    assert first["extra"]["notificationpackage"] == "com.discord" and first["source_row"] == "46"
    states = [d["state"] for d in rows["downloads"]]
    assert states.count("complete") == 4 and states.count("failed") == 6 and states.count("paused") == 1
    assert {d["extra"]["status"] for d in rows["downloads"] if d["state"] == "failed"} == {495}


DOWNLOADS_DB_SCHEMA = """
CREATE TABLE android_metadata (locale TEXT);
CREATE TABLE downloads(_id INTEGER PRIMARY KEY AUTOINCREMENT,uri TEXT, method INTEGER, entity TEXT,
  no_integrity BOOLEAN, hint TEXT, otaupdate BOOLEAN, _data TEXT, mimetype TEXT, destination INTEGER,
  no_system BOOLEAN, visibility INTEGER, control INTEGER, status INTEGER, numfailed INTEGER, lastmod BIGINT,
  notificationpackage TEXT, notificationclass TEXT, notificationextras TEXT, cookiedata TEXT, useragent TEXT,
  referer TEXT, total_bytes INTEGER, current_bytes INTEGER, etag TEXT, uid INTEGER, otheruid INTEGER, title TEXT,
  description TEXT, scanned BOOLEAN, is_public_api INTEGER NOT NULL DEFAULT 0,
  allow_roaming INTEGER NOT NULL DEFAULT 0, allowed_network_types INTEGER NOT NULL DEFAULT 0,
  is_visible_in_downloads_ui INTEGER NOT NULL DEFAULT 1, bypass_recommended_size_limit INTEGER NOT NULL DEFAULT 0,
  mediaprovider_uri TEXT, deleted BOOLEAN NOT NULL DEFAULT 0, errorMsg TEXT, allow_metered INTEGER NOT NULL DEFAULT 1,
  allow_write BOOLEAN NOT NULL DEFAULT 0, flags INTEGER NOT NULL DEFAULT 0, mediastore_uri TEXT DEFAULT NULL);
CREATE TABLE request_headers(id INTEGER PRIMARY KEY AUTOINCREMENT,download_id INTEGER NOT NULL,header TEXT NOT NULL,
  value TEXT NOT NULL);
INSERT INTO downloads (_id, uri, _data, mimetype, status, lastmod, notificationpackage, cookiedata, total_bytes,
  current_bytes, title, deleted) VALUES
  (1, 'https://files.example/id.jpg', '/storage/emulated/0/Download/id.jpg', 'image/jpeg', 200, 1700000000123,
   'org.telegram.messenger', 'session=SECRET', 5000, 5000, 'id.jpg', 1);
INSERT INTO request_headers VALUES (1, 1, 'Cookie', 'session=SECRET');
"""


def test_download_manager_fixture_wal_and_no_credentials(tmp_path):
    src = make_db(tmp_path / "downloads.db", DOWNLOADS_DB_SCHEMA,
                  wal_sql="INSERT INTO downloads (_id, uri, status, lastmod) VALUES (2, 'https://x.example/b', 490, "
                          "1700000100000);")
    wal = src.with_name("downloads.db-wal")
    outcomes, rows = parser_harness.run(tmp_path / "run", {DOWNLOAD_MANAGER: src, DOWNLOAD_MANAGER + "-wal": wal})
    assert outcomes[0].records == 2 and outcomes[0].from_wal == 1
    first, second = rows["downloads"]
    assert first["extra"]["deleted"] is True and first["ts"] == "2023-11-14T22:13:20.123000Z"
    assert first["app"] == "com.android.providers.downloads"
    assert first["extra"]["notificationpackage"] == "org.telegram.messenger"
    assert "SECRET" not in repr(rows["downloads"])
    assert second["state"] == "cancelled" and second["from_wal"] and second["target_path"] is None


def test_chrome_for_ios_reads_the_same_history_in_its_app_container(tmp_path):
    real = PLASO / "chrome/History"
    if not real.exists():
        pytest.skip(f"third-party test data absent: {real}")
    path = ("/private/var/mobile/Containers/Data/Application/6A2C1F0E-0000-4000-8000-000000000001"
            "/Library/Application Support/Google/Chrome/Default/History")
    outcomes, rows = parser_harness.run(tmp_path, {path: real})
    assert {o.spec.name: (o.outcome, o.records) for o in outcomes} == {
        "chrome-ios-history": ("parsed", 69), "chrome-ios-downloads": ("parsed", 2),
        "chrome-ios-searches": ("parsed", 3)}
    assert {v["app"] for v in rows["web_visits"]} == {"com.google.chrome.ios"}
    assert rows["web_visits"][-1]["ts"] == "2011-05-23T08:37:27.061516Z"
