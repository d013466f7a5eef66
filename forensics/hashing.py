"""One pass over a byte stream, several digests: every byte of evidence is read once for sha256 and md5 together.

A long stream (the evidence, a large file) is hashed as it is read by ``Digests``. Files held in memory are hashed
a batch at a time by ``hash_many``: sha256 per file with hashlib (SHA-NI makes it about twice as fast as md5), md5
of the whole batch at once by the multi-buffer C extension ``forensics._md5mb`` (one file per SIMD lane, as Intel
ISA-L crypto's md5_mb; no maintained Python binding of a multi-buffer MD5 exists), or hashlib file by file where
that extension is not built, the CPU has no AVX2, or ``FORENSICS_PURE_PYTHON_MD5`` is set.
"""
from __future__ import annotations

import hashlib
import os
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Sequence

try:
    from forensics import _md5mb
except ImportError:  # built without a compiler (setup.py: the extension is optional)
    _md5mb = None

CHUNK = 1 << 20


def sha256_lane() -> ThreadPoolExecutor:
    """A thread of its own for sha256 (see ``Digests``); its thread starts with the first chunk given to it."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")


class Digests:
    """sha256 and md5 fed from the same chunks.

    With a ``lane`` (``sha256_lane()``), a chunk of at least ``CHUNK`` bytes goes to sha256 on that thread while md5
    takes it on the caller's: hashlib releases the GIL, so a long stream (the evidence, a large file) is hashed in
    the time of the slower digest when two cores are free. One lane serves one stream at a time."""

    def __init__(self, lane: Executor | None = None) -> None:
        self._sha256 = hashlib.sha256()
        self._md5 = hashlib.md5()
        self.size = 0
        self._lane = lane

    def update(self, chunk: bytes) -> None:
        if self._lane is not None and len(chunk) >= CHUNK:
            sha256 = self._lane.submit(self._sha256.update, chunk)
            self._md5.update(chunk)
            sha256.result()
        else:
            self._sha256.update(chunk)
            self._md5.update(chunk)
        self.size += len(chunk)

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

    @property
    def md5(self) -> str:
        return self._md5.hexdigest()


@dataclass(frozen=True)
class Hashes:
    """The hex digests of one file hashed whole (``hash_many``); read like a finished ``Digests``."""

    sha256: str
    md5: str


Chunks = Sequence[bytes]


def multi_buffer() -> bool:
    """Whether md5 of a batch runs on SIMD lanes (the C extension built, AVX2 or AVX-512, not switched off)."""
    return _md5mb is not None and _md5mb.LANES > 1 and not os.environ.get("FORENSICS_PURE_PYTHON_MD5")


def md5_many(files: Sequence[Chunks]) -> list[bytes]:
    """The 16-byte md5 digest of each file, given as its list of chunks; the same bytes hashlib.md5 gives."""
    if multi_buffer():
        return _md5mb.md5_many(files)
    digests = []
    for chunks in files:
        md5 = hashlib.md5()
        for chunk in chunks:
            md5.update(chunk)
        digests.append(md5.digest())
    return digests


def hash_many(files: Sequence[Chunks]) -> list[Hashes]:
    """sha256 and md5 of each file held in memory (its list of chunks), in order."""
    md5s = md5_many(files)
    hashes = []
    for chunks, md5 in zip(files, md5s):
        sha256 = hashlib.sha256()
        for chunk in chunks:
            sha256.update(chunk)
        hashes.append(Hashes(sha256.hexdigest(), md5.hex()))
    return hashes
