"""Twitter / X for Android and iOS: plaso's real databases, and fixtures built with the apps' schemas."""
import pytest

from forensics.backups import backup_path
from parsers.framework import load_parsers
from parsers.twitter import serial_strings
from tests import parser_harness
from tests.conftest_paths import TESTDATA
from tests.fixtures.sqlite_db import damage_leaf, make_db
from tests.fixtures.twitter import ANDROID_SCHEMA, IOS_SCHEMA, serial_dm, serial_string

OWNER = "4354196549"
ANDROID_DB = f"/data/data/com.twitter.android/databases/{OWNER}.db"
IOS_DB = ("/private/var/mobile/Containers/Data/Application/5E1B1A6C-0000-4000-8000-00000000000C/"
          "Library/Caches/databases/twitter.db")
ANDROID_NAMES = ["twitter-android", "twitter-android-dms", "twitter-android-searches"]


def _real(name):
    path = TESTDATA / "log2timeline+plaso/test_data" / name
    if not path.exists():
        pytest.skip(f"third-party test data absent: {path}")
    return path


def test_real_android_database(tmp_path):
    """plaso counts 506 events: 263 statuses, 242 users and 1 search query, the same rows as the 263 posts, 242
    contacts and 1 search term here; plaso does not read the 1 direct message."""
    outcomes, rows = parser_harness.run(tmp_path, {ANDROID_DB: _real("android/twitter.db")}, ANDROID_NAMES)
    assert {o.spec.name: (o.outcome, o.records) for o in outcomes} == {
        "twitter-android": ("parsed", 505), "twitter-android-dms": ("parsed", 1),
        "twitter-android-searches": ("parsed", 1)}
    posts = [m for m in rows["messages"] if m["message_type"] == "post"]
    assert len(posts) == 263 and len(rows["contacts"]) == 242
    assert [p["source_row"] for p in posts if p["direction"] == "outgoing"] == [str(i) for i in range(256, 264)]
    assert {p["sender"] for p in posts if p["direction"] == "outgoing"} == {OWNER}
    carol = next(p for p in posts if p["source_row"] == "4")  # plaso's spot-checked status
    assert (carol["sender"], carol["sender_name"], carol["extra"]["sender_username"], carol["direction"]) == (
        "2730978846", "CAROL Movie Fans", "CarolMovieFans", None)
    assert carol["body"].startswith("@CarolMovie wins BEST PICTURE at #NYFCC!!!")
    assert (carol["ts"], carol["ts_raw"], carol["ts_encoding"]) == (
        "2015-12-02T17:47:17.000000Z", "1449078437000", "unix_ms")
    assert carol["extra"]["status_id"] == "672109797764763648" and carol["platform"] == "Twitter"

    (dm,) = [m for m in rows["messages"] if m["message_type"] == "dm"]
    assert (dm["direction"], dm["sender"], dm["sender_name"], dm["recipients"], dm["thread_id"]) == (
        "incoming", "2643181713", "Manuel Schoenthaler", [OWNER], "2643181713-4354196549")
    assert dm["body"] == ("Hey! Thnx for the follow. See https://t.co/syj7UmxniM for events in Germany. "
                          "Looking forward to some interaction!")
    assert dm["ts"] == "2015-12-03T02:11:43.000000Z" and dm["extra"]["sender_username"] == "ManuelS_SANS"

    timbuk2 = next(c for c in rows["contacts"] if c["user_id"] == "14995801")  # plaso's spot-checked user
    assert (timbuk2["name"], timbuk2["handles"], timbuk2["source_row"], timbuk2["ts"]) == (
        "Timbuk2", ["timbuk2"], "62", "2015-12-02T20:49:33.349000Z")
    assert {k: timbuk2["extra"][k] for k in ("account_created", "friendship_time", "followers", "following",
                                             "tweets", "location", "url")} == {
        "account_created": "2008-06-03T18:30:55.000000Z", "friendship_time": "2015-12-02T20:48:32.382000Z",
        "followers": 23582, "following": 2725, "tweets": 18937, "location": "San Francisco, CA",
        "url": "http://t.co/Z0MZo7f2ne"}
    own = next(c for c in rows["contacts"] if c["user_id"] == OWNER)
    assert own["handles"] == ["marthavines11"] and own["extra"]["is_account_owner"]
    assert "account_created" not in own["extra"]  # profile_created is -1

    (search,) = rows["searches"]
    assert (search["term"], search["ts"], search["source_table"]) == (
        "rosegold", "2015-12-02T20:49:38.153000Z", "search_queries")


def test_real_ios_database(tmp_path):
    """plaso counts 92 events: 25 Users and 67 Statuses rows, the 25 contacts and 67 posts here."""
    outcomes, rows = parser_harness.run(tmp_path, {IOS_DB: _real("ios/twitter.db")}, ["twitter-ios"])
    assert [(o.outcome, o.records) for o in outcomes] == [("parsed", 92)]
    posts, contacts = rows["messages"], rows["contacts"]
    assert len(posts) == 67 and len(contacts) == 25
    never = next(p for p in posts if p["source_row"] == "510031570397577216")  # plaso's spot-checked status
    assert (never["body"], never["sender"], never["sender_name"]) == (
        "Never forget. http://t.co/L7bjWue1A2", "475222380", "Heather Mahalik")
    assert (never["ts"], never["ts_raw"], never["ts_encoding"]) == (
        "2014-09-11T11:46:16.000000Z", "1410435976.0", "unix_s")
    assert never["extra"]["updated"] == "2015-12-02T15:39:37.157503Z"
    assert never["attachments"] == [{"url": "https://pbs.twimg.com/media/BxP_AqlIYAAyjn0.jpg", "media_type": 1,
                                     "expanded_url": "http://twitter.com/HeatherMahalik/status/"
                                                     "510031570397577216/photo/1"}]
    # MyRetweets names the account: hankfresh1, whose three tweets are the outgoing ones
    assert [p["extra"]["sender_username"] for p in posts if p["direction"] == "outgoing"] == ["hankfresh1"] * 3
    bbc = contacts[0]
    assert (bbc["name"], bbc["handles"], bbc["user_id"], bbc["ts"]) == (
        "BBC Breaking News", ["BBCBreaking"], "5402612", "2015-12-02T15:35:44.333328Z")
    assert (bbc["extra"]["account_created"], bbc["extra"]["followers"]) == ("2007-04-22T14:42:37.000000Z", 19466932)


ANDROID_ROWS = f"""
    INSERT INTO users (_id, user_id, username, name, description, followers, friends, statuses, profile_created,
                       updated, friendship, friendship_time) VALUES
        (1, {OWNER}, 'me_here', 'Me', NULL, 3, 4, 2, -1, 1700000000000, 128, NULL),
        (2, 777, 'driver_dan', 'Dan 🚚', 'pickups daily', 10, 20, 30, 1300000000000, 1700000001000, 1, 1699999999000);
    INSERT INTO statuses (_id, status_id, author_id, content, source, created, in_r_user_id, in_r_status_id,
                          favorited, latitude, longitude, retweet_count, favorite_count, lang, quoted_tweet_id,
                          retweeted) VALUES
        (1, 9001, 777, 'van leaves at 6', 'Twitter for Android', 1700000000000, 0, 0, 0, NULL, NULL, 1, 2, 'en',
         0, 0),
        (2, 9002, {OWNER}, '@driver_dan ok', 'Twitter for Android', 1700000060000, 777, 9001, 0, '51.5007',
         '-0.1246', 0, 0, 'en', 0, 0),
        (3, 9003, 888, 'author not cached', NULL, 1700000070000, 0, 0, 1, 'x', '1', 0, 0, NULL, NULL, 1);
    INSERT INTO conversations (_id, conversation_id, title, type) VALUES (1, 'g1', 'Crew', 1);
    INSERT INTO conversation_participants (conversation_id, user_id, join_time, participant_type) VALUES
        ('g1', '{OWNER}', 0, 1), ('g1', '777', 0, 1), ('g1', '888', 0, 1);
    INSERT INTO conversation_entries (_id, entry_id, sort_entry_id, conversation_id, user_id, created, entry_type,
                                      data) VALUES
        (1, 501, 501, 'g1', 777, 1700000100000, 0, X'{serial_dm(501, "where are you?").hex()}'),
        (2, 502, 502, 'g1', {OWNER}, 1700000110000, 0, X'{serial_dm(502, "ça va — " + "z" * 300).hex()}'),
        (3, 503, 503, 'g1', 777, 1700000120000, 7, X'00');
    INSERT INTO search_queries (_id, type, name, query, time) VALUES (1, 0, 'van', 'van hire cash', 1700000200000);
"""
ANDROID_WAL = ("INSERT INTO statuses (_id, status_id, author_id, content, created) "
               "VALUES (4, 9004, 777, 'only in the WAL', 1700000300000);")


def test_android_fixture_posts_dms_searches_and_wal(tmp_path):
    db = make_db(tmp_path / "src" / f"{OWNER}.db", ANDROID_SCHEMA + ANDROID_ROWS, wal_sql=ANDROID_WAL)
    files = {ANDROID_DB: db, ANDROID_DB + "-wal": db.with_name(db.name + "-wal")}
    outcomes, rows = parser_harness.run(tmp_path / "run", files, ANDROID_NAMES)
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "twitter-android": ("parsed", 7, 1), "twitter-android-dms": ("parsed", 3, 0),
        "twitter-android-searches": ("parsed", 1, 0)}
    posts = [m for m in rows["messages"] if m["message_type"] == "post"]
    other, mine, uncached, wal = posts
    assert (other["sender"], other["sender_name"], other["direction"], other["ts"]) == (
        "777", "Dan 🚚", None, "2023-11-14T22:13:20.000000Z")
    assert (mine["direction"], mine["extra"]["in_reply_to_status_id"], mine["extra"]["in_reply_to_user_id"]) == (
        "outgoing", "9001", "777")
    assert (uncached["sender"], uncached["sender_name"], uncached["extra"]["favorited"]) == ("888", None, 1)
    assert (wal["body"], wal["from_wal"], mine["from_wal"]) == ("only in the WAL", True, False)
    (place,) = rows["locations"]  # the uncached author's tweet has no usable coordinates
    assert (place["latitude"], place["longitude"], place["ts"], place["source_row"]) == (
        51.5007, -0.1246, "2023-11-14T22:14:20.000000Z", "2")

    asked, answered, event = [m for m in rows["messages"] if m["message_type"] != "post"]
    assert (asked["body"], asked["direction"], asked["sender_name"], asked["thread_name"], asked["recipients"]) == (
        "where are you?", "incoming", "Dan 🚚", "Crew", [OWNER, "888"])
    assert (answered["body"], answered["direction"], answered["recipients"]) == (
        "ça va — " + "z" * 300, "outgoing", ["777", "888"])
    assert (event["message_type"], event["body"]) == ("entry type 7", None)

    me, dan = rows["contacts"]
    assert me["extra"] == {"is_account_owner": True, "followers": 3, "following": 4, "tweets": 2,
                           "friendship_flags": 128}
    assert (dan["handles"], dan["note"], dan["extra"]["account_created"], dan["extra"]["friendship_time"]) == (
        ["driver_dan"], "pickups daily", "2011-03-13T07:06:40.000000Z", "2023-11-14T22:13:19.000000Z")
    (search,) = rows["searches"]
    assert (search["term"], search["ts"], search["extra"]) == (
        "van hire cash", "2023-11-14T22:16:40.000000Z", {"name": "van", "type": 0})


def test_android_search_database_of_later_versions(tmp_path):
    """Later versions keep searches in ``<user id>-search.db``; its columns as ALEAPP's Twitter.py names them."""
    db = make_db(tmp_path / "search.db", """
        CREATE TABLE search_queries (_id INTEGER PRIMARY KEY, type INT, name TEXT NOT NULL, query TEXT NOT NULL,
            query_id INT, time INT, latitude REAL, longitude REAL, radius REAL, location TEXT,
            user_search_suggestion TEXT, topic_search_suggestion TEXT, priority INT, score REAL);
        INSERT INTO search_queries (_id, type, name, query, time, location) VALUES
            (5, 0, 'cheap flights', 'cheap flights', 1700000000000, 'Leeds');""")
    path = f"/data/data/com.twitter.android/databases/{OWNER}-search.db"
    outcomes, rows = parser_harness.run(tmp_path / "run", {path: db}, ANDROID_NAMES)
    assert [(o.spec.name, o.outcome) for o in outcomes] == [("twitter-android-searches", "parsed")]
    (search,) = rows["searches"]
    assert (search["term"], search["source_row"], search["extra"]) == (
        "cheap flights", "5", {"location": "Leeds", "type": 0})


def test_android_file_not_named_after_an_account_gives_no_directions(tmp_path):
    db = make_db(tmp_path / "src.db", ANDROID_SCHEMA + ANDROID_ROWS)
    outcomes, rows = parser_harness.run(tmp_path / "run", {"/data/data/com.twitter.android/databases/0-1.db": db},
                                        ["twitter-android", "twitter-android-dms"])
    assert {m["direction"] for m in rows["messages"]} == {None}
    assert not any(c["extra"].get("is_account_owner") for c in rows["contacts"])


IOS_ROWS = """
    INSERT INTO Users (id, screenName, name, description, location, url, followersCount, followingCount,
                       statusesCount, following, verified, protected, createdDate, updatedAt) VALUES
        (10, 'me_ios', 'Me', '', '', NULL, 1, 2, 3, 0, 0, 1, 1699999000.5, 1700000000.25),
        (20, 'lena', 'Lena', 'bio', 'Hull', 'https://t.co/x', 5, 6, 7, 1, 0, 0, 1300000000, 1700000001);
    INSERT INTO Statuses (id, text, date, userId, retweetedStatusId, entities, geotag, retweetCount, favoriteCount,
                          favorited, updatedAt, inReplyToUsername, lang, source) VALUES
        (100, 'ferry at noon', 1700000000.125, 20, NULL,
         CAST('{"mediaUrls":[{"mediaURL":"https://pbs.twimg.com/media/a.jpg","mediaType":1}]}' AS BLOB),
         X'7b7d', 4, 5, 0, 1700000100, NULL, 'en', 'Twitter for iPhone'),
        (101, 'RT @lena: ferry at noon', 1700000050, 10, 100, X'00ff', NULL, 4, 0, 0, NULL, NULL, 'en', NULL),
        (102, '@lena where?', 1700000060, 10, NULL, NULL, NULL, 0, 0, 0, NULL, 'lena', 'und', NULL);
    INSERT INTO MyRetweets VALUES (100, 101);
"""
IOS_WAL = "INSERT INTO Users (id, screenName, name, updatedAt) VALUES (30, 'wal_only', 'Wal', 1700000400);"


def test_ios_fixture_owner_media_and_wal(tmp_path):
    db = make_db(tmp_path / "src" / "twitter.db", IOS_SCHEMA + IOS_ROWS, wal_sql=IOS_WAL)
    outcomes, rows = parser_harness.run(tmp_path / "run", {IOS_DB: db, IOS_DB + "-wal": db.with_name("twitter.db-wal")},
                                        ["twitter-ios"])
    assert [(o.outcome, o.records, o.from_wal) for o in outcomes] == [("parsed", 6, 1)]
    ferry, retweet, reply = rows["messages"]
    assert (ferry["sender_name"], ferry["direction"], ferry["ts"], ferry["ts_encoding"]) == (
        "Lena", None, "2023-11-14T22:13:20.125000Z", "unix_s")
    assert ferry["attachments"] == [{"url": "https://pbs.twimg.com/media/a.jpg", "media_type": 1,
                                     "expanded_url": None}]
    assert ferry["extra"]["geotag_raw"] == "{}" and ferry["extra"]["updated"] == "2023-11-14T22:15:00.000000Z"
    assert (retweet["direction"], retweet["extra"]["retweeted_status_id"], retweet["attachments"]) == (
        "outgoing", "100", [])
    assert (reply["direction"], reply["extra"]["in_reply_to_username"]) == ("outgoing", "lena")
    me, lena, wal = rows["contacts"]
    assert me["extra"]["is_account_owner"] and me["note"] is None and "location" not in me["extra"]
    assert (lena["handles"], lena["extra"]["followed_by_account"], lena["extra"]["account_created"]) == (
        ["lena"], 1, "2011-03-13T07:06:40.000000Z")
    assert (wal["handles"], wal["from_wal"], wal["ts"]) == (["wal_only"], True, "2023-11-14T22:20:00.000000Z")


def test_ios_without_my_retweets_leaves_direction_unknown(tmp_path):
    schema = IOS_SCHEMA.replace("CREATE TABLE MyRetweets ( 'statusId' INTEGER PRIMARY KEY, 'myRetweetId' INTEGER );",
                                "")
    db = make_db(tmp_path / "twitter.db", schema + IOS_ROWS.replace("INSERT INTO MyRetweets VALUES (100, 101);", ""))
    outcomes, rows = parser_harness.run(tmp_path / "run", {IOS_DB: db}, ["twitter-ios"])
    assert outcomes[0].records == 5 and {m["direction"] for m in rows["messages"]} == {None}


def test_damaged_android_database_is_recovered(tmp_path):
    many = "".join(f"INSERT INTO statuses (_id, status_id, author_id, content, created) VALUES "
                   f"({i}, {10000 + i}, 777, '{'x' * 300} {i}', {1700000000000 + i});" for i in range(1, 201))
    good = make_db(tmp_path / "good.db", ANDROID_SCHEMA + many)
    bad = damage_leaf(good, tmp_path / "bad.db", "statuses")
    outcomes, rows = parser_harness.run(tmp_path / "run", {ANDROID_DB: bad}, ["twitter-android"])
    (outcome,) = outcomes
    assert (outcome.outcome, outcome.recovered) == ("parsed", True), outcome.message
    assert "damaged" in outcome.message and 150 < outcome.records < 200
    assert all(m["recovered"] for m in rows["messages"])


def test_serial_strings_reads_values_in_order_and_stops_at_garbage():
    blob = serial_dm(1, "first") + serial_string("é" * 200) + bytes([0xF8]) + serial_string("never read")
    assert list(serial_strings(blob)) == ["first", "é" * 200]
    assert list(serial_strings(serial_string("cut short")[:-3])) == []
    assert list(serial_strings(b"")) == []


def test_paths():
    specs = {s.name: s for s in load_parsers()}
    android, searches, ios = specs["twitter-android"], specs["twitter-android-searches"], specs["twitter-ios"]
    assert android.matches(ANDROID_DB) and android.matches(ANDROID_DB + "-wal")
    assert not android.matches("/data/data/com.twitter.android/databases/global.db")
    assert not android.matches(f"/data/data/com.twitter.android/databases/{OWNER}-search.db")
    assert searches.matches(f"/data/data/com.twitter.android/databases/{OWNER}-search.db")
    assert ios.matches(IOS_DB)
    assert ios.matches(backup_path("AppDomain-com.atebits.Tweetie2", "Library/Caches/databases/twitter.db"))
