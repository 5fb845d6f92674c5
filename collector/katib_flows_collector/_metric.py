"""The metric record every parser returns, and Katib's ``unavailable`` fallback.

Parsers (text, JSON lines, push envelopes, TensorFlow event files) turn a trial's output into
:class:`Metric` records; the runners in the main package store them as observation logs. Values stay
strings, as in Katib's observation log: a value that is not a number is kept and later becomes a
non-numeric "latest". :func:`apply_unavailable_fallback` is called once, when a trial has finished and all
its output has been parsed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

__all__ = ["UNAVAILABLE", "Metric", "apply_unavailable_fallback", "validate_metric_names"]

UNAVAILABLE = "unavailable"
"""Katib's sentinel value, written as the objective's only value when the objective was never reported."""


@dataclass(frozen=True)
class Metric:
    """One reported value of one metric.

    ``timestamp`` is timezone-aware UTC, or ``None`` when the source carried no time (a text line without
    a leading RFC 3339 token): the caller decides what to substitute, typically the time it read the line.
    ``step`` is the report's index (explicit in the source, or counted by the parser), ``None`` only where
    no step applies (the ``unavailable`` fallback).
    """

    name: str
    value: str
    timestamp: datetime | None = None
    step: int | None = None

    def __post_init__(self) -> None:
        if self.timestamp is not None and self.timestamp.utcoffset() is None:
            raise ValueError(f"metric {self.name!r}: timestamp must be timezone-aware, got {self.timestamp!r}")


def apply_unavailable_fallback(metrics: Iterable[Metric], objective_metric_name: str) -> list[Metric]:
    """Return ``metrics`` unchanged if the objective is among them, else Katib's single ``unavailable`` row.

    As in Katib, the other metrics are dropped too when the objective is missing: the trial then ends
    ``MetricsUnavailable`` and its metrics are not used.
    """
    collected = list(metrics)
    if any(metric.name == objective_metric_name for metric in collected):
        return collected
    return [Metric(name=objective_metric_name, value=UNAVAILABLE)]


def validate_metric_names(metric_names: Iterable[str]) -> tuple[str, ...]:
    """The parsers' ``metric_names`` argument, checked: a non-empty sequence of non-empty names."""
    if isinstance(metric_names, str):
        raise TypeError(f"metric_names must be a sequence of names, not the string {metric_names!r}")
    names = tuple(metric_names)
    if not names or not all(isinstance(name, str) and name for name in names):
        raise ValueError(f"metric_names must be non-empty names, the objective first; got {list(names)!r}")
    return names
