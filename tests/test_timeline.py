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
