"""The batch manifest: a CSV an examiner writes by hand, one row per device.

    exhibit,image,owner,notes
    phone-01,images/phone-01.E01,J. Doe,
    phone-02,ffs/phone-02.tar;ffs/phone-02-sd.zip,,two items of one phone

The device column may be headed ``device_id``, ``device``, ``exhibit`` or ``id``; the evidence column
``evidence``, ``evidence_path``, ``evidence_paths``, ``image`` or ``path`` (case, spaces and ``-`` are ignored).
Several evidence paths of one device are separated by ``;``; relative paths are relative to the manifest's folder.
An optional ``password_file`` column names a file holding an encrypted backup's password (read by the worker,
never stored). Every other column (``os``, ``owner``, ``seized_at``, ``notes``, ...) is kept on the device.

The whole manifest is checked before anything starts; every problem is reported at once with its line number.
"""
from __future__ import annotations

import csv
import hashlib
import io
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cases.ingest import IngestError, check_device_id

ID_HEADERS = ("device_id", "device", "exhibit", "id")
EVIDENCE_HEADERS = ("evidence", "evidence_path", "evidence_paths", "image", "path")
PASSWORD_HEADERS = ("password_file",)


class ManifestError(Exception):
    """The manifest cannot be used; ``problems`` lists every one as ``line N: what``."""

    def __init__(self, path: Path, problems: list[str]):
        self.problems = problems
        super().__init__(f"manifest {path} has {len(problems)} problem(s): " + "; ".join(problems))


@dataclass
class DeviceJob:
    """One device of a batch: what a worker needs, JSON-serialisable (``to_dict``/``from_dict``)."""

    device_id: str
    paths: list[str]
    extra: dict = field(default_factory=dict)
    password_file: str | None = None
    line: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "DeviceJob":
        return cls(device_id=data["device_id"], paths=list(data["paths"]), extra=dict(data.get("extra") or {}),
                   password_file=data.get("password_file"), line=int(data.get("line") or 0))


def _key(header: str) -> str:
    return header.strip().lower().replace(" ", "_").replace("-", "_")


def manifest_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_manifest(path: str | Path) -> list[DeviceJob]:
    """Read and validate the whole manifest; raise ``ManifestError`` naming every problem with its line number."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ManifestError(path, [f"cannot read it: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError:
        raise ManifestError(path, ["not UTF-8 text"]) from None
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t") if sample.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    header = next(reader, None)
    problems: list[str] = []
    if not header or not any(h.strip() for h in header):
        raise ManifestError(path, ["line 1: no header row"])
    keys = [_key(h) for h in header]
    id_col = next((keys.index(k) for k in ID_HEADERS if k in keys), None)
    ev_col = next((keys.index(k) for k in EVIDENCE_HEADERS if k in keys), None)
    if id_col is None:
        problems.append(f"line 1: no device column (one of {', '.join(ID_HEADERS)})")
    if ev_col is None:
        problems.append(f"line 1: no evidence column (one of {', '.join(EVIDENCE_HEADERS)})")
    duplicates = sorted({k for k in keys if k and keys.count(k) > 1})
    if duplicates:
        problems.append(f"line 1: column(s) named twice: {', '.join(duplicates)}")
    if problems:
        raise ManifestError(path, problems)
    pw_col = next((keys.index(k) for k in PASSWORD_HEADERS if k in keys), None)
    base = path.parent
    jobs: list[DeviceJob] = []
    seen: dict[str, int] = {}
    while True:
        number = reader.line_num + 1  # where the row starts, as an editor shows it (a quoted cell may span lines)
        row = next(reader, None)
        if row is None:
            break
        if not any(cell.strip() for cell in row):
            if row:  # a row of empty cells (",,,") is an empty device row; a blank line is just a blank line
                problems.append(f"line {number}: empty row")
            continue
        if len(row) > len(header):
            problems.append(f"line {number}: {len(row)} cells but the header has {len(header)}")
            continue
        cells = row + [""] * (len(header) - len(row))
        device_id = cells[id_col].strip()
        if not device_id:
            problems.append(f"line {number}: no device id")
        else:
            try:
                check_device_id(device_id)
            except IngestError as exc:
                problems.append(f"line {number}: {exc}")
            if device_id in seen:
                problems.append(f"line {number}: device id {device_id!r} already on line {seen[device_id]}")
            else:
                seen[device_id] = number
        paths = [p.strip() for p in cells[ev_col].split(";") if p.strip()]
        if not paths:
            problems.append(f"line {number}: no evidence path")
        resolved = []
        for given in paths:
            full = Path(given).expanduser()
            full = full if full.is_absolute() else base / full
            problem = _unreadable(full)
            if problem:
                problems.append(f"line {number}: evidence {given}: {problem}")
            resolved.append(str(full.absolute()))
        password_file = None
        if pw_col is not None and cells[pw_col].strip():
            given = cells[pw_col].strip()
            full = Path(given).expanduser()
            full = full if full.is_absolute() else base / full
            problem = _unreadable(full, folder_ok=False)
            if problem:
                problems.append(f"line {number}: password_file {given}: {problem}")
            password_file = str(full.absolute())
        extra = {header[i].strip(): cells[i].strip() for i in range(len(header))
                 if i not in (id_col, ev_col, pw_col) and header[i].strip()}
        jobs.append(DeviceJob(device_id, resolved, extra, password_file, number))
    if not jobs and not problems:
        problems.append("no device rows")
    if problems:
        raise ManifestError(path, problems)
    return jobs


def _unreadable(path: Path, folder_ok: bool = True) -> str | None:
    """Why the path cannot be used as evidence, or None."""
    if not path.exists() and not path.is_symlink():
        return "not found"
    if not path.exists():
        return "a broken link"
    if path.is_dir():
        if not folder_ok:
            return "is a folder"
        return None if os.access(path, os.R_OK | os.X_OK) else "folder not readable"
    if not path.is_file():
        return "not a regular file or folder"
    return None if os.access(path, os.R_OK) else "not readable"
