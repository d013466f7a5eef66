"""Damaged sectors of an image as problems of the device: which partition holds them and which files' content lies
there (found by walking that file system's metadata — only ever done when something is damaged)."""
from __future__ import annotations

import time

import pytsk3

MAX_FILES_NAMED = 10
WALK_SECONDS = 60.0  # a file system too large to map in this time is named without its files


def problems(evidence, damaged: list[dict]) -> list[dict]:
    """One ``corrupt-chunk`` problem per damaged run (``forensics.ewf.ChunkWatch.damaged``), naming its sectors,
    the partition holding them (or ``image`` outside every partition) and the files whose content lies there."""
    found = []
    sources = {address: getattr(source, "fs", None) for address, source in evidence._sources}
    for run in damaged:
        bytes_per_sector = run.get("bytes_per_sector") or 512
        start = run["first_sector"] * bytes_per_sector
        end = (run["last_sector"] + 1) * bytes_per_sector
        chunks = f"chunk {run['first_chunk']}" if run["first_chunk"] == run["last_chunk"] else \
            f"chunks {run['first_chunk']}-{run['last_chunk']}"
        failing = {"unreadable": "cannot be read", "missing": "are not in the set"}.get(run.get("state"),
                                                                                      "fail their checksum")
        what = (f"sectors {run['first_sector']}-{run['last_sector']} ({chunks}"
                f"{', in ' + run['segment'] if run['segment'] else ''}) {failing}: {run['reason']}; "
                f"they read as zeros")
        where = "image"
        for layer in evidence.layers:
            length = layer.length or evidence.media_size
            if layer.kind not in ("partition", "volume") or not (layer.offset < end and start < layer.offset + length):
                continue
            where = layer.address if where == "image" else where
            first = max(start, layer.offset) - layer.offset
            last = min(end, layer.offset + length) - layer.offset - 1
            named = ", ".join(x for x in (layer.description, layer.fs_type or layer.error) if x)
            what += (f"; {layer.address} ({named})"
                     f" holds them at its sectors {first // bytes_per_sector}-{last // bytes_per_sector}")
            fs = sources.get(layer.address)
            if fs is not None:
                what += _files_text(fs, first, last)
        found.append({"kind": "corrupt-chunk", "where": where, "what": what})
    return found


def _files_text(fs, first: int, last: int) -> str:
    try:
        names, complete = files_on(fs, first, last)
    except (IOError, OSError, RuntimeError) as exc:
        return f"; its files there could not be found ({str(exc).splitlines()[0] if str(exc) else exc})"
    if not names:
        return "; no file's content lies there" + ("" if complete else " as far as could be walked")
    shown = ", ".join(names[:MAX_FILES_NAMED])
    more = len(names) - MAX_FILES_NAMED
    return f"; content of {shown}" + (f" and {more} more" if more > 0 else "") + \
        ("" if complete else " (the file system was not walked to the end)")


def files_on(fs, first: int, last: int) -> tuple[list[str], bool]:
    """Paths of the files whose content blocks overlap bytes ``first``..``last`` of the file system, sorted, and
    whether the whole file system was walked."""
    block = fs.info.block_size
    low, high = first // block, last // block
    deadline = time.monotonic() + WALK_SECONDS
    found: set[str] = set()
    seen: set[int] = set()
    stack = [(fs.open_dir(path="/"), "")]
    while stack:
        directory, parent = stack.pop()
        for entry in directory:
            if time.monotonic() > deadline:
                return sorted(found), False
            info = entry.info
            if info.name is None or info.meta is None or info.name.name in (b".", b".."):
                continue
            name = info.name.name.decode("utf-8", "backslashreplace")
            path = f"{parent}/{name}"
            if info.meta.type == pytsk3.TSK_FS_META_TYPE_DIR:
                if info.meta.addr not in seen:
                    seen.add(info.meta.addr)
                    try:
                        stack.append((entry.as_directory(), path))
                    except (IOError, OSError):
                        pass
                continue
            if _overlaps(entry, low, high):
                found.add(path)
    return sorted(found), True


def _overlaps(entry, low: int, high: int) -> bool:
    try:
        for attribute in entry:
            if not int(attribute.info.flags) & int(pytsk3.TSK_FS_ATTR_NONRES):
                continue
            for run in attribute:
                if int(run.flags) & int(pytsk3.TSK_FS_ATTR_RUN_FLAG_SPARSE):
                    continue
                if run.len and run.addr <= high and low <= run.addr + run.len - 1:
                    return True
    except (IOError, OSError, RuntimeError):
        return False
    return False
