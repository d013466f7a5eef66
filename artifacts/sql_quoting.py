"""The two places where names become SQL: database file names as SQLite URIs, and table/column names as quoted
identifiers. Both names may come from evidence (a case folder called ``op#7``, a table called ``a]b``), so both are
escaped here, once, and every open, ATTACH and dynamic query goes through these functions.

Facts from SQLite's documentation (https://www.sqlite.org/uri.html): in a URI filename ``%HH`` is an escape,
``?`` starts the query string and ``#`` the fragment, so ``%``, ``?`` and ``#`` (and anything that is not plain
ASCII) in the path must be percent-encoded; ``file:`` followed by ``//`` introduces an authority, so a path is given
as ``file:`` + its absolute path. An identifier in double quotes is a name, never a keyword or a string, and a
double quote inside it is written twice (https://www.sqlite.org/lang_keywords.html) — unlike ``[...]``, which
cannot contain ``]`` at all.
"""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote


def sqlite_uri(path: str | Path, readonly: bool = True, immutable: bool = False) -> str:
    """``file:`` URI of ``path`` (made absolute) with every character SQLite would read as syntax escaped;
    ``?mode=ro`` when ``readonly``, ``&immutable=1`` when the file can change under no one (a closed backup)."""
    absolute = os.path.abspath(os.fspath(path))
    encoded = quote(absolute, safe="/")  # '%', '?', '#', spaces, quotes and non-ASCII (as UTF-8) become %HH
    if encoded.startswith("//"):
        encoded = "//" + encoded  # an empty authority, so the path's own leading slashes stay part of the path
    params = []
    if readonly:
        params.append("mode=ro")
    if immutable:
        params.append("immutable=1")
    return f"file:{encoded}" + (f"?{'&'.join(params)}" if params else "")


def ident(name: str) -> str:
    """A table, column or schema name as a quoted SQL identifier: ``a]b"c`` → ``"a]b""c"``."""
    text = str(name)
    if "\x00" in text:
        raise ValueError("an SQL identifier cannot contain a NUL character")
    return '"' + text.replace('"', '""') + '"'
