"""Re-hash every evidence item of a case and compare with the hashes recorded at ingest; list what in the case
folder other accounts could read."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cases.case import Case
from forensics.confidential import exposed as exposed_items
from forensics.evidence import EvidenceError, open_evidence
from forensics.integrity import hash_evidence


@dataclass
class Check:
    evidence_id: str
    ok: bool
    detail: str


class Checks(list):
    """The evidence checks, and ``exposed``: (path in the case, mode) of everything others could read."""

    exposed: list[tuple[str, int]] = []


def verify(case: Case) -> Checks:
    store = case.store()
    try:
        recorded = list(store.rows("evidence"))
    finally:
        store.close()
    checks = Checks()
    for row in recorded:
        paths = [Path(p) for p in row["paths"]]
        if row["sha256"] is None:
            checks.append(Check(row["evidence_id"], True, f"{row['container']}: no evidence-level hash "
                                                          f"(files are hashed one by one)"))
            continue
        try:
            evidence = open_evidence(paths)
        except EvidenceError as exc:
            checks.append(Check(row["evidence_id"], False, f"cannot open: {exc}"))
            continue
        try:
            now = hash_evidence(evidence)
        finally:
            evidence.close()
        same = now["sha256"] == row["sha256"] and now["md5"] == row["md5"]
        detail = f"sha256 {now['sha256']} {'matches' if same else 'DIFFERS from ' + str(row['sha256'])}"
        if now["hash_verified"] is not None:
            detail += "; stored md5 matches" if now["hash_verified"] else \
                f"; stored md5 {now['stored_md5']} DIFFERS from the md5 read, {now['md5']}"
            same = same and now["hash_verified"]
        for run in now.get("damaged") or []:  # E01 chunks failing their checksum (docs/problems.md)
            detail += f"; sectors {run['first_sector']}-{run['last_sector']} DAMAGED ({run['reason']})"
            same = False
        checks.append(Check(row["evidence_id"], same, detail))
    checks.exposed = exposed_items(case.root)
    case.audit.write("verify", results=[c.__dict__ for c in checks],
                     readable_by_others=[{"path": p, "mode": f"{m:04o}"} for p, m in checks.exposed])
    return checks
