"""An ordered bulk insert split over threads (artifacts.split_insert) stores exactly what one statement stores: the
same rows, ids, order and values, whatever the number of threads."""
import sqlite3

import pytest

from artifacts import split_insert
from artifacts.records import Message
from artifacts.store import Store
from tests import parser_harness
from tests.fixtures.whatsapp_android import generate_msgstore, generate_wa_db

DIR = "/data/data/com.whatsapp/databases/"


@pytest.fixture
def small_parts(monkeypatch):
    """Split even a test-sized table, and count the ranges run on threads."""
    monkeypatch.setattr(split_insert, "MIN_ROWS_PER_PART", 50)
    started = []
    real = split_insert._Part.__init__

    def spy(self, *args, **kwargs):
        started.append(args[0])
        real(self, *args, **kwargs)

    monkeypatch.setattr(split_insert._Part, "__init__", spy)
    return started


def _stored(shard, table):
    db = sqlite3.connect(shard)
    try:
        return db.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
    finally:
        db.close()


def test_whatsapp_messages_are_identical_for_one_two_and_three_threads(tmp_path, monkeypatch, small_parts):
    n = 3000
    generate_msgstore(tmp_path / "src/msgstore.db", n)
    generate_wa_db(tmp_path / "src/wa.db")
    files = {DIR + "msgstore.db": tmp_path / "src/msgstore.db", DIR + "wa.db": tmp_path / "src/wa.db"}
    stored = {}
    for threads in (1, 2, 3):
        monkeypatch.setenv(split_insert.ENV_THREADS, str(threads))
        before = len(small_parts)
        outcomes, _ = parser_harness.run(tmp_path / f"run{threads}", files, ["whatsapp-android-messages"])
        assert [(o.outcome, o.records > n) for o in outcomes] == [("parsed", True)]
        assert len(small_parts) - before == threads - 1  # the ranges besides the first ran on threads
        stored[threads] = {t: _stored(tmp_path / f"run{threads}/shard.sqlite", t) for t in ("messages", "locations")}
        left = [p.name for p in (tmp_path / f"run{threads}").iterdir() if "bulk-part" in p.name]
        assert left == []  # the scratch files are gone
    assert len(stored[1]["messages"]) == n and [r[0] for r in stored[1]["messages"]] == list(range(1, n + 1))
    assert stored[2] == stored[1] and stored[3] == stored[1]


def _source(path, values):
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k, body TEXT)")
    db.executemany("INSERT INTO t (id, k, body) VALUES (?, ?, ?)", values)
    db.commit()
    db.close()


def _insert(tmp_path, name, threads, monkeypatch, interrupt=None, times=1):
    monkeypatch.setenv(split_insert.ENV_THREADS, str(threads))
    store = Store(tmp_path / f"{name}.sqlite", scratch=True)
    store.db.conn.execute("ATTACH DATABASE ? AS src", (f"file:{tmp_path / 'src.db'}?mode=ro",))
    try:
        with store.transaction():
            for _ in range(times):
                store.insert_select(Message, "SELECT k AS source_row, body FROM src.t ORDER BY k", (),
                                    {"device_id": "d"}, {}, order_by="source_row", split_on="src.t",
                                    interrupt=interrupt)
        assert [r[1] for r in store.db.conn.execute("PRAGMA database_list")] == ["main", "src"]
    finally:
        store.close()
    return _stored(tmp_path / f"{name}.sqlite", "messages")


def test_every_kind_of_order_value_lands_once_in_order(tmp_path, monkeypatch, small_parts):
    """NULL sorts first, then numbers (reals and negatives too), then text and blobs: whatever range a value falls
    in, each row is stored once and in the order one statement gives."""
    odd = [None, -5, 2.5, "text", b"\x00blob", "", 10 ** 12, "9"]
    values = [(i, odd[i % len(odd)] if i % 7 == 0 else i, f"body {i}") for i in range(1, 600)]
    _source(tmp_path / "src.db", values)
    one = _insert(tmp_path, "one", 1, monkeypatch)
    assert len(one) == len(values) and len(small_parts) == 0
    assert _insert(tmp_path, "two", 2, monkeypatch) == one
    assert _insert(tmp_path, "four", 4, monkeypatch) == one
    assert len(small_parts) == 1 + 3
    # twice in one transaction: the scratch files of the first stay attached until it ends, apart from the second's
    assert _insert(tmp_path, "twice", 2, monkeypatch, times=2) == \
        [(i + 1, *row[1:]) for i, row in enumerate(one + one)]
    assert len(small_parts) == 1 + 3 + 2


def test_a_table_without_row_ids_is_not_split(tmp_path, monkeypatch):
    monkeypatch.setenv(split_insert.ENV_THREADS, "2")
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE w (k INTEGER PRIMARY KEY, v) WITHOUT ROWID")
    db.executemany("INSERT INTO w VALUES (?, ?)", [(i, i) for i in range(1000)])
    assert split_insert.plan(db, "main.w") == [] and split_insert.plan(db, "main.nothing") == []


def test_an_interrupted_split_insert_stores_nothing_and_leaves_no_file(tmp_path, monkeypatch, small_parts):
    _source(tmp_path / "src.db", [(i, i, f"body {i}") for i in range(1, 600)])
    with pytest.raises(sqlite3.OperationalError, match="interrupted"):
        _insert(tmp_path, "stopped", 2, monkeypatch, interrupt=lambda: True)
    assert len(small_parts) == 1
    assert _stored(tmp_path / "stopped.sqlite", "messages") == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src.db", "stopped.sqlite"]


def test_one_thread_unless_asked_and_auto_follows_the_idle_cores(monkeypatch):
    monkeypatch.delenv(split_insert.ENV_THREADS, raising=False)
    monkeypatch.setattr(split_insert.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(split_insert.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert split_insert.threads_wanted() == 1  # off by default: measured slower (see threads_wanted)
    monkeypatch.setenv(split_insert.ENV_THREADS, "auto")
    for load, threads in ((0.0, 2), (0.8, 2), (1.2, 2), (1.7, 1), (6.0, 1)):
        monkeypatch.setattr(split_insert.os, "getloadavg", lambda: (load, load, load))
        assert split_insert.threads_wanted() == threads, load
    monkeypatch.setenv(split_insert.ENV_THREADS, "3")
    assert split_insert.threads_wanted() == 3
    assert split_insert.bounds(1, 1000, 2) == [445]  # the first range is the smaller: it copies the others back


def test_times_kept_undecoded_are_counted_whatever_the_thread_that_wrote_them(tmp_path, monkeypatch, small_parts):
    """A time the store cannot write (2^63-1 ms) is kept raw and counted in the run's warning, also when the range
    holding it was inserted by a worker connection of a split insert."""
    n = 3000
    generate_msgstore(tmp_path / "src/msgstore.db", n)
    generate_wa_db(tmp_path / "src/wa.db")
    db = sqlite3.connect(tmp_path / "src/msgstore.db")
    rows = [r[0] for r in db.execute("SELECT _id FROM message ORDER BY _id")]
    bad = [rows[5], rows[len(rows) // 2], rows[-5]]  # one in the first range, the others in later ranges
    db.executemany("UPDATE message SET timestamp = ? WHERE _id = ?", [(2 ** 63 - 1, r) for r in bad])
    db.commit()
    db.close()
    files = {DIR + "msgstore.db": tmp_path / "src/msgstore.db", DIR + "wa.db": tmp_path / "src/wa.db"}
    warnings = {}
    for threads in (1, 3):
        monkeypatch.setenv(split_insert.ENV_THREADS, str(threads))
        outcomes, _ = parser_harness.run(tmp_path / f"run{threads}", files, ["whatsapp-android-messages"])
        warnings[threads] = outcomes[0].warnings
        kept = _stored_where(tmp_path / f"run{threads}/shard.sqlite",
                             "SELECT ts, ts_raw, ts_encoding FROM messages WHERE ts_raw = ?", [2 ** 63 - 1])
        assert kept == [(None, str(2 ** 63 - 1), "unix_ms(out of range)")] * 3
    assert any("3 time(s) could not be decoded" in w and "messages.ts 3" in w for w in warnings[1]), warnings[1]
    assert warnings[3] == warnings[1]


def _stored_where(shard, sql, params):
    db = sqlite3.connect(shard)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()
