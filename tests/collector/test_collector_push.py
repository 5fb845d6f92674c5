"""Push collection: report_metrics() writing to a file or to stdout, and the parser reading it back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from katib_flows_collector import (
    METRICS_FILE_ENV,
    PUSH_MARKER,
    TRIAL_NAME_ENV,
    Metric,
    MetricsFormatError,
    PushParser,
    parse_push_line,
    parse_push_lines,
    report_metrics,
)

UTC = timezone.utc


@pytest.fixture
def metrics_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "metrics.jsonl"
    monkeypatch.setenv(METRICS_FILE_ENV, str(path))
    monkeypatch.setenv(TRIAL_NAME_ENV, "trial-abc")
    return path


@pytest.fixture
def outside_a_trial(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(METRICS_FILE_ENV, raising=False)
    monkeypatch.delenv(TRIAL_NAME_ENV, raising=False)


def test_envelope_line_in_the_metrics_file(metrics_file: Path) -> None:
    before = time.time()
    report_metrics({"accuracy": 0.97, "loss": "0.1", "epochs": 3}, step=5)
    report_metrics({"accuracy": 0.98})
    after = time.time()

    first, second = metrics_file.read_text().splitlines()
    envelope = json.loads(first)
    assert envelope["metrics"] == {"accuracy": 0.97, "loss": "0.1", "epochs": 3}
    assert (envelope["step"], envelope["trial"]) == (5, "trial-abc")
    assert before <= envelope["timestamp"] <= after
    assert json.loads(second)["step"] is None

    got = parse_push_lines(metrics_file.read_text(), ["accuracy", "loss"])
    assert [(m.name, m.value, m.step) for m in got] == [
        ("accuracy", "0.97", 5),
        ("loss", "0.1", 5),
        ("accuracy", "0.98", 1),
    ]
    assert got[0].timestamp == datetime.fromtimestamp(envelope["timestamp"], tz=UTC)


def test_timestamps_are_sub_second(metrics_file: Path) -> None:
    for _ in range(3):
        report_metrics({"accuracy": 1})
    stamps = [m.timestamp for m in parse_push_lines(metrics_file.read_text())]
    assert len(set(stamps)) == 3  # Katib's second-precision stamps would collide


def test_explicit_timestamp(metrics_file: Path) -> None:
    when = datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=timezone(timedelta(hours=2)))
    report_metrics({"accuracy": 1}, timestamp=when)
    report_metrics({"accuracy": 2}, timestamp=1_700_000_000.25)
    got = parse_push_lines(metrics_file.read_text())
    assert [m.timestamp for m in got] == [when, datetime.fromtimestamp(1_700_000_000.25, tz=UTC)]


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (1, 1),
        (0.5, 0.5),
        ("0.25", "0.25"),
        (" 1e-3 ", "1e-3"),
        ("nan", "nan"),
        (float("nan"), "nan"),  # JSON has no NaN: sent as a string
        (float("-inf"), "-inf"),
        (Decimal("0.125"), 0.125),
        (Fraction(1, 4), 0.25),
    ],
)
def test_accepted_values(metrics_file: Path, value: object, stored: object) -> None:
    report_metrics({"m": value})  # type: ignore[dict-item]
    assert json.loads(metrics_file.read_text())["metrics"] == {"m": stored}


def test_numpy_scalars(metrics_file: Path) -> None:
    np = pytest.importorskip("numpy")
    report_metrics({"a": np.float32(0.5), "b": np.int64(3), "c": np.float64(0.1)})
    assert json.loads(metrics_file.read_text())["metrics"] == {"a": 0.5, "b": 3, "c": 0.1}


@pytest.mark.parametrize(
    ("metrics", "problem"),
    [
        ({"accuracy": True}, "metric 'accuracy' must be a number or a string that parses as one, got True"),
        ({"accuracy": "high"}, "metric 'accuracy' must be a number or a string that parses as one, got 'high'"),
        ({"accuracy": None}, "metric 'accuracy' must be a number"),
        ({"accuracy": [0.5]}, "metric 'accuracy' must be a number"),
        ({}, "metrics must be a non-empty dict"),
        ({"": 1}, "metric names must be non-empty strings"),
        ({3: 1}, "metric names must be non-empty strings"),
    ],
)
def test_rejected_values(metrics_file: Path, metrics: dict[object, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem.replace("[", r"\[")):
        report_metrics(metrics)  # type: ignore[arg-type]
    assert not metrics_file.exists()


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"step": -1}, "step must be a non-negative integer"),
        ({"step": True}, "step must be a non-negative integer"),
        ({"step": 1.0}, "step must be a non-negative integer"),
        ({"timestamp": datetime(2024, 1, 1)}, "timestamp must be timezone-aware"),
        ({"timestamp": "2024-01-01T00:00:00Z"}, "timestamp must be an aware datetime or Unix seconds"),
        ({"timestamp": float("inf")}, "finite number of Unix seconds"),
    ],
)
def test_rejected_step_and_timestamp(metrics_file: Path, kwargs: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        report_metrics({"accuracy": 1}, **kwargs)  # type: ignore[arg-type]


def test_outside_a_trial_it_prints_and_does_not_raise(
    outside_a_trial: None, capsys: pytest.CaptureFixture[str]
) -> None:
    print("before")
    report_metrics({"accuracy": 0.5}, step=2)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "before"
    assert out[1].startswith(PUSH_MARKER)
    assert json.loads(out[1][len(PUSH_MARKER) :])["trial"] is None
    assert [(m.name, m.value, m.step) for m in parse_push_lines("\n".join(out), require_marker=True)] == [
        ("accuracy", "0.5", 2)
    ]


def test_stdout_through_the_file_descriptor(outside_a_trial: None, capfd: pytest.CaptureFixture[str]) -> None:
    print("before", end=" ")  # unflushed text must come out first
    report_metrics({"accuracy": 0.5})
    assert capfd.readouterr().out.startswith(f"before {PUSH_MARKER}{{")


def test_parse_push_line_with_or_without_marker() -> None:
    body = '{"metrics": {"accuracy": 0.5, "note": "x"}, "step": 3, "timestamp": 1700000000.5, "trial": "t"}'
    stamp = datetime.fromtimestamp(1_700_000_000.5, tz=UTC)
    expected = [Metric("accuracy", "0.5", stamp, 3), Metric("note", "x", stamp, 3)]
    assert parse_push_line(body) == expected
    assert parse_push_line(PUSH_MARKER + body) == expected
    assert parse_push_line(f"2024-05-01T12:00:00.123Z {PUSH_MARKER}{body}") == expected  # kubectl logs --timestamps
    assert parse_push_line('{"metrics": {"a": 1}}') == [Metric("a", "1", None, None)]
    assert parse_push_line("   ") == []


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{", "line 7: not valid JSON"),
        ('{"accuracy": 1}', 'line 7: a push envelope needs a "metrics" object'),
        ('{"metrics": [1]}', 'line 7: a push envelope needs a "metrics" object'),
        ('{"metrics": {"a": true}}', "line 7: metric 'a' must be a number or a string"),
        ('{"metrics": {"a": 1}, "step": -2}', 'line 7: "step" must be a non-negative integer, got -2'),
        ('{"metrics": {"a": 1}, "timestamp": "noon"}', "line 7: timestamp must be an RFC 3339 string"),
    ],
)
def test_malformed_envelopes(line: str, problem: str) -> None:
    with pytest.raises(MetricsFormatError, match=problem):
        parse_push_line(PUSH_MARKER + line, line_number=7)


def test_push_parser_filters_names_counts_steps_and_ignores_unmarked_lines() -> None:
    parser = PushParser(["accuracy"], require_marker=True)
    assert parser.feed('{"metrics": {"accuracy": 1}}') == []  # no marker: ordinary output
    assert parser.feed("Epoch 1 loss=2") == []
    got = parser.feed(PUSH_MARKER + '{"metrics": {"accuracy": 1, "loss": 2}}')
    got += parser.feed(PUSH_MARKER + '{"metrics": {"accuracy": 2}, "step": 10}')
    got += parser.feed(PUSH_MARKER + '{"metrics": {"accuracy": 3}}')
    assert [(m.name, m.value, m.step) for m in got] == [
        ("accuracy", "1", 0),
        ("accuracy", "2", 10),
        ("accuracy", "3", 2),
    ]
    assert parser.line_number == 5


# Real processes. The child waits on stdin until every child has started, so their reports overlap.
CHILD = """
import sys
from katib_flows_collector import report_metrics
worker, reports = int(sys.argv[1]), int(sys.argv[2])
sys.stderr.write("ready\\n"); sys.stderr.flush()
sys.stdin.read(1)
print("worker", worker, "starts")
for i in range(reports):
    report_metrics({"worker": worker, **{f"metric_{k:02d}": i / 1000 + k for k in range(30)}}, step=i)
print("worker", worker, "ends")
"""


def child_env(**extra: str) -> dict[str, str]:
    # Without PYTHONUNBUFFERED, a child's prints wait in its stdout buffer: report_metrics must flush them first.
    dropped = (METRICS_FILE_ENV, TRIAL_NAME_ENV, "PYTHONUNBUFFERED")
    return {**{k: v for k, v in os.environ.items() if k not in dropped}, **extra}


def run_workers(workers: int, reports: int, env: dict[str, str], stdout: int) -> None:
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(worker), str(reports)],
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=subprocess.PIPE,
            env=env,
        )
        for worker in range(workers)
    ]
    try:
        for child in children:
            assert child.stderr is not None and child.stderr.readline() == b"ready\n"
        for child in children:
            assert child.stdin is not None
            child.stdin.write(b"g")
            child.stdin.close()
        for child in children:
            assert child.wait(timeout=120) == 0, child.stderr.read() if child.stderr else ""
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
            child.wait()
            if child.stderr:
                child.stderr.close()


def check_reports(lines: list[str], workers: int, reports: int) -> None:
    steps: dict[str, list[int | None]] = {}
    for line in lines:
        metrics = {m.name: m for m in parse_push_line(line)}  # raises if any line is torn
        assert len(metrics) == 31
        steps.setdefault(metrics["worker"].value, []).append(metrics["worker"].step)
    assert steps == {str(w): list(range(reports)) for w in range(workers)}


@pytest.mark.slow
def test_concurrent_processes_append_intact_lines_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    workers, reports = 4, 300
    run_workers(workers, reports, child_env(**{METRICS_FILE_ENV: str(path), TRIAL_NAME_ENV: "t-1"}), subprocess.DEVNULL)
    lines = path.read_text().splitlines()
    assert len(lines) == workers * reports
    assert {json.loads(line)["trial"] for line in lines} == {"t-1"}
    check_reports(lines, workers, reports)


@pytest.mark.slow
def test_concurrent_processes_share_one_stdout_pipe_in_marker_mode() -> None:
    workers, reports = 4, 300
    read_end, write_end = os.pipe()
    output = bytearray()

    def drain() -> None:
        with os.fdopen(read_end, "rb") as stream:
            output.extend(stream.read())

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        # Unbuffered, each print() is several writes, so the workers' own lines get torn and a fragment
        # ("worker") can land just before an envelope; the envelopes themselves must stay whole.
        run_workers(workers, reports, child_env(**{TRIAL_NAME_ENV: "t-2", "PYTHONUNBUFFERED": "1"}), write_end)
    finally:
        os.close(write_end)
        reader.join(timeout=60)
    lines = output.decode().splitlines()
    marked = [line[line.index(PUSH_MARKER) :] for line in lines if PUSH_MARKER in line]
    assert len(marked) == workers * reports
    check_reports(marked, workers, reports)
    assert len(parse_push_lines(output.decode(), ["worker"], require_marker=True)) == workers * reports


@pytest.mark.slow
def test_marker_lines_keep_their_place_among_prints() -> None:
    script = (
        "from katib_flows_collector import report_metrics\n"
        "print('epoch 1')\n"
        "report_metrics({'accuracy': 0.5}, step=1)\n"
        "print('done')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=child_env(**{TRIAL_NAME_ENV: "trial-9"}),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    first, marked, last = result.stdout.splitlines()
    assert (first, last) == ("epoch 1", "done")
    assert json.loads(marked.removeprefix(PUSH_MARKER))["trial"] == "trial-9"
    assert parse_push_lines(result.stdout, ["accuracy"], require_marker=True)[0].value == "0.5"
