"""The iPhone address book: ``/private/var/mobile/Library/AddressBook/AddressBook.sqlitedb``.

``ABPerson`` holds names, organization and notes; ``ABMultiValue`` one row per phone number, e-mail, URL, ... of a
person, its ``property`` saying which: 3 phone, 4 e-mail, 5 postal address, 13 instant messaging, 22 URL, 23 related
name, 46 social profile. Its ``label`` points into ``ABMultiValueLabel`` (built-in labels are wrapped as
``_$!<Mobile>!$_``, reported as ``mobile``). Structured values (addresses, IM accounts, social profiles) keep their parts in
``ABMultiValueEntry`` (``parent_id`` = the multivalue's ``UID``) keyed through ``ABMultiValueEntryKey`` ('username',
'service', 'Street', ...). ``CreationDate`` and ``ModificationDate`` are Cocoa seconds.
"""
from __future__ import annotations

import dataclasses

from artifacts import timestamps
from artifacts.records import Contact
from parsers.decoders.apple_labels import clean_label
from parsers.framework import optional_columns, parser, tables

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "iLEAPP scripts/artifacts/addressBook.py"

PHONE, EMAIL, ADDRESS, IM, URL, RELATED, SOCIAL = 3, 4, 5, 13, 22, 23, 46
_NAME_PARTS = ("Prefix", "First", "Middle", "Last", "Suffix")
_OPTIONAL = (*_NAME_PARTS, "Organization", "Department", "JobTitle", "Nickname", "Note", "DisplayName",
             "CreationDate", "ModificationDate", "Birthday", "guid")


@parser(name="ios-contacts", app="com.apple.MobileAddressBook", platform="Contacts",
        paths=["*/mobile/Library/AddressBook/AddressBook.sqlitedb"],
        requires={"ABPerson": {"ROWID", "First", "Last"},
                  "ABMultiValue": {"UID", "record_id", "property", "label", "value"}})
def contacts(db, ctx):
    """One record per person: names, phone numbers, e-mail addresses, IM and social handles."""
    values = _multivalues(db)
    optional = optional_columns(db, "ABPerson", [c for c in _OPTIONAL if c not in ("First", "Last")])
    for row in db.execute(f"SELECT ROWID, First, Last, {optional} FROM ABPerson ORDER BY ROWID"):
        mine = values.get(row["ROWID"], [])
        name = " ".join(row[p] for p in _NAME_PARTS if row[p]) or row["DisplayName"] or None
        extra = {key: row[col] for col, key in (("Nickname", "nickname"), ("JobTitle", "job_title"),
                                                 ("Department", "department"), ("Birthday", "birthday_raw"),
                                                 ("guid", "guid")) if row[col] not in (None, "")}
        for prop, key in ((URL, "urls"), (ADDRESS, "addresses"), (RELATED, "related_names")):
            found = [_labelled(v) for v in mine if v["property"] == prop]
            if found:
                extra[key] = found
        labels = [{"property": v["property"], "label": v["label"], "value": v["value"]}
                  for v in mine if v["label"] and v["property"] in (PHONE, EMAIL)]
        if labels:
            extra["labels"] = labels
        modified = timestamps.cocoa_s(row["ModificationDate"])
        if modified:
            extra["modified_ts"] = dataclasses.asdict(modified)
        yield Contact(
            app=ctx.app, platform=ctx.platform, name=name,
            phones=[v["value"] for v in mine if v["property"] == PHONE and v["value"]],
            emails=[v["value"] for v in mine if v["property"] == EMAIL and v["value"]],
            handles=[_handle(v) for v in mine if v["property"] in (IM, SOCIAL)],
            organization=row["Organization"] or None, note=row["Note"] or None,
            ts=timestamps.cocoa_s(row["CreationDate"]), extra=extra, prov=ctx.prov("ABPerson", row["ROWID"]),
        )


def _multivalues(db) -> dict[int, list[dict]]:
    """record_id → its multivalues in UID order, each with the label text and structured entries resolved."""
    present = tables(db)
    labels = _lookup(db, "ABMultiValueLabel") if "abmultivaluelabel" in present else {}
    entries: dict[int, dict] = {}
    if {"abmultivalueentry", "abmultivalueentrykey"} <= present:
        keys = _lookup(db, "ABMultiValueEntryKey")
        for parent, key, value in db.execute("SELECT parent_id, key, value FROM ABMultiValueEntry "
                                             "ORDER BY parent_id, key"):
            entries.setdefault(parent, {})[keys.get(key, f"key {key}")] = value
    found: dict[int, list[dict]] = {}
    for uid, record, prop, label, value in db.execute("SELECT UID, record_id, property, label, value "
                                                      "FROM ABMultiValue ORDER BY record_id, UID"):
        found.setdefault(record, []).append({"uid": uid, "property": prop, "label": clean_label(labels.get(label)),
                                             "value": value, "entries": entries.get(uid, {})})
    return found


def _lookup(db, table: str) -> dict[int, str]:
    return {rowid: value for rowid, value in db.execute(f"SELECT rowid, value FROM {table}")}


def _labelled(value: dict) -> dict:
    item = {"label": value["label"], "value": value["value"]}
    if value["entries"]:
        item["entries"] = value["entries"]
    return item


def _handle(value: dict) -> dict:
    """An IM account or social profile: its kind, label and parts (service, username, url, ...) as stored."""
    handle = {"kind": "im" if value["property"] == IM else "social profile", "label": value["label"]}
    if value["value"]:
        handle["value"] = value["value"]
    handle.update(value["entries"])
    return handle
