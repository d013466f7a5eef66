"""The Celery engine against real services: Debian's redis-server started here (127.0.0.1, a free port, a
``requirepass`` password) and real ``forensics worker`` processes, all stopped by PID at the end."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from cases.case import Case
from tests.fixtures.redis_server import (REDIS_SERVER, processes, redis_server, start_worker, tls_certificates,
                                        without_folder)
from tests.test_batch import lab_env  # noqa: F401 (a fixture: lab parsers that segfault or hang)

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed (Debian package "
                                                             "redis-server; make test installs it)")
pytest.importorskip("celery", reason="the distributed extra is not installed: pip install .[distributed]")

PASSWORD = "Pl4nted-broker-secret"


def _forensics(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


def _wait_ready(proc: subprocess.Popen, log: Path, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if " ready." in text:
            return text
        if proc.poll() is not None:
            raise AssertionError(f"worker exited with {proc.returncode}: {text}")
        time.sleep(0.1)
    raise AssertionError(f"worker not ready after {timeout} s: {log.read_text(errors='replace')}")


def test_broker_without_password_is_refused_unless_insecure(tmp_path):
    with redis_server(tmp_path / "redis") as port:
        url = f"redis://127.0.0.1:{port}/0"
        refused = _forensics("worker", "--broker", url)
        assert refused.returncode == 2
        assert refused.stderr.strip().splitlines() == [
            f"error: broker {url} has no password: anyone who can reach it could read the queue and send work to "
            f"the workers; give one (redis://:PASSWORD@host:port/0, --broker-password-file or "
            f"FORENSICS_BROKER_PASSWORD) or pass --insecure-broker"]
        # accepted with --insecure-broker: see the test of a worker that cannot read the evidence


def test_worker_needs_the_right_password(tmp_path):
    with redis_server(tmp_path / "redis", password=PASSWORD) as port, processes() as started:
        no_password = _forensics("worker", "--broker", f"redis://127.0.0.1:{port}/0", "--insecure-broker")
        assert no_password.returncode == 2
        assert no_password.stderr == f"error: broker redis://127.0.0.1:{port}/0 requires a password and none was " \
                                     f"given\n"
        wrong = _forensics("worker", "--broker", f"redis://:not-{PASSWORD}@127.0.0.1:{port}/0")
        assert wrong.returncode == 2
        assert wrong.stderr.startswith(f"error: broker redis://:***@127.0.0.1:{port}/0 refused the credentials")
        assert PASSWORD not in wrong.stderr + wrong.stdout

        # the password from a file named in the environment: nothing secret on the command line
        pw = tmp_path / "broker.pw"
        pw.write_text(PASSWORD + "\n")
        log = tmp_path / "worker.log"
        proc = start_worker(started, log, "--broker", f"redis://127.0.0.1:{port}/0",
                            env={"FORENSICS_BROKER_PASSWORD_FILE": str(pw)})
        text = _wait_ready(proc, log)
        assert f"redis://:**@127.0.0.1:{port}/0" in text and PASSWORD not in text


def test_tls_broker_is_verified_against_the_given_ca(tmp_path):
    ca, cert, key = tls_certificates(tmp_path / "tls")
    with redis_server(tmp_path / "redis", password=PASSWORD, tls=(ca, cert, key)) as port, \
            processes() as started:
        url = f"rediss://127.0.0.1:{port}/0"
        env = {"FORENSICS_BROKER_PASSWORD": PASSWORD}
        untrusted = _forensics("worker", "--broker", url, env=env)
        assert untrusted.returncode == 2
        assert untrusted.stderr.startswith(f"error: cannot reach broker rediss://:***@127.0.0.1:{port}/0")
        assert "certificate verify failed" in untrusted.stderr
        log = tmp_path / "worker.log"
        proc = start_worker(started, log, "--broker", url, "--broker-ca", str(ca), env=env)
        text = _wait_ready(proc, log)
        assert PASSWORD not in text


# ---- a batch through two real workers, compared with the local engine ----------------------------------------------

def _devices(folder: Path) -> Path:
    """Four devices built with the project's fixture builders, and their manifest (own header names, relative
    paths, a password file for the encrypted backup); returns the manifest."""
    from tests.fixtures import sample_device
    from tests.fixtures.sample_iphone import PASSWORD as BACKUP_PASSWORD, build_sample_iphone

    android = sample_device.build(folder / "android")
    iphone = build_sample_iphone(folder / "iphone")
    (folder / "broken.img").write_bytes(b"\x00not an image\xff" * 4096)
    (folder / "backup.pw").write_text(BACKUP_PASSWORD + "\n")
    manifest = folder / "manifest.csv"
    manifest.write_text(
        "Exhibit,Image,password_file,owner\n"
        f"phone-a,{android.relative_to(folder)},,Sam Carter\n"
        f"iphone-ffs,{iphone.extraction.relative_to(folder)},,\n"
        f"iphone-enc,{iphone.encrypted.relative_to(folder)},backup.pw,\n"
        "broken,broken.img,,\n", encoding="utf-8")
    return manifest


def _tables(case: Path) -> dict[tuple[str, str], list[dict]]:
    """Every table of the case store as `forensics export` writes it, per table and device, without the row ``id``:
    ids count rows in the order devices were merged, which is the order they finished in — with either engine."""
    import io
    import json

    from artifacts.store import ALL_TABLES
    from cases.case import Case
    from cases.exports import export

    tables: dict[tuple[str, str], list[dict]] = {}
    store = Case.open(case).store()
    for table in sorted(ALL_TABLES):
        out = io.StringIO()
        export(store, table, "jsonl", out)
        for line in out.getvalue().splitlines():
            row = json.loads(line)
            row.pop("id", None)
            tables.setdefault((table, row["device_id"]), []).append(row)
    store.close()
    return tables


def _states(case: Path) -> dict[str, tuple]:
    import json

    out = _forensics("status", str(case), "--json")
    assert out.returncode == 0, out.stderr
    return {d["device_id"]: (d["state"], d["error"], d["counts"]) for d in json.loads(out.stdout)["devices"]}


def _grep(roots: list[Path], secret: str) -> list[str]:
    """Files under ``roots`` whose bytes contain ``secret`` (as is, or percent-encoded)."""
    from urllib.parse import quote

    needles = {secret.encode(), quote(secret, safe="").encode()}
    found = []
    for root in roots:
        for path in [root] if root.is_file() else sorted(root.rglob("*")):
            if path.is_file() and any(n in path.read_bytes() for n in needles):
                found.append(str(path))
    return found


def test_batch_through_two_workers_equals_the_local_engine(tmp_path):
    from tests.fixtures.sample_iphone import PASSWORD as BACKUP_PASSWORD

    manifest = _devices(tmp_path / "evidence")
    local, remote = tmp_path / "local-case", tmp_path / "celery-case"
    for case in (local, remote):
        Case.init(case)
    by_local = _forensics("batch", str(local), str(manifest), "--workers", "2")
    assert by_local.returncode == 1, by_local.stderr  # the broken device fails; the others are done

    logs = tmp_path / "logs"
    logs.mkdir()
    with redis_server(tmp_path / "redis", password=PASSWORD) as port, processes() as started:
        url = f"redis://:{PASSWORD}@127.0.0.1:{port}/0"
        pw = tmp_path / "broker.pw"
        pw.write_text(PASSWORD + "\n")
        workers = [
            start_worker(started, logs / "w1.log", "--name", "w1@%h", env={"FORENSICS_BROKER_URL": url}),
            start_worker(started, logs / "w2.log", "--name", "w2@%h", "--broker", f"redis://127.0.0.1:{port}/0",
                         env={"FORENSICS_BROKER_PASSWORD_FILE": str(pw)}),
        ]
        for proc, log in zip(workers, ("w1.log", "w2.log")):
            _wait_ready(proc, logs / log)

        # the password on the command line here, on purpose: it must still not be written anywhere
        by_celery = _forensics("batch", str(remote), str(manifest), "--engine", "celery", "--broker", url)
        assert by_celery.returncode == 1, by_celery.stderr
        assert "celery: 2 worker(s) on redis://:***@127.0.0.1" in by_celery.stderr
        assert by_celery.stdout == by_local.stdout  # the same summary: 3 done now, 1 failed with the same reason

        # resumable as the local engine: a rerun skips what is done and retries what failed
        again = _forensics("batch", str(remote), str(manifest), "--engine", "celery", "--broker", url)
        assert again.returncode == 1
        assert again.stdout.startswith("batch: 4 devices: 0 done now, 3 already done, 1 failed")
        (logs / "batch.out").write_text(by_celery.stdout + by_celery.stderr + again.stdout + again.stderr)

    local_tables, remote_tables = _tables(local), _tables(remote)
    assert {t: len(rows) for t, rows in remote_tables.items()} == {t: len(rows) for t, rows in local_tables.items()}
    assert sum(len(rows) for (t, _), rows in remote_tables.items() if t == "messages") > 20
    assert sorted(d for t, d in remote_tables if t == "devices") == ["broken", "iphone-enc", "iphone-ffs", "phone-a"]
    assert remote_tables == local_tables
    states = _states(remote)
    assert states == _states(local)
    assert {d: s[0] for d, s in states.items()} == {"phone-a": "done", "iphone-ffs": "done", "iphone-enc": "done",
                                                    "broken": "failed"}
    hosts = {e.get("host") for e in _audit(remote) if e["action"] == "batch device"}
    assert hosts, "the audit log names the machine of each device"
    batch_start = next(e for e in _audit(remote) if e["action"] == "batch start")
    assert f"--broker=redis://:***@127.0.0.1:{port}/0" in batch_start["command"]

    # neither the broker password nor the backup password is anywhere in the case or the logs
    assert _grep([remote, logs, tmp_path / "redis"], PASSWORD) == []
    assert _grep([remote, logs], BACKUP_PASSWORD) == []
    # only ids, paths and status went through the broker: nothing is left in the exchange folder either
    assert sorted(p.name for p in (remote / "celery").iterdir()) == []


def _audit(case: Path) -> list[dict]:
    import json

    return [json.loads(line) for line in (case / "audit.log").read_text().splitlines() if line.strip()]


def test_batch_names_the_worker_that_cannot_read_the_evidence(tmp_path):
    """Through a broker without a password (accepted with --insecure-broker): no worker answering is one line; a
    worker whose machine does not have the evidence share mounted is named with the path it cannot read."""
    evidence = tmp_path / "share"
    image = evidence / "phone.img"
    evidence.mkdir()
    image.write_bytes(b"\0" * 4096)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(f"device_id,evidence\nphone,{image}\n")
    case = tmp_path / "case"
    Case.init(case)
    blind = without_folder(evidence)
    with redis_server(tmp_path / "redis") as port, processes() as started:  # no password: --insecure-broker
        url = f"redis://127.0.0.1:{port}/0"
        env = {"FORENSICS_BROKER_URL": url}
        nobody = _forensics("batch", str(case), str(manifest), "--engine", "celery", "--insecure-broker", env=env)
        assert nobody.returncode == 2
        assert nobody.stderr == f"error: no worker answered on broker {url} within 2 s: " \
                                f"start workers with 'forensics worker --broker ...'\n"

        log = tmp_path / "blind.log"
        proc = start_worker(started, log, "--name", "blind@lab-7", "--insecure-broker", env=env, prefix=blind)
        assert f"worker connecting to {url}\n" in _wait_ready(proc, log)
        if not blind:
            pytest.skip("cannot make a mount namespace here (unshare needs CAP_SYS_ADMIN) to hide the evidence from "
                        "a worker")
        refused = _forensics("batch", str(case), str(manifest), "--engine", "celery", "--insecure-broker", env=env)
        assert refused.returncode == 2
        assert refused.stderr.startswith("error: evidence or case folder not reachable from every worker")
        assert refused.stderr.rstrip().endswith(f"worker blind@lab-7 cannot read {image}")
    states = _states(case)
    assert states == {}, "nothing was queued"


def test_crash_and_time_limit_fail_only_their_device(lab_env, tmp_path):
    """A device whose processing segfaults kills only its worker process; Celery redelivers it (late
    acknowledgement) and after two lost processes it fails with that reason. A device past the time limit stops and
    fails; the others are done — and both workers survive all of it."""
    from tests.fixtures import images

    evidence = tmp_path / "ev"
    for device, trigger in (("SEGV", "segfault"), ("SLOW", "slow"), ("FINE", None)):
        images.write_tree(evidence / device, {"notes.txt": device, **({f"lab/{trigger}.trigger": b"x"}
                                                                     if trigger else {})})
    crashing, hanging = tmp_path / "crash.csv", tmp_path / "hang.csv"
    crashing.write_text("id,path\nSEGV,ev/SEGV\nFINE,ev/FINE\n")
    hanging.write_text("id,path\nSLOW,ev/SLOW\n")
    case = tmp_path / "case"
    Case.init(case)
    env = dict(lab_env, LAB_SLOW_SECONDS="60")  # the lab parsers of the batch tests, installed as a lab would
    with redis_server(tmp_path / "redis", password=PASSWORD) as port, processes() as started:
        env.update(FORENSICS_BROKER_URL=f"redis://:{PASSWORD}@127.0.0.1:{port}/0")
        workers = {name: start_worker(started, tmp_path / f"{name}.log", "--name", f"{name}@lab", env=env)
                   for name in ("w1", "w2")}
        for name, proc in workers.items():
            _wait_ready(proc, tmp_path / f"{name}.log")
        # Celery notices a dead process within ~5 s: a generous limit, so that it is the crash that fails SEGV
        out = _forensics("batch", str(case), str(crashing), "--engine", "celery", "--time-limit", "120", env=env,
                         timeout=180)
        assert out.returncode == 1, out.stderr
        out = _forensics("batch", str(case), str(hanging), "--engine", "celery", "--time-limit", "3", env=env,
                         timeout=120)
        assert out.returncode == 1, out.stderr
        assert all(proc.poll() is None for proc in workers.values()), "the workers survived their processes' deaths"
    states = _states(case)
    assert states["FINE"][0] == "done"
    assert states["SLOW"][0] == "failed"
    assert states["SLOW"][1] in {f"time limit of 3 s exceeded: stopped on worker {w}@lab" for w in workers}
    assert states["SEGV"][0] == "failed"
    assert states["SEGV"][1].startswith("worker lost 2 times while processing this device")
    logs = "".join((tmp_path / f"{name}.log").read_text() for name in workers)
    assert logs.count("WorkerLostError('Worker exited prematurely: signal 11 (SIGSEGV)") == 2
    assert not any((case / "work").iterdir())
