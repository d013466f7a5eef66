"""Check the image builders against independent readers.

Each image built by tests/fixtures/images.py is read back with tools that
share no code with the builder's tool: Sleuth Kit (fls, icat, istat, fsstat,
mmls), the file systems' own checkers, libewf's ewfverify/ewfinfo, and for
the JPEG writer exifread, djpeg and exiftool.
"""
import hashlib
import io
import random
import re
import shutil
import subprocess
import time

import exifread
import pytest

from tests.fixtures import images as im

FILES = {
    "a.txt": "hello\n",
    "DCIM/Camera/IMG_20200101_120000.jpg": b"\xff\xd8 not really a jpeg",
    "Фото/снимок файл.txt": "non-ASCII name with a space",
    "emptydir": None,
    "gone.txt": "deleted later",
    "DCIM/cache_gone.db": b"x" * 5000,
}
DELETED = ["gone.txt", "DCIM/cache_gone.db"]
LIVE = {"a.txt", "DCIM", "DCIM/Camera", "DCIM/Camera/IMG_20200101_120000.jpg",
        "Фото", "Фото/снимок файл.txt", "emptydir"}


def needs(*tools):
    missing = im.missing_tools(*tools)
    return pytest.mark.skipif(bool(missing), reason=f"system tools missing: {', '.join(missing)}")


def tool_bytes(*args) -> bytes:
    return subprocess.run([str(a) for a in args], check=True, capture_output=True).stdout


def tool(*args) -> str:
    return tool_bytes(*args).decode("utf-8")


def fls(image, offset=None) -> dict[str, dict]:
    """fls -r -p as {path: {"deleted": bool, "addr": str}} (system entries dropped)."""
    args = ["fls", "-r", "-p"] + (["-o", str(offset)] if offset is not None else []) + [image]
    entries = {}
    for line in tool(*args).splitlines():
        meta, _, path = line.partition(":\t")
        if path.startswith("$") or "(Volume Label Entry)" in path:
            continue
        entries[path] = {"deleted": " * " in meta, "addr": meta.split()[-1]}
    return entries


def live(entries) -> set[str]:
    return {p for p, e in entries.items() if not e["deleted"]}


def deleted(entries) -> set[str]:
    return {p for p, e in entries.items() if e["deleted"]}


def test_write_tree_makes_files_folders_and_fixed_times(tmp_path):
    root = im.write_tree(tmp_path / "t", {"a/b.bin": b"\x00\x01", "c.txt": "é", "d": None})
    assert (root / "a/b.bin").read_bytes() == b"\x00\x01"
    assert (root / "c.txt").read_bytes() == "é".encode()
    assert (root / "d").is_dir() and not any((root / "d").iterdir())
    for p in [root, root / "a", root / "a/b.bin", root / "c.txt", root / "d"]:
        assert p.stat().st_mtime == im.FIXED_MTIME
    with pytest.raises(ValueError):
        im.write_tree(tmp_path / "u", {"../escape": "x"})
    assert im.read_tree(root) == {"a/b.bin": b"\x00\x01", "c.txt": "é".encode(), "d": None}


@needs("mke2fs", "debugfs", "fls", "icat", "istat", "e2fsck")
def test_ext4_image_lists_live_and_deleted_entries(tmp_path):
    img = im.ext4_image(tmp_path / "e.img", FILES, deleted=DELETED)
    entries = fls(img)
    assert live(entries) - {"lost+found"} == LIVE
    assert deleted(entries) == set(DELETED)
    assert tool("icat", img, entries["a.txt"]["addr"]) == "hello\n"
    stat = tool("istat", img, entries["Фото/снимок файл.txt"]["addr"])
    for label in ("Accessed", "File Modified", "Inode Modified", "File Created"):
        assert f"{label}:\t2020-09-13 12:26:40" in stat
    assert tool("istat", img, entries["gone.txt"]["addr"]).splitlines()[1] == "Not Allocated"
    subprocess.run(["e2fsck", "-fn", img], check=True, capture_output=True)


@needs("mke2fs", "debugfs", "mkfs.vfat", "mmd", "mcopy", "mdel", "mkfs.exfat", "tune.exfat")
def test_ext4_fat_and_exfat_builds_are_byte_identical(tmp_path):
    def build(folder):
        return [im.ext4_image(folder / "e.img", FILES, deleted=DELETED),
                im.fat_image(folder / "f.img", FILES, deleted=DELETED),
                im.exfat_image(folder / "x.img", size_mb=8)]

    first = build(tmp_path / "1")
    time.sleep(1.1)  # host ctimes and tool clocks move on; the images must not
    second = build(tmp_path / "2")
    for a, b in zip(first, second):
        assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest(), a.name


@needs("mke2fs", "debugfs")
def test_failing_tools_raise_with_their_stderr(tmp_path):
    with pytest.raises(RuntimeError, match="mke2fs failed"):
        im.ext4_image(tmp_path / "small.img", {"big.bin": b"\1" * (3 * im.MIB)}, size_mb=1)
    with pytest.raises(RuntimeError, match="File not found"):
        im.ext4_image(tmp_path / "e.img", {"a.txt": "x"}, deleted=["missing.txt"])


@needs("mkfs.vfat", "mmd", "mcopy", "mdel", "fls", "fsstat", "istat", "icat", "fsck.vfat")
@pytest.mark.parametrize("bits", [12, 16, 32])
def test_fat_image_lists_live_and_deleted_entries(tmp_path, bits):
    img = im.fat_image(tmp_path / "f.img", FILES, fat_bits=bits, deleted=DELETED)
    stat = tool("fsstat", img)
    assert f"File System Type: FAT{bits}" in stat and "Volume ID: 0x1234abcd" in stat
    entries = fls(img)
    assert live(entries) == LIVE
    # A deleted VFAT entry keeps its long name; an 8.3-only one loses its first letter.
    assert deleted(entries) == {"_one.txt", "DCIM/cache_gone.db"}
    assert tool("icat", img, entries["a.txt"]["addr"]) == "hello\n"
    assert "Written:\t2020-09-13 12:26:40 (UTC)" in tool("istat", img, entries["a.txt"]["addr"])
    subprocess.run(["fsck.vfat", "-n", img], check=True, capture_output=True)


@needs("mkfs.vfat")
def test_fat32_refuses_sizes_readers_would_not_see_as_fat32(tmp_path):
    with pytest.raises(ValueError):
        im.fat_image(tmp_path / "f.img", {}, fat_bits=32, size_mb=16)


@needs("mkntfs", "ntfscp", "fls", "icat", "istat", "ntfsfix")
def test_ntfs_image_has_folders_streams_and_deleted_files(tmp_path):
    zone = b"[ZoneTransfer]\r\nZoneId=3\r\n"
    img = im.ntfs_image(tmp_path / "n.img", FILES, deleted=DELETED,
                        streams={"a.txt": {"Zone.Identifier": zone}})
    entries = fls(img)
    assert live(entries) == LIVE | {"a.txt:Zone.Identifier"}
    assert deleted(entries) == set(DELETED)
    assert tool("icat", img, entries["a.txt"]["addr"]) == "hello\n"
    assert tool_bytes("icat", img, entries["a.txt:Zone.Identifier"]["addr"]) == zone
    stat = tool("istat", img, entries["DCIM/Camera/IMG_20200101_120000.jpg"]["addr"])
    assert "Created:\t2020-09-13 12:26:40.000000000 (UTC)" in stat
    assert "File Modified:\t2020-09-13 12:26:40.000000000 (UTC)" in stat
    assert "processed successfully" in tool("ntfsfix", "-n", img)


@needs("mkfs.exfat", "tune.exfat", "fsstat", "fsck.exfat")
def test_exfat_image_has_fixed_label_and_serial(tmp_path):
    img = im.exfat_image(tmp_path / "x.img", size_mb=8, label="CARD")
    stat = tool("fsstat", img)
    assert "File System Type: exFAT" in stat
    assert "Volume Serial Number: 1234-abcd" in stat
    assert "Volume Label (from root directory): CARD" in stat
    subprocess.run(["fsck.exfat", "-n", img], check=True, capture_output=True)


@needs("genisoimage", "fls", "icat")
def test_iso_image_keeps_long_and_non_ascii_names(tmp_path):
    files = {k: v for k, v in FILES.items() if k not in DELETED}
    img = im.iso_image(tmp_path / "i.iso", files)
    entries = fls(img)
    assert live(entries) == LIVE
    assert tool("icat", img, entries["a.txt"]["addr"]) == "hello\n"


def mmls_rows(image) -> list[tuple[int, int, str]]:
    """mmls rows as (start, length, description)."""
    rows = []
    for line in tool("mmls", image).splitlines():
        m = re.match(r"\d+:\s+\S+\s+(\d+)\s+\d+\s+(\d+)\s+(.*)$", line)
        if m:
            rows.append((int(m[1]), int(m[2]), m[3].strip()))
    return rows


@needs("mke2fs", "debugfs", "mkfs.vfat", "mmd", "mcopy", "sfdisk", "mmls", "fls")
def test_gpt_disk_places_named_partitions_at_returned_starts(tmp_path):
    e = im.ext4_image(tmp_path / "e.img", {"data/app.db": b"db"}, size_mb=8)
    f = im.fat_image(tmp_path / "f.img", {"DCIM/a.jpg": b"j"})
    starts = im.disk_image(tmp_path / "disk.img", [(e, "linux", "userdata"), (f, "fat16", "sdcard")])
    assert starts == [2048, 2048 + 8 * 2048]
    rows = mmls_rows(tmp_path / "disk.img")
    assert (2048, 8 * 2048, "userdata") in rows
    assert (starts[1], 16 * 2048, "sdcard") in rows
    assert "data/app.db" in fls(tmp_path / "disk.img", starts[0])
    assert "DCIM/a.jpg" in fls(tmp_path / "disk.img", starts[1])


@needs("mke2fs", "debugfs", "mkfs.vfat", "mmd", "mcopy", "mkfs.exfat", "tune.exfat", "sfdisk", "mmls", "fls")
def test_dos_disk_with_extended_partition_has_logical_partitions(tmp_path):
    e = im.ext4_image(tmp_path / "e.img", {"one.txt": "1"}, size_mb=4, block_size=1024)
    f = im.fat_image(tmp_path / "f.img", {"two.txt": "2"}, fat_bits=12)
    x = im.exfat_image(tmp_path / "x.img", size_mb=4)
    g = im.ext4_image(tmp_path / "g.img", {"four.txt": "4"}, size_mb=4, block_size=1024)
    parts = [(e, "linux"), (f, "fat12"), (x, "exfat"), (g, "linux")]
    starts = im.disk_image(tmp_path / "disk.img", parts, scheme="dos", extended=True, primaries=2)
    rows = mmls_rows(tmp_path / "disk.img")
    size = 4 * 2048
    assert (starts[0], size, "Linux (0x83)") in rows
    assert (starts[1], size, "DOS FAT12 (0x01)") in rows
    assert (starts[2], size, "NTFS / exFAT (0x07)") in rows
    assert (starts[3], size, "Linux (0x83)") in rows
    extended_tables = [start for start, _, desc in rows if desc.startswith("Extended Table")]
    assert extended_tables == [starts[2] - 2048, starts[3] - 2048]  # both after the primaries: logical
    assert "four.txt" in fls(tmp_path / "disk.img", starts[3])
    assert "two.txt" in fls(tmp_path / "disk.img", starts[1])


@needs("sfdisk")
def test_disk_image_rejects_layouts_an_mbr_cannot_hold(tmp_path):
    raw = tmp_path / "p.img"
    raw.write_bytes(b"\0" * 4096)
    with pytest.raises(ValueError):
        im.disk_image(tmp_path / "d.img", [(raw, "linux")] * 5, scheme="dos")
    with pytest.raises(ValueError):
        im.disk_image(tmp_path / "d.img", [(raw, "linux", "name")], scheme="dos")


def raw_bytes(size: int) -> bytes:
    return random.Random(7).randbytes(size)


@needs("ewfacquire", "ewfverify", "ewfinfo")
def test_e01_image_stores_hashes_and_case_data_in_several_segments(tmp_path):
    raw = tmp_path / "disk.raw"
    raw.write_bytes(raw_bytes(3 * im.MIB))
    stale = tmp_path / "ev.E09"
    stale.write_bytes(b"stale")
    segments = im.e01_image(raw, tmp_path / "ev", segment_size_bytes=im.MIB)
    assert [s.name for s in segments][:3] == ["ev.E01", "ev.E02", "ev.E03"] and len(segments) >= 3
    assert not stale.exists()
    info = tool("ewfinfo", segments[0])
    assert hashlib.md5(raw.read_bytes()).hexdigest() in info
    assert hashlib.sha1(raw.read_bytes()).hexdigest() in info
    assert "Case number:\t\tCASE-0001" in info and "Examiner name:\t\tFixture Examiner" in info
    assert "ewfverify: SUCCESS" in tool("ewfverify", "-q", "-d", "sha1", segments[0])


@needs("ewfacquire")
def test_e01_image_single_segment_and_input_checks(tmp_path):
    raw = tmp_path / "disk.raw"
    raw.write_bytes(raw_bytes(64 * 1024))
    assert [s.name for s in im.e01_image(raw, tmp_path / "one")] == ["one.E01"]
    raw.write_bytes(raw_bytes(1000))
    with pytest.raises(ValueError):
        im.e01_image(raw, tmp_path / "odd")


@pytest.mark.parametrize("naming, names", [
    ("numeric000", ["d.000", "d.001", "d.002"]),
    ("numeric001", ["d.001", "d.002", "d.003"]),
    ("alpha", ["d.aa", "d.ab", "d.ac"]),
])
def test_split_raw_names_and_rejoins(tmp_path, naming, names):
    raw = tmp_path / "disk.raw"
    raw.write_bytes(raw_bytes(2500))
    segments = im.split_raw(raw, tmp_path / "d", 1000, naming=naming)
    assert [s.name for s in segments] == names
    assert [s.stat().st_size for s in segments] == [1000, 1000, 500]
    assert b"".join(s.read_bytes() for s in segments) == raw.read_bytes()


def ratio_degrees(values) -> float:
    d, m, s = (float(v.num) / float(v.den) for v in values)
    return d + m / 60 + s / 3600


@pytest.mark.parametrize("byte_order", ["MM", "II"])
def test_jpeg_exif_reads_back_with_exifread(byte_order):
    data = im.jpeg_with_exif("samsung", "SM-G991B", "2021:03:04 05:06:07", 52.520008, -13.404954, -34.5,
                             offset_time="+01:00", gps_utc="2021:03:04 04:06:07", byte_order=byte_order)
    tags = exifread.process_file(io.BytesIO(data), details=False)
    assert str(tags["Image Make"]) == "samsung" and str(tags["Image Model"]) == "SM-G991B"
    assert str(tags["EXIF DateTimeOriginal"]) == "2021:03:04 05:06:07"
    assert str(tags["EXIF OffsetTimeOriginal"]) == "+01:00"
    assert str(tags["GPS GPSLatitudeRef"]) == "N" and str(tags["GPS GPSLongitudeRef"]) == "W"
    assert ratio_degrees(tags["GPS GPSLatitude"].values) == pytest.approx(52.520008, abs=1e-6)
    assert ratio_degrees(tags["GPS GPSLongitude"].values) == pytest.approx(13.404954, abs=1e-6)
    assert tags["GPS GPSAltitudeRef"].values == [1]
    assert float(tags["GPS GPSAltitude"].values[0]) == 34.5
    assert str(tags["GPS GPSDate"]) == "2021:03:04"


def test_jpeg_without_gps_has_no_gps_ifd():
    tags = exifread.process_file(io.BytesIO(im.jpeg_with_exif()), details=False)
    assert str(tags["Image Make"]) == "FixtureCam"
    assert not [t for t in tags if t.startswith("GPS")]
    with pytest.raises(ValueError):
        im.jpeg_with_exif(lat=1.0)


@needs("djpeg")
def test_jpeg_body_decodes_to_uniform_grey(tmp_path):
    path = tmp_path / "p.jpg"
    path.write_bytes(im.jpeg_with_exif(width=20, height=12))
    pgm = subprocess.run(["djpeg", "-pnm", path], check=True, capture_output=True).stdout
    assert pgm.startswith(b"P5\n20 12\n255\n")
    assert pgm[len(b"P5\n20 12\n255\n"):] == bytes([128]) * 240


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool missing (Debian libimage-exiftool-perl)")
def test_jpeg_exif_validates_and_matches_in_exiftool(tmp_path):
    path = tmp_path / "p.jpg"
    path.write_bytes(im.jpeg_with_exif("Apple", "iPhone 12", "2022:12:31 23:59:58", -33.8688, 151.2093, 58.25,
                                       byte_order="II"))
    out = tool("exiftool", "-n", "-s", "-validate", "-Make", "-Model", "-DateTimeOriginal",
               "-GPSLatitude", "-GPSLongitude", "-GPSAltitude", path)
    fields = dict(re.split(r"\s+:\s+", line, maxsplit=1) for line in out.splitlines())
    assert fields["Validate"] == "0 0 0"  # errors, warnings, minor warnings
    assert fields["Make"] == "Apple" and fields["Model"] == "iPhone 12"
    assert fields["DateTimeOriginal"] == "2022:12:31 23:59:58"
    assert float(fields["GPSLatitude"]) == pytest.approx(-33.8688, abs=1e-6)
    assert float(fields["GPSLongitude"]) == pytest.approx(151.2093, abs=1e-6)
    assert float(fields["GPSAltitude"]) == 58.25
