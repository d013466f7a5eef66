"""Logical extractions delivered as tar (plain or gzip/bzip2/xz compressed) or zip archives.

A tar is read as one forward stream, once: decompressing it again for every lookup is what makes other tools take
hours on large extractions. Member names are evidence, not instructions: nothing is ever extracted by name, and a
name that climbs out of the archive (``..``, absolute, through a link) is kept inside it and flagged in ``note``.
Compressed content is bounded so a decompression bomb cannot exhaust the machine.
"""
from __future__ import annotations

import datetime
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO, Iterator

from artifacts import timestamps
from forensics.entries import DIRECTORY, FILE, LINK, OTHER, FileEntry
from forensics.oneread import BlockFeed, ForwardReader, MemberReader

# A member whose content would expand beyond both limits is not read (its entry is still listed). Both can be
# set per run: FORENSICS_ARCHIVE_MAX_RATIO (expansion ratio) and FORENSICS_ARCHIVE_MIN_LIMIT (bytes always allowed).
MAX_RATIO = 200
RATIO_FLOOR = 1 << 30


def limits() -> tuple[int, int]:
    """(ratio, floor) in force: the environment's settings, else the defaults above."""
    import os

    def setting(name: str, default: int) -> int:
        try:
            return max(int(os.environ.get(name, default)), 1)
        except ValueError:
            return default

    return setting("FORENSICS_ARCHIVE_MAX_RATIO", MAX_RATIO), setting("FORENSICS_ARCHIVE_MIN_LIMIT", RATIO_FLOOR)


class ArchiveError(Exception):
    """An archive that cannot be read; the message is one line for the examiner."""


def safe_member_path(name: str) -> tuple[str, str | None]:
    """Map an archive member name to an absolute path inside the archive, and say why if it had to be changed."""
    cleaned = name.replace("\\", "/")
    note = None
    if cleaned.startswith("/") or (len(cleaned) > 1 and cleaned[1] == ":"):
        note = f"absolute member name {name!r} kept inside the archive"
    parts = []
    for part in cleaned.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            note = f"member name {name!r} climbs out of the archive, kept inside it"
            if parts:
                parts.pop()
            continue
        parts.append(part)
    if "\x00" in cleaned:
        note = f"member name {name!r} contains a NUL byte"
        parts = [p.replace("\x00", "\\x00") for p in parts]
    return "/" + "/".join(parts), note


def link_note(kind: str, target: str, member: str = "/") -> str | None:
    """A link member whose target climbs out of the archive: said, never followed (no link is). A symbolic
    link's target is relative to its own folder (``member``: its path inside the archive), a tar hard link's to
    the archive's root."""
    cleaned = target.replace("\\", "/")
    depth = len([p for p in member.split("/")[:-1] if p]) if kind == "symbolic link" else 0
    for part in cleaned.split("/"):
        depth += -1 if part == ".." else 0 if part in ("", ".") else 1
        if depth < 0:
            break
    if depth < 0 or (kind != "symbolic link" and (cleaned.startswith("/") or cleaned[1:2] == ":")):
        return f"{kind} to {target!r} points outside the archive, not followed"
    return None  # an absolute symbolic link names a path of the device (/sdcard -> /storage/...): stored as such


def _join(a: str | None, b: str | None) -> str | None:
    return f"{a}; {b}" if a and b else a or b


class _BoundedStream:
    """Stops reading once more than ``limit`` bytes came out: the guard against decompression bombs."""

    def __init__(self, stream: BinaryIO, limit: int):
        self._stream = stream
        self._left = limit

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            raise ArchiveError("content expands beyond the decompression limit (possible zip bomb)")
        data = self._stream.read(size if size >= 0 else self._left + 1)
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._stream.close()


class _PiecewiseMember:
    """A bzip2 (or LZMA) zip member decompressed a bounded piece at a time. zipfile hands each compressed read to
    these decompressors whole, and a few kilobytes of bzip2 expand to gigabytes in memory before any limit is looked
    at (917 bytes held 1 GiB of zeros: 2.2 GB of memory); here no call yields more than ``_PIECE`` bytes. The
    member's stored bytes come from zipfile as a stored member; its CRC-32 and size are checked at the end, as
    zipfile does. An LZMA member starts with its own header (version, properties size, properties: APPNOTE 5.8)."""

    _PIECE = 1 << 20

    def __init__(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo):
        import bz2
        import copy
        import lzma

        raw = copy.copy(info)
        raw.compress_type, raw.file_size = zipfile.ZIP_STORED, info.compress_size
        del raw.CRC  # the CRC is of the decompressed bytes: checked below
        self._raw = archive.open(raw)
        if info.compress_type == zipfile.ZIP_LZMA:
            head = self._raw.read(4)
            size = struct.unpack("<H", head[2:4])[0] if len(head) == 4 else 0
            props = self._raw.read(size)
            try:
                filters = [lzma._decode_filter_properties(lzma.FILTER_LZMA1, props)]  # as zipfile itself does
                self._decompressor = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=filters)
            except (lzma.LZMAError, ValueError) as exc:
                raise zipfile.BadZipFile(f"damaged LZMA header: {exc}") from None
        else:
            self._decompressor = bz2.BZ2Decompressor()
        self._crc, self._size = 0, 0
        self._expected = (info.CRC, info.file_size)

    def read(self, size: int = -1) -> bytes:
        pieces, got = [], 0
        while (size < 0 or got < size) and not self._decompressor.eof:
            data = b""
            if self._decompressor.needs_input:
                data = self._raw.read(1 << 16)
                if not data:
                    if self._expected is not None and self._size == self._expected[1]:
                        self._check()  # an LZMA stream without its end marker: the declared size is all of it
                        break
                    raise zipfile.BadZipFile("compressed member ends before its stream does")
            wanted = self._PIECE if size < 0 else min(size - got, self._PIECE)
            try:
                piece = self._decompressor.decompress(data, max_length=wanted)
            except (OSError, EOFError) as exc:  # LZMAError is an OSError
                raise zipfile.BadZipFile(f"damaged compressed data: {exc}") from None
            pieces.append(piece)
            got += len(piece)
            self._crc = zlib.crc32(piece, self._crc)
            self._size += len(piece)
        if self._decompressor.eof:
            self._check()
        return b"".join(pieces)

    def _check(self) -> None:
        if self._expected is not None and (self._crc, self._size) != self._expected:
            self._expected = None  # said once
            raise zipfile.BadZipFile("Bad CRC-32 or size of a compressed member")

    def close(self) -> None:
        self._raw.close()


def _open_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo):
    if info.compress_type in (zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA) and not info.flag_bits & 0x1:
        return _PiecewiseMember(archive, info)
    return archive.open(info)


def _limit(compressed_size: int) -> int:
    ratio, floor = limits()
    return max(compressed_size * ratio, floor)


class TarSource:
    """Entries of a tar archive in archive order; each entry's ``open`` works only during iteration.

    A plain (uncompressed) tar is read through ``forensics.oneread.ForwardReader``, once, in large blocks, which
    can feed the evidence hash as they are read (``shared_chunks``); a compressed one through tarfile's stream
    mode. tarfile parses the headers either way, with the same forward-only reads."""

    partition = "tar"

    def __init__(self, path: Path):
        self.path = path
        self.compressed_size = path.stat().st_size
        self._feed: BlockFeed | None = None  # the shared read's feed, ended by the walk or by end_shared_read
        self._next_feed: BlockFeed | None = None  # ... while the walk that feeds it has not started

    def shared_chunks(self) -> Iterator[bytes] | None:
        """For a plain tar: the archive's bytes, in order, as the next walk of this source reads them (the walk must
        then run, or ``end_shared_read`` be called); None for a compressed one (hashed by a read of its own)."""
        with open(self.path, "rb") as f:
            if _tar_compression(f.read(BLOCK_HEAD)) != "tar":
                return None
        self._feed = self._next_feed = BlockFeed()
        return self._feed.chunks()

    def end_shared_read(self) -> None:
        """A shared read whose walk never ran or never ended: its consumer is told, rather than waiting forever."""
        if self._feed is not None:
            self._feed.abort(f"{self.path.name}: the walk of the archive stopped before its end")

    def __iter__(self) -> Iterator[FileEntry]:
        budget = _limit(self.compressed_size)
        feed, self._next_feed = self._next_feed, None
        reader = None
        try:
            with open(self.path, "rb") as raw:
                plain = _tar_compression(raw.read(BLOCK_HEAD)) == "tar"
                raw.seek(0)
                if plain:
                    reader = ForwardReader(raw, feed)
                    tar = tarfile.TarFile(fileobj=reader, mode="r")
                else:
                    tar = tarfile.open(fileobj=raw, mode="r|*")
                with tar:
                    index = 0
                    while (member := tar.next()) is not None:
                        entry = self._entry(tar, index, member, budget, reader)
                        yield entry
                        budget -= member.size if member.isfile() else 0
                        tar.members.clear()  # tarfile keeps every header read: memory would grow with the members
                        index += 1
                if feed is not None:
                    reader.drain()
                    feed.finish()
        except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
            if feed is not None and reader is not None:
                _finish_after_error(reader, feed)
            raise ArchiveError(f"{self.path.name}: damaged or unreadable tar archive ({exc})") from None
        finally:
            if feed is not None:
                feed.abort(f"{self.path.name}: the walk of the archive stopped before its end")

    def _entry(self, tar, index: int, member: tarfile.TarInfo, budget: int, reader) -> FileEntry:
        path, note = safe_member_path(member.name)
        kind = DIRECTORY if member.isdir() else FILE if member.isfile() else LINK if member.issym() or member.islnk() \
            else OTHER
        opener = None
        if member.isfile():
            if member.size > budget:
                note = "content not read: archive expands beyond the decompression limit"
            else:
                opener = _opener(tar, member, reader)
        elif member.issym() or member.islnk():
            note = _join(note, link_note("hard link" if member.islnk() else "symbolic link", member.linkname, path))
        elif not member.isdir():
            note = _join(note, "device file, FIFO or other special member, not read")
        mtime = timestamps.unix_s(member.mtime) if member.mtime else None
        return FileEntry(
            partition=self.partition, path=path, inode=str(index), size=member.size if member.isfile() else 0,
            kind=kind, allocated=True, times={"mtime": mtime}, link_target=member.linkname or None,
            open=opener, note=note,
        )


def _opener(tar: tarfile.TarFile, member: tarfile.TarInfo, reader: ForwardReader | None):
    if reader is not None and member.sparse is None:
        return lambda: MemberReader(reader, member.offset_data, member.size)
    return lambda: tar.extractfile(member)


def _finish_after_error(reader: ForwardReader, feed: BlockFeed) -> None:
    """The walk failed on a damaged archive: the evidence hash still covers every byte of the file."""
    try:
        reader.drain()
    except OSError as exc:
        feed.abort(f"evidence unreadable: {exc}")
    feed.finish()


BLOCK_HEAD = 16


def _tar_compression(head: bytes) -> str:
    """The compression tarfile's ``r|*`` mode would detect from these first bytes (``tarfile._StreamProxy
    .getcomptype``, Python 3.11): "gz", "bz2", "xz" or "tar" (none: read as a plain tar)."""
    if head.startswith(b"\x1f\x8b\x08"):
        return "gz"
    if head[0:3] == b"BZh" and head[4:10] == b"1AY&SY":
        return "bz2"
    if head.startswith((b"\x5d\x00\x00\x80", b"\xfd7zXZ")):
        return "xz"
    return "tar"


class ZipSource:
    """Entries of a zip archive in central-directory order."""

    partition = "zip"

    def __init__(self, path: Path):
        self.path = path

    def __iter__(self) -> Iterator[FileEntry]:
        try:
            archive = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:  # NotImplemented:
            # a zip version or feature zipfile lacks (found by tests/test_fuzz.py)
            raise ArchiveError(f"{self.path.name}: damaged or unreadable zip archive ({exc})") from None
        with archive:
            for index, info in enumerate(archive.infolist()):
                yield self._entry(archive, index, info)

    def _entry(self, archive: zipfile.ZipFile, index: int, info: zipfile.ZipInfo) -> FileEntry:
        path, note = safe_member_path(info.filename)
        is_link = (info.external_attr >> 16) & 0o170000 == 0o120000
        # not info.is_dir(): it fails on an empty member name (found by benchmarks/fuzz_atheris.py)
        kind = DIRECTORY if info.filename.endswith("/") else LINK if is_link else FILE
        opener = None
        if kind == FILE:
            if info.file_size > _limit(info.compress_size):
                note = (f"content not read: declared size {info.file_size} is over {limits()[0]}x its compressed "
                        f"size and over {limits()[1]} bytes (possible zip bomb)")
            else:
                opener = (lambda: _BoundedStream(_open_member(archive, info), _limit(info.compress_size)))
        link_target = None
        if kind == LINK:
            try:
                link_target = archive.read(info)[:4096].decode("utf-8", "surrogateescape")
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError,
                    zlib.error) as exc:
                link_target, note = None, _join(note, f"link target unreadable: {type(exc).__name__}: {exc}")
            if link_target is not None:  # an unreadable target is noted above (found by benchmarks/fuzz_atheris.py)
                note = _join(note, link_note("symbolic link", link_target, path))
        return FileEntry(
            partition=self.partition, path=path, inode=str(index), size=info.file_size if kind == FILE else 0,
            kind=kind, allocated=True, times={"mtime": _zip_mtime(info)}, link_target=link_target,
            open=opener, note=note,
        )


def _zip_mtime(info: zipfile.ZipInfo) -> timestamps.TimeValue | None:
    """The UTC time of the extended-timestamp extra field when present; else the DOS time, which has no zone."""
    extra = info.extra
    offset = 0
    while offset + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, offset)
        body = extra[offset + 4: offset + 4 + size]
        if tag == 0x5455 and len(body) >= 5 and body[0] & 1:
            return timestamps.unix_s(struct.unpack_from("<i", body, 1)[0])
        offset += 4 + size
    y, mo, d, h, mi, s = info.date_time
    if y < 1981:
        return None
    try:
        wall = datetime.datetime(y, mo, d, h, mi, s)
    except ValueError:  # a DOS field out of range (month 0, second 60): no time rather than a wrong one
        return None
    return timestamps.wall_clock(wall, f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}", "dos_datetime")


_COMPRESSED = {b"\x1f\x8b": "gz", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz"}


def is_tar(path: Path) -> bool:
    """A (possibly compressed) tar by its first header: ``ustar`` magic, or a valid v7 header checksum.

    ``tarfile.is_tarfile`` is not used: it accepts any file starting with a zero block, such as a disk image.
    """
    import bz2
    import gzip
    import lzma

    openers = {"gz": gzip.open, "bz2": bz2.open, "xz": lzma.open}
    with open(path, "rb") as f:
        head = f.read(512)
    kind = next((k for magic, k in _COMPRESSED.items() if head.startswith(magic)), None)
    if kind:
        try:
            with openers[kind](path, "rb") as stream:
                head = stream.read(512)
        except (OSError, EOFError, lzma.LZMAError):
            return False
    if len(head) < 512 or not head[:100].strip(b"\x00"):
        return False
    if head[257:262] == b"ustar":
        return True
    try:
        stored = int(head[148:156].replace(b"\x00", b" ").strip() or b"-1", 8)
    except ValueError:
        return False
    return stored == sum(head[:148]) + 8 * 32 + sum(head[156:512])


def is_zip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) in (b"PK\x03\x04", b"PK\x05\x06")
