"""iTunes/Finder backups built at test time (plain, encrypted, legacy mbdb, hostile) read back as FileEntry."""
from __future__ import annotations

import hashlib
import random
import sqlite3
import tempfile
from pathlib import Path

import pytest
from iphone_backup_decrypt import EncryptedBackup

from forensics.backups import BackupError, BackupSource, device_facts, is_backup
from tests.fixtures.ios_backup import DEVICE, build_backup, file_id

BIG = random.Random(7).randbytes(3 * 1024 * 1024 + 5)
FILES = {
    ("HomeDomain", "Library/SMS/sms.db"): b"SQLite format 3\x00" + b"sms" * 1000,
    ("MediaDomain", "Library/SMS/Attachments/ab/01/IMG_0001.HEIC"): b"heic",
    ("CameraRollDomain", "Media/DCIM/100APPLE/IMG_0002.MOV"): BIG,
    ("AppDomain-net.whatsapp.WhatsApp", "Library/Preferences/net.whatsapp.WhatsApp.plist"): b"bplist00",
    ("AppDomainGroup-group.net.whatsapp.WhatsApp.shared", "ChatStorage.sqlite"): b"chats",
    ("AppDomainPlugin-com.apple.mobilenotes.SharingExtension", "Library/Preferences/x.plist"): b"plugin",
    ("SysContainerDomain-com.apple.geod", "Library/Caches/com.apple.geod/x.db"): b"geod",
    ("SysSharedContainerDomain-systemgroup.com.apple.configurationprofiles", "Library/x.plist"): b"profiles",
    ("RootDomain", "Library/Caches/locationd/clients.plist"): b"root",
    ("WirelessDomain", "Library/Databases/CellularUsage.db"): b"wireless",
    ("SystemPreferencesDomain", "SystemConfiguration/preferences.plist"): b"prefs",
    ("KeychainDomain", "keychain-backup.plist"): b"keychain",
    ("DatabaseDomain", "timezone/localtime"): b"tz",
    ("ManagedPreferencesDomain", "mobile/com.apple.webcontentfilter.plist"): b"managed",
    ("HealthDomain", "Health/healthdb_secure.sqlite"): b"health",
    ("BooksDomain", "Books.plist"): b"books",
    ("MysteryDomain", "thing.bin"): b"",
}
EXPECTED_PATHS = {
    ("HomeDomain", "Library/SMS/sms.db"): "/private/var/mobile/Library/SMS/sms.db",
    ("MediaDomain", "Library/SMS/Attachments/ab/01/IMG_0001.HEIC"):
        "/private/var/mobile/Library/SMS/Attachments/ab/01/IMG_0001.HEIC",
    ("CameraRollDomain", "Media/DCIM/100APPLE/IMG_0002.MOV"): "/private/var/mobile/Media/DCIM/100APPLE/IMG_0002.MOV",
    ("AppDomain-net.whatsapp.WhatsApp", "Library/Preferences/net.whatsapp.WhatsApp.plist"):
        "/private/var/mobile/Containers/Data/Application/net.whatsapp.WhatsApp/Library/Preferences/"
        "net.whatsapp.WhatsApp.plist",
    ("AppDomainGroup-group.net.whatsapp.WhatsApp.shared", "ChatStorage.sqlite"):
        "/private/var/mobile/Containers/Shared/AppGroup/group.net.whatsapp.WhatsApp.shared/ChatStorage.sqlite",
    ("AppDomainPlugin-com.apple.mobilenotes.SharingExtension", "Library/Preferences/x.plist"):
        "/private/var/mobile/Containers/Data/PluginKitPlugin/com.apple.mobilenotes.SharingExtension/"
        "Library/Preferences/x.plist",
    ("SysContainerDomain-com.apple.geod", "Library/Caches/com.apple.geod/x.db"):
        "/private/var/containers/Data/System/com.apple.geod/Library/Caches/com.apple.geod/x.db",
    ("SysSharedContainerDomain-systemgroup.com.apple.configurationprofiles", "Library/x.plist"):
        "/private/var/containers/Shared/SystemGroup/systemgroup.com.apple.configurationprofiles/Library/x.plist",
    ("RootDomain", "Library/Caches/locationd/clients.plist"):
        "/private/var/root/Library/Caches/locationd/clients.plist",
    ("WirelessDomain", "Library/Databases/CellularUsage.db"):
        "/private/var/wireless/Library/Databases/CellularUsage.db",
    ("SystemPreferencesDomain", "SystemConfiguration/preferences.plist"):
        "/private/var/preferences/SystemConfiguration/preferences.plist",
    ("KeychainDomain", "keychain-backup.plist"): "/private/var/Keychains/keychain-backup.plist",
    ("DatabaseDomain", "timezone/localtime"): "/private/var/db/timezone/localtime",
    ("ManagedPreferencesDomain", "mobile/com.apple.webcontentfilter.plist"):
        "/private/var/Managed Preferences/mobile/com.apple.webcontentfilter.plist",
    ("HealthDomain", "Health/healthdb_secure.sqlite"): "/private/var/mobile/Library/Health/healthdb_secure.sqlite",
    ("BooksDomain", "Books.plist"): "/private/var/mobile/Media/Books/Books.plist",
    ("MysteryDomain", "thing.bin"): "/backup/MysteryDomain/thing.bin",
}
DIRECTORIES = [("HomeDomain", ""), ("HomeDomain", "Library"), ("HomeDomain", "Library/SMS"),
               ("AppDomainGroup-group.net.whatsapp.WhatsApp.shared", "")]
LINKS = {("HomeDomain", "Library/Caches/link"): "/private/var/mobile/Library/SMS"}
PASSWORD = "correct horse"
MTIME = "2024-05-06T07:08:09.000000Z"


def _snapshot(folder: Path) -> dict:
    """Every name under the evidence folder with size, mtime and content digest (the folder's own mtime too)."""
    state = {".": folder.stat().st_mtime_ns}
    for p in sorted(folder.rglob("*")):
        st = p.stat()
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None
        state[str(p.relative_to(folder))] = (st.st_size, st.st_mtime_ns, digest)
    return state


def _read_all(source) -> dict[str, tuple]:
    out = {}
    for e in source:
        data = None
        if e.open:
            with e.open() as f:
                data = f.read()
        out[e.path] = (e.kind, e.inode, e.size, data, e.note, e.link_target)
    return out


@pytest.fixture(params=["plain", "encrypted"])
def backup(request, tmp_path):
    password = PASSWORD if request.param == "encrypted" else None
    classes = {key: (1, 2, 3, 4)[i % 4] for i, key in enumerate(sorted(FILES))}
    folder = build_backup(tmp_path / "00008110-001A2B3C4D5E801E", FILES, directories=DIRECTORIES, links=LINKS,
                          password=password, protection_classes=classes)
    return folder, password


def test_backup_reads_back_as_device_paths_and_bytes(backup):
    folder, password = backup
    entries = list(BackupSource(folder, password=password))
    paths = [e.path for e in entries]
    assert paths == sorted(paths)
    files = {e.path: e for e in entries if e.kind == "file"}
    assert set(files) == set(EXPECTED_PATHS.values())
    for key, content in FILES.items():
        entry = files[EXPECTED_PATHS[key]]
        assert entry.partition == "backup"
        assert entry.inode == file_id(*key)
        assert entry.size == len(content)
        assert entry.note is None
        with entry.open() as f:
            assert f.read() == content
        assert entry.times["mtime"].iso == MTIME and entry.times["mtime"].encoding == "unix_s"
        assert entry.times["crtime"].iso == "2023-11-14T22:13:20.000000Z"
        assert entry.times["ctime"].raw == "1714979290"
    dirs = {e.path for e in entries if e.kind == "dir"}
    assert dirs == {"/private/var/mobile", "/private/var/mobile/Library", "/private/var/mobile/Library/SMS",
                    "/private/var/mobile/Containers/Shared/AppGroup/group.net.whatsapp.WhatsApp.shared"}
    (link,) = [e for e in entries if e.kind == "link"]
    assert (link.path, link.link_target, link.open) == ("/private/var/mobile/Library/Caches/link",
                                                        "/private/var/mobile/Library/SMS", None)


def test_contents_stream_and_seek(backup):
    folder, password = backup
    (video,) = [e for e in BackupSource(folder, password=password) if e.path.endswith("IMG_0002.MOV")]
    with video.open() as f:
        f.seek(1_234_567)
        assert f.read(100_003) == BIG[1_234_567:1_334_570]
        f.seek(-21, 2)
        assert f.read() == BIG[-21:]
        f.seek(15)
        assert f.read(2) == BIG[15:17]


def test_reading_changes_nothing_in_the_evidence_folder(backup, tmp_path, monkeypatch):
    folder, password = backup
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    before = _snapshot(folder)
    source = BackupSource(folder, password=password)
    first = _read_all(source)
    assert _read_all(source) == first
    assert _snapshot(folder) == before
    assert list(scratch.iterdir()) == []  # the decrypted Manifest.db is gone once iteration ends


def test_wal_mode_manifest_gets_no_wal_or_shm_beside_it(tmp_path):
    # A plain read-only SQLite open of a WAL-mode database creates -wal and -shm files next to it and leaves them.
    folder = build_backup(tmp_path / "b", FILES)
    db = sqlite3.connect(folder / "Manifest.db")
    assert db.execute("PRAGMA journal_mode=WAL").fetchone() == ("wal",)
    db.close()
    before = _snapshot(folder)
    assert len(_read_all(BackupSource(folder))) == len(FILES)
    assert _snapshot(folder) == before


def test_abandoned_iteration_removes_the_decrypted_manifest(tmp_path, monkeypatch):
    folder = build_backup(tmp_path / "b", FILES, password=PASSWORD)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    entries = iter(BackupSource(folder, password=PASSWORD))
    next(entries)
    assert [p.name for p in scratch.iterdir()][0].startswith("forensics-backup-")
    entries.close()
    assert list(scratch.iterdir()) == []


def test_encrypted_backup_is_really_encrypted_and_readable_by_a_third_party_tool(tmp_path):
    folder = build_backup(tmp_path / "b", FILES, password=PASSWORD)
    assert not (folder / "Manifest.db").read_bytes().startswith(b"SQLite format 3")
    fid = file_id("HomeDomain", "Library/SMS/sms.db")
    assert b"sms" * 10 not in (folder / fid[:2] / fid).read_bytes()
    other = EncryptedBackup(backup_directory=str(folder), passphrase=PASSWORD)
    assert other.extract_file_as_bytes("Library/SMS/sms.db", domain_like="HomeDomain") == \
        FILES[("HomeDomain", "Library/SMS/sms.db")]


def test_wrong_or_missing_password(tmp_path):
    folder = build_backup(tmp_path / "b", FILES, password=PASSWORD)
    with pytest.raises(BackupError) as wrong:
        BackupSource(folder, password="incorrect horse")
    assert str(wrong.value) == "wrong backup password"
    with pytest.raises(BackupError) as missing:
        BackupSource(folder)
    assert str(missing.value) == "backup is encrypted: pass --password"


def test_password_is_not_kept(tmp_path):
    folder = build_backup(tmp_path / "b", FILES, password=PASSWORD)
    source = BackupSource(folder, password=PASSWORD)
    held = [source, *vars(source).values()]
    text = repr([vars(o) if hasattr(o, "__dict__") else o for o in held])
    assert PASSWORD not in text and PASSWORD.encode().hex() not in text


def test_hostile_rows_are_skipped_and_reported(tmp_path):
    hostile = {
        ("HomeDomain", "../../../etc/passwd"): b"climb",
        ("HomeDomain", "Library/../../../root/x"): b"climb2",
        ("HomeDomain", "/etc/shadow"): b"absolute",
        ("HomeDomain", "Library/a\x00b"): b"nul",
        ("AppDomain-../../../etc", "x"): b"domain",
        ("HomeDomain", "Library/fine.txt"): b"fine",
        ("HomeDomain", "Library/renamed.txt"): b"renamed",
    }
    folder = build_backup(tmp_path / "b", hostile)
    db = sqlite3.connect(folder / "Manifest.db")
    db.execute("UPDATE Files SET fileID = '../../../../etc/hostname' WHERE relativePath = 'Library/renamed.txt'")
    db.commit()
    db.close()
    source = BackupSource(folder)
    entries = list(source)
    assert [e.path for e in entries] == ["/private/var/mobile/Library/fine.txt"]
    assert len(source.anomalies) == 6
    report = "\n".join(source.anomalies)
    for needle in ("'../../../etc/passwd'", "'/etc/shadow'", "relativePath is absolute", "NUL byte",
                   "'AppDomain-../../../etc'", "'Library/../../../root/x'", "fileID is not 40"):
        assert needle in report


def test_file_missing_from_backup_is_still_an_entry(tmp_path):
    key = ("HomeDomain", "Library/SMS/sms.db")
    folder = build_backup(tmp_path / "b", FILES, missing=[key])
    (entry,) = [e for e in BackupSource(folder) if e.inode == file_id(*key)]
    assert (entry.kind, entry.allocated, entry.open, entry.size) == ("file", True, None, len(FILES[key]))
    assert entry.note == "listed in Manifest.db, file missing from backup"
    assert entry.times["mtime"].iso == MTIME


def test_file_id_that_is_not_the_hash_is_noted(tmp_path):
    folder = build_backup(tmp_path / "b", {("HomeDomain", "a.txt"): b"a"})
    fid = file_id("HomeDomain", "a.txt")
    forged = "f" * 40
    db = sqlite3.connect(folder / "Manifest.db")
    db.execute("UPDATE Files SET fileID = ?", (forged,))
    db.commit()
    db.close()
    (folder / "ff").mkdir()
    (folder / fid[:2] / fid).rename(folder / "ff" / forged)
    (entry,) = BackupSource(folder)
    assert entry.note == "fileID is not SHA-1 of domain-relativePath"
    assert entry.open().read() == b"a"


@pytest.mark.parametrize("cut", [0.5, 0.1, 0])
def test_truncated_manifest_db_is_one_clear_error(tmp_path, cut):
    files = {("HomeDomain", f"Library/f{i:04d}.txt"): b"x" * i for i in range(300)}
    folder = build_backup(tmp_path / "b", files)
    manifest = folder / "Manifest.db"
    data = manifest.read_bytes()
    manifest.write_bytes(data[:int(len(data) * cut)])
    entries = iter(BackupSource(folder))
    with pytest.raises(BackupError) as error:
        next(entries)  # fails before anything is yielded
    message = str(error.value)
    assert message.startswith("Manifest.db is unreadable") and "\n" not in message
    assert "Traceback" not in message and error.value.__cause__ is None


def test_truncated_encrypted_manifest_is_one_clear_error(tmp_path):
    folder = build_backup(tmp_path / "b", FILES, password=PASSWORD)
    manifest = folder / "Manifest.db"
    manifest.write_bytes(manifest.read_bytes()[:1000])
    with pytest.raises(BackupError, match=r"^Manifest\.db cannot be decrypted: "):
        list(BackupSource(folder, password=PASSWORD))


def test_device_facts(backup):
    folder, password = backup
    assert device_facts(folder) == {
        "model": DEVICE["ProductType"], "os_version": DEVICE["ProductVersion"], "serial": DEVICE["SerialNumber"],
        "udid": DEVICE["UniqueDeviceID"], "imei": DEVICE["IMEI"], "phone_number": DEVICE["PhoneNumber"],
        "device_name": DEVICE["DeviceName"], "backup_date": "2024-05-06T07:08:09.000000Z",
        "encrypted": password is not None,
    }


def test_device_facts_fall_back_to_manifest_lockdown(tmp_path):
    folder = build_backup(tmp_path / "b", FILES)
    (folder / "Info.plist").unlink()
    facts = device_facts(folder)
    assert (facts["model"], facts["udid"], facts["imei"], facts["backup_date"]) == \
        (DEVICE["ProductType"], DEVICE["UniqueDeviceID"], None, "2024-05-06T07:08:09.000000Z")
    assert is_backup(folder)


def test_plist_with_entity_declarations_is_refused(tmp_path):
    folder = build_backup(tmp_path / "b", FILES)
    (folder / "Info.plist").write_text(
        '<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        '<plist version="1.0"><dict><key>Device Name</key><string>&b;</string></dict></plist>')
    with pytest.raises(BackupError, match=r"^Info\.plist is not a readable property list"):
        device_facts(folder)


def test_legacy_mbdb_backup(tmp_path):
    key = ("HomeDomain", "Library/SMS/sms.db")
    folder = build_backup(tmp_path / "b", FILES, directories=DIRECTORIES, links=LINKS, legacy_mbdb=True)
    assert not (folder / "Manifest.db").exists() and is_backup(folder)
    entries = {e.path: e for e in BackupSource(folder)}
    assert {p for p, e in entries.items() if e.kind == "file"} == set(EXPECTED_PATHS.values())
    sms = entries[EXPECTED_PATHS[key]]
    assert (sms.inode, sms.open().read()) == (file_id(*key), FILES[key])
    assert sms.times["mtime"].iso == MTIME and sms.times["atime"].raw == "1714979295"
    assert entries["/private/var/mobile/Library/Caches/link"].link_target == "/private/var/mobile/Library/SMS"


def test_truncated_mbdb_is_one_clear_error(tmp_path):
    folder = build_backup(tmp_path / "b", FILES, legacy_mbdb=True)
    mbdb = folder / "Manifest.mbdb"
    mbdb.write_bytes(mbdb.read_bytes()[:-7])
    with pytest.raises(BackupError, match=r"^Manifest\.mbdb is truncated or malformed at byte \d+$"):
        list(BackupSource(folder))


def test_not_a_backup(tmp_path):
    (tmp_path / "Manifest.db").write_bytes(b"")
    assert not is_backup(tmp_path)
    with pytest.raises(BackupError, match="not an iTunes/Finder backup folder"):
        BackupSource(tmp_path)
