"""One pass over a byte stream, several digests: every byte of evidence is read once for sha256 and md5 together."""
from __future__ import annotations

import hashlib

CHUNK = 1 << 20


class Digests:
    """sha256 and md5 fed from the same chunks."""

    def __init__(self) -> None:
        self._sha256 = hashlib.sha256()
        self._md5 = hashlib.md5()
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self._sha256.update(chunk)
        self._md5.update(chunk)
        self.size += len(chunk)

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

    @property
    def md5(self) -> str:
        return self._md5.hexdigest()
