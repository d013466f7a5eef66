"""The one shape every evidence source yields: a file-system entry with its times and a way to read it.

Disk images (through The Sleuth Kit), archives, folders and iOS backups all produce ``FileEntry`` objects, in a
deterministic order, so that the inventory and the parsers never care where a file came from.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO, Callable

from artifacts.timestamps import TimeValue

FILE, DIRECTORY, LINK, OTHER = "file", "dir", "link", "other"


@dataclass
class FileEntry:
    """One directory entry.

    ``path`` is absolute inside its file system or archive, ``/``-separated and starts with ``/``. ``partition``
    names the layer it lives in (``p1`` for a partition, ``fs`` for a bare file system, ``tar``/``zip``/``folder``/
    ``backup`` for logical sources). ``inode`` is the file system's metadata address (or the archive member index).
    ``open`` streams the content; it is None where nothing can be read (directories, unrecoverable deleted files).
    For archives, ``open`` is only valid while the source is being iterated: read content inside the loop.
    """

    partition: str
    path: str
    inode: str | None
    size: int
    kind: str
    allocated: bool = True
    times: dict[str, TimeValue | None] = field(default_factory=dict)
    link_target: str | None = None
    open: Callable[[], BinaryIO] | None = None
    note: str | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]
