"""The schema-less protobuf reader against bytes written by Google's own protobuf library (messages defined at test
time from descriptors), and against truncated and hostile blobs."""
import pytest

from parsers.decoders import protobuf_wire as pw

from tests.fixtures.protobuf_classes import T, message_classes  # skips this module without protobuf


def message_class(name, messages):
    """The ``Root`` message class of ``messages`` (see ``message_classes``)."""
    return message_classes(name, messages)["Root"]


Root = message_class("wire", {
    "Leaf": [(1, "text", T.TYPE_STRING, None, False), (2, "big", T.TYPE_UINT64, None, False)],
    "Mid": [(2, "leaf", T.TYPE_MESSAGE, "Leaf", False), (3, "leaves", T.TYPE_MESSAGE, "Leaf", True)],
    "Root": [(1, "id", T.TYPE_FIXED64, None, False), (4, "mid", T.TYPE_MESSAGE, "Mid", False),
             (5, "flag", T.TYPE_FIXED32, None, False), (6, "neg", T.TYPE_INT64, None, False),
             (7, "raw", T.TYPE_BYTES, None, False)],
})


def sample() -> bytes:
    root = Root(id=0x0102030405060708, flag=7, neg=-2, raw=b"\xff\xfe")
    root.mid.leaf.text = "héllo wörld"
    root.mid.leaf.big = 2**63 + 5
    root.mid.leaves.add(text="first")
    root.mid.leaves.add(text="second")
    return root.SerializeToString()


def test_reads_every_wire_type_written_by_protobuf():
    data = sample()
    top = list(pw.fields(data))
    assert [(f.number, f.wire_type) for f in top] == [(1, 1), (4, 2), (5, 5), (6, 0), (7, 2)]
    assert top[0].value == 0x0102030405060708 and top[2].value == 7
    assert top[3].value == 2**64 - 2  # int64 -2 is a ten-byte varint
    assert pw.text(data, 4, 2, 1) == "héllo wörld"
    assert pw.path(data, 4, 2, 2) == 2**63 + 5
    assert pw.text(data, 4, 3, 1) == "first"  # the first of a repeated field
    assert pw.path(data, 7) == b"\xff\xfe" and pw.text(data, 7) is None  # bytes that are not UTF-8
    assert pw.path(data, 4, 9) is None and pw.path(data, 1, 1) is None  # missing step; a number is not a message


def test_truncated_and_hostile_blobs_are_refused():
    data = sample()
    for cut in (1, 5, 12, len(data) - 1):
        with pytest.raises(pw.ProtobufError):
            list(pw.fields(data[:cut]))
    # a path is read lazily: what lies before the damage is still found, what is cut is not
    assert pw.text(data[:12], 4, 2, 1) is None
    assert pw.text(data[:len(data) - 1], 4, 2, 1) == "héllo wörld"
    with pytest.raises(pw.ProtobufError, match="overlong varint"):
        list(pw.fields(b"\x08" + b"\xff" * 11))
    with pytest.raises(pw.ProtobufError, match="wire type 3"):
        list(pw.fields(b"\x0b"))
    with pytest.raises(pw.ProtobufError, match="field number 0"):
        list(pw.fields(b"\x00\x01"))
    with pytest.raises(pw.ProtobufError, match="runs past the end"):
        list(pw.fields(b"\x0a\xff\xff\xff\xff\x0f"))
    with pytest.raises(pw.ProtobufError, match="more than"):
        list(pw.fields(b"\x08\x01" * (pw.MAX_FIELDS + 1)))
