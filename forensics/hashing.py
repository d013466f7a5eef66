"""One pass over a byte stream, several digests: every byte of evidence is read once for sha256 and md5 together."""
from __future__ import annotations

import hashlib
from concurrent.futures import Executor, ThreadPoolExecutor

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
