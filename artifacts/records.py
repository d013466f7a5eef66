"""Typed artifact records, each with one shared provenance part.

A record says what the evidence means (a message, a call, ...), independent of the app or file it came from. Its
``prov`` says exactly where it came from. The store derives table columns from these dataclasses, so adding a field
here is the only step needed to store it: a ``TimeValue`` field ``x`` becomes columns ``x``, ``x_raw`` and
``x_encoding``; lists and dicts become JSON text; the provenance fields become columns of their own.
"""
from __future__ import annotations

import dataclasses
import functools
import typing
from dataclasses import dataclass, field
from typing import ClassVar

from artifacts.timestamps import TimeValue


@dataclass(kw_only=True)
class Provenance:
    """Where one record came from, down to the row: device, evidence layer, file, table and row, parser; and
    whether the row was only in the -wal, came from a recovered copy, or from a deleted (unallocated) file, and
    whether it survives only in the main database file because the -wal deleted or replaced it (``wal_deleted``);
    for a row carved from deleted SQLite content: where it was found (``recovered_from``, e.g. ``freelist page 7``),
    the source columns that could not be recovered (``missing_fields``, a JSON list) and whether it is an older
    version of a row that is still live under the same key (``older_version``)."""

    device_id: str = ""
    evidence_id: str = ""
    partition: str = ""
    source_path: str = ""
    source_inode: str | None = None
    source_table: str | None = None
    source_row: str | None = None
    parser: str = ""
    parser_version: str = ""
    from_wal: bool = False
    recovered: bool = False
    source_deleted: bool = False
    wal_deleted: bool = False
    recovered_from: str | None = None
    missing_fields: str | None = None
    older_version: bool = False


@dataclass(kw_only=True)
class Record:
    """Base of all records. ``app`` is the Android package or iOS bundle id the data belongs to, or ``system``."""

    TABLE: ClassVar[str] = ""
    app: str
    ts: TimeValue | None = None
    extra: dict = field(default_factory=dict)
    prov: Provenance = field(default_factory=Provenance)


@dataclass(kw_only=True)
class Message(Record):
    """A chat message, SMS or MMS. ``direction`` is ``incoming``, ``outgoing`` or None when the source cannot say."""

    TABLE: ClassVar[str] = "messages"
    platform: str | None = None
    thread_id: str | None = None
    thread_name: str | None = None
    sender: str | None = None
    sender_name: str | None = None
    recipients: list = field(default_factory=list)
    direction: str | None = None
    body: str | None = None
    message_type: str | None = None
    attachments: list = field(default_factory=list)
    status: str | None = None
    deleted: bool = False
    received_ts: TimeValue | None = None
    read_ts: TimeValue | None = None


@dataclass(kw_only=True)
class Call(Record):
    """A call log entry. ``call_type`` is ``audio`` or ``video``; ``answered`` is None when the source cannot say."""

    TABLE: ClassVar[str] = "calls"
    platform: str | None = None
    peers: list = field(default_factory=list)
    peer_name: str | None = None
    direction: str | None = None
    call_type: str | None = None
    duration_s: float | None = None
    answered: bool | None = None
    status: str | None = None


@dataclass(kw_only=True)
class Contact(Record):
    """An address-book or in-app contact; ``ts`` is its creation or last-update time where the app keeps one."""

    TABLE: ClassVar[str] = "contacts"
    platform: str | None = None
    name: str | None = None
    phones: list = field(default_factory=list)
    emails: list = field(default_factory=list)
    handles: list = field(default_factory=list)
    user_id: str | None = None
    organization: str | None = None
    note: str | None = None


@dataclass(kw_only=True)
class Account(Record):
    """An account configured on the device. Credentials are never part of a record."""

    TABLE: ClassVar[str] = "accounts"
    platform: str | None = None
    account_type: str | None = None
    username: str | None = None
    user_id: str | None = None
    display_name: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(kw_only=True)
class InstalledApp(Record):
    """An installed (or once installed) application; ``ts`` is the install time."""

    TABLE: ClassVar[str] = "apps"
    package: str
    name: str | None = None
    version: str | None = None
    installer: str | None = None
    updated_ts: TimeValue | None = None


@dataclass(kw_only=True)
class WebVisit(Record):
    """One visit to a URL in a browser or web view."""

    TABLE: ClassVar[str] = "web_visits"
    browser: str | None = None
    url: str
    title: str | None = None
    visit_type: str | None = None
    visit_count: int | None = None
    duration_s: float | None = None


@dataclass(kw_only=True)
class SearchTerm(Record):
    """A term typed into a search box or address bar."""

    TABLE: ClassVar[str] = "searches"
    term: str
    url: str | None = None


@dataclass(kw_only=True)
class Download(Record):
    """A file downloaded by a browser or download manager; ``ts`` is the start time."""

    TABLE: ClassVar[str] = "downloads"
    url: str | None = None
    target_path: str | None = None
    size: int | None = None
    mime_type: str | None = None
    state: str | None = None
    end_ts: TimeValue | None = None


@dataclass(kw_only=True)
class Media(Record):
    """A photo or video with what its metadata says; ``ts`` is the capture time (EXIF times carry no zone:
    ``ts`` is only set when the source gives UTC or an offset, otherwise the local text stays in ``local_time``)."""

    TABLE: ClassVar[str] = "media"
    media_path: str
    sha256: str | None = None
    mime_type: str | None = None
    camera_make: str | None = None
    camera_model: str | None = None
    local_time: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None


@dataclass(kw_only=True)
class Location(Record):
    """A place the device or a message says someone was at."""

    TABLE: ClassVar[str] = "locations"
    latitude: float
    longitude: float
    altitude: float | None = None
    accuracy_m: float | None = None
    label: str | None = None
    source_kind: str | None = None


@dataclass(kw_only=True)
class DeviceFact(Record):
    """A fact about the device itself found in its files (model, OS version, serial, phone number, time zone...).

    ``key`` is one of DEVICE_FACT_KEYS where it has a column on the device row; other keys are kept as facts.
    """

    TABLE: ClassVar[str] = "device_facts"
    key: str
    value: str | None = None


DEVICE_FACT_KEYS = ("platform", "model", "os_version", "serial", "udid", "phone_number", "device_name",
                    "time_zone")

RECORD_TYPES: tuple[type[Record], ...] = (
    Message, Call, Contact, Account, InstalledApp, WebVisit, SearchTerm, Download, Media, Location, DeviceFact,
)


@functools.cache
def column_kinds(record_type: type[Record]) -> dict[str, str]:
    """Field name → kind (``text``, ``int``, ``float``, ``bool``, ``time``, ``json``, ``prov``) for a record type.

    Cached: ``typing.get_type_hints`` evaluates every annotation string again on each call, and this is asked for
    each parser run. Callers must not modify the returned dict."""
    hints = typing.get_type_hints(record_type)
    kinds: dict[str, str] = {}
    for f in dataclasses.fields(record_type):
        kinds[f.name] = _kind(hints[f.name])
    return kinds


def _kind(hint) -> str:
    args = set(typing.get_args(hint)) - {type(None)}
    base = next(iter(args)) if args else hint
    if base is Provenance:
        return "prov"
    if base is TimeValue:
        return "time"
    origin = typing.get_origin(base) or base
    if origin in (list, dict):
        return "json"
    return {str: "text", int: "int", float: "float", bool: "bool"}.get(base, "text")
