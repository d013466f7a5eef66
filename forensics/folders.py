"""A folder on the examiner's machine taken as evidence (an unpacked extraction): walked without following links."""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterator

from artifacts import timestamps
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
            try:
                st = os.lstat(full)
            except OSError:
                continue
            path = f"{prefix}/{name}"
            mode = st.st_mode
            kind = DIRECTORY if stat.S_ISDIR(mode) else FILE if stat.S_ISREG(mode) else LINK \
                if stat.S_ISLNK(mode) else OTHER
            yield FileEntry(
                partition=self.partition, path=path, inode=str(st.st_ino), size=st.st_size if kind == FILE else 0,
                kind=kind, allocated=True,
                times={"mtime": timestamps.unix_ns(st.st_mtime_ns), "atime": timestamps.unix_ns(st.st_atime_ns),
                       "ctime": timestamps.unix_ns(st.st_ctime_ns)},
                link_target=os.readlink(full) if kind == LINK else None,
                open=(lambda full=full: open(full, "rb")) if kind == FILE else None,
            )
            if kind == DIRECTORY:
                stack.append((iter(self._names(full)), full, path))

    @staticmethod
    def _names(directory: Path) -> list[str]:
        try:
            return sorted(os.listdir(directory))
        except OSError:
            return []
