"""Evidence integrity: the hashes of the whole evidence stream (checked against those stored in an E01) and the
case's append-only audit log.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import threading
from pathlib import Path

from forensics.evidence import Evidence
from forensics.hashing import Digests


def hash_evidence(evidence: Evidence) -> dict:
    """sha256 and md5 of the evidence stream in one pass, and the comparison with the container's stored hashes.

    ``hash_verified`` is True/False when the container stores a hash (E01), None when there is nothing to compare.
    """
    digests = Digests()
    for chunk in evidence.byte_chunks():
        digests.update(chunk)
    stored = evidence.stored_hashes()
    result = {"sha256": digests.sha256 if digests.size or evidence._reader else None,
              "md5": digests.md5 if digests.size or evidence._reader else None,
              "hashed_bytes": digests.size, "stored_md5": stored.get("md5"), "stored_sha1": stored.get("sha1"),
              "hash_verified": None}
    if stored.get("md5"):
        result["hash_verified"] = stored["md5"] == result["md5"]
    return result


class BackgroundHash(threading.Thread):
    """Hashes the evidence on a second core while the inventory walks it (hashlib releases the GIL)."""

    def __init__(self, evidence: Evidence):
        super().__init__(daemon=True)
        self.evidence = evidence
        self.result: dict | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            # Lowest CPU priority for this thread alone: it only has to finish by the end of the walk, while the
            # walk and the MIME identification are what the examiner waits for.
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except (AttributeError, OSError):
            pass
        try:
            self.result = hash_evidence(self.evidence)
        except BaseException as exc:  # surfaced to the caller by wait()
            self.error = exc

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
    """Append-only JSON-lines log of every action on a case: UTC time, tool version, command and details.

    Lines are only ever appended (O_APPEND) and flushed to disk before the call returns.
    """

    def __init__(self, path: Path, tool_version: str):
        self.path = path
        self.tool_version = tool_version

    def write(self, action: str, **details) -> None:
        entry = {"time": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                 "tool_version": self.tool_version, "action": action, **details}
        line = json.dumps(entry, sort_keys=True, default=str) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def entries(self) -> list[dict]:
        if not self.path.exists():
            return []
        with open(self.path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
