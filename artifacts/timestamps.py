"""Decoding of on-disk time values into UTC, keeping the raw value and its encoding beside the result.

Each encoding has exactly one decoder. Nothing here guesses a unit from the size of a number: a parser names the
encoding its app uses. Where an app itself is ambiguous (iOS sms.db stores Cocoa seconds on old releases and Cocoa
nanoseconds on newer ones) the parser calls `cocoa_auto`, whose encoding name says that a guess was made.

Decoded values are formatted with a fixed six fractional digits and a trailing ``Z`` so that the text sorts in time
order. Arithmetic is done on integers (microseconds) so that no float rounding creeps into the result.

A value that is set but cannot be a time the store can write (before 1601 or after 9999, infinite, not a number, a
text that does not parse, a text time with no zone) is never dropped: the decoder returns a ``TimeValue`` with no
``iso``, the raw value, and the encoding with what is wrong in brackets (``unix_ms(out of range)``,
``cocoa_ns(by magnitude, out of range)``, ``unix_s(not a number)``, ``iso8601(unreadable)``,
``iso8601(local time, zone unknown)``). Such a value is false (``if ts:`` reads it as no time) but a record keeps
it: its UTC column stays empty, its raw value and encoding are stored. Zero, None and empty text mean "not set" and
decode to None.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from decimal import Decimal, DecimalException

_UTC = _dt.timezone.utc
_UNIX_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_UTC)
_MIN = _dt.datetime(1601, 1, 1, tzinfo=_UTC)
_MAX = _dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=_UTC)

COCOA_OFFSET_S = 978307200  # 2001-01-01 minus 1970-01-01
WEBKIT_OFFSET_S = 11644473600  # 1970-01-01 minus 1601-01-01


OUT_OF_RANGE = "out of range"  # outside 1601-01-01 .. 9999-12-31 (or infinite)
NOT_A_NUMBER = "not a number"  # a numeric encoding given text, bytes or NaN that are no number
UNREADABLE = "unreadable"  # a text encoding given text that does not parse


@dataclass(frozen=True)
class TimeValue:
    """A decoded instant: ``iso`` is UTC ISO-8601 (``...T..:..:..ffffffZ``), ``raw`` the stored value as text.

    ``iso`` is None for a value that could not be decoded (its ``encoding`` says why): such a value is false, so
    ``x.iso if x else None`` and ``a or b`` treat it as no time, while a record field holding it keeps the raw
    value."""

    iso: str | None
    raw: str
    encoding: str

    def __bool__(self) -> bool:
        return self.iso is not None


def undecoded(raw, encoding: str, why: str) -> TimeValue:
    """A set value that is no time the store can write: no ``iso``, the raw value kept, ``why`` in the encoding
    (``unix_ms(out of range)``; inside brackets the encoding already has: ``cocoa_ns(by magnitude, out of range)``)."""
    marked = f"{encoding[:-1]}, {why})" if encoding.endswith(")") else f"{encoding}({why})"
    return TimeValue(None, _raw_text(raw), marked)


def format_utc(moment: _dt.datetime) -> str:
    """ISO-8601 in UTC with microseconds and ``Z``; the one format every stored time uses."""
    m = moment.astimezone(_UTC)
    return (f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
            f".{m.microsecond:06d}Z")


_NAN = Decimal("NaN")
_HUGE = Decimal(10) ** 24  # beyond 9999 in every unit decoded here (FILETIME's 9999 is 2.5e18): no arithmetic on it


def _number(raw) -> Decimal | None:
    """The value as a Decimal; None for "not set" (None, a bool, empty text); ``_NAN`` for what is no number."""
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, (bytes, bytearray)):
        try:
            raw = raw.decode("ascii")
        except UnicodeDecodeError:
            return _NAN
    text = str(raw).strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except (DecimalException, ValueError):
        return _NAN
    return _NAN if value.is_nan() else value


def _from_epoch(raw, encoding: str, epoch_offset_s: int, units_per_second: int) -> TimeValue | None:
    """Decode ``raw`` counted in 1/units_per_second seconds from an epoch ``epoch_offset_s`` after 1970.

    A value of zero means "not set" in every app format we read, so it decodes to None rather than to the epoch.
    A value outside 1601..9999, infinite or no number is kept undecoded (``undecoded``).
    """
    if type(raw) is int:  # the common case, kept exact and fast
        if raw == 0:
            return None
        micros = raw * 1_000_000 // units_per_second
    else:
        value = _number(raw)
        if value is None or value == 0:
            return None
        if value.is_nan():
            return undecoded(raw, encoding, NOT_A_NUMBER)
        if not value.is_finite() or abs(value) > _HUGE:
            return undecoded(raw, encoding, OUT_OF_RANGE)
        micros = int((value * 1_000_000 / units_per_second).to_integral_value(rounding="ROUND_FLOOR"))
    micros += epoch_offset_s * 1_000_000
    try:
        moment = _UNIX_EPOCH + _dt.timedelta(microseconds=micros)
    except OverflowError:
        return undecoded(raw, encoding, OUT_OF_RANGE)
    if not _MIN <= moment <= _MAX:
        return undecoded(raw, encoding, OUT_OF_RANGE)
    return TimeValue(format_utc(moment), _raw_text(raw), encoding)


def _raw_text(raw) -> str:
    if isinstance(raw, (bytes, bytearray)):
        return raw.hex()
    return str(raw)


def unix_s(raw) -> TimeValue | None:
    """Seconds since 1970-01-01 UTC (may carry a fraction)."""
    return _from_epoch(raw, "unix_s", 0, 1)


def unix_ms(raw) -> TimeValue | None:
    """Milliseconds since 1970-01-01 UTC (Android, WhatsApp, most Java apps)."""
    return _from_epoch(raw, "unix_ms", 0, 1000)


def unix_us(raw) -> TimeValue | None:
    """Microseconds since 1970-01-01 UTC (Instagram direct.db)."""
    return _from_epoch(raw, "unix_us", 0, 1_000_000)


def unix_ns(raw) -> TimeValue | None:
    """Nanoseconds since 1970-01-01 UTC."""
    return _from_epoch(raw, "unix_ns", 0, 1_000_000_000)


def cocoa_s(raw) -> TimeValue | None:
    """Seconds since 2001-01-01 UTC (Core Data, NSDate; may carry a fraction)."""
    return _from_epoch(raw, "cocoa_s", COCOA_OFFSET_S, 1)


def cocoa_ns(raw) -> TimeValue | None:
    """Nanoseconds since 2001-01-01 UTC (iOS 11+ sms.db)."""
    return _from_epoch(raw, "cocoa_ns", COCOA_OFFSET_S, 1_000_000_000)


def cocoa_auto(raw) -> TimeValue | None:
    """sms.db's own ambiguity: Cocoa nanoseconds above 1e15, Cocoa seconds below (as iOS itself switched units).

    The encoding name records that the unit was chosen by magnitude.
    """
    value = _number(raw)
    if value is None:
        return None
    if value.is_nan():
        return undecoded(raw, "cocoa_auto", NOT_A_NUMBER)
    if abs(value) > Decimal(10) ** 15:
        decoded = _from_epoch(raw, "cocoa_ns(by magnitude)", COCOA_OFFSET_S, 1_000_000_000)
    else:
        decoded = _from_epoch(raw, "cocoa_s(by magnitude)", COCOA_OFFSET_S, 1)
    return decoded


def unix_auto(raw) -> TimeValue | None:
    """A Unix time whose unit no public source pins (iLEAPP reads such columns with a converter that also goes by
    magnitude): seconds below 1e11, milliseconds below 1e14, microseconds below 1e17, nanoseconds above — so
    1973-03-03 to 5138 in each unit. The encoding name (``unix_ms(by magnitude)``...) records that a guess was made.
    """
    value = _number(raw)
    if value is None:
        return None
    if value.is_nan():
        return undecoded(raw, "unix_auto", NOT_A_NUMBER)
    size = abs(value)
    for limit, name, units in ((Decimal(10) ** 11, "unix_s", 1), (Decimal(10) ** 14, "unix_ms", 1000),
                               (Decimal(10) ** 17, "unix_us", 1_000_000)):
        if size < limit:
            return _from_epoch(raw, f"{name}(by magnitude)", 0, units)
    return _from_epoch(raw, "unix_ns(by magnitude)", 0, 1_000_000_000)


def webkit_us(raw) -> TimeValue | None:
    """Microseconds since 1601-01-01 UTC (Chrome/Chromium history)."""
    return _from_epoch(raw, "webkit_us", -WEBKIT_OFFSET_S, 1_000_000)


def filetime(raw) -> TimeValue | None:
    """100-nanosecond intervals since 1601-01-01 UTC (Windows FILETIME)."""
    return _from_epoch(raw, "filetime", -WEBKIT_OFFSET_S, 10_000_000)


def hex_ms(raw) -> TimeValue | None:
    """Hexadecimal milliseconds since 1970 (Android packages.xml ``ft``/``it``/``ut`` attributes)."""
    if raw is None or not str(raw).strip():
        return None
    try:
        value = int(str(raw).strip(), 16)
    except ValueError:
        return TimeValue(None, _raw_text(raw), f"hex_ms({NOT_A_NUMBER})")
    decoded = _from_epoch(value, "hex_ms", 0, 1000)
    return TimeValue(decoded.iso, _raw_text(raw), decoded.encoding) if decoded is not None else None


def iso8601(raw) -> TimeValue | None:
    """An ISO-8601 string; one without an offset is kept undecoded (``iso8601(local time, zone unknown)``) rather
    than read as local time."""
    if raw is None:
        return None
    text = str(raw).strip()
    if not text:
        return None
    try:
        moment = _dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return TimeValue(None, text, f"iso8601({UNREADABLE})")
    if moment.tzinfo is None:
        return TimeValue(None, text, f"iso8601(local time, {ZONE_UNKNOWN})")
    try:
        return TimeValue(format_utc(moment), text, "iso8601")
    except OverflowError:  # year 1 or 9999 shifted by its offset out of what datetime holds
        return TimeValue(None, text, f"iso8601({OUT_OF_RANGE})")


def from_datetime(moment: _dt.datetime | None, raw, encoding: str) -> TimeValue | None:
    """Wrap an aware datetime that a library already decoded (plist dates, NSDate); naive ones are UTC by contract
    of the formats that produce them (plistlib returns naive UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_UTC)
    try:
        return TimeValue(format_utc(moment), _raw_text(raw), encoding)
    except OverflowError:  # year 1 or 9999 shifted by its offset out of what datetime holds
        return undecoded(raw, encoding, OUT_OF_RANGE)


ZONE_UNKNOWN = "zone unknown"


def wall_clock(moment: _dt.datetime, raw, encoding: str) -> TimeValue:
    """A local wall-clock time stored with no zone (FAT, exFAT, ISO 9660, zip DOS times): ``iso`` is the wall clock
    with no ``Z`` and no offset, and the encoding says the zone is unknown, so it is never taken for UTC (the store
    keeps it in a ``*_local`` column and leaves the UTC column empty)."""
    text = (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}:"
            f"{moment.second:02d}.{moment.microsecond:06d}")
    return TimeValue(text, _raw_text(raw), f"{encoding}(local time, {ZONE_UNKNOWN})")


def localized(wall: str, zone: str) -> str | None:
    """A wall-clock time (``wall_clock``'s text) read in the IANA ``zone``, as UTC; None for an unknown zone or an
    unreadable value. An ambiguous or skipped wall time (a DST change) takes the first reading (fold 0)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        info = ZoneInfo(zone)
        return format_utc(_dt.datetime.fromisoformat(wall).replace(tzinfo=info))
    except (ZoneInfoNotFoundError, ValueError, TypeError, OverflowError):
        return None


DECODERS = {
    "unix_s": unix_s,
    "unix_ms": unix_ms,
    "unix_us": unix_us,
    "unix_ns": unix_ns,
    "cocoa_s": cocoa_s,
    "cocoa_ns": cocoa_ns,
    "cocoa_auto": cocoa_auto,
    "unix_auto": unix_auto,
    "webkit_us": webkit_us,
    "filetime": filetime,
    "hex_ms": hex_ms,
    "iso8601": iso8601,
}


def decode(encoding: str, raw) -> TimeValue | None:
    """Decode ``raw`` with the named encoding (a key of DECODERS)."""
    return DECODERS[encoding](raw)


# --- the same decoders in SQL, for parsers that map millions of rows in one INSERT ... SELECT -------------------
# (encoding → units per second, epoch offset from 1970 in seconds) for the integer encodings.
_INTEGER_ENCODINGS = {
    "unix_s": (1, 0), "unix_ms": (1000, 0), "unix_us": (1_000_000, 0), "unix_ns": (1_000_000_000, 0),
    "cocoa_s": (1, COCOA_OFFSET_S), "cocoa_ns": (1_000_000_000, COCOA_OFFSET_S),
    "webkit_us": (1_000_000, -WEBKIT_OFFSET_S), "filetime": (10_000_000, -WEBKIT_OFFSET_S),
}
_MIN_US = -11644473600 * 1_000_000  # 1601-01-01T00:00:00Z
_MAX_US = 253402300799 * 1_000_000 + 999_999  # 9999-12-31T23:59:59.999999Z


def _floor_div(expr: str, divisor: int) -> str:
    """Floor division in SQLite (whose ``/`` truncates toward zero) without overflow near the int64 limits."""
    return f"((({expr}) / {divisor}) - (CASE WHEN ({expr}) % {divisor} < 0 THEN 1 ELSE 0 END))"


def _bounds(encoding: str) -> tuple[int, int]:
    """The smallest and largest integer of an integer encoding that decodes inside 1601..9999."""
    units, offset = _INTEGER_ENCODINGS[encoding]
    low = -((-(_MIN_US - offset * 1_000_000) * units) // 1_000_000)  # ceil
    high = -((-(_MAX_US - offset * 1_000_000 + 1) * units) // 1_000_000) - 1
    return low, high


def _sql_positive(encoding: str, column: str) -> str:
    """The ISO text of an integer that is at or after 1970 and inside the range (so every division truncates as
    floor division would), in as few SQL function calls as the unit allows: each call, and each string it makes,
    costs more than the integer arithmetic on millions of rows."""
    units, offset = _INTEGER_ENCODINGS[encoding]
    if units == 1:
        return f"strftime('%Y-%m-%dT%H:%M:%S.000000Z', {column} + {offset}, 'unixepoch')"
    if units == 1000 and offset == 0:
        # a whole number of milliseconds as seconds with a fraction: SQLite rounds the value to the nearest
        # millisecond (the float is off by far less than half of one) and %f writes them as "SS.SSS"
        return f"strftime('%Y-%m-%dT%H:%M:%f000Z', {column} / 1000.0, 'unixepoch')"
    if units < 1_000_000:
        fraction = f"({column} % {units}) * {1_000_000 // units}"
    else:
        fraction = f"({column} % {units}) / {units // 1_000_000}"
    return (f"printf('%s.%06dZ', strftime('%Y-%m-%dT%H:%M:%S', {column} / {units} + {offset}, 'unixepoch'), "
            f"{fraction})")


def sql_iso(encoding: str, column: str) -> str:
    """An SQL expression giving exactly what ``decode(encoding, value).iso`` gives (NULL for None).

    Integers are decoded by integer arithmetic in SQL; any other value (text, real) goes through the Python decoder
    registered by ``register_sql_functions``, so both paths share one definition of every encoding.
    """
    fallback = f"decode_time('{encoding}', {column})"
    if encoding not in _INTEGER_ENCODINGS:
        return f"(CASE WHEN {column} IS NULL THEN NULL ELSE {fallback} END)"
    units, offset = _INTEGER_ENCODINGS[encoding]
    if units <= 1_000_000:
        micros = f"({column} * {1_000_000 // units})"
    else:
        micros = _floor_div(column, units // 1_000_000)
    total = f"({micros} + {offset * 1_000_000})"
    seconds = _floor_div(total, 1_000_000)
    fraction = f"((({total}) % 1000000) + 1000000) % 1000000"
    low, high = _bounds(encoding)
    general = (f"CASE WHEN {column} = 0 OR {column} < {low} OR {column} > {high} THEN NULL ELSE "
               f"strftime('%Y-%m-%dT%H:%M:%S', {seconds}, 'unixepoch') || printf('.%06dZ', {fraction}) END")
    # the common case first: a time after 1970 (for WebKit and FILETIME counts, whose epoch is 1601, that is a
    # count of at least the seconds from 1601 to 1970)
    # (the range test first: it is false for NULL, text and blobs without calling typeof)
    first = max(1, -offset * units)
    return (f"(CASE WHEN {column} >= {first} AND {column} <= {high} AND typeof({column}) = 'integer' "
            f"THEN {_sql_positive(encoding, column)} WHEN {column} IS NULL THEN NULL "
            f"WHEN typeof({column}) = 'integer' THEN ({general}) ELSE {fallback} END)")


def sql_time(encoding: str, column: str, counted: str = "") -> tuple[str, str, str]:
    """SQL for the three stored columns of a time (ISO text, raw value as text, encoding), each what ``decode``
    gives (all NULL where it gives None; no ISO text and a marked encoding for a value kept undecoded) — each
    computed on its own, from the value alone, so that a query needs no second pass over the decoded text. Integers
    are judged in SQL; other values by the Python decoder (``decode_time``, ``time_raw``, ``time_encoding``, which
    share its last answer, so asking three times costs one decode). Each value kept undecoded is counted under
    ``counted`` (``register_sql_functions``'s counter) as its encoding is computed."""
    iso = sql_iso(encoding, column)
    python = f"time_encoding('{encoding}', {column}, '{counted}')"
    if encoding in _INTEGER_ENCODINGS:
        low, high = _bounds(encoding)
        valid = f"{column} >= {low} AND {column} <= {high} AND {column} <> 0 AND typeof({column}) = 'integer'"
        # an integer outside the range: raw kept, encoding marked (rare: counting it costs the common case nothing)
        raw = (f"(CASE WHEN {valid} THEN CAST({column} AS TEXT) WHEN {column} IS NULL OR {column} = 0 THEN NULL "
               f"WHEN typeof({column}) = 'integer' THEN CAST({column} AS TEXT) "
               f"ELSE time_raw('{encoding}', {column}) END)")
        named = (f"(CASE WHEN {valid} THEN '{encoding}' WHEN {column} IS NULL OR {column} = 0 THEN NULL "
                 f"WHEN typeof({column}) = 'integer' THEN time_kept('{encoding}({OUT_OF_RANGE})', '{counted}') "
                 f"ELSE {python} END)")
    else:
        raw = f"(CASE WHEN {column} IS NULL THEN NULL ELSE time_raw('{encoding}', {column}) END)"
        named = f"(CASE WHEN {column} IS NULL THEN NULL ELSE {python} END)"
    return iso, raw, named


def register_sql_functions(conn, undecoded_counter=None) -> None:
    """``decode_time(encoding, value)`` (the ISO text), ``time_raw(encoding, value)`` and ``time_encoding(encoding,
    value, label)`` for the SQL path (the Python decoders), and ``time_kept(encoding, label)``; the last two count
    each value kept undecoded under ``label`` in ``undecoded_counter`` (a ``collections.Counter``), when given."""
    last: list = [None, None]  # (encoding, type, value) and its TimeValue: sql_time asks up to three times in a row

    def decoded(encoding, value):
        key = (encoding, type(value), value)
        if last[0] != key:
            last[:] = key, decode(encoding, value)
        return last[1]

    def decode_time(encoding, value):
        found = decoded(encoding, value)
        return found.iso if found is not None else None

    def time_raw(encoding, value):
        found = decoded(encoding, value)
        return found.raw if found is not None else None

    def time_kept(encoding, label):
        if undecoded_counter is not None:
            undecoded_counter[label] += 1
        return encoding

    def time_encoding(encoding, value, label):
        found = decoded(encoding, value)
        if found is None:
            return None
        return found.encoding if found.iso is not None else time_kept(found.encoding, label)

    conn.create_function("decode_time", 2, decode_time, deterministic=True)
    conn.create_function("time_raw", 2, time_raw, deterministic=True)
    conn.create_function("time_raw", 1, lambda value: None if value is None else _raw_text(value),
                         deterministic=True)
    conn.create_function("time_encoding", 3, time_encoding)  # not deterministic: it counts
    conn.create_function("time_kept", 2, time_kept)
