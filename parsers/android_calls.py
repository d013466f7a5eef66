"""Android's system call log: phone calls and the VoIP calls apps (WhatsApp, Telegram, Meet, ...) report to it.

Files:
- ``calllog.db`` ``calls`` table of the contacts provider (Android 7+; AOSP and Samsung provider paths);
- the ``calls`` table inside ``contacts2.db``, where the call log lived before Android 7 (the provider moves it to
  calllog.db and drops it on upgrade, so a current contacts2.db has none: that run says "unsupported version");
- Samsung's ``logs.db`` ``logs`` table (LogsProvider), which also logs messages: only its call ``logtype`` rows
  are calls.

A Samsung ``calls`` table may also carry a ``logtype`` column; rows whose logtype is set and is not a call type are
skipped.

Times: ``date`` is Unix milliseconds (call start); ``duration`` is seconds; ``last_modified`` Unix milliseconds.
``type``: 1 incoming, 2 outgoing, 3 missed, 4 voicemail, 5 rejected, 6 blocked, 7 answered externally.
``features`` bit 0x1 is video. A call placed through a self-managed VoIP app names that app in
``subscription_component_name`` ("<package>/<ConnectionService class>"): that package is kept in
``extra["phone_account_app"]`` and, when known (WhatsApp, Telegram, ...), gives the record its platform.
"""
from __future__ import annotations

import dataclasses

from artifacts import timestamps
from artifacts.records import Call
from parsers.android_accounts import platform_for
from parsers.framework import columns, parser
from artifacts.sql_quoting import ident

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = ("AOSP CallLog.Calls provider columns; ALEAPP scripts/artifacts/calllog.py; "
          "plaso test_data/android/contacts2.db (real file)")

APP = "com.android.providers.contacts"
SAMSUNG_APP = "com.samsung.android.providers.contacts"
PROVIDERS = (APP, SAMSUNG_APP)

# CallLog.Calls.TYPE → (direction, answered, status)
_TYPES = {
    1: ("incoming", True, "answered"),
    2: ("outgoing", None, "dialed"),
    3: ("incoming", False, "missed"),
    4: ("incoming", False, "voicemail"),
    5: ("incoming", False, "rejected"),
    6: ("incoming", False, "blocked"),
    7: ("incoming", None, "answered externally"),
}
_FEATURES_VIDEO = 0x1
_PRESENTATION = {2: "restricted", 3: "unknown", 4: "payphone", 5: "unavailable"}
# Samsung logtypes its own call log view lists as calls; other logtypes (200 MMS, 300 SMS, ...) are messages
_SAMSUNG_CALL_LOGTYPES = {100, 110, 150, 500, 800, 900, 950, 1000, 1050, 1100, 1150, 1350, 1400, 1450, 1500}
# phone-account packages of the telephony stack itself, as opposed to a VoIP app
_TELEPHONY = {"com.android.phone", "com.android.server.telecom", "com.google.android.dialer",
              "com.samsung.android.incallui", "com.samsung.android.dialer"}

# columns copied into extra when present and non-empty, under these names
_EXTRA_COLUMNS = {
    "countryiso": "country_iso", "geocoded_location": "geocoded_location", "normalized_number": "normalized_number",
    "formatted_number": "formatted_number", "numberlabel": "number_label", "via_number": "via_number",
    "post_dial_digits": "post_dial_digits", "phone_account_address": "phone_account_address",
    "subscription_component_name": "phone_account_component", "subscription_id": "phone_account_id",
    "call_screening_app_name": "call_screening_app", "call_screening_component_name": "call_screening_component",
    "block_reason": "block_reason", "missed_reason": "missed_reason", "transcription": "voicemail_transcription",
    "_data": "voicemail_file", "voicemail_uri": "voicemail_uri", "data_usage": "data_usage_bytes",
    "deleted": "deleted", "is_read": "read", "new": "new", "logtype": "samsung_logtype",
    "account_name": "account_name", "cnap_name": "cnap_name", "subject": "subject", "location": "location",
    "asserted_display_name": "asserted_display_name",
}
_ZERO_MEANS_UNSET = {"block_reason", "missed_reason", "deleted", "data_usage", "new"}

_REQUIRED = {"_id", "number", "date", "duration", "type"}


@parser(name="android-calllog", app=APP, platform="Phone",
        paths=[f"*/{p}/databases/calllog.db" for p in PROVIDERS], requires={"calls": _REQUIRED})
def calllog(db, ctx):
    """Call log (calllog.db calls table, Android 7+)."""
    return _calls(db, ctx, "calls")


@parser(name="android-calllog-legacy", app=APP, platform="Phone",
        paths=[f"*/{p}/databases/contacts2.db" for p in PROVIDERS], requires={"calls": _REQUIRED})
def calllog_legacy(db, ctx):
    """Call log kept inside contacts2.db before Android 7."""
    return _calls(db, ctx, "calls")


@parser(name="samsung-logs-calls", app="com.sec.android.provider.logsprovider", platform="Phone",
        paths=["*/com.sec.android.provider.logsprovider/databases/logs.db"],
        requires={"logs": _REQUIRED | {"logtype"}})
def samsung_logs(db, ctx):
    """Calls in Samsung's LogsProvider logs.db (the call logtypes of its logs table)."""
    return _calls(db, ctx, "logs")


def _calls(db, ctx, table: str):
    present = columns(db, table)
    optional = sorted((set(_EXTRA_COLUMNS) | {"features", "name", "presentation", "last_modified"}) & present)
    select = ", ".join(["_id", "number", "date", "duration", "type", *optional])
    app = SAMSUNG_APP if f"/{SAMSUNG_APP}/" in ctx.source.path.lower() else ctx.app
    for row in db.execute(f"SELECT {select} FROM {ident(table)} ORDER BY _id"):
        values = dict(zip(row.keys(), row))
        if values.get("logtype") is not None and values["logtype"] not in _SAMSUNG_CALL_LOGTYPES:
            continue
        direction, answered, status = _TYPES.get(values["type"], (None, None, f"type {values['type']}"))
        features, duration, number = values.get("features"), values["duration"], values["number"]
        extra = _extra(values)
        account_app = _phone_account_app(values.get("subscription_component_name"))
        if account_app:
            extra["phone_account_app"] = account_app
        yield Call(
            app=app, platform=platform_for(account_app) or ctx.platform,
            peers=[number] if number else [], peer_name=values.get("name") or None,
            direction=direction, answered=answered, status=status,
            call_type=("video" if features & _FEATURES_VIDEO else "audio") if isinstance(features, int) else None,
            duration_s=duration if isinstance(duration, (int, float)) else None,
            ts=timestamps.unix_ms(values["date"]), extra=extra, prov=ctx.prov(table, values["_id"]),
        )


def _extra(values: dict) -> dict:
    extra = {}
    for column, key in _EXTRA_COLUMNS.items():
        value = values.get(column)
        if value in (None, "") or (column in _ZERO_MEANS_UNSET and value == 0):
            continue
        extra[key] = value
    if values.get("presentation") in _PRESENTATION:
        extra["number_presentation"] = _PRESENTATION[values["presentation"]]
    if values.get("features"):
        extra["features"] = values["features"]
    modified = timestamps.unix_ms(values.get("last_modified"))
    if modified:
        extra["last_modified"] = dataclasses.asdict(modified)
    return extra


def _phone_account_app(component: str | None) -> str | None:
    """The package of a call's phone account (its ConnectionService) when that is an app, such as a VoIP
    messenger, rather than the telephony stack itself."""
    if not component or "/" not in component:
        return None
    package = component.split("/", 1)[0]
    return None if package in _TELEPHONY else package
