"""Evidence integrity: the hashes of the whole evidence stream (checked against those stored in an E01) and the
case's append-only audit log.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Iterator

from forensics.evidence import Evidence
from forensics.hashing import Digests, sha256_lane


class HashCancelled(Exception):
    """The evidence hash was stopped before its end (``BackgroundHash.cancel``): its device failed anyway."""


def hash_evidence(evidence: Evidence, chunks: Iterator[bytes] | None = None,
                  stop: threading.Event | None = None) -> dict:
    """sha256 and md5 of the evidence stream in one pass, and the comparison with the container's stored hashes.

    ``hash_verified`` is True/False when the container stores a hash (E01), None when there is nothing to compare;
    ``damaged`` lists the sector ranges of an E01 whose chunks fail their checksum (``forensics.ewf``).
    ``chunks``: the evidence byte stream when another reader supplies it (``Evidence.shared_chunks``), else
    ``evidence.byte_chunks()``. ``stop``: when set, the pass ends at the next chunk with ``HashCancelled``.
    """
    watch = evidence.chunk_watch()  # E01: which chunks fail their checksum (forensics/ewf.py)
    with sha256_lane() as lane:
        digests = Digests(lane)
        for chunk in evidence.byte_chunks() if chunks is None else chunks:
            if stop is not None and stop.is_set():
                raise HashCancelled("evidence hash stopped")
            digests.update(chunk)
            if watch is not None:
                watch.update(chunk)
    stored = evidence.stored_hashes()
    result = {"sha256": digests.sha256 if digests.size or evidence._reader else None,
              "md5": digests.md5 if digests.size or evidence._reader else None,
              "hashed_bytes": digests.size, "stored_md5": stored.get("md5"), "stored_sha1": stored.get("sha1"),
              "hash_verified": None}
    if stored.get("md5"):
        result["hash_verified"] = stored["md5"] == result["md5"]
    result["damaged"] = watch.damaged(result["hash_verified"]) if watch is not None else []
    return result


class BackgroundHash(threading.Thread):
    """Hashes the evidence beside the inventory's walk (hashlib releases the GIL). It runs at the same priority as
    the walk: the ingest waits for both, and a thread at the lowest priority was starved while the walk's threads
    kept both cores busy, then ran alone at the end.

    ``shared``: hash the bytes the walk of the evidence reads (``Evidence.shared_chunks``: a plain tar is read
    once), taken now, before the walk starts."""

    def __init__(self, evidence: Evidence, shared: bool = False):
        super().__init__(daemon=True)
        self.evidence = evidence
        self.chunks = evidence.shared_chunks() if shared else None
        self.result: dict | None = None
        self.error: BaseException | None = None
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        """Stop hashing at the next chunk and end a shared read (a device that failed before its hash was
        needed): ``join()`` then returns soon, and the evidence can be closed under no reader."""
        self._cancelled.set()
        self.evidence.end_shared_reads()

    def run(self) -> None:
        try:
            self.result = hash_evidence(self.evidence, self.chunks, self._cancelled)
        except BaseException as exc:  # surfaced to the caller by wait()
            self.error = exc
        finally:
            if self.chunks is not None:
                self.chunks.close()  # a shared read stops handing blocks over to a hash that failed

    def wait(self) -> dict:
        self.join()
        if self.error is not None:
            raise self.error
        return self.result


def file_state(paths: list[Path]) -> list[dict]:
    """Size and mtime of each evidence file, to show afterwards that nothing touched them."""
    state = []
    for p in paths:
        st = os.stat(p)
        state.append({"path": str(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    return state


class AuditLog:
    """Append-only, hash-chained JSON-lines log of every action on a case: UTC time, tool version, command, details.

    Each line carries ``prev_sha256``, the sha256 of the previous line's bytes (its newline included; for the first
    line, of nothing), so editing, inserting or removing a line breaks the chain at that point: ``verify_chain``
    finds it. Lines are only ever appended (O_APPEND, under an exclusive lock so two writers cannot take the same
    predecessor) and flushed to disk before the call returns.
    """

    def __init__(self, path: Path, tool_version: str):
        self.path = path
        self.tool_version = tool_version

    def write(self, action: str, **details) -> None:
        import fcntl

        entry = {"time": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                 "tool_version": self.tool_version, "action": action, **details}
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            last = _last_line(fd)
            if last and not last.endswith(b"\n"):  # a line torn by a crash: close it, the chain goes on after it
                os.write(fd, b"\n")
                last += b"\n"
            entry["prev_sha256"] = hashlib.sha256(last).hexdigest()
            os.write(fd, (json.dumps(entry, sort_keys=True, default=str) + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)  # releases the lock

    def entries(self) -> list[dict]:
        if not self.path.exists():
            return []
        with open(self.path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def verify_chain(self) -> "ChainCheck":
        """Check every line's ``prev_sha256`` against the line before it.

        Lines before the first chained line were written by a version without the chain: they are counted and
        reported, not failed. After it, every line must carry the right hash."""
        lines = self.path.read_bytes().splitlines(keepends=True) if self.path.exists() else []
        previous = b""
        unchained = 0
        chained = False
        for number, line in enumerate(lines, start=1):
            try:
                entry = json.loads(line)
                given = entry.get("prev_sha256") if isinstance(entry, dict) else None
            except ValueError:
                given = None
                entry = None
            if given is None and not chained:
                if entry is None:
                    return ChainCheck(False, len(lines), unchained, number, "not a JSON line")
                unchained += 1
            elif given != hashlib.sha256(previous).hexdigest():
                why = "not a JSON line" if entry is None else \
                    "no prev_sha256" if given is None else "prev_sha256 does not match the line before it"
                return ChainCheck(False, len(lines), unchained, number, why)
            else:
                chained = True
            previous = line
        return ChainCheck(True, len(lines), unchained)


@dataclasses.dataclass
class ChainCheck:
    ok: bool
    lines: int
    unchained: int  # leading lines written before the log was chained
    broken_line: int | None = None
    reason: str | None = None

    def describe(self) -> str:
        if not self.ok:
            return f"audit log: line {self.broken_line} breaks the hash chain ({self.reason}); it or a line " \
                   f"before it was edited, inserted or removed"
        text = f"audit log: {self.lines} lines, hash chain intact"
        if self.unchained:
            text += f" ({self.unchained} earlier lines were written without a chain by an older version and " \
                    f"cannot be proven unedited)"
        return text


def _last_line(fd: int) -> bytes:
    """The file's last line (with its newline), read backwards from the end in blocks."""
    end = os.lseek(fd, 0, os.SEEK_END)
    if end == 0:
        return b""
    data = b""
    position = end
    while position > 0:
        step = min(65536, position)
        position -= step
        data = os.pread(fd, step, position) + data
        cut = data.rfind(b"\n", 0, len(data) - 1)
        if cut >= 0:
            return data[cut + 1:]
    return data
