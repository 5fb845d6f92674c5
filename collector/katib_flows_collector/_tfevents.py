"""Reads scalar metrics from TensorFlow event files: Katib's TensorFlowEvent collector, without TensorFlow.

Event files are TFRecord files: each record is ``[uint64 length][uint32 masked CRC-32C of length][data]
[uint32 masked CRC-32C of data]``, little-endian, and each payload is a serialized ``Event`` protobuf. Only
what metrics need is decoded: ``Event{wall_time=1, step=2, summary=5}``, ``Summary{value=1}``,
``Summary.Value{tag=1, simple_value=2, tensor=8}`` and a scalar ``TensorProto`` of dtype float (1) or
double (2). Both checksums are verified. A :class:`TFEventReader` that meets a corrupt record gives that
file up from there, as Katib skips a bad file, and goes on with the others: the problem, an
:class:`~katib_flows_collector.EventFileError` with the file and byte offset, waits in ``problems`` for
the caller to report; :func:`read_tf_events` raises the first one instead.

The runners poll a :class:`TFEventReader` while the trial runs (an incomplete record at the end of a file
is left for the next poll) and call ``finish`` after it. Files named
``events.out.tfevents.*`` anywhere under the directory are read, in path order. A metric matches a value
whose tag equals the metric's name, or, Katib's directory rule, ``test/accuracy`` matches tag ``accuracy``
in a file whose directory path ends with ``test`` (the directory may be the collector's path itself).
Unlike Katib, tags must match exactly (Katib takes tags that merely start with the name, so ``loss`` would
also collect ``loss_ema``) and directories by whole path components. Values are written as the shortest
decimal that reads back to the same float32 or float64, as ``str()`` of a NumPy scalar does in Katib.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator, Sequence
from datetime import datetime

from katib_flows_collector._crc32c import masked_crc32c
from katib_flows_collector._errors import EventFileError
from katib_flows_collector._metric import Metric, validate_metric_names
from katib_flows_collector._protowire import FIXED32, FIXED64, LENGTH_DELIMITED, VARINT, ProtobufError, iter_fields
from katib_flows_collector._time import from_unix_seconds

__all__ = ["EVENT_FILE_PREFIX", "TFEventReader", "read_tf_events"]

EVENT_FILE_PREFIX = "events.out.tfevents."
_HEADER = struct.Struct("<QI")
_FOOTER = struct.Struct("<I")
_FLOAT, _DOUBLE = struct.Struct("<f"), struct.Struct("<d")
_DT_FLOAT, _DT_DOUBLE = 1, 2


class TFEventReader:
    """Incremental reader of every event file under ``directory``; remembers how far it read each file."""

    def __init__(self, directory: str | os.PathLike[str], metric_names: Sequence[str]) -> None:
        self.directory = os.path.abspath(directory)
        self.metric_names = validate_metric_names(metric_names)
        #: What went wrong and was skipped, oldest first; the caller reports and clears it.
        self.problems: list[EventFileError] = []
        self._offsets: dict[str, int] = {}
        self._given_up: set[str] = set()

    def poll(self) -> list[Metric]:
        """Return the wanted metrics in records completed since the last poll (none if no directory yet)."""
        metrics: list[Metric] = []
        for path in _event_files(self.directory):
            if path in self._given_up:
                continue
            try:
                self._read_file(path, metrics)
            except EventFileError as exc:  # the records before it count; the file is not read further
                self._given_up.add(path)
                self.problems.append(exc)
        return metrics

    def finish(self) -> list[Metric]:
        """Last poll, once the trial is over: an incomplete record left at a file's end is a problem now."""
        metrics = self.poll()
        for path, offset in self._offsets.items():
            size = os.path.getsize(path)
            if path not in self._given_up and size > offset:
                self._given_up.add(path)
                message = f"truncated: the file ends {size - offset} bytes into an incomplete record"
                self.problems.append(EventFileError(path, offset, message))
        return metrics

    def _read_file(self, path: str, metrics: list[Metric]) -> None:
        dir_parts = os.path.dirname(path).split(os.sep)
        for offset, record in self._read_new_records(path):
            timestamp, step, scalars = _decode_event(record, path, offset)
            for tag, value in scalars:
                metrics.extend(
                    Metric(name, value, timestamp, step) for name in self.metric_names if _matches(name, tag, dir_parts)
                )

    def _read_new_records(self, path: str) -> Iterator[tuple[int, bytes]]:
        # The offset moves past a record only once the caller asks for the next one, i.e. after it has
        # decoded this one: a record that fails to decode stays where it is (its file is then given up).
        offset = self._offsets.setdefault(path, 0)
        with open(path, "rb") as stream:
            stream.seek(offset)
            while True:
                header = stream.read(_HEADER.size)
                if len(header) < _HEADER.size:
                    return
                length, length_crc = _HEADER.unpack(header)
                if masked_crc32c(header[:8]) != length_crc:
                    raise EventFileError(path, offset, "length checksum mismatch: corrupt, or not a TFRecord file")
                body = stream.read(length + _FOOTER.size)
                if len(body) < length + _FOOTER.size:
                    return
                data = body[:length]
                if masked_crc32c(data) != _FOOTER.unpack_from(body, length)[0]:
                    raise EventFileError(path, offset, f"data checksum mismatch in a {length}-byte record: corrupt")
                yield offset, data
                offset += _HEADER.size + length + _FOOTER.size
                self._offsets[path] = offset


def read_tf_events(directory: str | os.PathLike[str], metric_names: Sequence[str]) -> list[Metric]:
    """Read every event file under ``directory`` once (no ``unavailable`` fallback); raise the first problem."""
    reader = TFEventReader(directory, metric_names)
    metrics = reader.finish()
    if reader.problems:
        raise reader.problems[0]
    return metrics


def _event_files(directory: str) -> list[str]:
    found: list[str] = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        found.extend(os.path.join(root, name) for name in sorted(files) if name.startswith(EVENT_FILE_PREFIX))
    return found


def _matches(metric_name: str, tag: str, dir_parts: list[str]) -> bool:
    if tag == metric_name:
        return True
    prefix, slash, base = metric_name.rpartition("/")
    wanted_dirs = [part for part in prefix.split("/") if part]
    return bool(slash and wanted_dirs) and tag == base and dir_parts[-len(wanted_dirs) :] == wanted_dirs


def _decode_event(record: bytes, path: str, offset: int) -> tuple[datetime, int, list[tuple[str, str]]]:
    wall_time, step = 0.0, 0
    scalars: list[tuple[str, str]] = []
    try:
        for number, wire_type, value in iter_fields(memoryview(record)):
            if number == 1 and wire_type == FIXED64 and isinstance(value, memoryview):
                wall_time = _DOUBLE.unpack(value)[0]
            elif number == 2 and wire_type == VARINT and isinstance(value, int):
                step = value - (1 << 64) if value >> 63 else value
            elif number == 5 and wire_type == LENGTH_DELIMITED and isinstance(value, memoryview):
                scalars.extend(_decode_summary(value))
        timestamp = from_unix_seconds(wall_time)
    except (ProtobufError, ValueError, struct.error) as exc:
        raise EventFileError(path, offset, f"not a valid Event protobuf: {exc}") from exc
    return timestamp, step, scalars


def _decode_summary(buf: memoryview) -> Iterator[tuple[str, str]]:
    """(tag, value) of each scalar in a ``Summary``; images, histograms and other tensors are skipped."""
    for number, wire_type, value in iter_fields(buf):
        if number == 1 and wire_type == LENGTH_DELIMITED and isinstance(value, memoryview):
            scalar = _decode_summary_value(value)
            if scalar is not None:
                yield scalar


def _decode_summary_value(buf: memoryview) -> tuple[str, str] | None:
    tag, text = "", None
    for number, wire_type, value in iter_fields(buf):
        if not isinstance(value, memoryview):
            continue
        if number == 1 and wire_type == LENGTH_DELIMITED:
            tag = bytes(value).decode("utf-8", errors="replace")
        elif number == 2 and wire_type == FIXED32:  # simple_value: TF1 summaries and tf.compat.v1
            text = _float32_text(_FLOAT.unpack(value)[0])
        elif number == 8 and wire_type == LENGTH_DELIMITED:  # tensor: TF2 tf.summary.scalar
            text = _decode_scalar_tensor(value)
    return None if text is None else (tag, text)


def _decode_scalar_tensor(buf: memoryview) -> str | None:
    """The value of a float or double ``TensorProto`` holding exactly one element, else ``None``."""
    dtype, elements, content = 0, 1, b""
    values: list[float] = []
    for number, wire_type, value in iter_fields(buf):
        if number == 1 and isinstance(value, int):
            dtype = value
        elif number == 2 and isinstance(value, memoryview):
            elements = _shape_elements(value)
        elif number == 4 and isinstance(value, memoryview):
            content = bytes(value)
        elif number in (5, 6) and isinstance(value, memoryview):  # float_val, double_val; packed or not
            width = _FLOAT if wire_type == FIXED32 or (number == 5 and wire_type == LENGTH_DELIMITED) else _DOUBLE
            values.extend(item for (item,) in width.iter_unpack(value))
    if dtype not in (_DT_FLOAT, _DT_DOUBLE) or elements != 1:
        return None
    codec = _FLOAT if dtype == _DT_FLOAT else _DOUBLE
    if content:
        values = [item for (item,) in codec.iter_unpack(content)]
    if not values:  # no content and no *_val: an all-zero tensor, which protobuf does not write
        values = [0.0]
    return _float32_text(values[0]) if dtype == _DT_FLOAT else repr(values[0])


def _shape_elements(buf: memoryview) -> int:
    """Number of elements of a ``TensorShapeProto`` (``dim=2`` repeated, each ``Dim{size=1}``)."""
    elements = 1
    for number, _, dim in iter_fields(buf):
        if number == 2 and isinstance(dim, memoryview):
            size = next((value for field, _, value in iter_fields(dim) if field == 1 and isinstance(value, int)), 0)
            elements *= size
    return elements


def _float32_text(value: float) -> str:
    """Shortest decimal that reads back as the same float32 (``0.1``, not ``0.10000000149011612``)."""
    for digits in range(1, 10):
        candidate = float(f"{value:.{digits}g}")
        try:
            if _FLOAT.unpack(_FLOAT.pack(candidate))[0] == value:
                return repr(candidate)
        except OverflowError:  # rounded past the largest float32
            continue
    return repr(value)  # nan and inf compare unequal to themselves
