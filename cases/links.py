"""Cross-device links: which identifiers recur on several devices of the case, and where each was seen.

``build`` turns the merged ``sightings`` of every device into the case-wide ``identifiers`` table in SQL (one
GROUP BY over an index, no Python loop over sightings), with the platforms each identifier was seen on, the
sorted devices, the identifiers tied to it by a contact or account record (``also_known_as``), the flagged
platforms among its platforms and any watch-list entry naming it (both from the case registry: the shipped
platform registry plus the case overlay). It runs only when the sightings or the registry changed since the last
build (``link_runs`` keeps each build). ``links`` reads the result for ``forensics links``.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import time
from collections.abc import Iterable

from artifacts.identifiers import UNLINKED_KINDS, classify, url_identifier
from artifacts.sightings import registry
from artifacts.store import Store
from cases.overlay import load_case_registry

SIGHTING_FIELDS = ("device_id", "artifact", "role", "ts", "written_as", "source_path", "source_table", "source_row")


def case_registry(case):
    """The shipped platform registry with the case's overlay applied (``cases.overlay``)."""
    return load_case_registry(case)


def _digest(registry) -> str:
    if registry is None:
        return "none"
    flags = sorted((p.name, p.flag or "") for p in registry.platforms if getattr(p, "flag", None))
    watch = sorted(json.dumps(w, sort_keys=True, default=str) for w in registry.watchlist)
    return hashlib.sha256(json.dumps([len(registry.platforms), flags, watch]).encode()).hexdigest()


def build(store: Store, registry=None, force: bool = False) -> dict:
    """(Re)build ``identifiers`` from ``sightings`` when they or the registry changed; returns the run's row."""
    conn = store.db.conn
    count, last = conn.execute("SELECT count(*), coalesce(max(id), 0) FROM sightings").fetchone()
    digest = _digest(registry)
    previous = conn.execute("SELECT sightings, last_sighting_id, registry_digest, identifiers, seconds, ts "
                            "FROM link_runs ORDER BY id DESC LIMIT 1").fetchone()
    if not force and previous and previous[:3] == (count, last, digest):
        return {"sightings": count, "identifiers": previous[3], "seconds": previous[4], "ts": previous[5],
                "rebuilt": False}
    started = time.perf_counter()
    conn.execute("CREATE INDEX IF NOT EXISTS sightings_identifier ON sightings (kind, identifier, device_id)")
    with store.transaction():
        conn.execute("DELETE FROM identifiers")
        conn.execute("DROP TABLE IF EXISTS temp.aka")
        conn.execute("""
            CREATE TEMP TABLE aka AS
            SELECT s.kind, s.identifier, json_group_array(DISTINCT j.value) AS names
            FROM sightings s, json_each(s.tied_to) j WHERE s.tied_to IS NOT NULL
            GROUP BY s.kind, s.identifier""")
        conn.execute("CREATE INDEX temp.aka_key ON aka (kind, identifier)")
        conn.execute("""
            INSERT INTO identifiers (identifier, kind, platforms, devices, device_count, sighting_count,
                                     also_known_as)
            SELECT g.identifier, g.kind, g.platforms, g.devices, g.device_count, g.sighting_count, a.names
            FROM (SELECT identifier, kind,
                         json_group_array(DISTINCT platform) FILTER (WHERE platform IS NOT NULL) AS platforms,
                         json_group_array(DISTINCT device_id) AS devices,
                         count(DISTINCT device_id) AS device_count, count(*) AS sighting_count
                  FROM sightings GROUP BY kind, identifier) AS g
            LEFT JOIN temp.aka a ON a.kind = g.kind AND a.identifier = g.identifier
            ORDER BY g.kind, g.identifier""")
        conn.execute("DROP TABLE temp.aka")
        # lists in a fixed order whatever order the devices were merged in (only lists of two or more change)
        for column in ("platforms", "devices", "also_known_as"):
            conn.execute(f"UPDATE identifiers SET [{column}] = (SELECT json_group_array(value) FROM "
                         f"(SELECT value FROM json_each(identifiers.[{column}]) ORDER BY value)) "
                         f"WHERE json_array_length([{column}]) > 1")
        _mark_registry(conn, registry)
        took = time.perf_counter() - started
        total = conn.execute("SELECT count(*) FROM identifiers").fetchone()[0]
        run = {"ts": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "sightings": count,
               "last_sighting_id": last, "registry_digest": digest, "identifiers": total, "seconds": round(took, 3)}
        store.insert_rows("link_runs", [run])
    return {**run, "rebuilt": True}


def _mark_registry(conn, registry) -> None:
    """Flagged platforms and watch-list entries onto the identifiers they concern (a handful of statements)."""
    if registry is None:
        return
    flagged = [(p.name, p.flag) for p in registry.platforms if getattr(p, "flag", None)]
    if flagged:
        conn.execute("DROP TABLE IF EXISTS temp.flagged")
        conn.execute("CREATE TEMP TABLE flagged (name TEXT PRIMARY KEY, flag TEXT)")
        conn.executemany("INSERT INTO temp.flagged VALUES (?, ?)", flagged)
        conn.execute("""
            UPDATE identifiers SET flagged = (
                SELECT json_group_array(f.name || ' (' || f.flag || ')') FROM json_each(identifiers.platforms) j
                JOIN temp.flagged f ON f.name = j.value)
            WHERE platforms IS NOT NULL AND EXISTS (
                SELECT 1 FROM json_each(identifiers.platforms) j JOIN temp.flagged f ON f.name = j.value)""")
        conn.execute("DROP TABLE temp.flagged")
    regions = case_regions(conn) if registry.watchlist else []
    for entry in registry.watchlist:
        note = {k: entry.get(k) for k in ("value", "kind", "note", "source") if entry.get(k) is not None}
        for kind, value in watch_keys(entry, regions):
            conn.execute("UPDATE identifiers SET watchlist = json_insert(coalesce(watchlist, '[]'), '$[#]', json(?)) "
                         "WHERE kind = ? AND identifier = ?", (json.dumps(note, sort_keys=True), kind, value))


def case_regions(conn) -> list[str]:
    """The countries the case's devices are in (``devices.default_region``), in which a number written without its
    country code is read."""
    return [r[0] for r in conn.execute("SELECT DISTINCT default_region FROM devices WHERE default_region IS NOT NULL "
                                       "AND default_region != '' ORDER BY 1")]


def watch_keys(entry: dict, regions: Iterable[str] = ()) -> list[tuple[str, str]]:
    """The (kind, normalised value) pairs a watch-list entry stands for: its value read as a phone in international
    form (or, written without a country code, in each of ``regions``: the case's devices' countries), an e-mail, a
    URL or profile URL, a JID, or a ``platform:handle``; the text itself as a last resort."""
    text = str(entry.get("value") or "").strip()
    keys = {("raw", text)}
    if ":" in text and not text.startswith(("+", "http")) and "//" not in text:
        keys.add(("handle", text.lower()))
    for field in ("id", "phone", "email"):
        ident = classify(text, None, None, field)
        if ident is not None:
            keys.add((ident.kind, ident.value))
    if "@" not in text and not text.startswith(("+", "00")):
        for region in regions:
            ident = classify(text, None, region, "phone")
            if ident is not None and ident.kind == "phone":
                keys.add((ident.kind, ident.value))
    if "." in text and "@" not in text:
        ident = url_identifier(text, registry().match_url)
        if ident is not None:
            keys.add((ident.kind, ident.value))
    wanted = entry.get("kind")
    return sorted(k for k in keys if not wanted or k[0] == wanted or k[0] == "raw")


def links(store: Store, registry=None, min_devices: int = 2, kind: str | None = None, platform: str | None = None,
          category: str | None = None, flagged: bool = False, watchlist: bool = False) -> list[dict]:
    """Identifiers matching the filters, most devices first, then most sightings, then kind and value; each with its
    sightings in (device, time, artifact, source) order. ``watchlist`` lists every watch-listed identifier seen, on
    one device too. ``raw`` and ``shortcode`` identifiers are listed only when asked for with ``kind``."""
    where, args = ["device_count >= ?"], [1 if watchlist else min_devices]
    if kind:
        where.append("kind = ?")
        args.append(kind)
    else:
        where.append(f"kind NOT IN ({', '.join('?' * len(UNLINKED_KINDS))})")
        args += list(UNLINKED_KINDS)
    if flagged:
        where.append("flagged IS NOT NULL")
    if watchlist:
        where.append("watchlist IS NOT NULL")
    names = None
    if platform:
        names = {platform.casefold()}
    if category:
        wanted = {p.name.casefold() for p in (registry.platforms if registry else [])
                  if p.category.casefold() == category.casefold()}
        names = wanted if names is None else names & wanted
    if names is not None:
        where.append("EXISTS (SELECT 1 FROM json_each(identifiers.platforms) j WHERE lower(j.value) IN "
                     f"({', '.join('?' * len(names)) or 'NULL'}))")
        args += sorted(names)
    rows = store.db.conn.execute(
        "SELECT identifier, kind, platforms, devices, device_count, sighting_count, also_known_as, flagged, "
        f"watchlist FROM identifiers WHERE {' AND '.join(where)} "
        "ORDER BY device_count DESC, sighting_count DESC, kind, identifier", args).fetchall()
    out = []
    for identifier, kind_, platforms, devices, _n, _m, aka, flags, watch in rows:
        out.append({
            "identifier": identifier, "kind": kind_, "platforms": sorted(json.loads(platforms or "[]")),
            "devices": sorted(json.loads(devices or "[]")), "also_known_as": sorted(json.loads(aka or "[]")),
            "flagged": sorted(json.loads(flags or "[]")), "watchlist": json.loads(watch or "[]"),
            "sightings": sightings_of(store, kind_, identifier)})
    return out


def sightings_of(store: Store, kind: str, identifier: str) -> list[dict]:
    rows = store.db.conn.execute(
        f"SELECT {', '.join(SIGHTING_FIELDS)} FROM sightings WHERE kind = ? AND identifier = ? "
        "ORDER BY device_id, ts IS NULL, ts, artifact, source_path, source_table, "
        "CAST(source_row AS INTEGER), source_row, role, written_as", (kind, identifier)).fetchall()
    return [dict(zip(SIGHTING_FIELDS, r)) for r in rows]


TABLE_COLUMNS = ("identifier", "kind", "devices", "sightings", "platforms", "also_known_as")


def as_table_rows(found: list[dict]) -> list[list[str]]:
    """One line per identifier for the terminal and CSV: devices and platforms joined, sightings counted."""
    return [[f["identifier"], f["kind"], ",".join(f["devices"]), str(len(f["sightings"])),
             ",".join(f["platforms"]), ",".join(f["also_known_as"])] for f in found]
