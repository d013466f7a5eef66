"""Suite-wide guard: the shared third-party evidence must be byte-for-byte the same after the tests as before.

The tests read real app databases; opening one with SQLite directly (instead of through the pipeline's working
copies) would checkpoint its -wal into it. This fixture makes any such slip fail the run.
"""
import hashlib

import pytest

from tests.conftest_paths import TESTDATA


def _digests() -> dict[str, str]:
    return {str(p.relative_to(TESTDATA)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(TESTDATA.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session", autouse=True)
def shared_testdata_untouched():
    if not TESTDATA.exists():
        yield
        return
    before = _digests()
    yield
    after = _digests()
    assert after == before, "the tests changed ../shared/testdata: " + ", ".join(
        sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)))
