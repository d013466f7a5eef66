"""Gmail iOS offline search index: a fixture with the real table's shape, and the real files iLEAPP tests on."""
import pytest

from tests import parser_harness
from tests.fixtures import gmail_ios
from tests.leapp_cases import extract, ileapp_case


def test_emails_direction_from_account_folder_and_wal(tmp_path):
    db = gmail_ios.build(tmp_path / "src" / "searchsqlitedb", wal=True)
    outcomes, rows = parser_harness.run(tmp_path / "run", parser_harness.with_wal(gmail_ios.PATH, db),
                                        ["gmail-ios-offline-search"])
    assert [(o.outcome, o.records, o.from_wal) for o in outcomes] == [("parsed", 4, 1)]
    incoming, outgoing, bare, wal = rows["messages"]
    assert (incoming["message_type"], incoming["sender"], incoming["sender_name"], incoming["recipients"],
            incoming["direction"], incoming["thread_id"], incoming["body"], incoming["ts"], incoming["ts_raw"]) == (
        "email", "jobs@agency.example", "Job Agency", [gmail_ios.ACCOUNT], "incoming", "thread-f:1",
        "Send a copy of your passport", "2023-05-13T20:40:58.463000Z", "1684010458463.0")
    assert incoming["extra"] == {"subject": "Your visa", "message_id": "msg-f:1", "to": gmail_ios.ACCOUNT,
                                 "account": gmail_ios.ACCOUNT}
    assert (outgoing["direction"], outgoing["recipients"], outgoing["extra"]["cc"]) == (
        "outgoing", ["jobs@agency.example"], ["friend@example.net"])
    assert (bare["sender"], bare["sender_name"], bare["direction"]) == (None, "no-address", None)
    assert wal["from_wal"]


def test_damaged_copy_is_recovered(tmp_path):
    many = ("WITH RECURSIVE n(i) AS (SELECT 10 UNION ALL SELECT i + 1 FROM n WHERE i < 509) INSERT INTO "
            "offline_search_content SELECT i, 1684010458463.0 + i, 't', 'm', 'A, a@b.c', 'x@y.z', NULL, NULL, 's', "
            "printf('%.300c', 'b'), NULL FROM n;")
    outcome = parser_harness.run_damaged(tmp_path, gmail_ios.PATH, gmail_ios.SCHEMA + gmail_ios.ROWS + many,
                                         "gmail-ios-offline-search")
    assert outcome.recovered and outcome.outcome == "parsed" and 350 < outcome.records <= 503


@pytest.mark.parametrize("image,account,emails", [("josh_ios15_ffs", "thisisdfir@gmail.com", 206),
                                                  ("mvs_ios_2023", "mborchardt@kurvalis.com", 21)])
def test_real_offline_search_index(tmp_path, image, account, emails):
    """Peer parity: iLEAPP's gmailOfflineSearch gives one row per offline_search_content row — 206 on
    josh_ios15_ffs, 21 on mvs_ios_2023 — and so do we."""
    files = extract(ileapp_case("gmail", "gmailOfflineSearch", image), tmp_path / "case")
    outcomes, rows = parser_harness.run(tmp_path / "run", files, ["gmail-ios-offline-search"])
    assert [(o.outcome, o.records) for o in outcomes] == [("parsed", emails)]
    assert {m["extra"]["account"] for m in rows["messages"]} == {account}
    assert all(m["ts"] and m["message_type"] == "email" for m in rows["messages"])
    assert sum(m["direction"] == "incoming" for m in rows["messages"]) > 0
