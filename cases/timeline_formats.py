"""Writers of a timeline: Timesketch JSON lines and CSV, plaso's l2tcsv, and an Excel workbook.

Timesketch (its "Create timeline from JSONL or CSV" import rules): required ``message``, ``datetime`` (ISO-8601 with
an offset) and ``timestamp_desc``; ``timestamp`` is epoch microseconds; every other column is an attribute. No value
is longer than 32,766 bytes (``cases.timeline.FIELD_LIMIT``): longer text is cut and ``truncated_fields`` says so.

l2tcsv: the 17 columns of plaso's ``l2tcsv`` output module, times in UTC.

xlsx: one sheet per artifact type (split into ``<artifact> 2``, ... past Excel's 1,048,576 rows), frozen header,
auto-filter and column widths that fit; written with openpyxl's write-only mode, so memory stays flat.

CSV and xlsx cells that a spreadsheet would run as a formula are neutralised (``'`` prefix); JSON lines keep the
raw value. Local time, for human readers, is only ever an extra labelled column beside UTC (``LocalTime``).
"""
from __future__ import annotations

import csv
import itertools
import json
import re
import zoneinfo
from dataclasses import dataclass
from typing import BinaryIO, Iterable, TextIO

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from cases.timeline import BOOL_FIELDS, COLUMNS, OUTPUT_COLUMNS, Timeline, TimelineError

L2TCSV_COLUMNS = ["date", "time", "timezone", "MACB", "source", "sourcetype", "type", "user", "host", "short",
                  "desc", "version", "filename", "inode", "notes", "format", "extra"]
EXCEL_MAX_ROWS = 1_048_576
_INDEX = {name: i for i, name in enumerate(OUTPUT_COLUMNS)}

# Control characters other than tab and line breaks (which CSV quotes), as in ``forensics export``'s CSV: an ANSI
# escape sequence in a message or file name must not drive the terminal of whoever looks at the CSV, so it is
# written ``\xNN``. JSON lines keep every value exactly. In UTF-8, U+0080-U+009F are the only characters encoded
# 0xC2 0x80-0x9F (0xC2 is never a continuation byte).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_UTF8 = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x9f]")


def _escaped_bytes(match: re.Match) -> bytes:
    return b"\\x%02x" % match.group()[-1]


def escape_controls(lines: bytes) -> bytes:
    """UTF-8 CSV text with its control characters written ``\\xNN`` (one C-level scan when there are none)."""
    return _CONTROL_UTF8.sub(_escaped_bytes, lines) if _CONTROL_UTF8.search(lines) else lines


def _escaped_cells(row) -> list:
    return [_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", v) if isinstance(v, str) and _CONTROL.search(v)
            else v for v in row]


@dataclass
class LocalTime:
    """A second, labelled clock for human readers: a fixed zone, or each device's own time-zone fact."""

    zone: str | None = None               # an IANA zone name, e.g. Europe/Kyiv
    device_zones: dict[str, str] | None = None  # device id → IANA zone, for --device-local

    @classmethod
    def fixed(cls, name: str) -> "LocalTime":
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise TimelineError(f"unknown time zone {name!r} (use an IANA name such as Europe/Kyiv)") from None
        return cls(zone=name)

    @property
    def label(self) -> str:
        return f"local time ({self.zone})" if self.zone else "local time (device's zone)"

    def convert(self, utc_iso: str | None, device_id: str | None) -> str | None:
        import datetime as _dt

        name = self.zone or (self.device_zones or {}).get(device_id or "")
        if not utc_iso or not name:
            return None
        try:
            zone = zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return None
        moment = _dt.datetime.fromisoformat(utc_iso).astimezone(zone)
        return f"{moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond:06d} {moment:%z} {name}"


def write_jsonl(timeline: Timeline, out: TextIO) -> int:
    """Timesketch JSON lines: one object per event, empty fields left out."""
    count = 0
    for row in timeline.rows():
        event = {k: v for k, v in zip(OUTPUT_COLUMNS, row) if v is not None}
        for flag in BOOL_FIELDS.intersection(event):
            event[flag] = bool(event[flag])
        out.write(json.dumps(event, ensure_ascii=False))
        out.write("\n")
        count += 1
    return count


def write_csv(timeline: Timeline, out: TextIO, local: LocalTime | None = None) -> int:
    """Timesketch CSV: a fixed header, one row per event, formulas neutralised, control characters ``\\xNN``."""
    writer = csv.writer(out, lineterminator="\n")
    if local is None:
        writer.writerow(OUTPUT_COLUMNS)
        count = 0
        out.flush()
        raw = out.buffer if hasattr(out, "buffer") else None
        for lines, n in timeline.csv_chunks():
            lines = escape_controls(lines)
            if raw is not None:
                raw.write(lines)
            else:
                out.write(lines.decode("utf-8", "surrogateescape"))
            count += n
        if raw is not None:
            raw.flush()
        return count
    writer.writerow(OUTPUT_COLUMNS + [local.label])
    count = 0
    for row in timeline.rows(for_spreadsheet=True):
        writer.writerow(_escaped_cells(row + (local.convert(row[1], row[_INDEX["device_id"]]),)))
        count += 1
    return count


def write_l2tcsv(timeline: Timeline, out: TextIO) -> int:
    """plaso's l2tcsv: date (MM/DD/YYYY), time, timezone, MACB, source, sourcetype, type, user, host, short, desc,
    version, filename, inode, notes, format, extra."""
    from cases.timeline import MACB, DESCRIPTIONS

    file_desc = {desc: MACB[column] for column, desc in DESCRIPTIONS["files"].items()}
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(L2TCSV_COLUMNS)
    count = 0
    get = _INDEX.__getitem__
    extra_names = [c for c in COLUMNS[_INDEX["platform"] + 1:] if c not in ("source_path", "source_inode",
                                                                             "parser")]
    for row in timeline.rows(for_spreadsheet=True):
        iso = row[get("datetime")]
        desc = row[get("message")] or ""
        extra = "; ".join(f"{n}: {row[get(n)]}" for n in extra_names if row[get(n)] not in (None, "", "[]", "{}"))
        writer.writerow(_escaped_cells([
            f"{iso[5:7]}/{iso[8:10]}/{iso[0:4]}", iso[11:19], "UTC",
            file_desc.get(row[get("timestamp_desc")], "...."),
            row[get("artifact")].upper(), f"{row[get('platform')] or row[get('app')] or ''} {row[get('artifact')]}",
            row[get("timestamp_desc")], "-", row[get("device_id")], desc[:80], desc, "2",
            row[get("source_path")] or "-", row[get("source_inode")] or "-",
            f"time {row[get('time_raw')]} ({row[get('time_encoding')]})", row[get("parser")] or "filesystem",
            extra,
        ]))
        count += 1
    return count


def write_xlsx(timeline: Timeline, out: BinaryIO | str, local: LocalTime | None = None,
               extra_sheets: Iterable[tuple[str, list[str], Iterable[tuple]]] = ()) -> int:
    """One sheet per artifact type with only that artifact's columns; ``extra_sheets`` (name, header, rows) after
    them (the cross-device links)."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    count = 0
    parts: dict[str, None] = {}
    for table, _column, _desc in timeline.parts():
        parts.setdefault(table, None)
    for table in parts:
        sub = Timeline(timeline.store, _only(timeline.filters, table))
        columns = _columns_of(sub)
        header = [OUTPUT_COLUMNS[i] for i in columns] + ([local.label] if local else [])
        rows = ([row[i] for i in columns] + ([local.convert(row[1], row[_INDEX["device_id"]])] if local else [])
                for row in sub.rows(for_spreadsheet=True))
        count += _write_sheets(book, table, header, rows, get_column_letter)
    for name, header, rows in extra_sheets:
        _write_sheets(book, name, header, rows, get_column_letter)
    if not book.worksheets:
        _write_sheets(book, "timeline", OUTPUT_COLUMNS, iter(()), get_column_letter)
    book.save(out)
    return count


def _only(filters, table):
    from dataclasses import replace

    return replace(filters, artifacts=(table,), files=table == "files")


def _columns_of(timeline: Timeline) -> list[int]:
    """Indexes of the columns this artifact ever fills (the others would be empty on its sheet)."""
    table = timeline.parts()[0][0]
    present = set(timeline.store.db[table].columns_dict) | {"path", "inode"}
    keep = []
    for i, name in enumerate(OUTPUT_COLUMNS):
        if i < _INDEX["platform"] + 1 or name == "truncated_fields" or name in present or \
                name in ("evidence_id", "partition", "source_path", "source_inode"):
            keep.append(i)
    return keep


def _write_sheets(book, name: str, header: list[str], rows: Iterable[list], column_letter) -> int:
    """Write ``rows`` under ``header`` into as many sheets as Excel's row limit needs; column widths fit the header
    and the first rows (write-only sheets take widths before their rows)."""
    rows = iter(rows)
    sample = [[_cell(v) for v in row] for _, row in zip(range(200), rows)]
    widths = [len(h) for h in header]
    for row in sample:
        widths = [max(w, len(str(v)) if v is not None else 0) for w, v in zip(widths, row)]
    widths = [min(max(w, 6), 60) + 2 for w in widths]
    count = part = 0
    sheet = None
    for row in itertools.chain(sample, ([_cell(v) for v in row] for row in rows)):
        if sheet is None or sheet.rows_written >= EXCEL_MAX_ROWS:
            part += 1
            sheet = _new_sheet(book, name if part == 1 else f"{name} {part}", header, widths, column_letter)
        sheet.append(row)
        sheet.rows_written += 1
        count += 1
    if sheet is None:
        _new_sheet(book, name, header, widths, column_letter)
    return count


def _new_sheet(book, title: str, header: list[str], widths: list[int], column_letter):
    sheet = book.create_sheet(title=title[:31])
    sheet.freeze_panes = "A2"
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[column_letter(i)].width = width
    sheet.auto_filter.ref = f"A1:{column_letter(len(header))}{EXCEL_MAX_ROWS}"
    sheet.append(header)
    sheet.rows_written = 1
    return sheet


def _cell(value):
    """A value an xlsx cell can hold: formulas neutralised (openpyxl would store ``=...`` as a formula), characters
    XML cannot carry shown as ``\\xNN`` escapes instead of failing the workbook, and carriage returns kept (see
    ``_XSTRING``)."""
    if isinstance(value, str):
        if value.startswith(("=", "+", "-", "@", "\t", "\r")):
            value = "'" + value
        if ILLEGAL_CHARACTERS_RE.search(value):
            value = ILLEGAL_CHARACTERS_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", value)
        if "\r" in value or "_x" in value:
            value = _XSTRING.sub(_xstring_escape, value)
    return value


# A carriage return written as itself in a cell's XML is read back as a line feed (XML's end-of-line handling), so
# it is written as OOXML's ``_x000D_`` (ECMA-376 Part 1, simple type ST_Xstring), as Excel itself writes it; text
# that already reads as such an escape has its ``_`` written as ``_x005F_``, so Excel shows it unchanged.
# ``openpyxl.utils.escape.unescape`` reads both back.
_XSTRING = re.compile(r"\r|_(?=x[0-9A-Fa-f]{4}_)")


def _xstring_escape(match: re.Match) -> str:
    return "_x000D_" if match.group() == "\r" else "_x005F_"
