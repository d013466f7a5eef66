"""The Celery engine against real services: Debian's redis-server started here (127.0.0.1, a free port, a
``requirepass`` password) and real ``forensics worker`` processes, all stopped by PID at the end."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.redis_server import REDIS_SERVER, processes, redis_server, start_worker, tls_certificates

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
    with redis_server(tmp_path / "redis") as port, processes() as started:
        url = f"redis://127.0.0.1:{port}/0"
        refused = _forensics("worker", "--broker", url)
        assert refused.returncode == 2
        assert refused.stderr.strip().splitlines() == [
            f"error: broker {url} has no password: anyone who can reach it could read the queue and send work to "
            f"the workers; give one (redis://:PASSWORD@host:port/0, --broker-password-file or "
            f"FORENSICS_BROKER_PASSWORD) or pass --insecure-broker"]
        log = tmp_path / "insecure.log"
        proc = start_worker(started, log, "--broker", url, "--insecure-broker")
        assert f"worker connecting to {url}\n" in _wait_ready(proc, log)


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
