"""Record cells no live b-tree reaches, read from a SQLite database file and its ``-wal`` as bytes.

Facts from the SQLite file-format documentation (https://www.sqlite.org/fileformat2.html, "Database File Format"
and "The WAL File Format"): the 100-byte header (page size at 16, reserved bytes per page at 20, first freelist
trunk page at 32, text encoding at 56); b-tree page headers (type 0x0D table leaf, 0x05 table interior, first
freeblock at 1, cell count at 3, cell content start at 5); freeblocks (2-byte next offset and 2-byte size written
over the first four bytes of the freed space, kept in ascending order); freelist trunk pages (next trunk, leaf
count, leaf page numbers) whose leaf pages keep their old bytes; table-leaf cells (payload-length varint, rowid
varint, record header of serial types, body; local payload size and the 4-byte first overflow page); and WAL
frames (24-byte frame header: page number, database size after a commit frame, the two salts and the cumulative
checksum, whose byte order the WAL magic gives).

Where the carver looks, and how a cell found there is labelled (``recovered_from``):

- ``freelist page N``: old table-leaf pages on the freelist (their cell pointers still locate whole cells, rowid
  included), and the bytes after a trunk page's list of leaves;
- ``freeblock in page N``: cells deleted from a live table-leaf page — the freeblock header overwrote the first
  four bytes of the cell (payload length and rowid, sometimes the record-header length and first serial type),
  so the rowid is usually lost and listed as missing; a record header is searched for just after those bytes;
- ``unallocated in page N``: stale cells between a page's cell-pointer array and its cell content (a newer cell
  may have overwritten a stale cell's tail: its columns that lie in intact bytes are kept, the rest listed), in
  table leaves and in table interior pages (a table's root page keeps the cells it held as a leaf after the table
  grows and the root becomes an interior page);
- ``main file page N (superseded)``: the main file's image of a page the WAL replaced (its rows the WAL
  deleted are also read back by the framework's WAL-deleted pass; the mapping reports each row once);
- ``wal frame N (superseded)``: committed WAL frames a later commit replaced, ``wal frame N (uncommitted)``:
  frames with valid checksums after the last commit frame, ``wal frame N (after last valid checksum)``: frames
  from the first bad checksum or salt on (usually left over from before the WAL was restarted). Every cell of
  such a page is returned; the mapping drops those equal to live rows.

A cell is assigned to a table by its column count and serial types against the live schema (``Layout``): the
owning table where the page is still in a table's b-tree, else the only table that fits; cells that fit none or
several are counted as unmapped. The carver never loops on cyclic freelists, freeblock or overflow chains (each
is walked with a visited set and a length bound) and keeps at most ``max_cells`` cells per file.
"""
from __future__ import annotations

import functools
import gc
import mmap
import operator
import os
import sqlite3
import struct
from dataclasses import dataclass, field
from pathlib import Path

try:  # the per-page work in C (setup.py builds it when it can); this module is its reference implementation
    from parsers.carving._cells import Engine as _Engine
except ImportError:  # pragma: no cover - a machine without a compiler
    _Engine = None

HEADER = b"SQLite format 3\x00"
TABLE_LEAF, TABLE_INTERIOR, INDEX_LEAF, INDEX_INTERIOR = 0x0D, 0x05, 0x0A, 0x02
WAL_MAGICS = (0x377F0682, 0x377F0683)
WAL_HEADER, FRAME_HEADER = 32, 24
MAX_CELLS = 2_000_000
MAX_COLUMNS = 2000  # SQLITE_MAX_COLUMN's default
_SIZES = (0, 1, 2, 3, 4, 6, 8, 8, 0, 0)


@dataclass(frozen=True)
class Column:
    name: str
    affinity: str  # INTEGER, TEXT, BLOB, REAL or NUMERIC (the rules of "Determination Of Column Affinity")
    rowid_alias: bool = False


@dataclass(frozen=True)
class Layout:
    """What a row of one rowid table looks like, from the live schema."""

    table: str
    root: int
    columns: tuple[Column, ...]

    @property
    def key_name(self) -> str:
        return next((c.name for c in self.columns if c.rowid_alias), "rowid")

    @functools.cached_property
    def alias_at(self) -> tuple[int, ...]:
        """Positions of the rowid alias column (none or one)."""
        return tuple(k for k, c in enumerate(self.columns) if c.rowid_alias)


@dataclass(slots=True)
class Carved:
    """One recovered row: ``values`` has one entry per column of ``table`` (None where absent or lost);
    ``missing`` names the columns (and ``rowid``/the rowid alias) that could not be recovered."""

    table: str
    rowid: int | None
    values: tuple
    missing: tuple[str, ...]
    recovered_from: str
    order: tuple = field(default=(), repr=False)
    # (C engine only) when every column but the rowid came back, none is a NaN and no overflow page was needed:
    # ``digest`` hashes the typed values (equal rows have equal digests: the de-duplication compares only rows
    # with the same digest) and ``record`` the record as stored (serial types and body; only a record with every
    # column of the table), looked up among the live rows' records
    digest: int | None = field(default=None, repr=False, compare=False)
    record: int | None = field(default=None, repr=False, compare=False)


@dataclass
class CarveResult:
    cells: list[Carved]
    unmapped: int = 0
    truncated: bool = False
    note: str | None = None
    live: LiveIndex | None = None  # the live cells of the wanted tables, when the C engine carved
    repeated: set[int] | None = None  # digests more than one cell has (C engine): the others are unique


class LiveIndex:
    """Rowids and record hashes of the live cells of the wanted tables, as the carver's walk of the live b-trees
    found them (C engine)."""

    def __init__(self, engine, index: dict[str, int], path: Path):
        self._engine, self._index, self.path = engine, index, path
        self.tables = set(index)
        self.checked: dict[str, bool] = {}  # table -> whether the index agrees with SQLite's row count

    def count(self, table: str) -> int:
        return self._engine.indexed(self._index[table.lower()])

    def rowids(self, table: str, rowids) -> dict[int, int | None]:
        """Those of ``rowids`` that live rows of ``table`` have, each with the hash of its live record (None when
        the record spills onto overflow pages)."""
        return self._engine.live_rowids(self._index[table.lower()], list(rowids))

    def records(self, table: str, hashes) -> dict[int, list[int]]:
        """hash -> rowids of the live rows of ``table`` whose record (serial types and body) hashes to it."""
        return self._engine.live_records(self._index[table.lower()], list(hashes))


def affinity(declared: str | None) -> str:
    t = (declared or "").upper()
    if "INT" in t:
        return "INTEGER"
    if "CHAR" in t or "CLOB" in t or "TEXT" in t:
        return "TEXT"
    if not t or "BLOB" in t:
        return "BLOB"
    if "REAL" in t or "FLOA" in t or "DOUB" in t:
        return "REAL"
    return "NUMERIC"


def layouts_from(db: sqlite3.Connection) -> list[Layout]:
    """Layouts of every rowid table of a (working copy of a) database, from sqlite_master and table_info."""
    layouts = []
    for name, root, sql in db.execute("SELECT name, rootpage, sql FROM sqlite_master WHERE type = 'table' "
                                      "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name").fetchall():
        if not root or not sql or "WITHOUT ROWID" in " ".join(sql.upper().split()) or \
                sql.lstrip().upper().startswith("CREATE VIRTUAL"):
            continue
        info = db.execute(f"PRAGMA table_info([{name}])").fetchall()
        pks = [r for r in info if r[5]]
        alias = pks[0][1] if len(pks) == 1 and (pks[0][2] or "").upper() == "INTEGER" else None
        layouts.append(Layout(name, int(root), tuple(Column(r[1], affinity(r[2]), r[1] == alias) for r in info)))
    return layouts


def varint(b, i: int, end: int):
    """(value, next index) of the SQLite varint at ``i``, or (None, i) when it runs past ``end``."""
    v = 0
    for k in range(8):
        if i + k >= end:
            return None, i
        c = b[i + k]
        v = (v << 7) | (c & 0x7F)
        if c < 0x80:
            return v, i + k + 1
    if i + 8 >= end:
        return None, i
    return (v << 8) | b[i + 8], i + 9


def type_size(t: int) -> int:
    return _SIZES[t] if t < 10 else (t - 12) >> 1


def _fits(t: int, column: Column) -> bool:
    if t in (10, 11):
        return False
    if column.rowid_alias:
        return t == 0
    if column.affinity == "TEXT":
        return t == 0 or t >= 12
    return True


class _File:
    """Pages of the database as SQLite sees it (main file overlaid with the latest committed WAL frames)."""

    def __init__(self, db_path: Path, wal_path: Path | None):
        self._handles = []
        self.db = self._map(db_path)
        if len(self.db) < 100 or bytes(self.db[:16]) != HEADER:
            raise ValueError("not a SQLite database")
        size = struct.unpack(">H", self.db[16:18])[0]
        self.page_size = 65536 if size == 1 else size
        if self.page_size < 512 or self.page_size & (self.page_size - 1):
            raise ValueError(f"bad page size {size}")
        self.usable = self.page_size - self.db[20]
        if self.usable < 480:
            raise ValueError("bad reserved space")
        self.encoding = {2: "utf-16-le", 3: "utf-16-be"}.get(struct.unpack(">I", self.db[56:60])[0], "utf-8")
        self.wal = self._map(wal_path) if wal_path is not None else b""
        self.frames: list[tuple[int, int, str]] = []  # (frame number, page, state) of every frame
        self.live_frame: dict[int, int] = {}  # page -> frame number whose image SQLite reads
        self.page_count = len(self.db) // self.page_size
        self._read_wal()

    def _map(self, path: Path):
        f = open(path, "rb")
        self._handles.append(f)
        try:
            m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # empty file
            return b""
        self._handles.append(m)
        return m

    def close(self) -> None:
        for h in reversed(self._handles):
            h.close()

    def frame_data(self, n: int) -> bytes:
        start = WAL_HEADER + (n - 1) * (FRAME_HEADER + self.page_size) + FRAME_HEADER
        return bytes(self.wal[start:start + self.page_size])

    def main_page(self, n: int) -> bytes | None:
        if n < 1 or n * self.page_size > len(self.db):
            return None
        return bytes(self.db[(n - 1) * self.page_size:n * self.page_size])

    def locate(self, n: int):
        """(buffer, offset) of the image of page ``n`` that ``page`` returns, or None."""
        if n < 1 or n > self.page_count:
            return None
        frame = self.live_frame.get(n)
        if frame:
            return self.wal, WAL_HEADER + (frame - 1) * (FRAME_HEADER + self.page_size) + FRAME_HEADER
        if n * self.page_size > len(self.db):
            return None
        return self.db, (n - 1) * self.page_size

    def page(self, n: int) -> bytes | None:
        if n < 1 or n > self.page_count:
            return None
        frame = self.live_frame.get(n)
        return self.frame_data(frame) if frame else self.main_page(n)

    def _read_wal(self) -> None:
        w = self.wal
        if len(w) < WAL_HEADER:
            return
        magic, _version, page_size, _seq, salt1, salt2, c1, c2 = struct.unpack(">8I", w[:WAL_HEADER])
        if magic not in WAL_MAGICS or page_size != self.page_size:
            return
        order = ">" if magic & 1 else "<"
        s = _checksum(order, w[:24], 0, 0)
        valid = s == (c1, c2)
        frame_size = FRAME_HEADER + page_size
        count = (len(w) - WAL_HEADER) // frame_size
        committed_upto, pending = 0, []
        states = []
        for i in range(count):
            at = WAL_HEADER + i * frame_size
            pgno, commit, fs1, fs2, fc1, fc2 = struct.unpack(">6I", w[at:at + FRAME_HEADER])
            if valid:
                s = _checksum(order, w[at + FRAME_HEADER:at + frame_size], *_checksum(order, w[at:at + 8], *s))
                valid = (fs1, fs2) == (salt1, salt2) and s == (fc1, fc2) and pgno > 0
            states.append((i + 1, pgno, valid, commit))
            if valid and commit:
                committed_upto = i + 1
                self.page_count = commit
        latest: dict[int, int] = {}
        for n, pgno, ok, _commit in states:
            if ok and n <= committed_upto:
                latest[pgno] = n
        self.live_frame = latest
        for n, pgno, ok, _commit in states:
            if not ok:
                state = "after last valid checksum"
            elif n > committed_upto:
                state = "uncommitted"
            elif latest.get(pgno) != n:
                state = "superseded"
            else:
                state = "live"
            self.frames.append((n, pgno, state))


def _checksum(order: str, data, s0: int, s1: int) -> tuple[int, int]:
    """The WAL checksum over ``data`` (a multiple of 8 bytes), continuing from (s0, s1)."""
    words = struct.unpack(f"{order}{len(data) // 4}I", data)
    for k in range(0, len(words), 2):
        s0 = (s0 + words[k] + s1) & 0xFFFFFFFF
        s1 = (s1 + words[k + 1] + s0) & 0xFFFFFFFF
    return s0, s1


@dataclass
class _Leaf:
    pointers: list[int]
    freeblocks: list[tuple[int, int]]
    unallocated: tuple[int, int]


def _leaf(page: bytes, hdr: int, usable: int) -> _Leaf | None:
    """The structure of a table-leaf page image, or None when its header is not a plausible one."""
    if len(page) < hdr + 8 or page[hdr] != TABLE_LEAF:
        return None
    first_free, ncells, content = struct.unpack(">HHH", page[hdr + 1:hdr + 7])
    content = content or 65536
    array_end = hdr + 8 + 2 * ncells
    if array_end > content or content > usable:
        return None
    pointers = [p for (p,) in struct.iter_unpack(">H", page[hdr + 8:array_end])]
    if any(p < content or p >= usable for p in pointers):
        return None
    freeblocks, seen, at = [], 0, first_free
    while at and len(freeblocks) < usable // 4:  # ascending offsets: no cycle can last
        if at <= seen or at + 4 > usable:
            break
        nxt, size = struct.unpack(">HH", page[at:at + 4])
        if size < 4 or at + size > usable:
            break
        freeblocks.append((at, size))
        seen, at = at, nxt
    return _Leaf(pointers, freeblocks, (array_end, content))


class Carver:
    """Carve one database (and its -wal). ``layouts``: every rowid table of the live schema; ``wanted``: the
    tables whose rows to return (cells of the others are recognised, so they are not counted as unmapped)."""

    def __init__(self, db_path: Path, wal_path: Path | None, layouts: list[Layout], wanted: set[str],
                 max_cells: int = MAX_CELLS, native: bool | None = None):
        self.f = _File(db_path, wal_path if wal_path and wal_path.exists() else None)
        self.path = db_path
        self.layouts = [lay for lay in layouts if 0 < len(lay.columns) <= MAX_COLUMNS]
        self.wanted = {w.lower() for w in wanted}
        self.max_cells = max_cells
        self.widest = max((len(lay.columns) for lay in self.layouts), default=0)
        self.result = CarveResult([])
        self.owner: dict[int, Layout] = {}
        # live interior pages of the tables: page -> (its table, start and end of its unallocated space); a page
        # that was a leaf before its table grew keeps the old leaf's cells there
        self.interior: dict[int, tuple[Layout, int, int]] = {}
        self.free: set[int] = set()
        self.trunks: list[tuple[int, int]] = []
        if native is None:
            native = _Engine is not None and not os.environ.get("FORENSICS_PURE_PYTHON_CARVER")
        self.engine = None
        if native:
            if _Engine is None:
                raise RuntimeError("the C carver is not built")
            f = self.f
            self._slot = {id(lay): k for k, lay in enumerate(self.layouts)}
            self.engine = _Engine(
                [(lay.table, tuple(c.name for c in lay.columns),
                  bytes(0 if c.rowid_alias else 1 if c.affinity == "TEXT" else 2 for c in lay.columns),
                  lay.table.lower() in self.wanted) for lay in self.layouts],
                self.widest, f.usable, {"utf-8": 0, "utf-16-le": 1, "utf-16-be": 2}[f.encoding], self._overflow,
                Carved)

    def close(self) -> None:
        if self.engine is not None:  # its overflow callback is a method of this carver: break that cycle
            self.engine.release()
        self.f.close()

    # -- the map of the live file -------------------------------------------------------------------------------
    def _walk_tables(self) -> None:
        f = self.f
        ps, owner = f.page_size, self.owner
        for lay in sorted(self.layouts, key=lambda x: x.root):
            stack, seen = [lay.root], set()
            while stack:
                n = stack.pop()
                if n in seen or n in owner or not 1 <= n <= f.page_count:
                    continue
                seen.add(n)
                at = f.locate(n)  # read in place: most pages are leaves, whose first byte is all that is needed
                if at is None:
                    continue
                buf, off = at
                hdr = off + (100 if n == 1 else 0)
                kind = buf[hdr]
                if kind == TABLE_LEAF:
                    owner[n] = lay
                elif kind == TABLE_INTERIOR:
                    ncells, content, right = struct.unpack_from(">HHxI", buf, hdr + 3)
                    stack.append(right)
                    start, end = hdr - off + 12 + 2 * ncells, content or 65536
                    if start < end <= f.usable:
                        self.interior[n] = (lay, start, end)
                    # cell pointers that lie in the page (a damaged count may claim more)
                    count = min(ncells, f.usable // 2, (off + ps - hdr - 12) // 2)
                    for (p,) in struct.iter_unpack(">H", buf[hdr + 12:hdr + 12 + 2 * count]):
                        if p + 4 <= ps:
                            stack.append(struct.unpack_from(">I", buf, off + p)[0])

    def _walk_freelist(self) -> None:
        f = self.f
        first = f.page(1)
        trunk = struct.unpack(">I", first[32:36])[0] if first else 0
        seen = set()
        while trunk and trunk not in seen and 1 <= trunk <= f.page_count:
            seen.add(trunk)
            page = f.page(trunk)
            if page is None:
                break
            nxt, count = struct.unpack(">II", page[:8])
            count = min(count, f.usable // 4 - 2)
            self.trunks.append((trunk, count))
            for (leaf,) in struct.iter_unpack(">I", page[8:8 + 4 * count]):
                if 1 <= leaf <= f.page_count and leaf not in seen:
                    self.free.add(leaf)
            trunk = nxt
        self.free -= seen

    # -- carving ------------------------------------------------------------------------------------------------
    def carve(self) -> CarveResult:
        f = self.f
        self._walk_tables()
        self._walk_freelist()
        if self.engine is not None:
            return self._carve_native()
        for trunk, count in self.trunks:
            page = f.page(trunk)
            self._scan(page, 8 + 4 * count, f.usable, None, f"freelist page {trunk}", (0, trunk))
        for n in sorted(self.free):
            self._old_page(f.page(n), n, None, f"freelist page {n}", (0, n), whole=True)
        for n in sorted(self.owner):
            self._old_page(f.page(n), n, self.owner[n], None, (1, n), whole=False)
            if n in f.live_frame:  # the main file's older image of a page the WAL replaced
                main = f.main_page(n)
                if main is not None:
                    self._old_page(main, n, self.owner[n], f"main file page {n} (superseded)", (2, n), whole=True)
        for n in sorted(self.interior):
            lay, start, end = self.interior[n]
            self._scan(f.page(n), start, end, lay, f"unallocated in page {n}", (1, n), guess=False)
        for frame, pgno, state in f.frames:
            if state != "live":
                self._old_page(f.frame_data(frame), pgno, self.owner.get(pgno),
                               f"wal frame {frame} ({state})", (3, frame), whole=True)
        self.result.cells.sort(key=lambda c: c.order)
        return self.result

    def _carve_native(self) -> CarveResult:
        """The same visits as ``carve``, in the same order, done by the C engine in one call: each visit is
        (buffer, offset, length, header offset, owner, whole, index live cells, scan start, scan end, page, label,
        order); the engine builds the ``Carved`` cells itself."""
        f, slot = self.f, self._slot
        ps, frame_size = f.page_size, FRAME_HEADER + f.page_size
        db_len = len(f.db)
        visits = []

        def where(n):  # (buffer, offset) of the image of page n SQLite reads, or None
            if n < 1 or n > f.page_count:
                return None
            frame = f.live_frame.get(n)
            if frame:
                return 1, WAL_HEADER + (frame - 1) * frame_size + FRAME_HEADER
            return (0, (n - 1) * ps) if n * ps <= db_len else None

        for trunk, count in self.trunks:
            at = where(trunk)
            visits.append((*at, ps, 0, -1, True, False, 8 + 4 * count, f.usable, trunk, f"freelist page {trunk}",
                           (0, trunk), True))
        for n in sorted(self.free):
            at = where(n)
            if at is not None:
                visits.append((*at, ps, 100 if n == 1 else 0, -1, True, False, -1, 0, n, f"freelist page {n}", (0, n),
                               True))
        live_frame, owner = f.live_frame, self.owner
        for n in sorted(owner):
            at = where(n)
            hdr, lay = 100 if n == 1 else 0, slot[id(owner[n])]
            if at is not None:
                visits.append((*at, ps, hdr, lay, False, True, -1, 0, n, None, (1, n), True))
            if n in live_frame and n * ps <= db_len:  # the main file's older image of a page the WAL replaced
                visits.append((0, (n - 1) * ps, ps, hdr, lay, True, False, -1, 0, n,
                               f"main file page {n} (superseded)", (2, n), True))
        for n in sorted(self.interior):
            at, (lay, start, end) = where(n), self.interior[n]
            if at is not None:
                visits.append((*at, ps, 100 if n == 1 else 0, slot[id(lay)], False, False, start, end, n,
                               f"unallocated in page {n}", (1, n), False))
        for frame, pgno, state in f.frames:
            if state != "live":
                lay = owner.get(pgno)
                visits.append((1, WAL_HEADER + (frame - 1) * frame_size + FRAME_HEADER, ps, 100 if pgno == 1 else 0,
                               -1 if lay is None else slot[id(lay)], True, False, -1, 0, pgno,
                               f"wal frame {frame} ({state})", (3, frame), True))
        result = self.result
        result.cells, result.unmapped, truncated, result.repeated = self.engine.visit((f.db, f.wal), visits,
                                                                                     self.max_cells)
        if truncated:
            result.truncated = True
            result.note = f"stopped after {self.max_cells} carved cells"
        result.cells.sort(key=operator.attrgetter("order"))
        result.live = LiveIndex(self.engine, {lay.table.lower(): slot[id(lay)] for lay in self.layouts
                                              if lay.table.lower() in self.wanted}, self.path)
        return result

    def _old_page(self, page, n: int, owner: Layout | None, label: str | None, order: tuple, whole: bool) -> None:
        """A page image: its own cells when ``whole`` (a freed page or an old WAL frame), its freeblocks and its
        unallocated space; a page that is no table leaf is scanned when ``whole`` and it is no b-tree page."""
        if page is None or self.result.truncated:
            return
        f = self.f
        hdr = 100 if n == 1 else 0
        leaf = _leaf(page, hdr, f.usable)
        if leaf is None:
            if whole and page[hdr] not in (TABLE_INTERIOR, INDEX_LEAF, INDEX_INTERIOR):
                self._scan(page, 0, f.usable, owner, label, order)
            return
        if whole:
            for p in sorted(leaf.pointers):
                self._intact(page, p, f.usable, owner, label, (*order, p), count_unmapped=True)
        for at, size in leaf.freeblocks:
            self._freeblock(page, at, at + size, owner, label or f"freeblock in page {n}", (*order, at))
        start, end = leaf.unallocated
        self._scan(page, start, end, owner, label or f"unallocated in page {n}", order)

    def _scan(self, page, start: int, end: int, owner, label: str, order: tuple, guess: bool = True) -> None:
        """Every offset of a region of stale bytes, for intact cells and, with ``guess``, for freed cells behind a
        stale freeblock head (those searches are bounded per region). An interior page's stale bytes are scanned
        for intact cells only: old interior cells (a page number and a rowid) there read as freed-cell guesses."""
        p = start
        budget = 64 + (end - start) // 8  # failed lost-start searches (each tries every layout), per region
        while p < end - 3 and not self.result.truncated:
            nxt = self._intact(page, p, end, owner, label, (*order, p), count_unmapped=False, strict=True)
            if not nxt and guess and budget > 0 and page[p + 2] | page[p + 3]:  # a stale freeblock head: an older freed cell
                size, link = (page[p + 2] << 8) | page[p + 3], (page[p] << 8) | page[p + 1]
                # the old freeblock may have been larger than the stale region left of it; its link points on
                if size >= 8 and p + size <= len(page) and (link == 0 or p < link < len(page)):
                    if self._lost_start(page, p, min(p + size, end), owner, label, (*order, p)):
                        nxt = p + 4  # cells the guess may have spanned are still looked for
                    else:
                        budget -= 1
            p = nxt if nxt else p + 1

    def _freeblock(self, page, start: int, end: int, owner, label: str, order: tuple) -> None:
        """Cells in one freeblock: each freed cell lost its first four bytes to a freeblock header (adjacent freed
        cells merge), so at every cell start a lost-start cell is tried as well as an intact one."""
        p, steps = start, 0
        while p < end - 3 and steps < 4096 and not self.result.truncated:
            steps += 1
            nxt = self._intact(page, p, end, owner, label, (*order, p), count_unmapped=False)
            if not nxt:
                nxt = self._lost_start(page, p, end, owner, label, (*order, p))
            if not nxt:
                self._scan(page, p + 4, end, owner, label, order)
                return
            p = nxt

    # -- one cell -----------------------------------------------------------------------------------------------
    def _types(self, page, i: int, end: int, limit: int):
        """Serial types from ``i`` up to ``end`` (at most ``limit``, and never more than the widest table has),
        or None on a reserved or truncated type."""
        limit = min(limit, self.widest)
        if end - i > 9 * limit:
            return None
        types = []
        while i < end:
            if len(types) >= limit:
                return None
            c = page[i]
            if c < 0x80:  # a one-byte serial type: nearly all of them
                if c == 10 or c == 11:
                    return None
                types.append(c)
                i += 1
                continue
            t, i = varint(page, i, end)
            if t is None or t > 0xFFFFFFFF:
                return None
            types.append(t)
        return types if i == end else None

    def _candidates(self, types: list[int], owner: Layout | None, layouts=None) -> list[Layout]:
        """Layouts a record fits: its column count, else (a row written before ``ALTER TABLE ... ADD COLUMN``)
        a table with more columns, the owning table first."""
        n = len(types)
        if owner is not None and n <= len(owner.columns) and all(_fits(t, c) for t, c in zip(types, owner.columns)):
            return [owner]
        pool = self.layouts if layouts is None else layouts
        exact = [lay for lay in pool if len(lay.columns) == n and all(_fits(t, c) for t, c in zip(types, lay.columns))]
        if exact or n < 2:
            return exact
        return [lay for lay in pool if len(lay.columns) > n and all(_fits(t, c) for t, c in zip(types, lay.columns))]

    def _intact(self, page, p: int, end: int, owner, label, order, count_unmapped: bool, strict: bool = False
                ) -> int:
        """A whole cell at ``p`` (bytes up to ``end`` are trustworthy); returns where it ends, or 0. ``strict``
        (stale bytes, where another cell may have overwritten part of this one): a column that does not decode
        rejects the cell rather than being listed as missing."""
        f = self.f
        payload, q = varint(page, p, end)
        if payload is None or payload < 2 or payload > 1 << 31:
            return 0
        rowid, h = varint(page, q, end)
        if rowid is None:
            return 0
        hlen, r = varint(page, h, end)
        if hlen is None or hlen < 2 or hlen > payload or h + hlen > len(page) or hlen > 9 * self.widest + 9:
            return 0
        types = self._types(page, r, h + hlen, MAX_COLUMNS)
        if not types or hlen + sum(type_size(t) for t in types) != payload:
            return 0
        rowid = rowid - (1 << 64) if rowid >= 1 << 63 else rowid
        fits = self._candidates(types, owner)
        if len(fits) != 1:
            if not count_unmapped:
                return 0
            self.result.unmapped += 1
            return h + hlen
        return self._emit(page, fits[0], rowid, types, h, h + hlen, payload, end, None, label, order,
                          strict=strict or owner is None, aligned=strict, crossing=True)

    def _lost_start(self, page, p: int, end: int, owner, label, order) -> int:
        """A freed cell whose first four bytes a freeblock header overwrote; returns where it ends, or 0."""
        layouts = [owner] if owner is not None else self.layouts
        # (a) the header survives after the rowid's last byte(s)
        for h in range(p + 4, min(p + 13, end)):
            if h > p + 4 and (page[h - 1] >= 0x80 or any(b < 0x80 for b in page[p + 4:h - 1])):
                continue
            hlen, r = varint(page, h, end)
            if hlen is None or hlen < 2 or h + hlen > end:
                continue
            types = self._types(page, r, h + hlen, MAX_COLUMNS)
            if not types:
                continue
            fits = self._candidates(types, owner, layouts)
            if len(fits) == 1:
                body = sum(type_size(t) for t in types)
                got = self._emit(page, fits[0], None, types, h, h + hlen, hlen + body, end, None, label, order,
                                 strict=True, aligned=True)
                if got:
                    return got
        # (b) the header-length byte (at p + 3), or it and the first serial type (p + 2, p + 3), are lost; the
        # serial types from p + 4 on are read once (with their end offsets) for every layout and both cases
        widest = max(len(lay.columns) for lay in layouts) if layouts else 0
        read, ends, i = [], [], p + 4
        while len(read) < widest and i < end:
            c = page[i]
            if c < 0x80:
                t, i = c, i + 1
            else:
                t, i = varint(page, i, end)
                if t is None or t > 0xFFFFFFFF:
                    break
            if t == 10 or t == 11:
                break
            read.append(t)
            ends.append(i)
        for lay in layouts:
            n = len(lay.columns)
            for lost in (1, 2):
                count = n - (lost - 1)
                if lost == 2 and n < 2 or count > len(read) or count == 0:
                    continue
                types, i = read[:count], ends[count - 1]
                h = p + 4 - lost  # where the header began
                unknown = None
                if lost == 2:
                    first = lay.columns[0]
                    if first.rowid_alias:
                        types.insert(0, 0)
                    else:
                        rest = sum(type_size(t) for t in types)
                        size = end - i - rest
                        if size < 0 or size > 57:  # a one-byte serial type
                            continue
                        unknown = size
                        types.insert(0, 12 + 2 * size)  # a stand-in of the right size; its value is not kept
                if not all(_fits(t, c) for t, c in zip(types, lay.columns)):
                    continue
                hlen = i - h
                body = sum(type_size(t) for t in types)
                got = self._emit(page, lay, None, types, h, i, hlen + body, end, unknown, label, order,
                                 strict=True, aligned=True)
                if got:
                    return got
        return 0

    def _emit(self, page, lay: Layout, rowid, types, h: int, body_at: int, payload: int, end: int, unknown,
              label, order, strict: bool, aligned: bool = False, crossing: bool = False) -> int:
        """Decode the columns that lie in trustworthy bytes; record the cell; return where it ends (0: rejected).

        ``strict`` (no owning table, or a header found by search): text must decode. ``aligned`` (stale bytes): the
        cell must end at ``end`` (give or take a fragment of up to 3 bytes) or be followed by another parseable
        cell — a cell whose tail a later cell overwrote is not followed by one, and its last values are not its own;
        with ``crossing`` a cell may run past ``end`` (its tail lies under live content: those columns are missing).
        """
        f = self.f
        local, overflow = _local_size(payload, f.usable), None
        cell_end = h + local + (4 if local < payload else 0)
        if aligned:
            if cell_end > end and not crossing:
                return 0
            if cell_end < end - 3 and not self._parses_at(page, cell_end, end):
                return 0
        if local < payload and cell_end <= end:
            overflow = self._overflow(struct.unpack(">I", page[cell_end - 4:cell_end])[0], payload - local)
        data = bytes(page[h:min(h + local, end)]) + (overflow or b"")
        values, missing = [], []
        at = body_at - h
        for k, (t, col) in enumerate(zip(types, lay.columns)):
            size = type_size(t)
            if k == 0 and unknown is not None:
                values.append(None)
                missing.append(col.name)
            elif col.rowid_alias:
                values.append(rowid)
                if rowid is None:
                    missing.append(col.name)
            elif at + size > len(data):
                values.append(None)
                missing.append(col.name)
            else:
                v = _value(t, data, at, f.encoding)
                if v is _BAD:
                    if strict:
                        return 0
                    values.append(None)
                    missing.append(col.name)
                else:
                    values.append(v)
            at += size
        values += [None] * (len(lay.columns) - len(values))  # columns added after the row was written
        if rowid is None and not any(c.rowid_alias for c in lay.columns):
            missing.insert(0, "rowid")
        if sum(v is not None for v, c in zip(values, lay.columns) if not c.rowid_alias) < 2:
            return 0  # too little to be a row rather than a run of zero bytes that parses as one
        if lay.table.lower() in self.wanted and label is not None:
            if len(self.result.cells) >= self.max_cells:
                self.result.truncated = True
                self.result.note = f"stopped after {self.max_cells} carved cells"
                return 0
            self.result.cells.append(Carved(lay.table, rowid, tuple(values), tuple(missing), label, order))
        return max(cell_end, h + 1) if cell_end <= end else end

    def _parses_at(self, page, p: int, end: int) -> bool:
        payload, q = varint(page, p, end)
        if payload is None or payload < 2:
            return self._lost_start_shape(page, p, end)
        _rowid, h = varint(page, q, end)
        hlen, r = varint(page, h, end)
        if hlen is None or hlen < 2 or h + hlen > end:
            return self._lost_start_shape(page, p, end)
        types = self._types(page, r, h + hlen, MAX_COLUMNS)
        return bool(types) and hlen + sum(type_size(t) for t in types) == payload or \
            self._lost_start_shape(page, p, end)

    def _lost_start_shape(self, page, p: int, end: int) -> bool:
        """Whether a lost-start cell of some layout fits at ``p`` (its first four bytes being a freeblock head)."""
        if p + 4 > end:
            return False
        nxt, size = struct.unpack(">HH", page[p:p + 4])
        return size >= 4 and p + size <= len(page) and (nxt == 0 or p < nxt < len(page))

    def _overflow(self, first: int, need: int) -> bytes | None:
        """The rest of a payload from its overflow chain, only through pages on the freelist (a chain through live
        pages belongs to a live row); None when the chain is not whole."""
        f = self.f
        out, seen, n = [], set(), first
        limit = need // (f.usable - 4) + 2
        while need > 0 and n and n not in seen and len(seen) < limit:
            if n not in self.free:
                return None
            seen.add(n)
            page = f.page(n)
            if page is None:
                return None
            chunk = page[4:min(f.usable, 4 + need)]
            out.append(chunk)
            need -= len(chunk)
            n = struct.unpack(">I", page[:4])[0]
        return b"".join(out) if need <= 0 else None


_BAD = object()


def _value(t: int, data: bytes, at: int, encoding: str):
    if t == 0:
        return None
    if t <= 6:
        return int.from_bytes(data[at:at + _SIZES[t]], "big", signed=True)
    if t == 7:
        return struct.unpack(">d", data[at:at + 8])[0]
    if t in (8, 9):
        return t - 8
    size = (t - 12) >> 1
    raw = data[at:at + size]
    if t & 1 == 0:
        return raw
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        return _BAD
    return _BAD if "\x00" in text else text


def _local_size(payload: int, usable: int) -> int:
    """How much of a table-leaf payload is stored in the cell itself (the file format's X, M and K)."""
    x = usable - 35
    if payload <= x:
        return payload
    m = ((usable - 12) * 32 // 255) - 23
    k = m + (payload - m) % (usable - 4)
    return k if k <= x else m


def carve(db_path: Path, wal_path: Path | None, layouts: list[Layout], wanted, max_cells: int = MAX_CELLS,
          native: bool | None = None) -> CarveResult:
    """Carve a database file (and its -wal when given and present); see the module docstring. ``native``: the C
    engine (default: when built, unless FORENSICS_PURE_PYTHON_CARVER is set) or the pure-Python reference."""
    try:
        carver = Carver(Path(db_path), Path(wal_path) if wal_path else None, layouts, set(wanted), max_cells, native)
    except (ValueError, OSError, struct.error) as exc:
        return CarveResult([], note=f"not carved: {exc}")
    collecting = gc.isenabled()
    gc.disable()  # hundreds of thousands of new objects, none of them in a cycle: no collection passes meanwhile
    try:
        return carver.carve()
    finally:
        if collecting:
            gc.enable()
        carver.close()
