"""Sightings of one device written into its store: roles, ties, the region fallback from contacts, and one bad record
failing only itself."""
from __future__ import annotations

import json

from artifacts.sightings import record_device
from artifacts.store import Store

PROV = {"device_id": "d1", "evidence_id": "d1:e1", "partition": "p1", "source_table": "t", "parser": "test"}


def _contact(row: int, phones, emails=(), name="Someone", platform=None):
    return {**PROV, "source_path": "/data/contacts2.db", "source_row": str(row), "app": "com.android.contacts",
            "platform": platform, "name": name, "phones": phones if isinstance(phones, str) else json.dumps(phones),
            "emails": json.dumps(list(emails)), "handles": "[]"}


def _sightings(store):
    return [(r["artifact"], r["record_id"], r["role"], r["kind"], r["identifier"], r["written_as"], r["tied_to"])
            for r in store.rows("sightings")]


def test_region_from_contacts_when_the_device_says_nothing_and_ties_per_card(tmp_path):
    store = Store(tmp_path / "shard.sqlite", scratch=True)
    store.insert_rows("contacts", [
        _contact(1, ["+66 81 234 5678", "081 234 5679"], ["Nok@Example.COM"]),
        _contact(2, ["+66 81 234 5670"]),
        _contact(3, ["+855 12 345 678"]),
    ])
    store.insert_rows("messages", [{**PROV, "source_path": "/data/mmssms.db", "source_row": "9", "app": "sms",
                                    "platform": "SMS", "sender": "081 234 5679", "recipients": "[]",
                                    "attachments": "[]", "body": "pay TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t now"}])
    assert record_device(store, "d1", {"locale": "en"}) == 7
    device = next(store.rows("devices"))
    assert (device["default_region"], device["region_reason"]) == (
        "TH", "majority of contacts' international numbers (2 of 3)")
    assert _sightings(store) == [
        ("contacts", 1, "contact", "phone", "+66812345678", "+66 81 234 5678", ["+66812345679", "nok@example.com"]),
        ("contacts", 1, "contact", "phone", "+66812345679", "081 234 5679", ["+66812345678", "nok@example.com"]),
        ("contacts", 1, "contact", "email", "nok@example.com", "Nok@Example.COM", ["+66812345678", "+66812345679"]),
        ("contacts", 2, "contact", "phone", "+66812345670", "+66 81 234 5670", None),
        ("contacts", 3, "contact", "phone", "+85512345678", "+855 12 345 678", None),
        ("messages", 1, "sender", "phone", "+66812345679", "081 234 5679", None),
        ("messages", 1, "mentioned", "wallet", "tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
         "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", None),
    ]
    store.close()


def test_one_bad_record_fails_only_itself(tmp_path):
    store = Store(tmp_path / "shard.sqlite", scratch=True)
    store.insert_rows("contacts", [_contact(1, "not json"), _contact(2, ["0931114562"])])
    assert record_device(store, "d1", {"time_zone": "Europe/Kyiv"}) == 1
    assert [(r["identifier"], r["source_row"]) for r in store.rows("sightings")] == [("+380931114562", "2")]
    runs = list(store.rows("parser_runs"))
    assert [(r["parser"], r["outcome"], r["records"]) for r in runs] == [("sightings", "error", 1)]
    assert runs[0]["message"].startswith("error: 1 records gave no sightings; first: contacts 1: JSONDecodeError")
    store.close()
