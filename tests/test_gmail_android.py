"""Gmail Android bigTopDataDB: zipped message protobufs with the field numbers ALEAPP's gmailEmails.py reads."""
import zlib

from tests import parser_harness
from tests.fixtures import gmail_android
from tests.fixtures.sqlite_db import make_db


def test_emails_from_zipped_protobufs_and_wal(tmp_path):
    db = gmail_android.build(tmp_path / "src" / "bigTopDataDB.1", wal=True)
    outcomes, rows = parser_harness.run(tmp_path / "run", parser_harness.with_wal(gmail_android.PATH, db),
                                        ["gmail-android-messages"])
    # ALEAPP repeats message 1 once per attachment (2 rows); it is one record here. Row 4 has no blob.
    assert [(o.outcome, o.records, o.from_wal) for o in outcomes] == [("parsed", 4, 1)]
    first, second, broken, wal = rows["messages"]
    assert (first["message_type"], first["recipients"], first["ts"], first["body"]) == (
        "email", ["owner@gmail.com"], "2023-11-14T22:13:20.123000Z", "<p>Bring your passport</p>\n<p>Bus at 6</p>")
    assert first["extra"] == {"subject": "Interview", "recipient_name": "Owner", "reply_to": "hr@agency.example",
                              "reply_to_name": "HR", "mailed_by": "agency.example"}
    assert (second["recipients"], second["body"], second["extra"]) == ([], None, {"subject": "No recipient"})
    assert broken["ts"] is None and broken["extra"]["undecoded"].startswith("error:")
    assert wal["from_wal"] and wal["ts"] == "2023-11-14T22:16:40.000000Z"


def test_inflation_bomb_is_refused(tmp_path):
    bomb = b"\x01" + zlib.compress(b"\x00" * (40 * 1024 * 1024), 9)
    db = make_db(tmp_path / "bigTopDataDB.2", f"CREATE TABLE item_messages (zipped_message_proto BLOB); "
                                              f"INSERT INTO item_messages VALUES (X'{bomb.hex()}');")
    outcomes, rows = parser_harness.run(tmp_path / "run", {gmail_android.PATH: db}, ["gmail-android-messages"])
    assert [(o.outcome, o.records) for o in outcomes] == [("parsed", 1)]
    assert "inflates past" in rows["messages"][0]["extra"]["undecoded"]


def test_active_account_from_preferences(tmp_path):
    prefs = tmp_path / "Gmail.xml"
    prefs.write_text("<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n"
                     '    <string name="active-account">owner@gmail.com</string>\n'
                     '    <boolean name="conversation-mode" value="true" />\n</map>\n')
    outcomes, rows = parser_harness.run(tmp_path / "run", {
        "/data/data/com.google.android.gm/shared_prefs/Gmail.xml": prefs}, ["gmail-android-account"])
    assert [(o.outcome, o.records) for o in outcomes] == [("parsed", 1)]
    assert (rows["accounts"][0]["email"], rows["accounts"][0]["account_type"]) == ("owner@gmail.com", "Google")
