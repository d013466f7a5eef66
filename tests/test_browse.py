"""forensics browse: the case store in a real Datasette server, queried over HTTP, stopped by its PID."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from cases import browse
from cli import main
from tests.fixtures import images
from tests.fixtures.android_sms import MMSSMS_SCHEMA
from tests.fixtures.sample_device import SMS_DB
from tests.fixtures.sqlite_db import make_db

pytest.importorskip("datasette", reason="the browse extra (datasette) is not installed")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    root = tmp_path_factory.mktemp("browse")
    sms = make_db(root / "mmssms.db", MMSSMS_SCHEMA + "INSERT INTO sms (_id, thread_id, address, date, type, read, "
                  "body) VALUES (1, 1, '+380931114562', 1712000000000, 1, 1, '<b>hello</b>');")
    images.write_tree(root / "phone", {"data/" + SMS_DB: sms.read_bytes()})
    runner = CliRunner()
    assert runner.invoke(main, ["case", "init", str(root / "case")]).exit_code == 0
    assert runner.invoke(main, ["ingest", str(root / "case"), str(root / "phone"), "--device-id", "p1",
                                "--quiet"]).exit_code == 0
    return root / "case"


def _start(case, host="127.0.0.1"):
    port = browse.free_port(host)
    process = subprocess.Popen([sys.executable, "-m", "cli", "browse", str(case), "--port", str(port),
                                *(["--host", host] if host != "127.0.0.1" else [])],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://{host}:{port}/-/versions.json", timeout=2):
                return process, port
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"datasette did not start: {process.communicate()[1][-2000:]}")
            time.sleep(0.2)


def _stop(process) -> str:
    os.kill(process.pid, signal.SIGTERM)
    _out, err = process.communicate(timeout=30)
    return err


def _get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return json.loads(response.read())


def test_browse_serves_the_store_read_only_with_labels(case):
    process, port = _start(case)
    try:
        rows = _get(port, "/case/messages.json?_shape=array")
        assert len(rows) == 1 and rows[0]["body"] == "<b>hello</b>" and rows[0]["device_id"] == "p1"
        meta = _get(port, "/-/metadata.json")["databases"]["case"]["tables"]
        assert meta["messages"]["description"].startswith("A chat message, SMS or MMS.")
        assert meta["messages"]["columns"]["source_row"] == "the table and row id (or key) inside that file"
        assert meta["messages"]["columns"]["ts_raw"].startswith("ts as stored in the source")
        assert meta["devices"]["columns"]["default_region"].startswith("the country (ISO 3166 code)")
        assert meta["sightings"]["columns"]["role"].startswith("owner, contact, sender")
        assert meta["messages"]["columns"]["from_wal"].startswith("the row exists only in the database's -wal")
        # immutable: a writing statement is refused, and the store is unchanged
        with pytest.raises(urllib.error.HTTPError):
            _get(port, "/case.json?sql=DELETE+FROM+messages")
        assert len(_get(port, "/case/messages.json?_shape=array")) == 1
        settings = _get(port, "/-/settings.json")
        assert settings["allow_download"] is False
        assert _get(port, "/-/databases.json")[0]["is_mutable"] is False
    finally:
        err = _stop(process)
    assert process.returncode == 0
    assert "warning" not in err and "127.0.0.1" in err
    with pytest.raises(urllib.error.URLError):  # the server went with the command
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)


def test_browse_warns_when_not_on_the_loopback_address(case):
    process, _port = _start(case, "127.0.0.2")  # another address than the default: the examiner named it
    err = _stop(process)
    assert "warning: listening on 127.0.0.2" in err


def test_every_column_is_described():
    from artifacts.store import ALL_TABLES

    tables = browse.metadata()["databases"]["case"]["tables"]
    assert set(tables) == set(ALL_TABLES)
    for table, columns in ALL_TABLES.items():
        assert set(tables[table]["columns"]) == set(columns)
        assert all(text for text in tables[table]["columns"].values())


def test_browse_a_case_folder_with_uri_syntax_in_its_name(case, tmp_path):
    """Datasette builds its SQLite URI from the path unescaped: a case folder named ``op#7 ?`` must still show its
    tables, and no empty database may appear beside it."""
    import shutil

    odd = tmp_path / "op#7 ?%x"
    shutil.copytree(case, odd)
    process, port = _start(odd)
    try:
        rows = _get(port, "/case/messages.json?_shape=array")
        assert [r["body"] for r in rows] == ["<b>hello</b>"]
    finally:
        _stop(process)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["op#7 ?%x"]
