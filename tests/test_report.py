"""The HTML report in a real headless Chromium (Debian's ``chromium``): hostile message bodies (script tags, img
onerror, javascript: URLs, SVG onload), RTL text, emoji and a 100 kB body are shown as text and never run; the
timeline pages through 100,000 events loaded on demand; the link graph as GraphML/GEXF read back with networkx."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner

from cli import main
from tests.fixtures import identifier_case as ic
from tests.fixtures import images
from tests.fixtures.android_sms import MMSSMS_SCHEMA
from tests.fixtures.sample_device import SMS_DB
from tests.fixtures.sqlite_db import make_db

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make sysdeps)")

LONG = "LONGSTART " + "абвгд ﷺ " * 12_000 + " LONGEND"  # over 100 kB of UTF-8
HOSTILE = [
    "<script>document.title='PWNED1'</script>",
    "<img src=x onerror=\"document.title='PWNED2'\">",
    "javascript:document.title='PWNED3'",
    "<a href=\"javascript:document.title='PWNED4'\">click me</a>",
    "</li></ol><svg onload=\"document.title='PWNED5'\"></svg>",
    "\"><iframe src=\"javascript:document.title='PWNED6'\"></iframe>",
    "مرحبا بالعالم — שלום עולם",
    "👋🏽 🇺🇦 👨‍👩‍👧 done",
    LONG,
]
T0 = 1_712_000_000_000


def _sql(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """Two folder extractions: ``hostile`` (SMS from the recruiter's number with hostile bodies, a photo with EXIF
    GPS) and ``nl-folder`` of the identifier case (the recruiter as a WhatsApp contact); the recruiter's number is
    watch-listed by the case overlay."""
    root = tmp_path_factory.mktemp("report")
    work = root / "work"
    rows = "".join(f"INSERT INTO sms (_id, thread_id, address, date, date_sent, type, read, body) VALUES "
                   f"({n}, 1, '+380931114562', {T0 + n * 60_000}, {T0 + n * 60_000 - 5000}, {1 + n % 2}, 1, "
                   f"{_sql(body)});" for n, body in enumerate(HOSTILE, 1))
    hostile = {SMS_DB: make_db(work / "mmssms.db", MMSSMS_SCHEMA + rows).read_bytes(),
               "media/0/DCIM/Camera/<b>odesa</b>.jpg": images.jpeg_with_exif(lat=46.4825, lon=30.7233,
                                                                         gps_utc="2024:04:01 19:40:00")}
    images.write_tree(root / "hostile", {"data/" + p if not p.startswith("media") else p: c
                                         for p, c in hostile.items()})
    images.write_tree(root / "nl-folder", {"data/" + p: c for p, c in ic.userdata("nl-folder", work / "nl").items()})
    case_dir = root / "case"
    assert _invoke("case", "init", case_dir, "--name", "Op <North> & co").exit_code == 0
    for device in ("hostile", "nl-folder"):
        result = _invoke("ingest", case_dir, root / device, "--device-id", device, "--quiet")
        assert result.exit_code == 0, result.output
    overlay = root / "overlay.json"
    overlay.write_text(json.dumps({"watchlist": [{"value": "+380 93 111 4562", "note": "recruiter <b>x</b>",
                                                  "source": "report 7"}]}), encoding="utf-8")
    assert _invoke("case", "overlay", case_dir, overlay).exit_code == 0
    return case_dir


@pytest.fixture(scope="module")
def report(case, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "report"
    result = _invoke("report", case, "-o", out, "--device-local")
    assert result.exit_code == 0, result.output
    return out


def _chromium(url: str, tmp: Path, *extra: str) -> str:
    """Chromium headless, no network, its own profile; returns the DOM after scripts ran (virtual time)."""
    profile = tmp / "profile"
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", "--disable-extensions", "--disable-sync", f"--user-data-dir={profile}",
         "--virtual-time-budget=10000", *(extra or ("--dump-dom",)), url],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_report_files_are_private_static_and_escaped(report):
    """0700/0600 modes, a CSP on every page, no inline script, nothing fetched from elsewhere, evidence escaped."""
    assert os.stat(report).st_mode & 0o777 == 0o700
    for path in report.rglob("*"):
        assert os.stat(path).st_mode & 0o777 == (0o700 if path.is_dir() else 0o600), path
    pages = sorted(report.glob("*.html"))
    assert {p.name for p in pages} >= {"index.html", "timeline.html", "media.html", "device-001.html",
                                       "device-002.html"}
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'self';" in text
        for script in re.findall(r"<script[^>]*>", text):
            assert re.fullmatch(r'<script src="(assets/report\.js|data/manifest\.js)"( defer)?>', script), script
        assert not re.search(r"(src|href)=\"(https?:|//|javascript:)", text, re.I), page
        assert "<img" not in text and "<svg" not in text and "<iframe" not in text
        assert "Op &lt;North&gt; &amp; co" in text
    index = (report / "index.html").read_text(encoding="utf-8")
    assert "+380931114562" in index and "recruiter &lt;b&gt;x&lt;/b&gt;" in index  # watch-list hit, escaped
    media = (report / "media.html").read_text(encoding="utf-8")
    assert "&lt;b&gt;odesa&lt;/b&gt;.jpg" in media and "46.4825" in media and "30.7233" in media
    device = (report / "device-001.html").read_text(encoding="utf-8")
    assert "Parser outcomes" in device and "SMS" in device
    outcomes = re.findall(r'<tr( class="problem")?><td>([\w-]+)</td><td>[^<]*</td><td>([^<]+)</td>', device)
    assert ("", "android-sms", "parsed") in outcomes
    assert all(bool(problem) == (outcome not in ("parsed", "no data")) for problem, _p, outcome in outcomes)
    other = (report / "device-002.html").read_text(encoding="utf-8")  # nl-folder: legacy parsers found new schemas
    assert '<tr class="problem"><td>whatsapp-android-messages-legacy</td><td>unsupported version</td>' in other


def test_report_is_deterministic_and_never_overwrites(case, report, tmp_path):
    again = tmp_path / "again"
    assert _invoke("report", case, "-o", again, "--device-local").exit_code == 0
    assert _files(again) == _files(report)
    result = _invoke("report", case, "-o", again)
    assert result.exit_code == 2 and "exists" in result.output


@needs_chromium
def test_hostile_messages_display_and_never_run_in_chromium(report, tmp_path):
    """The chat page and the timeline (searched through its data files) in Chromium: the payloads would set
    document.title; the title is the report's own, no element was injected, every body is there as text."""
    chat = next(p for p in sorted(report.glob("chat-*.html")) if "PWNED1" in p.read_text(encoding="utf-8"))
    dom = _chromium(chat.as_uri(), tmp_path)
    assert "PWNED" not in re.search(r"<title>(.*?)</title>", dom, re.S).group(1)
    assert "<img" not in dom and "<svg" not in dom and "<iframe" not in dom and "<a href=\"javascript" not in dom
    for body in ("&lt;script&gt;document.title='PWNED1'&lt;/script&gt;",
                 "&lt;img src=x onerror=\"document.title='PWNED2'\"&gt;", "javascript:document.title='PWNED3'",
                 "&lt;/li&gt;&lt;/ol&gt;&lt;svg onload=", "مرحبا بالعالم — שלום עולם", "👋🏽 🇺🇦 👨‍👩‍👧 done"):
        assert body in dom, body
    assert dom.count('class="msg ') == len(HOSTILE)
    assert LONG in dom  # the whole 100 kB body

    timeline = report / "timeline.html"
    dom = _chromium(timeline.as_uri() + "#q=PWNED&size=50", tmp_path)
    assert "PWNED" not in re.search(r"<title>(.*?)</title>", dom, re.S).group(1)
    assert "<img" not in dom and "<svg" not in dom and "<iframe" not in dom
    status = re.search(r'id="status"[^>]*>(.*?)<', dom).group(1)
    assert re.match(r"Events 1–(\d+) of \1 matching “PWNED”", status), status
    # six payloads: each a "sent" event, the three incoming ones also a "received" event
    assert int(re.match(r"Events 1–(\d+)", status).group(1)) == 6 + 3
    assert "&lt;script&gt;document.title='PWNED1'&lt;/script&gt;" in dom
    assert "local time (device's zone)" in dom


@pytest.fixture(scope="module")
def big_case(tmp_path_factory):
    """A case store with 100,000 web visits (one event each), written straight into the store with SQL."""
    root = tmp_path_factory.mktemp("big")
    assert _invoke("case", "init", root / "case").exit_code == 0
    db = sqlite3.connect(root / "case" / "case.sqlite")
    db.execute("INSERT INTO devices (device_id, label, status, platform) VALUES ('big', 'big', 'ok', 'android')")
    db.execute("""
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
        INSERT INTO web_visits (device_id, evidence_id, partition, source_path, source_table, source_row, parser,
                                parser_version, from_wal, recovered, source_deleted, wal_deleted, app, browser, url,
                                title, extra, ts, ts_raw, ts_encoding)
        SELECT 'big', 'big:e1', 'p1', '/data/History', 'visits', i, 'test', '1', 0, 0, 0, 0, 'com.android.chrome',
               'Chrome', 'https://example.com/' || (i % 100), printf('event %06d', i), '{}',
               strftime('%Y-%m-%dT%H:%M:%S', 1700000000 + i * 60, 'unixepoch') || '.000000Z',
               CAST(1700000000 + i * 60 AS TEXT), 'unix_s'
        FROM n""")
    db.commit()
    db.close()
    out = root / "report"
    result = _invoke("report", root / "case", "-o", out)
    assert result.exit_code == 0, result.output
    return out


@needs_chromium
def test_timeline_pages_past_100000_events(big_case, tmp_path):
    manifest = (big_case / "data" / "manifest.js").read_text(encoding="utf-8")
    assert '"events": 100000' in manifest and '"chunks": 100' in manifest
    assert (big_case / "timeline.html").stat().st_size < 20_000  # the events are not inlined
    dom = _chromium((big_case / "timeline.html").as_uri() + "#page=777&size=100", tmp_path)
    assert re.search(r'id="status"[^>]*>Events 77601–77700 of 100000 \(page 777 of 1000\)<', dom)
    rows = re.findall(r'<tr data-event="(\d+)">.*?event (\d{6})', dom)
    assert [int(a) for a, _ in rows] == list(range(77601, 77701))
    assert [int(b) for _, b in rows] == list(range(77601, 77701))
    dom = _chromium((big_case / "timeline.html").as_uri() + "#page=2&size=50&sort=time-desc", tmp_path)
    rows = re.findall(r'<tr data-event="(\d+)">', dom)
    assert [int(a) for a in rows] == list(range(99950, 99900, -1))


def test_link_graph_as_graphml_and_gexf(case, tmp_path):
    paths = {}
    for fmt in ("graphml", "gexf"):
        paths[fmt] = tmp_path / f"links.{fmt}"
        result = _invoke("graph", case, "--format", fmt, "-o", paths[fmt])
        assert result.exit_code == 0, result.output
    for graph in (nx.read_graphml(paths["graphml"]), nx.read_gexf(paths["gexf"])):
        nodes = dict(graph.nodes(data=True))
        assert {"device:hostile", "device:nl-folder"} <= set(nodes)
        oleh = "identifier:phone:+380931114562"
        assert nodes[oleh]["type"] == "identifier" and nodes[oleh]["kind"] == "phone"
        assert nodes[oleh]["watchlist"] in (True, "true", "True")
        assert graph.has_edge("device:hostile", oleh) and graph.has_edge("device:nl-folder", oleh)
        assert int(graph.edges["device:hostile", oleh]["weight"]) == len(HOSTILE)
        assert any(n.startswith("platform:") and graph.has_edge(oleh, n) for n in nodes)
        assert all(n.split(":")[0] in ("device", "identifier", "platform") for n in nodes)
    again = tmp_path / "again.gexf"
    assert _invoke("graph", case, "--format", "gexf", "-o", again).exit_code == 0
    assert again.read_bytes() == paths["gexf"].read_bytes()


def _events(case, *args) -> list[dict]:
    result = _invoke("timeline", case, *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_timeline_identifier_and_flagged_filters(case):
    """--identifier in any spelling (international, WhatsApp JID, as written) gives the events of the records naming
    that person on both devices and nothing else; --flagged gives the watch-listed person's events."""
    everything = _events(case)
    expected = {(e["device_id"], e["artifact"], e["record_id"], e["timestamp_desc"]) for e in everything
                if "380931114562" in json.dumps(e)}
    assert {d for d, *_ in expected} == {"hostile", "nl-folder"}
    for spelling in ("+380 93 111 4562", "380931114562@s.whatsapp.net", "+380931114562"):
        found = _events(case, "--identifier", spelling)
        assert {(e["device_id"], e["artifact"], e["record_id"], e["timestamp_desc"]) for e in found} == expected, \
            spelling
    assert _events(case, "--identifier", "+48 601 234 567") == []
    flagged = _events(case, "--flagged")
    assert {(e["device_id"], e["artifact"], e["record_id"], e["timestamp_desc"]) for e in flagged} == expected
    narrowed = _events(case, "--identifier", "+380931114562", "--device", "nl-folder")
    assert narrowed and {e["device_id"] for e in narrowed} == {"nl-folder"}


def test_xlsx_has_a_links_sheet(case, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "timeline.xlsx"
    result = _invoke("timeline", case, "--format", "xlsx", "-o", out)
    assert result.exit_code == 0, result.output
    book = load_workbook(out, read_only=True)
    assert "links" in book.sheetnames and "messages" in book.sheetnames
    rows = list(book["links"].iter_rows(values_only=True))
    assert rows[0][:4] == ("identifier", "kind", "platforms", "devices")
    oleh = [r for r in rows[1:] if r[0] == "'+380931114562"]  # a leading + is neutralised as a formula would be
    assert {r[7] for r in oleh} == {"hostile", "nl-folder"} and oleh[0][6] == "recruiter <b>x</b>"
