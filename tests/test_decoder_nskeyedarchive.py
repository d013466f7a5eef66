"""The NSKeyedArchiver resolver on archives built at test time, well-formed and hostile."""
import plistlib

import pytest

from parsers.decoders.nskeyedarchive import unarchive
from tests.fixtures.nskeyedarchive import Date, Obj, keyed_archive


def _archive(objects, root=1):
    return plistlib.dumps({"$archiver": "NSKeyedArchiver", "$version": 100000, "$top": {"root": plistlib.UID(root)},
                           "$objects": objects}, fmt=plistlib.FMT_BINARY)


def test_objects_arrays_dictionaries_dates_and_urls():
    blob = keyed_archive(Obj("Thing", **{"NSString*name": "a", "count": 3, "when": Date(700000000.5),
                                         "list": ["x", Obj("Inner", flag=True)], "missing": None}))
    assert unarchive(blob) == {"NSString*name": "a", "count": 3, "when": {"NS.time": 700000000.5},
                               "list": ["x", {"flag": True}], "missing": None}
    assert unarchive(keyed_archive({"type": "photo_uploaded", "objects": [{"id": 1}]})) == {
        "type": "photo_uploaded", "objects": [{"id": 1}]}
    objects = ["$null", {"NS.keys": [plistlib.UID(2)], "NS.objects": [plistlib.UID(3)]}, "key",
               {"NS.base": plistlib.UID(0), "NS.relative": plistlib.UID(4)}, "https://example.org/a"]
    assert unarchive(_archive(objects)) == {"key": "https://example.org/a"}


def test_hostile_archives_raise_value_error():
    with pytest.raises(ValueError, match="cyclic"):
        unarchive(_archive(["$null", {"self": plistlib.UID(1)}]))
    with pytest.raises(ValueError, match="bad or cyclic"):
        unarchive(_archive(["$null"], root=9))
    with pytest.raises(ValueError, match="not a binary plist"):
        unarchive(b"<plist/>")
    with pytest.raises(ValueError, match="unreadable plist"):
        unarchive(b"bplist00 truncated")
    with pytest.raises(ValueError, match="not an NSKeyedArchiver"):
        unarchive(plistlib.dumps({"a": 1}, fmt=plistlib.FMT_BINARY))
    with pytest.raises(ValueError, match="key and value lists"):
        unarchive(_archive(["$null", {"NS.keys": plistlib.UID(2), "NS.objects": []}, "k"]))


def test_shared_objects_are_resolved_once():
    """A wide diamond-shaped graph would take exponential time if shared objects were resolved per reference."""
    depth = 60
    objects = ["$null"] + [{"a": plistlib.UID(i + 2), "b": plistlib.UID(i + 2)} for i in range(depth)] + ["leaf"]
    result = unarchive(_archive(objects))
    for _ in range(depth):
        assert result["a"] is result["b"]
        result = result["a"]
    assert result == "leaf"
