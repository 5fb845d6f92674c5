"""The few pieces of the protobuf wire format the TensorFlow event reader needs, without protobuf.

:func:`iter_fields` walks one message's fields; the event reader (``_tfevents``) picks the fields it knows
and skips the rest, as any protobuf parser does with unknown fields. Only the four wire types in use
today are supported; the deprecated group types raise :class:`ProtobufError`.
"""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["FIXED32", "FIXED64", "LENGTH_DELIMITED", "VARINT", "ProtobufError", "iter_fields", "read_varint"]

VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5


class ProtobufError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def read_varint(buf: memoryview, pos: int) -> tuple[int, int]:
    """Decode the varint at ``pos``; return (value as unsigned 64-bit, position after it)."""
    value = shift = 0
    while True:
        if pos >= len(buf):
            raise ProtobufError("truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value & 0xFFFFFFFFFFFFFFFF, pos
        shift += 7
        if shift >= 70:
            raise ProtobufError("varint longer than 10 bytes")


def iter_fields(buf: memoryview) -> Iterator[tuple[int, int, int | memoryview]]:
    """Yield (field number, wire type, value): an int for varints, the raw bytes for everything else."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = read_varint(buf, pos)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise ProtobufError("field number 0")
        value: int | memoryview
        if wire_type == VARINT:
            value, pos = read_varint(buf, pos)
            yield number, wire_type, value
            continue
        if wire_type == LENGTH_DELIMITED:
            size, pos = read_varint(buf, pos)
        elif wire_type == FIXED64:
            size = 8
        elif wire_type == FIXED32:
            size = 4
        else:
            raise ProtobufError(f"unsupported wire type {wire_type} (field {number})")
        if pos + size > end:
            raise ProtobufError(f"field {number} runs past the end of the message")
        yield number, wire_type, buf[pos : pos + size]
        pos += size
