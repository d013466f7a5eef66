"""Case data stays with the examiner (issue 14): file modes under a permissive umask, and no backup password or
SQLCipher key in the case folder, its logs, exports or the terminal.

The commands run as the examiner runs them: the installed ``forensics`` console script in a shell whose umask is
000, on real evidence built here — an encrypted iTunes backup (tests/fixtures/ios_backup.py, the real keybag
scheme) with a planted password, and an Android folder with a SQLCipher-1 WeChat database whose key is derived from
IMEI + uin (tests/fixtures/wechat_android.py) and a Signal database whose key is in secrets.json
(tests/test_signal_android.py).
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from forensics.confidential import exposed, masked_command, parse_mode
from tests.fixtures.ios_backup import build_backup
from tests.fixtures.wechat_android import DB_PATH as WECHAT_DB, FALLBACK_IMEI, PREFS, UIN, derived_key, \
    make_wechat_db, prefs_xml
from tests.test_signal_android import (DB_PATH as SIGNAL_DB, KEY as SIGNAL_KEY, ROWS as SIGNAL_ROWS,
                                       SCHEMA as SIGNAL_SCHEMA, SECRETS_PATH, make_signal_db, secrets_json)

FORENSICS = str(Path(sys.executable).with_name("forensics"))
PASSWORD = "Planted-backup-pass 7f3e9c1d"
WECHAT_KEY = derived_key(FALLBACK_IMEI, UIN)  # computed here, independently of the parser


def _run(*args: str, env: dict | None = None, ok: bool = True) -> subprocess.CompletedProcess:
    """``forensics ARGS`` in a shell with umask 000, as an examiner with a careless umask would run it."""
    command = "umask 000; exec " + " ".join(f"'{a}'" for a in [FORENSICS, *args])
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def _android_folder(root: Path) -> Path:
    """An unpacked Android extraction holding a WeChat and a Signal SQLCipher database with what opens them."""
    folder = root / "android"
    make_wechat_db(folder / WECHAT_DB.lstrip("/"), WECHAT_KEY)
    (folder / PREFS.lstrip("/")).mkdir(parents=True, exist_ok=True)
    (folder / PREFS.lstrip("/") / "system_config_prefs.xml").write_bytes(prefs_xml(default_uin=int(UIN)))
    make_signal_db(folder / SIGNAL_DB.lstrip("/"), SIGNAL_SCHEMA + SIGNAL_ROWS)
    (folder / SECRETS_PATH.lstrip("/")).parent.mkdir(parents=True)
    (folder / SECRETS_PATH.lstrip("/")).write_bytes(secrets_json())
    return folder


@pytest.fixture(scope="module")
def evidence(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("evidence")
    backup = build_backup(root / "00008110-001A2B3C4D5E801E",
                          {("HomeDomain", "Library/Notes/note.txt"): b"meet at the pier",
                           ("HomeDomain", "Library/Preferences/x.plist"): b"not a plist"},
                          directories=[("HomeDomain", ""), ("HomeDomain", "Library")], password=PASSWORD)
    return {"backup": backup, "android": _android_folder(root)}


def _secrets_in(data: bytes) -> list[str]:
    needles = {"backup password": PASSWORD, "Signal key": SIGNAL_KEY, "WeChat key": WECHAT_KEY}
    return [name for name, value in needles.items()
            if value.encode() in data or value.encode().hex().encode() in data
            or value.encode("utf-16-le") in data]


def _everything_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def _modes(folder: Path) -> dict[str, str]:
    """Mode of every folder and file under (and of) ``folder`` that is not private: {} when all are."""
    wrong = {}
    for path in [folder, *folder.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        want = 0o700 if path.is_dir() else 0o600
        if mode != want:
            wrong[str(path.relative_to(folder))] = f"{mode:04o}"
    return wrong


def _audit(case: Path) -> list[dict]:
    return [json.loads(line) for line in (case / "audit.log").read_text().splitlines()]


@pytest.fixture(scope="module")
def worked_case(evidence, tmp_path_factory):
    """A case made, ingested (password by option and by environment), batched and exported under umask 000."""
    root = tmp_path_factory.mktemp("work")
    case = root / "case"
    out = [_run("case", "init", str(case))]
    out.append(_run("ingest", str(case), str(evidence["backup"]), "--device-id", "iphone", "--password", PASSWORD,
                    "--quiet"))
    out.append(_run("ingest", str(case), str(evidence["backup"]), "--device-id", "iphone-env", "--quiet",
                    env={"FORENSICS_BACKUP_PASSWORD": PASSWORD}))
    out.append(_run("ingest", str(case), str(evidence["android"]), "--device-id", "android", "--quiet"))
    manifest = root / "manifest.csv"
    manifest.write_text(f"device_id,evidence\nandroid-batch,{evidence['android']}\n")
    out.append(_run("batch", str(case), str(manifest), "--workers", "1"))
    exports = root / "exports"
    exports.mkdir()
    out.append(_run("export", str(case), "parser_runs", "-o", str(exports / "runs.jsonl")))
    out.append(_run("export", str(case), "messages", "--format", "csv", "-o", str(exports / "messages.csv"),
                    "--mode", "0640"))
    out.append(_run("timeline", str(case), "--format", "xlsx", "-o", str(exports / "timeline.xlsx")))
    out.append(_run("locations", str(case), "-o", str(exports / "places.geojson")))
    out.append(_run("uco", str(case), "-o", str(exports / "case.jsonld")))
    out.append(_run("verify", str(case)))
    return case, exports, out


def test_case_folders_0700_and_files_0600_under_umask_000(worked_case):
    case, _, _ = worked_case
    names = {str(p.relative_to(case)) for p in case.rglob("*")}
    assert {"case.json", "case.sqlite", "audit.log", "shards", "shards/iphone.sqlite", "shards/android.sqlite",
            "shards/android-batch.sqlite", "logs/android.log", "logs/android-batch.log"} <= names
    assert _modes(case) == {}


def test_exports_are_0600_unless_mode_says_otherwise(worked_case):
    _, exports, _ = worked_case
    modes = {p.name: f"{stat.S_IMODE(p.stat().st_mode):04o}" for p in exports.iterdir()}
    assert modes == {"runs.jsonl": "0600", "messages.csv": "0640", "timeline.xlsx": "0600",
                     "places.geojson": "0600", "case.jsonld": "0600"}
    with open(exports / "messages.csv", newline="") as f:  # the export is complete, not just created
        bodies = {row["body"] for row in csv.DictReader(f)}
    assert "Job in Bangkok, 3000 USD" in bodies


def test_no_password_or_key_in_the_case_logs_exports_or_terminal(worked_case):
    case, exports, outputs = worked_case
    for path in _everything_under(case) + _everything_under(exports):
        assert _secrets_in(path.read_bytes()) == [], path
    for done in outputs:
        assert _secrets_in((done.stdout + done.stderr).encode()) == []
    # the databases really were decrypted with those keys: the test would pass vacuously otherwise
    db = sqlite3.connect(case / "case.sqlite")
    runs = dict(db.execute("SELECT parser || ' ' || device_id, outcome FROM parser_runs "
                           "WHERE parser IN ('wechat-android', 'signal-android')"))
    assert runs == {"wechat-android android": "parsed", "signal-android android": "parsed",
                    "wechat-android android-batch": "parsed", "signal-android android-batch": "parsed"}
    assert db.execute("SELECT count(*) FROM files WHERE device_id = 'iphone'").fetchone()[0] >= 2


def test_store_and_audit_log_say_how_each_key_was_obtained_not_the_key(worked_case):
    case, _, _ = worked_case
    db = sqlite3.connect(case / "case.sqlite")
    keys = db.execute("SELECT device_id, parser, source_path, how, key FROM database_keys "
                      "ORDER BY device_id, parser").fetchall()
    assert [(d, p, k) for d, p, _, _, k in keys] == [
        ("android", "signal-android", None), ("android", "wechat-android", None),
        ("android-batch", "signal-android", None), ("android-batch", "wechat-android", None)]
    hows = {p: how for _, p, _, how, _ in keys}
    assert hows["signal-android"] == "key from /extra/Secrets/secrets.json"
    assert hows["wechat-android"].startswith("key derived from IMEI + uin; fallback IMEI; uin from ")
    ingest_end = [e for e in _audit(case) if e["action"] == "ingest end" and e["device_id"] == "android"][0]
    assert sorted((k["parser"], k["how"], k["key_recorded"]) for k in ingest_end["database_keys"]) == sorted(
        (p, h, False) for _, p, _, h, _ in keys[:2])
    batch_device = [e for e in _audit(case) if e["action"] == "batch device"][0]
    assert len(batch_device["database_keys"]) == 2


def test_audit_log_records_that_a_password_was_given_and_how_never_the_password(worked_case):
    case, _, _ = worked_case
    commands = {e["device_id"]: e["command"] for e in _audit(case) if e["action"] == "ingest start"}
    assert commands["iphone"].endswith("--device-id iphone --password ***")
    assert commands["iphone-env"].endswith("--device-id iphone-env (backup password from the environment)")
    assert "password" not in commands["android"]


def test_verify_reports_files_others_can_read_and_the_audit_log_records_it(worked_case, tmp_path):
    case = tmp_path / "copy"
    shutil.copytree(worked_case[0], case)
    clean = _run("verify", str(case))
    assert "OK   permissions: nothing in the case is readable by other accounts" in clean.stdout
    (case / "logs" / "android.log").chmod(0o644)
    (case / "shards").chmod(0o750)
    flagged = _run("verify", str(case))
    assert "WARN permissions: 2 item(s) in the case readable by other accounts" in flagged.stdout
    assert "0644 logs/android.log" in flagged.stdout and "0750 shards" in flagged.stdout
    assert _audit(case)[-1]["readable_by_others"] == [{"path": "logs/android.log", "mode": "0644"},
                                                      {"path": "shards", "mode": "0750"}]


def test_record_keys_stores_the_keys_in_the_store_only(evidence, tmp_path):
    case = tmp_path / "case"
    _run("case", "init", str(case))
    done = _run("ingest", str(case), str(evidence["android"]), "--device-id", "android", "--record-keys", "--quiet")
    db = sqlite3.connect(case / "case.sqlite")
    assert dict(db.execute("SELECT parser, key FROM database_keys")) == {"signal-android": SIGNAL_KEY,
                                                                         "wechat-android": WECHAT_KEY}
    # the store is where an examiner reports it from; the terminal, the logs and the audit log still never show it
    assert _secrets_in((done.stdout + done.stderr).encode()) == []
    for path in [case / "audit.log", *sorted((case / "logs").iterdir())]:
        assert _secrets_in(path.read_bytes()) == [], path
    (end,) = [e for e in _audit(case) if e["action"] == "ingest end"]
    assert {k["key_recorded"] for k in end["database_keys"]} == {True}
    assert "--record-keys" in [e for e in _audit(case) if e["action"] == "ingest start"][0]["command"]


def test_case_init_warns_on_an_existing_folder_others_can_read(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    warned = _run("case", "init", str(shared))
    assert "warning: folder" in warned.stderr and "(mode 0755)" in warned.stderr and "chmod 700" in warned.stderr
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755  # the examiner's folder is told about, not changed
    assert _modes(shared) == {".": "0755"}
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    assert "warning" not in _run("case", "init", str(private)).stderr
    assert "warning" not in _run("case", "init", str(tmp_path / "new" / "case")).stderr
    assert stat.S_IMODE((tmp_path / "new" / "case").stat().st_mode) == 0o700


def test_bad_mode_is_one_line(evidence, tmp_path):
    case = tmp_path / "case"
    _run("case", "init", str(case))
    bad = _run("export", str(case), "messages", "-o", str(tmp_path / "x.jsonl"), "--mode", "rw-r--r--", ok=False)
    assert bad.returncode == 2 and "not an octal file mode" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "x.jsonl").exists()


def test_masked_command_hides_secret_options_and_url_passwords():
    assert masked_command(["forensics", "ingest", "c", "e", "--password", "hunter2"]) == \
        "forensics ingest c e --password ***"
    assert masked_command(["forensics", "ingest", "--password=hunter2", "c"]) == "forensics ingest --password=*** c"
    assert masked_command(["forensics", "worker", "--broker", "rediss://user:s3cret@redis.lab:6380/0"]) == \
        "forensics worker --broker rediss://user:***@redis.lab:6380/0"
    assert masked_command(["x", "redis://:pw@host/1", "http://host/a@b"]) == "x redis://:***@host/1 http://host/a@b"


def test_parse_mode():
    assert [parse_mode(m) for m in ("600", "0640", "0o644", "755")] == [0o600, 0o640, 0o644, 0o755]
    for bad in ("rw", "99", "4755", "17777", ""):
        with pytest.raises(ValueError):
            parse_mode(bad)


def test_exposed_lists_group_and_other_bits_not_links(tmp_path):
    root = tmp_path / "r"
    root.mkdir(mode=0o700)
    (root / "a").write_text("x")
    (root / "a").chmod(0o600)
    (root / "b").write_text("x")
    (root / "b").chmod(0o604)
    (root / "d").mkdir(mode=0o700)
    (root / "d").chmod(0o710)
    (root / "link").symlink_to("/etc/passwd")
    root.chmod(0o700)
    assert exposed(root) == [("b", 0o604), ("d", 0o710)]
