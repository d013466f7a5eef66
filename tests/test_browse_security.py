"""forensics browse, from the examiner's side of issue 14: the Datasette server started by the test answers on
127.0.0.1 only (not on another loopback address, not on the machine's own address), and nothing a browser can send
changes the store — the file's bytes are the same after writing statements, the write API and uploads were tried.
The server, its start-up and stopping come from tests/test_browse.py.
"""
from __future__ import annotations

import hashlib
import json
import socket
import urllib.error
import urllib.request

import pytest

from tests.test_browse import _start, _stop, case  # noqa: F401  (case is a fixture)

pytest.importorskip("datasette", reason="the browse extra (datasette) is not installed")


def _refused(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET) as s:
        s.settimeout(3)
        try:
            s.connect((host, port))
        except (ConnectionRefusedError, socket.timeout, OSError):
            return True
        return False


def _own_address() -> str | None:
    """This machine's non-loopback IPv4 address, if it has one (no packet is sent: a UDP socket is only routed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1, never answered
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def _status(port: int, path: str, data: bytes | None = None, method: str | None = None) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_default_server_answers_on_127_0_0_1_only(case):
    process, port = _start(case)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json", timeout=5) as response:
            assert response.status == 200
        assert _refused("127.0.0.2", port)  # another loopback address of this machine
        own = _own_address()
        if own is not None:
            assert _refused(own, port), f"reachable on {own}"
    finally:
        err = _stop(process)
    assert "warning" not in err
    entry = [json.loads(line) for line in (case / "audit.log").read_text().splitlines()
             if json.loads(line)["action"] == "browse"][-1]
    assert (entry["host"], entry["port"]) == ("127.0.0.1", port)


def test_nothing_a_browser_sends_changes_the_store(case):
    before = _sha256(case / "case.sqlite")
    process, port = _start(case)
    try:
        for sql in ("DELETE FROM messages", "UPDATE messages SET body = 'x'", "DROP TABLE messages",
                    "PRAGMA user_version = 99", "ATTACH DATABASE '/tmp/x.db' AS x",
                    "INSERT INTO messages (body) VALUES ('x')", "VACUUM"):
            status = _status(port, "/case.json?sql=" + urllib.request.quote(sql))
            assert status >= 400, (sql, status)
        # the write API of newer Datasette releases, a POSTed query, an upload: none is served
        body = json.dumps({"row": {"body": "planted"}}).encode()
        assert _status(port, "/case/messages/-/insert", body, "POST") >= 400
        assert _status(port, "/case/-/create", json.dumps({"table": "t", "rows": [{"a": 1}]}).encode(),
                       "POST") >= 400
        assert _status(port, "/case/-/query", b"sql=DELETE+FROM+messages", "POST") >= 400
        assert _status(port, "/-/upload-csvs", b"x", "POST") >= 400
        assert _status(port, "/case.db") >= 400  # no download of the whole database either
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/case/messages.json?_shape=array",
                                    timeout=10) as response:
            rows = json.loads(response.read())
        assert [r["body"] for r in rows] == ["<b>hello</b>"]
    finally:
        _stop(process)
    assert _sha256(case / "case.sqlite") == before
    assert not (case / "case.sqlite-journal").exists()
