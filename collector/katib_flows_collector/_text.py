"""Parses metrics from text output: Katib's StdOut collector and its File collector in TEXT format.

The runners feed it the trial's output line by line while the trial runs (early stopping reads the
metrics as they appear) and call :func:`~katib_flows_collector.apply_unavailable_fallback` at the end.
Katib's rules (``pkg/metricscollector/v1beta1/file-metricscollector``), per line:

1. Skip the line unless it contains one of the wanted metric names as a substring.
2. If its first space-separated token is an RFC 3339 timestamp, that is the metrics' time.
3. Find all matches of every filter (Katib's default filter if none is given; given ones replace it).
4. Keep a match when its trimmed group 1 equals a wanted metric name; its trimmed group 2 is the value.

Two differences from Katib: a match whose value is empty (the default filter matches ``loss=nan`` with
an empty value) is dropped rather than stored as ``""``; a line without a timestamp gives ``None`` rather
than Go's zero time. Steps follow :mod:`katib_flows_collector._steps`.
"""

from __future__ import annotations

from collections.abc import Sequence

from katib_flows_collector._goregex import compile_filters
from katib_flows_collector._metric import Metric, validate_metric_names
from katib_flows_collector._steps import DEFAULT_STEP_NAMES, StepCounter, parse_step
from katib_flows_collector._time import parse_rfc3339

__all__ = ["TextParser", "parse_text"]


class TextParser:
    """Streaming parser for one trial's text output; :meth:`feed` it each line as it is written.

    ``filters`` are Katib ``metricsFormat`` regexes (Go syntax); they are compiled here, so a bad one
    raises :class:`~katib_flows_collector.FilterError` before any line is read.
    """

    def __init__(
        self,
        metric_names: Sequence[str],
        filters: Sequence[str] | None = None,
        *,
        step_names: Sequence[str] = DEFAULT_STEP_NAMES,
    ) -> None:
        self.metric_names = validate_metric_names(metric_names)
        self._wanted = frozenset(self.metric_names)
        self._step_names = tuple(step_names)
        self._filters = compile_filters(filters)
        self._steps = StepCounter()

    def feed(self, line: str) -> list[Metric]:
        """Parse one line (a trailing newline is ignored) and return the metrics it reports, in order."""
        line = line.rstrip("\r\n")
        if not any(name in line for name in self.metric_names):
            return []
        first_token, _, _ = line.partition(" ")
        timestamp = parse_rfc3339(first_token)

        matches: list[tuple[str, str]] = []
        for regex in self._filters:
            for match in regex.finditer(line):
                name, value = match.group(1), match.group(2)
                if name is not None and value is not None and value.strip():
                    matches.append((name.strip(), value.strip()))

        explicit_step = self._explicit_step(matches)
        return [
            Metric(name, value, timestamp, self._steps.next_step(name, explicit_step))
            for name, value in matches
            if name in self._wanted
        ]

    def _explicit_step(self, matches: list[tuple[str, str]]) -> int | None:
        for step_name in self._step_names:
            for name, value in matches:
                if name == step_name:
                    return parse_step(value)
        return None


def parse_text(
    text: str,
    metric_names: Sequence[str],
    filters: Sequence[str] | None = None,
    *,
    step_names: Sequence[str] = DEFAULT_STEP_NAMES,
) -> list[Metric]:
    """Parse a whole text log at once (no ``unavailable`` fallback: see ``apply_unavailable_fallback``)."""
    parser = TextParser(metric_names, filters, step_names=step_names)
    return [metric for line in text.split("\n") for metric in parser.feed(line)]
