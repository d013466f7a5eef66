"""Names from evidence and examiners that are SQL or URI syntax: case folders and evidence paths with ``#``, ``?``,
``%``, quotes, spaces, non-ASCII and a leading ``-``; table names with ``]`` and ``"`` in an evidence database."""
import json
import sqlite3

from click.testing import CliRunner

from artifacts.sql_quoting import ident, sqlite_uri
from cli import main
from tests import parser_harness
from tests.fixtures.android_sms import MMSSMS_SCHEMA
from tests.fixtures.ios_calls import ROWS, SCHEMA
from tests.fixtures.sqlite_db import make_db

SMS_ROWS = ("INSERT INTO sms (_id, thread_id, address, date, type, body) "
            "VALUES (1, 1, '+15550001', 1600000000000, 1, 'hi');")
ODD = 'op#7 ?%"x é'


def test_uri_and_identifier_escaping(tmp_path):
    folder = tmp_path / ODD
    folder.mkdir()
    db_path = folder / "a#b?.db"
    sqlite3.connect(db_path).executescript('CREATE TABLE "t]1""x" (v); INSERT INTO "t]1""x" VALUES (42);')
    uri = sqlite_uri(db_path)
    assert uri.startswith("file:/") and uri.endswith("?mode=ro") and "#" not in uri and " " not in uri
    db = sqlite3.connect(uri, uri=True)
    assert db.execute(f"SELECT v FROM {ident('t]1' + chr(34) + 'x')}").fetchall() == [(42,)]
    assert sorted(p.name for p in folder.iterdir()) == ["a#b?.db"]  # no stray file from a half-read URI
    assert ident('a"b') == '"a""b"'


def test_case_and_evidence_paths_with_syntax_characters(tmp_path, monkeypatch):
    evidence = tmp_path / '-ev #1 "q" é?%'
    make_db(evidence / "data/data/com.android.providers.telephony/databases/mmssms.db", MMSSMS_SCHEMA + SMS_ROWS)
    (evidence / "sdcard/odd name #?.txt").parent.mkdir(parents=True)
    (evidence / "sdcard/odd name #?.txt").write_text("x")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    case = ODD
    assert runner.invoke(main, ["case", "init", "--", case]).exit_code == 0
    result = runner.invoke(main, ["ingest", "--quiet", "--device-id", "p1", "--", case, evidence.name])
    assert result.exit_code == 0, result.output
    assert "parsed: " in result.output and "unsupported" not in result.output
    status = json.loads(runner.invoke(main, ["status", "--json", "--", case]).output)
    assert status["devices"][0]["counts"]["messages"] == 1
    exported = runner.invoke(main, ["export", "--", case, "messages"]).output
    messages = [json.loads(line) for line in exported.splitlines()]
    assert [m["body"] for m in messages] == ["hi"]
    files = runner.invoke(main, ["export", "--format", "csv", "--", case, "files"]).output
    assert "odd name #?.txt" in files
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([evidence.name, case])  # nothing beside the case


def test_table_name_with_bracket_parses(tmp_path):
    """CallHistory's participants join table is found by its name: one containing ``]`` still reads."""
    odd = "Z_2]REMOTEPARTICIPANTHANDLES"
    schema = SCHEMA.replace("Z_2REMOTEPARTICIPANTHANDLES (", f"{ident(odd)} (")
    rows = ROWS.replace("INSERT INTO Z_2REMOTEPARTICIPANTHANDLES", f"INSERT INTO {ident(odd)}")
    assert odd in schema and odd in rows
    db = make_db(tmp_path / "src" / "CallHistory.storedata", schema + rows)
    outcomes, out = parser_harness.run(tmp_path / "run", {
        "/private/var/mobile/Library/CallHistoryDB/CallHistory.storedata": db}, ["ios-calls"])
    assert outcomes[0].outcome == "parsed", outcomes[0].message
    group = {c["source_row"]: c for c in out["calls"]}["4"]
    assert group["peers"] == ["alan@example.com", "+1 555 010 0101"]


def test_carved_rows_in_a_case_folder_with_syntax_characters(tmp_path, monkeypatch):
    """The carver's scratch copy attaches the live database: with ``#`` or ``?`` in the case folder's name it must
    still read it (no stray file beside the case, and carved WhatsApp messages keep the chat and sender that come
    from the live tables), exactly as in a plainly named case."""
    import shutil

    from tests.fixtures.whatsapp_android import generate_msgstore

    evidence = tmp_path / "ev"
    db_path = generate_msgstore(evidence / "data/data/com.whatsapp/databases/msgstore.db", 300)
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA secure_delete=OFF")
    db.execute("DELETE FROM message WHERE message_type = 0 AND _id % 7 = 0")
    db.close()
    for leftover in evidence.rglob("*-journal"):
        leftover.unlink()
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def carved(case):
        assert runner.invoke(main, ["case", "init", "--", case]).exit_code == 0
        result = runner.invoke(main, ["ingest", "--quiet", "--device-id", "p1", "--", case, "ev"])
        assert result.exit_code == 0, result.output
        rows = [json.loads(line) for line in runner.invoke(main, ["export", "--", case, "messages"]).output
                .splitlines()]
        fields = ("body", "thread_id", "thread_name", "sender", "recipients", "direction", "source_row")
        return sorted(tuple(json.dumps(m[f]) for f in fields) for m in rows if m["recovered_from"])

    plain = carved("plain")
    assert len(plain) > 10 and all('"' in row[1] for row in plain)  # every carved message has its chat
    odd = carved(ODD)
    assert odd == plain
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["ev", "plain", ODD])  # nothing beside the cases
    shutil.rmtree(evidence)


def test_problem_hint_is_a_command_line_that_works(tmp_path, monkeypatch):
    """ingest's closing hint names `forensics status CASE` so that pasting it into a shell works: the case folder
    quoted, after ``--`` when it begins with ``-``."""
    import re
    import shlex
    import zipfile

    archive = tmp_path / "x.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("../up.txt", b"x")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    case = "-" + ODD + " 'q'"
    assert runner.invoke(main, ["case", "init", "--", case]).exit_code == 0
    result = runner.invoke(main, ["ingest", "--quiet", "--device-id", "p1", "--", case, "x.zip"])
    assert result.exit_code == 3, result.output
    (line,) = re.findall(r"`(forensics status [^`]*)`", result.output)
    argv = shlex.split(line)
    assert argv[-1] == case
    status = runner.invoke(main, argv[1:])
    assert status.exit_code == 0 and "path-climbs-out" in status.output, status.output


def test_terminal_escapes_in_names_are_shown_escaped_in_errors_and_status(tmp_path, monkeypatch):
    """An evidence file whose name carries ANSI/OSC escape sequences fails (empty): the error line and `status`
    show the name escaped, never the raw sequences; --display-tz on a format without a local column says so."""
    monkeypatch.chdir(tmp_path)
    name = "bad\x1b[2J\x1b]0;pwned\x07.img"
    (tmp_path / name).write_bytes(b"")
    runner = CliRunner()
    assert runner.invoke(main, ["case", "init", "c"]).exit_code == 0
    failed = runner.invoke(main, ["ingest", "--quiet", "--device-id", "p1", "c", name])
    assert failed.exit_code == 2 and "bad\\x1b[2J\\x1b]0;pwned\\x07.img" in failed.output
    status = runner.invoke(main, ["status", "c"])
    assert status.exit_code == 0 and "\\x1b[2J" in status.output
    for out in (failed.output, status.output):
        assert "\x1b" not in out and "\x07" not in out
    note = runner.invoke(main, ["timeline", "c", "--display-tz", "Europe/Kyiv"])
    assert note.exit_code == 0 and "jsonl stays in UTC" in note.stderr


def test_device_id_with_a_leading_dash_is_refused_with_the_rule(tmp_path):
    runner = CliRunner()
    assert runner.invoke(main, ["case", "init", str(tmp_path / "c")]).exit_code == 0
    result = runner.invoke(main, ["ingest", "--quiet", "--device-id", "-x", str(tmp_path / "c"), str(tmp_path)])
    assert result.exit_code == 2 and "starting with a letter or digit" in result.output
