"""The case folder: the examiner's unit of work.

    CASE/case.json      name, creation time, tool and schema version
    CASE/audit.log      append-only JSON lines: every action, UTC, tool version, command, evidence hashes
    CASE/case.sqlite    the case store (all devices, merged)
    CASE/shards/        one store per device, written by that device's processing alone
    CASE/work/          working copies while a device is processed; removed afterwards
"""
from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

from artifacts.store import Store
from forensics.integrity import AuditLog

TOOL_VERSION = "0.1.0"
SCHEMA_VERSION = 1


class CaseError(Exception):
    """A case folder that does not exist, or is not a case: one line for the examiner."""


class Case:
    def __init__(self, root: Path):
        self.root = Path(root)

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
        root.mkdir(parents=True, exist_ok=True)
        case = cls(root)
        config = {"name": name or root.name, "tool_version": TOOL_VERSION, "schema_version": SCHEMA_VERSION,
                  "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        case.shards.mkdir()
        case.config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        Store(case.store_path).close()
        case.audit.write("case init", name=config["name"])
        return case

    @classmethod
    def open(cls, root: Path) -> "Case":
        case = cls(Path(root))
        if not case.config_path.is_file():
            raise CaseError(f"not a case folder (no case.json): {root}")
        try:
            json.loads(case.config_path.read_text(encoding="utf-8"))
        except ValueError:
            raise CaseError(f"case.json in {root} is damaged") from None
        return case

    def store(self) -> Store:
        return Store(self.store_path)

    def shard_path(self, device_id: str) -> Path:
        return self.shards / f"{device_id}.sqlite"
