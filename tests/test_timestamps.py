"""Time decoders at their edges, and the SQL form of each decoder giving exactly the Python result."""
import random
import sqlite3

import pytest

from artifacts import timestamps as ts


@pytest.mark.parametrize("encoding, raw, iso", [
    ("unix_s", 1, "1970-01-01T00:00:01.000000Z"),
    ("unix_s", -1, "1969-12-31T23:59:59.000000Z"),
    ("unix_s", "1.5", "1970-01-01T00:00:01.500000Z"),
    ("unix_ms", 1383065788038, "2013-10-29T16:56:28.038000Z"),
    ("unix_ms", -1, "1969-12-31T23:59:59.999000Z"),
    ("unix_us", 1600000000123456, "2020-09-13T12:26:40.123456Z"),
    ("unix_ns", 1600000000123456789, "2020-09-13T12:26:40.123456Z"),
    ("unix_ns", -1, "1969-12-31T23:59:59.999999Z"),
    ("cocoa_s", 0.5, "2001-01-01T00:00:00.500000Z"),
    ("cocoa_s", 700000000, "2023-03-08T20:26:40.000000Z"),
    ("cocoa_ns", 700000000123456789, "2023-03-08T20:26:40.123456Z"),
    ("cocoa_auto", 700000000, "2023-03-08T20:26:40.000000Z"),
    ("cocoa_auto", 700000000000000000, "2023-03-08T20:26:40.000000Z"),
    ("webkit_us", 13228000000000000, "2020-03-06T20:26:40.000000Z"),
    ("webkit_us", 1, "1601-01-01T00:00:00.000001Z"),
    ("filetime", 132000000000000000, "2019-04-17T18:40:00.000000Z"),
    ("hex_ms", "176f9b2c800", "2021-01-13T03:03:32.096000Z"),
    ("iso8601", "2020-01-01T01:00:00+01:00", "2020-01-01T00:00:00.000000Z"),
    ("unix_s", 253402300799, "9999-12-31T23:59:59.000000Z"),
])
def test_decoders(encoding, raw, iso):
    value = ts.decode(encoding, raw)
    assert value.iso == iso and value.raw == str(raw)
    assert value.encoding.startswith(encoding.replace("_auto", "_"))


@pytest.mark.parametrize("encoding, raw", [
    ("unix_ms", 0), ("unix_ms", None), ("unix_ms", ""), ("unix_ms", " "), ("unix_ms", b""), ("unix_s", True),
    ("unix_ms", 0.0), ("unix_ms", "0"), ("cocoa_auto", ""), ("hex_ms", ""), ("iso8601", " "), ("unix_auto", 0),
])
def test_not_set_is_none(encoding, raw):
    assert ts.decode(encoding, raw) is None


@pytest.mark.parametrize("encoding, raw, stored_raw, stored_encoding", [
    ("unix_ms", 2 ** 63 - 1, "9223372036854775807", "unix_ms(out of range)"),  # an SMS date no phone wrote
    ("unix_ms", -(2 ** 63), "-9223372036854775808", "unix_ms(out of range)"),
    ("cocoa_s", -10 ** 15, "-1000000000000000", "cocoa_s(out of range)"),
    ("webkit_us", 2 ** 62, "4611686018427387904", "webkit_us(out of range)"),
    ("webkit_us", -1, "-1", "webkit_us(out of range)"),  # one microsecond before 1601
    ("unix_s", 253402300800, "253402300800", "unix_s(out of range)"),  # one second after 9999
    ("unix_ns", 2 ** 80, str(2 ** 80), "unix_ns(out of range)"),
    ("filetime", -5, "-5", "filetime(out of range)"),
    ("unix_ms", float("inf"), "inf", "unix_ms(out of range)"),
    ("unix_ms", float("-inf"), "-inf", "unix_ms(out of range)"),
    ("unix_s", 1e300, "1e+300", "unix_s(out of range)"),
    ("unix_s", "1e999999", "1e999999", "unix_s(out of range)"),  # no Decimal overflow on the way
    ("unix_ms", float("nan"), "nan", "unix_ms(not a number)"),
    ("unix_ms", "sNaN", "sNaN", "unix_ms(not a number)"),
    ("unix_ms", "not a number", "not a number", "unix_ms(not a number)"),
    ("unix_ms", b"\xff", "ff", "unix_ms(not a number)"),
    ("cocoa_auto", -10 ** 20, "-100000000000000000000", "cocoa_ns(by magnitude, out of range)"),
    ("cocoa_auto", "garbage", "garbage", "cocoa_auto(not a number)"),
    ("unix_auto", 10 ** 30, str(10 ** 30), "unix_ns(by magnitude, out of range)"),
    ("unix_auto", "x", "x", "unix_auto(not a number)"),
    ("hex_ms", "xyz", "xyz", "hex_ms(not a number)"),
    ("hex_ms", "7fffffffffffffff", "7fffffffffffffff", "hex_ms(out of range)"),
    ("iso8601", "yesterday", "yesterday", "iso8601(unreadable)"),
    ("iso8601", "2020-01-01T00:00:00", "2020-01-01T00:00:00", "iso8601(local time, zone unknown)"),
    ("iso8601", "0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00+01:00", "iso8601(out of range)"),
])
def test_out_of_range_or_garbage_keeps_the_raw_value(encoding, raw, stored_raw, stored_encoding):
    value = ts.decode(encoding, raw)
    assert (value.iso, value.raw, value.encoding) == (None, stored_raw, stored_encoding)
    assert not value and (value.iso if value else None) is None  # callers' `if ts:` read it as no time


def test_from_datetime_out_of_range_keeps_the_raw_value():
    moment = ts._dt.datetime(1, 1, 1, tzinfo=ts._dt.timezone(ts._dt.timedelta(hours=1)))
    value = ts.from_datetime(moment, "0001-01-01 00:00:00+01:00", "plist_date")
    assert (value.iso, value.encoding) == (None, "plist_date(out of range)")


def test_cocoa_auto_says_it_chose_by_magnitude():
    assert ts.cocoa_auto(700000000).encoding == "cocoa_s(by magnitude)"
    assert ts.cocoa_auto(700000000000000000).encoding == "cocoa_ns(by magnitude)"


def test_times_sort_as_text():
    a, b = ts.unix_us(1600000000123000), ts.unix_us(1600000000123456)
    assert a.iso < b.iso


def _sql(conn, encoding, value):
    return conn.execute(f"SELECT {ts.sql_iso(encoding, '?')}", [value] * ts.sql_iso(encoding, "?").count("?")) \
        .fetchone()[0]


def _sql_time(conn, encoding, values):
    """(iso, raw, encoding) of each value as the bulk path stores them, computed over a table as it does."""
    conn.execute("DROP TABLE IF EXISTS t")
    conn.execute("CREATE TABLE t (i INTEGER PRIMARY KEY, v)")
    conn.executemany("INSERT INTO t (v) VALUES (?)", [(v,) for v in values])
    return conn.execute(f"SELECT {', '.join(ts.sql_time(encoding, 'v'))} FROM t ORDER BY i").fetchall()


def _stored(encoding, value):
    """What the store keeps of a time: the decoder's ISO text, the raw value as text, the encoding's name (marked
    for a value kept undecoded)."""
    decoded = ts.decode(encoding, value)
    if decoded is None:
        return None, None, None
    assert decoded.raw == (str(value) if type(value) is int else ts._raw_text(value)) or encoding == "iso8601"
    return decoded.iso, decoded.raw, decoded.encoding


def test_sql_decoders_equal_the_python_decoders():
    conn = sqlite3.connect(":memory:")
    ts.register_sql_functions(conn)
    rng = random.Random(20261128)
    for encoding, (units, offset) in ts._INTEGER_ENCODINGS.items():
        values = [0, 1, -1, 999, -1001, 2 ** 63 - 1, -(2 ** 63)]
        values += [rng.randint(-(2 ** 63), 2 ** 63 - 1) for _ in range(300)]
        values += [rng.randint(-10 ** 10 * units, 10 ** 10 * units) for _ in range(300)]
        values += [rng.randint(1, 253402300799 * units) for _ in range(300)]  # the fast path: 1970 to 9999
        # days, leap days and centuries: the last and first unit of a day
        for day in ("1970-01-01", "2000-02-29", "2000-03-01", "2100-03-01", "2024-12-31", "9999-12-31"):
            second = int(ts._dt.datetime.fromisoformat(day + "T00:00:00+00:00").timestamp()) - offset
            values += [second * units + d for d in (-1, 0, 1, units - 1, units)]
        for edge in (-11644473600 - offset, 253402300799 - offset, 253402300800 - offset, -offset):
            values += [edge * units + d for d in range(-2, 3)]
        values = [v for v in values if not isinstance(v, int) or -(2 ** 63) <= v < 2 ** 63]  # SQLite's range
        values += [1.5, 1600000000.25, -3.75, "1600000000000", " 42 ", "x", b"\x01", None]
        values += UNDECODABLE
        for value in values:
            expected = ts.decode(encoding, value)
            assert _sql(conn, encoding, value) == (expected.iso if expected else None), (encoding, value)
        stored = [_stored(encoding, v) for v in values]
        assert {e for _, _, e in stored} >= {encoding, f"{encoding}(out of range)", f"{encoding}(not a number)"}
        assert _sql_time(conn, encoding, values) == stored, encoding
    for encoding in ("cocoa_auto", "unix_auto", "hex_ms", "iso8601"):
        values = [700000000, "176f9b2c800", "2020-01-01T00:00:00Z", " 2020-01-01T00:00:00+02:00 ", "garbage", 0,
                  None, "", "2020-01-01T00:00:00", "0001-01-01T00:00:00+01:00", "7fffffffffffffff"] + UNDECODABLE
        for value in values:
            expected = ts.decode(encoding, value)
            assert _sql(conn, encoding, value) == (expected.iso if expected else None)
        assert _sql_time(conn, encoding, values) == [_stored(encoding, v) for v in values], encoding


# Values no encoding decodes: beyond int64 and every range, infinite, no number, empty (not set)
UNDECODABLE = [2 ** 63 - 1, -(2 ** 63), -10 ** 15, 2 ** 62, 1e300, -1e300, float("inf"), float("-inf"), "inf",
               "1e999999", "-1e999999", "nan", "sNaN", "not a number", b"\xff", b"12", "", " ", b"", 0.0, "0"]


def test_sql_path_counts_what_it_keeps_undecoded():
    """The SQL path counts each value it keeps undecoded, by label, as the Python record writer does."""
    from collections import Counter

    counted = Counter()
    conn = sqlite3.connect(":memory:")
    ts.register_sql_functions(conn, counted)
    values = [2 ** 63 - 1, 1600000000000, 0, None, "x", float("inf"), "1600000000000", 2 ** 62]
    conn.execute("CREATE TABLE t (v)")
    conn.executemany("INSERT INTO t VALUES (?)", [(v,) for v in values])
    rows = conn.execute(f"SELECT {', '.join(ts.sql_time('unix_ms', 'v', 'messages.ts'))} FROM t").fetchall()
    kept = [r for r in rows if r[0] is None and r[1] is not None]
    assert len(kept) == 4 and counted == {"messages.ts": 4}


def test_unix_auto_says_which_unit_it_chose():
    moment = "2023-11-14T22:13:20.000000Z"
    decoded = [ts.unix_auto(v) for v in (1700000000, 1700000000000, 1700000000000000, 1700000000000000000)]
    assert [d.iso for d in decoded] == [moment] * 4
    assert [d.encoding for d in decoded] == ["unix_s(by magnitude)", "unix_ms(by magnitude)",
                                             "unix_us(by magnitude)", "unix_ns(by magnitude)"]
    assert ts.unix_auto("1700000000123").raw == "1700000000123" and ts.unix_auto(0) is None
