"""Damaged and booby-trapped evidence, built at test time with real tools: every problem is a row of the device's
``problems`` table, shown by ``ingest`` (exit code 3) and ``status`` (text and JSON); nothing escapes the case
folder; the evidence is unchanged."""
import hashlib
import io
import json
import os
import random
import re
import sqlite3
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from tests.fixtures import images
from tests.fixtures.android_sms import MMSSMS_SCHEMA
from tests.fixtures.sqlite_db import make_db

SMS_ROWS = ("INSERT INTO sms (_id, thread_id, address, date, type, body) "
            "VALUES (1, 1, '+15550001', 1600000000000, 1, 'hello');")
SMS = "data/data/com.android.providers.telephony/databases/mmssms.db"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _ingest(tmp_path: Path, evidence: Path, device: str = "d"):
    case = tmp_path / "case"
    runner = CliRunner()
    if not case.exists():
        assert runner.invoke(main, ["case", "init", str(case)]).exit_code == 0
    before = _sha(evidence) if evidence.is_file() else None
    result = runner.invoke(main, ["ingest", str(case), str(evidence), "--device-id", device, "--quiet"])
    assert "Traceback" not in result.output
    if before is not None:
        assert _sha(evidence) == before  # evidence unchanged
    status = json.loads(runner.invoke(main, ["status", "--json", str(case)]).output)
    text = runner.invoke(main, ["status", str(case)]).output
    problems = [json.loads(line) for line in
                runner.invoke(main, ["export", str(case), "problems"]).output.splitlines()]
    return result, status, text, problems


def _device_image(tmp_path: Path) -> tuple[Path, list[int]]:
    if images.missing_tools("mke2fs", "sfdisk"):
        pytest.skip("image tools not installed")
    tree = tmp_path / "tree"
    make_db(tree / "mmssms.db", MMSSMS_SCHEMA + SMS_ROWS)
    good = images.ext4_image(tmp_path / "good.img", {SMS: (tree / "mmssms.db").read_bytes()}, size_mb=8)
    other = images.ext4_image(tmp_path / "other.img", {"x.txt": b"x"}, size_mb=8)
    disk = tmp_path / "disk.img"
    starts = images.disk_image(disk, [(good, "linux", "system"), (other, "linux", "userdata")])
    return disk, starts


def test_zeroed_superblock_of_one_partition_the_other_still_read(tmp_path):
    disk, starts = _device_image(tmp_path)
    data = bytearray(disk.read_bytes())
    superblock = starts[1] * 512 + 1024
    data[superblock:superblock + 1024] = bytes(1024)
    disk.write_bytes(bytes(data))
    result, status, text, problems = _ingest(tmp_path, disk)
    assert result.exit_code == 3, result.output
    assert "no-file-system" in result.output and "1 records" in result.output  # p1's SMS is still read
    assert [(p["kind"], p["where"]) for p in problems] == [("no-file-system", "p2")]
    assert status["devices"][0]["problems"] == {"no-file-system": 1} and status["totals"]["with_problems"] == 1
    assert "problems: 1 (no-file-system 1)" in text


def test_truncated_image_says_how_many_bytes_are_missing(tmp_path):
    disk, starts = _device_image(tmp_path)
    data = disk.read_bytes()
    cut = starts[1] * 512 + 4 * 1024 * 1024  # half of the second partition is gone
    disk.write_bytes(data[:cut])
    result, status, text, problems = _ingest(tmp_path, disk)
    assert result.exit_code == 3, result.output
    truncated = [p for p in problems if p["kind"] == "truncated"]
    assert [p["where"] for p in truncated] == ["p2"]
    missing = starts[1] * 512 + 8 * 1024 * 1024 - cut
    assert f"({missing} bytes missing)" in truncated[0]["what"] and "p2 is partial" in truncated[0]["what"]
    assert status["devices"][0]["counts"]["messages"] == 1
    info = CliRunner().invoke(main, ["info", str(disk)])  # shown before any ingest, too
    assert info.exit_code == 0 and "problem truncated p2: image is truncated: p2 ends at byte" in info.output


PHOTO = random.Random(7).randbytes(96 * 1024)  # unique bytes: whole 32 KiB chunks of the image hold only them


def _e01_device(tmp_path: Path) -> tuple[Path, list[Path]]:
    """The two-partition device (SMS database in p1) with a 96 KiB photo in p2, acquired into one E01 segment."""
    if images.missing_tools("ewfacquire", "mke2fs", "sfdisk"):
        pytest.skip("ewfacquire or image tools not installed")
    tree = tmp_path / "tree"
    make_db(tree / "mmssms.db", MMSSMS_SCHEMA + SMS_ROWS)
    system = images.ext4_image(tmp_path / "system.img", {SMS: (tree / "mmssms.db").read_bytes()}, size_mb=8)
    userdata = images.ext4_image(tmp_path / "userdata.img", {"media/photo.bin": PHOTO, "x.txt": b"x"}, size_mb=8)
    disk = tmp_path / "disk.img"
    images.disk_image(disk, [(system, "linux", "system"), (userdata, "linux", "userdata")])
    return disk, images.e01_image(disk, tmp_path / "e01" / "phone")


def _ewfverify_sectors(segment: Path) -> list[tuple[int, int]]:
    """The sector ranges libewf's own ewfverify says fail their checksum."""
    out = subprocess.run(["ewfverify", "-q", str(segment)], capture_output=True, text=True).stdout
    return [(int(a), int(b)) for a, b in re.findall(r"at sector\(s\): (\d+) - (\d+)", out)]


def test_corrupted_e01_chunk_names_its_sectors_partition_and_file(tmp_path):
    disk, segments = _e01_device(tmp_path)
    raw = disk.read_bytes()
    chunk = -(-raw.find(PHOTO) // 32768)  # the first chunk wholly inside the photo's content
    assert raw[chunk * 32768:(chunk + 1) * 32768] in PHOTO
    images.e01_flip_chunk(segments[0], disk, chunk)
    first, last = chunk * 64, chunk * 64 + 63
    if not images.missing_tools("ewfverify"):
        assert _ewfverify_sectors(segments[0]) == [(first, last)]  # libewf's own verdict on the same set
    result, status, text, problems = _ingest(tmp_path, segments[0])  # evidence hashed before and after: unchanged
    assert result.exit_code == 3, result.output
    damaged = [p for p in problems if p["kind"] == "corrupt-chunk"]
    assert [p["where"] for p in damaged] == ["p2"], problems
    what = damaged[0]["what"]
    assert what.startswith(f"sectors {first}-{last} (chunk {chunk}, in phone.E01) fail their checksum: "
                           f"its Adler-32 checksum does not match its data; they read as zeros; p2 ("), what
    assert "content of /media/photo.bin" in what and "x.txt" not in what
    # libewf hands back zeros for the damaged chunk, so the stream's MD5 differs from the stored one too
    assert "hash-mismatch" in {p["kind"] for p in problems}
    assert "no chunk fails its checksum" not in [p for p in problems if p["kind"] == "hash-mismatch"][0]["what"]
    assert "corrupt-chunk" in result.output and f"sectors {first}-{last}" in result.output
    assert status["devices"][0]["problems"] == {"corrupt-chunk": 1, "hash-mismatch": 1}
    assert "corrupt-chunk 1" in text and f"sectors {first}-{last}" in text
    # the other partition, and the other files of the damaged one, are still read
    assert status["devices"][0]["counts"]["messages"] == 1
    files = {(f["partition"], f["path"]) for f in json.loads(
        "[" + ",".join(CliRunner().invoke(main, ["export", str(tmp_path / "case"), "files"]).output.split("\n")[:-1])
        + "]")}
    assert {("p2", "/media/photo.bin"), ("p2", "/x.txt"), ("p1", "/" + SMS)} <= files
    verify = CliRunner().invoke(main, ["verify", str(tmp_path / "case")])
    assert verify.exit_code != 0 and f"sectors {first}-{last} DAMAGED" in verify.output


def test_e01_with_a_wrong_stored_hash(tmp_path):
    disk, segments = _e01_device(tmp_path)
    wrong = hashlib.md5(b"not the media").hexdigest()
    assert images.e01_replace_stored_md5(segments, wrong) == 2  # hash and digest sections
    actual = hashlib.md5(disk.read_bytes()).hexdigest()
    if not images.missing_tools("ewfverify"):  # libewf opens the set, reads every chunk fine, and sees the mismatch
        out = subprocess.run(["ewfverify", "-q", str(segments[0])], capture_output=True, text=True).stdout
        assert wrong in out and actual in out and "at sector(s)" not in out
    result, status, text, problems = _ingest(tmp_path, segments[0])
    assert result.exit_code == 3, result.output
    assert "STORED HASH MISMATCH" in result.output
    assert [p["kind"] for p in problems] == ["hash-mismatch"], problems
    assert problems[0]["what"] == (f"stored md5 {wrong} differs from the md5 of the evidence read, {actual}; no "
                                   f"chunk fails its checksum: the stored hash, or data rewritten with valid "
                                   f"checksums, differ")
    assert status["devices"][0]["problems"] == {"hash-mismatch": 1} and status["devices"][0]["counts"]["messages"] == 1
    audit = [json.loads(line) for line in (tmp_path / "case" / "audit.log").read_text().splitlines()]
    end = [e for e in audit if e["action"] == "ingest end"][-1]
    assert end["problems"] == {"hash-mismatch": 1}
    assert end["evidence_hashes"][0]["stored_md5"] == wrong and end["evidence_hashes"][0]["md5"] == actual
    assert end["evidence_hashes"][0]["hash_verified"] is False
    verify = CliRunner().invoke(main, ["verify", str(tmp_path / "case")])
    assert verify.exit_code != 0
    assert f"FAIL d:e1: sha256 " in verify.output
    assert f"stored md5 {wrong} DIFFERS from the md5 read, {actual}" in verify.output


def test_e01_whose_last_segment_is_cut_short_names_the_missing_sectors(tmp_path):
    disk, _ = _e01_device(tmp_path)
    segments = images.e01_image(disk, tmp_path / "split" / "phone", segment_size_bytes=1 << 20)
    kept = segments[-1].stat().st_size // 2
    os.truncate(segments[-1], kept)  # the copy of the set was interrupted: the last segment's table is gone
    chunks = -(-disk.stat().st_size // 32768)
    result, status, text, problems = _ingest(tmp_path, segments[0])
    assert result.exit_code == 3, result.output
    damaged = [p for p in problems if p["kind"] == "corrupt-chunk"]
    assert len(damaged) == 1, problems
    first = int(damaged[0]["what"].split()[1].split("-")[0])
    assert damaged[0]["what"].startswith(f"sectors {first}-{chunks * 64 - 1} (chunks {first // 64}-{chunks - 1}) "
                                         f"are not in the set: segment file {segments[-1].name} is cut short or "
                                         f"damaged: its sections stop before its end marker ({kept} bytes)")
    if not images.missing_tools("ewfverify"):  # libewf's own verdict: the same sectors
        assert _ewfverify_sectors(segments[0]) == [(first, chunks * 64 - 1)]
    assert status["devices"][0]["counts"]["messages"] == 1  # what the set still holds is read


@pytest.mark.parametrize("cut", ["empty", "in its header", "in its first section", "in its last table"])
def test_e01_whose_middle_segment_is_cut_short_names_it(tmp_path, cut):
    """A set E01..E03 whose E02 was cut short where libewf cannot open the set: the one line names the segment file
    and what is wrong with it (libewf's own text names no file)."""
    disk, _ = _e01_device(tmp_path)
    segments = images.e01_image(disk, tmp_path / "split" / "phone", segment_size_bytes=7 << 20)
    assert [s.name for s in segments] == ["phone.E01", "phone.E02", "phone.E03"]
    size = segments[1].stat().st_size
    kept = {"empty": 0, "in its header": 12, "in its first section": 100, "in its last table": size - 200}[cut]
    os.truncate(segments[1], kept)
    result, status, _, _ = _ingest(tmp_path, segments[0])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    said = result.output.strip()
    assert said.startswith("error: device d failed: cannot open EWF image phone.E01: segment file phone.E02 (2 of 3) "
                           f"is cut short"), said
    assert {"empty": f"{kept} bytes, less than its 13-byte file header",
            "in its header": f"{kept} bytes, less than its 13-byte file header",
            "in its first section": f"{kept} bytes; its 'data' section at offset 13 runs past the end",
            "in its last table": f"{kept} bytes; its 'table2' section at offset "}[cut] in said
    assert "(libewf: unable to read " in said and "phone.E03" not in said
    assert status["devices"][0]["state"] == "failed"


def test_e01_whose_middle_segment_lost_its_tail_names_it_and_reads_the_rest(tmp_path):
    """Cut in the middle of its sectors, E02 still opens: its lost chunks are named as not in the set, and the
    chunks of E03 that libewf then cannot read say why, though E03 is there."""
    disk, _ = _e01_device(tmp_path)
    segments = images.e01_image(disk, tmp_path / "split" / "phone", segment_size_bytes=7 << 20)
    kept = segments[1].stat().st_size // 2
    os.truncate(segments[1], kept)
    result, status, text, problems = _ingest(tmp_path, segments[0])
    assert result.exit_code == 3, result.output
    damaged = [p["what"] for p in problems if p["kind"] == "corrupt-chunk"]
    assert len(damaged) == 2, problems
    assert "are not in the set: segment file phone.E02 is cut short or damaged: its sections stop before its end " \
           f"marker ({kept} bytes)" in damaged[0]
    assert ", in phone.E03) cannot be read: libewf: " in damaged[1]
    assert "libewf reads no chunk after the chunks not in the set, though this segment file is there" in damaged[1]
    assert status["devices"][0]["counts"]["messages"] == 1


@pytest.mark.parametrize("content, name", [(b"", "empty.img"), (bytes(range(256)) * 64, "random.E01")])
def test_empty_and_random_files_fail_with_one_line(tmp_path, content, name):
    evidence = tmp_path / name
    evidence.write_bytes(content)
    result, status, _, _ = _ingest(tmp_path, evidence)
    assert result.exit_code == 2 and result.output.startswith("error: device d failed")
    assert len(result.output.strip().splitlines()) == 1
    assert status["devices"][0]["state"] == "failed"


def _member(tar, name, data=b"", **kw):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in kw.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data))


def test_hostile_tar_nothing_escapes_and_every_trap_is_shown(tmp_path):
    archive = tmp_path / "ffs.tar"
    with tarfile.open(archive, "w", format=tarfile.GNU_FORMAT) as tar:
        _member(tar, "../../escape.txt", b"out")
        _member(tar, "/etc/cron.d/evil", b"abs")
        _member(tar, "..\\..\\win.txt", b"back")
        _member(tar, "sdcard/passwd-link", type=tarfile.SYMTYPE, linkname="/etc/passwd")
        _member(tar, "sdcard/up-link", type=tarfile.SYMTYPE, linkname="../../../../etc/shadow")
        _member(tar, "sdcard/hard", type=tarfile.LNKTYPE, linkname="../../outside")
        _member(tar, "dev/sda", type=tarfile.BLKTYPE)
        _member(tar, "sdcard/new\nline \x1b[31mred.txt", b"odd")
        _member(tar, "sdcard/" + "\udcff\udcfe.bin", b"not utf-8")
    result, status, text, problems = _ingest(tmp_path, archive)
    assert result.exit_code == 3, result.output
    kinds = sorted(p["kind"] for p in problems)
    assert kinds == ["link-out", "link-out", "odd-name", "path-climbs-out", "path-climbs-out", "path-climbs-out",
                     "special-file"], problems  # the absolute symlink names a device path: stored, not a problem
    # nothing outside the case folder, nothing extracted by name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case", "ffs.tar"]
    assert not (tmp_path / "escape.txt").exists() and not Path("/etc/cron.d/evil").exists()
    # odd names stored faithfully, shown escaped
    files = {f["path"] for f in map(json.loads, CliRunner().invoke(main, ["export", str(tmp_path / "case"),
                                                                            "files"]).output.splitlines())}
    assert "/sdcard/new\nline \x1b[31mred.txt" in files and "/escape.txt" in files and "/win.txt" in files
    assert "/sdcard/\\xff\\xfe.bin" in files
    odd = [p for p in problems if p["kind"] == "odd-name"][0]
    assert odd["what"] == "name is not valid UTF-8, its bytes (hex): 2f7364636172642ffffe2e62696e"
    assert "\x1b" not in text and "\x1b" not in result.output
    csv_out = CliRunner().invoke(main, ["export", "--format", "csv", str(tmp_path / "case"), "files"]).output
    assert "new\nline \\x1b[31mred.txt" in csv_out and "\x1b" not in csv_out  # line breaks quoted, ESC escaped


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2])
def test_zip_bomb_and_climbing_members(tmp_path, method, monkeypatch):
    """The limits are configurable: at 10 MB a 64 MB bomb is the same trap as a 10 kB zip of gigabytes is at the
    default 1 GiB (a deflate stream expands at most ~1000x, bzip2 far more), and the test stays fast."""
    monkeypatch.setenv("FORENSICS_ARCHIVE_MIN_LIMIT", str(10 << 20))
    archive = tmp_path / "extraction.zip"
    with zipfile.ZipFile(archive, "w", compression=method, compresslevel=9) as z:
        with z.open("bomb.bin", "w", force_zip64=True) as member:
            block = bytes(1 << 20)
            for _ in range(64):
                member.write(block)
        z.writestr("../../up.txt", b"x")
        z.writestr("C:\\Windows\\evil.txt", b"x")
    assert archive.stat().st_size < 200_000
    result, status, text, problems = _ingest(tmp_path, archive)
    assert result.exit_code == 3, result.output
    kinds = sorted(p["kind"] for p in problems)
    assert kinds == ["bomb-not-read", "path-climbs-out", "path-climbs-out"], problems
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case", "extraction.zip"]
    assert sum(f.stat().st_size for f in (tmp_path / "case").rglob("*") if f.is_file()) < 50_000_000


def test_clean_ingest_exits_zero_with_no_problems(tmp_path):
    folder = tmp_path / "folder"
    make_db(folder / SMS, MMSSMS_SCHEMA + SMS_ROWS)
    result, status, text, problems = _ingest(tmp_path, folder)
    assert result.exit_code == 0 and problems == [] and status["devices"][0]["problems"] == {}
    assert "problems" not in result.output
    db = sqlite3.connect(tmp_path / "case" / "case.sqlite")
    assert db.execute("SELECT warnings FROM parser_runs WHERE parser = 'android-sms'").fetchall() == [(0,)]


def test_fifty_nested_zips_are_inventoried_not_opened(tmp_path):
    inner = b"innermost"
    for level in range(50):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
            z.writestr(f"level{level}.zip" if level else "data.txt", inner)
        inner = out.getvalue()
    archive = tmp_path / "nested.zip"
    archive.write_bytes(inner)
    result, status, text, problems = _ingest(tmp_path, archive)
    assert result.exit_code == 0 and problems == []
    files = [json.loads(line) for line in CliRunner().invoke(main, ["export", str(tmp_path / "case"),
                                                                      "files"]).output.splitlines()]
    assert [f["path"] for f in files] == ["/level49.zip"] and files[0]["sha256"]


def test_billion_laughs_packages_xml_is_a_parser_problem(tmp_path):
    folder = tmp_path / "extraction"
    laughs = ('<?xml version="1.0"?><!DOCTYPE packages [<!ENTITY a "aaaaaaaaaa">'
              + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
              + ']><packages><package name="&j;" /></packages>')
    (folder / "data/system").mkdir(parents=True)
    (folder / "data/system/packages.xml").write_text(laughs)
    result, status, text, problems = _ingest(tmp_path, folder)
    assert result.exit_code == 3, result.output
    assert [p["kind"] for p in problems] == ["parser-error"] and "packages.xml" in problems[0]["where"]
    assert len(problems[0]["what"]) < 2000


def test_script_formula_and_huge_bodies_are_kept_and_neutralised_in_csv(tmp_path):
    folder = tmp_path / "extraction"
    big = "A" * 100_000
    rows = ("INSERT INTO sms (_id, thread_id, address, date, type, body) VALUES "
            "(1, 1, '+1', 1600000000000, 1, '<script>alert(1)</script>'), "
            "(2, 1, '+1', 1600000001000, 1, '=HYPERLINK(\"http://evil\",\"x\")'), "
            f"(3, 1, '+1', 1600000002000, 1, '{big}'), "
            "(4, 1, '+1', 1600000003000, 1, '@SUM(1+1)');")
    make_db(folder / SMS, MMSSMS_SCHEMA + rows)
    result, status, text, problems = _ingest(tmp_path, folder)
    assert result.exit_code == 0, result.output
    runner = CliRunner()
    bodies = [json.loads(line)["body"] for line in runner.invoke(main, ["export", str(tmp_path / "case"),
                                                                         "messages"]).output.splitlines()]
    assert bodies == ["<script>alert(1)</script>", '=HYPERLINK("http://evil","x")', big, "@SUM(1+1)"]
    csv_out = runner.invoke(main, ["export", "--format", "csv", str(tmp_path / "case"), "messages"]).output
    assert "'=HYPERLINK" in csv_out and "'@SUM" in csv_out and big in csv_out


def test_working_copies_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setenv("FORENSICS_SPOOL_MAX_BYTES", "4096")
    folder = tmp_path / "extraction"
    make_db(folder / SMS, MMSSMS_SCHEMA + SMS_ROWS)
    result, status, text, problems = _ingest(tmp_path, folder)
    assert result.exit_code == 3, result.output
    assert [p["kind"] for p in problems] == ["too-large-to-parse"] and SMS in problems[0]["where"]
    assert status["devices"][0]["counts"].get("messages", 0) == 0


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_bzip2_member_is_decompressed_in_bounded_pieces(tmp_path, method):
    """zipfile hands a whole compressed read to the bzip2 decompressor: a few hundred bytes of bzip2 became one
    64 MiB bytes object before any limit was checked. Read through the zip source, no piece is that large, the
    content is exact, and a damaged CRC is an error."""
    import hashlib
    import tracemalloc

    from forensics.archives import ZipSource

    archive = tmp_path / "b.zip"
    text = b"".join(b"line %d\n" % i for i in range(1000))
    with zipfile.ZipFile(archive, "w", compression=method) as z:
        with z.open("zeros.bin", "w", force_zip64=True) as member:
            for _ in range(64):
                member.write(bytes(1 << 20))
        z.writestr("text.txt", text)
    assert archive.stat().st_size < 20_000  # 64 MiB in a few kilobytes

    def digest(name):  # an entry opens only while the source is iterated
        for entry in ZipSource(archive):
            if entry.path == name:
                stream, h = entry.open(), hashlib.sha256()
                while chunk := stream.read(1 << 20):
                    h.update(chunk)
                return h.hexdigest()

    expected = hashlib.sha256(bytes(64 << 20)).hexdigest()
    tracemalloc.start()
    try:
        got = digest("/zeros.bin")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got == expected and peak < 16 << 20, peak
    assert digest("/text.txt") == hashlib.sha256(text).hexdigest()
    data = bytearray(archive.read_bytes())
    at = data.find(b"PK\x01\x02", data.find(b"text.txt") + 8)  # text.txt's central-directory entry: flip its CRC
    while data[at + 46: at + 54] != b"text.txt":
        at = data.find(b"PK\x01\x02", at + 4)
    data[at + 16] ^= 0xFF
    archive.write_bytes(bytes(data))
    with pytest.raises(zipfile.BadZipFile):
        digest("/text.txt")


def test_report_shows_the_devices_problems_and_records_by_source(tmp_path):
    """The report's device page lists the device's problems (not only parser runs that failed: a member that climbs
    out is not a parser run) and, per parser, how many records were live, WAL-only, WAL-deleted or carved; the
    index counts each device's problems."""
    db_path = tmp_path / "mmssms.db"
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA secure_delete=OFF")
    db.executescript(MMSSMS_SCHEMA)
    db.executemany("INSERT INTO sms (_id, thread_id, address, date, type, body) VALUES (?, 1, '+15550001', ?, 1, ?)",
                   [(i, 1600000000000 + i, f"message number {i:03d} " + "x" * 60) for i in range(1, 41)])
    db.execute("DELETE FROM sms WHERE _id IN (7, 21)")
    db.close()
    archive = tmp_path / "x.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(db_path, SMS)
        z.writestr("../up.txt", b"x")
    result, status, _text, problems = _ingest(tmp_path, archive)
    assert result.exit_code == 3 and [p["kind"] for p in problems] == ["path-climbs-out"]
    assert status["devices"][0]["record_sources"] == {"live": 38, "wal-only": 0, "wal-deleted": 0, "carved": 2,
                                                      "unmapped carved cells": 0}
    out = tmp_path / "report"
    assert CliRunner().invoke(main, ["report", str(tmp_path / "case"), "-o", str(out)]).exit_code == 0
    page = (out / "device-001.html").read_text(encoding="utf-8")
    assert '<tr class="problem"><td>path-climbs-out</td><td class="small">zip:/up.txt</td>' in page
    assert "None: nothing in this device" not in page
    row = re.search(r"<td>android-sms</td><td>[^<]*</td><td>parsed</td>((?:<td>\d+</td>){7})", page)
    assert row and re.findall(r"\d+", row.group(1)) == ["1", "40", "38", "0", "0", "2", "0"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert '<td class="problem">1</td>' in index


def test_folder_extraction_shows_links_out_special_files_and_unlistable_folders(tmp_path, monkeypatch):
    """A folder taken as evidence shows what a tar shows: a symbolic link climbing out of it (never followed), a
    FIFO (not read); and a folder that cannot be listed is a read error, not silently empty."""
    folder = tmp_path / "extraction"
    (folder / "sdcard" / "locked").mkdir(parents=True)
    (folder / "sdcard" / "locked" / "secret.txt").write_text("x")
    (folder / "sdcard" / "ok.txt").write_text("ok")
    os.symlink("../../../etc/shadow", folder / "sdcard" / "shadow")
    os.symlink("/etc/passwd", folder / "sdcard" / "passwd")  # a path of the device: stored as it is
    os.mkfifo(folder / "sdcard" / "pipe")
    real_listdir = os.listdir

    def listdir(path):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied")
        return real_listdir(path)

    monkeypatch.setattr(os, "listdir", listdir)
    result, status, _text, problems = _ingest(tmp_path, folder)
    assert result.exit_code == 3, result.output
    found = sorted((p["kind"], p["where"]) for p in problems)
    assert found == [("link-out", "folder:/sdcard/shadow"), ("read-error", "folder:/sdcard/locked"),
                     ("special-file", "folder:/sdcard/pipe")], problems
    assert "Permission denied" in next(p["what"] for p in problems if p["kind"] == "read-error")
