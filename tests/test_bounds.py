"""Resource bounds: a huge directory does not grow memory with its size, photos do not pile up in the work folder,
a file over the working-copy limit is a problem row (never silently skipped), and a copy the work folder's disk
cannot take is refused with a problem row. Built at test time: ext4 with mke2fs -d, folders, real JPEGs."""
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from forensics import filesystems
from tests.fixtures import images
from tests.fixtures.android_sms import MMSSMS_SCHEMA
from tests.fixtures.images import jpeg_with_exif
from tests.fixtures.sqlite_db import make_db

ROOT = Path(__file__).resolve().parents[1]
SMS = "data/data/com.android.providers.telephony/databases/mmssms.db"


# The peak RSS of this process (KiB): /proc's high-water mark, which starts anew at exec (``ru_maxrss`` does not:
# it keeps the forking pytest process's size).
PEAK = "int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])"


def _peak_rss_of_ingest(tmp_path: Path, evidence: Path, name: str) -> tuple[int, str]:
    """Peak RSS (KiB) of a fresh process that runs the whole ``forensics ingest`` of ``evidence``."""
    case = tmp_path / f"case-{name}"
    script = textwrap.dedent(f"""
        import sys
        from click.testing import CliRunner
        from cli import main
        runner = CliRunner()
        assert runner.invoke(main, ["case", "init", {str(case)!r}]).exit_code == 0
        result = runner.invoke(main, ["ingest", {str(case)!r}, {str(evidence)!r}, "--device-id", "d", "--quiet"])
        print(result.exit_code, result.output.splitlines()[0] if result.output else "")
        print({PEAK})
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    summary, rss = out.stdout.strip().splitlines()[-2:]
    return int(rss), summary


def test_a_directory_of_100000_entries_is_inventoried_in_flat_memory(tmp_path):
    big = tmp_path / "huge" / "sdcard" / "DCIM" / ".thumbnails"
    big.mkdir(parents=True)
    for i in range(100_000):
        (big / f"t{i:06d}.bin").touch()
    small = tmp_path / "small" / "sdcard"
    small.mkdir(parents=True)
    (small / "one.bin").touch()
    baseline, _ = _peak_rss_of_ingest(tmp_path, tmp_path / "small", "small")
    peak, summary = _peak_rss_of_ingest(tmp_path, tmp_path / "huge", "huge")
    assert summary.startswith("0 device d: 100003 files"), summary  # every entry inventoried, a clean exit
    # Stated bound: 100,000 entries may add at most 160 MiB (1.6 KiB an entry: names, rows, SQLite's cache) to
    # the peak of a one-file ingest; measured about 90 MiB.
    assert peak - baseline < 160 * 1024, (baseline, peak)


def test_a_huge_directory_is_walked_in_name_order_through_windows(tmp_path, monkeypatch):
    if images.missing_tools("mke2fs", "fls"):
        pytest.skip("image tools not installed")
    tree = tmp_path / "tree" / "big"
    tree.mkdir(parents=True)
    for i in range(4000):
        (tree / f"f{(i * 7919) % 4000:04d}").write_bytes(b"x" if i % 2 else b"")
    image = tmp_path / "dir.img"
    subprocess.run(["mke2fs", "-F", "-q", "-t", "ext4", "-N", "5000", "-d", str(tmp_path / "tree"), str(image),
                    "24M"], check=True, capture_output=True)
    import pytsk3

    fs = pytsk3.FS_Info(pytsk3.Img_Info(str(image)))
    whole = [(e.path, e.inode, e.size) for e in filesystems.walk(fs, "fs")]
    monkeypatch.setattr(filesystems, "DIRECTORY_WINDOW", 300)  # 14 windows over /big
    windowed = [(e.path, e.inode, e.size) for e in filesystems.walk(fs, "fs")]
    assert windowed == whole
    names = [p for p, _, _ in windowed if p.startswith("/big/")]
    assert len(names) == 4000 and names == sorted(names)
    fls = subprocess.run(["fls", "-r", "-p", str(image)], check=True, capture_output=True, text=True).stdout
    listed = {line.split("\t", 1)[1] for line in fls.splitlines() if "\t" in line}
    assert {p.lstrip("/") for p, _, _ in windowed} == listed


def _folder_size(root: Path) -> int:
    total = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total


class _Watch(threading.Thread):
    """The largest total size the work folder reached, polled every few milliseconds."""

    def __init__(self, root: Path):
        super().__init__(daemon=True)
        self.root, self.peak, self.stop = root, 0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, _folder_size(self.root))
            time.sleep(0.002)


def test_photos_and_a_file_over_the_limit_keep_the_work_folder_small(tmp_path, monkeypatch):
    limit = 10 << 20
    monkeypatch.setenv("FORENSICS_SPOOL_MAX_BYTES", str(limit))
    evidence = tmp_path / "phone"
    dcim = evidence / "sdcard" / "DCIM" / "Camera"
    dcim.mkdir(parents=True)
    photo = jpeg_with_exif("Google", "Pixel 7", "2023:06:01 21:15:30")
    for i in range(40):  # 40 photos of 3 MiB: 120 MiB, twelve times the limit
        (dcim / f"IMG_{i:04d}.jpg").write_bytes(photo + bytes([i]) * ((3 << 20) - len(photo)))
    huge = dcim / "PANO_0001.jpg"  # 50 MiB, sparse: over the limit
    with open(huge, "wb") as f:
        f.write(photo)
        f.truncate(50 << 20)
    make_db(evidence / SMS, MMSSMS_SCHEMA + "INSERT INTO sms (_id, thread_id, address, date, type, body) "
                                           "VALUES (1, 1, '+15550001', 1600000000000, 1, 'kept');")
    case = tmp_path / "case"
    runner = CliRunner()
    assert runner.invoke(main, ["case", "init", str(case)]).exit_code == 0
    (case / "work").mkdir(exist_ok=True)
    watch = _Watch(case / "work")
    watch.start()
    try:
        result = runner.invoke(main, ["ingest", str(case), str(evidence), "--device-id", "d", "--quiet"])
    finally:
        watch.stop.set()
        watch.join()
    assert result.exit_code == 3, result.output  # done, with a problem: the file over the limit
    assert 0 < watch.peak <= 3 * limit, watch.peak  # never more than a few copies' worth, not 120 MiB
    problems = [json.loads(line) for line in runner.invoke(main, ["export", str(case), "problems"]).output.splitlines()]
    assert [(p["kind"], p["where"]) for p in problems] == [("too-large-to-parse",
                                                            "folder:/sdcard/DCIM/Camera/PANO_0001.jpg")]
    assert "over the working-copy limit of 10485760 bytes" in problems[0]["what"]
    media = [json.loads(line) for line in runner.invoke(main, ["export", str(case), "media"]).output.splitlines()]
    assert len(media) == 40 and {m["camera_model"] for m in media} == {"Pixel 7"}
    messages = [json.loads(line) for line in runner.invoke(main, ["export", str(case), "messages"]).output.splitlines()]
    assert [m["body"] for m in messages] == ["kept"]  # databases are still parsed after the inventory
    files = [json.loads(line) for line in runner.invoke(main, ["export", str(case), "files"]).output.splitlines()]
    assert {f["path"]: f["size"] for f in files}["/sdcard/DCIM/Camera/PANO_0001.jpg"] == 50 << 20  # still hashed
    assert not (case / "work" / "d").exists()


def test_a_copy_the_work_disk_cannot_take_is_a_problem_row(tmp_path, monkeypatch):
    monkeypatch.setenv("FORENSICS_SCRATCH_RESERVE_BYTES", str(1 << 62))  # no disk has that much free
    evidence = tmp_path / "phone"
    make_db(evidence / SMS, MMSSMS_SCHEMA)
    case = tmp_path / "case"
    runner = CliRunner()
    assert runner.invoke(main, ["case", "init", str(case)]).exit_code == 0
    result = runner.invoke(main, ["ingest", str(case), str(evidence), "--device-id", "d", "--quiet"])
    assert result.exit_code == 3 and "no-scratch-space" in result.output, result.output
    problems = [json.loads(line) for line in runner.invoke(main, ["export", str(case), "problems"]).output.splitlines()]
    assert [p["kind"] for p in problems] == ["no-scratch-space"]
    assert "FORENSICS_SCRATCH_RESERVE_BYTES" in problems[0]["what"]


def test_a_tar_of_100000_members_is_read_in_flat_memory(tmp_path):
    import io
    import tarfile

    archive = tmp_path / "extraction.tar"
    with tarfile.open(archive, "w") as tar:
        for i in range(100_000):
            tar.addfile(tarfile.TarInfo(f"sdcard/DCIM/.thumbnails/t{i:06d}"), io.BytesIO(b""))
    script = textwrap.dedent(f"""
        from pathlib import Path
        from forensics.archives import TarSource
        before = {PEAK}
        count = sum(1 for entry in TarSource(Path({str(archive)!r})))
        print(count, {PEAK} - before)
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    count, grown = map(int, out.stdout.split())
    assert count == 100_000
    assert grown < 16 * 1024, grown  # KiB; tarfile keeping every header read grew it by about 46 MiB


def test_a_deleted_name_whose_inode_was_reused_is_no_problem():
    from cases.problems import note_kinds

    assert note_kinds("deleted name; its metadata now belongs to another file") == []
    assert note_kinds("deleted name; its metadata now belongs to another file; read error: EIO") == \
        [("read-error", "read error: EIO")]
