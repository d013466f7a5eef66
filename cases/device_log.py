"""The device log's file handler (``CASE/logs/<device>.log``): a line per parser run, written through at once like
``logging.FileHandler`` — except inside ``held_lines()`` blocks (a batch of photo runs parsed while the inventory
goes on), where INFO lines are written in blocks of the file object's buffer rather than flushed one by one (a write
system call per line on each of a device's thousands of photo runs). A WARNING or worse flushes at once (with the
lines before it, in order), so does the end of the block and closing the handler; lines keep their content and
order. A worker killed during a block (SIGKILL at its time limit) may lose that block's INFO lines: one batch's.
"""
from __future__ import annotations

import contextlib
import logging

_held = 0  # blocks open (the batches run on the main thread; the inventory's threads log through the same stream)


class DeviceLogHandler(logging.FileHandler):
    """``logging.FileHandler`` whose INFO lines inside ``held_lines()`` are not flushed one by one."""

    def emit(self, record: logging.LogRecord) -> None:
        if not _held or record.levelno >= logging.WARNING or self.stream is None:
            super().emit(record)  # written and flushed, with any line written before it
            return
        try:  # as logging.StreamHandler.emit, without the flush
            self.stream.write(self.format(record) + self.terminator)
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)


@contextlib.contextmanager
def held_lines():
    """INFO lines of the device log written in blocks until the end of this block, then flushed."""
    global _held
    _held += 1
    try:
        yield
    finally:
        _held -= 1
        if not _held:
            for handler in logging.getLogger().handlers:
                if isinstance(handler, DeviceLogHandler):
                    handler.flush()
