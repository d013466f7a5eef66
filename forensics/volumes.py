"""Volume systems: the partitions of an image (MBR with extended partitions, GPT, ...) or the whole image when it
holds a bare file system. Each volume has an address (``p1``, ``p2``, ... in table order, or ``fs``) that appears in
every row's provenance.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytsk3


@dataclass(frozen=True)
class Volume:
    address: str
    offset: int
    length: int
    description: str
    scheme: str


_SCHEMES = {
    getattr(pytsk3, "TSK_VS_TYPE_DOS", None): "mbr",
    getattr(pytsk3, "TSK_VS_TYPE_GPT", None): "gpt",
    getattr(pytsk3, "TSK_VS_TYPE_MAC", None): "mac",
    getattr(pytsk3, "TSK_VS_TYPE_BSD", None): "bsd",
    getattr(pytsk3, "TSK_VS_TYPE_SUN", None): "sun",
}


def find_volumes(image: pytsk3.Img_Info) -> list[Volume]:
    """Allocated partitions in table order, or one ``fs`` volume spanning the image when there is no table."""
    try:
        vs = pytsk3.Volume_Info(image)
    except (IOError, OSError, RuntimeError):
        return [Volume("fs", 0, image.get_size(), "no partition table", "none")]
    block = vs.info.block_size
    scheme = _SCHEMES.get(vs.info.vstype, str(vs.info.vstype))
    volumes = []
    for part in vs:
        if not part.flags & pytsk3.TSK_VS_PART_FLAG_ALLOC:
            continue
        description = part.desc.decode("utf-8", "replace") if isinstance(part.desc, bytes) else str(part.desc)
        volumes.append(Volume(f"p{len(volumes) + 1}", part.start * block, part.len * block, description, scheme))
    return volumes
