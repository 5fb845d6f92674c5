"""Step numbers for parsed metrics: explicit when the source says so, counted otherwise.

The rule, shared by the text, JSON lines and push parsers:

* The n-th report of a metric (counting from 0, per metric name) has step n ...
* ... unless its line carries an explicit step. In a text line (as matched by the filters) or a JSON
  object, that is the value of the first of ``step_names`` that the line has; the default
  ``("step", "global_step", "epoch")`` covers hand-written logs, cloudml-hypertune's JSON (which Katib's
  examples use) and ``epoch=3``. If that value is not a non-negative integer (``3``, ``"3"`` or
  ``3.0``), the line has no explicit step. A push envelope's ``step`` field is its explicit step. A step
  name can also be a wanted metric: it is then reported as well.

The counter advances on every report, explicit or not, so a metric's counted steps never depend on
whether other lines had explicit ones.
"""

from __future__ import annotations

import math

__all__ = ["DEFAULT_STEP_NAMES", "StepCounter", "parse_step"]

DEFAULT_STEP_NAMES: tuple[str, ...] = ("step", "global_step", "epoch")


def parse_step(value: object) -> int | None:
    """Return ``value`` as a non-negative integer step, or ``None`` if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit() and text.isascii():
            return int(text)
        try:
            value = float(text)
        except ValueError:
            return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and value >= 0:
        return int(value)
    return None


class StepCounter:
    """Per-metric report counter; one per parser, so it lives as long as the trial's stream."""

    def __init__(self) -> None:
        self._reports: dict[str, int] = {}

    def next_step(self, name: str, explicit: int | None) -> int:
        """Count one report of ``name`` and return its step: ``explicit`` if given, else the report's index."""
        index = self._reports.get(name, 0)
        self._reports[name] = index + 1
        return index if explicit is None else explicit
