"""The command line: exit codes and one-line errors, the audit log, re-ingest, verify, export formats."""
import csv
import io
import json
import shutil
import sqlite3

import pytest
from click.testing import CliRunner

from cli import main
from tests.conftest_paths import TESTDATA
from tests.fixtures import images

COMMANDS = [["case"], ["case", "init"], ["ingest"], ["batch"], ["export"], ["verify"], ["info"], ["status"],
            ["parsers"], ["timeline"], ["locations"], ["uco"]]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output and len(result.output.splitlines()) > 3


def _one_line_error(result, text):
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [lines[0]] and lines[0].startswith("error: ") and text in lines[0]
    assert "Traceback" not in result.output


def test_bad_input_gives_one_line_and_nonzero_exit(tmp_path):
    runner = CliRunner()
    _one_line_error(runner.invoke(main, ["status", str(tmp_path / "nope")]), "not a case folder")
    assert runner.invoke(main, ["case", "init", str(tmp_path / "c")]).exit_code == 0
    _one_line_error(runner.invoke(main, ["case", "init", str(tmp_path / "c")]), "already exists")
    _one_line_error(runner.invoke(main, ["ingest", str(tmp_path / "c"), str(tmp_path / "missing.E01")]),
                    "evidence not found")
    _one_line_error(runner.invoke(main, ["ingest", str(tmp_path / "c"), str(tmp_path), "--device-id", "../x"]),
                    "invalid device id")
    garbage = tmp_path / "garbage.img"
    garbage.write_bytes(b"\x00garbage" * 100)
    _one_line_error(runner.invoke(main, ["info", str(garbage)]), "no partition table or file system")


def test_failed_device_is_recorded(tmp_path):
    runner = CliRunner()
    case = tmp_path / "c"
    runner.invoke(main, ["case", "init", str(case)])
    garbage = tmp_path / "garbage.img"
    garbage.write_bytes(b"\x01" * 4096)
    result = runner.invoke(main, ["ingest", str(case), str(garbage), "--device-id", "bad", "--quiet"])
    _one_line_error(result, "device bad failed")
    devices = [json.loads(l) for l in runner.invoke(main, ["export", str(case), "devices"]).output.splitlines()]
    assert devices == [dict(devices[0], device_id="bad", status="failed")]
    assert "no partition table" in devices[0]["error"]


def test_audit_log_reingest_and_verify(tmp_path):
    if images.missing_tools("mke2fs"):
        pytest.skip("mke2fs not installed")
    runner = CliRunner()
    case = tmp_path / "case"
    evidence = images.ext4_image(tmp_path / "phone.img", {"a.txt": "A", "b/c.txt": "C"}, size_mb=4)
    assert runner.invoke(main, ["case", "init", str(case)]).exit_code == 0
    for _ in range(2):
        result = runner.invoke(main, ["ingest", str(case), str(evidence), "--device-id", "phone", "--quiet"])
        assert result.exit_code == 0, result.output
    db = sqlite3.connect(case / "case.sqlite")
    assert db.execute("SELECT count(*) FROM files WHERE device_id='phone'").fetchone()[0] == \
        db.execute("SELECT count(DISTINCT path) FROM files").fetchone()[0]  # re-ingest replaced, not duplicated
    assert db.execute("SELECT count(*) FROM devices").fetchone()[0] == 1
    db.close()
    log = [json.loads(line) for line in (case / "audit.log").read_text().splitlines()]
    assert [e["action"] for e in log] == ["case init", "ingest start", "ingest end", "ingest start", "ingest end"]
    assert all(e["time"].endswith("Z") and e["tool_version"] for e in log)
    assert log[2]["evidence_hashes"][0]["sha256"]
    verified = runner.invoke(main, ["verify", str(case)])
    assert verified.exit_code == 0 and verified.output.startswith("OK")
    # change one byte of the evidence: verify must say so and fail
    data = bytearray(evidence.read_bytes())
    data[-1] ^= 0xFF
    evidence.write_bytes(bytes(data))
    changed = runner.invoke(main, ["verify", str(case)])
    assert changed.exit_code == 2 and "FAIL" in changed.output and "DIFFERS" in changed.output
    assert json.loads((case / "audit.log").read_text().splitlines()[-1])["action"] == "verify"


def test_exports_escape_formulas_and_write_files(tmp_path):
    real = TESTDATA / "log2timeline+plaso/test_data/android/mmssms.db"
    if not real.exists():
        pytest.skip(f"third-party test data absent: {real}")
    tree = tmp_path / "ffs" / "data" / "data" / "com.android.providers.telephony" / "databases"
    tree.mkdir(parents=True)
    shutil.copyfile(real, tree / "mmssms.db")
    db = sqlite3.connect(tree / "mmssms.db")
    db.execute("UPDATE sms SET body='=cmd|'' /C calc''!A0' WHERE _id=1")
    db.commit()
    db.close()
    runner = CliRunner()
    case = tmp_path / "case"
    runner.invoke(main, ["case", "init", str(case)])
    assert runner.invoke(main, ["ingest", str(case), str(tmp_path / "ffs"), "--quiet"]).exit_code == 0
    out = tmp_path / "messages.csv"
    result = runner.invoke(main, ["export", str(case), "messages", "--format", "csv", "-o", str(out)])
    assert result.exit_code == 0 and not (tmp_path / "messages.csv.partial").exists()
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 9 and rows[0]["body"] == "'=cmd|' /C calc'!A0"
    assert rows[0]["ts"] == "2013-10-29T16:56:28.038000Z" and rows[0]["direction"] == "outgoing"
    jsonl = [json.loads(l) for l in runner.invoke(main, ["export", str(case), "messages"]).output.splitlines()]
    assert jsonl[0]["body"] == "=cmd|' /C calc'!A0"  # JSON keeps the evidence as it is
    assert {"device_id", "app", "parser", "source_path", "ts", "ts_raw", "ts_encoding", "sender", "recipients",
            "direction", "body", "thread_id"} <= set(jsonl[0])
    status = runner.invoke(main, ["status", str(case), "--all-runs"])
    assert "android-sms /data/data/com.android.providers.telephony/databases/mmssms.db: parsed" in status.output


def test_truncated_archive_fails_the_device_cleanly(tmp_path):
    import tarfile

    archive = tmp_path / "ffs.tar"
    with tarfile.open(archive, "w") as tar:
        for i in range(20):
            data = bytes([i]) * 5000
            info = tarfile.TarInfo(f"sdcard/file{i}.bin")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    archive.write_bytes(archive.read_bytes()[:30000])  # cut in the middle of a member
    runner = CliRunner()
    case = tmp_path / "case"
    runner.invoke(main, ["case", "init", str(case)])
    result = runner.invoke(main, ["ingest", str(case), str(archive), "--device-id", "cut", "--quiet"])
    _one_line_error(result, "device cut failed")
    assert "tar" in result.output
    assert not list((case / "shards").glob("*.partial*"))
    db = sqlite3.connect(case / "case.sqlite")
    assert db.execute("SELECT status FROM devices").fetchall() == [("failed",)]
    assert db.execute("SELECT count(*) FROM files").fetchone()[0] == 0  # nothing half-written
    assert json.loads((case / "audit.log").read_text().splitlines()[-1])["action"] == "ingest end"


def test_two_examiners_get_identical_exports(tmp_path):
    """Same evidence, two cases: every exported table is byte-for-byte the same."""
    from artifacts.store import ALL_TABLES
    from tests.fixtures import sample_device

    if images.missing_tools("mke2fs", "mkfs.vfat", "sfdisk"):
        pytest.skip("image tools not installed")
    image = sample_device.build(tmp_path / "evidence")
    runner = CliRunner()
    exports = []
    for examiner in ("a", "b"):
        case = tmp_path / examiner
        runner.invoke(main, ["case", "init", str(case)])
        assert runner.invoke(main, ["ingest", str(case), str(image), "--device-id", "phone", "--quiet"]).exit_code == 0
        exports.append({table: runner.invoke(main, ["export", str(case), table]).output for table in ALL_TABLES})
    assert exports[0] == exports[1]
    assert exports[0]["messages"].count("\n") > 10 and exports[0]["files"].count("\n") > 50
