"""One iPhone, three kinds of evidence (full-file-system tar.gz under a vendor prefix, iTunes backup, encrypted
backup), ingested through the real CLI: the same artifacts must come out of each, the device row must carry the
device facts, and hostile backups must fail or be flagged the way the examiner is told they are."""
import json
import sqlite3

import pytest
from click.testing import CliRunner

from cli import main
from tests.fixtures.ios_backup import DEVICE, build_backup
from tests.fixtures.sample_iphone import (PASSWORD, PHONE_NUMBER_RAW, PHOTO_PATH, TIME_ZONE, VENDOR_PREFIX,
                                          WHATSAPP_CONTAINER, WHATSAPP_GROUP, backup_files, build_sample_iphone,
                                          device_files)

ARTIFACTS = {"messages": 15, "contacts": 7, "calls": 9, "web_visits": 3, "accounts": 2, "media": 1, "locations": 2}
# Provenance that differs between layouts by nature: the store row id, which device/evidence item/layer, the inode
# (tar member index vs backup fileID). source_path is compared after removing the vendor prefix and the container
# UUID (a backup names the app group instead).
DIFFERING = ("id", "device_id", "evidence_id", "partition", "source_inode")
LAYOUTS = ("ffs", "backup", "encrypted")


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def export(case, table, device):
    result = cli("export", case, table, "--device-id", device)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def evidence_state(*paths):
    """Every file's bytes and mtime (ns) under the given files/folders, and every folder's mtime."""
    state = {}
    for root in paths:
        for path in [root, *sorted(root.rglob("*"))] if root.is_dir() else [root]:
            info = path.stat()
            state[str(path)] = (info.st_mtime_ns, path.read_bytes() if path.is_file() else None)
    return state


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    root = tmp_path_factory.mktemp("iphone")
    sample = build_sample_iphone(root / "evidence")
    before = evidence_state(sample.extraction, sample.backup.parent, sample.encrypted.parent)
    case = root / "case"
    assert cli("case", "init", case).exit_code == 0
    outputs = {}
    for device, evidence, extra in (("ffs", sample.extraction, []), ("backup", sample.backup, []),
                                    ("encrypted", sample.encrypted, ["--password", PASSWORD])):
        result = cli("ingest", case, evidence, "--device-id", device, "--quiet", *extra)
        assert result.exit_code == 0, result.output
        outputs[device] = result.output
    after = evidence_state(sample.extraction, sample.backup.parent, sample.encrypted.parent)
    return sample, case, outputs, before, after


def comparable(row):
    """A row without its layout-specific provenance, its paths as the device has them."""
    text = json.dumps({k: v for k, v in row.items() if k not in DIFFERING}, sort_keys=True)
    return text.replace(f'"/{VENDOR_PREFIX}/', '"/').replace(WHATSAPP_CONTAINER, WHATSAPP_GROUP)


@pytest.mark.parametrize("table", sorted(ARTIFACTS))
def test_same_artifacts_from_extraction_backup_and_encrypted_backup(ingested, table):
    _, case, _, _, _ = ingested
    rows = {layout: export(case, table, layout) for layout in LAYOUTS}
    assert {layout: len(r) for layout, r in rows.items()} == dict.fromkeys(LAYOUTS, ARTIFACTS[table])
    ffs, backup, encrypted = (sorted(map(comparable, rows[layout])) for layout in LAYOUTS)
    assert ffs == backup
    assert encrypted == backup
    assert all(r["source_path"].startswith(f"/{VENDOR_PREFIX}/private/var/") for r in rows["ffs"])
    assert all(r["source_path"].startswith("/private/var/") for r in rows["backup"] + rows["encrypted"])


def test_imessage_time_wal_rows_and_photo_location(ingested):
    _, case, _, _, _ = ingested
    for layout in LAYOUTS:
        messages = export(case, "messages", layout)
        first = next(m for m in messages if m["app"] == "com.apple.MobileSMS" and m["source_row"] == "1")
        assert (first["body"], first["direction"], first["sender"], first["platform"]) == (
            "hi there", "incoming", "+15551230001", "iMessage")
        assert (first["ts"], first["ts_raw"]) == ("2023-05-01T12:34:56.789000Z", "704637296789000000")
        wal_only = sorted((m["app"], m["body"]) for m in messages if m["from_wal"])
        assert wal_only == [("com.apple.MobileSMS", "only in the WAL"), ("net.whatsapp.WhatsApp", "only in the WAL")]
        (photo,) = export(case, "media", layout)
        assert photo["media_path"].endswith(PHOTO_PATH) and photo["ts"] == "2024-05-01T18:30:00.000000Z"
        assert (round(photo["latitude"], 4), round(photo["longitude"], 4)) == (40.7128, -74.006)


def test_device_rows_carry_the_device_facts(ingested):
    _, case, _, _, _ = ingested
    devices = {layout: export(case, "devices", layout)[0] for layout in LAYOUTS}
    common = {"status": "ok", "error": None, "platform": "ios", "model": DEVICE["ProductType"],
              "os_version": DEVICE["ProductVersion"], "device_name": DEVICE["DeviceName"]}
    for layout in LAYOUTS:
        assert {k: devices[layout][k] for k in common} == common
    ffs = devices["ffs"]
    assert (ffs["time_zone"], ffs["phone_number"], ffs["serial"], ffs["udid"]) == (TIME_ZONE, PHONE_NUMBER_RAW,
                                                                                    None, None)
    assert ffs["facts"]["build"] == DEVICE["BuildVersion"] and ffs["facts"]["imei"] == DEVICE["IMEI"]
    for layout in ("backup", "encrypted"):  # Info.plist facts come first; a backup has no time-zone source
        row = devices[layout]
        assert (row["phone_number"], row["serial"], row["udid"], row["time_zone"]) == (
            DEVICE["PhoneNumber"], DEVICE["SerialNumber"], DEVICE["UniqueDeviceID"], None)
        assert row["facts"]["encrypted"] is (layout == "encrypted")
    facts = export(case, "device_facts", "ffs")
    assert sorted({f["parser"] for f in facts}) == ["ios-device-build", "ios-device-commcenter",
                                                    "ios-device-data-ark", "ios-device-mobilegestalt"]


def test_evidence_is_unchanged(ingested):
    sample, _, outputs, before, after = ingested
    assert after == before
    assert len(before) > 50 and str(sample.extraction) in before


def test_ingest_summaries(ingested):
    _, _, outputs, _, _ = ingested
    # the tar: 37 folders, 22 files, 1 symlink; a backup: 18 files, 8 folders. The extra records of the extraction
    # are device facts from plists a backup does not hold (SystemVersion, data_ark, MobileGestalt, CommCenter's
    # no-backup plist).
    assert outputs["ffs"].splitlines()[0] == "device ffs: 60 files, 59 records (parsed: 17)"
    assert outputs["ffs"].splitlines()[1].startswith("  ffs:e1 tar sha256=")
    assert outputs["backup"] == "device backup: 26 files, 46 records (parsed: 13)\n"
    assert outputs["encrypted"] == "device encrypted: 26 files, 46 records (parsed: 13)\n"


def test_symlink_is_inventoried_with_its_target(ingested):
    _, case, _, _, _ = ingested
    db = sqlite3.connect(case / "case.sqlite")
    row = db.execute("SELECT kind, link_target FROM files WHERE device_id = 'ffs' AND path = ?",
                     (f"/{VENDOR_PREFIX}/private/var/db/timezone/localtime",)).fetchone()
    db.close()
    assert row == ("link", f"/usr/share/zoneinfo/{TIME_ZONE}")


def one_line_error(result, needle):
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], result.output
    assert "Traceback" not in result.output


def test_wrong_password_fails_the_device_in_one_line(ingested, tmp_path):
    sample, _, _, _, _ = ingested
    case = tmp_path / "case"
    cli("case", "init", case)
    before = evidence_state(sample.encrypted)
    result = cli("ingest", case, sample.encrypted, "--device-id", "locked", "--password", "not-it", "--quiet")
    one_line_error(result, "wrong backup password")
    (device,) = export(case, "devices", "locked")
    assert (device["status"], device["error"]) == ("failed", "wrong backup password")
    assert export(case, "messages", "locked") == []
    assert evidence_state(sample.encrypted) == before


@pytest.fixture
def small_backup(tmp_path):
    files = backup_files(device_files(tmp_path))
    return tmp_path, {k: v for k, v in files.items() if k[0] == "HomeDomain" and "SMS" in k[1]}


def test_climbing_relative_path_is_skipped_and_recorded(small_backup):
    tmp_path, files = small_backup
    files[("HomeDomain", "Library/../../../../etc/passwd")] = b"root:x:0:0"
    folder = build_backup(tmp_path / "hostile", files)
    case = tmp_path / "case"
    cli("case", "init", case)
    result = cli("ingest", case, folder, "--device-id", "climb", "--quiet")
    assert result.exit_code == 3 and "skipped-entry backup: skipped Manifest.db row" in result.output, result.output
    paths = [f["path"] for f in export(case, "files", "climb")]
    assert not any("passwd" in p or ".." in p for p in paths)
    assert len(export(case, "messages", "climb")) == 7
    (evidence,) = export(case, "evidence", "climb")
    (layer,) = evidence["layers"]
    (anomaly,) = layer["anomalies"]
    assert "relativePath='Library/../../../../etc/passwd'" in anomaly and "climbs out" in anomaly
    log = [json.loads(line) for line in (case / "audit.log").read_text().splitlines()]
    (end,) = [entry for entry in log if entry["action"] == "ingest end"]
    assert end["anomalies"] == [anomaly] and end["status"] == "ok"


def test_file_missing_from_backup_is_inventoried_with_a_note(small_backup):
    tmp_path, files = small_backup
    wal = ("HomeDomain", "Library/SMS/sms.db-wal")
    folder = build_backup(tmp_path / "incomplete", files, missing=[wal])
    case = tmp_path / "case"
    cli("case", "init", case)
    result = cli("ingest", case, folder, "--device-id", "gap", "--quiet")
    assert result.exit_code == 3 and "missing-file backup:" in result.output, result.output
    (row,) = [f for f in export(case, "files", "gap") if f["path"].endswith("sms.db-wal")]
    assert row["note"] == "listed in Manifest.db, file missing from backup" and row["sha256"] is None
    assert row["size"] == len(files[wal])
    messages = export(case, "messages", "gap")
    assert len(messages) == 6 and not any(m["from_wal"] for m in messages)  # the WAL-only row is gone with it


def _ingest_truncated(small_backup):
    tmp_path, files = small_backup
    folder = build_backup(tmp_path / "truncated", files)
    manifest = folder / "Manifest.db"
    manifest.write_bytes(manifest.read_bytes()[:manifest.stat().st_size // 2])
    case = tmp_path / "case"
    cli("case", "init", case)
    return case, cli("ingest", case, folder, "--device-id", "cut", "--quiet")


def test_truncated_manifest_is_one_clear_error(small_backup):
    _, result = _ingest_truncated(small_backup)
    one_line_error(result, "Manifest.db is unreadable (truncated or corrupt?): database disk image is malformed")


def test_truncated_manifest_fails_the_device_row(small_backup):
    case, result = _ingest_truncated(small_backup)
    assert "internal error" not in result.output
    (device,) = export(case, "devices", "cut")
    assert device["status"] == "failed" and device["error"].startswith("Manifest.db is unreadable")
