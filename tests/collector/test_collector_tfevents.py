"""TensorFlow event files: TFRecord framing and checksums, scalar decoding, Katib's directory rule."""

from __future__ import annotations

import struct
from datetime import datetime, timezone
from pathlib import Path

import pytest
from collector_tfrecord import (
    DT_DOUBLE,
    DT_FLOAT,
    DT_STRING,
    event,
    field_bytes,
    field_varint,
    image_value,
    record,
    simple_value,
    tensor,
    tensor_value,
    write_events,
)
from katib_flows_collector import EventFileError, Metric, TFEventReader, read_tf_events
from katib_flows_collector._crc32c import crc32c, masked_crc32c
from katib_flows_collector._protowire import ProtobufError, iter_fields

T0 = 1_700_000_000.25


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


@pytest.mark.parametrize(
    ("data", "crc"),
    [
        (b"", 0x00000000),
        (b"123456789", 0xE3069283),
        (bytes(32), 0x8A9136AA),  # RFC 3720, B.4
        (b"\xff" * 32, 0x62A8AB43),
        (bytes(range(32)), 0x46DD794E),
        (bytes(range(31, -1, -1)), 0x113FDB5C),
    ],
)
def test_crc32c_known_vectors(data: bytes, crc: int) -> None:
    assert crc32c(data) == crc


def test_crc32c_is_incremental_and_masking_matches_tensorflow() -> None:
    data = bytes(range(256)) * 3 + b"tail"
    assert crc32c(data[77:], crc32c(data[:77])) == crc32c(data)
    crc = crc32c(b"123456789")
    assert masked_crc32c(b"123456789") == (((crc >> 15) | (crc << 17)) + 0xA282EAD8) % 2**32


def test_simple_value_scalars_with_steps_and_wall_time(tmp_path: Path) -> None:
    write_events(
        tmp_path / "events.out.tfevents.1700000000.host.1.v2",
        [
            event(T0, 0, [simple_value("accuracy", 0.5), simple_value("loss", 2.0)]),
            event(T0 + 1.5, 100, [simple_value("accuracy", 0.9), image_value("input")]),
        ],
    )
    assert read_tf_events(tmp_path, ["accuracy", "loss"]) == [
        Metric("accuracy", "0.5", at(T0), 0),
        Metric("loss", "2.0", at(T0), 0),
        Metric("accuracy", "0.9", at(T0 + 1.5), 100),
    ]


@pytest.mark.parametrize("encoding", ["packed", "unpacked", "content"])
@pytest.mark.parametrize(
    ("dtype", "value", "text"), [(DT_FLOAT, 0.1, "0.1"), (DT_DOUBLE, 0.1, "0.1"), (DT_FLOAT, 3.0, "3.0")]
)
def test_tensor_scalars(tmp_path: Path, encoding: str, dtype: int, value: float, text: str) -> None:
    write_events(
        tmp_path / "events.out.tfevents.1",
        [event(T0, 7, [tensor_value("epoch_accuracy", tensor(dtype, [value], encoding=encoding))])],
    )
    assert read_tf_events(tmp_path, ["epoch_accuracy"]) == [Metric("epoch_accuracy", text, at(T0), 7)]


def test_float32_values_are_written_as_their_shortest_decimal(tmp_path: Path) -> None:
    values = [0.1, 1e-7, 123456.789, 3.4028234663852886e38, -2.5]
    write_events(
        tmp_path / "events.out.tfevents.1", [event(T0, i, [simple_value("x", v)]) for i, v in enumerate(values)]
    )
    got = [m.value for m in read_tf_events(tmp_path, ["x"])]
    assert got == ["0.1", "1e-07", "123456.79", "3.4028235e+38", "-2.5"]
    for text, value in zip(got, values, strict=True):
        assert struct.unpack("<f", struct.pack("<f", float(text))) == struct.unpack("<f", struct.pack("<f", value))


def test_double_tensor_keeps_full_precision(tmp_path: Path) -> None:
    write_events(
        tmp_path / "events.out.tfevents.1", [event(T0, 1, [tensor_value("x", tensor(DT_DOUBLE, [0.1 + 0.2]))])]
    )
    assert read_tf_events(tmp_path, ["x"])[0].value == "0.30000000000000004"


def test_zero_scalar_tensor_without_values(tmp_path: Path) -> None:
    # Protobuf omits a packed field with zero elements; a scalar 0.0 in tensor_content is not omitted.
    write_events(tmp_path / "events.out.tfevents.1", [event(T0, 1, [tensor_value("x", tensor(DT_FLOAT, []))])])
    assert [m.value for m in read_tf_events(tmp_path, ["x"])] == ["0.0"]


def test_non_scalar_and_non_float_tensors_are_skipped(tmp_path: Path) -> None:
    write_events(
        tmp_path / "events.out.tfevents.1",
        [
            event(T0, 1, [tensor_value("x", tensor(DT_FLOAT, [1.0, 2.0], dims=[2]))]),
            event(T0, 2, [tensor_value("x", tensor(DT_FLOAT, [1.0], dims=[3]))]),  # [1, 1, 1] stored once
            event(T0, 3, [tensor_value("x", field_varint(1, DT_STRING) + field_bytes(8, b"text"))]),
            event(T0, 4, [tensor_value("x", tensor(DT_DOUBLE, [4.0], dims=[1, 1]))]),
        ],
    )
    assert [(m.value, m.step) for m in read_tf_events(tmp_path, ["x"])] == [("4.0", 4)]


def test_negative_step_and_large_step(tmp_path: Path) -> None:
    write_events(
        tmp_path / "events.out.tfevents.1",
        [event(T0, -1, [simple_value("x", 1.0)]), event(T0, 2**40, [simple_value("x", 2.0)])],
    )
    assert [m.step for m in read_tf_events(tmp_path, ["x"])] == [-1, 2**40]


def test_directory_prefix_rule(tmp_path: Path) -> None:
    """Katib's TFJob mnist-with-summaries: ``test/accuracy`` is tag ``accuracy`` under a ``test`` dir."""
    write_events(tmp_path / "train" / "events.out.tfevents.1", [event(T0, 1, [simple_value("accuracy", 0.8)])])
    write_events(tmp_path / "test" / "events.out.tfevents.1", [event(T0, 1, [simple_value("accuracy", 0.7)])])
    write_events(tmp_path / "mytest" / "events.out.tfevents.1", [event(T0, 1, [simple_value("accuracy", 0.1)])])
    write_events(tmp_path / "events.out.tfevents.2", [event(T0, 1, [simple_value("test/accuracy", 0.6)])])

    got = read_tf_events(tmp_path, ["test/accuracy", "train/accuracy"])
    # Files in path order: events.out.tfevents.2 (root), mytest/, test/, train/.
    assert [(m.name, m.value) for m in got] == [
        ("test/accuracy", "0.6"),  # plain tag match
        ("test/accuracy", "0.7"),
        ("train/accuracy", "0.8"),
    ]
    # A plain name matches its tag in every directory; tags must match exactly (no "accuracy_1").
    assert [m.value for m in read_tf_events(tmp_path, ["accuracy"])] == ["0.1", "0.7", "0.8"]
    # The collector's directory itself counts: Katib's example collects from /logs/test.
    assert [m.value for m in read_tf_events(tmp_path / "test", ["test/accuracy"])] == ["0.7"]
    assert [m.value for m in read_tf_events(tmp_path, ["other/test/accuracy"])] == []


def test_only_event_files_are_read(tmp_path: Path) -> None:
    write_events(tmp_path / "events.out.tfevents.1", [event(T0, 1, [simple_value("x", 1.0)])])
    (tmp_path / "checkpoint").write_bytes(b"\x00garbage")
    (tmp_path / "notes.txt").write_text("x=2")
    assert [m.value for m in read_tf_events(tmp_path, ["x"])] == ["1.0"]


def test_missing_directory_gives_nothing(tmp_path: Path) -> None:
    assert read_tf_events(tmp_path / "absent", ["x"]) == []


def test_length_checksum_corruption(tmp_path: Path) -> None:
    path = write_events(tmp_path / "events.out.tfevents.1", [event(T0, 1, [simple_value("x", 1.0)])])
    data = bytearray(path.read_bytes())
    second = len(record(event(1_700_000_000.0, file_version="brain.Event:2")))
    data[second] ^= 0x01  # the second record's length
    path.write_bytes(bytes(data))
    with pytest.raises(EventFileError, match=f"record at byte {second}: length checksum mismatch") as caught:
        read_tf_events(tmp_path, ["x"])
    assert caught.value.path == str(path)


def test_data_checksum_corruption(tmp_path: Path) -> None:
    path = write_events(tmp_path / "events.out.tfevents.1", [event(T0, 1, [simple_value("x", 1.0)])])
    data = bytearray(path.read_bytes())
    data[-6] ^= 0x40  # inside the float of the last record
    path.write_bytes(bytes(data))
    with pytest.raises(EventFileError, match=r"events\.out\.tfevents\.1: record at byte \d+: data checksum mismatch"):
        read_tf_events(tmp_path, ["x"])


def test_garbage_with_valid_checksums_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "events.out.tfevents.1"
    path.write_bytes(record(b"\x0a\xff\xff"))  # field 1, length-delimited, runs past the end
    with pytest.raises(EventFileError, match="record at byte 0: not a valid Event protobuf"):
        read_tf_events(tmp_path, ["x"])


def test_polling_leaves_a_partial_record_for_later(tmp_path: Path) -> None:
    first = record(event(T0, 1, [simple_value("x", 1.0)]))
    second = record(event(T0 + 1, 2, [simple_value("x", 2.0)]))
    path = tmp_path / "events.out.tfevents.1"
    reader = TFEventReader(tmp_path, ["x"])
    assert reader.poll() == []

    path.write_bytes(first + second[:5])  # the header itself is incomplete
    assert [m.step for m in reader.poll()] == [1]
    with path.open("ab") as stream:
        stream.write(second[5:20])  # header complete, data not
    assert reader.poll() == []
    finished = TFEventReader(tmp_path, ["x"])
    assert [m.step for m in finished.finish()] == [1]  # what came before the cut is kept
    [problem] = finished.problems
    assert "truncated: the file ends 20 bytes into an incomplete record" in str(problem)
    with path.open("ab") as stream:
        stream.write(second[20:])
    assert [m.step for m in reader.poll()] == [2]
    assert reader.finish() == []


def test_new_files_are_picked_up_by_later_polls(tmp_path: Path) -> None:
    reader = TFEventReader(tmp_path, ["x"])
    write_events(tmp_path / "events.out.tfevents.1", [event(T0, 1, [simple_value("x", 1.0)])])
    assert [m.value for m in reader.poll()] == ["1.0"]
    write_events(tmp_path / "eval" / "events.out.tfevents.2", [event(T0, 2, [simple_value("x", 2.0)])])
    assert [m.value for m in reader.poll()] == ["2.0"]
    assert reader.poll() == []


def test_protowire_rejects_groups_and_truncation() -> None:
    with pytest.raises(ProtobufError, match="unsupported wire type 3"):
        list(iter_fields(memoryview(b"\x0b")))
    with pytest.raises(ProtobufError, match="truncated varint"):
        list(iter_fields(memoryview(b"\x08\x80")))
    with pytest.raises(ProtobufError, match="field number 0"):
        list(iter_fields(memoryview(b"\x00\x01")))


def test_cross_check_with_tensorboard(tmp_path: Path) -> None:
    """TensorBoard (a dev dependency) reads our files, and we read its files."""
    from tensorboard.backend.event_processing import event_accumulator  # type: ignore[import-not-found]
    from tensorboard.compat.proto import event_pb2, summary_pb2  # type: ignore[import-not-found]
    from tensorboard.summary.writer.event_file_writer import EventFileWriter  # type: ignore[import-not-found]

    ours = write_events(tmp_path / "ours" / "events.out.tfevents.1", [event(T0, 3, [simple_value("loss", 0.25)])])
    accumulator = event_accumulator.EventAccumulator(str(ours))
    accumulator.Reload()
    [scalar] = accumulator.Scalars("loss")
    assert (scalar.step, scalar.value, scalar.wall_time) == (3, 0.25, T0)

    writer = EventFileWriter(str(tmp_path / "theirs"))
    summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="loss", simple_value=0.5)])
    writer.add_event(event_pb2.Event(wall_time=T0, step=4, summary=summary))
    writer.close()
    assert read_tf_events(tmp_path / "theirs", ["loss"]) == [Metric("loss", "0.5", at(T0), 4)]


def test_a_corrupt_file_is_given_up_and_the_other_files_are_still_read(tmp_path: Path) -> None:
    bad = write_events(tmp_path / "events.out.tfevents.1", [event(T0, 1, [simple_value("x", 1.0)]),
                                                          event(T0 + 1, 2, [simple_value("x", 2.0)])])  # fmt: skip
    data = bytearray(bad.read_bytes())
    data[-6] ^= 0x40  # inside the last record's float: its data checksum fails
    bad.write_bytes(bytes(data))
    good = write_events(tmp_path / "events.out.tfevents.2", [event(T0, 10, [simple_value("x", 10.0)])])
    reader = TFEventReader(tmp_path, ["x"])
    assert [m.step for m in reader.poll()] == [1, 10]  # before the bad record, and the next file
    [problem] = reader.problems
    assert problem.path == str(bad) and "data checksum mismatch" in str(problem)
    reader.problems.clear()
    with good.open("ab") as stream:
        stream.write(record(event(T0 + 2, 11, [simple_value("x", 11.0)])))
    assert [m.step for m in reader.poll()] == [11] and reader.problems == []  # the bad file is not read again
    assert [m.step for m in reader.finish()] == [] and reader.problems == []
