"""The file inventory: one row per entry (deleted ones too) with hashes, MIME type and times, in one read.

Each file's bytes are read exactly once: the same chunks feed sha256, md5, the MIME sniffer (first chunk only) and,
for the files some parser asked for, a working copy in the spool folder. Parsers later read those copies, so an
archive is never decompressed twice and the evidence itself is never opened by a parser.
"""
from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator

import magic

from artifacts import timestamps
from forensics.confidential import open_private, private_dir
from forensics.entries import FILE, FileEntry
from forensics.hashing import CHUNK, Digests

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


MIME_BATCH = 64


def inventory(sources: Iterable[tuple[str, Iterable[FileEntry]]], wanted: Callable[[str], bool],
              spool_dir: Path, on_entry: Callable[[FileEntry], None] | None = None
              ) -> Iterator[tuple[dict, SpooledFile | None]]:
    """Yield (file row, spooled copy or None) for every entry of every source, in order, reading each file once.

    MIME identification runs on a second thread, a batch of files at a time (libmagic is called through ctypes,
    which releases the GIL), so it overlaps with reading and hashing the next files instead of adding to them.
    """
    sniff = MimeSniffer()
    spool = _Spool(spool_dir)
    batch: list = []  # (row, spooled, head) not yet handed to the MIME thread
    pending: deque = deque()  # (batch, future of its MIME types), oldest first
    held = 0  # bytes of working copies made but not yet handed over (the caller may parse and delete them)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mime") as pool:
        for _partition, source in sources:
            for entry in source:
                if on_entry is not None:
                    on_entry(entry)
                batch.append(_inventory_entry(entry, wanted, spool))
                held += batch[-1][1].size if batch[-1][1] is not None else 0
                if len(batch) >= MIME_BATCH or (held > spool_limit() and batch):
                    pending.append((batch, pool.submit(_identify, sniff, batch)))
                    batch = []
                while pending and (len(pending) > 8 or pending[0][1].done() or held > spool_limit()):
                    done = pending.popleft()
                    held -= sum(s.size for _row, s, _head in done[0] if s is not None)
                    yield from _finished(*done)
        if batch:
            pending.append((batch, pool.submit(_identify, sniff, batch)))
        while pending:
            yield from _finished(*pending.popleft())


def _identify(sniff: MimeSniffer, batch: list) -> list[str | None]:
    return [None if head is None else sniff(head, row["size"]) for row, _spooled, head in batch]


def _finished(batch: list, mime: Future) -> Iterator[tuple[dict, SpooledFile | None]]:
    for (row, spooled, _head), mime_type in zip(batch, mime.result()):
        row["mime_type"] = mime_type
        yield row, spooled


_SIDECARS = ("-wal", "-shm", "-journal")


class _Spool:
    """Where each wanted file's working copy goes. An archive can hold the same path twice (a tar with an
    appended newer version): each occurrence gets its own copy, in ``duplicate-<n>/``, so no copy overwrites
    another and every parser run keeps the provenance of the member it read; a database's -wal/-shm/-journal
    follows the latest occurrence of its database."""

    def __init__(self, root: Path):
        self.root = root
        self.seen: dict[tuple[str, str], int] = {}

    def target(self, partition: str, path: str) -> Path:
        sidecar = path.endswith(_SIDECARS)
        key = (partition, path.rsplit("-", 1)[0] if sidecar else path)
        if sidecar:
            occurrence = max(self.seen.get(key, 1) - 1, 0)
        else:
            occurrence = self.seen.get(key, 0)
            self.seen[key] = occurrence + 1
        root = self.root if occurrence == 0 else self.root / f"duplicate-{occurrence}"
        return spool_path(root, partition, path)


SPOOL_MAX_BYTES = 8 << 30  # a working copy larger than this is not made (its file is still hashed and listed)


def spool_limit() -> int:
    """Bytes one working copy may have: ``FORENSICS_SPOOL_MAX_BYTES`` when set, else ``SPOOL_MAX_BYTES``."""
    import os

    try:
        return max(int(os.environ.get("FORENSICS_SPOOL_MAX_BYTES", SPOOL_MAX_BYTES)), 0)
    except ValueError:
        return SPOOL_MAX_BYTES


SCRATCH_RESERVE_BYTES = 1 << 30  # a working copy is not made when it would leave less free on the work folder's disk


def _scratch_short(root: Path, size: int) -> str | None:
    """Why a copy of ``size`` bytes is not made on ``root``'s disk (``FORENSICS_SCRATCH_RESERVE_BYTES`` must stay
    free), or None: a full disk would fail the case's store and every other device, a skipped copy fails one file."""
    import os
    import shutil

    try:
        reserve = max(int(os.environ.get("FORENSICS_SCRATCH_RESERVE_BYTES", SCRATCH_RESERVE_BYTES)), 0)
    except ValueError:
        reserve = SCRATCH_RESERVE_BYTES
    folder = root
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return None
    if free - size >= reserve:
        return None
    return (f"not copied for the parsers: no scratch space, {size} bytes would leave less than {reserve} bytes "
            f"free on the work folder's disk ({free} free, FORENSICS_SCRATCH_RESERVE_BYTES)")


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


def _inventory_entry(entry: FileEntry, wanted, spool: _Spool):
    """The row (without its MIME type), the spooled copy, and the head bytes to identify (None: nothing read)."""
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
        row[key], row[f"{key}_raw"], row[f"{key}_encoding"] = (value.iso, value.raw, value.encoding) if value \
            else (None, None, None)
        if value and timestamps.ZONE_UNKNOWN in value.encoding:  # a wall clock: never in the UTC column
            row[key], row[f"{key}_local"] = None, value.iso
    if entry.kind != FILE or entry.open is None:
        if not entry.allocated and entry.kind == FILE:
            row["recoverable"] = False
        return row, None, None
    target = spool.target(entry.partition, entry.path) if wanted(entry.path) else None
    if target is not None and entry.size > spool_limit():
        row["note"] = _join(row["note"], f"not copied for the parsers: {entry.size} bytes is over the working-copy "
                                         f"limit of {spool_limit()} bytes (FORENSICS_SPOOL_MAX_BYTES)")
        target = None
    elif target is not None and (short := _scratch_short(spool.root, entry.size)):
        row["note"] = _join(row["note"], short)
        target = None
    digests, head, error = _read(entry, target)
    complete = error is None and digests.size == entry.size
    if error is not None:
        row["note"] = _join(row["note"], f"read error: {error}")
    elif digests.size != entry.size:
        row["note"] = _join(row["note"], f"read {digests.size} of {entry.size} bytes")
    if error is None:
        row["sha256"], row["md5"], row["size"] = digests.sha256, digests.md5, digests.size
    if not entry.allocated:
        row["recoverable"] = complete and entry.size > 0
    spooled = None
    if target is not None and error is None:
        spooled = SpooledFile(target, entry.partition, entry.path, entry.inode, digests.size, entry.allocated,
                              sha256=digests.sha256)
    elif target is not None:
        target.unlink(missing_ok=True)
    return row, spooled, head if error is None else None


def _read(entry: FileEntry, target: Path | None) -> tuple[Digests, bytes, str | None]:
    digests = Digests()
    head = b""
    out = None
    try:
        if target is not None:
            private_dir(target.parent)
            out = open_private(target, binary=True)
        stream = entry.open()
        try:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                if not head:
                    head = chunk[:MIME_HEAD_BINARY]
                digests.update(chunk)
                if out is not None:
                    out.write(chunk)
        finally:
            stream.close()
    except Exception as exc:  # any failure of a hostile stream is recorded on the row, never fatal
        return digests, head, f"{type(exc).__name__}: {exc}"
    finally:
        if out is not None:
            out.close()
    return digests, head, None


def _join(a: str | None, b: str) -> str:
    return f"{a}; {b}" if a else b
