"""Every real image in ../shared/testdata that The Sleuth Kit can read is inventoried, and for each file system the
set of paths equals what TSK's own ``fls -r -p`` prints for it; non-images fail cleanly."""
import shutil
import subprocess

import pytest

from forensics.evidence import EvidenceError, open_evidence
from forensics.integrity import hash_evidence
from tests.conftest_paths import TESTDATA

IMAGES = [
    "sleuthkit+sleuthkit/test/data/image.dd",
    "sleuthkit+sleuthkit/test/data/image.E01",
    "sleuthkit+sleuthkit/test/data/image.vmdk",
    "sleuthkit+sleuthkit/test/data/image.qcow",
    "py4n6+pytsk/test_data/image.raw",
    "log2timeline+dfvfs/test_data/ext2.E01",
    "log2timeline+dfvfs/test_data/ext2.splitraw.000",
    "log2timeline+dfvfs/test_data/ext2.qcow2",
    "log2timeline+dfvfs/test_data/ext2.vmdk",
    "log2timeline+dfvfs/test_data/iso9660.raw",
    "log2timeline+dfvfs/test_data/windows_volume.qcow2",
    "log2timeline+plaso/test_data/image.E01",
    "log2timeline+plaso/test_data/image-split.E01",
    "log2timeline+plaso/test_data/image.qcow2",
    "log2timeline+plaso/test_data/image.vmdk",
    "log2timeline+plaso/test_data/tsk_volume_system.raw",
    "log2timeline+plaso/test_data/vsstest.qcow2",
]
BOGUS = ["py4n6+pytsk/test_data/bogus.raw", "log2timeline+dfvfs/test_data/bogus.001"]


def _need(path):
    if not TESTDATA.exists():
        pytest.skip(f"shared third-party test data absent ({TESTDATA})")
    if not shutil.which("fls"):
        pytest.skip("The Sleuth Kit's fls is not installed (Debian package sleuthkit)")
    assert path.exists(), f"listed test image missing: {path}"


def _fls_paths(image, sector_offset) -> set[str]:
    out = subprocess.run(["fls", "-r", "-p", "-o", str(sector_offset), str(image)], capture_output=True,
                         check=True).stdout.decode("utf-8", "surrogateescape")
    return {"/" + line.split("\t", 1)[1] for line in out.splitlines() if "\t" in line}


def _fls_input(evidence, tmp_path):
    """fls reads raw, split raw, EWF and VMDK itself; a QCOW image is handed to it as its media dumped to raw."""
    if evidence.container != "qcow2":
        return evidence.paths[0]
    raw = tmp_path / "media.raw"
    with open(raw, "wb") as out:
        for chunk in evidence.byte_chunks():
            out.write(chunk)
    return raw


@pytest.mark.parametrize("name", IMAGES)
def test_inventory_paths_equal_fls(name, tmp_path):
    path = TESTDATA / name
    _need(path)
    evidence = open_evidence([path])
    try:
        fls_input = _fls_input(evidence, tmp_path)
        layers = {layer.address: layer for layer in evidence.layers}
        checked = 0
        for address, source in evidence.sources():
            ours = [entry.path for entry in source]
            assert len(ours) == len(set(ours)), "an entry was listed twice"
            assert set(ours) == _fls_paths(fls_input, layers[address].offset // 512), address
            checked += 1
        assert checked >= 1
    finally:
        evidence.close()


def test_ntfs_named_streams_and_orphans_are_entries():
    path = TESTDATA / "log2timeline+dfvfs/test_data/windows_volume.qcow2"
    _need(path)
    evidence = open_evidence([path])
    try:
        entries = {e.path: e for _, source in evidence.sources() for e in source}
        with entries["/$Secure:$SDS"].open() as stream:
            sds = stream.read()
    finally:
        evidence.close()
    assert len(sds) == entries["/$Secure:$SDS"].size
    assert entries["/$Secure:$SDS"].inode == "9-128-2" and entries["/$Secure:$SDS"].size > 0
    assert "/$Secure" not in entries  # only named attributes: no plain entry, as fls lists it
    assert entries["/$BadClus:$Bad"].inode == "8-128-1"
    assert "/$OrphanFiles" in entries and not entries["/$OrphanFiles/OrphanFile-16"].allocated


def test_same_media_in_every_container_hashes_alike():
    names = ["log2timeline+dfvfs/test_data/ext2.E01", "log2timeline+dfvfs/test_data/ext2.qcow2",
             "log2timeline+dfvfs/test_data/ext2.vmdk", "log2timeline+dfvfs/test_data/ext2.splitraw.000"]
    for name in names:
        _need(TESTDATA / name)
    results = []
    for name in names:
        evidence = open_evidence([TESTDATA / name])
        try:
            results.append((evidence.container, hash_evidence(evidence)))
        finally:
            evidence.close()
    assert [c for c, _ in results] == ["ewf", "qcow2", "vmdk", "split raw"]
    assert len({h["sha256"] for _, h in results}) == 1
    ewf = results[0][1]
    assert ewf["hash_verified"] is True and ewf["stored_md5"] == ewf["md5"]
    assert all(h["hash_verified"] is None for _, h in results[1:])


def test_multi_segment_e01_reads_all_segments():
    path = TESTDATA / "log2timeline+plaso/test_data/image-split.E01"
    _need(path)
    evidence = open_evidence([path])
    try:
        assert [p.name for p in evidence.paths] == ["image-split.E01", "image-split.E02"]
        assert hash_evidence(evidence)["hash_verified"] is True
        assert [(layer.address, layer.fs_type, layer.error) for layer in evidence.layers] == [
            ("p1", None, "no file system The Sleuth Kit can read"), ("p2", "ext2", None)]
    finally:
        evidence.close()


@pytest.mark.parametrize("name", BOGUS)
def test_bogus_files_fail_cleanly(name):
    path = TESTDATA / name
    _need(path)
    with pytest.raises(EvidenceError, match="no partition table or file system found"):
        open_evidence([path])
