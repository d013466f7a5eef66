"""One sequential read of an evidence file for both its hash and its walk (a plain tar).

The evidence hash (``forensics.integrity``) and the walk of a plain tar both need every byte of the file in order.
Rather than reading it twice, the walk reads it once, in large blocks, through a ``ForwardReader``, and hands each
block to a ``BlockFeed`` that the evidence-hash thread consumes. The reader behaves as tarfile's own stream mode
(``tarfile._Stream``, which ``r|`` mode reads through) does: reads give the bytes asked for or fewer at the end,
seeking forward skips (the skipped bytes are still read and hashed), seeking backward raises
``tarfile.StreamError``. So tarfile parses the same headers and reaches the same errors as before, without the
stream mode's copying of its buffer on every read.
"""
from __future__ import annotations

import queue
import tarfile
from typing import BinaryIO, Iterator

from forensics.hashing import CHUNK

BLOCK = CHUNK * 8  # the blocks read and hashed: those the evidence hash read on its own before
FEED_DEPTH = 4  # blocks read but not yet hashed: bounds the memory held when hashing is slower than the walk

_END = object()


class FeedAborted(Exception):
    """The walk feeding the evidence hash stopped before the end of the file."""


class BlockFeed:
    """Blocks handed from the reading thread to the hashing thread, in order, at most ``FEED_DEPTH`` waiting.

    The reader calls ``put`` for each block, then ``finish`` (every byte given) or ``abort``; ``chunks`` is the
    consumer's iterator. When the consumer stops early (its thread failed), further blocks are dropped rather than
    blocking the reader."""

    def __init__(self) -> None:
        self._queue: queue.Queue = queue.Queue(FEED_DEPTH)
        self._gone = False
        self.ended = False

    def put(self, block) -> None:
        while not self._gone:
            try:
                self._queue.put(block, timeout=0.5)
                return
            except queue.Full:
                continue

    def finish(self) -> None:
        if not self.ended:
            self.ended = True
            self.put(_END)

    def abort(self, why: str) -> None:
        if not self.ended:
            self.ended = True
            self.put(FeedAborted(why))

    def chunks(self) -> Iterator[bytes]:
        try:
            while True:
                item = self._queue.get()
                if item is _END:
                    return
                if isinstance(item, FeedAborted):
                    raise item
                yield item
        finally:
            self._gone = True


class ForwardReader:
    """A forward-only binary stream over ``raw``, read ``BLOCK`` bytes at a time, each block given to ``feed`` once.

    ``read(n)`` returns n bytes, fewer only at the end of the file; ``seek`` goes forward only (as
    ``tarfile._Stream``, whose behaviour tarfile's parsing was written against in ``r|`` mode)."""

    def __init__(self, raw: BinaryIO, feed: BlockFeed | None = None):
        self._raw = raw
        self._feed = feed
        self._block = b""
        self._start = 0  # file offset of self._block
        self._eof = False
        self.pos = 0
        self.name = getattr(raw, "name", None)

    def _more(self) -> bool:
        """Read the next block; False at the end of the file."""
        if self._eof:
            return False
        data = self._raw.read(BLOCK)
        if not data:
            self._eof = True
            return False
        if self._feed is not None:
            self._feed.put(data)
        self._start += len(self._block)
        self._block = data
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = 1 << 62
        at = self.pos - self._start
        end = at + size
        if end <= len(self._block):  # within the block held: the usual case
            self.pos += size
            return self._block[at:end]
        pieces = [self._block[at:]] if at < len(self._block) else []
        got = len(pieces[0]) if pieces else 0
        while got < size and self._more():
            piece = self._block[:size - got]
            pieces.append(piece)
            got += len(piece)
        self.pos += got
        return b"".join(pieces)

    def seek(self, pos: int, whence: int = 0) -> int:
        if whence != 0:
            raise tarfile.StreamError("only absolute seeks are supported")
        if pos < self.pos:
            raise tarfile.StreamError("seeking backwards is not allowed")
        while pos > self._start + len(self._block) and self._more():
            pass
        self.pos = min(pos, self._start + len(self._block))
        return self.pos

    def tell(self) -> int:
        return self.pos

    def drain(self) -> None:
        """Read the rest of the file (the archive's end blocks and anything after them), for the feed."""
        while self._more():
            pass
        self.pos = self._start + len(self._block)


class MemberReader:
    """The data of one member that is not sparse, read straight from the ``ForwardReader``: what tarfile's
    ``extractfile`` gives (``ExFileObject`` over ``_FileInFile``), including its ``ReadError("unexpected end of
    data")`` on a truncated member, without its buffering and copying."""

    def __init__(self, reader: ForwardReader, offset: int, size: int):
        self._reader = reader
        self._offset = offset
        self._size = size
        self._position = 0

    def read(self, size: int = -1) -> bytes:
        left = self._size - self._position
        size = left if size is None or size < 0 else min(size, left)
        if size <= 0:
            return b""
        self._reader.seek(self._offset + self._position)
        data = self._reader.read(size)
        if len(data) != size:
            raise tarfile.ReadError("unexpected end of data")
        self._position += size
        return data

    def close(self) -> None:
        pass
