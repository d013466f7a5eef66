"""iTunes/Finder backups of iPhones: the hashed-name file store read back as the device's own file tree.

A backup folder holds ``Manifest.db`` (iOS 10 and later; ``Manifest.mbdb`` before), ``Manifest.plist``,
``Info.plist`` and the files themselves, each stored as ``<fileID[:2]>/<fileID>`` where
``fileID = SHA1("<domain>-<relativePath>")``. ``BackupSource`` yields one ``FileEntry`` per manifest row with its
path mapped onto the full-file-system layout, so the path patterns parsers use for extractions also match backups:

====================================  =====================================================================
domain                                path on the device
====================================  =====================================================================
HomeDomain, MediaDomain,              ``/private/var/mobile``
CameraRollDomain, KeyboardDomain,
TonesDomain, HomeKitDomain
HealthDomain                          ``/private/var/mobile/Library``
BooksDomain                           ``/private/var/mobile/Media/Books``
RootDomain                            ``/private/var/root``
WirelessDomain                        ``/private/var/wireless``
SystemPreferencesDomain               ``/private/var/preferences``
KeychainDomain                        ``/private/var/Keychains``
DatabaseDomain                        ``/private/var/db``
ManagedPreferencesDomain              ``/private/var/Managed Preferences`` (its relative paths start ``mobile/``)
MobileDeviceDomain                    ``/private/var/MobileDevice``
InstallDomain                         ``/private/var/installd``
AppDomain-<bundle>                    ``/private/var/mobile/Containers/Data/Application/<bundle>``
AppDomainGroup-<group>                ``/private/var/mobile/Containers/Shared/AppGroup/<group>``
AppDomainPlugin-<id>                  ``/private/var/mobile/Containers/Data/PluginKitPlugin/<id>``
SysContainerDomain-<id>               ``/private/var/containers/Data/System/<id>``
SysSharedContainerDomain-<id>         ``/private/var/containers/Shared/SystemGroup/<id>``
anything else                         ``/backup/<domain>``
====================================  =====================================================================

On the device an app container folder is named by a random UUID that a backup does not record; the bundle (or
group, or plug-in) identifier stands in for it, so a pattern such as ``*/Containers/Shared/AppGroup/*/X`` matches
both layouts.

Evidence is never written: ``Manifest.db`` is opened through an ``immutable`` read-only URI (SQLite then creates no
journal beside it), and an encrypted backup's manifest is decrypted into a private temporary folder that is removed
when iteration ends. Encrypted file contents are decrypted block by block as they are read. The password is used
once to unlock the keybag and is never kept.
"""
from __future__ import annotations

import datetime
import functools
import hashlib
import io
import os
import plistlib
import re
import sqlite3
import stat
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from Crypto.Cipher import AES
from iphone_backup_decrypt.exceptions import UnsafeBackupError
from iphone_backup_decrypt.utils import BackupKeyBag, aes_decrypt_chunked

from artifacts.sql_quoting import sqlite_uri
from artifacts.timestamps import TimeValue, from_datetime, unix_s
from forensics.entries import DIRECTORY, FILE, LINK, OTHER, FileEntry

PARTITION = "backup"
NEW_MANIFEST, OLD_MANIFEST = "Manifest.db", "Manifest.mbdb"
MAX_PLIST_BYTES = 64 * 1024 * 1024  # Info.plist carries app icons; far larger means it is not a backup's plist
MAX_FILE_BLOB = 1024 * 1024  # a Manifest.db `file` blob is a few kB

_MOBILE = "/private/var/mobile"
_FIXED_DOMAINS = {
    "HomeDomain": _MOBILE, "MediaDomain": _MOBILE, "CameraRollDomain": _MOBILE, "KeyboardDomain": _MOBILE,
    "TonesDomain": _MOBILE, "HomeKitDomain": _MOBILE, "HealthDomain": f"{_MOBILE}/Library",
    "BooksDomain": f"{_MOBILE}/Media/Books", "RootDomain": "/private/var/root",
    "WirelessDomain": "/private/var/wireless", "SystemPreferencesDomain": "/private/var/preferences",
    "KeychainDomain": "/private/var/Keychains", "DatabaseDomain": "/private/var/db",
    "ManagedPreferencesDomain": "/private/var/Managed Preferences", "MobileDeviceDomain": "/private/var/MobileDevice",
    "InstallDomain": "/private/var/installd",
}
_CONTAINER_DOMAINS = {
    "AppDomain": f"{_MOBILE}/Containers/Data/Application",
    "AppDomainGroup": f"{_MOBILE}/Containers/Shared/AppGroup",
    "AppDomainPlugin": f"{_MOBILE}/Containers/Data/PluginKitPlugin",
    "SysContainerDomain": "/private/var/containers/Data/System",
    "SysSharedContainerDomain": "/private/var/containers/Shared/SystemGroup",
}
_FILE_ID = re.compile(r"[0-9a-f]{40}")
_FLAG_KINDS = {1: FILE, 2: DIRECTORY, 4: LINK}
_MODE_KINDS = {stat.S_IFREG: FILE, stat.S_IFDIR: DIRECTORY, stat.S_IFLNK: LINK}
_BLOCK = 16


class BackupError(Exception):
    """A backup that cannot be read as a whole; the message is one line for the examiner."""


def backup_path(domain, relative_path) -> str:
    """The full-file-system path of a manifest row; ValueError (with the reason) for a row that would escape."""
    if not isinstance(domain, str) or not isinstance(relative_path, str):
        raise ValueError("domain or relativePath is not text")
    if "\x00" in domain or "\x00" in relative_path:
        raise ValueError("NUL byte in domain or relativePath")
    if relative_path.startswith("/"):
        raise ValueError("relativePath is absolute")
    parts = relative_path.split("/") if relative_path else []
    if any(p in ("", ".", "..") for p in parts):
        raise ValueError("relativePath climbs out of its domain or is not normalized")
    if domain in _FIXED_DOMAINS:
        base = _FIXED_DOMAINS[domain]
    else:
        kind, dash, ident = domain.partition("-")
        if dash and kind in _CONTAINER_DOMAINS:
            _check_component(ident, "container identifier")
            base = f"{_CONTAINER_DOMAINS[kind]}/{ident}"
        else:
            _check_component(domain, "domain")
            base = f"/backup/{domain}"
    return "/".join([base, *parts])


def _check_component(name: str, what: str) -> None:
    if name in ("", ".", "..") or "/" in name:
        raise ValueError(f"{what} {name!r} is not a single path component")


def is_backup(path) -> bool:
    """A folder with a manifest database (Manifest.db, or Manifest.mbdb before iOS 10) and Manifest/Info.plist."""
    root = Path(path)
    return (root.is_dir()
            and any((root / m).is_file() for m in (NEW_MANIFEST, OLD_MANIFEST))
            and any((root / p).is_file() for p in ("Manifest.plist", "Info.plist")))


def _read_plist(path: Path) -> dict:
    """A backup plist (XML or binary). plistlib refuses XML entity declarations, so no entity expansion happens."""
    if not path.is_file():
        return {}
    if path.stat().st_size > MAX_PLIST_BYTES:
        raise BackupError(f"{path.name} is larger than {MAX_PLIST_BYTES} bytes: not a backup property list")
    try:
        with open(path, "rb") as f:
            value = plistlib.load(f)
    except Exception as exc:  # plistlib raises many types on hostile input; all mean "unreadable"
        raise BackupError(f"{path.name} is not a readable property list ({type(exc).__name__}: {exc})") from None
    if not isinstance(value, dict):
        raise BackupError(f"{path.name} is not a dictionary property list")
    return value


def _text(*candidates) -> str | None:
    for value in candidates:
        if isinstance(value, str) and value.strip():
            return value
    return None


def device_facts(path) -> dict:
    """What the backup says about the device (Info.plist first, Manifest.plist's Lockdown dictionary second)."""
    root = Path(path)
    info = _read_plist(root / "Info.plist")
    manifest = _read_plist(root / "Manifest.plist")
    lockdown = manifest.get("Lockdown") if isinstance(manifest.get("Lockdown"), dict) else {}
    date = info.get("Last Backup Date")
    if not isinstance(date, datetime.datetime):
        date = manifest.get("Date")
    backup_date = from_datetime(date, date, "plist_date") if isinstance(date, datetime.datetime) else None
    return {
        "model": _text(info.get("Product Type"), lockdown.get("ProductType")),
        "os_version": _text(info.get("Product Version"), lockdown.get("ProductVersion")),
        "serial": _text(info.get("Serial Number"), lockdown.get("SerialNumber")),
        "udid": _text(info.get("Unique Identifier"), info.get("Target Identifier"), lockdown.get("UniqueDeviceID")),
        "imei": _text(info.get("IMEI")),
        "phone_number": _text(info.get("Phone Number"), lockdown.get("PhoneNumber")),
        "device_name": _text(info.get("Device Name"), lockdown.get("DeviceName")),
        "backup_date": backup_date.iso if backup_date else None,
        "encrypted": manifest.get("IsEncrypted") is True,
    }


@dataclass
class _Row:
    """One manifest row, whichever manifest format it came from."""

    file_id: str
    domain: str
    relative_path: str
    kind: str
    size: int | None = None
    times: dict[str, TimeValue | None] = field(default_factory=dict)
    link_target: str | None = None
    protection_class: int | None = None
    wrapped_key: bytes | None = None
    notes: list[str] = field(default_factory=list)


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _mbfile(blob) -> dict | None:
    """The properties of the NSKeyedArchiver'd MBFile in a Manifest.db ``file`` blob, with object references
    resolved one level (strings, NSData bytes); None when the blob is not such an archive."""
    if not isinstance(blob, bytes) or len(blob) > MAX_FILE_BLOB:
        return None
    try:
        archive = plistlib.loads(blob)
        objects = archive["$objects"]
        root = objects[archive["$top"]["root"].data]
        resolved = {}
        for key, value in root.items():
            if isinstance(value, plistlib.UID):
                value = objects[value.data]
            if isinstance(value, dict) and "NS.data" in value:
                value = value["NS.data"]
            resolved[key] = value
        return resolved
    except Exception:  # a hostile blob can fail in any of plistlib's ways; each one means "unreadable"
        return None


def _db_row(file_id, domain, relative_path, flags, blob) -> _Row:
    kind = _FLAG_KINDS.get(flags, OTHER)
    row = _Row(file_id, domain, relative_path, kind)
    if kind == OTHER:
        row.notes.append(f"unknown Manifest.db flags {flags!r}")
    props = _mbfile(blob)
    if props is None:
        row.notes.append("Manifest.db file metadata unreadable")
        return row
    row.size = _int(props.get("Size"))
    row.times = {"mtime": unix_s(_int(props.get("LastModified"))),
                 "ctime": unix_s(_int(props.get("LastStatusChange"))),
                 "crtime": unix_s(_int(props.get("Birth")))}
    target = props.get("Target")
    row.link_target = target if isinstance(target, str) else None
    row.protection_class = _int(props.get("ProtectionClass"))
    key = props.get("EncryptionKey")
    if isinstance(key, bytes) and len(key) > 4:
        row.wrapped_key = key[4:]  # a 4-byte little-endian protection class precedes the RFC 3394 wrapped key
        if row.protection_class is None:
            row.protection_class = struct.unpack("<l", key[:4])[0]
    return row


def _mbdb_rows(data: bytes) -> list[_Row]:
    """Parse a Manifest.mbdb (iOS 5-9): big-endian records of strings (u16 length, 0xFFFF = none) and numbers."""
    if not data.startswith(b"mbdb\x05\x00"):
        raise BackupError("Manifest.mbdb does not start with the mbdb version 5 signature")
    offset, rows = 6, []

    def string() -> bytes:
        nonlocal offset
        (length,) = struct.unpack_from(">H", data, offset)
        offset += 2
        if length == 0xFFFF:
            return b""
        if offset + length > len(data):
            raise struct.error("string runs past the end")
        offset += length
        return data[offset - length:offset]

    try:
        while offset < len(data):
            domain, path, target, _digest, _key = (string() for _ in range(5))
            mode, _inode, _uid, _gid, mtime, atime, ctime, size, _class, nprops = \
                struct.unpack_from(">HQIIIIIQBB", data, offset)
            offset += 40
            for _ in range(2 * nprops):
                string()
            kind = _MODE_KINDS.get(stat.S_IFMT(mode), OTHER)
            row = _Row(hashlib.sha1(domain + b"-" + path).hexdigest(), domain.decode("utf-8", "replace"),
                       path.decode("utf-8", "replace"), kind, size,
                       {"mtime": unix_s(mtime), "atime": unix_s(atime), "ctime": unix_s(ctime)},
                       target.decode("utf-8", "replace") if kind == LINK else None)
            rows.append(row)
    except struct.error:
        raise BackupError(f"Manifest.mbdb is truncated or malformed at byte {offset}") from None
    return rows


class _DecryptingReader(io.RawIOBase):
    """A backup file encrypted with AES-256-CBC (zero IV), decrypted on demand.

    Each CBC block decrypts with only its predecessor as IV, so reads and seeks anywhere cost one extra block and
    the file is never held in memory whole. ``size`` is the plaintext size (padding excluded).
    """

    _MAX_READ = 1024 * 1024

    def __init__(self, path: Path, key: bytes, size: int):
        super().__init__()
        self._fd = os.open(path, os.O_RDONLY)
        self._key, self._size, self._pos = key, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer) -> int:
        want = min(len(buffer), self._size - self._pos, self._MAX_READ)
        if want <= 0:
            return 0
        first = self._pos - self._pos % _BLOCK
        end = -(-(self._pos + want) // _BLOCK) * _BLOCK
        start = max(first - _BLOCK, 0)
        data = os.pread(self._fd, end - start, start)
        iv, body = (data[:_BLOCK], data[_BLOCK:]) if first else (bytes(_BLOCK), data)
        if len(body) != end - first:
            raise OSError("encrypted backup file is shorter than when it was listed")
        plain = AES.new(self._key, AES.MODE_CBC, iv).decrypt(body)
        skip = self._pos - first
        buffer[:want] = plain[skip:skip + want]
        self._pos += want
        return want

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


def _open_decrypted(path: Path, key: bytes, size: int) -> io.BufferedReader:
    return io.BufferedReader(_DecryptingReader(path, key, size))


def _plaintext_size(path: Path, key: bytes, cipher_size: int) -> int:
    """Size without the PKCS#7 padding, from the last block alone (decrypted with the block before it as IV)."""
    if cipher_size == 0:
        return 0
    if cipher_size % _BLOCK:
        raise ValueError(f"encrypted size {cipher_size} is not a multiple of {_BLOCK}")
    with open(path, "rb") as f:
        f.seek(max(cipher_size - 2 * _BLOCK, 0))
        tail = f.read(2 * _BLOCK)
    iv, last = (tail[:_BLOCK], tail[_BLOCK:]) if cipher_size > _BLOCK else (bytes(_BLOCK), tail)
    block = AES.new(key, AES.MODE_CBC, iv).decrypt(last)
    pad = block[-1]
    if not 1 <= pad <= _BLOCK or block[-pad:] != bytes([pad]) * pad:
        raise ValueError("invalid padding after decryption")
    return cipher_size - pad


class BackupSource:
    """The files of one iTunes/Finder backup as ``FileEntry`` objects, sorted by path (then fileID).

    Rows whose domain or relativePath would leave their place (``..``, absolute paths, NUL bytes) or whose fileID
    is not 40 hex digits are not yielded; each is described in ``anomalies`` (refilled by every iteration).
    """

    partition = PARTITION

    def __init__(self, path, password: str | bytes | None = None):
        self.root = Path(path)
        if not is_backup(self.root):
            raise BackupError(f"{self.root} is not an iTunes/Finder backup folder (no Manifest.db and Manifest.plist)")
        self.manifest = NEW_MANIFEST if (self.root / NEW_MANIFEST).is_file() else OLD_MANIFEST
        self.anomalies: list[str] = []
        manifest_plist = _read_plist(self.root / "Manifest.plist")
        self.encrypted = manifest_plist.get("IsEncrypted") is True
        self._keybag: BackupKeyBag | None = None
        self._manifest_key: bytes | None = None
        if self.encrypted:
            if password is None:
                raise BackupError("backup is encrypted: pass --password")
            if self.manifest == OLD_MANIFEST:
                raise BackupError("encrypted Manifest.mbdb backups (iOS 9 and older) are not supported")
            self._unlock(manifest_plist, password.encode("utf-8") if isinstance(password, str) else password)

    def _unlock(self, manifest_plist: dict, password: bytes) -> None:
        """Unlock the keybag's class keys and unwrap the Manifest.db key; only derived keys are kept."""
        try:
            keybag = BackupKeyBag(manifest_plist["BackupKeyBag"])
            if not {b"DPSL", b"DPIC", b"SALT", b"ITER"} <= keybag.attrs.keys():
                raise BackupError("backup keybag lacks DPSL/DPIC: encrypted backups before iOS 10.2 are not supported")
            unlocked = keybag.unlock_with_passphrase(password)
        except UnsafeBackupError as exc:
            raise BackupError(f"backup keybag refused: {exc}") from None
        except (KeyError, TypeError, ValueError, struct.error):
            raise BackupError("Manifest.plist has no readable BackupKeyBag") from None
        if not unlocked:
            raise BackupError("wrong backup password")
        manifest_key = manifest_plist.get("ManifestKey")
        if not isinstance(manifest_key, bytes) or len(manifest_key) != 44:
            raise BackupError("Manifest.plist has no readable ManifestKey")
        try:
            self._manifest_key = keybag.unwrap_key_for_class(struct.unpack("<l", manifest_key[:4])[0],
                                                             manifest_key[4:])
        except ValueError:
            raise BackupError("Manifest.plist ManifestKey cannot be unwrapped with the keybag") from None
        self._keybag = keybag

    def __iter__(self) -> Iterator[FileEntry]:
        self.anomalies = []
        for journal in ("-wal", "-journal"):
            if (self.root / (self.manifest + journal)).exists():
                self.anomalies.append(f"{self.manifest}{journal} beside {self.manifest} was not applied")
        if self.manifest == OLD_MANIFEST:
            data = (self.root / OLD_MANIFEST).read_bytes()
            rows = [(r, _path_or_none(r.domain, r.relative_path)) for r in _mbdb_rows(data)]
            rows.sort(key=lambda pair: (pair[1] is not None, pair[1] or "", pair[0].file_id))
            for row, path in rows:
                yield from self._entries(row, path)
            return
        with tempfile.TemporaryDirectory(prefix="forensics-backup-") as scratch:
            db = self._manifest_db(Path(scratch))
            try:
                yield from self._db_entries(db)
            except sqlite3.DatabaseError as exc:
                raise BackupError(f"{self.manifest} is unreadable (truncated or corrupt?): {exc}") from None
            finally:
                db.close()

    def _manifest_db(self, scratch: Path) -> sqlite3.Connection:
        """A read-only connection: to the evidence itself (immutable: no journal, no lock file) or, for an
        encrypted backup, to a decrypted copy in ``scratch``."""
        source = self.root / NEW_MANIFEST
        if self._manifest_key is not None:
            plain = scratch / NEW_MANIFEST
            try:
                aes_decrypt_chunked(in_filename=str(source), key=self._manifest_key, out_filepath=str(plain))
            except ValueError as exc:
                raise BackupError(f"{NEW_MANIFEST} cannot be decrypted: {exc}") from None
            source = plain
        db = sqlite3.connect(sqlite_uri(source.resolve(), immutable=True), uri=True)
        db.create_function("backup_path", 2, _path_or_none, deterministic=True)
        return db

    def _db_entries(self, db: sqlite3.Connection) -> Iterator[FileEntry]:
        # Sorting inside SQLite keeps a manifest of hundreds of thousands of rows out of Python memory, and reads
        # every row before the first is returned, so a truncated table fails before anything is yielded.
        listing = db.execute("SELECT fileID, domain, relativePath, flags, backup_path(domain, relativePath) AS p "
                             "FROM Files ORDER BY p, fileID")
        for file_id, domain, relative_path, flags, path in listing:
            (blob,) = db.execute("SELECT file FROM Files WHERE fileID = ?", (file_id,)).fetchone() or (None,)
            row = _db_row(file_id, domain, relative_path, flags, blob)
            yield from self._entries(row, path)

    def _entries(self, row: _Row, path: str | None) -> Iterator[FileEntry]:
        """Zero or one entry for a row: none, with an anomaly, when the row cannot be placed safely."""
        reason = None
        if path is None:
            try:
                backup_path(row.domain, row.relative_path)
            except ValueError as exc:
                reason = str(exc)
        elif not isinstance(row.file_id, str) or not _FILE_ID.fullmatch(row.file_id):
            reason = "fileID is not 40 lowercase hex digits"
        if reason:
            self.anomalies.append(f"skipped {self.manifest} row fileID={_short(row.file_id)} "
                                  f"domain={_short(row.domain)} relativePath={_short(row.relative_path)}: {reason}")
            return
        expected = hashlib.sha1(f"{row.domain}-{row.relative_path}".encode("utf-8", "surrogatepass")).hexdigest()
        if row.file_id != expected:
            row.notes.append("fileID is not SHA-1 of domain-relativePath")
        entry = FileEntry(partition=self.partition, path=path, inode=row.file_id, size=row.size or 0, kind=row.kind,
                          times=row.times, link_target=row.link_target)
        if row.kind == FILE:
            self._attach_content(entry, row)
        entry.note = "; ".join(row.notes) or None
        yield entry

    def _attach_content(self, entry: FileEntry, row: _Row) -> None:
        stored = self.root / row.file_id[:2] / row.file_id
        try:
            info = os.lstat(stored)
        except FileNotFoundError:
            row.notes.append(f"listed in {self.manifest}, file missing from backup")
            return
        if not stat.S_ISREG(info.st_mode):
            row.notes.append("backup file is not a regular file, not read")
            return
        if self._keybag is None:
            entry.size = info.st_size
            entry.open = functools.partial(open, stored, "rb")
            return
        if row.wrapped_key is None or row.protection_class is None:
            if info.st_size == 0:
                entry.size, entry.open = 0, functools.partial(io.BytesIO, b"")
            else:
                row.notes.append("cannot decrypt: no EncryptionKey in Manifest.db")
            return
        try:
            key = self._keybag.unwrap_key_for_class(row.protection_class, row.wrapped_key)
            entry.size = _plaintext_size(stored, key, info.st_size)
        except ValueError as exc:
            row.notes.append(f"cannot decrypt: {exc}")
            return
        entry.open = functools.partial(_open_decrypted, stored, key, entry.size)


def _path_or_none(domain, relative_path) -> str | None:
    """``backup_path`` for SQLite's sort: NULL instead of an exception for rows that must be skipped."""
    try:
        return backup_path(domain, relative_path)
    except ValueError:
        return None


def _short(value) -> str:
    """A value quoted for an anomaly line, cut short: hostile rows may carry megabytes."""
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "..."
