"""A case's platform overlay: validated once, stored normalised as ``CASE/overlay.json``, used by every command.

The overlay (YAML or JSON, format in ``docs/platforms.md``) adds platforms, flags platforms ``suspected`` or
``confirmed`` as used for recruitment or exploitation, and lists identifiers watch-listed by other investigations.
Installing it records the file's SHA-256 and what it holds in the case's audit log; a bad file changes nothing.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from artifacts.platforms import OverlayError, Registry, load_overlay, validate_overlay
from cases.case import Case, CaseError
from forensics.confidential import write_private_text

OVERLAY_FILE = "overlay.json"


def overlay_path(case: Case) -> Path:
    return case.root / OVERLAY_FILE


def install_overlay(case: Case, source: Path) -> dict:
    """Validate ``source`` and store it normalised in the case (replacing an earlier overlay); return it.

    Raises :class:`OverlayError` (every problem, one per line) and leaves the case unchanged on a bad file.
    """
    source = Path(source)
    if not source.is_file():
        raise CaseError(f"overlay file not found: {source}")
    overlay = load_overlay(source)
    target = overlay_path(case)
    write_private_text(target, json.dumps(overlay, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    case.audit.write("case overlay", source=str(source), sha256=hashlib.sha256(source.read_bytes()).hexdigest(),
                     platforms=len(overlay["platforms"]), flags=len(overlay["flags"]),
                     watchlist=len(overlay["watchlist"]), installed=str(target))
    return overlay


def case_overlay(case: Case) -> dict | None:
    """The case's installed overlay, re-validated (the file may have been edited by hand), or ``None``."""
    path = overlay_path(case)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise CaseError(f"{path} is damaged: install the overlay again with `forensics case overlay`") from None
    try:
        return validate_overlay(data, str(path))
    except OverlayError as exc:
        raise CaseError(str(exc)) from None


def load_case_registry(case: Case) -> Registry:
    """The platform registry with the case's overlay (flags, extra platforms, watch list) applied."""
    return Registry.load(case_overlay(case))
