"""The real files the LEAPP projects test their artifacts on, without copying them into this repository.

iLEAPP keeps, per artifact, a zip of the files it read from a public extraction
(``admin/test/cases/data/<module>/testdata.<module>.<artifact>.<image>.zip``; images named in
``admin/test/cases/testdata.<module>.json``). Tests look for those zips under ``$LEAPP_TESTDATA`` (a folder holding
``abrignoni+iLEAPP/admin/test/cases/data/...`` exactly as in the repository) or under ``../shared/testdata`` in the
same layout, and skip with the missing path where neither has them. The zip is read with ``zipfile`` and its members
written to the test's own temporary folder, so the shared copy is never opened by SQLite.
"""
from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from tests.conftest_paths import TESTDATA

ILEAPP_CASES = Path("abrignoni+iLEAPP") / "admin" / "test" / "cases" / "data"
MAX_MEMBER = 64 * 1024 * 1024


def ileapp_case(module: str, artifact: str, image: str) -> Path:
    """The iLEAPP test zip for ``module``/``artifact`` on ``image``, or skip the test saying where it was sought."""
    name = ILEAPP_CASES / module / f"testdata.{module}.{artifact}.{image}.zip"
    roots = [Path(os.environ["LEAPP_TESTDATA"])] if os.environ.get("LEAPP_TESTDATA") else []
    roots.append(TESTDATA)
    for root in roots:
        if (root / name).is_file():
            return root / name
    pytest.skip(f"third-party test data absent: {name} (set LEAPP_TESTDATA to a folder holding it)")


def extract(case: Path, target: Path) -> dict[str, Path]:
    """Device path → extracted local file for every member of an iLEAPP test zip (device paths start with ``/``)."""
    files = {}
    with zipfile.ZipFile(case) as archive:
        for index, info in enumerate(sorted(archive.infolist(), key=lambda i: i.filename)):
            if info.is_dir() or ".." in info.filename.split("/") or info.file_size > MAX_MEMBER:
                continue
            local = target / f"{index:04d}-{Path(info.filename).name}"
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(archive.read(info))
            files["/" + info.filename.lstrip("/")] = local
    return files
