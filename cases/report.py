"""The case as a static, offline HTML report a non-technical reader can browse (``forensics report``).

Pages are rendered with Jinja2 with autoescaping on for every template, so every value from evidence (message
bodies, names, file names, URLs) is HTML-escaped; nothing from evidence is ever written into an attribute that a
browser follows (URLs are text, not links). Every page carries a Content-Security-Policy meta tag that allows only
the report's own script and style files (``assets/report.js``, ``assets/report.css``, shipped as package data):
no inline script, no network. The timeline is not inlined: its events are written as numbered data files
(``data/timeline-NNNNN.js``, ``CHUNK`` events each, in timeline order) that the script loads only when a page
needs them, so the report stays fast with millions of events; sorting by time (either way) and paging need one
chunk, search and other sort orders read the chunks one after the other.

Layout of the output folder::

    index.html              case summary, evidence hashes, devices, cross-device links, watch-list hits
    device-NNN.html         per device: identity, platform footprint, record counts, parser outcomes, problems,
                            its conversations
    chat-NNNNNN-PPP.html    one conversation (or one part of a long one), as a chat
    media.html              photos and videos with EXIF locations
    timeline.html           the timeline (paged, sortable, searchable)
    data/                   timeline data files and manifest
    assets/                 report.js, report.css

Files are written 0600, folders 0700, into ``DIR.partial`` renamed to ``DIR`` when complete. The same case gives
the same bytes (everything is sorted; no generation time is written).
"""
from __future__ import annotations

import itertools
import json
import os
import shutil
from pathlib import Path

import jinja2
import markupsafe

from artifacts.store import RECORD_TABLES, Store
from cases import footprint as footprint_mod, links as links_mod
from cases.timeline import OUTPUT_COLUMNS, Filters, Timeline

ASSETS = Path(__file__).parent / "report_assets"
CHUNK = 1000           # timeline events per data file
CHAT_PART = 500        # messages per chat page
SIGHTINGS_SHOWN = 200
PROBLEMS_SHOWN = 1000  # problem rows listed per device page (all are counted; `forensics export CASE problems`)
FINE = ("parsed", "no data")  # parser outcomes that are not problems (docs/store.md, parser_runs)  # sightings listed per identifier (the rest are counted)
TIMELINE_FIELDS = ("datetime", "timestamp_desc", "device_id", "artifact", "app", "platform", "message",
                   "source_path", "source_table", "source_row", "record_id")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'none'; "
       "base-uri 'none'; form-action 'none'; object-src 'none'")


class ReportError(ValueError):
    """The report cannot be written (the output folder exists...): one line for the examiner."""


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(ASSETS / "templates")),
                              autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


class _Writer:
    """Writes files 0600 and folders 0700 under the report root."""

    def __init__(self, root: Path):
        self.root = root

    def folder(self, relative: str) -> Path:
        path = self.root / relative
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)
        return path

    def file(self, relative: str, data: str | bytes) -> None:
        path = self.root / relative
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(path, 0o600)


def write(store: Store, out_dir: Path, case_name: str, registry=None, local=None, files: bool = False) -> dict:
    """Write the report into ``out_dir`` (which must not exist); returns counts of what was written. ``local``: a
    ``timeline_formats.LocalTime`` for a second time column; ``files``: file-system MACB times on the timeline."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        raise ReportError(f"{out_dir} exists; the report is written into a new folder")
    partial = out_dir.with_name(out_dir.name + ".partial")
    if partial.exists():
        raise ReportError(f"{partial} exists (an interrupted report?); remove it or choose another folder")
    partial.mkdir(mode=0o700, parents=True)
    os.chmod(partial, 0o700)
    writer = _Writer(partial)
    env = _environment()
    try:
        counts = _Report(store, writer, env, case_name, registry, local, files).write_all()
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)  # no half report (case data) left behind
        raise
    partial.rename(out_dir)
    return counts


class _Report:
    def __init__(self, store: Store, writer: _Writer, env: jinja2.Environment, case_name: str, registry, local,
                 files: bool):
        self.store, self.writer, self.env, self.files = store, writer, env, files
        self.conn = store.db.conn
        self.case_name, self.registry, self.local = case_name, registry, local
        self.devices = [dict(r) for r in store.rows("devices")]
        self.device_pages = {d["device_id"]: f"device-{n:03d}.html" for n, d in enumerate(self.devices, 1)}

    def render(self, relative: str, template: str, **values) -> None:
        page = self.env.get_template(template).render(case_name=self.case_name, csp=markupsafe.Markup(CSP),
                                                      device_pages=self.device_pages, **values)
        self.writer.file(relative, page)

    def write_all(self) -> dict:
        self.writer.folder("assets")
        self.writer.folder("data")
        for name in ("report.js", "report.css"):
            self.writer.file(f"assets/{name}", (ASSETS / name).read_bytes())
        chats = self.write_chats()
        events = self.write_timeline()
        media = self.write_media()
        for device in self.devices:
            self.write_device(device, chats.get(device["device_id"], []))
        self.write_index(events, media)
        return {"devices": len(self.devices), "events": events, "media": media,
                "conversations": sum(len(v) for v in chats.values())}

    # -- index: case summary, evidence, links -------------------------------------------------------------------
    def write_index(self, events: int, media: int) -> None:
        evidence = [dict(r) for r in self.store.rows("evidence")]
        evidence.sort(key=lambda e: (e["device_id"] or "", e["evidence_id"] or ""))
        linked = links_mod.links(self.store, self.registry)
        watched = links_mod.links(self.store, self.registry, watchlist=True)
        for entry in linked + watched:
            entry["shown"] = entry["sightings"][:SIGHTINGS_SHOWN]
            entry["more"] = max(0, len(entry["sightings"]) - SIGHTINGS_SHOWN)
        totals = {table: self.store.count(table) for table in sorted(RECORD_TABLES)}
        problem_counts = dict(self.conn.execute("SELECT device_id, count(*) FROM problems GROUP BY device_id"))
        self.render("index.html", "index.html", devices=self.devices, evidence=evidence, links=linked,
                    watched=watched, totals=totals, events=events, media=media, problem_counts=problem_counts)

    # -- devices ------------------------------------------------------------------------------------------------
    def write_device(self, device: dict, threads: list[dict]) -> None:
        dev = device["device_id"]
        counts = {table: self.store.count(table, dev) for table in sorted(RECORD_TABLES)}
        counts["files"] = self.store.count("files", dev)
        outcomes = self.conn.execute(
            "SELECT parser, app, outcome, count(*), coalesce(sum(records), 0), coalesce(sum(live_records), 0), "
            "coalesce(sum(wal_records), 0), coalesce(sum(wal_deleted_records), 0), coalesce(sum(carved_records), 0), "
            "coalesce(sum(carved_unmapped), 0) FROM parser_runs WHERE device_id = ? "
            "GROUP BY parser, app, outcome ORDER BY parser, app, outcome", [dev]).fetchall()
        # everything unusual any layer met (docs/problems.md): counts per kind, then the first PROBLEMS_SHOWN rows
        problem_kinds = self.conn.execute(
            "SELECT kind, count(*) FROM problems WHERE device_id = ? GROUP BY kind ORDER BY count(*) DESC, kind",
            [dev]).fetchall()
        device_problems = self.conn.execute(
            "SELECT kind, [where], what FROM problems WHERE device_id = ? ORDER BY id LIMIT ?",
            [dev, PROBLEMS_SHOWN]).fetchall()
        problems = self.conn.execute(
            "SELECT parser, outcome, source_path, message FROM parser_runs WHERE device_id = ? AND outcome NOT IN "
            f"({', '.join('?' * len(FINE))}) ORDER BY parser, source_path, id", [dev, *FINE]).fetchall()
        footprint = footprint_mod.footprint(self.store, self.registry, dev)
        identity = [(k, device.get(k)) for k in ("label", "platform", "model", "os_version", "serial", "udid",
                                                   "phone_number", "device_name", "time_zone", "default_region",
                                                   "status", "error", "file_count", "evidence_sha256",
                                                   "evidence_md5", "hash_verified") if device.get(k) is not None]
        facts = sorted((device.get("facts") or {}).items()) if isinstance(device.get("facts"), dict) else []
        self.render(self.device_pages[dev], "device.html", device=device, identity=identity, facts=facts, fine=FINE,
                    counts=counts, outcomes=outcomes, problems=problems, problem_kinds=problem_kinds,
                    device_problems=device_problems,
                    problems_more=sum(n for _k, n in problem_kinds) - len(device_problems),
                    platforms=footprint[0]["platforms"] if footprint else [], threads=threads)

    # -- conversations ------------------------------------------------------------------------------------------
    def write_chats(self) -> dict[str, list[dict]]:
        """One page per conversation part; returns device id → its conversations (for the device pages)."""
        columns = ("id", "device_id", "app", "platform", "thread_id", "thread_name", "sender", "sender_name",
                   "recipients", "direction", "body", "message_type", "attachments", "status", "deleted", "ts",
                   "received_ts", "read_ts", "source_path", "source_table", "source_row", "from_wal", "recovered")
        cursor = self.conn.execute(
            f"SELECT {', '.join(f'[{c}]' for c in columns)} FROM messages ORDER BY device_id, "
            "coalesce(platform, app), app, coalesce(thread_id, ''), ts IS NULL, ts, id")
        rows = (dict(zip(columns, r)) for r in cursor)
        out: dict[str, list[dict]] = {}
        number = 0  # conversations are numbered across the case: one page name per conversation part
        for (dev, _platform, app, thread), messages in itertools.groupby(
                rows, key=lambda r: (r["device_id"], r["platform"] or r["app"], r["app"], r["thread_id"] or "")):
            threads = out.setdefault(dev, [])
            number += 1
            info = {"number": number, "thread_id": thread or None, "app": app, "platform": None,
                    "thread_name": None, "participants": set(), "count": 0, "first": None, "last": None,
                    "pages": []}
            parts = []
            for part, chunk in enumerate(_batched(messages, CHAT_PART), 1):
                for m in chunk:
                    m["recipients"] = _json_list(m["recipients"])
                    m["attachments"] = [_attachment(a) for a in _json_list(m["attachments"])]
                    info["platform"] = info["platform"] or m["platform"]
                    info["thread_name"] = info["thread_name"] or m["thread_name"]
                    for who in [m["sender"], *m["recipients"]]:
                        if who:
                            info["participants"].add(str(who))
                    info["count"] += 1
                    if m["ts"]:
                        info["first"] = info["first"] or m["ts"]
                        info["last"] = m["ts"]
                page = f"chat-{number:06d}-{part:03d}.html"
                info["pages"].append(page)
                parts.append((page, chunk))
            info["participants"] = sorted(info["participants"])
            for index, (page, chunk) in enumerate(parts):
                self.render(page, "chat.html", thread=info, messages=chunk, device_id=dev, part=index + 1,
                            previous=parts[index - 1][0] if index else None,
                            next=parts[index + 1][0] if index + 1 < len(parts) else None)
            threads.append(info)
        return out

    # -- timeline -----------------------------------------------------------------------------------------------
    def write_timeline(self) -> int:
        """The timeline as numbered data files of ``CHUNK`` events; returns the number of events."""
        index = [OUTPUT_COLUMNS.index(f) for f in TIMELINE_FIELDS]
        timeline = Timeline(self.store, Filters(files=self.files))
        count, chunk_no = 0, 0
        for chunk in _batched(timeline.rows(), CHUNK):
            rows = []
            for row in chunk:
                values = [row[i] for i in index]
                if self.local is not None:
                    values.append(self.local.convert(row[OUTPUT_COLUMNS.index("datetime")], row[index[2]]))
                rows.append(values)
            data = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
            self.writer.file(f"data/timeline-{chunk_no:05d}.js", f"window.reportChunk({chunk_no},{data});\n")
            count += len(chunk)
            chunk_no += 1
        fields = list(TIMELINE_FIELDS) + (["local_time"] if self.local is not None else [])
        manifest = {"events": count, "chunk": CHUNK, "chunks": chunk_no, "fields": fields,
                    "local_label": self.local.label if self.local is not None else None,
                    "device_pages": self.device_pages}
        self.writer.file("data/manifest.js",
                         f"window.reportManifest = {json.dumps(manifest, ensure_ascii=False, sort_keys=True)};\n")
        self.render("timeline.html", "timeline.html", events=count,
                    local_label=manifest["local_label"])
        return count

    # -- media --------------------------------------------------------------------------------------------------
    def write_media(self) -> int:
        columns = ("device_id", "media_path", "ts", "local_time", "latitude", "longitude", "altitude",
                   "camera_make", "camera_model", "sha256", "source_path")
        rows = [dict(zip(columns, r)) for r in self.conn.execute(
            f"SELECT {', '.join(columns)} FROM media WHERE latitude IS NOT NULL AND longitude IS NOT NULL "
            "ORDER BY device_id, ts IS NULL, ts, media_path, id")]
        self.render("media.html", "media.html", media=rows)
        return len(rows)


def _batched(iterable, size: int):
    iterator = iter(iterable)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _json_list(value) -> list:
    if not value:
        return []
    try:
        loaded = json.loads(value)
    except (TypeError, ValueError):
        return [value]
    return loaded if isinstance(loaded, list) else [loaded]


def _attachment(value) -> str:
    """An attachment as one line of text (a path, a name, or its fields)."""
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in sorted(value.items()) if v not in (None, ""))
    return str(value)
