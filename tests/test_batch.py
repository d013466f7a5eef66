"""forensics batch (local engine): a 20-device caseload, reruns, crashes, dying workers, earlier results kept.

The caseload is built once per session with the project's fixture builders (tests/fixtures/caseload.py). Lab
parsers that segfault, blow their memory limit or hang are installed the way a lab installs parsers (a package
with a ``forensics.parsers`` entry point on PYTHONPATH) and run in real ``forensics`` processes.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from artifacts.store import ALL_TABLES
from cli import main
from tests.fixtures import caseload as caseload_fixture, images

FORENSICS = str(Path(sys.executable).with_name("forensics"))

LAB_PARSERS = '''
"""Lab parsers for the batch tests: one crashes natively, one exhausts memory, one hangs."""
import ctypes
import os
import time

from parsers.framework import parser


@parser(name="lab-segfault", app="org.lab.crash", paths=["*/lab/segfault.trigger"], source="test")
def segfault(db, ctx):
    ctypes.string_at(0)  # a NULL dereference in native code, as a broken C library would do
    yield from ()


@parser(name="lab-hog", app="org.lab.hog", paths=["*/lab/hog.trigger"], source="test")
def hog(db, ctx):
    hoard = bytearray(3 << 30)  # 3 GiB: beyond any memory limit the tests set
    yield from ()


@parser(name="lab-slow", app="org.lab.slow", paths=["*/lab/slow.trigger"], source="test")
def slow(db, ctx):
    time.sleep(float(os.environ.get("LAB_SLOW_SECONDS", "0")))
    yield from ()
'''


@pytest.fixture(scope="session")
def caseload(tmp_path_factory):
    if images.missing_tools("mke2fs", "mkfs.vfat", "mcopy", "sfdisk", "ewfacquire"):
        pytest.skip("image tools not installed: " + ", ".join(images.missing_tools(
            "mke2fs", "mkfs.vfat", "mcopy", "sfdisk", "ewfacquire")))
    return caseload_fixture.build_caseload(tmp_path_factory.mktemp("caseload"))


@pytest.fixture(scope="session")
def lab_env(tmp_path_factory):
    """Environment for a forensics process with the lab parsers installed through their entry point."""
    root = tmp_path_factory.mktemp("lab")
    (root / "labcrash").mkdir()
    (root / "labcrash" / "__init__.py").write_text(LAB_PARSERS)
    info = root / "labcrash-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: labcrash\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[forensics.parsers]\nlabcrash = labcrash\n")
    return {**os.environ, "PYTHONPATH": str(root), "LAB_SLOW_SECONDS": "0"}


def _cli(*args, expect=0):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == expect, result.output
    return result.output


def _forensics(*args, env=None, expect=0):
    proc = subprocess.run([FORENSICS, *map(str, args)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == expect, proc.stdout + proc.stderr
    return proc.stdout


def _status(case) -> dict:
    return json.loads(_cli("status", case, "--json"))


def _content(case: Path) -> dict:
    """Everything the case store holds about the devices, except the store's own row ids."""
    db = sqlite3.connect(case / "case.sqlite")
    try:
        out = {}
        for table, columns in ALL_TABLES.items():
            if "device_id" not in columns:  # case-wide tables (identifiers, link_runs) are rebuilt, not merged
                continue
            names = ", ".join(f"[{c}]" for c in columns if c != "id")
            order = "device_id" + (", id" if "id" in columns else "")
            out[table] = db.execute(f"SELECT {names} FROM [{table}] ORDER BY {order}").fetchall()
        # a live folder's access times move whenever it is read (by this run or the one compared with it)
        live = [i for i, c in enumerate(c for c in ALL_TABLES["files"] if c != "id") if c.startswith("atime")]
        partition = [c for c in ALL_TABLES["files"] if c != "id"].index("partition")
        out["files"] = [tuple(None if i in live and row[partition] == "folder" else v for i, v in enumerate(row))
                        for row in out["files"]]
        out["states"] = db.execute("SELECT device_id, state, error FROM device_states ORDER BY device_id").fetchall()
        return out
    finally:
        db.close()


def _new_case(path: Path) -> Path:
    _cli("case", "init", path)
    return path


@pytest.fixture(scope="session")
def batched(caseload, tmp_path_factory):
    """The caseload run once through forensics batch with two workers."""
    case = _new_case(tmp_path_factory.mktemp("batched") / "case")
    result = subprocess.run([FORENSICS, "batch", str(case), str(caseload.manifest), "--workers", "2"],
                            capture_output=True, text=True, timeout=300)
    return case, result


def test_twenty_devices_corrupt_ones_fail_with_their_reason(caseload, batched):
    case, result = batched
    assert result.returncode == 1, result.stdout + result.stderr  # two devices failed
    assert result.stderr == ""  # no progress display when stderr is not a terminal
    assert "20 devices: 18 done now, 0 already done, 2 failed" in result.stdout
    overview = _status(case)
    states = {d["device_id"]: d for d in overview["devices"]}
    assert sorted(states) == sorted(caseload.devices)
    for device_id, reason in caseload_fixture.CORRUPT.items():
        assert states[device_id]["state"] == "failed" and reason in states[device_id]["error"]
        assert f"failed {device_id}: " in result.stdout
    done = [d for d in overview["devices"] if d["state"] == "done"]
    assert len(done) == 18 and all(d["error"] is None and d["seconds"] > 0 and d["counts"]["files"] for d in done)
    assert states["EX-01"]["counts"]["messages"] == 14 and states["EX-06"]["counts"]["messages"] > 0  # password
    assert states["EX-04"]["counts"]["messages"] == states["EX-05"]["counts"]["messages"]
    assert overview["totals"]["done"] == 18 and overview["totals"]["failed"] == 2
    assert overview["totals"]["counts"]["files"] == sum(d["counts"]["files"] for d in overview["devices"])
    # the manifest's extra columns stay on the device, formula-like text as written
    assert states["EX-01"]["extra"] == {"Owner": "owner of EX-01", "Seized At": "2024-03-10T08:00:00Z",
                                        "Notes": '=HYPERLINK("x")'}
    # per-device logs: what was opened, each parser run with its time; the password never appears
    log = (case / "logs" / "EX-01.log").read_text()
    assert "opening evidence EX-01:e1" in log and "parser android-sms on p3" in log and " s" in log
    assert caseload.password not in "".join(p.read_text() for p in (case / "logs").iterdir())
    assert caseload.password not in (case / "audit.log").read_text()
    assert not any((case / "work").iterdir()) and not list((case / "shards" / "pending").rglob("*.sqlite*"))


def test_batch_equals_one_by_one_ingest(caseload, batched, tmp_path):
    case, _ = batched
    single = _new_case(tmp_path / "single")
    for device_id, paths in caseload.devices.items():
        extra = ["--password", caseload.password] if device_id == "EX-06" else []
        expect = 2 if device_id in caseload_fixture.CORRUPT else 0
        _cli("ingest", single, *paths, "--device-id", device_id, "--quiet", *extra, expect=expect)
    batch, one_by_one = _content(case), _content(single)
    for table in sorted(set(batch) - {"states"}):
        assert batch[table] == one_by_one[table], table
    assert batch["messages"] and batch["states"] == one_by_one["states"]


def test_audit_log_records_the_batch_and_verifies(caseload, batched):
    import hashlib

    case, _ = batched
    entries = [json.loads(line) for line in (case / "audit.log").read_text().splitlines()]
    start = next(e for e in entries if e["action"] == "batch start")
    assert start["manifest_sha256"] == hashlib.sha256(caseload.manifest.read_bytes()).hexdigest()
    assert start["user"] and start["tool_version"] and start["time"].endswith("Z") and "batch" in start["command"]
    devices = {e["device_id"]: e for e in entries if e["action"] == "batch device"}
    assert devices["EX-02"]["evidence_hashes_after"][0]["hash_verified"] is True
    assert devices["EX-01"]["evidence_hashes_after"][0]["sha256"]
    assert entries[-1]["action"] == "batch end"
    verified = CliRunner().invoke(main, ["verify", str(case)])
    assert verified.exit_code == 0, verified.output
    assert "hash chain intact" in verified.output


def test_a_tampered_audit_log_is_caught_at_its_line(tmp_path):
    case = _new_case(tmp_path / "case")
    _cli("status", case)
    for _ in range(3):
        _cli("export", case, "devices")
    lines = (case / "audit.log").read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace('"format": "jsonl"', '"format": "csv"')
    (case / "audit.log").write_text("".join(lines))
    result = CliRunner().invoke(main, ["verify", str(case)])
    assert result.exit_code == 2 and "line 4 breaks the hash chain" in result.output


def test_rerun_skips_done_retries_failed_never_duplicates(caseload, batched, tmp_path):
    case = tmp_path / "case"
    shutil.copytree(batched[0], case)
    before = _content(case)
    out = _forensics("batch", case, caseload.manifest, "--workers", "2", expect=1)
    assert "0 done now, 18 already done, 2 failed" in out
    assert _content(case) == before
    runs = sqlite3.connect(case / "case.sqlite").execute(
        "SELECT device_id, count(*) FROM device_runs GROUP BY device_id").fetchall()
    assert dict(runs) == {d: 2 if d in caseload_fixture.CORRUPT else 1 for d in caseload.devices}


def test_changed_evidence_of_a_done_device_is_reported_not_redone(tmp_path):
    if images.missing_tools("mke2fs"):
        pytest.skip("mke2fs not installed")
    image = images.ext4_image(tmp_path / "ev" / "a.img", {"a.txt": "A"}, size_mb=4)
    touched = images.ext4_image(tmp_path / "ev" / "b.img", {"b.txt": "B"}, size_mb=4)
    manifest = tmp_path / "ev" / "m.csv"
    manifest.write_text("device,evidence\nA,a.img\nB,b.img\n")
    case = _new_case(tmp_path / "case")
    _cli("batch", case, manifest, "--workers", "1")
    os.utime(touched, ns=(1, 1))  # touched, same bytes: not a change
    data = bytearray(image.read_bytes())
    data[-1] ^= 0xFF  # a byte of A's image differs
    image.write_bytes(bytes(data))
    result = CliRunner().invoke(main, ["batch", str(case), str(manifest), "--workers", "1"])
    assert result.exit_code == 1
    assert "evidence changed A: evidence hash differs" in result.output and "B:" not in result.output
    states = {d["device_id"]: d for d in _status(case)["devices"]}
    assert states["A"]["state"] == "done" and "hash differs" in states["A"]["problem"]
    _cli("batch", case, manifest, "--workers", "1", "--replace")  # the examiner decides to redo it
    assert _status(case)["devices"][0]["problem"] is None


def test_failed_reingest_keeps_earlier_rows(tmp_path):
    if images.missing_tools("mke2fs"):
        pytest.skip("mke2fs not installed")
    good = images.ext4_image(tmp_path / "phone.img", {"a.txt": "A", "b/c.txt": "C"}, size_mb=4)
    wrong = tmp_path / "wrong.img"
    wrong.write_bytes(b"\x02" * 4096)
    case = _new_case(tmp_path / "case")
    _cli("ingest", case, good, "--device-id", "phone", "--quiet")
    rows = _content(case)
    shard = (case / "shards" / "phone.sqlite").read_bytes()
    result = CliRunner().invoke(main, ["ingest", str(case), str(wrong), "--device-id", "phone", "--quiet"])
    assert result.exit_code == 2 and "its earlier results are kept" in result.output
    assert {t: v for t, v in _content(case).items() if t != "states"} == \
        {t: v for t, v in rows.items() if t != "states"}
    assert (case / "shards" / "phone.sqlite").read_bytes() == shard
    device = _status(case)["devices"][0]
    assert device["state"] == "failed" and device["earlier_results_kept"] and device["counts"]["files"] > 3
    assert "no partition table" in device["error"] and device["attempts"] == 2
    runs = sqlite3.connect(case / "case.sqlite").execute(
        "SELECT state, kept_earlier FROM device_runs ORDER BY id").fetchall()
    assert runs == [("done", 0), ("failed", 1)]
    assert "results of the earlier successful run are kept" in _cli("status", case)
    # with --replace the failed run replaces them, as asked
    _cli("ingest", case, wrong, "--device-id", "phone", "--quiet", "--replace", expect=2)
    assert _content(case)["files"] == [] and _status(case)["devices"][0]["earlier_results_kept"] is False


def _small_manifest(tmp_path: Path, caseload, extra: dict[str, str]) -> Path:
    """A few small caseload devices plus folder devices holding lab trigger files."""
    folder = tmp_path / "ev"
    rows = [f"{d},{caseload.devices[d][0]}" for d in ("EX-09", "EX-10", "EX-17")]
    for device_id, trigger in extra.items():
        images.write_tree(folder / device_id, {f"lab/{trigger}.trigger": b"x", "notes.txt": device_id})
        rows.append(f"{device_id},{folder / device_id}")
    manifest = tmp_path / "crash.csv"
    manifest.write_text("id,path\n" + "\n".join(rows) + "\n")
    return manifest


def test_segfault_memory_and_time_limits_fail_only_their_device(caseload, lab_env, tmp_path):
    manifest = _small_manifest(tmp_path, caseload, {"SEGV": "segfault", "HOG": "hog", "SLOW": "slow"})
    case = _new_case(tmp_path / "case")
    env = dict(lab_env, LAB_SLOW_SECONDS="120")
    out = _forensics("batch", case, manifest, "--workers", "2", "--memory-limit", "1024", "--time-limit", "8",
                     env=env, expect=1)
    states = {d["device_id"]: d for d in _status(case)["devices"]}
    assert [d for d, s in sorted(states.items()) if s["state"] == "done"] == ["EX-09", "EX-10", "EX-17"]
    assert states["SEGV"]["error"].startswith("worker killed by SIGSEGV")
    assert states["HOG"]["error"].startswith("memory limit of 1024 MB exceeded")
    assert states["SLOW"]["error"] == "time limit of 8 s exceeded: worker stopped"
    assert "failed SEGV: worker killed by SIGSEGV" in out
    hog_log = (case / "logs" / "HOG.log").read_text()
    assert "Traceback" in hog_log and "MemoryError" in hog_log  # the full story stays in the device's log
    assert not any((case / "work").iterdir())  # scratch copies of the killed workers are gone


def _wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def _state(case: Path, device_id: str) -> str | None:
    try:
        db = sqlite3.connect(f"file:{case / 'case.sqlite'}?mode=ro", uri=True)
        try:
            row = db.execute("SELECT state FROM device_states WHERE device_id = ?", [device_id]).fetchone()
        finally:
            db.close()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


@pytest.fixture(scope="module")
def crash_reference(caseload, lab_env, tmp_path_factory):
    """The crash-test manifest run once without interruption."""
    tmp = tmp_path_factory.mktemp("crash")
    manifest = _small_manifest(tmp, caseload, {"SLOW": "slow"})
    case = _new_case(tmp / "clean")
    _forensics("batch", case, manifest, "--workers", "2", env=lab_env)
    return manifest, _content(case)


def test_kill_during_a_device_then_rerun_equals_clean_run(crash_reference, lab_env, tmp_path):
    manifest, clean = crash_reference
    case = _new_case(tmp_path / "case")
    proc = subprocess.Popen([FORENSICS, "batch", str(case), str(manifest), "--workers", "2"],
                            env=dict(lab_env, LAB_SLOW_SECONDS="120"), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: _state(case, "SLOW") == "running" and (case / "work" / "SLOW").is_dir())
        time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole run: batch process and workers
        proc.wait()
    slow = {d["device_id"]: d for d in _status(case)["devices"]}["SLOW"]
    assert slow["state"] == "failed" and slow["interrupted"] and slow["error"].startswith("interrupted")
    assert "interrupted" in _cli("status", case)
    _forensics("batch", case, manifest, "--workers", "2", env=lab_env)
    assert _content(case) == clean
    runs = sqlite3.connect(case / "case.sqlite").execute(
        "SELECT state FROM device_runs WHERE device_id = 'SLOW' ORDER BY id").fetchall()
    assert runs == [("interrupted",), ("done",)]
    assert not (case / "work" / "SLOW").exists()


@pytest.mark.parametrize("point", ["before-merge", "merge"])
def test_kill_during_a_merge_then_rerun_equals_clean_run(crash_reference, lab_env, tmp_path, point):
    manifest, clean = crash_reference
    case = _new_case(tmp_path / "case")
    proc = subprocess.run([FORENSICS, "batch", str(case), str(manifest), "--workers", "2"],
                          env=dict(lab_env, FORENSICS_CRASH_AT=f"{point}:EX-10"), capture_output=True,
                          timeout=300)
    assert proc.returncode == -signal.SIGKILL
    assert _state(case, "EX-10") == "running"
    _forensics("batch", case, manifest, "--workers", "2", env=lab_env)
    assert _content(case) == clean


def test_killed_ingest_shows_interrupted_and_its_leftovers_go(lab_env, tmp_path):
    evidence = images.write_tree(tmp_path / "ev", {"lab/slow.trigger": b"x", "a.txt": "A"})
    case = _new_case(tmp_path / "case")
    proc = subprocess.Popen([FORENSICS, "ingest", str(case), str(evidence), "--device-id", "dev", "--quiet"],
                            env=dict(lab_env, LAB_SLOW_SECONDS="120"), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: _state(case, "dev") == "running" and any((case / "work").rglob("slow.trigger")))
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert "device dev: interrupted" in _cli("status", case)
    assert any((case / "work" / "dev").rglob("slow.trigger"))  # the scratch copies it left
    _forensics("ingest", case, evidence, "--device-id", "dev", "--quiet", env=lab_env)
    assert not (case / "work" / "dev").exists()
    device = _status(case)["devices"][0]
    assert device["state"] == "done" and device["attempts"] == 2 and not device["interrupted"]


def test_case_of_the_previous_schema_is_migrated(tmp_path):
    """A case as version 1 wrote it (schema from tests/fixtures/schema_v1.sql, no chain in its audit log)."""
    case = tmp_path / "old"
    case.mkdir()
    (case / "shards").mkdir()
    (case / "case.json").write_text(json.dumps({"name": "old", "schema_version": 1, "tool_version": "0.1.0",
                                                "created": "2026-01-01T00:00:00.000000Z"}))
    db = sqlite3.connect(case / "case.sqlite")
    db.executescript((Path(__file__).parent / "fixtures" / "schema_v1.sql").read_text())
    db.execute("INSERT INTO devices (device_id, label, status, file_count) VALUES ('old-phone', 'old-phone', 'ok', 1)")
    db.execute("INSERT INTO files (device_id, evidence_id, partition, path, name) "
               "VALUES ('old-phone', 'old-phone:e1', 'fs', '/a.txt', 'a.txt')")
    db.commit()
    db.close()
    (case / "audit.log").write_text('{"action": "case init", "name": "old", "time": "2026-01-01T00:00:00.000000Z", '
                                    '"tool_version": "0.1.0"}\n')
    overview = _status(case)  # opening it migrates it
    assert overview["schema_version"] == 2
    assert overview["devices"][0]["device_id"] == "old-phone" and overview["devices"][0]["state"] == "done"
    db = sqlite3.connect(case / "case.sqlite")
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"device_states", "device_runs"} <= tables
    assert db.execute("SELECT path FROM files").fetchall() == [("/a.txt",)]
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    db.close()
    assert json.loads((case / "case.json").read_text())["schema_version"] == 2
    log = [json.loads(line) for line in (case / "audit.log").read_text().splitlines()]
    assert log[1]["action"] == "schema migrated" and log[1]["from_version"] == 1
    verified = _cli("verify", case)
    assert "1 earlier lines were written without a chain" in verified


def test_column_added_to_a_table_is_migrated_generically(tmp_path):
    from artifacts import store as store_mod

    path = tmp_path / "s.sqlite"
    store_mod.Store(path).close()
    store_mod.FIXED_TABLES["evidence"]["lab_note"] = str  # a sibling declares a new column
    try:
        opened = store_mod.Store(path)
        assert "lab_note" in {r[1] for r in opened.db.execute("PRAGMA table_info(evidence)")}
        opened.close()
    finally:
        del store_mod.FIXED_TABLES["evidence"]["lab_note"]


def test_case_of_a_newer_schema_is_refused(tmp_path):
    case = _new_case(tmp_path / "case")
    db = sqlite3.connect(case / "case.sqlite")
    db.execute("PRAGMA user_version = 99")
    db.close()
    result = CliRunner().invoke(main, ["status", str(case)])
    assert result.exit_code == 2 and "written by a newer version of forensics (store schema 99" in result.output


def test_manifest_problems_are_all_reported_with_line_numbers(tmp_path):
    (tmp_path / "ok.img").write_bytes(b"x")
    manifest = tmp_path / "m.csv"
    manifest.write_text("Device ID,Evidence Path,Notes\n"
                        "a,ok.img,fine\n"
                        "a,ok.img,duplicate\n"
                        "b,missing.img,\n"
                        ",,\n"
                        "../c,ok.img,\n"
                        "d,,no evidence\n"
                        "e,ok.img;gone.E01,\"two\nlines\"\n")
    result = CliRunner().invoke(main, ["batch", str(_new_case(tmp_path / "case")), str(manifest)])
    assert result.exit_code == 2
    for problem in ("line 3: device id 'a' already on line 2", "line 4: evidence missing.img: not found",
                    "line 5: empty row", "line 6: invalid device id '../c'", "line 7: no evidence path",
                    "line 8: evidence gone.E01: not found"):
        assert problem in result.output
    assert "6 problem(s)" in result.output and len(result.output.strip().splitlines()) == 1


def test_manifest_headers_relative_paths_and_extra_columns(tmp_path):
    from cases.manifest import DeviceJob, read_manifest

    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "a.E01").write_bytes(b"x")
    (tmp_path / "imgs" / "sd.zip").write_bytes(b"x")
    manifest = tmp_path / "m.csv"
    manifest.write_text("\ufeffexhibit,image,os,owner\nP-1, imgs/a.E01 ; imgs/sd.zip ,android,Doe\n")
    jobs = read_manifest(manifest)
    assert jobs == [DeviceJob("P-1", [str(tmp_path / "imgs" / "a.E01"), str(tmp_path / "imgs" / "sd.zip")],
                              {"os": "android", "owner": "Doe"}, None, 2)]
    assert DeviceJob.from_dict(json.loads(json.dumps(jobs[0].to_dict()))) == jobs[0]
    (tmp_path / "n.csv").write_text("name,file\nx,y\n")
    with pytest.raises(Exception) as err:
        read_manifest(tmp_path / "n.csv")
    assert "no device column" in str(err.value) and "no evidence column" in str(err.value)


def test_progress_line_on_a_terminal_only():
    import io

    from cases.batch import Progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    quiet = io.StringIO()
    shown = Terminal()
    for stream in (quiet, shown):
        progress = Progress(stream, every=0)
        progress.start(4)
        progress.started("a")
        progress.started("b")
        progress.finished("a", True, 1.0)
        progress.finished("b", False, 1.0)
        progress.close()
    assert quiet.getvalue() == ""
    last = shown.getvalue().rsplit("\r\033[K", 1)[1]
    assert last.startswith("devices 2/4: 1 done, 1 failed, 0 running | ") and "devices/min | ETA " in last


def test_batch_has_help():
    result = CliRunner().invoke(main, ["batch", "--help"])
    assert result.exit_code == 0 and "--workers" in result.output and "--memory-limit" in result.output


def test_manifest_with_tabs(tmp_path):
    from cases.manifest import read_manifest

    (tmp_path / "a b.img").write_bytes(b"x")
    (tmp_path / "m.tsv").write_text("Device\tPath\tnotes\nX1\ta b.img\tseized, bagged\n")
    [job] = read_manifest(tmp_path / "m.tsv")
    assert (job.device_id, job.paths, job.extra) == ("X1", [str(tmp_path / "a b.img")], {"notes": "seized, bagged"})
