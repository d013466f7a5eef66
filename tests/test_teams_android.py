"""Microsoft Teams Android: SkypeTeams.db built with the columns ALEAPP's teams.py reads."""
from tests import parser_harness
from tests.fixtures import teams_android
from tests.fixtures.sqlite_db import make_db

NAMES = ["teams-android-messages", "teams-android-calls", "teams-android-users"]


def test_messages_calls_users_and_wal(tmp_path):
    db = teams_android.build(tmp_path / "src" / "SkypeTeams.db", wal=True)
    outcomes, rows = parser_harness.run(tmp_path / "run", parser_harness.with_wal(teams_android.PATH, db),
                                        NAMES)
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "teams-android-messages": ("parsed", 4, 1), "teams-android-calls": ("parsed", 3, 0),
        "teams-android-users": ("parsed", 2, 0)}
    first, removed, unknown, wal = rows["messages"]
    assert (first["thread_id"], first["thread_name"], first["sender_name"], first["body"], first["ts"]) == (
        "19:crew@thread.v2", "Crew", "Peer", "<p>van at 6</p>", "2023-11-14T22:13:20.001000Z")
    assert removed["deleted"] and removed["extra"]["delete_time"] == "2023-11-14T22:15:00.000000Z"
    assert (unknown["thread_name"], unknown["deleted"]) == (None, False)
    assert wal["from_wal"] and wal["body"] == "wal only"

    out, missed, unknown_target = rows["calls"]
    assert (out["direction"], out["peers"], out["peer_name"], out["duration_s"], out["answered"], out["ts"]) == (
        "outgoing", [teams_android.PEER], "Pat", 60.5, True, "2023-11-14T22:13:30.000000Z")
    assert (missed["direction"], missed["peer_name"], missed["answered"], missed["ts"]) == (
        "incoming", "Stranger", False, None)
    # ALEAPP's inner join on User drops this call (target not in User): kept here, without a name
    assert (unknown_target["peers"], unknown_target["peer_name"]) == ([teams_android.STRANGER], None)

    pat, me = rows["contacts"]
    assert (pat["name"], pat["user_id"], pat["emails"], pat["phones"], pat["ts"]) == (
        "Pat Peer", teams_android.PEER, ["pat@example.com", "pat.alt@example.com"], ["+15550100"],
        "2023-11-14T22:16:40.000000Z")
    assert me["name"] == "Me" and me["emails"] == []


def test_schema_without_optional_columns(tmp_path):
    db = make_db(tmp_path / "SkypeTeams.db", """
        CREATE TABLE Message (messageId TEXT, conversationId TEXT, arrivalTime INTEGER, userDisplayName TEXT,
            content TEXT);
        CREATE TABLE Conversation (conversationId TEXT);
        CREATE TABLE User (mri TEXT, displayName TEXT, lastSyncTime INTEGER);
        INSERT INTO Message VALUES ('1', 'c', 1600000000000, 'A', 'x');
        INSERT INTO User VALUES ('8:orgid:a', 'A', 0);
    """)
    outcomes, rows = parser_harness.run(tmp_path / "run", {teams_android.PATH: db}, NAMES)
    assert {o.spec.name: o.outcome for o in outcomes} == {
        "teams-android-messages": "parsed", "teams-android-calls": "unsupported version",
        "teams-android-users": "parsed"}
    assert rows["messages"][0]["thread_name"] is None and rows["contacts"][0]["ts"] is None


def test_damaged_copy_is_recovered(tmp_path):
    many = ("BEGIN;" + "".join(f"INSERT INTO Message VALUES ('{i}', 'c', {1700000000000 + i}, 'A', '{'z' * 400}', "
                                f"NULL);" for i in range(300)) + "COMMIT;")
    sql = teams_android.SCHEMA + teams_android.ROWS + many
    outcome = parser_harness.run_damaged(tmp_path, teams_android.PATH, sql, "teams-android-messages")
    assert outcome.recovered and outcome.outcome == "parsed" and 200 < outcome.records <= 303
