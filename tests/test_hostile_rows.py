"""One bad value fails one record, not the file: the framework skips the row a parser fails on (and a record the
store cannot hold), keeps every other row and records a warning (table, row, what) in the run."""
import sqlite3

from artifacts import timestamps
from artifacts.records import Call, Message, Provenance
from parsers.framework import parser
from tests import parser_harness

PATH = "/data/data/org.example.hostile/databases/msgs.db"


@parser(name="test-hostile-rows", app="org.example.hostile", paths=["*/org.example.hostile/databases/msgs.db"],
        requires={"msgs": {"_id", "date", "body"}}, source="test fixture")
def _fragile(db, ctx):
    """A parser as a careless app parser would be written: it raises on a value it cannot decode."""
    for row in db.execute("SELECT _id, date, body FROM msgs ORDER BY _id"):
        if row["body"] == "BAD":
            raise ValueError(f"undecodable payload {row['body']!r}")
        if row["body"] == "HUGE":  # a call whose duration no SQLite integer holds
            yield Call(app=ctx.app, duration_s=2 ** 70, ts=None, prov=ctx.prov("msgs", row["_id"]))
            continue
        yield Message(app=ctx.app, body=row["body"], ts=timestamps.unix_ms(row["date"]),
                      prov=ctx.prov("msgs", row["_id"]))


def _db(path, bad: dict[int, str]):
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE msgs (_id INTEGER PRIMARY KEY, date INTEGER, body TEXT)")
    db.executemany("INSERT INTO msgs VALUES (?, ?, ?)",
                   [(i, 1600000000000 + i, bad.get(i, f"m{i}")) for i in range(1, 1001)])
    db.commit()
    db.close()
    return path


def test_one_bad_row_among_a_thousand_loses_one_record(tmp_path):
    db = _db(tmp_path / "msgs.db", {500: "BAD", 700: "BAD"})
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: db}, ["test-hostile-rows"])
    run = outcomes[0]
    assert run.outcome == "parsed" and run.records == 998
    assert len(run.warnings) == 2 and "table msgs row 500: ValueError: undecodable payload 'BAD'" in run.warnings
    assert "2 bad value(s) skipped" in run.message and run.row(Provenance(device_id="d"))["warnings"] == 2
    assert sorted(int(m["source_row"]) for m in rows["messages"]) == [i for i in range(1, 1001) if i not in (500, 700)]


def test_a_value_the_store_cannot_hold_fails_its_record_only(tmp_path):
    db = _db(tmp_path / "msgs.db", {3: "HUGE"})
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: db}, ["test-hostile-rows"])
    run = outcomes[0]
    assert run.outcome == "parsed" and run.records == 999 and len(rows["messages"]) == 999 and not rows["calls"]
    assert [w.split(":")[0] for w in run.warnings] == ["table msgs row 3"] and "OverflowError" in run.warnings[0]
    assert "3" not in {m["source_row"] for m in rows["messages"]}


def test_a_time_out_of_range_keeps_its_record_and_raw_value(tmp_path):
    """Row by row (Python records): a date of 2^63-1 among a thousand keeps its record, with the raw value and a
    marked encoding and no UTC time, and the run carries one warning saying so."""
    db = _db(tmp_path / "msgs.db", {})
    conn = sqlite3.connect(db)
    conn.execute("UPDATE msgs SET date = ? WHERE _id IN (10, 20)", (2 ** 63 - 1,))
    conn.execute("UPDATE msgs SET date = 'soon' WHERE _id = 30")
    conn.commit()
    conn.close()
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: db}, ["test-hostile-rows"])
    run = outcomes[0]
    assert run.outcome == "parsed" and run.records == 1000 and len(rows["messages"]) == 1000
    kept = {m["source_row"]: (m["ts"], m["ts_raw"], m["ts_encoding"]) for m in rows["messages"]}
    assert kept["10"] == kept["20"] == (None, "9223372036854775807", "unix_ms(out of range)")
    assert kept["30"] == (None, "soon", "unix_ms(not a number)")
    assert kept["11"] == ("2020-09-13T12:26:40.011000Z", "1600000000011", "unix_ms")
    assert run.warnings == ["3 time(s) could not be decoded to UTC (messages.ts 3): raw value and encoding (which "
                            "says why) kept, UTC time left empty"]
    assert run.message == run.warnings[0] and run.row(Provenance(device_id="d"))["warnings"] == 1


def test_android_sms_date_out_of_range_is_kept_and_shown_by_status(tmp_path):
    """Through the real Android SMS parser (mapped in SQL) and the CLI: an SMS whose date is 2^63-1 beside a normal
    one — both stored, the bad one with its raw value, and the run's warning is a problem `status` shows."""
    import json

    from click.testing import CliRunner

    from cli import main
    from tests.fixtures.android_sms import MMSSMS_SCHEMA
    from tests.fixtures.sqlite_db import make_db

    make_db(tmp_path / "phone" / "data/data/com.android.providers.telephony/databases/mmssms.db",
            MMSSMS_SCHEMA + "INSERT INTO sms (_id, thread_id, address, date, date_sent, type, body) VALUES "
            "(1, 1, '+15550001', 1600000000000, 1599999999000, 1, 'normal'), "
            f"(2, 1, '+15550001', {2 ** 63 - 1}, 0, 1, 'date out of range');")
    case, runner = tmp_path / "case", CliRunner()
    assert runner.invoke(main, ["case", "init", str(case)]).exit_code == 0
    result = runner.invoke(main, ["ingest", str(case), str(tmp_path / "phone"), "--device-id", "d", "--quiet"])
    assert result.exit_code == 3, result.output  # done, with problems
    said = "android-sms: 2 time(s) could not be decoded to UTC (messages.received_ts 1, messages.ts 1): raw value " \
           "and encoding (which says why) kept, UTC time left empty"
    assert said in result.output
    messages = {m["body"]: m for m in map(json.loads, runner.invoke(main, ["export", str(case), "messages"])
                                          .output.splitlines())}
    assert set(messages) == {"normal", "date out of range"}
    bad = messages["date out of range"]
    assert (bad["ts"], bad["ts_raw"], bad["ts_encoding"]) == (None, str(2 ** 63 - 1), "unix_ms(out of range)")
    assert (bad["received_ts"], bad["received_ts_raw"]) == (None, str(2 ** 63 - 1))
    assert messages["normal"]["ts"] == "2020-09-13T12:26:39.000000Z"
    status = runner.invoke(main, ["status", str(case)]).output
    assert "parser-warnings 1" in status and said in status
    device = json.loads(runner.invoke(main, ["status", "--json", str(case)]).output)["devices"][0]
    assert device["problems"] == {"parser-warnings": 1} and device["counts"]["messages"] == 2
