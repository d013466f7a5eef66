"""Case data stays with the examiner: the one place for file modes and for keeping secrets out of records.

A case holds victims' messages, photos, locations and phone numbers, and lab machines are shared. So:

- every process of the command line runs with umask ``077`` (``private_umask``, set when ``forensics`` starts and
  inherited by the batch's forked workers and by the programs it runs: ``sqlite3``, SQLCipher, Datasette), so
  anything any library or program creates is ``0600`` (folders ``0700``) whatever the examiner's own umask;
- the writers of the case (case folder, store, shards, logs, audit log, working copies, exports) also create their
  folders and files with explicit private modes through ``private_dir``/``create_private``/``open_private``, so
  the rule holds when the code is used as a library, without the command line's umask;
- ``exposed`` lists what in a case folder other accounts could read (``forensics verify``);
- ``masked_command`` is how a command line is recorded: secret option values (backup passwords, keys, broker
  passwords in URLs) become ``***``.

Sources for the modes: POSIX ``umask``/``open(2)``/``mkdir(2)`` (a mode given at creation is reduced by the umask,
never widened; ``fchmod`` sets it exactly); SQLite's unix VFS creates ``-wal``, ``-shm`` and journals with the
database file's own permissions, so a store created ``0600`` keeps its sidecars ``0600`` too.
"""
from __future__ import annotations

import contextlib
import os
import re
import stat
from pathlib import Path
from typing import IO, Iterator

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600
OTHERS = 0o077  # group and other permission bits

# Options whose value is a secret, in every command that has them; the value is recorded as ***.
SECRET_OPTIONS = ("--password", "--key", "--broker-password")
MASK = "***"
_URL_PASSWORD = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<password>[^@/\s]+)@")


def private_umask() -> int:
    """Set the process umask to 077; returns the one it replaces."""
    return os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as ``0700``; an existing folder is left as it is."""
    path = Path(path)
    for missing in reversed([p for p in (path, *path.parents) if not p.exists()]):
        try:
            missing.mkdir(mode=DIR_MODE)
        except FileExistsError:  # another worker made it meanwhile
            pass
    return path


def create_private(path: Path) -> Path:
    """Create ``path`` empty with mode ``0600`` unless it exists, for a file a library then opens (SQLite, the
    logging module)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    return Path(path)


def open_private(path: Path, binary: bool = False, mode: int = FILE_MODE, append: bool = False) -> IO:
    """Open ``path`` for writing (truncated, or appended to) with exactly ``mode`` (default ``0600``), whatever the
    umask and whatever mode an earlier file of that name had."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    fd = os.open(path, flags, mode & FILE_MODE)
    try:
        os.fchmod(fd, mode)
    except BaseException:
        os.close(fd)
        raise
    if binary:
        return os.fdopen(fd, "ab" if append else "wb")
    return os.fdopen(fd, "a" if append else "w", encoding="utf-8", newline="")


@contextlib.contextmanager
def write_atomically(output: str | Path, binary: bool = False, mode: int = FILE_MODE) -> Iterator[IO]:
    """Write ``output`` through ``output.partial`` with ``mode``; renamed into place only when the block ends
    without an error, so an interrupted export never leaves a truncated file under the final name."""
    partial = Path(str(output) + ".partial")
    with open_private(partial, binary, mode) as out:
        yield out
    partial.replace(output)


def write_private_text(path: Path, text: str) -> None:
    """Replace the text file ``path`` (through ``path.partial``) with mode ``0600``."""
    with write_atomically(path) as out:
        out.write(text)


def parse_mode(text: str) -> int:
    """An octal file mode as given to ``--mode`` (``600``, ``0640``, ``0o644``)."""
    cleaned = text.strip().lower().removeprefix("0o")
    if not re.fullmatch(r"[0-7]{3,4}", cleaned):
        raise ValueError(f"not an octal file mode: {text!r} (e.g. 600 or 0640)")
    mode = int(cleaned, 8)
    if mode & ~0o777:
        raise ValueError(f"file mode {text!r}: only permission bits (at most 0777)")
    return mode


def exposed(root: Path) -> list[tuple[str, int]]:
    """Every folder and file under ``root`` (itself included) with a group or other permission bit set, as
    (path relative to ``root``, mode), sorted. Links are reported by their own mode, never followed."""
    root = Path(root)
    found = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in [None, *dirs, *files]:
            path = Path(folder) if name is None else Path(folder) / name
            if name is None and path != root:
                continue  # each folder is looked at as an entry of its parent
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                continue
            if info.st_mode & OTHERS:
                found.append((str(path.relative_to(root)) if path != root else ".", stat.S_IMODE(info.st_mode)))
    return sorted(found)


def masked_command(words: list[str]) -> str:
    """The command line as recorded: values of secret options and passwords inside URLs replaced by ``***``."""
    out = []
    hide_next = False
    for word in words:
        word = str(word)
        if hide_next:
            out.append(MASK)
            hide_next = False
            continue
        option, eq, _ = word.partition("=")
        if option in SECRET_OPTIONS:
            if eq:
                out.append(f"{option}={MASK}")
            else:
                out.append(word)
                hide_next = True
            continue
        out.append(_URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", word))
    return " ".join(out)
