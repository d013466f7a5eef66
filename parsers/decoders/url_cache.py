"""The iOS URL loading system's cache (``Library/Caches/<bundle id>/Cache.db`` with its ``fsCachedData/`` folder):
the responses an app's API calls received, for apps that keep no database of their own (Burner for iOS).

Layout, as iLEAPP ``scripts/artifacts/burnerCache.py`` reads it and as the real ``Cache.db`` of its josh_ios15 test
extraction shows: ``cfurl_cache_response(entry_ID, request_key)`` holds the requested URL and
``cfurl_cache_receiver_data(entry_ID, isDataOnFS, receiver_data)`` the body — inline, or, where ``isDataOnFS`` is
1, the name of a file in the ``fsCachedData`` folder beside ``Cache.db``. A name is only ever looked up among the
files spooled from that folder, never joined onto a path.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

REQUIRES = {"cfurl_cache_response": {"entry_ID", "request_key"},
            "cfurl_cache_receiver_data": {"entry_ID", "isDataOnFS", "receiver_data"}}
TABLE = "cfurl_cache_receiver_data"
MAX_BODY = 64 * 1024 * 1024


@dataclass
class CachedResponse:
    entry_id: int
    url: str
    body: bytes | None  # None when the body file is missing or too large (``problem`` says which)
    cached_file: str | None  # the fsCachedData file name when the body lives on the file system
    problem: str | None = None

    def json(self):
        """The body as JSON; ValueError when it is not."""
        if self.body is None:
            raise ValueError(self.problem or "no body")
        try:
            return json.loads(self.body)
        except (UnicodeDecodeError, RecursionError) as exc:
            raise ValueError(str(exc)) from None


def responses(db, url_pattern: str, cached_files: dict[str, Path]):
    """Every cached response whose URL fully matches the regex ``url_pattern``, in entry order.

    ``cached_files`` maps fsCachedData file names to their working copies (from ``ctx.find``)."""
    wanted = re.compile(url_pattern)
    for row in db.execute("SELECT r.entry_ID AS entry_id, r.request_key AS url, d.isDataOnFS AS on_fs, "
                          "d.receiver_data AS data FROM cfurl_cache_response r "
                          "JOIN cfurl_cache_receiver_data d ON d.entry_ID = r.entry_ID ORDER BY r.entry_ID"):
        url = row["url"] if isinstance(row["url"], str) else None
        if not url or not wanted.fullmatch(url):
            continue
        data = row["data"]
        if not row["on_fs"]:
            yield CachedResponse(row["entry_id"], url, data.encode() if isinstance(data, str) else data, None)
            continue
        name = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data or "")
        local = cached_files.get(name)
        if local is None:
            yield CachedResponse(row["entry_id"], url, None, name, f"fsCachedData/{name} is not in the evidence")
        elif local.stat().st_size > MAX_BODY:
            yield CachedResponse(row["entry_id"], url, None, name, f"fsCachedData/{name} exceeds {MAX_BODY} bytes")
        else:
            yield CachedResponse(row["entry_id"], url, local.read_bytes(), name)


def cached_files(ctx) -> dict[str, Path]:
    """fsCachedData file name → working copy, for the files in the ``fsCachedData`` folder beside the database
    being parsed (same partition; the app's own folder, so another app's or container's cache never mixes in)."""
    folder = ctx.source.path.rsplit("/", 1)[0] + "/fsCachedData/"
    return {s.path[len(folder):]: s.local for s in ctx.find("*/fsCachedData/*")
            if s.partition == ctx.source.partition and s.path.startswith(folder) and "/" not in s.path[len(folder):]}
