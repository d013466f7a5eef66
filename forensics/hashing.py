"""One pass over a byte stream, several digests: every byte of evidence is read once for sha256 and md5 together."""
from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor

CHUNK = 1 << 20


class Digests:
    """sha256 and md5 fed from the same chunks.

    ``split=True``: for a long stream (the whole evidence), sha256 runs on a thread of its own while md5 takes the
    same chunk on the caller's thread — hashlib releases the GIL, so the two digests of a chunk take the time of the
    slower one on two cores. Use it as a context manager then, or call ``close`` (it ends that thread)."""

    def __init__(self, split: bool = False) -> None:
        self._sha256 = hashlib.sha256()
        self._md5 = hashlib.md5()
        self.size = 0
        self._lane = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256") if split else None

    def update(self, chunk: bytes) -> None:
        if self._lane is not None and len(chunk) >= CHUNK:
            sha256 = self._lane.submit(self._sha256.update, chunk)
            self._md5.update(chunk)
            sha256.result()
        else:
            self._sha256.update(chunk)
            self._md5.update(chunk)
        self.size += len(chunk)

    def __enter__(self) -> "Digests":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Ends the sha256 thread of a split instance (the digests stay readable)."""
        if self._lane is not None:
            self._lane.shutdown()
            self._lane = None

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

    @property
    def md5(self) -> str:
        return self._md5.hexdigest()
