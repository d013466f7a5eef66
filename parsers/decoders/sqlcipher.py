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

