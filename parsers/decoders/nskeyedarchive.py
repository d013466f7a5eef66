"""NSKeyedArchiver plists (iOS apps' archived objects) resolved into plain Python values."""
from __future__ import annotations

import plistlib


def unarchive(blob) -> dict:
    """An NSKeyedArchiver plist as plain values: objects become dicts (without ``$class``), NSArray/NSSet lists,
    NSDictionary dicts, NSURL its string; an NSDate stays ``{"NS.time": <Cocoa seconds>}`` so its raw value is kept.

    Raises ValueError for anything that is not a well-formed archive (hostile input: bounds, cycles, depth).
    """
    if not isinstance(blob, bytes) or not blob.startswith(b"bplist"):
        raise ValueError("archive is not a binary plist")
    try:
        top = plistlib.loads(blob)
    except Exception as exc:  # plistlib raises several types on malformed input
        raise ValueError(f"unreadable plist: {exc}") from None
    if not isinstance(top, dict) or top.get("$archiver") != "NSKeyedArchiver":
        raise ValueError("plist is not an NSKeyedArchiver archive")
    objects = top.get("$objects")
    root = top.get("$top", {}).get("root") if isinstance(top.get("$top"), dict) else None
    if not isinstance(objects, list) or not isinstance(root, plistlib.UID):
        raise ValueError("archive has no objects or root")
    done: dict[int, object] = {}
    pending: set[int] = set()

    def resolve(value, depth=0):
        if depth > 200:
            raise ValueError("archive nested too deeply")
        if isinstance(value, plistlib.UID):
            index = value.data
            if index in done:
                return done[index]
            if not 0 <= index < len(objects) or index in pending:
                raise ValueError(f"bad or cyclic object reference {index}")
            pending.add(index)
            obj = objects[index]
            done[index] = None if obj == "$null" else resolve(obj, depth + 1)
            pending.discard(index)
            return done[index]
        if isinstance(value, list):
            return [resolve(v, depth + 1) for v in value]
        if not isinstance(value, dict):
            return value
        if "NS.keys" in value and "NS.objects" in value:
            keys, values = resolve(value["NS.keys"], depth + 1), resolve(value["NS.objects"], depth + 1)
            if not isinstance(keys, list) or not isinstance(values, list):
                raise ValueError("NSDictionary without key and value lists")
            return {str(k): v for k, v in zip(keys, values)}
        if "NS.objects" in value:
            return resolve(value["NS.objects"], depth + 1)
        if "NS.relative" in value:
            return resolve(value["NS.relative"], depth + 1)
        if "NS.string" in value:
            return resolve(value["NS.string"], depth + 1)
        return {k: resolve(v, depth + 1) for k, v in value.items() if k != "$class"}

    result = resolve(root)
    return result if isinstance(result, dict) else {}
