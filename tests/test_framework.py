"""The parser framework: path matching, lab parsers through entry points, and all-or-nothing runs."""
import sys
from pathlib import Path

import pytest

from artifacts import timestamps
from artifacts.records import Message
from parsers import framework
from tests import parser_harness
from tests.fixtures.sqlite_db import make_db


def test_patterns_are_unanchored_case_insensitive_and_carry_sidecars():
    regex = framework.compile_patterns(["*/com.whatsapp/databases/msgstore.db", "Library/SMS/sms.db"])
    for path in ["/data/data/com.whatsapp/databases/msgstore.db",
                 "/filesystem1/data/data/com.whatsapp/databases/msgstore.db-wal",
                 "/Dump/DATA/DATA/COM.WHATSAPP/DATABASES/MSGSTORE.DB",
                 "/private/var/mobile/Library/SMS/sms.db-journal"]:
        assert regex.match(path.lower()), path
    for path in ["/data/data/com.whatsapp/databases/msgstore.db.bak", "/x/msgstore.db",
                 "/private/var/mobile/Library/SMS/sms.db-wal.old"]:
        assert not regex.match(path.lower()), path


@pytest.fixture
def lab_package(tmp_path):
    """A lab's own parser package, installed only as an entry point (a dist-info on sys.path)."""
    pkg = tmp_path / "labparsers"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "from artifacts.records import Message\n"
        "from parsers.framework import parser\n"
        "@parser(name='lab-notes', app='org.lab.notes', paths=['*/org.lab.notes/notes.db'],\n"
        "        requires={'notes': {'id', 'text'}})\n"
        "def notes(db, ctx):\n"
        "    for row in db.execute('SELECT id, text FROM notes ORDER BY id'):\n"
        "        yield Message(app=ctx.app, body=row['text'], prov=ctx.prov('notes', row['id']))\n")
    info = tmp_path / "labparsers-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: labparsers\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[forensics.parsers]\nnotes = labparsers\n")
    sys.path.insert(0, str(tmp_path))
    yield
    sys.path.remove(str(tmp_path))
    sys.modules.pop("labparsers", None)
    framework._REGISTRY.pop("lab-notes", None)


def test_lab_parser_registered_through_entry_point(lab_package, tmp_path):
    assert "lab-notes" in {s.name for s in framework.load_parsers()}
    db = make_db(tmp_path / "notes.db", "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT);"
                                        "INSERT INTO notes VALUES (1, 'meet at 9');")
    outcomes, rows = parser_harness.run(tmp_path / "run", {"/data/data/org.lab.notes/notes.db": db}, ["lab-notes"])
    assert outcomes[0].outcome == "parsed" and rows["messages"][0]["body"] == "meet at 9"


def test_a_failing_parser_leaves_no_half_written_rows(tmp_path):
    @framework.parser(name="test-halfway", app="org.test", paths=["*/org.test/half.db"],
                      requires={"t": {"id"}})
    def halfway(db, ctx):
        for row in db.execute("SELECT id FROM t ORDER BY id"):
            if row["id"] == 3:
                raise ValueError("bad row 3")
            yield Message(app=ctx.app, body=str(row["id"]), ts=timestamps.unix_s(row["id"]),
                          prov=ctx.prov("t", row["id"]))

    try:
        db = make_db(tmp_path / "half.db", "CREATE TABLE t (id INTEGER PRIMARY KEY);"
                                           "INSERT INTO t VALUES (1), (2), (3), (4);")
        outcomes, rows = parser_harness.run(tmp_path / "run", {"/data/data/org.test/half.db": db},
                                            ["test-halfway"])
    finally:
        framework._REGISTRY.pop("test-halfway", None)
    # the row it failed on is skipped and named, the run's first attempt is rolled back: nothing twice
    assert outcomes[0].outcome == "parsed" and outcomes[0].warnings == ["table t row 3: ValueError: bad row 3"]
    assert [m["body"] for m in rows["messages"]] == ["1", "2", "4"]


def test_a_parser_failing_on_too_many_rows_fails_whole(tmp_path):
    @framework.parser(name="test-every-row", app="org.test", paths=["*/org.test/all.db"], requires={"t": {"id"}})
    def every_row(db, ctx):
        for row in db.execute("SELECT id FROM t ORDER BY id"):
            if row["id"] > 1:
                raise ValueError(f"bad row {row['id']}")
            yield Message(app=ctx.app, body=str(row["id"]), ts=None, prov=ctx.prov("t", row["id"]))

    values = ", ".join(f"({i})" for i in range(1, framework.MAX_BAD_ROWS + 3))
    try:
        db = make_db(tmp_path / "all.db", f"CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES {values};")
        outcomes, rows = parser_harness.run(tmp_path / "run", {"/data/data/org.test/all.db": db}, ["test-every-row"])
    finally:
        framework._REGISTRY.pop("test-every-row", None)
    assert outcomes[0].outcome == "error" and outcomes[0].message == \
        f"error: ValueError: bad row {framework.MAX_BAD_ROWS + 2}"
    assert rows["messages"] == []


def test_sqlcipher_database_under_a_plain_parser_is_reported_encrypted(tmp_path):
    sqlcipher3 = pytest.importorskip("sqlcipher3")
    path = tmp_path / "mmssms.db"
    db = sqlcipher3.connect(str(path))
    db.execute("PRAGMA key = 'secret'")
    db.execute("CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id, address, date, type, body)")
    db.execute("INSERT INTO sms VALUES (1, 1, '555', 1, 1, 'hidden')")
    db.commit()
    db.close()
    outcomes, rows = parser_harness.run(
        tmp_path / "run", {"/data/data/com.android.providers.telephony/databases/mmssms.db": path}, ["android-sms"])
    assert outcomes[0].outcome == "encrypted" and "SQLCipher" in outcomes[0].message
    assert rows["messages"] == []


def test_real_wal_pair_rows_only_in_the_wal_show_only_with_it(tmp_path):
    from tests.conftest_paths import TESTDATA

    base = TESTDATA / "log2timeline+plaso/test_data/wal_database.db"
    if not base.exists():
        pytest.skip(f"third-party test data absent: {base}")

    @framework.parser(name="test-wal-pair", app="org.test", paths=["*/wal_database.db"],
                      requires={"MyTable": {"Field1"}})
    def rows_of(db, ctx):
        for row in db.execute("SELECT rowid, Field1 FROM MyTable ORDER BY rowid"):
            yield Message(app=ctx.app, body=str(row["Field1"]), prov=ctx.prov("MyTable", row["rowid"]))

    path = "/data/data/org.test/databases/wal_database.db"
    try:
        _, with_wal = parser_harness.run(tmp_path / "a", {path: base, path + "-wal": base.with_name(
            "wal_database.db-wal")}, ["test-wal-pair"])
        _, without = parser_harness.run(tmp_path / "b", {path: base}, ["test-wal-pair"])
    finally:
        framework._REGISTRY.pop("test-wal-pair", None)
    # the WAL adds rows 11-13, changes row 4 and deletes rows 3 and 6 of the main file
    current = [m for m in with_wal["messages"] if not m["wal_deleted"]]
    assert [m["source_row"] for m in current] == ["1", "2", "4", "5", "7", "8", "9", "10", "11", "12", "13"]
    assert [(m["source_row"], m["body"]) for m in current if m["from_wal"]] == [
        ("11", "Unhashable Row 2"), ("12", "New Text 1"), ("13", "New Text 2")]
    assert current[2]["body"] == "Modified Committed Text 3"
    # the rows the WAL deleted still stand in the main file: they are read from it and flagged
    assert [(m["source_row"], m["body"]) for m in with_wal["messages"] if m["wal_deleted"]] == [
        ("3", "Deleted Text 1"), ("6", "Deleted Text 2")]
    assert [m["source_row"] for m in without["messages"]] == [str(i) for i in range(1, 11)]
    assert not any(m["from_wal"] or m["wal_deleted"] for m in without["messages"])


def test_tables_only_in_the_wal_are_flagged_from_wal(tmp_path):
    """A database never checkpointed: its main file is one empty page, so every row is read from the -wal."""
    import sqlite3

    from tests.fixtures.android_sms import MMSSMS_SCHEMA
    path = make_db(tmp_path / "mmssms.db", wal_only=True, schema_and_rows=MMSSMS_SCHEMA + """
        INSERT INTO sms (_id, thread_id, address, date, type, body) VALUES (1, 1, '+15550001', 1700000000000, 1,
          'first'), (2, 1, '+15550001', 1700000060000, 2, 'second');""")
    alone = tmp_path / "alone" / "mmssms.db"  # the main file without its -wal holds no table
    alone.parent.mkdir()
    alone.write_bytes(path.read_bytes())
    main = sqlite3.connect(alone)
    assert alone.stat().st_size == 4096 and main.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
    main.close()
    device_path = "/data/data/com.android.providers.telephony/databases/mmssms.db"
    outcomes, rows = parser_harness.run(tmp_path / "run", {device_path: path, device_path + "-wal":
                                                           Path(str(path) + "-wal")}, ["android-sms"])
    assert (outcomes[0].outcome, outcomes[0].records, outcomes[0].from_wal) == ("parsed", 2, 2)
    assert [(m["body"], m["from_wal"], m["wal_deleted"]) for m in rows["messages"]] == [
        ("first", True, False), ("second", True, False)]


def test_optional_columns_fill_missing_ones_with_null(tmp_path):
    import sqlite3

    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE m (Z_PK INTEGER PRIMARY KEY, ZTEXT TEXT)")
    assert framework.optional_columns(db, "m", ["ZTEXT", "ZDATE"], alias="x") == "x.ZTEXT, NULL AS ZDATE"
    assert framework.optional_columns(db, "m", ["zText"]) == "zText"


def test_file_parser_runs_share_a_transaction_yet_one_bad_file_fails_only_its_run(tmp_path):
    """File-parser runs are batched in one store transaction; a run that fails half-way keeps none of its rows and
    its own error outcome, and the files before and after it keep theirs; a database run in between is unaffected."""
    @framework.parser(name="test-note-file", app="org.test", paths=["*/org.test/notes/*.txt"])
    def note_file(db, ctx):
        for number, line in enumerate(ctx.local.read_text().splitlines()):
            if line == "boom":
                raise ValueError(f"bad line in {ctx.source.path.rsplit('/', 1)[-1]}")
            yield Message(app=ctx.app, body=line, prov=ctx.prov(None, number))

    @framework.parser(name="test-note-db", app="org.test", paths=["*/org.test/notes/b.db"], requires={"t": {"id"}})
    def note_db(db, ctx):
        for row in db.execute("SELECT id FROM t ORDER BY id"):
            yield Message(app=ctx.app, body=f"db {row['id']}", prov=ctx.prov("t", row["id"]))

    files = {f"/data/data/org.test/notes/{name}.txt": text.encode()
             for name, text in (("a", "one\ntwo"), ("c", "three\nboom"), ("d", "four"))}
    files["/data/data/org.test/notes/b.db"] = make_db(tmp_path / "b.db", "CREATE TABLE t (id INTEGER PRIMARY KEY);"
                                                                         "INSERT INTO t VALUES (7);")
    try:
        outcomes, rows = parser_harness.run(tmp_path / "run", files, ["test-note-file", "test-note-db"])
    finally:
        framework._REGISTRY.pop("test-note-file", None)
        framework._REGISTRY.pop("test-note-db", None)
    assert [(o.source.path.rsplit("/", 1)[-1], o.outcome, o.records, o.message) for o in outcomes] == [
        ("a.txt", "parsed", 2, None), ("b.db", "parsed", 1, None),
        ("c.txt", "error", 0, "error: ValueError: bad line in c.txt"), ("d.txt", "parsed", 1, None)]
    assert [m["body"] for m in rows["messages"]] == ["one", "two", "db 7", "four"]


def test_candidate_specs_never_drop_a_parser_whose_patterns_match():
    specs = framework.load_parsers()
    candidates = framework._candidate_specs(specs)
    paths = ["/media/0/DCIM/Camera/IMG_1.JPG", "/data/data/com.whatsapp/databases/msgstore.db",
             "/x/com.facebook.orca/a/msys_database_1/b", "/x/com.wire/databases/12345678-1234-1234-1234-123456789012",
             "/x/com.twitter.android/databases/123-search.db", "/data/misc/random.bin"]
    paths += [pattern.replace("*", "x/y").replace("?", "z") for spec in specs for pattern in spec.paths]
    for path in paths:
        assert [s for s in candidates(path) if s.matches(path)] == [s for s in specs if s.matches(path)], path


def test_wanted_paths_agrees_with_the_parsers_own_patterns():
    specs = framework.load_parsers()
    wanted = framework.wanted_paths(specs)
    paths = ["/data/data/com.whatsapp/databases/msgstore.db-wal", "/Dump/data/data/com.whatsapp/databases/wa.db",
             "/private/var/mobile/Library/SMS/sms.db", "/private/var/mobile/Library/Safari/History.db",
             "/media/0/DCIM/Camera/IMG_1.JPG", "/x/y/History", "/data/misc/random.bin", "/system/build.prop",
             "/data/data/com.android.chrome/app_chrome/Default/History"]
    for path in paths:
        assert wanted(path) == any(spec.matches(path) for spec in specs), path
    assert wanted("/data/data/com.whatsapp/databases/msgstore.db") and not wanted("/data/misc/random.bin")


def test_every_builtin_parser_says_where_its_schema_facts_come_from():
    """Issue 11: `forensics parsers` names each parser's public source; a built-in parser is never 'unverified'."""
    from click.testing import CliRunner

    from cli import main
    from parsers.framework import UNVERIFIED, load_parsers

    specs = load_parsers()
    unverified = [s.name for s in specs if s.func.__module__.startswith("parsers.") and s.source == UNVERIFIED]
    assert unverified == []
    shown = CliRunner().invoke(main, ["parsers"]).output
    assert shown.count("schema facts from: ") == len(specs)
    whatsapp = shown.split("whatsapp-android-messages ", 1)[1].split("\n", 3)
    assert "schema facts from: ALEAPP scripts/artifacts/WhatsApp.py" in whatsapp[2]


def test_explicit_source_wins_over_the_module_default(tmp_path):
    from parsers import framework

    @framework.parser(name="test-source-explicit", app="x", paths=["*/x.db"], source="a public test file")
    def explicit(db, ctx):
        return []

    try:
        assert framework._REGISTRY["test-source-explicit"].source == "a public test file"
    finally:
        framework._REGISTRY.pop("test-source-explicit")


def test_matching_specs_equal_every_parsers_own_patterns():
    specs = framework.load_parsers()
    odd = [framework.ParserSpec(f"odd-{i}", "x", [pattern], lambda db, ctx: None) for i, pattern in enumerate(
        ["*/x/[!a]bc*/long_literal?.db", "*/we[ird/file", "a]b/*.txt", "*/[]]z/*.q", "sdcard/*/cache-[0-9].bin",
         "*/DCIM/*.JPG"])]
    specs = specs + odd
    matching = framework.matching_specs(specs)
    paths = ["/media/0/DCIM/Camera/IMG_1.JPG", "/data/data/com.whatsapp/databases/msgstore.db-wal",
             "/x/com.facebook.orca/a/msys_database_1/b", "/x/com.wire/databases/12345678-1234-1234-1234-123456789012",
             "/x/com.twitter.android/databases/123-search.db", "/data/misc/random.bin", "/q/x/zbc/y/long_literal1.db",
             "/q/x/abc/y/long_literal1.db", "/r/we[ird/file", "/r/a]b/c.txt", "/s/]z/t.q", "/sdcard/a/cache-7.bin",
             "/sdcard/a/cache-x.bin", "/e/DCIM/f/G.jpg-journal"]
    paths += [pattern.replace("*", "x/y").replace("?", "z") for spec in specs for pattern in spec.paths]
    paths += [path.upper() for path in paths] + [path + "-wal" for path in paths]
    for path in paths:
        assert list(matching(path)) == [s for s in specs if s.matches(path)], path
    assert [s.name for s in matching("/q/x/zbc/y/long_literal1.db")] == ["odd-0"]


def test_literal_run_is_text_every_match_holds():
    assert framework._literal_run("*/com.twitter.android/databases/[0-9]*[0-9].db") == \
        "/com.twitter.android/databases/"
    assert framework._literal_run("*.JPG") == ".jpg"
    assert framework._literal_run("data/x[0-9]/longer-literal-tail") == "/longer-literal-tail"
    assert framework._literal_run("*/ab[cdefghijklmnop") == "cdefghijklmnop"


def test_runs_of_one_record_take_no_savepoint_and_a_bad_one_still_fails_alone(tmp_path, monkeypatch):
    """In a batch of file-parser runs a run's savepoint is taken only before it writes, and none when it writes one
    row (one INSERT is all-or-nothing on its own): yet a run failing after its one record keeps no row and its own
    error, a record whose value cannot be stored is skipped with a warning, and the other runs keep theirs."""
    from artifacts.store import Store

    statements: list[str] = []

    class TracedStore(Store):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.db.conn.set_trace_callback(statements.append)

    monkeypatch.setattr(parser_harness, "Store", TracedStore)

    @framework.parser(name="test-one-note", app="org.test", paths=["*/org.test/notes/*.txt"])
    def one_note(db, ctx):
        for number, line in enumerate(ctx.local.read_text().splitlines()):
            if line == "boom":
                raise ValueError(f"bad line in {ctx.source.path.rsplit('/', 1)[-1]}")
            yield Message(app=ctx.app, body=2 ** 70 if line == "huge" else line, prov=ctx.prov(None, number))

    files = {f"/data/data/org.test/notes/{name}.txt": text.encode() for name, text in
             (("a", "one"), ("b", "two\nthree"), ("c", "four\nboom"), ("d", "huge"), ("e", "five"))}
    try:
        outcomes, rows = parser_harness.run(tmp_path / "run", files, ["test-one-note"])
    finally:
        framework._REGISTRY.pop("test-one-note", None)
    assert [(o.source.path.rsplit("/", 1)[-1], o.outcome, o.records) for o in outcomes] == [
        ("a.txt", "parsed", 1), ("b.txt", "parsed", 2), ("c.txt", "error", 0), ("d.txt", "no data", 0),
        ("e.txt", "parsed", 1)]
    assert outcomes[2].message == "error: ValueError: bad line in c.txt"
    assert "1 bad value(s) skipped" in outcomes[3].message and "OverflowError" in outcomes[3].message
    assert [m["body"] for m in rows["messages"]] == ["one", "two", "three", "five"]
    # b: its block and its batch of two rows; c: its block, rolled back; a, d, e: one INSERT each, no savepoint
    assert [s for s in statements if s.startswith(("SAVEPOINT", "ROLLBACK TO"))] == [
        "SAVEPOINT store_block", "SAVEPOINT record_batch", "SAVEPOINT store_block", "ROLLBACK TO store_block"]
