"""One pack file for the working copies of the many small files that only stream-reading parsers want (photos).

A device's thousands of photos were each copied to a file of their own in the spool folder, read once by the EXIF
parser and deleted with the work folder: creating, and above all deleting, thousands of files cost more than
reading them (a third of an ingest of a phone's camera roll). Their copies are instead appended, as the inventory
reads them, to one file per evidence item; a working copy is then a section of it (offset and size) that the parser
reads through a seekable stream exactly as it would read a file of its own. The bytes are the same: only where they
lie changes.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

from forensics.confidential import open_private, private_dir


PACK_BYTES = 64 << 20  # a pack file is closed and the next one started past this size (see ``Pack``)


class Pack:
    """The pack files being written: ``slot()`` before each file's bytes, ``write`` them, ``close`` at the end.

    Copies go to ``<name>.pack``, then, once it holds ``size`` bytes, to ``<name>-1.pack``, ``<name>-2.pack``...:
    the photos are parsed a batch at a time while the inventory goes on, and a pack whose every copy was parsed is
    deleted (``done_before``), so the work folder never holds more than a few packs whatever the number of photos.
    Each copy is flushed when its file ends, so a section can be read while the pack still grows."""

    def __init__(self, path: Path, size: int = PACK_BYTES):
        self.size = max(size, 1)  # bytes after which the next pack is started
        self.first = path
        self.path = path
        self.number = 0
        self._out = None
        self._offset = 0

    def slot(self) -> "PackSlot":
        if self._out is not None and self._offset >= self.size:
            self._out.close()
            self._out = None
            self.number += 1
            self.path = self.first.with_name(f"{self.first.stem}-{self.number}{self.first.suffix}")
            self._offset = 0
        if self._out is None:
            private_dir(self.path.parent)
            self._out = open_private(self.path, binary=True)
        return PackSlot(self, self.path, self._offset)

    def write(self, chunk: bytes) -> None:
        self._out.write(chunk)
        self._offset += len(chunk)

    def flush(self) -> None:
        if self._out is not None:
            self._out.flush()

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


def pack_number(path: Path) -> int:
    """Which pack of its series ``path`` is (0 for ``<name>.pack``, n for ``<name>-n.pack``)."""
    stem = path.stem
    head, _, tail = stem.rpartition("-")
    return int(tail) if head and tail.isdigit() else 0


def done_before(path: Path) -> list[Path]:
    """The packs of ``path``'s series written before it: once a copy in ``path`` is parsed, every copy in them was
    (copies are handed over in the order they were written)."""
    number = pack_number(path)
    first = path if number == 0 else path.with_name(path.name.rsplit("-", 1)[0] + path.suffix)
    return [first] + [path.with_name(f"{first.stem}-{n}{first.suffix}") for n in range(1, number)] if number else []


class PackSlot:
    """Where one file's copy goes in the pack: a writer with ``write`` and ``close`` like a file's (``close``
    flushes it and leaves the pack open), and ``unlink`` like a path's (the bytes of a copy that failed stay,
    unreferenced)."""

    def __init__(self, pack: Pack, path: Path, offset: int):
        self.pack = pack
        self.path = path
        self.offset = offset

    def write(self, chunk: bytes) -> None:
        self.pack.write(chunk)

    def close(self) -> None:
        self.pack.flush()

    def unlink(self, missing_ok: bool = False) -> None:
        pass


class Section(io.RawIOBase):
    """``size`` bytes at ``offset`` of ``path``, read-only and seekable, as if they were a file of their own."""

    def __init__(self, path: Path, offset: int, size: int):
        super().__init__()
        self._fd = os.open(path, os.O_RDONLY)
        self._offset, self._size, self._pos = offset, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = max(min(len(buffer), self._size - self._pos), 0)
        if n == 0:
            return 0
        data = os.pread(self._fd, n, self._offset + self._pos)
        buffer[:len(data)] = data
        self._pos += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise OSError(22, "Invalid argument: negative seek position")
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


def open_section(path: Path, offset: int, size: int) -> io.BufferedReader:
    return io.BufferedReader(Section(path, offset, size))
