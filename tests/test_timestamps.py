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
    ("unix_ms", 0), ("unix_ms", None), ("unix_ms", "not a number"), ("unix_ms", b"\xff"),
    ("unix_s", 253402300800), ("webkit_us", -1), ("unix_ms", float("nan")), ("iso8601", "2020-01-01T00:00:00"),
    ("hex_ms", "xyz"), ("unix_s", True),
])
def test_not_set_out_of_range_or_garbage_is_none(encoding, raw):
    assert ts.decode(encoding, raw) is None


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
    """What the store keeps of a time: the decoder's ISO text, the raw value as text, the encoding's name."""
    decoded = ts.decode(encoding, value)
    if decoded is None:
        return None, None, None
    return decoded.iso, str(value) if type(value) is int else ts._raw_text(value), encoding


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
        for value in values:
            expected = ts.decode(encoding, value)
            assert _sql(conn, encoding, value) == (expected.iso if expected else None), (encoding, value)
        assert _sql_time(conn, encoding, values) == [_stored(encoding, v) for v in values], encoding
    for encoding in ("cocoa_auto", "hex_ms", "iso8601"):
        values = [700000000, "176f9b2c800", "2020-01-01T00:00:00Z", "garbage", 0, None]
        for value in values:
            expected = ts.decode(encoding, value)
            assert _sql(conn, encoding, value) == (expected.iso if expected else None)
        assert _sql_time(conn, encoding, values) == [_stored(encoding, v) for v in values], encoding


def test_unix_auto_says_which_unit_it_chose():
    moment = "2023-11-14T22:13:20.000000Z"
    decoded = [ts.unix_auto(v) for v in (1700000000, 1700000000000, 1700000000000000, 1700000000000000000)]
    assert [d.iso for d in decoded] == [moment] * 4
    assert [d.encoding for d in decoded] == ["unix_s(by magnitude)", "unix_ms(by magnitude)",
                                             "unix_us(by magnitude)", "unix_ns(by magnitude)"]
    assert ts.unix_auto("1700000000123").raw == "1700000000123" and ts.unix_auto(0) is None
