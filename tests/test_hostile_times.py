"""File-system times with no zone (FAT, zip DOS times) are never written as UTC: the wall clock goes to
``*_local`` with the zone unknown, the UTC column stays empty; with the device's time-zone fact they are read in
that zone and the encoding says so. No process-wide TZ change is needed for either."""
import json
import os
import time
import zipfile

import pytest
from click.testing import CliRunner

from cli import main
from tests.fixtures import images


def _files(tmp_path, evidence):
    case = tmp_path / "case"
    runner = CliRunner()
    runner.invoke(main, ["case", "init", str(case)])
    result = runner.invoke(main, ["ingest", str(case), str(evidence), "--device-id", "d", "--quiet"])
    assert result.exit_code == 0, result.output
    return {f["path"]: f for f in map(json.loads, runner.invoke(main, ["export", str(case), "files"]).output.split(
        "\n")[:-1])}


def test_zip_dos_time_is_local_with_zone_unknown(tmp_path):
    archive = tmp_path / "x.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(zipfile.ZipInfo("a.txt", date_time=(2021, 5, 6, 7, 8, 10)), b"a")
    row = _files(tmp_path, archive)["/a.txt"]
    assert row["mtime"] is None and row["mtime_local"] == "2021-05-06T07:08:10.000000"
    assert row["mtime_encoding"] == "dos_datetime(local time, zone unknown)" and row["mtime_raw"] == "2021-05-06 07:08:10"


def test_fat_times_do_not_depend_on_the_process_zone(tmp_path, monkeypatch):
    if images.missing_tools("mkfs.vfat", "mcopy"):
        pytest.skip("mtools not installed")
    image = images.fat_image(tmp_path / "fat.img", {"docs/readme.txt": "hi"}, fat_bits=16)
    walls = []
    for zone in ("UTC", "America/New_York"):
        monkeypatch.setenv("TZ", zone)
        time.tzset()
        try:
            row = _files(tmp_path / zone.replace("/", "_"), image)["/docs/readme.txt"]
            assert os.environ["TZ"] == zone  # ingest left the process's zone alone
        finally:
            monkeypatch.delenv("TZ")
            time.tzset()
        assert row["mtime"] is None and "zone unknown" in row["mtime_encoding"]
        walls.append(row["mtime_local"])
    # mtools writes the fixture's time as a wall clock in the builder's zone: whatever it is, both runs agree
    assert walls[0] == walls[1] and walls[0].startswith("2020-09-1") and not walls[0].endswith("Z")


def test_device_time_zone_fact_makes_wall_clocks_utc_and_says_so(tmp_path):
    archive = tmp_path / "x.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(zipfile.ZipInfo("data/property/persist.sys.timezone", date_time=(2021, 1, 2, 3, 4, 6)),
                   b"Europe/Kyiv\n")
        z.writestr(zipfile.ZipInfo("sdcard/a.txt", date_time=(2021, 5, 6, 7, 8, 10)), b"a")
    row = _files(tmp_path, archive)["/sdcard/a.txt"]
    assert row["mtime_local"] == "2021-05-06T07:08:10.000000"
    assert row["mtime"] == "2021-05-06T04:08:10.000000Z"  # Kyiv is UTC+3 in May (summer time)
    assert row["mtime_encoding"] == "dos_datetime(local time, zone Europe/Kyiv from the device's time_zone fact)"
