"""Parses metrics from a JSON lines file: Katib's File collector with ``format: JSON``.

One JSON object per non-empty line, e.g. ``{"accuracy": 0.97, "loss": "0.1", "epoch": 3, "timestamp":
1700000000.5}``. The runners feed lines while the trial runs, like :class:`~katib_flows_collector.TextParser`.
Differences from Katib, which takes a metric only when its value is a JSON string: numbers are accepted too
(written as Python's shortest round-trip ``repr``, so ``0.1`` stays ``"0.1"``); booleans, nulls, arrays and
objects are errors rather than silently skipped. ``timestamp`` is an RFC 3339 string or Unix seconds; an
unreadable one is an error (Katib logs a warning and uses the zero time). A line that is not a JSON object
raises :class:`~katib_flows_collector.MetricsFormatError` naming the line number, as Katib aborts too.
The push envelope parser (``_push``) reuses the value and timestamp rules.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from katib_flows_collector._errors import MetricsFormatError
from katib_flows_collector._metric import Metric, validate_metric_names
from katib_flows_collector._steps import DEFAULT_STEP_NAMES, StepCounter, parse_step
from katib_flows_collector._time import from_unix_seconds, parse_rfc3339

__all__ = ["JsonLinesParser", "parse_json_lines"]

TIMESTAMP_KEY = "timestamp"


class JsonLinesParser:
    """Streaming parser for one trial's JSON lines metrics file; :meth:`feed` it each line."""

    def __init__(self, metric_names: Sequence[str], *, step_names: Sequence[str] = DEFAULT_STEP_NAMES) -> None:
        self.metric_names = validate_metric_names(metric_names)
        self._step_names = tuple(step_names)
        self._steps = StepCounter()
        self.line_number = 0
        """Lines fed so far, empty ones included: the number errors report."""

    def feed(self, line: str) -> list[Metric]:
        """Parse one line; an empty line gives nothing, anything but a JSON object raises."""
        self.line_number += 1
        obj = load_json_object(line, self.line_number)
        if obj is None:
            return []
        timestamp = json_timestamp(obj.get(TIMESTAMP_KEY), self.line_number)
        explicit_step = next((parse_step(obj[name]) for name in self._step_names if name in obj), None)
        return [
            Metric(
                name,
                json_value_to_str(obj[name], name, self.line_number),
                timestamp,
                self._steps.next_step(name, explicit_step),
            )
            for name in self.metric_names
            if name in obj
        ]


def parse_json_lines(
    text: str, metric_names: Sequence[str], *, step_names: Sequence[str] = DEFAULT_STEP_NAMES
) -> list[Metric]:
    """Parse a whole JSON lines file at once (no ``unavailable`` fallback)."""
    parser = JsonLinesParser(metric_names, step_names=step_names)
    return [metric for line in text.split("\n") for metric in parser.feed(line)]


def load_json_object(line: str, line_number: int | None) -> dict[str, Any] | None:
    """Decode one line as a JSON object; ``None`` for a blank line."""
    text = line.strip()
    if not text:
        return None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MetricsFormatError(
            line_number, f"not valid JSON ({exc.msg} at column {exc.colno}): {_excerpt(text)}"
        ) from None
    if not isinstance(obj, dict):
        raise MetricsFormatError(line_number, f"expected a JSON object, got {_json_type(obj)}: {_excerpt(text)}")
    return obj


def json_value_to_str(value: object, name: str, line_number: int | None) -> str:
    """A metric's JSON value as the string stored: strings verbatim, numbers as their shortest repr."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    raise MetricsFormatError(
        line_number, f"metric {name!r} must be a number or a string, got {_json_type(value)} {json.dumps(value)}"
    )


def json_timestamp(value: object, line_number: int | None) -> datetime | None:
    """The ``timestamp`` field: absent (``None``), an RFC 3339 string, or Unix seconds."""
    if value is None:
        return None
    if isinstance(value, str):
        parsed = parse_rfc3339(value.strip())
        if parsed is not None:
            return parsed
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return from_unix_seconds(value)
        except ValueError as exc:
            raise MetricsFormatError(line_number, str(exc)) from None
    raise MetricsFormatError(
        line_number,
        f"timestamp must be an RFC 3339 string like '2024-05-01T12:00:00.5Z' or Unix seconds, got {json.dumps(value)}",
    )


def _json_type(value: object) -> str:
    names = {bool: "a boolean", dict: "an object", list: "an array", str: "a string", type(None): "null"}
    return names.get(type(value), "a number")


def _excerpt(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")
