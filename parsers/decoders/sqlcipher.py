"""Telling a SQLCipher-encrypted database from plain SQLite by the first bytes of the file, and decrypting one
into a plain SQLite copy with ``sqlcipher3`` once a parser has found its key (``framework.Cipher``).

SQLCipher either encrypts the whole file (its first 16 bytes are then a random salt instead of the SQLite magic) or,
as Telegram's Postbox and Signal's GRDB store do with ``cipher_plaintext_header_size = 32``, leaves the first
32 header bytes readable: the magic and page size are there, the per-page reserved space (byte 20) holds SQLCipher's
IV and HMAC, and page 1's b-tree header at offset 100 is ciphertext.
"""
from __future__ import annotations

import re
from pathlib import Path

from sqlcipher3 import dbapi2 as sqlcipher

SQLITE_MAGIC = b"SQLite format 3\x00"
HEAD_SIZE = 512
_TABLE_BTREE_PAGES = (0x05, 0x0D)  # page 1 always holds the schema table: interior or leaf table b-tree
_MIN_CIPHER_RESERVE = 16  # IV alone; SQLCipher 3 reserves 48, SQLCipher 4 80


def is_sqlcipher(head: bytes) -> bool:
    """True when ``head`` (the file's first HEAD_SIZE bytes) starts a SQLCipher database rather than plain SQLite.

    A file too short to hold a page header, or whose first bytes are uniform (zeroed, wiped), is not called
    encrypted: SQLite itself then reports what is wrong with it.
    """
    if len(head) < HEAD_SIZE:
        return False
    if head.startswith(SQLITE_MAGIC):
        return head[20] >= _MIN_CIPHER_RESERVE and not _plausible_schema_page(head)
    return len(set(head[:16])) >= 8


def _plausible_schema_page(head: bytes) -> bool:
    """Whether bytes 100.. read as the b-tree header of page 1 (the schema table) of a plain database.

    Ciphertext passes the page-type test one time in 128; the other fields (fragmented bytes at most 60, a cell
    content area inside the page after the header) make a random pass about a thousand times rarer still.
    """
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    content_start = int.from_bytes(head[105:107], "big") or 65536
    return (head[100] in _TABLE_BTREE_PAGES and head[107] <= 60
            and 108 <= content_start <= page_size)



# --- decryption ------------------------------------------------------------------------------------------------


class WrongKey(Exception):
    """The key found does not open the file (wrong key, not a SQLCipher file, or its first page is damaged)."""


class DamagedEncryptedDatabase(Exception):
    """SQLCipher refuses pages it cannot decrypt (HMAC failure), so a damaged encrypted database cannot be exported
    as a whole; the message names the pages."""


def decrypt(encrypted: Path, passphrase: str, settings: tuple[str, ...], target: Path) -> Path:
    """Export ``encrypted`` (with any -wal beside it) into the plain SQLite file ``target`` with SQLCipher.

    ``settings`` are the cipher PRAGMAs the app sets (``cipher_compatibility``, ``kdf_iter``, page size, ...). The
    passphrase goes into a quoted SQL literal and never into any message."""
    conn = _open(encrypted, passphrase, settings)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher.DatabaseError as exc:
        conn.close()
        raise WrongKey(f"the key found does not open this database (wrong key, not a SQLCipher file, "
                       f"or its first page is damaged: {exc})") from None
    try:
        conn.execute("ATTACH DATABASE ? AS plaintext KEY ''", [str(target)])
        conn.execute("SELECT sqlcipher_export('plaintext')")
        conn.execute("DETACH DATABASE plaintext")
    except sqlcipher.DatabaseError as exc:
        conn.close()
        raise DamagedEncryptedDatabase(f"{exc}; {_failed_pages(encrypted, passphrase, settings)}") from None
    conn.close()
    return target


def _open(path: Path, passphrase: str, settings: tuple[str, ...]):
    conn = sqlcipher.connect(str(path))
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute("PRAGMA key = '{}'".format(passphrase.replace("'", "''")))
    for pragma in settings:
        conn.execute(pragma)
    return conn


def _failed_pages(path: Path, passphrase: str, settings: tuple[str, ...]) -> str:
    conn = _open(path, passphrase, settings)
    try:
        problems = [r[0] for r in conn.execute("PRAGMA cipher_integrity_check")]
    except sqlcipher.DatabaseError as exc:
        return f"cipher_integrity_check failed ({exc})"
    finally:
        conn.close()
    pages = [m.group(1) for p in problems if (m := re.search(r"failed for page (\d+)", p))]
    if not pages:
        return "cipher_integrity_check found no HMAC failure"
    shown = ", ".join(pages[:20]) + (", ..." if len(pages) > 20 else "")
    return f"HMAC verification failed for {len(pages)} page(s): {shown}; SQLCipher will not decrypt those pages"
