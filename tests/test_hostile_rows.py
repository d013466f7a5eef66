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
