"""Microsoft Teams iOS: a fixture with the real database's schema, and the real database iLEAPP tests on."""
import sqlite3

from tests import parser_harness
from tests.fixtures import teams_ios
from tests.fixtures.sqlite_db import make_db
from tests.leapp_cases import extract, ileapp_case

NAMES = ["teams-ios-messages", "teams-ios-calls", "teams-ios-locations", "teams-ios-contacts", "teams-ios-users"]


def _run(tmp_path, db, wal=False):
    files = parser_harness.with_wal(teams_ios.PATH, db) if wal else {teams_ios.PATH: db}
    return parser_harness.run(tmp_path / "run", files, NAMES)


def test_messages_calls_locations_people_and_wal(tmp_path):
    outcomes, rows = _run(tmp_path, teams_ios.build(tmp_path / "src" / "teams.sqlite", wal=True), wal=True)
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "teams-ios-messages": ("parsed", 7, 1), "teams-ios-calls": ("parsed", 2, 0),
        "teams-ios-locations": ("parsed", 2, 0), "teams-ios-contacts": ("parsed", 2, 0),
        "teams-ios-users": ("parsed", 1, 0)}
    first, photo, *_, wal = rows["messages"]
    assert (first["direction"], first["sender"], first["sender_name"], first["thread_id"], first["thread_name"],
            first["body"], first["ts"], first["ts_encoding"]) == (
        "incoming", teams_ios.PEER, "Peer", teams_ios.THREAD, "Crew", "<p>pick up at 9</p>",
        "2022-08-16T23:30:00.615000Z", "cocoa_s")
    assert first["extra"] == {"compose_time": "2022-08-16T23:30:00.6150000Z", "thread_type": "chat",
                              "message_id": 1001, "soft_deleted": False}
    assert photo["direction"] == "outgoing" and photo["deleted"]
    assert photo["attachments"] == [{"url": "https://example.invalid/photo.jpg"}]  # the emoji image is not one
    assert wal["from_wal"] and wal["body"] == "only in the wal"

    out, missed = rows["calls"]
    assert (out["direction"], out["peers"], out["answered"], out["status"], out["duration_s"], out["ts"]) == (
        "outgoing", [teams_ios.PEER], True, "accepted", 23.124461, "2023-04-28T14:21:23.613386Z")
    assert out["ts_raw"] == "2023-04-28T14:21:23.6133868Z" and out["extra"]["originator_name"] == "Owner"
    assert (missed["direction"], missed["peers"], missed["peer_name"], missed["answered"], missed["duration_s"]) == (
        "incoming", [teams_ios.PEER], "Peer", False, None)  # call-log given as JSON text

    live, pinned = rows["locations"]
    assert (live["latitude"], live["longitude"], live["label"], live["ts"]) == (
        35.6681226, -78.8778239, "My current location", "2022-12-05T13:56:07.900000Z")
    assert {k: live["extra"][k] for k in ("live", "device_id", "expires", "coordinates_from", "sender")} == {
        "live": True, "device_id": "dev-1", "expires": "2022-12-05T14:26:08.541000Z", "coordinates_from": "card id",
        "sender": teams_ios.PEER}
    assert (pinned["latitude"], pinned["longitude"], pinned["extra"]["coordinates_from"]) == (
        35.6580764, -78.8103737, "map link")

    book_three, book_two, user = rows["contacts"]
    assert (book_three["name"], book_three["emails"], book_two["phones"]) == (
        "Peer Three", ["three@example.com"], ["(919) 555-0100"])
    assert (user["user_id"], user["emails"], user["handles"], user["phones"], user["ts"]) == (
        teams_ios.PEER, ["peer@example.com"], ["peer@example.com"], ["+19195550101"], "2023-04-29T10:40:00.500000Z")


def test_older_schema_without_optional_columns(tmp_path):
    db = make_db(tmp_path / "old.sqlite", """
        CREATE TABLE ZSMESSAGE (Z_PK INTEGER PRIMARY KEY, ZARRIVALTIME TIMESTAMP, ZCONTENT VARCHAR, ZFROM VARCHAR,
            ZIMDISPLAYNAME VARCHAR, ZTHREADID VARCHAR);
        CREATE TABLE ZTHREAD (Z_PK INTEGER PRIMARY KEY, ZTSID VARCHAR, ZTHREADTOPIC VARCHAR);
        INSERT INTO ZSMESSAGE VALUES (1, 600000000, 'hi', '8:orgid:x', 'X', '19:t@thread.v2');
    """)
    outcomes, rows = _run(tmp_path, db)
    assert {o.spec.name: o.outcome for o in outcomes} == {
        "teams-ios-messages": "parsed", "teams-ios-calls": "unsupported version",
        "teams-ios-locations": "unsupported version", "teams-ios-contacts": "unsupported version",
        "teams-ios-users": "unsupported version"}
    (message,) = rows["messages"]
    assert (message["direction"], message["message_type"], message["extra"]) == (None, None, {})


def test_damaged_copy_is_recovered(tmp_path):
    many = ("BEGIN;" + "".join(f"INSERT INTO ZSMESSAGE (Z_PK, ZARRIVALTIME, ZFROM, ZCONTENT, ZTHREADID) VALUES "
                                f"({i}, {700000000 + i}, 'x', '{'y' * 400}', 't');" for i in range(100, 400))
            + "COMMIT;")
    sql = teams_ios.SCHEMA + teams_ios.ROWS + many
    outcome = parser_harness.run_damaged(tmp_path, teams_ios.PATH, sql, "teams-ios-messages")
    assert outcome.recovered and outcome.outcome == "parsed" and 200 < outcome.records <= 306


def test_real_database(tmp_path):
    """Peer parity on josh_ios15_ffs: iLEAPP's teamsMessages gives 81 rows (every ZSMESSAGE row), teamsCalls 5
    (call-log properties), teamsLocations 12 (cards; all 12 carry coordinates, 6 in the card id and 6 only in the
    map link), teamsContacts 9 and teamsUser 2 — the same counts as ours."""
    files = extract(ileapp_case("teams", "teamsMessages", "josh_ios15_ffs"), tmp_path / "case")
    db_path = next(p for p in files if p.endswith(".sqlite"))
    outcomes, rows = parser_harness.run(tmp_path / "run", {db_path: files[db_path]}, NAMES)
    assert {o.spec.name: (o.outcome, o.records) for o in outcomes} == {
        "teams-ios-messages": ("parsed", 81), "teams-ios-calls": ("parsed", 5), "teams-ios-locations": ("parsed", 12),
        "teams-ios-contacts": ("parsed", 9), "teams-ios-users": ("parsed", 2)}
    with sqlite3.connect(f"file:{files[db_path]}?mode=ro", uri=True) as db:  # our own extracted copy
        assert db.execute("SELECT COUNT(*) FROM ZSMESSAGE m LEFT JOIN ZTHREAD t ON m.ZTHREADID = t.ZTSID"
                          ).fetchone()[0] == 81
    assert sum(m["direction"] == "outgoing" for m in rows["messages"]) == 40
    assert sum(loc["extra"]["coordinates_from"] == "card id" for loc in rows["locations"]) == 6
    assert {c["direction"] for c in rows["calls"]} <= {"incoming", "outgoing"}
