"""X / Twitter iOS: the DM inbox archive and modelCache.sqlite3, built at test time in the real files' shapes.

Peer parity (measured on iLEAPP's josh_ios17_ffs test extraction, not redistributed here): the real DM archive gives
72 direct messages, 5 cached users and the account, as iLEAPP's twitterDirectMessages (72 rows) and twitterDMUsers
(5 rows) report. iLEAPP's modelCache.sqlite3 test file is not in its public repository (absent blob), so the model
cache is tested on this fixture only.
"""
from tests import parser_harness
from tests.fixtures.sqlite_db import make_db
from tests.fixtures.twitter_ios import (FRIEND, MODEL_CACHE_SCHEMA, OWNER, STRANGER, dm_archive, model_cache_rows)

APP_DIR = "/private/var/mobile/Containers/Data/Application/491A1D31-3D27-4EC3-9B98-80FC51F3AE6D/Library/Caches/"
DM = APP_DIR + "com.atebits.tweetie.direct-message.cache/TDfir-725479270958694"
MODEL = ("/private/var/mobile/Containers/Shared/AppGroup/0A1B2C3D-0000-4000-8000-000000000000/"
         "TFSModelCache.com.atebits.Tweetie2/1068228364824178689/database/modelCache.sqlite3")


def test_dm_archive_messages_direction_users_and_account(tmp_path):
    files = {DM: dm_archive(), APP_DIR + "com.atebits.tweetie.direct-message.cache/.hidden": b"not a plist"}
    outcomes, rows = parser_harness.run(tmp_path, files, ["twitter-ios-dm-cache"])
    assert sorted((o.source.path.rsplit("/", 1)[1], o.outcome, o.records) for o in outcomes) == [
        (".hidden", "no data", 0), ("TDfir-725479270958694", "parsed", 6)]
    (account,) = rows["accounts"]
    assert (account["user_id"], account["username"], account["extra"]) == (
        str(OWNER), "ThisIsDFIR", {"account_id": "TDfir-725479270958694"})
    assert [(c["user_id"], c["handles"]) for c in rows["contacts"]] == [
        (str(OWNER), ["@ThisIsDFIR"]), (str(FRIEND), ["@ldehner505"])]
    sent, reply, request = rows["messages"]
    assert (sent["direction"], sent["sender"], sent["recipients"], sent["body"]) == (
        "outgoing", str(OWNER), [str(FRIEND)], "How's that new coffee I sent you?")
    assert (sent["ts"], sent["ts_raw"], sent["ts_encoding"]) == ("2024-07-07T15:02:48.000000Z", "742057368.0",
                                                                  "cocoa_s")
    assert (sent["thread_id"], sent["thread_name"]) == (f"{FRIEND}-{OWNER}", "ldehner505")
    assert sent["source_row"] == "trusted_conversations_timeline[0].entries[0]"
    assert (reply["direction"], reply["sender_name"], reply["attachments"]) == (
        "incoming", "Lee", [{"url": "https://pbs.twimg.com/dm/1.jpg"}])
    assert reply["extra"] == {"message_id": "1809966299474252124", "timeline": "trusted",
                              "reply_to": "1809966299474252123"}
    assert (request["direction"], request["extra"]["timeline"], request["sender"]) == (
        "incoming", "untrusted", str(STRANGER))


def test_model_cache_posts_and_users(tmp_path):
    db = make_db(tmp_path / "src" / "modelCache.sqlite3", MODEL_CACHE_SCHEMA + model_cache_rows())
    outcomes, rows = parser_harness.run(tmp_path / "run", {MODEL: db}, ["twitter-ios-model-cache"])
    assert [(o.outcome, o.records) for o in outcomes] == [("parsed", 3)]
    post, broken = rows["messages"]
    assert (post["body"], post["sender"], post["message_type"], post["direction"]) == (
        "Hiring drivers, DM me", str(STRANGER), "post", None)
    assert (post["ts"], post["source_table"], post["source_row"]) == ("2024-07-06T23:06:40.250000Z", "Items", "1")
    assert post["extra"] == {"post_id": "1810000000000000001", "language": "en", "retweets": 2}
    assert broken["extra"]["error"] == "cached object is not gzip JSON" and broken["source_row"] == "4"
    (jobs,) = rows["contacts"]
    assert (jobs["user_id"], jobs["handles"], jobs["extra"]) == (
        str(STRANGER), ["@jobs_now"], {"bio": "We hire", "followersCount": 12})
