"""The case as CASE/UCO JSON-LD (CASE 1.5 / UCO 1.4), for exchange with other agencies and tools.

What is written, one graph node at a time (memory stays flat) and in a fixed order:
- the tool (``tool:Tool``: name, version) and the investigation (``investigation:Investigation``);
- per evidence item: an ``observable:File`` with its path, size and sha256/md5 (``observable:ContentDataFacet``),
  wrapped in an ``investigation:ProvenanceRecord`` whose exhibit number is the device id;
- per device: an ``observable:Device`` (model, serial number, IMEI where known);
- per inventoried file: an ``observable:File`` (name, path, size, MACB times in UTC, allocation, hashes, MIME);
- messages (``observable:Message``), calls (``observable:Call``), contacts (``observable:Contact`` with phone numbers
  and e-mail addresses as observables of their own) and accounts (``observable:ApplicationAccount``), the parties
  of messages and calls as ``observable:ApplicationAccount`` nodes of their app;
- per device, the ingest as an ``investigation:InvestigativeAction`` (instrument: the tool; object: the evidence;
  result: a provenance record listing everything derived), with the UTC times the audit log recorded.

Each derived node carries where it came from in a ``pf:SourceFacet`` (this project's namespace, typed also as
``core:Facet``, as UCO's extension practice has it): device, evidence, partition, path, inode, table, row, parser
and the WAL/recovery flags. Node identifiers are ``kb:<kind>-<uuid5>`` computed from the case and the row, so the
same case gives the same document. Times are ``xsd:dateTime`` in UTC; a time whose zone is unknown is left out.
The tests validate the output with the CASE community's own ``case_validate`` (case-utils).
"""
from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Iterator, TextIO

from artifacts.store import Store

CONTEXT = {
    "kb": "urn:phone-forensics:kb:",
    "pf": "urn:phone-forensics:ontology:",
    "core": "https://ontology.unifiedcyberontology.org/uco/core/",
    "observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
    "types": "https://ontology.unifiedcyberontology.org/uco/types/",
    "vocabulary": "https://ontology.unifiedcyberontology.org/uco/vocabulary/",
    "tool": "https://ontology.unifiedcyberontology.org/uco/tool/",
    "action": "https://ontology.unifiedcyberontology.org/uco/action/",
    "investigation": "https://ontology.caseontology.org/case/investigation/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
_SOURCE_FIELDS = {"device_id": "deviceId", "evidence_id": "evidenceId", "partition": "partition",
                  "source_path": "sourcePath", "source_inode": "sourceInode", "source_table": "sourceTable",
                  "source_row": "sourceRow", "parser": "parser", "parser_version": "parserVersion",
                  "from_wal": "fromWal", "recovered": "recovered", "source_deleted": "sourceDeleted",
                  "wal_deleted": "walDeleted"}
_FLAGS = {"from_wal", "recovered", "source_deleted", "wal_deleted"}


class Writer:
    """Writes graph nodes as they come; ``node_id`` gives the deterministic identifier of anything."""

    def __init__(self, out: TextIO, case_name: str):
        self.out = out
        self.namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:phone-forensics:case:{case_name}")
        self.count = 0

    def node_id(self, kind: str, *key) -> str:
        return f"kb:{kind}-{uuid.uuid5(self.namespace, kind + chr(0) + chr(0).join(map(str, key)))}"

    def start(self) -> None:
        self.out.write('{"@context": ' + json.dumps(CONTEXT, sort_keys=True) + ', "@graph": [\n')

    def write(self, node: dict) -> None:
        self.out.write((",\n" if self.count else "") + json.dumps(node, ensure_ascii=False, sort_keys=True))
        self.count += 1

    def end(self) -> None:
        self.out.write("\n]}\n")


def _dt(value: str | None, encoding: str | None = None) -> dict | None:
    if not value or (encoding and "zone unknown" in encoding):
        return None
    return {"@type": "xsd:dateTime", "@value": value}


def _facet(w: Writer, owner: str, kind: str, types: str | list, **props) -> dict:
    facet = {"@id": w.node_id(kind, owner), "@type": types}
    facet.update({k: v for k, v in props.items() if v not in (None, [], "")})
    return facet


def _hashes(w: Writer, owner: str, sha256: str | None, md5: str | None) -> list[dict]:
    out = []
    for method, value in (("SHA256", sha256), ("MD5", md5)):
        if value:
            out.append({"@id": w.node_id("hash", owner, method), "@type": "types:Hash",
                        "types:hashMethod": method,  # xsd:string since UCO 1.4
                        "types:hashValue": {"@type": "xsd:hexBinary", "@value": value.upper()}})
    return out


def _source(w: Writer, owner: str, row: dict) -> dict:
    props = {}
    for column, name in _SOURCE_FIELDS.items():
        value = row.get(column)
        if value is None or value == "":
            continue
        props[f"pf:{name}"] = bool(value) if column in _FLAGS else str(value)
    return _facet(w, owner, "source-facet", ["pf:SourceFacet", "core:Facet"], **props)


def _rows(store: Store, table: str) -> Iterator[dict]:
    yield from store.rows(table)


def write(store: Store, out: TextIO, case_name: str, audit_path: Path | None = None,
          tool_version: str = "") -> int:
    """Write the whole case; returns the number of graph nodes."""
    w = Writer(out, case_name)
    w.start()
    tool = w.node_id("tool", "phone-forensics", tool_version)
    w.write({"@id": tool, "@type": "tool:Tool", "core:name": "phone-forensics", "tool:version": tool_version,
             "tool:toolType": "forensic extraction and parsing"})
    evidence_records = _evidence(w, store)
    w.write({"@id": w.node_id("investigation", case_name), "@type": "investigation:Investigation",
             "core:name": case_name, "core:object": [{"@id": r} for _, r in evidence_records] or
             [{"@id": tool}]})
    _devices(w, store)
    _files(w, store)
    derived: dict[str, list[str]] = {}
    accounts: dict[tuple, str] = {}
    apps: dict[str, str] = {}
    for table, emit in (("accounts", _account), ("contacts", _contact), ("messages", _message),
                        ("calls", _call)):
        for row in _rows(store, table):
            node = emit(w, row, accounts, apps)
            derived.setdefault(row["device_id"], []).append(node)
    _actions(w, store, tool, evidence_records, derived, audit_path)
    w.end()
    return w.count


def _evidence(w: Writer, store: Store) -> list[tuple[str, str]]:
    """(device id, provenance record id) per evidence item."""
    records = []
    for row in store.rows("evidence"):
        file_id = w.node_id("evidence", row["evidence_id"])
        paths = row.get("paths") or []
        facets = [_facet(w, file_id, "file-facet", "observable:FileFacet",
                         **{"observable:filePath": paths[0] if paths else None,
                            "observable:fileName": Path(paths[0]).name if paths else None}),
                  _facet(w, file_id, "content-facet", "observable:ContentDataFacet",
                         **{"observable:sizeInBytes": row.get("media_size"),
                            "observable:hash": _hashes(w, file_id, row.get("sha256"), row.get("md5"))})]
        w.write({"@id": file_id, "@type": "observable:File", "core:name": row["evidence_id"],
                 "core:description": f"evidence ({row.get('container')}), segments: {len(paths)}",
                 "core:hasFacet": facets})
        record = w.node_id("evidence-provenance", row["evidence_id"])
        w.write({"@id": record, "@type": "investigation:ProvenanceRecord",
                 "investigation:exhibitNumber": row["device_id"], "core:object": [{"@id": file_id}]})
        records.append((row["device_id"], record))
    return records


def _devices(w: Writer, store: Store) -> None:
    for row in store.rows("devices"):
        device = w.node_id("device", row["device_id"])
        facts = row.get("facts") or {}
        facets = [_facet(w, device, "device-facet", "observable:DeviceFacet",
                         **{"observable:model": row.get("model"), "observable:serialNumber": row.get("serial"),
                            "observable:deviceType": row.get("platform")})]
        imei = facts.get("imei") if isinstance(facts, dict) else None
        if imei:
            facets.append(_facet(w, device, "mobile-facet", "observable:MobileDeviceFacet",
                                 **{"observable:IMEI": str(imei)}))
        w.write({"@id": device, "@type": "observable:Device", "core:name": row["device_id"],
                 "core:hasFacet": facets})


def _files(w: Writer, store: Store) -> None:
    for row in store.rows("files"):
        node = w.node_id("file", row["device_id"], row["id"])
        times = {"observable:modifiedTime": _dt(row.get("mtime"), row.get("mtime_encoding")),
                 "observable:accessedTime": _dt(row.get("atime"), row.get("atime_encoding")),
                 "observable:metadataChangeTime": _dt(row.get("ctime"), row.get("ctime_encoding")),
                 "observable:observableCreatedTime": _dt(row.get("crtime"), row.get("crtime_encoding"))}
        facets = [_facet(w, node, "file-facet", "observable:FileFacet",
                         **{"observable:fileName": row.get("name"), "observable:filePath": row.get("path"),
                            "observable:sizeInBytes": row.get("size"),
                            "observable:isDirectory": row.get("kind") == "dir",
                            "observable:allocationStatus": "allocated" if row.get("allocated") else "unallocated",
                            **times})]
        hashes = _hashes(w, node, row.get("sha256"), row.get("md5"))
        if hashes or row.get("mime_type"):
            facets.append(_facet(w, node, "content-facet", "observable:ContentDataFacet",
                                 **{"observable:hash": hashes, "observable:mimeType": row.get("mime_type")}))
        facets.append(_source(w, node, {"device_id": row["device_id"], "evidence_id": row.get("evidence_id"),
                                        "partition": row.get("partition"), "source_path": row.get("path"),
                                        "source_inode": row.get("inode")}))
        w.write({"@id": node, "@type": "observable:File", "core:hasFacet": facets})


def _application(w: Writer, app: str | None, apps: dict[str, str]) -> str | None:
    if not app:
        return None
    if app not in apps:
        apps[app] = w.node_id("application", app)
        w.write({"@id": apps[app], "@type": "observable:Application", "core:name": app,
                 "core:hasFacet": [_facet(w, apps[app], "application-facet", "observable:ApplicationFacet",
                                          **{"observable:applicationIdentifier": app})]})
    return apps[app]


def _party(w: Writer, row: dict, identifier: str | None, accounts: dict, apps: dict) -> str | None:
    """An account of the row's app named as the row names it (a number, a JID, a user id)."""
    if not identifier:
        return None
    key = (row["device_id"], row.get("app"), str(identifier))
    if key not in accounts:
        node = accounts[key] = w.node_id("party", *key)
        app = _application(w, row.get("app"), apps)
        facets = [_facet(w, node, "account-facet", "observable:AccountFacet",
                         **{"observable:accountIdentifier": str(identifier)})]
        if app:
            facets.append(_facet(w, node, "application-account-facet", "observable:ApplicationAccountFacet",
                                 **{"observable:application": {"@id": app}}))
        w.write({"@id": node, "@type": "observable:ApplicationAccount", "core:hasFacet": facets})
    return accounts[key]


def _message(w: Writer, row: dict, accounts: dict, apps: dict) -> str:
    node = w.node_id("message", row["device_id"], row["id"])
    sender = _party(w, row, row.get("sender"), accounts, apps)
    recipients = [p for p in (_party(w, row, r, accounts, apps) for r in row.get("recipients") or []) if p]
    app = _application(w, row.get("app"), apps)
    facet = _facet(w, node, "message-facet", "observable:MessageFacet", **{
        "observable:messageText": row.get("body"), "observable:sentTime": _dt(row.get("ts")),
        "observable:messageType": row.get("message_type"), "observable:sessionID": row.get("thread_id"),
        "observable:from": {"@id": sender} if sender else None,
        "observable:to": [{"@id": r} for r in recipients],
        "observable:application": {"@id": app} if app else None})
    w.write({"@id": node, "@type": "observable:Message", "core:hasFacet": [facet, _source(w, node, row)],
             "core:description": _direction(row)})
    return node


def _direction(row: dict) -> str | None:
    parts = [f"{row['direction']} " if row.get("direction") else "", f"on {row['platform']}"
             if row.get("platform") else ""]
    return "".join(parts).strip() or None


def _call(w: Writer, row: dict, accounts: dict, apps: dict) -> str:
    node = w.node_id("call", row["device_id"], row["id"])
    peers = [p for p in (_party(w, row, r, accounts, apps) for r in row.get("peers") or []) if p]
    app = _application(w, row.get("app"), apps)
    duration = row.get("duration_s")
    facet = _facet(w, node, "call-facet", "observable:CallFacet", **{
        "observable:startTime": _dt(row.get("ts")), "observable:callType": row.get("call_type"),
        "observable:duration": int(duration) if isinstance(duration, (int, float)) else None,
        "observable:participant": [{"@id": p} for p in peers],
        "observable:application": {"@id": app} if app else None})
    w.write({"@id": node, "@type": "observable:Call", "core:hasFacet": [facet, _source(w, node, row)],
             "core:description": _direction(row)})
    return node


def _contact(w: Writer, row: dict, accounts: dict, apps: dict) -> str:
    node = w.node_id("contact", row["device_id"], row["id"])
    phones, emails = [], []
    for n, number in enumerate(row.get("phones") or []):
        value = number.get("number") if isinstance(number, dict) else number
        if not value:
            continue
        phone = w.node_id("phone-account", row["device_id"], str(value))
        w.write({"@id": phone, "@type": "observable:ObservableObject", "core:hasFacet": [
            _facet(w, phone, "phone-facet", "observable:PhoneAccountFacet", **{"observable:phoneNumber": str(value)})]})
        phones.append({"@id": w.node_id("contact-phone", node, n), "@type": "observable:ContactPhone",
                       "observable:contactPhoneNumber": {"@id": phone}})
    for n, address in enumerate(row.get("emails") or []):
        value = address.get("address") if isinstance(address, dict) else address
        if not value:
            continue
        email = w.node_id("email-address", str(value).lower())
        w.write({"@id": email, "@type": "observable:EmailAddress", "core:hasFacet": [
            _facet(w, email, "email-facet", "observable:EmailAddressFacet",
                   **{"observable:addressValue": str(value)})]})
        emails.append({"@id": w.node_id("contact-email", node, n), "@type": "observable:ContactEmail",
                       "observable:emailAddress": {"@id": email}})
    app = _application(w, row.get("app"), apps)
    facet = _facet(w, node, "contact-facet", "observable:ContactFacet", **{
        "observable:displayName": row.get("name"), "observable:contactID": row.get("user_id"),
        "observable:contactNote": row.get("note"), "observable:contactPhone": phones,
        "observable:contactEmail": emails, "observable:sourceApplication": {"@id": app} if app else None})
    w.write({"@id": node, "@type": "observable:Contact", "core:hasFacet": [facet, _source(w, node, row)]})
    return node


def _account(w: Writer, row: dict, accounts: dict, apps: dict) -> str:
    node = w.node_id("account", row["device_id"], row["id"])
    app = _application(w, row.get("app"), apps)
    identifier = row.get("username") or row.get("user_id") or row.get("email") or row.get("phone")
    facets = [_facet(w, node, "account-facet", "observable:AccountFacet",
                     **{"observable:accountIdentifier": identifier, "observable:modifiedTime": _dt(row.get("ts"))})]
    if app:
        facets.append(_facet(w, node, "application-account-facet", "observable:ApplicationAccountFacet",
                             **{"observable:application": {"@id": app}}))
    # the platform's own account type (com.google, org.telegram.messenger) is no term of UCO's AccountTypeVocab
    node_props = {"core:name": row.get("display_name"),
                  "core:tag": [f"account type: {row['account_type']}"] if row.get("account_type") else None}
    w.write({"@id": node, "@type": "observable:ApplicationAccount", "core:hasFacet": facets + [_source(w, node, row)],
             **{k: v for k, v in node_props.items() if v}})
    return node


def _actions(w: Writer, store: Store, tool: str, evidence_records, derived: dict[str, list[str]],
             audit_path: Path | None) -> None:
    times = _ingest_times(audit_path)
    for row in store.rows("devices"):
        device_id = row["device_id"]
        result = w.node_id("derived-provenance", device_id)
        objects = [{"@id": n} for n in derived.get(device_id, [])] or [{"@id": w.node_id("device", device_id)}]
        w.write({"@id": result, "@type": "investigation:ProvenanceRecord", "investigation:exhibitNumber": device_id,
                 "core:description": "records derived from the evidence", "core:object": objects})
        start, end = times.get(device_id, (None, None))
        action = {"@id": w.node_id("ingest", device_id), "@type": "investigation:InvestigativeAction",
                  "core:name": "ingest", "core:description": f"status: {row.get('status')}",
                  "action:instrument": [{"@id": tool}],
                  "action:object": [{"@id": r} for d, r in evidence_records if d == device_id],
                  "action:result": [{"@id": result}]}
        if start:
            action["action:startTime"] = _dt(start)
        if end:
            action["action:endTime"] = _dt(end)
        w.write(action)


def _ingest_times(audit_path: Path | None) -> dict[str, tuple[str | None, str | None]]:
    """The last ingest's start and end time per device, from the case's audit log."""
    times: dict[str, list] = {}
    if not audit_path or not audit_path.exists():
        return {}
    with open(audit_path, encoding="utf-8", errors="replace") as log:
        for line in log:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            device, action, when = entry.get("device_id"), entry.get("action"), entry.get("time")
            if not device or not when:
                continue
            if action == "ingest start":
                times[device] = [when, None]
            elif action == "ingest end" and device in times:
                times[device][1] = when
    return {d: (s, e) for d, (s, e) in times.items()}
