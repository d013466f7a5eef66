"""Store.merge_shard: a shard copied whole into an empty case table (SQLite's transfer optimization) gives exactly
the rows and ids the row-by-row copy gives; where that would not hold (other devices' rows, gaps in the shard's
ids, columns in another order) the rows are renumbered as before."""
from __future__ import annotations

import sqlite3

from artifacts.store import Store

PROV = {"evidence_id": "e1", "partition": "p1", "source_table": "t", "parser": "test", "app": "sms",
        "recipients": "[]", "attachments": "[]"}


def _shard(path, device_id: str, bodies, indexed: bool = True, drop_row: int | None = None):
    store = Store(path, scratch=True)
    store.insert_rows("messages", [{**PROV, "device_id": device_id, "source_path": "/db", "source_row": str(n),
                                    "body": body} for n, body in enumerate(bodies, start=1)])
    store.insert_rows("files", [{"device_id": device_id, "evidence_id": "e1", "path": f"/f{n}", "name": f"f{n}",
                                 "size": n} for n in range(1, len(bodies) + 1)])
    if drop_row is not None:
        store.db.execute("DELETE FROM messages WHERE id = ?", [drop_row])
    store.upsert("devices", {"device_id": device_id, "label": device_id, "status": "ok", "facts": "{}"})
    if indexed:
        store.add_indexes()
    store.close()
    return path


def _content(path) -> list:
    conn = sqlite3.connect(path)
    try:
        return [(t, conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()) for t in ("messages", "files")]
    finally:
        conn.close()


def _dump(path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_whole_copy_into_an_empty_table_is_what_renumbering_gives(tmp_path):
    bodies = ["hi", "¿dónde?", None, "x" * 5000]
    fast, slow = Store(tmp_path / "fast.sqlite"), Store(tmp_path / "slow.sqlite")
    shard = _shard(tmp_path / "a.sqlite", "a", bodies)
    old_shard = _shard(tmp_path / "a-old.sqlite", "a", bodies, indexed=False)  # as an older version wrote it
    fast.db.execute("ATTACH DATABASE ? AS shard", [str(shard)])
    assert fast._same_ids("messages", "a") and fast._same_ids("files", "a")
    assert not fast._same_ids("devices", "a")  # keyed by its text column: the usual path
    fast.db.execute("DETACH DATABASE shard")
    fast.merge_shard(shard, "a")
    slow.merge_shard(old_shard, "a")
    fast.close()
    slow.close()
    assert _dump(tmp_path / "fast.sqlite") == _dump(tmp_path / "slow.sqlite")
    messages = dict(_content(tmp_path / "fast.sqlite"))["messages"]
    assert [(m[0], m[1]) for m in messages] == [(1, "a"), (2, "a"), (3, "a"), (4, "a")]
    assert "x" * 5000 in messages[3]


def test_second_device_and_reingest_are_renumbered_after_the_first(tmp_path):
    case = Store(tmp_path / "case.sqlite")
    case.merge_shard(_shard(tmp_path / "a.sqlite", "a", ["a1", "a2"]), "a")
    case.merge_shard(_shard(tmp_path / "b.sqlite", "b", ["b1", "b2", "b3"]), "b")
    case.merge_shard(_shard(tmp_path / "a2.sqlite", "a", ["a1", "a2", "a3"]), "a")  # b's rows stay: renumbered
    rows = case.db.execute("SELECT id, device_id, body FROM messages ORDER BY id").fetchall()
    assert rows == [(3, "b", "b1"), (4, "b", "b2"), (5, "b", "b3"), (6, "a", "a1"), (7, "a", "a2"), (8, "a", "a3")]
    case.close()


def test_a_gap_in_the_shard_ids_is_renumbered(tmp_path):
    case = Store(tmp_path / "case.sqlite")
    case.merge_shard(_shard(tmp_path / "a.sqlite", "a", ["one", "two", "three"], drop_row=2), "a")
    assert case.db.execute("SELECT id, body FROM messages ORDER BY id").fetchall() == [(1, "one"), (2, "three")]
    case.close()


def test_columns_in_another_order_land_in_their_own_columns(tmp_path):
    # a case store written before "body" existed: the migration adds it last, the shard has it in its place
    conn = sqlite3.connect(tmp_path / "case.sqlite")
    conn.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY, device_id TEXT, sender TEXT)")
    conn.close()
    case = Store(tmp_path / "case.sqlite")
    case.merge_shard(_shard(tmp_path / "a.sqlite", "a", ["hello"]), "a")
    rows = case.db.execute("SELECT id, device_id, body, source_row FROM messages").fetchall()
    assert rows == [(1, "a", "hello", "1")]
    case.close()
