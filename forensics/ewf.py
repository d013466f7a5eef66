"""Which sectors of an E01 set are damaged: chunks whose stored bytes fail their checksum.

libewf (pyewf) checks every chunk's Adler-32 as it reads it, and when the check fails it hands back zeros for the
whole chunk (its read handle zero-fills on error by default) without telling the caller: pyewf has no call for
libewf's list of checksum errors. So while the evidence stream is hashed, ``ChunkWatch`` notes the chunks that
read as all zeros (a memory compare per chunk, nothing read twice); afterwards, unless the MD5 stored at
acquisition matched the stream (then no chunk can have been damaged), only those chunks are looked up in the
set's table sections and their stored bytes checked here: an uncompressed chunk against the Adler-32 stored after
it, a compressed one by inflating it (zlib checks its own Adler-32 trailer). A zero chunk that checks is a chunk of
zeros; one that does not is damaged, and is named by its sectors.

A chunk pyewf cannot read at all is named with libewf's reason, and the chunks a segment file cut short has lost
with its table are named as not in the set.

The layout read here is that of EWF version 1 as EnCase 2 to 7, FTK Imager, linen and ewfacquire write it (a
checksum after the table entries), as documented by libyal's "Expert Witness Compression Format" specification.
The tables are trusted only when they account for exactly the media's number of chunks; a set they do not
describe (EnCase 1 or SMART tables, an EWF2 ``.Ex01`` set, a table failing its checksum in both copies, several
cut segments) has no chunk reported from them: the stored-hash comparison still shows that something differs.
"""
from __future__ import annotations

import os
import re
import struct
import zlib
from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

SIGNATURES = (b"EVF\x09\x0d\x0a\xff\x00",)
DESCRIPTOR = 76  # section descriptor: type[16], next offset u64, size u64, padding[40], Adler-32 u32
MAX_SECTIONS = 1 << 20  # per segment: a loop in the next-offset chain stops here


def _adler(data: bytes) -> int:
    return zlib.adler32(data) & 0xFFFFFFFF


@dataclass
class _Table:
    first_chunk: int
    segment: int
    entries: array  # raw u32 entries: MSB set when the chunk is compressed, low 31 bits its offset from ``base``
    base: int
    end: int  # where the table's last chunk ends (end of the sectors section holding it, else the table itself)


@dataclass
class _Located:
    segment: int
    offset: int
    length: int  # bytes to read (upper bound for a compressed chunk)
    compressed: bool


@dataclass
class ChunkLayout:
    """Where each chunk of an EWF1 set is stored: parsed from its table sections (``table2`` when ``table`` fails)."""

    paths: list[Path]
    tables: list[_Table] = field(default_factory=list)
    gaps: list[tuple[int, int, str]] = field(default_factory=list)  # (first chunk, count, why) not in the set

    @classmethod
    def read(cls, paths: list[Path], expected_chunks: int | None = None) -> "ChunkLayout":
        """The set's tables, chunks numbered in order across its segments. A segment whose chain of sections
        stops before its ``next`` (or, in the last one, ``done``) section is cut short: when exactly one is and the
        tables hold fewer chunks than ``expected_chunks``, the missing ones are a gap right after that segment's
        chunks (the later segments' chunks are the media's last ones) and are listed in ``gaps``."""
        layout = cls(list(paths))
        chunk = 0
        cut: list[tuple[int, int, str]] = []  # (number of the first table after it, first chunk after it, why)
        for number, path in enumerate(layout.paths):
            with open(path, "rb") as f:
                if f.read(8) not in SIGNATURES:
                    raise ValueError(f"{path.name}: not an EWF version 1 segment")
                sections = _sections(f)
                for index, (kind, offset, size) in enumerate(sections):
                    if kind != b"table":
                        continue
                    parsed = _table(f, offset)
                    if parsed is None and index + 1 < len(sections) and sections[index + 1][0] == b"table2":
                        parsed = _table(f, sections[index + 1][1])
                    if parsed is None:
                        raise ValueError(f"{path.name}: table section at {offset} fails its checksum in both copies")
                    entries, base = parsed
                    if not entries:
                        continue
                    first = base + (entries[0] & 0x7FFFFFFF)
                    holder = [(o, s) for k, o, s in sections if o <= first < o + max(s, DESCRIPTOR)]
                    end = holder[0][0] + holder[0][1] if holder else offset
                    layout.tables.append(_Table(chunk, number, entries, base, end))
                    chunk += len(entries)
                last = sections[-1][0] if sections else b""
                if last not in (b"done", b"next"):
                    size = os.fstat(f.fileno()).st_size
                    cut.append((len(layout.tables), chunk, f"segment file {path.name} is cut short or damaged: "
                                                           f"its sections stop before its end marker ({size} bytes)"))
        missing = (expected_chunks or 0) - chunk
        if missing > 0 and len(cut) == 1:
            tables_before, first_missing, why = cut[0]
            for table in layout.tables[tables_before:]:
                table.first_chunk += missing
            layout.gaps.append((first_missing, missing, why))
        return layout

    @property
    def chunks(self) -> int:
        """Chunks the set accounts for: those in its tables and those known to be missing from it."""
        return sum(len(t.entries) for t in self.tables) + sum(count for _, count, _ in self.gaps)

    def locate(self, chunk: int, chunk_bytes: int) -> _Located | None:
        """Where chunk number ``chunk`` (holding ``chunk_bytes`` bytes of media) is stored, or None."""
        starts = [t.first_chunk for t in self.tables]
        index = bisect_right(starts, chunk) - 1
        if index < 0 or chunk - self.tables[index].first_chunk >= len(self.tables[index].entries):
            return None
        table = self.tables[index]
        position = chunk - table.first_chunk
        raw = table.entries[position]
        offset = table.base + (raw & 0x7FFFFFFF)
        compressed = bool(raw & 0x80000000)
        if position + 1 < len(table.entries):
            end = table.base + (table.entries[position + 1] & 0x7FFFFFFF)
        else:
            end = table.end
        if compressed:
            length = end - offset if end > offset else 0
            length = min(length, 2 * chunk_bytes + 1024)  # a misparsed end never makes a huge read
        else:
            length = chunk_bytes + 4
        return _Located(table.segment, offset, length, compressed) if length > 0 else None

    def chunk_fails(self, chunk: int, chunk_bytes: int) -> str | None:
        """Why the stored bytes of ``chunk`` fail their checksum, None when they check (or cannot be located)."""
        where = self.locate(chunk, chunk_bytes)
        if where is None:
            return None
        with open(self.paths[where.segment], "rb") as f:
            data = os.pread(f.fileno(), where.length, where.offset)
        if where.compressed:
            inflater = zlib.decompressobj()
            try:
                out = inflater.decompress(data, chunk_bytes + 1)
            except zlib.error as exc:
                return f"its compressed data does not inflate ({exc})"
            if not inflater.eof:
                return "its compressed data is cut short"
            if len(out) != chunk_bytes:
                return f"it inflates to {len(out)} bytes instead of {chunk_bytes}"
            return None
        if len(data) < chunk_bytes + 4:
            return "the segment file ends inside it"
        stored = struct.unpack_from("<I", data, chunk_bytes)[0]
        if _adler(data[:chunk_bytes]) != stored:
            return "its Adler-32 checksum does not match its data"
        return None


FILE_HEADER = 13  # signature[8], fields start (1), segment number u16, fields end u16


def segment_faults(paths: list[Path]) -> list[str]:
    """What is wrong with each segment file of a set libewf refused to open, one phrase per faulty file naming it:
    empty or shorter than its file header, not starting with the EWF signature, carrying another segment number
    than its place in the set, or with a chain of sections that stops before its end marker (``next``, or ``done``
    in the last file) — a copy cut short. libewf's own error names at most a segment's index, often nothing."""
    faults = []
    for number, path in enumerate(paths, start=1):
        name = f"segment file {path.name} ({number} of {len(paths)})"
        try:
            with open(path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                head = f.read(FILE_HEADER)
                if size < FILE_HEADER:
                    faults.append(f"{name} is cut short: {size} bytes, less than its {FILE_HEADER}-byte file header")
                    continue
                if head[:8] not in SIGNATURES:
                    faults.append(f"{name} does not start with the EWF signature")
                    continue
                stored = struct.unpack_from("<H", head, 9)[0]
                if stored != number:
                    faults.append(f"{name} says it is segment {stored}")
                    continue
                sections = _sections(f)
        except OSError as exc:
            faults.append(f"{name} cannot be read: {exc.strerror or exc}")
            continue
        if sections and sections[-1][0] in (b"done", b"next"):
            continue
        if not sections:
            where = "its first section descriptor is missing or damaged"
        else:
            kind, offset, length = sections[-1]
            kind = kind.decode("ascii", "replace")
            where = f"its {kind!r} section at offset {offset} runs past the end ({length} bytes)" \
                if offset + length > size else f"its sections stop after the {kind!r} section at offset {offset}"
        faults.append(f"{name} is cut short or damaged: {size} bytes; {where}, before its end marker")
    return faults


def _sections(f) -> list[tuple[bytes, int, int]]:
    """(type, offset, size) of each section of one segment file, following the next-section offsets."""
    found = []
    offset = 13
    size_of_file = os.fstat(f.fileno()).st_size
    while offset + DESCRIPTOR <= size_of_file and len(found) < MAX_SECTIONS:
        head = os.pread(f.fileno(), DESCRIPTOR, offset)
        kind = head[:16].rstrip(b"\0")
        following, size = struct.unpack_from("<QQ", head, 16)
        if _adler(head[:72]) != struct.unpack_from("<I", head, 72)[0]:
            break  # a damaged descriptor: the chain cannot be followed past it
        found.append((kind, offset, size))
        if kind in (b"done", b"next") or following <= offset:
            break
        offset = following
    return found


def _table(f, offset: int) -> tuple[array, int] | None:
    """The entries and base offset of the table (or table2) section at ``offset``; None when a checksum fails."""
    header = os.pread(f.fileno(), 24, offset + DESCRIPTOR)
    if len(header) < 24 or _adler(header[:20]) != struct.unpack_from("<I", header, 20)[0]:
        return None
    count = struct.unpack_from("<I", header, 0)[0]
    base = struct.unpack_from("<Q", header, 8)[0]  # EnCase 6.7 and later; zero before
    if count > (1 << 26):
        return None
    raw = os.pread(f.fileno(), count * 4 + 4, offset + DESCRIPTOR + 24)
    if len(raw) < count * 4:
        return None
    if len(raw) == count * 4 + 4 and _adler(raw[:-4]) != struct.unpack_from("<I", raw, count * 4)[0]:
        return None  # the entries' own checksum (EnCase 3 and later; older sets have none after them)
    entries = array("I", struct.unpack(f"<{count}I", raw[:count * 4]))
    return entries, base


class ChunkWatch:
    """Fed the media stream in order (any buffer sizes): notes which chunks read as all zeros, then checks those."""

    def __init__(self, paths: list[Path], chunk_size: int, media_size: int, bytes_per_sector: int):
        self.paths = [Path(p) for p in paths]
        self.chunk_size = chunk_size
        self.media_size = media_size
        self.bytes_per_sector = bytes_per_sector or 512
        self._zero = bytes(chunk_size)
        self._pending = bytearray()
        self._chunk = 0  # number of the next whole chunk
        self._runs = array("q")  # zero-chunk runs: first, last, first, last...

    def update(self, data: bytes) -> None:
        size = self.chunk_size
        if self._pending:
            need = size - len(self._pending)
            self._pending += data[:need]
            data = data[need:]
            if len(self._pending) < size:
                return
            self._note(bytes(self._pending))
            self._pending = bytearray()
        view = memoryview(data)
        whole = len(data) - len(data) % size
        for start in range(0, whole, size):
            self._note(view[start:start + size])
        if whole < len(data):
            self._pending += view[whole:]

    def _note(self, chunk) -> None:
        # a memoryview compares element by element: its first bytes rule most chunks out, then one memcmp
        if not any(chunk[:16]) and (bytes(chunk) if isinstance(chunk, memoryview) else chunk) == \
                self._zero[:len(chunk)]:
            if self._runs and self._runs[-1] == self._chunk - 1:
                self._runs[-1] = self._chunk
            else:
                self._runs.extend((self._chunk, self._chunk))
        self._chunk += 1

    def candidates(self) -> list[tuple[int, int]]:
        """Runs (first, last) of chunks that read as all zeros."""
        if self._pending:  # the media's last, partial chunk
            self._note(bytes(self._pending))
            self._pending = bytearray()
        return [(self._runs[i], self._runs[i + 1]) for i in range(0, len(self._runs), 2)]

    def damaged(self, hash_verified: bool | None) -> list[dict] | None:
        """The damaged sector ranges: one dict per run of adjacent damaged chunks (``first_sector``,
        ``last_sector``, ``first_chunk``, ``last_chunk``, ``segment``, ``bytes_per_sector``, ``state``: checksum,
        unreadable or missing, and ``reason``). Nothing to check when the stored MD5 matched. None when the
        chunks could not be checked (the set's tables do not describe it) and none was found unreadable: the
        stored-hash comparison still tells."""
        runs = self.candidates()
        if hash_verified is True:
            return []
        expected = -(-self.media_size // self.chunk_size)
        try:
            layout = ChunkLayout.read(self.paths, expected)
            if layout.chunks != expected:
                layout = None  # the tables do not describe this media: nothing they say can be trusted
        except (OSError, ValueError, struct.error):
            layout = None
        found: list[dict] = []
        for first, count, why in layout.gaps if layout is not None else []:
            self._add(found, first, first + count - 1, "", why, "missing")
        handle = _open(self.paths)
        try:
            for first, last in runs:
                for chunk in range(first, last + 1):
                    self._check(chunk, layout, handle, found)
        finally:
            if handle is not None:
                handle.close()
        found.sort(key=lambda run: run["first_chunk"])
        return found if found or layout is not None else None

    def _check(self, chunk: int, layout: ChunkLayout | None, handle, found: list[dict]) -> None:
        chunk_bytes = min(self.chunk_size, self.media_size - chunk * self.chunk_size)
        if chunk_bytes <= 0:
            return
        reason, state = None, "checksum"
        if handle is not None:
            try:
                handle.read_buffer_at_offset(chunk_bytes, chunk * self.chunk_size)
            except (IOError, OSError) as exc:
                reason, state = "libewf: " + _last_reason(exc), "unreadable"
        where = layout.locate(chunk, chunk_bytes) if layout is not None else None
        if reason is None and layout is not None:
            try:
                reason = layout.chunk_fails(chunk, chunk_bytes)
            except OSError as exc:
                reason = f"its segment file cannot be read ({exc.strerror or exc})"
        if reason is None:
            return
        gaps = layout.gaps if layout is not None else []
        if any(first <= chunk < first + count for first, count, _ in gaps):
            return  # already named as missing from the set
        if state == "unreadable" and any(first < chunk for first, _, _ in gaps):
            reason += "; libewf reads no chunk after the chunks not in the set, though this segment file is there"
        self._add(found, chunk, chunk, self.paths[where.segment].name if where else "", reason, state)

    def _add(self, found: list[dict], first: int, last: int, segment: str, reason: str, state: str) -> None:
        """Note chunks first..last as damaged, joined to the run before when adjacent and alike."""
        per_chunk = self.chunk_size // self.bytes_per_sector
        last_sector = min((last + 1) * per_chunk, -(-self.media_size // self.bytes_per_sector)) - 1
        previous = found[-1] if found else None
        if previous and previous["last_chunk"] == first - 1 and previous["segment"] == segment and \
                previous["state"] == state and _shape(previous["reason"]) == _shape(reason):
            previous["last_chunk"] = last
            previous["last_sector"] = last_sector
        else:
            found.append({"first_chunk": first, "last_chunk": last, "first_sector": first * per_chunk,
                          "last_sector": last_sector, "segment": segment, "state": state,
                          "reason": reason, "bytes_per_sector": self.bytes_per_sector})


def _shape(reason: str) -> str:
    """A reason with its numbers blanked: chunks whose reasons differ only by an offset are one run."""
    return re.sub(r"0x[0-9a-fA-F]+|\d+", "#", reason)


def _open(paths: list[Path]):
    """A fresh pyewf handle on the set, or None."""
    try:
        import pyewf

        handle = pyewf.handle()
        handle.open([str(p) for p in paths], "r")
        return handle
    except (ImportError, IOError, OSError):
        return None


def _last_reason(exc: Exception) -> str:
    """libewf's error text is a chain of function-prefixed messages: the first says what failed."""
    text = " ".join(str(exc).split())
    parts = [p.split(": ", 1)[-1] for p in text.split(". ") if p]
    return parts[1] if len(parts) > 1 else (parts[0] if parts else type(exc).__name__)
