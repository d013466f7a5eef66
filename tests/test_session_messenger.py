"""Session: encrypted stores are reported with where their key is; a decrypted iOS store and the Android account
preferences are read."""
import pytest

from tests import parser_harness
from tests.fixtures import session_messenger as session
from tests.fixtures.sqlite_db import make_db

NAMES = ["session-android-account", "session-android-database", "session-ios-messages"]


@pytest.mark.parametrize("path,plaintext_header", [(session.ANDROID_DB, False), (session.IOS_DB, True)])
def test_encrypted_stores_are_reported(tmp_path, path, plaintext_header):
    db = session.encrypted(tmp_path / "store", plaintext_header)
    outcomes, rows = parser_harness.run(tmp_path / "run", {path: db}, NAMES)
    (outcome,) = outcomes
    assert outcome.outcome == "encrypted" and outcome.message.startswith("encrypted: key not found: SQLCipher")
    assert ("Keystore" if path == session.ANDROID_DB else "keychain") in outcome.message
    assert rows["messages"] == []


def test_decrypted_ios_store(tmp_path):
    outcomes, rows = parser_harness.run(tmp_path / "run", {session.IOS_DB: session.ios_plaintext(tmp_path / "s")},
                                        NAMES)
    assert [(o.outcome, o.records) for o in outcomes] == [("parsed", 4)]
    incoming, outgoing, call, deleted = rows["messages"]
    assert (incoming["direction"], incoming["sender"], incoming["sender_name"], incoming["thread_name"],
            incoming["ts"], incoming["received_ts"]) == (
        "incoming", session.PEER, "B", "B", "2023-11-14T22:13:20.000000Z", "2023-11-14T22:13:21.000000Z")
    assert (outgoing["direction"], outgoing["sender"], outgoing["recipients"]) == ("outgoing", None, [session.PEER])
    assert (call["message_type"], call["direction"]) == ("call", "incoming")
    assert (deleted["message_type"], deleted["deleted"]) == ("deleted", True)


def test_android_account_and_plain_file_is_unsupported(tmp_path):
    plain = make_db(tmp_path / "plain.db", "CREATE TABLE sms (_id INTEGER PRIMARY KEY);")
    outcomes, rows = parser_harness.run(tmp_path / "run", {
        session.ANDROID_PREFS: session.android_prefs(tmp_path / "prefs.xml"), session.ANDROID_DB: plain}, NAMES)
    assert sorted((o.spec.name, o.outcome) for o in outcomes) == [
        ("session-android-account", "parsed"), ("session-android-database", "unsupported version")]
    (account,) = rows["accounts"]
    assert (account["user_id"], account["display_name"], account["ts"]) == (
        session.ME, "Me", "2023-11-14T22:13:20.000000Z")
    assert "wrapped" not in str(account)  # the wrapped passphrase is never stored
