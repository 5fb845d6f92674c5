"""The collector sidecar, ``python -m katib_flows_collector watch``, run as a real process on a growing file.

Each test appends to a metrics file (or event directory) over time, reads the sidecar's standard output as
it comes, checks that metrics arrive while the file is still growing, then stops it with SIGTERM (the
kubelet's signal) and checks the final read. Every line is read back with the runner's own
``PushParser(require_marker=True)``.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pytest
from collector_tfrecord import event, record, simple_value, write_events
from katib_flows_collector import PUSH_MARKER, TRIAL_NAME_ENV, FileSource, Metric, PushParser, TextParser

POLL = "0.05"
TIMEOUT = 15.0
QUIET = 0.4  # eight polls: long enough for a line that should not be printed to have been printed
T0 = 1_700_000_000.25
UTC = timezone.utc


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


@dataclass
class Sidecar:
    """A running ``watch`` process whose standard output is read line by line on a thread."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)
    reader: threading.Thread | None = None

    def start_reading(self) -> None:
        def pump() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                self.lines.put(line)
            self.lines.put(None)

        self.reader = threading.Thread(target=pump, daemon=True)
        self.reader.start()

    def take(self, count: int) -> list[str]:
        """The next ``count`` lines, failing (not hanging) if they do not come within the timeout."""
        taken: list[str] = []
        deadline = time.monotonic() + TIMEOUT
        while len(taken) < count:
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                pytest.fail(f"the sidecar printed {taken!r} in {TIMEOUT}s, expected {count} lines")
            if line is None:
                pytest.fail(f"the sidecar exited (code {self.process.wait()}) after printing {taken!r}")
            taken.append(line)
        return taken

    def assert_quiet(self) -> None:
        time.sleep(QUIET)
        assert self.lines.empty(), f"printed too early: {self.lines.get()!r}"

    def stop(self, signum: int = signal.SIGTERM) -> tuple[int, list[str], str]:
        """Signal the sidecar; return its exit code, the lines it printed from now on, and its stderr."""
        self.process.send_signal(signum)
        code = self.process.wait(timeout=TIMEOUT)
        assert self.reader is not None
        self.reader.join(timeout=TIMEOUT)
        rest = []
        while (line := self.lines.get_nowait()) is not None:
            rest.append(line)
        assert self.process.stderr is not None
        return code, rest, self.process.stderr.read()


StartSidecar = Callable[..., Sidecar]


@pytest.fixture
def start_sidecar() -> Iterator[StartSidecar]:
    """Starts ``watch`` with the given arguments; whatever is still running at the end is killed."""
    started: list[Sidecar] = []

    def start(*args: str, trial: str | None = "trial-7") -> Sidecar:
        env = {k: v for k, v in os.environ.items() if k not in (TRIAL_NAME_ENV, "PYTHONUNBUFFERED")}
        if trial is not None:
            env[TRIAL_NAME_ENV] = trial
        command = [sys.executable, "-m", "katib_flows_collector", "watch", *args, "--poll-seconds", POLL]
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", env=env
        )
        sidecar = Sidecar(process)
        started.append(sidecar)
        sidecar.start_reading()
        return sidecar

    yield start
    for sidecar in started:
        if sidecar.process.poll() is None:
            sidecar.process.kill()
        sidecar.process.wait()
        if sidecar.reader is not None:
            sidecar.reader.join()
        for stream in (sidecar.process.stdout, sidecar.process.stderr):
            if stream is not None:
                stream.close()


def parsed(lines: list[str], names: list[str]) -> list[Metric]:
    """Read the lines as the runner does, checking each is one compact envelope of exactly one metric."""
    parser = PushParser(names, require_marker=True)
    metrics = []
    for line in lines:
        assert line.startswith(PUSH_MARKER) and line.endswith("\n"), line
        payload = line[len(PUSH_MARKER) : -1]
        envelope = json.loads(payload)
        assert list(envelope) == ["metrics", "step", "timestamp", "trial"]
        assert len(envelope["metrics"]) == 1
        assert payload == json.dumps(envelope, separators=(",", ":"))
        got = parser.feed(line.rstrip("\n"))
        assert len(got) == 1, line
        metrics.extend(got)
    return metrics


def triples(metrics: list[Metric]) -> list[tuple[str, str, int | None]]:
    return [(m.name, m.value, m.step) for m in metrics]


def append(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode() if isinstance(text, str) else text
    with path.open("ab") as stream:
        stream.write(data)


def trial_of(line: str) -> object:
    return json.loads(line[len(PUSH_MARKER) :])["trial"]


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_text_file_with_katibs_default_filter(tmp_path: Path, start_sidecar: StartSidecar, signum: int) -> None:
    path = tmp_path / "katib" / "metrics.log"  # not there yet: the training container creates it
    names = ["accuracy", "loss"]
    sidecar = start_sidecar("--kind", "File", "--path", str(path), "--metric", "accuracy", "--metric", "loss")

    before = time.time()
    append(path, "starting\naccuracy=0.5 loss=1.25\n")
    first = sidecar.take(2)
    after = time.time()
    assert triples(parsed(first, names)) == [("accuracy", "0.5", 0), ("loss", "1.25", 0)]
    stamps = [m.timestamp.timestamp() for m in parsed(first, names) if m.timestamp is not None]
    assert len(stamps) == 2 and all(before <= stamp <= after for stamp in stamps)  # no time in the line: now
    assert trial_of(first[0]) == "trial-7"

    append(path, "2024-05-01T12:00:00.5Z epoch=4 accuracy=0.75 loss=0.5\naccuracy=0.8")
    second = parsed(sidecar.take(2), names)
    assert triples(second) == [("accuracy", "0.75", 4), ("loss", "0.5", 4)]
    assert {m.timestamp for m in second} == {datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=UTC)}
    sidecar.assert_quiet()  # the partial last line waits for its newline ...

    code, rest, stderr = sidecar.stop(signum)
    assert (code, stderr) == (0, "")
    assert triples(parsed(rest, names)) == [("accuracy", "0.8", 2)]  # ... or for the end


@pytest.mark.slow
def test_text_file_with_custom_filters(tmp_path: Path, start_sidecar: StartSidecar) -> None:
    path = tmp_path / "metrics.log"
    path.write_text("")
    names = ["accuracy", "loss"]
    sidecar = start_sidecar(
        *("--kind", "File", "--path", str(path), "--format", "TEXT"),
        *("--filter", r"([a-z]+):\s*([0-9.]+)", "--filter", r"\{([[:alpha:]]+)=([0-9.]+)\}"),
        *("--metric", "accuracy", "--metric", "loss"),
        trial=None,
    )

    append(path, "epoch 1 - accuracy: 0.61, loss: 0.9\naccuracy=0.99 is not in the format\n")
    first = sidecar.take(2)
    assert triples(parsed(first, names)) == [("accuracy", "0.61", 0), ("loss", "0.9", 0)]
    assert trial_of(first[0]) is None

    append(path, "{accuracy=0.72}\n{loss=0.4}")
    assert triples(parsed(sidecar.take(1), names)) == [("accuracy", "0.72", 1)]
    sidecar.assert_quiet()

    code, rest, stderr = sidecar.stop()
    assert (code, stderr) == (0, "")
    assert triples(parsed(rest, names)) == [("loss", "0.4", 1)]


@pytest.mark.slow
def test_json_lines_file_keeps_steps_and_times_and_skips_a_bad_line(
    tmp_path: Path, start_sidecar: StartSidecar
) -> None:
    path = tmp_path / "metrics.jsonl"
    names = ["accuracy", "loss"]
    sidecar = start_sidecar(
        *("--kind", "File", "--path", str(path), "--format", "JSON", "--metric", "accuracy", "--metric", "loss")
    )

    append(path, json.dumps({"loss": 2, "accuracy": 0.5, "step": 10, "timestamp": T0}) + "\nnot json\n")
    first = parsed(sidecar.take(2), names)
    assert triples(first) == [("accuracy", "0.5", 10), ("loss", "2", 10)]
    assert {m.timestamp for m in first} == {at(T0)}

    append(path, '{"accuracy": "0.75", "step": 20, "timestamp": "2024-05-01T12:00:00Z"}\n{"accuracy": 0.9, "step"')
    second = parsed(sidecar.take(1), names)
    assert triples(second) == [("accuracy", "0.75", 20)]
    assert second[0].timestamp == datetime(2024, 5, 1, 12, tzinfo=UTC)
    sidecar.assert_quiet()

    append(path, ": 30}")
    code, rest, stderr = sidecar.stop()
    assert code == 0
    assert triples(parsed(rest, names)) == [("accuracy", "0.9", 30)]
    assert stderr.startswith(f"katib-flows collector: skipped: {path}: line 2: not valid JSON")
    assert len(stderr.splitlines()) == 1


@pytest.mark.slow
def test_tensorflow_event_directory(tmp_path: Path, start_sidecar: StartSidecar) -> None:
    directory = tmp_path / "tfevent"  # not there yet
    names = ["accuracy", "loss"]
    sidecar = start_sidecar(
        *("--kind", "TensorFlowEvent", "--path", str(directory), "--metric", "accuracy", "--metric", "loss"),
        *("--filter", r"(\w+)=(\S+)"),  # allowed with TensorFlowEvent by the spec, and ignored, as in Katib
    )

    events = directory / "events.out.tfevents.1700000000.host.1.v2"
    write_events(events, [event(T0, 1, [simple_value("accuracy", 0.5), simple_value("loss", 2.0)])])
    first = parsed(sidecar.take(2), names)
    assert triples(first) == [("accuracy", "0.5", 1), ("loss", "2.0", 1)]
    assert {m.timestamp for m in first} == {at(T0)}

    growing = record(event(T0 + 1, 2, [simple_value("accuracy", 0.75)]))
    append(events, growing[:10])
    sidecar.assert_quiet()  # an incomplete record waits for the rest
    append(events, growing[10:])
    second = parsed(sidecar.take(1), names)
    assert triples(second) == [("accuracy", "0.75", 2)]
    assert second[0].timestamp == at(T0 + 1)

    cut_short = record(event(T0 + 3, 4, [simple_value("accuracy", 1.0)]))
    append(events, record(event(T0 + 2, 3, [simple_value("loss", 0.125)])) + cut_short[:-3])
    code, rest, stderr = sidecar.stop()  # whether a poll or the final read finds the last full record
    assert code == 0
    assert triples(parsed(rest, names)) == [("loss", "0.125", 3)]
    assert stderr.startswith(f"katib-flows collector: skipped: {events}: record at byte")
    assert "truncated" in stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--kind", "File", "--filter", "(unclosed", "--metric", "accuracy"], "--filter"),
        (["--kind", "File", "--filter", "([a-z]+)", "--metric", "accuracy"], "--filter"),
        (["--kind", "File", "--format", "JSON", "--filter", "(a)=(b)", "--metric", "accuracy"], "--filter"),
        (["--kind", "TensorFlowEvent", "--format", "TEXT", "--metric", "accuracy"], "--format"),
        (["--kind", "File"], "--metric"),
        (["--kind", "File", "--metric", ""], "--metric"),
        (["--kind", "StdOut", "--metric", "accuracy"], "--kind"),
        (["--kind", "File", "--metric", "accuracy", "--poll-seconds", "0"], "--poll-seconds"),
    ],
)
def test_bad_arguments_exit_2_naming_the_option(tmp_path: Path, args: list[str], option: str) -> None:
    command = [sys.executable, "-m", "katib_flows_collector", "watch", "--path", str(tmp_path / "m.log"), *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"error: argument {option}" in result.stderr or f"required: {option}" in result.stderr


def test_a_file_that_cannot_be_read_is_said_once_while_it_lasts(tmp_path: Path) -> None:
    path = tmp_path / "metrics.log"
    path.mkdir()  # a directory where the file should be: every read fails the same way
    said: list[str] = []
    source = FileSource(str(path), TextParser(["accuracy"]).feed, said.append)
    assert source.read() == [] and source.read() == [] and source.read(final=True) == []
    assert len(said) == 1 and said[0].startswith(f"cannot read {path}: ")
    path.rmdir()
    path.write_text("accuracy=0.5\n")
    assert [m.value for m in source.read()] == ["0.5"] and len(said) == 1
    path.unlink()
    path.mkdir()  # unreadable again: said again
    assert source.read() == [] and len(said) == 2
