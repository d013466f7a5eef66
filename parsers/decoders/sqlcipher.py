"""Telling a SQLCipher-encrypted database from plain SQLite by the first bytes of the file.

SQLCipher either encrypts the whole file (its first 16 bytes are then a random salt instead of the SQLite magic) or,
as Telegram's Postbox and Signal's GRDB store do with ``cipher_plaintext_header_size = 32``, leaves the first
32 header bytes readable: the magic and page size are there, the per-page reserved space (byte 20) holds SQLCipher's
IV and HMAC, and page 1's b-tree header at offset 100 is ciphertext.
"""
from __future__ import annotations

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
        return head[20] >= _MIN_CIPHER_RESERVE and head[100] not in _TABLE_BTREE_PAGES
    return len(set(head[:16])) >= 8

