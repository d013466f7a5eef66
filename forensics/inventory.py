"""The file inventory: one row per entry (deleted ones too) with hashes, MIME type and times, in one read.

Each file's bytes are read exactly once: the same chunks feed sha256, md5, the MIME sniffer (first chunk only) and,
for the files some parser asked for, a working copy in the spool folder. Parsers later read those copies, so an
archive is never decompressed twice and the evidence itself is never opened by a parser. The walk only reads; the
hashing and typing of what it read run on worker threads (see ``inventory``), so they use every core.
"""
from __future__ import annotations

import contextlib
import io
import os
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator

import magic

from artifacts import timestamps
from forensics.confidential import open_private, private_dir
from forensics.entries import FILE, FileEntry
from forensics.hashing import CHUNK, Digests, Hashes, hash_many, sha256_lane
from forensics.pack import PACK_BYTES, Pack, PackSlot, open_section

# How much of a file libmagic sees. Binary formats are recognised by signatures within the first KiB (tar's at 257,
# an APK's first members); libmagic's text tests cost in proportion to the bytes given, and text formats (XML,
# JSON, HTML, scripts) announce themselves at the start.
MIME_HEAD_BINARY = 1024
MIME_HEAD_TEXT = 256


@dataclass(frozen=True)
class SpooledFile:
    """A working copy of one evidence file, with the provenance of the original."""

    local: Path
    partition: str
    path: str
    inode: str | None
    size: int
    allocated: bool
    evidence_id: str = ""
    sha256: str | None = None  # the inventory's hash of these bytes, so a parser that reports it need not re-read
    offset: int | None = None  # not None: the copy is ``size`` bytes at this offset of the pack file ``local``
    data: bytes | None = None  # not None: the copy is held in memory (``local`` is None), see ``MemorySlot``

    @property
    def own_file(self) -> bool:
        """The copy is a file of its own at ``local`` (not a section of a pack, not held in memory)."""
        return self.offset is None and self.data is None

    def open(self):
        """The working copy as a seekable binary stream: a file of its own, a section of a pack, or bytes held."""
        if self.data is not None:
            return io.BytesIO(self.data)
        if self.offset is None:
            return open(self.local, "rb")
        return open_section(self.local, self.offset, self.size)


class MemorySlot:
    """A working copy kept in memory: a photo of at most ``MEMORY_COPY_MAX`` bytes whose parsers read it as a
    stream and need nothing else (``stream`` and ``standalone``), parsed a batch at a time while the inventory goes
    on. Its bytes are those the walk read for the hashes, so writing them to a pack and reading them back again
    (about a tenth of a logical extraction's ingest time, on the walking thread) is saved. Held copies are bounded
    by the batch that parses them (``cases.ingest._AtOnce``)."""

    __slots__ = ("chunks",)

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, chunk: bytes) -> None:
        self.chunks.append(chunk)

    def close(self) -> None:
        pass

    def unlink(self, missing_ok: bool = False) -> None:
        self.chunks = []

    def data(self) -> bytes:
        return self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)


MAGIC_NO_CHECK_SIMH = 0x0800000  # libmagic >= 5.38: SIMH tape images, a slow scan of every buffer


class MimeSniffer:
    """python-magic on the head of the file (see MIME_HEAD_*), so that type identification never dominates.

    The SIMH tape-image test (an old simulator's format, never on a phone) is switched off: it scans the whole
    buffer and was a third of the time spent on text files.
    """

    def __init__(self) -> None:
        self._magic = magic.Magic(mime=True)
        try:
            magic.magic_setflags(self._magic.cookie, magic.MAGIC_MIME_TYPE | MAGIC_NO_CHECK_SIMH)
        except magic.MagicException:
            pass  # an older libmagic without that test

    def __call__(self, head: bytes, size: int) -> str:
        if size == 0:
            return "inode/x-empty"
        text_like = b"\x00" not in head[:MIME_HEAD_TEXT]
        return self._magic.from_buffer(head[:MIME_HEAD_TEXT] if text_like else head[:MIME_HEAD_BINARY])


def spool_path(spool_dir: Path, partition: str, path: str) -> Path:
    """Where the working copy of ``path`` goes: the original tree mirrored, so a database keeps its -wal beside it.

    Names come from evidence: empty, ``.``, ``..`` and NUL-bearing parts are neutralised so nothing lands outside
    ``spool_dir``.
    """
    parts = [p.replace("\x00", "_") for p in path.split("/") if p not in ("", ".", "..")]
    return spool_dir.joinpath(partition, *parts) if parts else spool_dir / partition / "_"


# The inventory's pipeline. The walking thread reads every file once and hands the bytes of a batch of files to a
# pool of threads (one per core this process may use, 2 to 8) that hash them (sha256 and md5: ``hashing.hash_many``,
# md5 of a whole batch on SIMD lanes) and identify their type: hashlib, the md5 extension and libmagic (through
# ctypes) release the GIL, so reading, hashing and typing run on every core while the evidence hash runs beside them.
WORKERS = min(8, max(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 2))
BATCH_FILES = 64  # files per batch handed to a worker
BATCH_BYTES = 4 << 20  # ... or fewer, once their bytes reach this
IN_MEMORY_MAX = 8 << 20  # a larger file is hashed as it is read (never held whole), sha256 beside md5 on two threads
MEMORY_COPY_MAX = IN_MEMORY_MAX  # a photo up to this size is copied in memory (``MemorySlot``), a larger one to a pack
MAX_PENDING = WORKERS + 2  # batches handed over, not yet collected; the walk waits beyond that (bounds the bytes held)


def inventory(sources: Iterable[tuple[str, Iterable[FileEntry]]], wanted: Callable[[str], bool],
              spool_dir: Path, on_entry: Callable[[FileEntry], None] | None = None,
              packable: Callable[[str], bool] | None = None) -> Iterator[tuple[dict, SpooledFile | None]]:
    """Yield (file row, spooled copy or None) for every entry of every source, in order, reading each file once.

    The walk reads each file's bytes (and writes the working copy of a wanted one); the hashes and the MIME type
    are computed by worker threads, a batch of files at a time, and the rows come back in walk order.

    A wanted file for which ``packable`` says yes (only parsers that read it as a stream want it: photos) is copied
    into the one pack file beside ``spool_dir`` (``forensics.pack``) rather than to a file of its own.
    """
    spool = _Spool(spool_dir, packable)
    sniffers = threading.local()
    batch: list[_Item] = []
    batch_bytes = 0
    pending: deque[Future] = deque()  # futures of the batches handed over, oldest first
    held = 0  # bytes of working copies made but not yet handed over (the caller may parse and delete them)
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="inventory") as pool, sha256_lane() as lane, \
            contextlib.closing(spool):
        for _partition, source in sources:
            for entry in source:
                if on_entry is not None:
                    on_entry(entry)
                item = _inventory_entry(entry, wanted, spool, lane)
                batch.append(item)
                batch_bytes += item.held
                held += item.copied
                if len(batch) >= BATCH_FILES or batch_bytes >= BATCH_BYTES or held > spool.limit:
                    pending.append(pool.submit(_digest_batch, sniffers, batch))
                    batch, batch_bytes = [], 0
                while pending and (len(pending) > MAX_PENDING or pending[0].done() or held > spool.limit):
                    done = pending.popleft().result()
                    held -= sum(item.copied for item in done)
                    yield from _finished(done)
        if batch:
            pending.append(pool.submit(_digest_batch, sniffers, batch))
        spool.close()  # every copy written before the last rows are handed over
        while pending:
            yield from _finished(pending.popleft().result())


class _Item:
    """One entry on its way through the pipeline: its row, and what is left to do on a worker."""

    __slots__ = ("row", "target", "head", "chunks", "held", "digests", "copied")

    def __init__(self, row: dict, target: Path | None = None, head: bytes | None = None,
                 chunks: list[bytes] | None = None, digests: Digests | Hashes | None = None):
        self.row = row
        self.target = target  # the working copy written, for a file read without error
        self.head = head  # the bytes to identify; None: nothing read (no MIME type)
        self.chunks = chunks  # the file's bytes, still to hash; None: hashed already (or nothing to hash)
        self.held = sum(map(len, chunks)) if chunks else 0
        self.digests = digests
        self.copied = row["size"] if target is not None else 0  # bytes of working copy made for this file


def _digest_batch(sniffers: threading.local, batch: list[_Item]) -> list[_Item]:
    """On a worker: hash the bytes read and identify the type of every file of ``batch``."""
    sniff = getattr(sniffers, "sniff", None)
    if sniff is None:
        sniff = sniffers.sniff = MimeSniffer()  # one libmagic handle per thread: a handle is not thread-safe
    held = [item for item in batch if item.chunks is not None]
    for item, hashes in zip(held, hash_many([item.chunks for item in held])):  # md5 of the batch on SIMD lanes
        item.digests, item.chunks = hashes, None
    for item in batch:
        if item.head is not None:
            item.row["mime_type"] = sniff(item.head, item.row["size"])
    return batch


def _finished(batch: list[_Item]) -> Iterator[tuple[dict, SpooledFile | None]]:
    for item in batch:
        row, spooled = item.row, None
        if item.digests is not None:
            row["sha256"], row["md5"] = item.digests.sha256, item.digests.md5
            if item.target is not None:
                target = item.target
                if isinstance(target, MemorySlot):
                    spooled = SpooledFile(None, row["partition"], row["path"], row["inode"], row["size"],
                                          row["allocated"], sha256=row["sha256"], data=target.data())
                else:
                    packed = isinstance(target, PackSlot)
                    spooled = SpooledFile(target.path if packed else target, row["partition"], row["path"],
                                          row["inode"], row["size"], row["allocated"], sha256=row["sha256"],
                                          offset=target.offset if packed else None)
        yield row, spooled


_SIDECARS = ("-wal", "-shm", "-journal")


class _Spool:
    """Where each wanted file's working copy goes. An archive can hold the same path twice (a tar with an
    appended newer version): each occurrence gets its own copy, in ``duplicate-<n>/``, so no copy overwrites
    another and every parser run keeps the provenance of the member it read; a database's -wal/-shm/-journal
    follows the latest occurrence of its database."""

    def __init__(self, root: Path, packable: Callable[[str], bool] | None = None):
        self.root = root
        self.limit = spool_limit()  # read once per inventory: asked for every file
        self.scratch = _Scratch(root)
        self.seen: dict[tuple[str, str], int] = {}
        self.packable = packable
        # packs of at most half a working copy's limit: the one being parsed, the next and the copies read ahead
        # together stay within a few copies' worth of scratch
        self.pack = Pack(root.with_name(root.name + ".pack"), min(PACK_BYTES, self.limit // 2))

    def target(self, partition: str, path: str, size: int) -> Path | PackSlot | MemorySlot:
        sidecar = path.endswith(_SIDECARS)
        if not sidecar and self.packable is not None and self.packable(path):
            return MemorySlot() if size <= min(MEMORY_COPY_MAX, self.limit) else self.pack.slot()
        key = (partition, path.rsplit("-", 1)[0] if sidecar else path)
        if sidecar:
            occurrence = max(self.seen.get(key, 1) - 1, 0)
        else:
            occurrence = self.seen.get(key, 0)
            self.seen[key] = occurrence + 1
        root = self.root if occurrence == 0 else self.root / f"duplicate-{occurrence}"
        return spool_path(root, partition, path)

    def close(self) -> None:
        self.pack.close()


SPOOL_MAX_BYTES = 8 << 30  # a working copy larger than this is not made (its file is still hashed and listed)


def spool_limit() -> int:
    """Bytes one working copy may have: ``FORENSICS_SPOOL_MAX_BYTES`` when set, else ``SPOOL_MAX_BYTES``."""
    import os

    try:
        return max(int(os.environ.get("FORENSICS_SPOOL_MAX_BYTES", SPOOL_MAX_BYTES)), 0)
    except ValueError:
        return SPOOL_MAX_BYTES


SCRATCH_RESERVE_BYTES = 1 << 30  # a working copy is not made when it would leave less free on the work folder's disk


class _Scratch:
    """Why a copy of ``size`` bytes is not made on ``root``'s disk (``FORENSICS_SCRATCH_RESERVE_BYTES`` must stay
    free), or None: a full disk would fail the case's store and every other device, a skipped copy fails one file.

    The disk is asked (``os.statvfs``, as ``shutil.disk_usage``) again once the copies asked for since the last
    answer reach ``RECHECK_BYTES``, or when that answer less those copies would not leave the reserve: a copy is
    only ever refused on a fresh answer, and one is accepted on an answer at most ``RECHECK_BYTES`` of copies old
    (asking for each of a device's thousands of photos cost 0.1 ms each). The folder asked about, ``root`` or its
    nearest existing parent, and the reserve are found once (folders made under it later are on the same disk)."""

    RECHECK_BYTES = 64 << 20

    def __init__(self, root: Path):
        try:
            reserve = max(int(os.environ.get("FORENSICS_SCRATCH_RESERVE_BYTES", SCRATCH_RESERVE_BYTES)), 0)
        except ValueError:
            reserve = SCRATCH_RESERVE_BYTES
        self.reserve = reserve
        folder = root
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        self.folder = folder
        self.free: int | None = None  # the disk's last answer
        self.asked = 0  # bytes of copies asked for since

    def short(self, size: int) -> str | None:
        if self.free is not None and self.asked + size < self.RECHECK_BYTES and \
                self.free - self.asked - size >= self.reserve:
            self.asked += size
            return None
        try:
            st = os.statvfs(self.folder)
        except OSError:
            self.free = None
            return None
        free = st.f_bavail * st.f_frsize
        if free - size >= self.reserve:
            self.free, self.asked = free, size
            return None
        self.free = None
        return (f"not copied for the parsers: no scratch space, {size} bytes would leave less than {self.reserve} "
                f"bytes free on the work folder's disk ({free} free, FORENSICS_SCRATCH_RESERVE_BYTES)")


def _text_name(value: str | None) -> tuple[str | None, str | None]:
    """A name as storable text, and a note when it had to change: bytes that are not UTF-8 (kept by the sources
    as surrogate escapes) are written ``\\xNN`` and the note gives the exact bytes in hex, so nothing is lost."""
    if value is None:
        return None, None
    try:
        value.encode("utf-8")
        return value, None
    except UnicodeEncodeError:
        raw = value.encode("utf-8", "surrogateescape")
        return raw.decode("utf-8", "backslashreplace"), f"name is not valid UTF-8, its bytes (hex): {raw.hex()}"


def _inventory_entry(entry: FileEntry, wanted, spool: _Spool, lane=None) -> _Item:
    """The row (without hashes and MIME type) and the file's bytes read, for a worker to finish."""
    path, odd = _text_name(entry.path)
    if odd:
        entry = replace(entry, path=path, note=_join(entry.note, odd) if entry.note else odd)
    target_text, odd = _text_name(entry.link_target)
    if odd:
        entry = replace(entry, link_target=target_text, note=_join(entry.note, f"link target {odd}")
                        if entry.note else f"link target {odd}")
    row = {
        "partition": entry.partition, "path": entry.path, "name": entry.name, "inode": entry.inode,
        "size": entry.size, "kind": entry.kind, "allocated": entry.allocated, "recoverable": None,
        "link_target": entry.link_target, "note": entry.note, "sha256": None, "md5": None, "mime_type": None,
    }
    for key in ("mtime", "atime", "ctime", "crtime"):
        value = entry.times.get(key)
        row[key], row[f"{key}_raw"], row[f"{key}_encoding"] = (value.iso, value.raw, value.encoding) \
            if value is not None else (None, None, None)  # a time kept undecoded has its raw value and encoding
        if value and timestamps.ZONE_UNKNOWN in value.encoding:  # a wall clock: never in the UTC column
            row[key], row[f"{key}_local"] = None, value.iso
    if entry.kind != FILE or entry.open is None:
        if not entry.allocated and entry.kind == FILE:
            row["recoverable"] = False
        return _Item(row)
    target = spool.target(entry.partition, entry.path, entry.size) if wanted(entry.path) else None
    if target is not None and entry.size > spool.limit:
        row["note"] = _join(row["note"], f"not copied for the parsers: {entry.size} bytes is over the working-copy "
                                         f"limit of {spool.limit} bytes (FORENSICS_SPOOL_MAX_BYTES)")
        target = None
    elif target is not None and not isinstance(target, MemorySlot) and (short := spool.scratch.short(entry.size)):
        row["note"] = _join(row["note"], short)
        target = None
    read = _read(entry, target, lane)
    complete = read.error is None and read.size == entry.size
    if read.error is not None:
        row["note"] = _join(row["note"], f"read error: {read.error}")
    elif read.size != entry.size:
        row["note"] = _join(row["note"], f"read {read.size} of {entry.size} bytes")
    if read.error is None:
        row["size"] = read.size
    if not entry.allocated:
        row["recoverable"] = complete and entry.size > 0
    if read.error is not None:
        if target is not None:
            target.unlink(missing_ok=True)
        return _Item(row)
    if read.chunks is None:  # hashed while read
        return _Item(row, target, read.head, digests=read.digests)
    return _Item(row, target, read.head, chunks=read.chunks)


class _Read:
    """What reading one file gave: its bytes (kept for a worker to hash) or, for a large file, its digests."""

    __slots__ = ("chunks", "digests", "head", "size", "error")

    def __init__(self) -> None:
        self.chunks: list[bytes] | None = []
        self.digests: Digests | None = None
        self.head = b""
        self.size = 0
        self.error: str | None = None


def _read(entry: FileEntry, target: Path | None, lane=None) -> _Read:
    """Read the file once, writing the working copy to ``target`` as it goes. Its bytes are kept while they are
    at most ``IN_MEMORY_MAX``; past that they are hashed here, chunk by chunk (sha256 on ``lane`` when given). Any
    failure of a hostile stream is returned in ``error``, never raised."""
    read = _Read()
    out = None
    try:
        if isinstance(target, (PackSlot, MemorySlot)):
            out = target
        elif target is not None:
            private_dir(target.parent)
            out = open_private(target, binary=True)
        stream = entry.open()
        try:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                if not read.head:
                    read.head = chunk[:MIME_HEAD_BINARY]
                read.size += len(chunk)
                if read.digests is not None:
                    read.digests.update(chunk)
                elif read.size > IN_MEMORY_MAX:
                    read.digests = Digests(lane)
                    for held in read.chunks:
                        read.digests.update(held)
                    read.digests.update(chunk)
                    read.chunks = None
                else:
                    read.chunks.append(chunk)
                if out is not None:
                    out.write(chunk)
        finally:
            stream.close()
    except Exception as exc:  # any failure of a hostile stream is recorded on the row, never fatal
        read.error = f"{type(exc).__name__}: {exc}"
    finally:
        if out is not None:
            out.close()
    return read


def _join(a: str | None, b: str) -> str:
    return f"{a}; {b}" if a else b
