"""End-to-end ingest of images built at test time with real tools: every container, volume system and file system,
deleted files, NTFS streams, archives with hostile member names, and the evidence never being written."""
import hashlib
import io
import json
import os
import tarfile
import zipfile

import pytest
from click.testing import CliRunner

from cli import main
from tests.fixtures import images
from tests.fixtures.sqlite_db import make_db

FILES = {"docs/readme.txt": "hello evidence\n", "docs/deleted.txt": "gone but not forgotten\n" * 50,
         "photo.bin": bytes(range(256)) * 64, "empty": None}
SHA_README = hashlib.sha256(b"hello evidence\n").hexdigest()


def _skip_without(*tools):
    missing = images.missing_tools(*tools)
    if missing:
        pytest.skip(f"tools not installed: {', '.join(missing)}")


def _ingest(tmp_path, *evidence, device="dev1", expect=0):
    runner = CliRunner()
    case = tmp_path / "case"
    if not (case / "case.json").exists():
        assert runner.invoke(main, ["case", "init", str(case)]).exit_code == 0
    result = runner.invoke(main, ["ingest", str(case), *map(str, evidence), "--device-id", device, "--quiet"])
    assert result.exit_code == expect, result.output
    return case, result


def _export(case, artifact):
    result = CliRunner().invoke(main, ["export", str(case), artifact, "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def _by_path(rows):
    return {(r["partition"], r["path"]): r for r in rows}


def test_ext4_with_deleted_file(tmp_path):
    _skip_without("mke2fs", "debugfs")
    image = images.ext4_image(tmp_path / "ext4.img", FILES, deleted=["docs/deleted.txt"])
    before = (hashlib.sha256(image.read_bytes()).hexdigest(), os.stat(image).st_mtime_ns)
    case, result = _ingest(tmp_path, image)
    assert (hashlib.sha256(image.read_bytes()).hexdigest(), os.stat(image).st_mtime_ns) == before
    files = _by_path(_export(case, "files"))
    readme = files[("fs", "/docs/readme.txt")]
    assert readme["sha256"] == SHA_README and readme["md5"] == hashlib.md5(b"hello evidence\n").hexdigest()
    assert readme["allocated"] is True and readme["mime_type"] == "text/plain" and readme["kind"] == "file"
    assert readme["mtime"] == "2020-09-13T12:26:40.000000Z" and readme["mtime_encoding"] == "unix_s"
    deleted = files[("fs", "/docs/deleted.txt")]
    # debugfs "rm" frees the blocks but leaves the inode's extents, so TSK still reads the old content
    assert deleted["allocated"] is False and deleted["recoverable"] is True
    assert deleted["sha256"] == hashlib.sha256(FILES["docs/deleted.txt"].encode()).hexdigest()
    assert files[("fs", "/empty")]["kind"] == "dir"
    device = _export(case, "devices")[0]
    assert device["evidence_sha256"] == hashlib.sha256(image.read_bytes()).hexdigest()
    assert device["status"] == "ok" and device["hash_verified"] is None


def test_fat_deleted_file_is_recoverable(tmp_path):
    _skip_without("mkfs.vfat", "mcopy", "mdel")
    image = images.fat_image(tmp_path / "fat.img", FILES, fat_bits=16, deleted=["docs/deleted.txt"])
    case, _ = _ingest(tmp_path, image)
    files = _by_path(_export(case, "files"))
    deleted = [r for (p, path), r in files.items() if path.endswith("eleted.txt")]
    assert len(deleted) == 1 and deleted[0]["allocated"] is False
    assert deleted[0]["recoverable"] is True
    assert deleted[0]["sha256"] == hashlib.sha256(FILES["docs/deleted.txt"].encode()).hexdigest()
    assert "local time" in files[("fs", "/docs/readme.txt")]["mtime_encoding"]
    assert ("fs", "/$MBR") in files  # TSK's virtual files are inventoried as fls lists them


def test_ntfs_alternate_data_stream(tmp_path):
    _skip_without("mkntfs", "ntfscp")
    image = images.ntfs_image(tmp_path / "ntfs.img", {"notes.txt": "innocent\n", "dir/a.txt": "a"},
                              streams={"notes.txt": {"hidden": b"the real ledger"}})
    case, _ = _ingest(tmp_path, image)
    files = _by_path(_export(case, "files"))
    stream = files[("fs", "/notes.txt:hidden")]
    assert stream["sha256"] == hashlib.sha256(b"the real ledger").hexdigest() and stream["size"] == 15
    assert files[("fs", "/notes.txt")]["sha256"] == hashlib.sha256(b"innocent\n").hexdigest()
    assert files[("fs", "/dir/a.txt")]["size"] == 1


def test_exfat_and_iso(tmp_path):
    _skip_without("mkfs.exfat", "genisoimage")
    runner = CliRunner()
    exfat = images.exfat_image(tmp_path / "exfat.img")
    result = runner.invoke(main, ["info", str(exfat)])
    assert result.exit_code == 0 and "-> exfat" in result.output
    iso = images.iso_image(tmp_path / "disc.iso", {"a/b.txt": "iso data"})
    case, _ = _ingest(tmp_path, iso)
    files = _by_path(_export(case, "files"))
    assert files[("fs", "/a/b.txt")]["sha256"] == hashlib.sha256(b"iso data").hexdigest()


def _gpt_disk(tmp_path):
    ext4 = images.ext4_image(tmp_path / "p1.img", {"data/app.db": b"SQLite format 3\x00" + bytes(100)}, size_mb=8)
    fat = images.fat_image(tmp_path / "p2.img", {"DCIM/x.txt": "fat side"}, fat_bits=16, size_mb=16)
    disk = tmp_path / "disk.img"
    images.disk_image(disk, [(ext4, "linux", "userdata"), (fat, "fat16", "sdcard")], scheme="gpt")
    return disk


def test_gpt_disk_partitions_are_layers(tmp_path):
    _skip_without("mke2fs", "mkfs.vfat", "sfdisk")
    disk = _gpt_disk(tmp_path)
    info = CliRunner().invoke(main, ["info", str(disk)])
    assert info.exit_code == 0
    assert "layer p1: partition" in info.output and "-> ext4" in info.output and "-> fat16" in info.output
    case, _ = _ingest(tmp_path, disk)
    files = _by_path(_export(case, "files"))
    assert files[("p1", "/data/app.db")]["size"] == 116
    assert files[("p2", "/DCIM/x.txt")]["sha256"] == hashlib.sha256(b"fat side").hexdigest()


def test_mbr_with_extended_partitions(tmp_path):
    _skip_without("mke2fs", "sfdisk")
    parts = [(images.ext4_image(tmp_path / f"p{i}.img", {f"f{i}.txt": f"part {i}"}, size_mb=4), "linux")
             for i in range(1, 5)]
    disk = tmp_path / "mbr.img"
    images.disk_image(disk, parts, scheme="dos", extended=True, primaries=2)
    case, _ = _ingest(tmp_path, disk)
    files = _by_path(_export(case, "files"))
    found = sorted((part, path) for (part, path) in files if path.startswith("/f"))
    assert [path for _, path in found] == ["/f1.txt", "/f2.txt", "/f3.txt", "/f4.txt"]
    assert len({part for part, _ in found}) == 4


def test_e01_multi_segment_with_stored_hash(tmp_path):
    _skip_without("mke2fs", "mkfs.vfat", "sfdisk", "ewfacquire")
    disk = _gpt_disk(tmp_path)
    segments = images.e01_image(disk, tmp_path / "ev" / "disk", segment_size_bytes=1 << 20)
    assert len(segments) > 1
    case, result = _ingest(tmp_path, segments[0])
    assert "stored hash verified" in result.output
    device = _export(case, "devices")[0]
    raw = disk.read_bytes()
    assert device["evidence_sha256"] == hashlib.sha256(raw).hexdigest()
    assert device["stored_md5"] == hashlib.md5(raw).hexdigest() and device["hash_verified"] is True
    evidence = _export(case, "evidence")[0]
    assert evidence["container"] == "ewf" and len(evidence["paths"]) == len(segments)
    files = _by_path(_export(case, "files"))
    assert ("p2", "/DCIM/x.txt") in files


def test_split_raw_sets(tmp_path):
    _skip_without("mke2fs")
    image = images.ext4_image(tmp_path / "whole.img", FILES, size_mb=4)
    digest = hashlib.sha256(image.read_bytes()).hexdigest()
    for naming in ("numeric001", "alpha"):
        segments = images.split_raw(image, tmp_path / naming / "img", 1 << 20, naming=naming)
        case, _ = _ingest(tmp_path / naming, segments[0])
        device = _export(case, "devices")[0]
        assert device["evidence_sha256"] == digest
        assert _by_path(_export(case, "files"))[("fs", "/docs/readme.txt")]["sha256"] == SHA_README


def _tar(path, members, mode="w:gz"):
    """A tar of (name, bytes) members; bytes None makes a symbolic link to /etc/passwd."""
    with tarfile.open(path, mode) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.SYMTYPE
                info.linkname = "/etc/passwd"
            else:
                info.size = len(data)
            info.mtime = 1600000000
            tar.addfile(info, io.BytesIO(data) if data is not None else None)


def test_tar_with_hostile_names_and_vendor_prefix(tmp_path):
    archive = tmp_path / "ffs.tar.gz"
    _tar(archive, [("filesystem1/private/var/mobile/Library/SMS/sms.db", b"x" * 10),
                      ("../../escape.txt", b"climb"), ("/abs/path.txt", b"absolute"),
                      ("filesystem1/link", None)])
    case, result = _ingest(tmp_path, archive, expect=3)  # done, with problems (docs/problems.md)
    assert "path-climbs-out tar:/escape.txt" in result.output and "damaged-database" in result.output
    files = _by_path(_export(case, "files"))
    assert files[("tar", "/filesystem1/private/var/mobile/Library/SMS/sms.db")]["size"] == 10
    escaped = files[("tar", "/escape.txt")]
    assert "climbs out" in escaped["note"] and escaped["sha256"] == hashlib.sha256(b"climb").hexdigest()
    assert "absolute" in files[("tar", "/abs/path.txt")]["note"]
    link = files[("tar", "/filesystem1/link")]
    assert link["kind"] == "link" and link["link_target"] == "/etc/passwd" and link["sha256"] is None
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path.parent / "escape.txt").exists()
    device = _export(case, "devices")[0]
    assert device["evidence_sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()


def test_zip_bomb_member_is_listed_not_read(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("Dump/data/ok.txt", "fine")
        z.writestr("Dump/zeros.bin", bytes(1 << 20))
    # forge the declared size of the second member to 64 GiB (a bomb's claim) in both headers
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as z:
        info = z.getinfo("Dump/zeros.bin")
    data[info.header_offset + 22: info.header_offset + 26] = (0xFFFFFFFF).to_bytes(4, "little")
    central = data.rfind(b"PK\x01\x02")
    data[central + 24: central + 28] = (0xFFFFFFFF).to_bytes(4, "little")
    archive.write_bytes(bytes(data))
    case, result = _ingest(tmp_path, archive, expect=3)
    assert "bomb-not-read zip:/Dump/zeros.bin" in result.output
    files = _by_path(_export(case, "files"))
    assert files[("zip", "/Dump/data/ok.txt")]["sha256"] == hashlib.sha256(b"fine").hexdigest()
    bomb = files[("zip", "/Dump/zeros.bin")]
    assert bomb["sha256"] is None and "possible zip bomb" in bomb["note"]


def test_folder_source(tmp_path):
    root = images.write_tree(tmp_path / "extraction", {"sdcard/a.txt": "folder file"})
    (root / "sdcard" / "link").symlink_to("/etc/hostname")
    case, _ = _ingest(tmp_path, root)
    files = _by_path(_export(case, "files"))
    assert files[("folder", "/sdcard/a.txt")]["sha256"] == hashlib.sha256(b"folder file").hexdigest()
    assert files[("folder", "/sdcard/link")]["kind"] == "link"


@pytest.mark.parametrize("mode, suffix", [("w", "tar"), ("w:bz2", "tar.bz2"), ("w:xz", "tar.xz")])
def test_every_tar_compression(tmp_path, mode, suffix):
    archive = tmp_path / f"ffs.{suffix}"
    _tar(archive, [("Dump/data/data/app/file.txt", b"hello")], mode)
    case, _ = _ingest(tmp_path, archive)
    row = _by_path(_export(case, "files"))[("tar", "/Dump/data/data/app/file.txt")]
    assert row["sha256"] == hashlib.sha256(b"hello").hexdigest()
    assert row["mtime"] == "2020-09-13T12:26:40.000000Z"


def test_unsupported_container_is_named(tmp_path):
    vhd = tmp_path / "disk.vhd"
    vhd.write_bytes(bytes(4096) + b"conectix" + bytes(504))
    result = CliRunner().invoke(main, ["info", str(vhd)])
    assert result.exit_code == 2 and "unsupported container" in result.output and "Traceback" not in result.output


def test_directories_nested_deeper_than_python_recurses(tmp_path):
    """A tree deeper than Python's recursion limit is walked to the bottom (the walkers keep their own stack)."""
    import subprocess

    depth = 1100
    root = tmp_path / "extraction"
    try:  # pytest's own clean-up of old temp folders recurses per level too: never leave the tree behind
        bottom = root
        root.mkdir()
        for _ in range(depth):  # os.makedirs recurses per level too
            bottom = bottom / "d"
            bottom.mkdir()
        (bottom / "bottom.txt").write_bytes(b"found")
        case, _ = _ingest(tmp_path, root)
        files = _by_path(_export(case, "files"))
    finally:
        subprocess.run(["rm", "-rf", str(root)], check=True)  # shutil.rmtree itself recurses per level
    assert files[("folder", "/" + "/".join(["d"] * depth) + "/bottom.txt")]["sha256"] == \
        hashlib.sha256(b"found").hexdigest()


SMS_PATH = "data/data/com.android.providers.telephony/databases/mmssms.db"


def _sms_db(folder, body: str) -> bytes:
    """The bytes of a minimal mmssms.db holding one SMS with ``body``."""
    return make_db(folder / f"{body}.db", "CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, "
                                          "address TEXT, date INTEGER, type INTEGER, body TEXT);"
                                          f"INSERT INTO sms VALUES (1, 1, '555', 1600000000000, 1, '{body}');"
                   ).read_bytes()


def test_a_path_twice_in_an_archive_is_parsed_twice_with_its_own_provenance(tmp_path):
    archive = tmp_path / "ffs.tar"
    _tar(archive, [(SMS_PATH, _sms_db(tmp_path, "first copy")), (SMS_PATH, _sms_db(tmp_path, "appended copy"))],
         "w")
    case, _ = _ingest(tmp_path, archive)
    messages = [m for m in _export(case, "messages") if m["parser"] == "android-sms"]
    assert sorted((m["source_inode"], m["body"]) for m in messages) == [("0", "first copy"), ("1", "appended copy")]


def test_records_from_a_deleted_database_say_so(tmp_path):
    _skip_without("mke2fs", "debugfs")
    gone = "data/user/10/com.android.providers.telephony/databases/mmssms.db"
    image = images.ext4_image(tmp_path / "phone.img", {SMS_PATH: _sms_db(tmp_path, "kept"),
                                                       gone: _sms_db(tmp_path, "erased")}, deleted=[gone])
    case, _ = _ingest(tmp_path, image)
    by_body = {m["body"]: m for m in _export(case, "messages") if m["parser"] == "android-sms"}
    assert by_body["kept"]["source_deleted"] is False
    assert by_body["erased"]["source_deleted"] is True and by_body["erased"]["source_path"] == "/" + gone
