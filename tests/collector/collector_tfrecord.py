"""A tiny TensorFlow event file writer for the tests: protobuf encoding and TFRecord framing, stdlib only.

It encodes independently of the reader (only the CRC is shared, and that is checked against published
test vectors), so a misreading of the format shows up as a test failure, not as two matching mistakes.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from pathlib import Path

from katib_flows_collector._crc32c import masked_crc32c

DT_FLOAT, DT_DOUBLE, DT_STRING = 1, 2, 7


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64 as ten bytes, as protobuf does
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def key(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def field_varint(number: int, value: int) -> bytes:
    return key(number, 0) + varint(value)


def field_bytes(number: int, data: bytes) -> bytes:
    return key(number, 2) + varint(len(data)) + data


def field_double(number: int, value: float) -> bytes:
    return key(number, 1) + struct.pack("<d", value)


def field_float(number: int, value: float) -> bytes:
    return key(number, 5) + struct.pack("<f", value)


def shape(*dims: int) -> bytes:
    return b"".join(field_bytes(2, field_varint(1, size)) for size in dims)


def tensor(
    dtype: int,
    values: Sequence[float] = (),
    *,
    dims: Sequence[int] = (),
    encoding: str = "packed",
) -> bytes:
    """A TensorProto; ``encoding`` is ``packed`` (*_val packed), ``unpacked`` or ``content`` (tensor_content)."""
    fmt, number, wire = ("<f", 5, 5) if dtype == DT_FLOAT else ("<d", 6, 1)
    out = field_varint(1, dtype)
    if dims:
        out += field_bytes(2, shape(*dims))
    else:
        out += field_bytes(2, b"")  # a scalar's shape: present and empty
    if encoding == "content":
        out += field_bytes(4, b"".join(struct.pack(fmt, v) for v in values))
    elif encoding == "packed":
        if values:
            out += field_bytes(number, b"".join(struct.pack(fmt, v) for v in values))
    else:
        out += b"".join(key(number, wire) + struct.pack(fmt, v) for v in values)
    return out


def simple_value(tag: str, value: float) -> bytes:
    return field_bytes(1, tag.encode()) + field_float(2, value)


def tensor_value(tag: str, proto: bytes) -> bytes:
    # A metadata field (9) precedes nothing we read; include one to show unknown fields are skipped.
    metadata = field_bytes(1, field_bytes(1, b"scalars"))
    return field_bytes(1, tag.encode()) + field_bytes(9, metadata) + field_bytes(8, proto)


def image_value(tag: str) -> bytes:
    return field_bytes(1, tag.encode()) + field_bytes(4, field_varint(1, 2) + field_bytes(4, b"\x89PNG"))


def event(wall_time: float, step: int = 0, values: Iterable[bytes] = (), *, file_version: str = "") -> bytes:
    out = field_double(1, wall_time)
    if step:
        out += field_varint(2, step)
    if file_version:
        out += field_bytes(3, file_version.encode())
    summary = b"".join(field_bytes(1, value) for value in values)
    if summary:
        out += field_bytes(5, summary)
    return out


def record(data: bytes) -> bytes:
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", masked_crc32c(length)) + data + struct.pack("<I", masked_crc32c(data))


def write_events(path: Path, events: Iterable[bytes], *, header: bool = True) -> Path:
    """Write an event file, starting with the file_version record TensorFlow writes first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = record(event(1_700_000_000.0, file_version="brain.Event:2")) if header else b""
    path.write_bytes(body + b"".join(record(data) for data in events))
    return path
