"""JSON lines metrics (File, format JSON): numbers or strings, timestamps, steps, errors with line numbers."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from katib_flows_collector import JsonLinesParser, LineSplitter, Metric, MetricsFormatError, parse_json_lines

UTC = timezone.utc


def test_katibs_json_test_case() -> None:
    """Katib's file-metricscollector_test.go, "Positive case for logs in JSON format" (cloudml-hypertune)."""
    text = (
        '{"checkpoint_path": "", "global_step": "0", "loss": "0.22082142531871796", "timestamp": 1638422847.28721,'
        ' "trial": "0"}\n'
        '{"acc": "0.9349666833877563", "checkpoint_path": "", "global_step": "0", "timestamp": 1638422847.287801,'
        ' "trial": "0"}\n'
        '{"checkpoint_path": "", "global_step": "1", "loss": "0.1414974331855774",'
        ' "timestamp": "2021-12-02T14:27:50.000035161Z", "trial": "0"}\n'
        '{"acc": "0.9586416482925415", "checkpoint_path": "", "global_step": "1",'
        ' "timestamp": "2021-12-02T14:27:50.000037459Z", "trial": "0"}\n'
        '{"checkpoint_path": "", "global_step": "2", "loss": "0.10683439671993256", "trial": "0"}'
    )
    got = parse_json_lines(text, ["acc", "loss"])
    # Unix seconds are read as seconds (Katib turns .28721 into 28721 nanoseconds).
    assert got == [
        Metric("loss", "0.22082142531871796", datetime(2021, 12, 2, 5, 27, 27, 287210, tzinfo=UTC), 0),
        Metric("acc", "0.9349666833877563", datetime(2021, 12, 2, 5, 27, 27, 287801, tzinfo=UTC), 0),
        Metric("loss", "0.1414974331855774", datetime(2021, 12, 2, 14, 27, 50, 35, tzinfo=UTC), 1),
        Metric("acc", "0.9586416482925415", datetime(2021, 12, 2, 14, 27, 50, 37, tzinfo=UTC), 1),
        Metric("loss", "0.10683439671993256", None, 2),
    ]


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ('"0.97"', "0.97"),
        ('"not a number"', "not a number"),  # strings are kept verbatim, as Katib does
        ("0.1", "0.1"),
        ("1e-05", "1e-05"),
        ("-7.53e-05", "-7.53e-05"),
        ("3", "3"),
        ("12345678901234567890", "12345678901234567890"),
        ("0.30000000000000004", "0.30000000000000004"),
        ("1E300", "1e+300"),
        ("NaN", "nan"),
        ("-Infinity", "-inf"),
    ],
)
def test_values_may_be_numbers_or_strings(raw: str, stored: str) -> None:
    [metric] = parse_json_lines(f'{{"accuracy": {raw}}}', ["accuracy"])
    assert metric.value == stored


@pytest.mark.parametrize(
    ("raw", "kind"), [("true", "a boolean"), ("null", "null"), ("[1]", "an array"), ('{"a": 1}', "an object")]
)
def test_other_values_are_errors_naming_line_and_metric(raw: str, kind: str) -> None:
    text = f'{{"accuracy": 0.5}}\n\n{{"accuracy": {raw}}}'
    with pytest.raises(MetricsFormatError, match=f"line 3: metric 'accuracy' must be a number or a string, got {kind}"):
        parse_json_lines(text, ["accuracy"])


def test_unwanted_keys_are_not_checked() -> None:
    assert parse_json_lines('{"accuracy": 1, "done": true, "extra": null}', ["accuracy"]) == [
        Metric("accuracy", "1", None, 0)
    ]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"accuracy": 0.5', r"line 2: not valid JSON \(Expecting ',' delimiter at column 17\)"),
        ('"accuracy": "0.5"', r"line 2: not valid JSON \(Extra data at column 11\)"),
        ("[0.5]", "line 2: expected a JSON object, got an array"),
        ("0.5", "line 2: expected a JSON object, got a number"),
        ('{"accuracy": 1, "timestamp": "yesterday"}', "line 2: timestamp must be an RFC 3339 string"),
        ('{"accuracy": 1, "timestamp": true}', "line 2: timestamp must be an RFC 3339 string"),
        ('{"accuracy": 1, "timestamp": 1e300}', "line 2: timestamp 1e[+]300 is out of range"),
    ],
)
def test_malformed_lines_name_their_number(line: str, problem: str) -> None:
    parser = JsonLinesParser(["accuracy"])
    parser.feed('{"accuracy": 0.1}')
    with pytest.raises(MetricsFormatError, match=problem) as caught:
        parser.feed(line)
    assert caught.value.line_number == 2


def test_error_excerpt_is_short() -> None:
    with pytest.raises(MetricsFormatError) as caught:
        parse_json_lines("{" + "x" * 500, ["accuracy"])
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ('"2021-12-02T14:27:50.000035161+09:00"', datetime(2021, 12, 2, 5, 27, 50, 35, tzinfo=UTC)),
        ('"2021-12-02T14:27:50Z"', datetime(2021, 12, 2, 14, 27, 50, tzinfo=UTC)),
        ("1638422847", datetime(2021, 12, 2, 5, 27, 27, tzinfo=UTC)),
        ("1638422847.5", datetime(2021, 12, 2, 5, 27, 27, 500000, tzinfo=UTC)),
        ("null", None),
    ],
)
def test_timestamps(stamp: str, expected: datetime | None) -> None:
    [metric] = parse_json_lines(f'{{"accuracy": 1, "timestamp": {stamp}}}', ["accuracy"])
    assert metric.timestamp == expected


def test_steps_explicit_or_counted() -> None:
    text = "\n".join(
        [
            '{"accuracy": 1}',
            '{"accuracy": 2, "epoch": 5}',
            '{"accuracy": 3, "step": "7", "epoch": 1}',
            '{"accuracy": 4, "loss": 1}',
            '{"accuracy": 5, "step": -1}',
        ]
    )
    got = parse_json_lines(text, ["accuracy", "loss"])
    assert [(m.name, m.step) for m in got] == [
        ("accuracy", 0),
        ("accuracy", 5),
        ("accuracy", 7),
        ("accuracy", 3),
        ("loss", 0),
        ("accuracy", 4),
    ]


def test_streaming_with_partial_chunks() -> None:
    text = '{"accuracy": 0.5, "step": 1}\n\n{"accuracy": "0.75"}\r\n{"loss": 2, "accuracy": 1}'
    parser, splitter, got = JsonLinesParser(["accuracy", "loss"]), LineSplitter(), []
    data = text.encode()
    for start in range(0, len(data), 5):
        for line in splitter.push(data[start : start + 5]):
            got += parser.feed(line)
    for line in splitter.flush():
        got += parser.feed(line)
    assert got == parse_json_lines(text, ["accuracy", "loss"])
    assert [(m.name, m.value) for m in got] == [
        ("accuracy", "0.5"),
        ("accuracy", "0.75"),
        ("accuracy", "1"),
        ("loss", "2"),
    ]
    assert parser.line_number == 4
