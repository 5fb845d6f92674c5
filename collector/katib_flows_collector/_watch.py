"""The File and TensorFlowEvent collector sidecar: ``python -m katib_flows_collector watch``.

On Kubernetes, Katib's File and TensorFlowEvent collectors read a file inside the trial's pod. katib-flows
runs this command in a native sidecar sharing that folder with the training container; it follows the
metrics file (or event directory) as it grows and prints each metric as a push envelope line, exactly as
:func:`~katib_flows_collector.report_metrics` prints one, so the runner reads the sidecar's log with
``PushParser(require_marker=True)`` like any pushed metrics. Only envelopes go to standard output; problems
go to standard error.

The kubelet sends SIGTERM once the main containers have exited: the sidecar then reads once more (the rest
of the file, a last line without a newline included) and exits 0. It must not crash while following: a
restarted sidecar reads the file from its start again and would print every metric twice, so a malformed
line or event is reported and skipped, and a file that cannot be read yet is retried.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import time
from collections.abc import Callable, Sequence
from types import FrameType
from typing import NoReturn, Protocol, TextIO

from katib_flows_collector._errors import CollectorError
from katib_flows_collector._follow import EventSource, FileSource, Report
from katib_flows_collector._jsonlines import JsonLinesParser
from katib_flows_collector._metric import Metric
from katib_flows_collector._push import PUSH_MARKER, envelope_line
from katib_flows_collector._text import TextParser

__all__ = ["main"]

PROG = "python -m katib_flows_collector"
SKIPPED_PREFIX = "katib-flows collector: skipped: "
_DEFAULT_POLL_SECONDS = 1.0


class Source(Protocol):
    """What the follower polls: metrics completed since the last read; ``final`` reads everything left."""

    def read(self, *, final: bool = False) -> list[Metric]: ...


def report_skipped(message: str) -> None:
    """A skipped line's or event's problem, on standard error (standard output carries only envelopes)."""
    sys.stderr.write(f"{SKIPPED_PREFIX}{message}\n")
    sys.stderr.flush()


class StopRequest:
    """Set by SIGTERM (the kubelet, once the main containers have exited) or SIGINT.

    The handler only sets a flag, which the follower checks between polls: nothing is interrupted midway
    (a read, or an envelope half written), at the cost of stopping up to one poll interval later.
    """

    def __init__(self) -> None:
        self.requested = False

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True


def follow(source: Source, out: TextIO, poll_seconds: float, stop: StopRequest) -> None:
    """Print the source's metrics as they appear until a stop is requested, then what the final read gives."""
    while not stop.requested:
        print_envelopes(source.read(), out)
        time.sleep(poll_seconds)
    print_envelopes(source.read(final=True), out)


def print_envelopes(metrics: Sequence[Metric], out: TextIO) -> None:
    """One push envelope line per metric, flushed at once so the runner sees it while the trial runs.

    The value stays the parsed string (the envelope carries strings verbatim) and the step the parsed one.
    A metric without a time (a text line with no leading timestamp) gets the time it was read, as the
    local runner gives it.
    """
    for metric in metrics:
        timestamp = metric.timestamp.timestamp() if metric.timestamp is not None else time.time()
        out.write(PUSH_MARKER + envelope_line({metric.name: metric.value}, metric.step, timestamp))
        out.flush()


def build_parser() -> argparse.ArgumentParser:
    """The command line; ``watch`` is its only command, so others can come without breaking pod specs."""
    parser = argparse.ArgumentParser(prog=PROG, description="katib-flows metrics collector (standard library only)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    watch = commands.add_parser(
        "watch",
        help="follow a File or TensorFlowEvent collector's path, printing each metric as a push envelope line",
        description="Follow a metrics file or TensorFlow event directory and print each metric as a "
        "push envelope line on standard output; on SIGTERM or SIGINT read once more and exit 0.",
    )
    watch.add_argument("--kind", required=True, choices=("File", "TensorFlowEvent"), help="the collector kind")
    watch.add_argument("--path", required=True, help="the metrics file (File) or event directory (TensorFlowEvent)")
    watch.add_argument("--format", choices=("TEXT", "JSON"), help="File only: the file's format (default TEXT)")
    watch.add_argument(
        "--filter",
        dest="filters",
        action="append",
        metavar="REGEX",
        help="TEXT only, repeatable: a metricsFormat regex (Go syntax) with groups name and value; "
        "Katib's name=value filter by default. Ignored for TensorFlowEvent, as in Katib.",
    )
    watch.add_argument(
        "--metric",
        dest="metrics",
        action="append",
        required=True,
        type=_metric_name,
        metavar="NAME",
        help="repeatable: a metric to collect, the objective first",
    )
    watch.add_argument(
        "--poll-seconds",
        type=_poll_seconds,
        default=_DEFAULT_POLL_SECONDS,
        metavar="SECONDS",
        help=f"how often to read the path (default {_DEFAULT_POLL_SECONDS})",
    )
    watch.set_defaults(fail=watch.error)  # for the checks argparse cannot make, with watch's usage
    return parser


def make_source(args: argparse.Namespace, fail: Callable[[str], NoReturn], report: Report) -> Source:
    """The source the arguments describe; ``fail`` (argparse's ``error``: exit 2) for a bad combination."""
    if args.kind == "TensorFlowEvent":
        if args.format is not None:
            fail("argument --format: applies to --kind File only; remove it for TensorFlowEvent")
        if args.filters:
            _text_parser(args, fail)  # a bad regex is still a mistake worth saying, even if unused
        return EventSource(args.path, args.metrics, report)
    if args.format == "JSON":
        if args.filters:
            fail("argument --filter: applies to --format TEXT only; remove it for a JSON lines file")
        return FileSource(args.path, JsonLinesParser(args.metrics).feed, report)
    return FileSource(args.path, _text_parser(args, fail).feed, report)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; argparse exits 2 for bad arguments, naming the option."""
    parser = build_parser()
    args = parser.parse_args(argv)
    source = make_source(args, args.fail, report_skipped)
    stop = StopRequest()
    stop.install()  # before the first read: a SIGTERM from then on still gets the final read
    follow(source, sys.stdout, args.poll_seconds, stop)
    return 0


def _text_parser(args: argparse.Namespace, fail: Callable[[str], NoReturn]) -> TextParser:
    try:
        return TextParser(args.metrics, args.filters)
    except CollectorError as exc:
        fail(f"argument --filter: {exc}; write a Go regex with two groups, the metric's name and its value")


def _metric_name(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must be a metric's name, got an empty string")
    return text


def _poll_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, like 1.0; got {text!r}")
    return seconds
