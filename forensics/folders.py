"""A folder on the examiner's machine taken as evidence (an unpacked extraction): walked without following links."""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterator

from artifacts import timestamps
from forensics.archives import link_note
from forensics.entries import DIRECTORY, FILE, LINK, OTHER, FileEntry


class FolderSource:
    """Entries below ``root``, sorted by name in each directory; paths are relative to ``root``, made absolute."""

    partition = "folder"

    def __init__(self, root: Path):
        self.root = root

    def __iter__(self) -> Iterator[FileEntry]:
        """Depth first with an explicit stack (no recursion limit to hit on a deeply nested tree)."""
        stack = [(iter(self._names(self.root)), self.root, "")]
        while stack:
            names, directory, prefix = stack[-1]
            name = next(names, None)
            if name is None:
                stack.pop()
                continue
            full = directory / name
            path = f"{prefix}/{name}"
            try:
                st = os.lstat(full)
            except OSError as exc:  # listed but gone or unreadable: said, not skipped
                yield FileEntry(partition=self.partition, path=path, inode="", size=0, kind=OTHER, allocated=True,
                                times={}, note=f"read error: {type(exc).__name__}: {exc.strerror or exc}")
                continue
            mode = st.st_mode
            kind = DIRECTORY if stat.S_ISDIR(mode) else FILE if stat.S_ISREG(mode) else LINK \
                if stat.S_ISLNK(mode) else OTHER
            note, names, target = None, None, None
            if kind == DIRECTORY:
                try:
                    names = self._names(full)
                except OSError as exc:
                    names, note = [], f"read error: folder could not be listed: {exc.strerror or exc}"
            elif kind == LINK:
                try:
                    target = os.readlink(full)
                    note = link_note("symbolic link", target, path)
                except OSError as exc:
                    note = f"read error: link target unreadable: {exc.strerror or exc}"
            elif kind == OTHER:
                note = "device file, FIFO or other special member, not read"
            yield FileEntry(
                partition=self.partition, path=path, inode=str(st.st_ino), size=st.st_size if kind == FILE else 0,
                kind=kind, allocated=True,
                times={"mtime": timestamps.unix_ns(st.st_mtime_ns), "atime": timestamps.unix_ns(st.st_atime_ns),
                       "ctime": timestamps.unix_ns(st.st_ctime_ns)},
                link_target=target, note=note,
                open=(lambda full=full: open(full, "rb")) if kind == FILE else None,
            )
            if kind == DIRECTORY:
                stack.append((iter(names), full, path))

    @staticmethod
    def _names(directory: Path) -> list[str]:
        return sorted(os.listdir(directory))
