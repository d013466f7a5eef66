"""Apple Mail (iOS 13+): Envelope Index + Protected Index built with the columns iLEAPP's mailprotect.py reads."""
from tests import parser_harness
from tests.fixtures import apple_mail
from tests.fixtures.sqlite_db import damage, make_db

NAMES = ["apple-mail-messages", "apple-mail-addresses"]


def test_emails_with_protected_index_and_wal(tmp_path):
    outcomes, rows = parser_harness.run(tmp_path / "run", apple_mail.build(tmp_path / "src", wal=True), NAMES)
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "apple-mail-messages": ("parsed", 3, 1), "apple-mail-addresses": ("parsed", 3, 0)}
    first, sent, wal = rows["messages"]
    assert (first["message_type"], first["sender"], first["sender_name"], first["recipients"], first["body"],
            first["ts"], first["received_ts"]) == (
        "email", "recruiter@example.com", "Job Agency", ["owner@example.com"], "Travel is paid, bring your passport",
        "2023-11-14T22:13:20.000000Z", "2023-11-14T22:13:25.000000Z")
    assert first["extra"] == {"subject": "Your contract", "mailbox": "imap://user@imap.example.com/INBOX",
                              "read": 1, "flagged": 0, "global_message_id": 9001,
                              "other_recipients": [{"address": "cc@example.com", "type": 2}]}
    assert first["attachments"] == [{"name": "passport.jpg", "size": 20480}]
    assert (sent["sender"], sent["sender_name"], sent["recipients"], sent["deleted"], sent["body"]) == (
        "owner@example.com", None, ["recruiter@example.com"], True, None)
    assert sent["extra"]["subject"] == "Re: Your contract"
    assert wal["from_wal"] and wal["extra"]["global_message_id"] == 9003
    assert [(c["name"], c["emails"]) for c in rows["contacts"]] == [
        ("Job Agency", ["recruiter@example.com"]), (None, ["owner@example.com"]), (None, ["cc@example.com"])]


def test_without_protected_index_and_old_attachments(tmp_path):
    envelope = make_db(tmp_path / "Envelope Index", """
        CREATE TABLE messages (ROWID INTEGER PRIMARY KEY, sender INTEGER, subject INTEGER, summary INTEGER,
            date_sent INTEGER, date_received INTEGER, mailbox INTEGER, read INTEGER, flagged INTEGER, deleted INTEGER);
        CREATE TABLE recipients (ROWID INTEGER PRIMARY KEY, message INTEGER, address INTEGER, type INTEGER);
        CREATE TABLE attachments (ROWID INTEGER PRIMARY KEY, message INTEGER, name TEXT);
        INSERT INTO messages VALUES (1, 4, 5, 6, 1600000000, 1600000001, 1, 0, 0, 0);
        INSERT INTO recipients VALUES (1, 1, 7, 1);
        INSERT INTO attachments VALUES (1, 1, 'invoice.pdf');
    """)
    outcomes, rows = parser_harness.run(tmp_path / "run", {apple_mail.ENVELOPE: envelope}, NAMES)
    assert [(o.spec.name, o.outcome) for o in outcomes] == [("apple-mail-messages", "parsed")]
    (message,) = rows["messages"]
    assert (message["sender"], message["recipients"], message["attachments"]) == (
        None, ["7"], [{"name": "invoice.pdf"}])
    assert message["extra"] == {"read": 0, "flagged": 0, "protected_index": "absent", "sender_id": 4,
                                "subject_id": 5, "summary_id": 6}


def test_damaged_envelope_index_is_recovered(tmp_path):
    files = apple_mail.build(tmp_path / "src")
    many = ("WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 1999) "
            "INSERT INTO messages (sender, subject, summary, date_sent, date_received, mailbox, read, flagged, "
            "deleted) SELECT 1, 1, 1, 1700000000 + i, 0, 1, 0, 0, 0 FROM n;")
    good = make_db(tmp_path / "good", apple_mail.ENVELOPE_SCHEMA + apple_mail.ENVELOPE_ROWS + many)
    files[apple_mail.ENVELOPE] = damage(good, tmp_path / "bad", page=good.stat().st_size // 4096 // 2)
    outcomes, _ = parser_harness.run(tmp_path / "run", files, ["apple-mail-messages"])
    (outcome,) = outcomes
    assert outcome.recovered and outcome.outcome == "parsed" and 1500 < outcome.records <= 2002
