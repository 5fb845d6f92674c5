"""Push collection: ``report_metrics()`` for training code, and the parser for what it writes.

Training code calls :func:`report_metrics` (Katib's ``kind: Push``). It writes one JSON envelope line per
call, ``{"metrics": {...}, "step": 3, "timestamp": 1700000000.123, "trial": "trial-abc"}``:

* to the file named by ``KATIB_FLOWS_METRICS_FILE`` when the runner set it (the local runner does): one
  ``os.write`` on an ``O_APPEND`` descriptor, so lines from concurrent processes (data-parallel ranks)
  never interleave, and nothing sits in a buffer when the process dies;
* otherwise to standard output, prefixed with :data:`PUSH_MARKER`, where the Kubernetes runner finds it
  in the pod's log. Outside any trial (neither ``KATIB_FLOWS_METRICS_FILE`` nor ``KATIB_TRIAL_NAME`` set,
  e.g. while developing locally) this is still what happens: the line is printed and nothing is raised,
  so the same script runs inside and outside katib-flows. (Katib raises ``ValueError`` there instead.)

The runners read those lines back with :class:`PushParser` (the file) or ``PushParser(require_marker=True)``
(a log that mixes other output). Unlike Katib's second-precision stamps, timestamps are sub-second.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from katib_flows_collector._errors import MetricsFormatError
from katib_flows_collector._jsonlines import json_timestamp, json_value_to_str, load_json_object
from katib_flows_collector._metric import Metric, validate_metric_names
from katib_flows_collector._steps import StepCounter, parse_step
from katib_flows_collector._time import from_unix_seconds

__all__ = [
    "METRICS_FILE_ENV",
    "PUSH_MARKER",
    "TRIAL_NAME_ENV",
    "PushParser",
    "envelope_line",
    "parse_push_line",
    "parse_push_lines",
    "report_metrics",
]

METRICS_FILE_ENV = "KATIB_FLOWS_METRICS_FILE"
"""Set by the runner to the file :func:`report_metrics` appends to."""
TRIAL_NAME_ENV = "KATIB_TRIAL_NAME"
"""Set by the runner (as Katib's webhook does) to the trial's name; recorded in each envelope."""
PUSH_MARKER = "katib-flows-metrics: "
"""Prefix of envelope lines on standard output."""


def report_metrics(
    metrics: Mapping[str, float | int | str],
    step: int | None = None,
    timestamp: datetime | float | None = None,
) -> None:
    """Report metric values from training code; call it as often as you like (every epoch, say).

    Values must be numbers or strings that parse as numbers (``"0.97"``), as Katib requires; anything else,
    booleans included, raises ``ValueError`` naming the metric. ``step`` is a non-negative integer (by
    default the parser numbers each metric's reports 0, 1, 2, ...). ``timestamp`` is an aware datetime or
    Unix seconds, by default now.
    """
    line = envelope_line(_checked_values(metrics), _checked_step(step), _checked_timestamp(timestamp))
    path = os.environ.get(METRICS_FILE_ENV)
    if path:
        _append(path, line.encode())
    else:
        _print(PUSH_MARKER + line)


def envelope_line(metrics: Mapping[str, int | float | str], step: int | None, timestamp: float) -> str:
    """One envelope as a JSON line ending in a newline, without :data:`PUSH_MARKER`; the trial from the environment.

    The only place the envelope is written, so what :func:`report_metrics` writes and what the File and
    TensorFlowEvent sidecar (``python -m katib_flows_collector watch``) prints are the same format, which
    :class:`PushParser` reads. The arguments must already be valid: finite numbers or strings, a
    non-negative step or ``None``, Unix seconds.
    """
    envelope = {
        "metrics": dict(metrics),
        "step": step,
        "timestamp": timestamp,
        "trial": os.environ.get(TRIAL_NAME_ENV) or None,
    }
    return json.dumps(envelope, separators=(",", ":"), allow_nan=False) + "\n"


class PushParser:
    """Streaming parser for envelope lines; :meth:`feed` it each line of the metrics file or log.

    With ``metric_names``, other metrics are dropped; with ``require_marker``, lines without
    :data:`PUSH_MARKER` are ignored (a pod log). A malformed envelope raises
    :class:`~katib_flows_collector.MetricsFormatError`.
    """

    def __init__(self, metric_names: Sequence[str] | None = None, *, require_marker: bool = False) -> None:
        self.metric_names = None if metric_names is None else validate_metric_names(metric_names)
        self.require_marker = require_marker
        self._steps = StepCounter()
        self.line_number = 0

    def feed(self, line: str) -> list[Metric]:
        """Parse one line; metrics get counted steps unless the envelope had a ``step``."""
        self.line_number += 1
        if self.require_marker and PUSH_MARKER not in line:
            return []
        return [
            replace(metric, step=self._steps.next_step(metric.name, metric.step))
            for metric in parse_push_line(line, line_number=self.line_number)
            if self.metric_names is None or metric.name in self.metric_names
        ]


def parse_push_line(line: str, *, line_number: int | None = None) -> list[Metric]:
    """Decode one envelope line (with or without :data:`PUSH_MARKER`); blank gives nothing.

    Each metric's ``step`` is the envelope's (``None`` when it had none): counting is :class:`PushParser`'s.
    """
    marker_at = line.find(PUSH_MARKER)
    payload = line if marker_at < 0 else line[marker_at + len(PUSH_MARKER) :]
    obj = load_json_object(payload, line_number)
    if obj is None:
        return []
    values = obj.get("metrics")
    if not isinstance(values, dict):
        raise MetricsFormatError(line_number, 'a push envelope needs a "metrics" object of name: value')
    step = obj.get("step")
    if step is not None and parse_step(step) is None:
        raise MetricsFormatError(line_number, f'"step" must be a non-negative integer, got {json.dumps(step)}')
    timestamp = json_timestamp(obj.get("timestamp"), line_number)
    return [
        Metric(name, json_value_to_str(value, name, line_number), timestamp, parse_step(step))
        for name, value in values.items()
    ]


def parse_push_lines(
    text: str, metric_names: Sequence[str] | None = None, *, require_marker: bool = False
) -> list[Metric]:
    """Parse a whole metrics file or log at once (no ``unavailable`` fallback)."""
    parser = PushParser(metric_names, require_marker=require_marker)
    return [metric for line in text.split("\n") for metric in parser.feed(line)]


def _checked_values(metrics: Mapping[str, Any]) -> dict[str, int | float | str]:
    if not isinstance(metrics, Mapping) or not metrics:
        raise ValueError(f"metrics must be a non-empty dict of name: value, got {metrics!r}")
    checked: dict[str, int | float | str] = {}
    for name, value in metrics.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"metric names must be non-empty strings, got {name!r}")
        checked[name] = _checked_value(name, value)
    return checked


def _checked_value(name: str, value: object) -> int | float | str:
    problem = f"metric {name!r} must be a number or a string that parses as one, got {value!r}"
    if isinstance(value, bool):
        raise ValueError(problem)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            raise ValueError(problem) from None
        return value.strip()
    try:
        number = float(value)  # type: ignore[arg-type]  # numpy scalars, 0-d tensors, Decimal, Fraction
    except (TypeError, ValueError):
        raise ValueError(problem) from None
    return number if math.isfinite(number) else repr(number)  # JSON has no NaN: send "nan" as a string


def _checked_step(step: object) -> int | None:
    if step is None:
        return None
    if isinstance(step, bool) or not isinstance(step, numbers.Integral) or int(step) < 0:
        raise ValueError(f"step must be a non-negative integer or None, got {step!r}")
    return int(step)


def _checked_timestamp(timestamp: object) -> float:
    if timestamp is None:
        return time.time()
    if isinstance(timestamp, datetime):
        if timestamp.utcoffset() is None:
            raise ValueError(f"timestamp must be timezone-aware (e.g. tzinfo=timezone.utc), got {timestamp!r}")
        return timestamp.timestamp()
    if isinstance(timestamp, (int, float)) and not isinstance(timestamp, bool):
        from_unix_seconds(timestamp)  # the parser must be able to read it back
        return float(timestamp)
    raise ValueError(f"timestamp must be an aware datetime or Unix seconds, got {timestamp!r}")


def _append(path: str, data: bytes) -> None:
    # One write on an O_APPEND descriptor: the kernel appends it whole, so concurrent writers don't interleave.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(fd, data)
        while written < len(data):  # a short write on a regular file: only on a full disk or a signal
            written += os.write(fd, data[written:])
    finally:
        os.close(fd)


def _print(text: str) -> None:
    stream = sys.stdout
    if stream is None:  # pythonw, or a closed stdout: there is nowhere to report to
        return
    try:
        stream.flush()  # earlier prints first, so the log keeps their order
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # replaced by a capture or a notebook: no descriptor
        stream.write(text)
        stream.flush()
        return
    data = text.encode()
    written = os.write(fd, data)  # one write: a line up to PIPE_BUF bytes is atomic on a pipe
    while written < len(data):
        written += os.write(fd, data[written:])
