"""The case folder: the examiner's unit of work.

    CASE/case.json      name, creation time, tool and schema version
    CASE/audit.log      append-only JSON lines: every action, UTC, tool version, command, evidence hashes
    CASE/case.sqlite    the case store (all devices, merged)
    CASE/shards/        one store per device, written by that device's processing alone
    CASE/logs/          one log per device: what was opened, each parser run, timings, tracebacks
    CASE/work/          working copies while a device is processed (work/<device_id>/); removed afterwards, and
                        cleared before the device runs again after an interruption
    CASE/.lock          held (flock) by the one process that writes the case store (batch or ingest)
"""
from __future__ import annotations

import datetime as _dt
import fcntl
import json
import os
import sqlite3
from pathlib import Path

from artifacts.sql_quoting import sqlite_uri
from artifacts.store import Store
from forensics.confidential import create_private, exposed, private_dir, write_private_text
from forensics.integrity import AuditLog

TOOL_VERSION = "0.1.0"
# The one schema version number. 1: the first release (no device_states/device_runs, no user_version in the
# store). 2: device states and runs. A case of an older version is migrated when opened (``Store`` adds whatever
# tables, columns and indexes the file lacks); a case of a newer version is refused.
SCHEMA_VERSION = 2


class CaseError(Exception):
    """A case folder that does not exist, or is not a case: one line for the examiner."""


class Case:
    def __init__(self, root: Path):
        self.root = Path(root).absolute()  # absolute: a folder named "-x" is never read as an option by a tool

    @property
    def config_path(self) -> Path:
        return self.root / "case.json"

    @property
    def store_path(self) -> Path:
        return self.root / "case.sqlite"

    @property
    def shards(self) -> Path:
        return self.root / "shards"

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def audit(self) -> AuditLog:
        return AuditLog(self.root / "audit.log", TOOL_VERSION)

    @classmethod
    def init(cls, root: Path, name: str | None = None) -> "Case":
        root = Path(root)
        if (root / "case.json").exists():
            raise CaseError(f"a case already exists at {root}")
        if root.exists() and any(root.iterdir()):
            raise CaseError(f"folder {root} exists and is not empty")
        exposed_before = exposed(root)[:1] if root.exists() else []
        private_dir(root)
        case = cls(root)
        # an existing folder keeps its mode (it is the examiner's), but init says when others can read it
        case.exposed_root = exposed_before[0][1] if exposed_before else None
        config = {"name": name or root.name, "tool_version": TOOL_VERSION, "schema_version": SCHEMA_VERSION,
                  "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        private_dir(case.shards)
        write_private_text(case.config_path, json.dumps(config, indent=2, sort_keys=True) + "\n")
        store = Store(create_private(case.store_path))
        store.set_schema_version(SCHEMA_VERSION)
        store.close()
        case.audit.write("case init", name=config["name"])
        return case

    @classmethod
    def open(cls, root: Path) -> "Case":
        case = cls(Path(root))
        if not case.config_path.is_file():
            raise CaseError(f"not a case folder (no case.json): {root}")
        try:
            config = json.loads(case.config_path.read_text(encoding="utf-8"))
        except ValueError:
            raise CaseError(f"case.json in {root} is damaged") from None
        case._check_schema(config)
        return case

    def _check_schema(self, config: dict) -> None:
        """Refuse a case of a newer schema; migrate one of an older schema (nothing is removed)."""
        if not self.store_path.exists():
            raise CaseError(f"case store missing: {self.store_path}")
        probe = sqlite3.connect(sqlite_uri(self.store_path), uri=True)  # untouched
        try:
            found = max(int(config.get("schema_version") or 1), probe.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            raise CaseError(f"case store {self.store_path} cannot be read: {exc}") from None
        finally:
            probe.close()
        if found > SCHEMA_VERSION:
            raise CaseError(f"case {self.root} was written by a newer version of forensics (store schema {found}; "
                            f"this version {TOOL_VERSION} reads schema {SCHEMA_VERSION} and older): upgrade the tool")
        if found == SCHEMA_VERSION:
            return
        store = Store(self.store_path)  # adds the tables, columns and indexes the file lacks
        try:
            store.set_schema_version(SCHEMA_VERSION)
        finally:
            store.close()
        config["schema_version"] = SCHEMA_VERSION
        write_private_text(self.config_path, json.dumps(config, indent=2, sort_keys=True) + "\n")
        self.audit.write("schema migrated", from_version=found, to_version=SCHEMA_VERSION)

    def store(self) -> Store:
        return Store(self.store_path)

    def shard_path(self, device_id: str) -> Path:
        return self.shards / f"{device_id}.sqlite"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def log_path(self, device_id: str) -> Path:
        return self.logs / f"{device_id}.log"

    def work_dir(self, device_id: str) -> Path:
        return self.work / device_id

    def lock(self) -> "CaseLock":
        """Exclusive right to write the case store; refused at once when another batch or ingest holds it."""
        return CaseLock(self.root / ".lock")

    def is_locked(self) -> bool:
        """Whether a batch or ingest is writing this case right now (its lock dies with its process)."""
        path = self.root / ".lock"
        if not path.exists():
            return False
        fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(fd)


class CaseLock:
    """flock on CASE/.lock: released by the kernel when the holder dies, even by ``kill -9``.

    ``held`` lists this process's lock descriptors, so a forked worker closes its inherited copies at once: the
    lock must die with the process that writes the case, not linger in a worker."""

    held: set[int] = set()

    def __init__(self, path: Path):
        self.path = path
        self.fd: int | None = None

    def __enter__(self) -> "CaseLock":
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            self.fd = None
            raise CaseError(f"another forensics batch or ingest is writing case {self.path.parent}; "
                            f"wait for it to finish") from None
        os.ftruncate(self.fd, 0)
        os.write(self.fd, f"{os.getpid()}\n".encode())
        CaseLock.held.add(self.fd)
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            CaseLock.held.discard(self.fd)
            os.close(self.fd)
            self.fd = None

    @classmethod
    def release_inherited(cls) -> None:
        """In a forked child: drop the parent's lock descriptors (the parent keeps its lock)."""
        for fd in cls.held:
            try:
                os.close(fd)
            except OSError:
                pass
        cls.held = set()
