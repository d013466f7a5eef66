"""Open seized-device evidence read-only, layer by layer: container → volume system → file system, or a logical
source (folder, tar, zip, iOS backup). The result says what was found at each layer and yields the file sources.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import pytsk3

from forensics import archives, containers, filesystems
from forensics.entries import FileEntry
from forensics.hashing import CHUNK
from forensics.volumes import find_volumes


class EvidenceError(Exception):
    """Evidence that cannot be opened or walked: one line for the examiner."""


@dataclass
class Layer:
    """One addressable layer: a partition or bare file system of an image, or a logical source."""

    address: str
    kind: str
    offset: int = 0
    length: int = 0
    description: str = ""
    fs_type: str | None = None
    error: str | None = None
    anomalies: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v not in (None, "", [])}


@dataclass
class Evidence:
    """An opened evidence item. ``sources()`` yields (layer address, iterable of FileEntry)."""

    paths: list[Path]
    container: str
    media_size: int = 0
    layers: list[Layer] = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    problems: list[dict] = field(default_factory=list)  # {kind, where, what}: see docs/problems.md
    _reader: object = None
    _image: object = None  # kept alive as long as the file systems The Sleuth Kit opened on it
    _sources: list = field(default_factory=list)

    def sources(self) -> Iterator[tuple[str, Iterable[FileEntry]]]:
        """Each layer's entries; a source that breaks while being read raises EvidenceError with its reason."""
        for address, source in self._sources:
            yield address, _reading(address, source)

    def collect_anomalies(self) -> list[str]:
        """After the sources were read: what they skipped as hostile (e.g. backup rows whose path climbs out),
        attached to their layers and returned."""
        found = []
        for address, source in self._sources:
            for layer in self.layers:
                if layer.address == address:
                    layer.anomalies = list(getattr(source, "anomalies", []))
                    found += layer.anomalies
                    self.problems += [{"kind": "skipped-entry", "where": address, "what": a}
                                      for a in layer.anomalies]
        return found

    def stored_hashes(self) -> dict[str, str]:
        return self._reader.stored_hashes() if self._reader is not None else {}

    def chunk_watch(self):
        """Something to feed the evidence byte stream that names damaged sectors afterwards (an E01 set's
        ``forensics.ewf.ChunkWatch``), or None for containers that cannot tell."""
        watch = getattr(self._reader, "chunk_watch", None)
        return watch() if watch is not None else None

    def byte_chunks(self) -> Iterator[bytes | memoryview]:
        """The evidence byte stream that its hashes are computed over: the media of an image, the archive file;
        nothing for folders and backups (their files are hashed one by one in the inventory).

        A raw image and an archive are read into one buffer, reused: each chunk is a view of it, valid until the
        next one is asked for (the hash takes each chunk before asking for the next)."""
        if self._reader is not None:
            reader = containers.open_image(self.paths)  # its own handle, so hashing can run beside the walk
            try:
                readinto = getattr(reader, "readinto", None)
                if readinto is not None:
                    yield from _reused_buffer_chunks(lambda buffer, offset: readinto(offset, buffer))
                    return
                offset = 0
                while offset < reader.size:
                    chunk = reader.read(offset, CHUNK * 8)
                    if not chunk:
                        break
                    yield chunk
                    offset += len(chunk)
            finally:
                reader.close()
        elif self.container in ("tar", "zip"):
            with open(self.paths[0], "rb", buffering=0) as f:
                yield from _reused_buffer_chunks(lambda buffer, _offset: f.readinto(buffer))

    def shared_chunks(self) -> Iterator[bytes]:
        """``byte_chunks()``, except for a plain tar: its bytes as the walk of ``sources()`` reads them (one read of
        the file for the hash and the walk, ``forensics.oneread``). Call it before the walk starts; the walk must
        then run to its end, or ``close()`` ends the stream with ``FeedAborted``."""
        if self.container == "tar":
            for _address, source in self._sources:
                chunks = source.shared_chunks()
                if chunks is not None:
                    return chunks
        return self.byte_chunks()

    def end_shared_reads(self) -> None:
        """End the stream of ``shared_chunks()`` (``FeedAborted`` for its reader) if a walk still feeds it."""
        for _address, source in self._sources:
            if hasattr(source, "end_shared_read"):
                source.end_shared_read()

    def close(self) -> None:
        self.end_shared_reads()
        if self._reader is not None:
            self._reader.close()


def _reused_buffer_chunks(readinto: Callable[[memoryview, int], int]) -> Iterator[memoryview]:
    """Views of one buffer filled by ``readinto(buffer, offset)`` again and again until it reads nothing: no new
    bytes object (a fresh allocation, page faults) per chunk of the stream."""
    buffer = memoryview(bytearray(CHUNK * 8))
    offset = 0
    while got := readinto(buffer, offset):
        yield buffer[:got]
        offset += got


def group_paths(paths: list[Path]) -> list[list[Path]]:
    """Several paths given for one device: one split set when they are all plain image segments, else one evidence
    item each."""
    if len(paths) > 1 and all(p.is_file() for p in paths) and \
            all(containers.sniff(p) == "raw" and not archives.is_zip(p) and not archives.is_tar(p) for p in paths):
        return [paths]
    return [[p] for p in paths]


def open_evidence(paths: list[Path], password: str | None = None) -> Evidence:
    """Open one evidence item (a file, a split set, a folder or a backup). Raises EvidenceError."""
    paths = [Path(p) for p in paths]
    first = paths[0]
    if not first.exists():
        raise EvidenceError(f"evidence not found: {first}")
    try:
        if first.is_dir():
            return _open_folder(first, password)
        if len(paths) == 1 and archives.is_zip(first):
            return _logical(paths, "zip", archives.ZipSource(first))
        if len(paths) == 1 and containers.sniff(first) == "raw" and archives.is_tar(first):
            return _logical(paths, "tar", archives.TarSource(first))
        return _open_image(paths)
    except containers.ContainerError as exc:
        raise EvidenceError(str(exc)) from None
    except OSError as exc:
        raise EvidenceError(f"cannot read evidence {first}: {exc.strerror or exc}") from None


def _logical(paths, container: str, source) -> Evidence:
    size = sum(p.stat().st_size for p in paths if p.is_file())
    layer = Layer(source.partition, container, length=size, description=f"{container} extraction")
    return Evidence(paths, container, size, [layer], _sources=[(source.partition, source)])


def _open_folder(root: Path, password: str | None) -> Evidence:
    from forensics import backups

    if backups.is_backup(root):
        try:
            source = backups.BackupSource(root, password=password)
            facts = backups.device_facts(root)
        except backups.BackupError as exc:
            raise EvidenceError(str(exc)) from None
        layer = Layer("backup", "ios backup", description="iTunes/Finder backup" +
                      (" (encrypted)" if facts.get("encrypted") else ""))
        return Evidence([root], "ios backup", 0, [layer], facts=facts, _sources=[("backup", source)])
    from forensics.folders import FolderSource

    return _logical([root], "folder", FolderSource(root))


def _open_image(paths: list[Path]) -> Evidence:
    reader = containers.open_image(paths)
    image = containers.tsk_image(reader)
    evidence = Evidence(list(reader.paths), reader.container, reader.size, _reader=reader, _image=image)
    for volume in find_volumes(image):
        layer = Layer(volume.address, "partition" if volume.address != "fs" else "volume", volume.offset,
                      volume.length, volume.description)
        end = volume.offset + volume.length if volume.address != "fs" else 0
        try:
            fs = pytsk3.FS_Info(image, offset=volume.offset)
        except (IOError, OSError, RuntimeError):
            layer.error = "no file system The Sleuth Kit can read"
            evidence.layers.append(layer)
            evidence.problems.append({"kind": "no-file-system", "where": volume.address,
                                      "what": f"{volume.description or volume.address} at offset {volume.offset}, "
                                              f"{volume.length} bytes: {layer.error}; nothing in it was read"})
            _check_truncated(evidence, volume.address, end)
            continue
        layer.fs_type = filesystems.fs_type_name(fs)
        evidence.layers.append(layer)
        evidence._sources.append((volume.address, _FsSource(fs, volume.address)))
        _check_truncated(evidence, volume.address, max(end, volume.offset + fs.info.block_count * fs.info.block_size))
    if not evidence._sources:
        reader.close()
        if len(evidence.layers) == 1 and evidence.layers[0].address == "fs":
            raise EvidenceError(f"{paths[0].name}: no partition table or file system found "
                                f"(unsupported or corrupt evidence)")
        raise EvidenceError(f"{paths[0].name}: no readable file system in any partition")
    return evidence


def _check_truncated(evidence: Evidence, address: str, end: int) -> None:
    """A partition or file system that claims to reach past the image's last byte: the image is truncated."""
    if end > evidence.media_size:
        evidence.problems.append({
            "kind": "truncated", "where": address,
            "what": f"image is truncated: {address} ends at byte {end} but the image has {evidence.media_size} "
                    f"bytes ({end - evidence.media_size} bytes missing); {address} is partial"})


def _reading(address: str, source: Iterable[FileEntry]) -> Iterator[FileEntry]:
    from forensics.backups import BackupError

    try:
        yield from source
    except (archives.ArchiveError, BackupError) as exc:
        raise EvidenceError(str(exc)) from None
    except OSError as exc:  # The Sleuth Kit on a damaged file system
        raise EvidenceError(f"layer {address} could not be read: {exc}") from None


class _FsSource:
    def __init__(self, fs, partition: str):
        self.fs = fs
        self.partition = partition

    def __iter__(self) -> Iterator[FileEntry]:
        return filesystems.walk(self.fs, self.partition)
