"""Exceptions raised by the collector.

Every parser and the push API raise a subclass of :class:`CollectorError`, so the runners in the main
package can catch one type and turn it into a failed collection with the message as the reason. The root
derives from :class:`ValueError` because every failure here is bad input (a filter, a line, a file), and
because Katib's ``report_metrics`` raises ``ValueError`` for bad values: code written for Katib keeps working.
"""

from __future__ import annotations

__all__ = ["CollectorError", "EventFileError", "FilterError", "MetricsFormatError"]


class CollectorError(ValueError):
    """Root of the collector's exceptions."""


class FilterError(CollectorError):
    """A ``metricsFormat`` filter does not compile or has fewer than two capturing groups."""

    def __init__(self, pattern: str, problem: str) -> None:
        super().__init__(f"invalid metrics filter {pattern!r}: {problem}")
        self.pattern = pattern


class MetricsFormatError(CollectorError):
    """A metrics line (JSON lines file or push envelope) cannot be read."""

    def __init__(self, line_number: int | None, problem: str) -> None:
        where = f"line {line_number}: " if line_number is not None else ""
        super().__init__(f"{where}{problem}")
        self.line_number = line_number


class EventFileError(CollectorError):
    """A TensorFlow event file is corrupt (bad checksum, truncated record, undecodable protobuf)."""

    def __init__(self, path: str, offset: int, problem: str) -> None:
        super().__init__(f"{path}: record at byte {offset}: {problem}")
        self.path = path
        self.offset = offset
