"""Exports of store tables as JSON lines or CSV, the contract other tools rely on.

JSON lines: one object per row whose keys are the store's column names, list columns as arrays, flags as booleans.
CSV: the same columns; lists as JSON text; any cell that a spreadsheet would run as a formula (starting with
``= + - @``, tab or carriage return) is prefixed with ``'`` so a message body can never execute on the
examiner's machine.
"""
from __future__ import annotations

import csv
import re
import json
from typing import TextIO

from artifacts.store import SCHEMA, Store

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def export(store: Store, artifact: str, fmt: str, out: TextIO, device_id: str | None = None) -> int:
    """Write every row of ``artifact`` to ``out``; returns the number of rows."""
    if artifact not in SCHEMA:
        raise KeyError(artifact)
    rows = store.rows(artifact, device_id)
    if fmt == "jsonl":
        count = 0
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
        return count
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        columns = list(SCHEMA[artifact])
        writer.writerow(columns)
        count = 0
        for row in rows:
            writer.writerow([csv_cell(row.get(c)) for c in columns])
            count += 1
        return count
    raise ValueError(f"unknown format {fmt!r}")


def csv_cell(value) -> str:
    """A value as safe CSV text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        value = json.dumps(value, ensure_ascii=False)
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))
    if isinstance(value, str) and text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


# Control characters other than tab and line breaks (which CSV quotes): an ANSI escape sequence in a file name or
# message must not drive the terminal of whoever looks at the CSV. JSON lines keep every value exactly.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
