"""Where the shared third-party test data lives: ../shared/testdata next to the repository (never copied in), or
the folder ``FORENSICS_TESTDATA`` names (same layout), for a lab whose copy lives elsewhere."""
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TESTDATA = Path(os.environ.get("FORENSICS_TESTDATA") or REPO.parent / "shared" / "testdata")
