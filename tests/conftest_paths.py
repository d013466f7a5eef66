"""Where the shared third-party test data lives: ../shared/testdata next to the repository (never copied in)."""
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TESTDATA = REPO.parent / "shared" / "testdata"
