"""One pass over a byte stream, several digests: every byte of evidence is read once for sha256 and md5 together."""
from __future__ import annotations

import hashlib
from typing import BinaryIO, Callable, Iterable

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


def hash_chunks(chunks: Iterable[bytes], sink: Callable[[bytes], None] | None = None) -> Digests:
    """Digest every chunk; ``sink`` (optional) receives the same chunks, e.g. to spool a copy."""
    digests = Digests()
    for chunk in chunks:
        digests.update(chunk)
        if sink is not None:
            sink(chunk)
    return digests


def read_chunks(stream: BinaryIO, chunk_size: int = CHUNK) -> Iterable[bytes]:
    while True:
        chunk = stream.read(chunk_size)
        if not chunk:
            return
        yield chunk
