"""Walk a file system with The Sleuth Kit and yield every entry it knows, deleted ones included.

The set of paths is meant to equal what ``fls -r -p`` prints for the same volume: TSK's virtual entries
(``$OrphanFiles`` and its orphans, FAT's ``$MBR``/``$FAT1``) are kept, ``.`` and ``..`` are not, and on NTFS
every named data stream or index is an entry of its own (``file:stream``) — alternate data streams are exactly
where hidden data lives. As fls does, an NTFS file with only named attributes (``$Secure``) has no plain entry. Directory entries are visited sorted by name so that
two runs over the same image produce the same order.
"""
from __future__ import annotations

import array
import datetime
import functools
import io
import time
from typing import Iterator

import pytsk3

from artifacts import timestamps
from forensics.entries import DIRECTORY, FILE, LINK, OTHER, FileEntry

CHUNK = 1 << 20
_SKIP_NAMES = {b".", b".."}
_META_KINDS = {
    pytsk3.TSK_FS_META_TYPE_REG: FILE,
    pytsk3.TSK_FS_META_TYPE_DIR: DIRECTORY,
    pytsk3.TSK_FS_META_TYPE_LNK: LINK,
    pytsk3.TSK_FS_META_TYPE_VIRT: FILE,
    pytsk3.TSK_FS_META_TYPE_VIRT_DIR: DIRECTORY,
}
_NAME_KINDS = {
    pytsk3.TSK_FS_NAME_TYPE_REG: FILE,
    pytsk3.TSK_FS_NAME_TYPE_DIR: DIRECTORY,
    pytsk3.TSK_FS_NAME_TYPE_LNK: LINK,
    pytsk3.TSK_FS_NAME_TYPE_VIRT: FILE,
    pytsk3.TSK_FS_NAME_TYPE_VIRT_DIR: DIRECTORY,
}
# File systems whose stored times are local wall-clock time with no zone. The Sleuth Kit turns their fields into
# seconds with the C library's mktime (the process's zone); ``time.localtime`` turns them back into the wall clock
# the file system stored, whatever the process's zone is — no process-wide TZ change is needed.
_LOCAL_TIME_FS = ("fat", "exfat", "iso")


_FS_NAMES = {
    int(getattr(pytsk3, attr)): attr[len("TSK_FS_TYPE_"):].lower()
    for attr in dir(pytsk3)
    if attr.startswith("TSK_FS_TYPE_") and not attr.endswith(("_DETECT", "_ENUM", "_UNSUPP"))
}


def fs_type_name(fs: pytsk3.FS_Info) -> str:
    """TSK's short name for the file system type (ext4, fat32, ntfs, iso9660, ...)."""
    return _FS_NAMES.get(int(fs.info.ftype), f"type {int(fs.info.ftype)}")


class _TskStream(io.RawIOBase):
    """A read-only stream over one attribute of a TSK file."""

    def __init__(self, tsk_file, size: int, attr_type=None, attr_id=None):
        self._file = tsk_file
        self._size = size
        self._attr = (attr_type, attr_id) if attr_type is not None else None
        self._pos = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        """Hands TSK's buffer over as it is (no copy through readinto)."""
        want = self._size - self._pos if size is None or size < 0 else min(size, self._size - self._pos)
        if want <= 0:
            return b""
        if self._attr:
            data = self._file.read_random(self._pos, want, self._attr[0], self._attr[1])
        else:
            data = self._file.read_random(self._pos, want)
        self._pos += len(data)
        return data

    def readinto(self, buffer) -> int:
        want = min(len(buffer), self._size - self._pos)
        if want <= 0:
            return 0
        if self._attr:
            data = self._file.read_random(self._pos, want, self._attr[0], self._attr[1])
        else:
            data = self._file.read_random(self._pos, want)
        if not data:
            return 0
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


def _times(meta, local: bool) -> dict[str, timestamps.TimeValue | None]:
    return {"mtime": _time_value(meta.mtime, meta.mtime_nano, local),
            "atime": _time_value(meta.atime, meta.atime_nano, local),
            "ctime": _time_value(meta.ctime, meta.ctime_nano, local),
            "crtime": _time_value(meta.crtime, meta.crtime_nano, local)}


@functools.lru_cache(maxsize=1 << 16)  # files installed together share their times: decode each instant once
def _time_value(seconds: int, nanos: int, local: bool) -> timestamps.TimeValue | None:
    """TSK gives seconds and nanoseconds since 1970; 0 means the file system does not keep that time."""
    if not seconds:
        return None
    if local:
        try:
            fields = time.localtime(seconds)
            wall = datetime.datetime(*fields[:6], (nanos or 0) // 1000)
        except (OverflowError, OSError, ValueError):
            return None
        return timestamps.wall_clock(wall, wall.strftime("%Y-%m-%d %H:%M:%S") + f".{nanos or 0:09d}", "wall_clock")
    value = timestamps.unix_ns(seconds * 1_000_000_000 + (nanos or 0))
    if value is None:
        return None
    # "unix_s", or "unix_s(out of range)" for a time kept undecoded
    return timestamps.TimeValue(value.iso, f"{seconds}.{nanos or 0:09d}", "unix_s" + value.encoding[len("unix_ns"):])


def walk(fs: pytsk3.FS_Info, partition: str) -> Iterator[FileEntry]:
    """Every entry of ``fs`` below its root, depth first, sorted by name within each directory.

    An explicit stack rather than recursion: a hostile image can nest directories deeper than Python recurses.
    A directory already on the current path (a loop in a damaged file system) is not entered again.
    """
    fs_type = fs_type_name(fs)
    local, ntfs = fs_type.startswith(_LOCAL_TIME_FS), fs_type.startswith("ntfs")
    stack = [(_sorted_entries(fs.open_dir(path="/")), "", frozenset({fs.info.root_inum}))]
    while stack:
        entries, prefix, ancestors = stack[-1]
        item = next(entries, None)
        if item is None:
            stack.pop()
            continue
        raw_name, f = item
        path = f"{prefix}/{raw_name.decode('utf-8', 'surrogateescape')}"
        meta = f.info.meta
        allocated = bool(f.info.name.flags & pytsk3.TSK_FS_NAME_FLAG_ALLOC)
        kind = _META_KINDS.get(meta.type, OTHER) if meta else _NAME_KINDS.get(f.info.name.type, OTHER)
        streams = _ntfs_attributes(f) if ntfs and meta is not None else None
        if streams is None or any(stream is None for stream, *_ in streams):
            yield _entry(f, meta, path, partition, kind, allocated, local)
        for stream, attr_type, attr_id, size in sorted(s for s in streams or () if s[0] is not None):
            yield FileEntry(
                partition=partition, path=f"{path}:{stream}", inode=f"{meta.addr}-{int(attr_type)}-{attr_id}",
                size=size, kind=FILE, allocated=allocated, times=_times(meta, local),
                open=(lambda f=f, size=size, t=attr_type, i=attr_id: _TskStream(f, size, t, i)),
            )
        if kind == DIRECTORY and meta is not None and meta.addr not in ancestors:
            try:
                sub = f.as_directory()
            except (IOError, OSError, RuntimeError):
                continue
            stack.append((_sorted_entries(sub), path, ancestors | {meta.addr}))


# Entries of one directory held at once while it is walked in name order. A pytsk3 file object costs about 1 KiB;
# a larger directory (100,000 entries in a messenger's media folder) is sorted by name alone and read back in
# windows of this many entries, one pass over the directory per window, so memory does not grow with its size.
DIRECTORY_WINDOW = 16384


def _sorted_entries(directory, window: int | None = None) -> Iterator[tuple[bytes, object]]:
    """The entries of ``directory`` (not ``.``/``..``) in name order; ties keep The Sleuth Kit's order."""
    window = window or DIRECTORY_WINDOW
    if int(directory.size) <= window:
        entries = [(f.info.name.name, f) for f in directory if f.info.name.name not in _SKIP_NAMES]
        entries.sort(key=lambda item: item[0])
        yield from entries
        return
    order = sorted((f.info.name.name, position) for position, f in enumerate(directory)
                   if f.info.name.name not in _SKIP_NAMES)
    rank = array.array("q", [-1]) * (max((position for _, position in order), default=-1) + 1)
    for place, (_, position) in enumerate(order):
        rank[position] = place
    total = len(order)
    del order
    for start in range(0, total, window):
        chunk: list = [None] * min(window, total - start)
        for position, f in enumerate(directory):
            place = rank[position] - start if position < len(rank) else -1
            if 0 <= place < len(chunk):
                chunk[place] = (f.info.name.name, f)
        yield from (item for item in chunk if item is not None)


def _entry(f, meta, path, partition, kind, allocated, local) -> FileEntry:
    size = int(meta.size) if meta is not None and kind == FILE else 0
    note = None
    opener = None
    if meta is not None and kind == FILE:
        reused = not allocated and bool(meta.flags & pytsk3.TSK_FS_META_FLAG_ALLOC)
        if reused:
            note = "deleted name; its metadata now belongs to another file"
        else:
            opener = (lambda f=f, size=size: _TskStream(f, size))
    link_target = None
    if kind == LINK and meta is not None:
        link_target = _link_target(f, meta)
    return FileEntry(
        partition=partition, path=path, inode=str(meta.addr) if meta is not None else None, size=size,
        kind=kind, allocated=allocated, times=_times(meta, local) if meta is not None else {},
        link_target=link_target, open=opener, note=note,
    )


def _link_target(f, meta) -> str | None:
    target = getattr(meta, "link", None)
    if target:
        return target.decode("utf-8", "surrogateescape") if isinstance(target, bytes) else str(target)
    try:
        data = f.read_random(0, min(int(meta.size), 4096))
    except (IOError, OSError):
        return None
    return data.decode("utf-8", "surrogateescape") if data else None


_NTFS_LISTED = (pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA, pytsk3.TSK_FS_ATTR_TYPE_NTFS_IDXROOT)
_DEFAULT_NAMES = ("", "$Data", "$I30")


def _ntfs_attributes(f) -> list[tuple] | None:
    """The data and index-root attributes of an NTFS file as (name or None for the default one, type, id, size);
    None when it has neither (then only the plain entry is listed)."""
    try:
        attributes = list(f)
    except (IOError, OSError, RuntimeError):
        return None
    found = []
    for attr in attributes:
        info = attr.info
        if info.type not in _NTFS_LISTED:
            continue
        name = info.name.decode("utf-8", "surrogateescape") if isinstance(info.name, bytes) else (info.name or "")
        found.append((None if name in _DEFAULT_NAMES else name, info.type, info.id, int(info.size)))
    return found or None
