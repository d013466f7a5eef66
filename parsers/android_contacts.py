"""Android's address book: the contacts provider's ``contacts2.db`` (AOSP and Samsung provider paths) and
``profile.db`` (the device owner's own "Me" card, same schema).

One record per **raw contact**, not per aggregated contact: a raw contact is what one source put on the phone
(typed in by the user, synced from a Google account, written by WhatsApp or Telegram for each of their users), and
its account says which. Aggregation is a display-time merge that would hide which app said what; the aggregate's id
is kept as ``extra["contact_id"]`` so records can be grouped back.

Tables: ``raw_contacts`` (``account_id`` → ``accounts``; up to Android 4.0, before the accounts table,
``account_name``/``account_type``/``data_set`` on the row itself; ``deleted`` = 1 marks a contact deleted on the
phone but not yet synced away),
``data`` (one row per detail, its kind named through ``mimetype_id`` → ``mimetypes``, its writer through
``package_id`` → ``packages``), ``contacts`` (aggregates).
Detail kinds read: name, phone_v2 (``data1`` as typed, ``data4`` E.164), email_v2, im (``data5`` protocol, ``data6``
custom protocol name), nickname, organization (``data4`` title), note, sip_address, identity, postal-address_v2,
website, contact_event, relation. Any other kind is an app's own (``vnd.android.cursor.item/vnd.com.whatsapp.profile``
with the WhatsApp JID in ``data1``, Telegram's ``...vnd.org.telegram.messenger.android.profile`` with the user id):
kept as a handle naming that app.

Times: ``contacts.contact_last_updated_timestamp`` (Unix ms, the aggregate's last change) is ``ts``;
``last_time_contacted`` (Unix ms) goes to ``extra``.
"""
from __future__ import annotations

import dataclasses
from collections import defaultdict

from artifacts import timestamps
from artifacts.records import Contact
from parsers.android_accounts import platform_for
from parsers.framework import columns, optional_columns, parser, tables

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = ("AOSP ContactsContract (raw_contacts, data, mimetypes); ALEAPP scripts/artifacts/contacts.py; "
          "plaso test_data/android/contacts2.db (real file)")

APP = "com.android.providers.contacts"
SAMSUNG_APP = "com.samsung.android.providers.contacts"
PROVIDERS = (APP, SAMSUNG_APP)

_ITEM = "vnd.android.cursor.item/"
# CommonDataKinds.Im.PROTOCOL_*
_IM_PROTOCOLS = {0: "AIM", 1: "MSN", 2: "Yahoo", 3: "Skype", 4: "QQ", 5: "Google Talk", 6: "ICQ", 7: "Jabber",
                 8: "NetMeeting"}
# built-in kinds that carry nothing for a record (the photo blob, group membership ids)
_IGNORED = {_ITEM + "photo", _ITEM + "group_membership"}


@parser(name="android-contacts", app=APP, platform="Android Contacts",
        paths=[f"*/{p}/databases/{db}" for p in PROVIDERS for db in ("contacts2.db", "profile.db")],
        requires={"raw_contacts": {"_id", "deleted"}, "data": {"_id", "raw_contact_id", "mimetype_id", "data1"},
                  "mimetypes": {"_id", "mimetype"}})
def contacts(db, ctx):
    """Raw contacts with their phones, emails, app handles and the account that synced each."""
    raw_cols = columns(db, "raw_contacts")
    accounts = _accounts(db, raw_cols)
    details = _details(db)
    updated = _aggregate_updates(db)
    wanted = {"contact_id", "sourceid", "display_name", "starred", "send_to_voicemail", "account_id", "account_name",
              "account_type", "data_set", "x_times_contacted", "x_last_time_contacted", "times_contacted",
              "last_time_contacted"}
    select = ", ".join(["_id", "deleted", *sorted(wanted & raw_cols)])
    app = SAMSUNG_APP if f"/{SAMSUNG_APP}/" in ctx.source.path.lower() else ctx.app
    profile = ctx.source.path.lower().endswith("/profile.db")
    for row in db.execute(f"SELECT {select} FROM raw_contacts ORDER BY _id"):
        raw = dict(zip(row.keys(), row))
        account_name, account_type, data_set = accounts.get(raw.get("account_id"),
                                                            (raw.get("account_name"), raw.get("account_type"),
                                                             raw.get("data_set")))
        fields = _contact(details.get(raw["_id"], []), account_type)
        extra = {k: v for k, v in {
            "account_type": account_type, "account_name": account_name, "account_data_set": data_set,
            "account_platform": platform_for(account_type), "contact_id": raw.get("contact_id"),
            "source_id": raw.get("sourceid"), "deleted": True if raw["deleted"] == 1 else None,
            "starred": raw.get("starred") or None, "send_to_voicemail": raw.get("send_to_voicemail") or None,
            "times_contacted": raw.get("x_times_contacted", raw.get("times_contacted")) or None,
            "last_time_contacted": _time(raw.get("x_last_time_contacted", raw.get("last_time_contacted"))),
            "profile": True if profile else None,
        }.items() if v is not None}
        extra.update(fields.pop("extra"))
        name = fields.pop("name")
        yield Contact(app=app, platform=ctx.platform, name=raw.get("display_name") or name, extra=extra,
                      ts=timestamps.unix_ms(updated.get(raw.get("contact_id"))),
                      prov=ctx.prov("raw_contacts", raw["_id"]), **fields)


def _accounts(db, raw_cols: set[str]) -> dict:
    """accounts._id → (name, type, data_set); empty for schemas that keep the account on the raw contact."""
    if "account_id" not in raw_cols or "accounts" not in tables(db):
        return {}
    present = columns(db, "accounts")
    data_set = "data_set" if "data_set" in present else "NULL"
    return {r[0]: (r[1], r[2], r[3]) for r in
            db.execute(f"SELECT _id, account_name, account_type, {data_set} FROM accounts ORDER BY _id")}


def _details(db) -> dict[int, list[dict]]:
    """data rows per raw contact, in row order, with their kind and writing package."""
    data_cols = columns(db, "data")
    fields = optional_columns(db, "data", ("data1", "data2", "data3", "data4", "data5", "data6"), alias="d")
    packages = "packages" in tables(db) and "package_id" in data_cols
    package = "p.package" if packages else "NULL"
    join = "LEFT JOIN packages p ON p._id = d.package_id" if packages else ""
    grouped = defaultdict(list)
    for row in db.execute(f"SELECT d.raw_contact_id, m.mimetype, {package} AS package, {fields} FROM data d "
                          f"LEFT JOIN mimetypes m ON m._id = d.mimetype_id {join} ORDER BY d.raw_contact_id, d._id"):
        grouped[row["raw_contact_id"]].append(dict(zip(row.keys(), row)))
    return grouped


def _aggregate_updates(db) -> dict:
    if "contact_last_updated_timestamp" not in columns(db, "contacts"):
        return {}
    return dict(db.execute("SELECT _id, contact_last_updated_timestamp FROM contacts"))


def _contact(rows: list[dict], account_type: str | None) -> dict:
    """Contact fields (and extra details) from one raw contact's data rows."""
    name = organization = None
    phones, emails, notes, handles = [], [], [], []
    extra = defaultdict(list)
    app_handles = {}
    for d in rows:
        kind, value = d["mimetype"] or "", d["data1"]
        if value in (None, "") or kind in _IGNORED:
            continue
        value = str(value)
        if kind == _ITEM + "name":
            name = name or value
        elif kind == _ITEM + "phone_v2":
            _add(phones, value)
            if d["data4"]:
                _add(extra["phones_e164"], d["data4"])
        elif kind == _ITEM + "email_v2":
            _add(emails, value)
        elif kind == _ITEM + "im":
            protocol = d["data6"] if str(d["data5"]) == "-1" else _IM_PROTOCOLS.get(_int(d["data5"]), d["data5"])
            _add(handles, {"kind": "im", "protocol": protocol, "value": value})
        elif kind == _ITEM + "nickname":
            _add(handles, {"kind": "nickname", "value": value})
        elif kind == _ITEM + "sip_address":
            _add(handles, {"kind": "sip", "value": value})
        elif kind == _ITEM + "identity":
            _add(handles, {"kind": "identity", "namespace": d["data2"], "value": value})
        elif kind == _ITEM + "organization":
            organization = organization or value
            if d["data4"]:
                _add(extra["job_titles"], d["data4"])
        elif kind == _ITEM + "note":
            _add(notes, value)
        elif kind == _ITEM + "postal-address_v2":
            _add(extra["addresses"], value)
        elif kind == _ITEM + "website":
            _add(extra["websites"], value)
        elif kind == _ITEM + "contact_event":
            _add(extra["events"], {"date": value, "type": _int(d["data2"])})
        elif kind == _ITEM + "relation":
            _add(extra["relations"], value)
        else:  # an app's own kind: one handle per app and value, listing every kind it was written under
            owner = d["package"] or account_type
            handle = app_handles.get((owner, value))
            if handle is None:
                handle = app_handles[(owner, value)] = {"kind": "app", "app": owner, "platform": platform_for(owner),
                                                         "value": value, "label": d["data3"], "mimetypes": []}
                handles.append(handle)
            if kind:  # a data row whose mimetype row is gone (damaged database) is kept, unnamed
                _add(handle["mimetypes"], kind)
    return {"name": name, "phones": phones, "emails": emails, "handles": handles, "organization": organization,
            "note": "\n".join(notes) or None, "extra": dict(extra)}


def _add(items: list, item) -> None:
    if item not in items:
        items.append(item)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _time(raw) -> dict | None:
    decoded = timestamps.unix_ms(raw)
    return dataclasses.asdict(decoded) if decoded else None
