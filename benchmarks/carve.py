"""Deleted-record recovery on a large WhatsApp ``msgstore.db``, against reading the file once in the same run.

Builds a current-schema msgstore.db (default 1,300,000 messages, about 200 MB), then with ``secure_delete`` off
deletes 20% of the text messages in known ways: every 10th inside pages that stay live (freeblocks) and one
contiguous tenth of the table (pages go to the freelist). Times (a) reading the file once with sha256 and (b) the
carver plus the de-duplication against the live rows, each ``--repeat`` times in alternation, and keeps the fastest
of each (on a shared machine one run of either can be slowed by others' load at any moment). Prints recovered /
deleted rows whose text is still in the file (target >= 0.9), false recoveries (carved rows that are no deleted row,
or with a recovered field that differs from the deleted row's; target 0) and the time ratio b/a (target <= 5), and
b against reading every row of every table once through SQLite; the last line is ``name=value`` pairs.

    python benchmarks/carve.py [--workdir DIR] [--messages 1300000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import hashlib
import re
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def build(workdir: Path, n: int) -> tuple[Path, dict[int, tuple]]:
    """The database and the deleted rows (``_id`` -> the row's values in column order)."""
    from tests.fixtures.whatsapp_android import generate_msgstore

    path = generate_msgstore(workdir / "msgstore.db", n)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA secure_delete=OFF")
    lo, hi = int(n * 0.45), int(n * 0.55)
    where = f"message_type = 0 AND (_id % 10 = 0 OR _id BETWEEN {lo} AND {hi})"
    gone = {row[0]: row for row in db.execute(f"SELECT * FROM message WHERE {where}")}
    db.execute(f"DELETE FROM message WHERE {where}")
    db.close()
    return path, gone


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--messages", type=int, default=1_300_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from parsers.carving.carved_rows import _new_rows
    from parsers.carving.sqlite_cells import carve, layouts_from

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        path, gone = build(Path(tmp), args.messages)
        text_at = [r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(message)")].index("text_data")
        # ground truth: the deleted texts ("message <i>", see generate_msgstore) whose bytes are still in the file
        in_file = set(re.findall(rb"message \d+", path.read_bytes()))
        surviving = {i for i, row in gone.items() if row[text_at].encode() in in_file}

        def read_once() -> float:
            start = time.perf_counter()
            digest = hashlib.sha256()
            with open(path, "rb") as f:
                while chunk := f.read(1 << 20):
                    digest.update(chunk)
            return time.perf_counter() - start

        def carve_once():
            start = time.perf_counter()
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            db.row_factory = sqlite3.Row
            layouts = layouts_from(db)
            result = carve(path, None, layouts, {"message"})
            new = _new_rows(result.cells, db, None, {lay.table.lower(): lay for lay in layouts}, result.live,
                            result.repeated)
            elapsed = time.perf_counter() - start
            db.close()
            return elapsed, layouts, result, new

        reads, carves = [], []
        for _ in range(max(args.repeat, 1)):
            reads.append(read_once())
            elapsed, layouts, result, new = carve_once()
            carves.append(elapsed)
        read_s, carve_s = min(reads), min(carves)
        start = time.perf_counter()  # a second reference: every row of every table read once through SQLite
        ref = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        for (table,) in ref.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            for _row in ref.execute(f"SELECT * FROM [{table}]"):
                pass
        ref.close()
        sql_s = time.perf_counter() - start
        names = [c.name for c in next(lay for lay in layouts if lay.table == "message").columns]
        by_text = {row[text_at]: row for row in gone.values()}
        recovered, false = set(), 0
        for r in new:  # the deleted row it is (by rowid, else by its text); every recovered field must be that row's
            cell = r.cell
            original = gone.get(cell.rowid) if cell.rowid is not None else by_text.get(cell.values[text_at])
            if original is None or any(v != original[k] for k, v in enumerate(cell.values)
                                       if names[k] not in cell.missing):
                false += 1
            elif "text_data" not in cell.missing:
                recovered.add(original[0])
        recovered = len(recovered & surviving)
        size_mb = path.stat().st_size / 1e6
    ratio = recovered / len(surviving) if surviving else 0.0
    print(f"file {size_mb:.0f} MB, {args.messages} messages, {len(gone)} deleted, {len(surviving)} not overwritten")
    print(f"recovered {recovered} / {len(surviving)} = {ratio:.3f} (target >= 0.9); false recoveries {false} "
          f"(target 0); carved rows {len(new)}, unmapped cells {result.unmapped}")
    print(f"runs: read {' '.join(f'{t:.2f}' for t in reads)} s, carve {' '.join(f'{t:.2f}' for t in carves)} s")
    print(f"read once {read_s:.2f} s, carve {carve_s:.2f} s, ratio {carve_s / read_s:.1f} (target <= 5); "
          f"every row read once through SQLite {sql_s:.2f} s, ratio {carve_s / sql_s:.1f}")
    print(f"size_mb={size_mb:.0f} deleted={len(gone)} not_overwritten={len(surviving)} recovered={recovered} "
          f"recovered_ratio={ratio:.3f} false_recoveries={false} read_s={read_s:.2f} carve_s={carve_s:.2f} "
          f"time_ratio={carve_s / read_s:.1f} sql_read_s={sql_s:.2f} sql_time_ratio={carve_s / sql_s:.1f}")


if __name__ == "__main__":
    main()
