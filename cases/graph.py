"""The link graph of a case as GraphML or GEXF, for Gephi, yEd, Cytoscape and networkx.

Nodes are the devices, the identifiers seen on at least ``min_devices`` of them (from ``cases.links``: the
``identifiers`` table built from the merged ``sightings``) and the platforms those identifiers were seen on. Edges:
device — identifier, weighted by the number of sightings of the identifier on the device; identifier — platform,
weighted by the number of its sightings on that platform. Node ids are ``device:<id>``, ``identifier:<kind>:<value>``
and ``platform:<name>``; every node has a ``type`` and a ``label``. The graph is built in sorted order and the GEXF
date is the date of the links build it shows, so the same case gives the same bytes. networkx writes both formats
(GraphML per the GraphML primer, GEXF 1.2draft as Gephi reads it).
"""
from __future__ import annotations

import io
import json

import networkx as nx
from networkx.readwrite.gexf import GEXFWriter

from artifacts.identifiers import UNLINKED_KINDS
from artifacts.store import Store


def build(store: Store, min_devices: int = 2) -> nx.Graph:
    """The link graph (identifiers must be built: ``cases.links.build``)."""
    conn = store.db.conn
    graph = nx.Graph()
    for device_id, label, platform, model in conn.execute(
            "SELECT device_id, label, platform, model FROM devices ORDER BY device_id"):
        graph.add_node(f"device:{device_id}", type="device", label=label or device_id,
                       platform=platform or "", model=model or "")
    rows = conn.execute(
        "SELECT kind, identifier, device_count, sighting_count, flagged, watchlist FROM identifiers "
        f"WHERE device_count >= ? AND kind NOT IN ({', '.join('?' * len(UNLINKED_KINDS))}) ORDER BY kind, identifier",
        [min_devices, *UNLINKED_KINDS]).fetchall()
    conn.execute("DROP TABLE IF EXISTS temp.graph_ids")
    conn.execute("CREATE TEMP TABLE graph_ids (kind TEXT, identifier TEXT, PRIMARY KEY (kind, identifier))")
    conn.executemany("INSERT INTO temp.graph_ids VALUES (?, ?)", [(r[0], r[1]) for r in rows])
    for kind, identifier, devices, sightings, flagged, watch in rows:
        graph.add_node(f"identifier:{kind}:{identifier}", type="identifier", label=identifier, kind=kind,
                       devices=devices, sightings=sightings, flagged=", ".join(json.loads(flagged or "[]")),
                       watchlist=bool(watch))
    edges = conn.execute(
        "SELECT s.kind, s.identifier, s.device_id, count(*) FROM sightings s JOIN temp.graph_ids g "
        "ON g.kind = s.kind AND g.identifier = s.identifier GROUP BY s.kind, s.identifier, s.device_id "
        "ORDER BY s.kind, s.identifier, s.device_id").fetchall()
    for kind, identifier, device_id, count in edges:
        graph.add_edge(f"device:{device_id}", f"identifier:{kind}:{identifier}", type="seen on", weight=count)
    on_platforms = conn.execute(
        "SELECT s.kind, s.identifier, s.platform, count(*) FROM sightings s JOIN temp.graph_ids g "
        "ON g.kind = s.kind AND g.identifier = s.identifier WHERE s.platform IS NOT NULL "
        "GROUP BY s.kind, s.identifier, s.platform ORDER BY s.platform, s.kind, s.identifier").fetchall()
    for platform in sorted({r[2] for r in on_platforms}):
        graph.add_node(f"platform:{platform}", type="platform", label=platform)
    for kind, identifier, platform, count in on_platforms:
        graph.add_edge(f"identifier:{kind}:{identifier}", f"platform:{platform}", type="used on", weight=count)
    conn.execute("DROP TABLE temp.graph_ids")
    return graph


def write(store: Store, out, fmt: str, min_devices: int = 2) -> tuple[int, int]:
    """Write the graph as ``graphml`` or ``gexf`` to the binary file ``out``; returns (nodes, edges)."""
    graph = build(store, min_devices)
    if fmt == "graphml":
        nx.write_graphml(graph, out, encoding="utf-8", prettyprint=True)
    elif fmt == "gexf":
        writer = GEXFWriter(encoding="utf-8", prettyprint=True)
        writer.add_graph(graph)
        meta = writer.xml.find("meta")
        last = store.db.conn.execute("SELECT ts FROM link_runs ORDER BY id DESC LIMIT 1").fetchone()
        if meta is not None:  # networkx stamps today's date: the links build's date instead, so bytes repeat
            meta.set("lastmodifieddate", (last[0] if last else "1970-01-01")[:10])
        buffer = io.BytesIO()
        writer.write(buffer)
        out.write(buffer.getvalue())
    else:
        raise ValueError(f"unknown graph format {fmt!r}")
    return graph.number_of_nodes(), graph.number_of_edges()
