"""The case timeline: one event per (record, time meaning), Timesketch's import rules, l2tcsv, xlsx, filters,
spreadsheet safety, cut long values, zoneless file times kept off the UTC timeline, determinism."""
import csv
import datetime as dt
import io
import json

import pytest
from click.testing import CliRunner

from cli import main
from tests.conftest_paths import TESTDATA
from tests.fixtures import images
from tests.fixtures.android_sms import MMSSMS_SCHEMA
from tests.fixtures.sqlite_db import make_db

SMS = "data/data/com.android.providers.telephony/databases/mmssms.db"
LONG = "x" * 40_000 + "é" * 10
BODIES = [
    (1, "+380931114562", 1709914200123, 1709914100000, 1, 1, "Rooms 12 and 14 are paid."),
    (2, "+380931114562", 1709914300000, 0, 2, 1, "=HYPERLINK(\"http://evil.example\",\"click\")"),
    (3, "+48601234567", 1709914400000, 1709914390000, 1, 0, "@SUM(A1:A9)"),
    (4, "+48601234567", 1709914500000, 1709914490000, 1, 1, LONG),
    (5, "+48601234567", 1709914600000, 0, 2, 1, "<script>alert(1)</script> مرحبا 👋"),
]


def _invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """A two-device case: an SMS database in a folder extraction (one device) and the same in a FAT image, whose
    file times have no zone (the other)."""
    root = tmp_path_factory.mktemp("timeline")
    rows = ";".join(f"INSERT INTO sms (_id, thread_id, address, date, date_sent, type, read, body) VALUES "
                    f"({i}, 1, '{a}', {d}, {s}, {t}, {r}, '{b.replace(chr(39), chr(39) * 2)}')"
                    for i, a, d, s, t, r, b in BODIES)
    folder = root / "phone-a"
    make_db(folder / SMS, MMSSMS_SCHEMA + rows + ";")
    fat = images.fat_image(root / "card.img", {"DCIM/a.txt": b"hello"}) if not images.missing_tools(
        "mkfs.vfat", "mcopy") else None
    case_dir = root / "case"
    assert _invoke("case", "init", case_dir).exit_code == 0
    assert _invoke("ingest", case_dir, folder, "--device-id", "phone-a", "--quiet").exit_code == 0
    if fat:
        assert _invoke("ingest", case_dir, fat, "--device-id", "card-b", "--quiet").exit_code == 0
    return case_dir


def _timesketch_rules_csv(text: str, ours: bool = True) -> list[dict]:
    """Timesketch's CSV import: a header naming message, datetime and timestamp_desc; every datetime ISO-8601 with
    an offset; no value over 32,766 bytes. Ours also: timestamp is the same instant in epoch microseconds
    (Timesketch derives it from datetime; its own sample files carry unrelated numbers there)."""
    reader = csv.DictReader(io.StringIO(text))
    assert {"message", "datetime", "timestamp_desc"} <= set(reader.fieldnames)
    rows = list(reader)
    for row in rows:
        _check_event(row, ours)
    return rows


def _check_event(row: dict, ours: bool = True) -> None:
    moment = dt.datetime.fromisoformat(row["datetime"])
    assert moment.utcoffset() is not None, row["datetime"]
    if ours:
        delta = moment - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
        assert int(row["timestamp"]) == delta // dt.timedelta(microseconds=1)
    assert row["message"] and row["timestamp_desc"]
    for key, value in row.items():
        assert len(str(value).encode()) <= 32_766, key


def test_timesketch_sample_files_pass_the_same_rules():
    """The rules above accept Timesketch's own end-to-end test files (so they are the importer's rules)."""
    folder = TESTDATA / "google+timesketch/end_to_end_tests/test_data"
    if not folder.exists():
        pytest.skip(f"third-party test data absent: {folder}")
    assert len(_timesketch_rules_csv((folder / "sigma_events.csv").read_text(), ours=False)) > 0
    for line in (folder / "sigma_events.jsonl").read_text().splitlines():
        _check_event(json.loads(line), ours=False)


def test_messages_give_one_event_per_time_meaning_in_time_order(case):
    result = _invoke("timeline", case, "--format", "csv", "--artifact", "messages")
    assert result.exit_code == 0, result.output
    rows = _timesketch_rules_csv(result.stdout)
    by_row = {}
    for row in rows:
        by_row.setdefault(row["source_row"], []).append(row["timestamp_desc"])
    assert by_row["1"] == ["Message sent", "Message received"]  # incoming with date_sent: sent, then received
    assert by_row["2"] == ["Message sent"]
    assert [r["datetime"] for r in rows] == sorted(r["datetime"] for r in rows)
    first = rows[0]
    assert first["datetime"] == "2024-03-08T16:08:20.000000+00:00" and first["time_raw"] == "1709914100000"
    assert first["time_encoding"] == "unix_ms" and first["device_id"] == "phone-a"
    assert first["source_path"].endswith("/mmssms.db") and first["source_table"] == "sms"


def test_spreadsheet_payloads_are_neutralised_in_csv_but_raw_in_jsonl(case):
    rows = _timesketch_rules_csv(_invoke("timeline", case, "--format", "csv", "--artifact", "messages").stdout)
    bodies = {r["source_row"]: r["body"] for r in rows}
    assert bodies["2"].startswith("'=HYPERLINK") and bodies["3"] == "'@SUM(A1:A9)"
    assert bodies["5"] == "<script>alert(1)</script> مرحبا 👋"
    events = [json.loads(line) for line in _invoke("timeline", case, "--artifact", "messages").stdout.splitlines()]
    for event in events:
        _check_event(event)  # the JSON lines pass Timesketch's rules too
    assert {e["source_row"]: e["body"] for e in events}["2"].startswith("=HYPERLINK")
    assert all(e["from_wal"] is False for e in events)


def test_a_value_over_the_timesketch_limit_is_cut_and_says_so(case):
    events = [json.loads(line) for line in _invoke("timeline", case, "--artifact", "messages").stdout.splitlines()]
    long = [e for e in events if e["source_row"] == "4"]
    assert long and all(e["truncated_fields"] == "message, body" for e in long)
    for e in long:
        assert len(e["body"].encode()) <= 32_766 and e["body"].endswith(f"[cut: {len(LONG.encode())} bytes in full]")
    assert all("truncated_fields" not in e for e in events if e["source_row"] != "4")


def test_filters(case):
    def rows(*args):
        return list(csv.DictReader(io.StringIO(_invoke("timeline", case, "--format", "csv", *args).stdout)))

    assert {r["source_row"] for r in rows("--since", "2024-03-08T18:13:00+02:00")} == {"3", "4", "5"}
    assert {r["source_row"] for r in rows("--until", "2024-03-08T16:10:00.123Z", "--artifact", "messages")} == \
        {"1"}
    assert {r["source_row"] for r in rows("--search", "ROOMS 12")} == {"1"}
    assert rows("--device", "nobody") == [] and rows("--platform", "whatsapp") == []
    assert {r["platform"] for r in rows("--platform", "sms")} == {"SMS"}
    for command in (["timeline", case, "--device", "phone-a", "--device", "nobody"],
                    ["export", case, "messages", "--device-id", "nobody"],
                    ["locations", case, "--device-id", "nobody"]):
        typo = _invoke(*command)  # a device the case does not have is a typo, not an empty hand-over
        assert typo.exit_code == 2 and "no device 'nobody' in this case" in typo.output and not typo.stdout
    bad = _invoke("timeline", case, "--since", "yesterday")
    assert bad.exit_code == 2 and "not a date or time" in bad.output and "Traceback" not in bad.output


def test_zoneless_file_times_stay_off_the_utc_timeline(case):
    result = _invoke("timeline", case, "--files", "--device", "card-b", "--format", "csv")
    if "card-b" not in _invoke("status", case).output:
        pytest.skip("mkfs.vfat/mcopy missing: no FAT device in this case")
    assert result.exit_code == 0
    assert list(csv.DictReader(io.StringIO(result.stdout))) == []
    assert "have no known zone and are not on the UTC timeline" in result.stderr
    ext = list(csv.DictReader(io.StringIO(_invoke("timeline", case, "--files", "--artifact", "files",
                                                  "--device", "phone-a", "--format", "csv").stdout)))
    assert ext == [] or all(r["time_encoding"] and "zone unknown" not in r["time_encoding"] for r in ext)


def test_l2tcsv_has_plasos_17_columns(case):
    rows = list(csv.reader(io.StringIO(_invoke("timeline", case, "--format", "l2tcsv").stdout)))
    assert rows[0] == ["date", "time", "timezone", "MACB", "source", "sourcetype", "type", "user", "host", "short",
                       "desc", "version", "filename", "inode", "notes", "format", "extra"]
    assert len(rows) > 5 and all(len(r) == 17 for r in rows)
    assert rows[1][:3] == ["03/08/2024", "16:08:20", "UTC"] and rows[1][8] == "phone-a"



def test_terminal_escapes_are_written_escaped_in_csv_and_l2tcsv_but_raw_in_jsonl(tmp_path):
    """An ANSI escape (ESC [ 31 m), an OSC title change and a C1 CSI in a message body: the CSV hand-overs show them
    as \\xNN text, so `cat` of the file cannot drive the examiner's terminal; the JSON lines keep the exact value."""
    body = "red \x1b[31mRED\x1b[0m \x1b]0;pwned\x07 c1 \u009b2J é"
    folder = tmp_path / "phone"
    make_db(folder / SMS, MMSSMS_SCHEMA + "INSERT INTO sms (_id, thread_id, address, date, date_sent, type, read, "
            f"body) VALUES (1, 1, '+380931114562', 1709914200123, 0, 1, 1, '{body}');")
    case_dir = tmp_path / "case"
    assert _invoke("case", "init", case_dir).exit_code == 0
    assert _invoke("ingest", case_dir, folder, "--device-id", "p", "--quiet").exit_code == 0
    escaped = "red \\x1b[31mRED\\x1b[0m \\x1b]0;pwned\\x07 c1 \\x9b2J é"
    for args in (("--format", "csv"), ("--format", "csv", "--display-tz", "Europe/Kyiv"), ("--format", "l2tcsv")):
        out = _invoke("timeline", case_dir, "--artifact", "messages", *args).stdout_bytes
        assert b"\x1b" not in out and b"\x07" not in out and "\u009b".encode() not in out, args
        assert escaped in out.decode(), args
    events = [json.loads(line) for line in _invoke("timeline", case_dir, "--artifact", "messages").stdout.splitlines()]
    assert events and {e["body"] for e in events} == {body}

def test_xlsx_one_sheet_per_artifact_with_safe_cells_and_local_time(case, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "t.xlsx"
    result = _invoke("timeline", case, "--format", "xlsx", "-o", out, "--display-tz", "Europe/Kyiv")
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    sheet = book["messages"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["message", "datetime", "timestamp", "timestamp_desc"]
    assert header[-1] == "local time (Europe/Kyiv)" and "body" in header and "url" not in header
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
    assert sheet.column_dimensions["A"].width > 10
    body = header.index("body")
    cells = {}
    for row in sheet.iter_rows(min_row=2):
        cells.setdefault(row[header.index("source_row")].value, row)  # a record's first event
    assert cells["2"][body].data_type == "s" and cells["2"][body].value.startswith("'=")
    assert cells["1"][len(header) - 1].value == "2024-03-08 18:08:20.000000 +0200 Europe/Kyiv"
    assert _invoke("timeline", case, "--format", "xlsx").exit_code == 2


def test_xlsx_splits_sheets_past_the_row_limit(case, tmp_path, monkeypatch):
    from openpyxl import load_workbook

    from cases import timeline_formats

    monkeypatch.setattr(timeline_formats, "EXCEL_MAX_ROWS", 4)  # header + 3 rows per sheet
    out = tmp_path / "split.xlsx"
    assert _invoke("timeline", case, "--format", "xlsx", "-o", out, "--artifact", "messages").exit_code == 0
    book = load_workbook(out)
    assert book.sheetnames == ["messages", "messages 2", "messages 3", "links"]  # links: the cross-device sightings
    assert sum(s.max_row - 1 for s in book.worksheets if s.title != "links") == 8


def test_same_case_same_bytes(case, tmp_path):
    for fmt in ("jsonl", "csv", "l2tcsv"):
        first = _invoke("timeline", case, "--format", fmt, "--files").stdout
        assert first == _invoke("timeline", case, "--format", fmt, "--files").stdout


# Values that stress the CSV line built in SQL: quotes, separators, line breaks, formula prefixes, text that sorts
# just around the comparisons the SQL uses ('.', '<', '=', 'A'), numbers and text in number columns, a blob.
_AWKWARD = [None, "", "=1+2", "+x", "-y", "@z", "\tq", "\rq", 'a"b', '"', "a,b", "line\nbreak", " lead", "0123",
            ".", "<", "=", ">x", "?", "@", "A", "Zed", "é", "😀", "[x]", "{}", "%s%w%%", "'q", "~", "\x01c", 7, -1,
            2.5, -2.25, b"=blob", b"ok", "x" * 33_000]


def _awkward_store(path, rows_per_table: int = 40):
    """A store whose record tables are filled with ``_AWKWARD`` values (times valid, some zoneless)."""
    import random

    from artifacts.store import ALL_TABLES, Store
    from cases.timeline import BOOL_FIELDS, DESCRIPTIONS

    store = Store(path)
    rng = random.Random(3)
    for table, times in DESCRIPTIONS.items():
        for _ in range(rows_per_table):
            row = {}
            for column, kind in ALL_TABLES[table].items():
                base = column.rsplit("_", 1)[0] if column.endswith(("_raw", "_encoding")) else column
                if column == "id":
                    continue
                if column in times:
                    row[column] = None if rng.random() < 0.2 else (
                        f"{rng.choice([1969, 2001, 2024])}-0{rng.randrange(1, 10)}-1{rng.randrange(10)}T1"
                        f"{rng.randrange(10)}:{rng.randrange(60):02d}:0{rng.randrange(10)}.{rng.randrange(10**6):06d}Z")
                elif base in times and column.endswith("_encoding"):
                    row[column] = rng.choice(["unix_ms", "fat (zone unknown)", "=x"])
                elif column in BOOL_FIELDS:
                    row[column] = rng.choice([None, 0, 1])
                elif column == "device_id":
                    row[column] = rng.choice(["phone-a", "phone-b"])
                elif column in ("app", "platform", "path", "package", "key", "url", "term", "media_path", "peers"):
                    row[column] = rng.choice(["app", 'a"b', "=x", "-y", "", "0"])  # the summaries need these
                elif column in ("evidence_id", "partition", "parser", "parser_version"):
                    row[column] = "own-1"  # written by this program
                else:
                    row[column] = rng.choice(_AWKWARD)
            store.db.conn.execute(f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in row)}) VALUES "
                                  f"({', '.join('?' * len(row))})", list(row.values()))
    return store


def _expected_csv(timeline) -> bytes:
    """The CSV of a timeline written from its raw rows in Python, by the rules docs/timeline.md states: text quoted
    (a formula-like start prefixed with '), numbers as SQLite writes them, empty for NULL, flags true/false, this
    program's own columns bare, the summary (message) always quoted; a row with a cut value written by the csv
    module (quotes only where needed)."""
    from cases.timeline import _OWN_TEXT, BOOL_FIELDS, OUTPUT_COLUMNS, _python_csv_cell

    out = io.StringIO()
    minimal = csv.writer(out, lineterminator="\n")
    for row in timeline.rows():
        if row[-1]:
            minimal.writerow([_python_csv_cell(n, v) for n, v in zip(OUTPUT_COLUMNS, row)])
            continue
        cells = []
        for name, value in zip(OUTPUT_COLUMNS, row):
            if value is None:
                cells.append('""' if name == "message" else "")  # a summary that could not be built: empty text
            elif name in BOOL_FIELDS:
                cells.append({1: "true", 0: "false"}.get(value, ""))
            elif name in _OWN_TEXT or isinstance(value, int):
                cells.append(str(value))
            elif isinstance(value, float):
                cells.append(repr(value))
            else:
                text = value.decode() if isinstance(value, bytes) else value
                if name != "message" and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
                    text = "'" + text
                cells.append('"' + text.replace('"', '""') + '"')
        out.write(",".join(cells) + "\n")
    return out.getvalue().encode()


def test_csv_lines_built_in_sql_follow_the_rules_in_one_span_or_several(tmp_path, monkeypatch):
    """Byte for byte: the SQL-built CSV equals the rules applied in Python, for awkward values in every record
    table, with file times; the same when the line's printf is split (argument limit) and when the timeline is
    built in parallel time spans (whose long lines are rebuilt at replay)."""
    import cases.timeline as timeline_mod
    from cases.timeline import Filters, Timeline

    store = _awkward_store(tmp_path / "case.sqlite")
    timeline = Timeline(store, Filters(files=True))
    expected = _expected_csv(timeline)
    assert expected.count(b"\n") > 300 and b"[cut: " in expected and b"\"'=1+2\"" in expected

    def csv_bytes(**kw):
        return b"".join(chunk for chunk, _ in timeline.csv_chunks(size=7, **kw))

    assert csv_bytes(workers=1) == expected
    monkeypatch.setattr(timeline_mod, "_PARALLEL_FROM", 0)
    monkeypatch.setattr(timeline_mod, "_SAMPLE_EVERY", 2)
    assert len(timeline._time_splits(3)) == 2
    assert csv_bytes(workers=3) == expected
    import artifacts.sql_quoting

    # a span whose thread cannot open its own connection is built on the caller's instead
    monkeypatch.setattr(artifacts.sql_quoting, "sqlite_uri", lambda *a, **k: "file:/nonexistent/dir/x?mode=ro")
    assert csv_bytes(workers=2) == expected
    monkeypatch.undo()
    monkeypatch.setattr(timeline_mod, "_PARALLEL_FROM", 0)
    monkeypatch.setattr(timeline_mod, "_MAX_PRINTF_ARGS", 6)
    assert csv_bytes(workers=1) == expected


def test_xlsx_keeps_carriage_returns(tmp_path):
    """A carriage return in evidence text is written as OOXML's ``_x000D_`` (XML would read a bare one back as a line
    feed); text that already looks like such an escape is escaped itself, so unescaping gives the text exactly."""
    from openpyxl import load_workbook
    from openpyxl.utils.escape import unescape

    body = "line one\rline two\r\nline three\n_x000D_ and _x005f_ as typed\r"
    make_db(tmp_path / "phone" / SMS, MMSSMS_SCHEMA + "INSERT INTO sms (_id, thread_id, address, date, type, body) "
            f"VALUES (1, 1, '+380931114562', 1709914200123, 1, '{body}'), "
            "(2, 1, '+380931114562', 1709914300000, 1, char(13) || 'starts with a carriage return');")
    case_dir = tmp_path / "case"
    assert _invoke("case", "init", case_dir).exit_code == 0
    assert _invoke("ingest", case_dir, tmp_path / "phone", "--device-id", "p", "--quiet").exit_code == 0
    out = tmp_path / "cr.xlsx"
    assert _invoke("timeline", case_dir, "--format", "xlsx", "-o", out, "--artifact", "messages").exit_code == 0
    sheet = load_workbook(out)["messages"]
    header = [c.value for c in sheet[1]]
    bodies = {row[header.index("source_row")].value: row[header.index("body")].value
              for row in sheet.iter_rows(min_row=2)}
    assert "_x000D_" in bodies["1"] and "\n" in bodies["1"]
    assert unescape(bodies["1"]) == body
    assert unescape(bodies["2"]) == "'\rstarts with a carriage return"  # still neutralised as a formula start
