"""Learning curves as the early-stopping rules read them: step -> objective value, plus the helpers they share.

A step is whatever index the caller records with each report (the collectors' step index). Katib counts
reports, so ``curve`` numbers a plain list of values 1, 2, 3, ... for callers that have no steps.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from katib_flows_suggestion._base import Direction

#: A learning curve: the objective value reported at each step.
Curve = Mapping[int, float]
CurveLike = Mapping[int, float] | Sequence[tuple[int, float]]


def curve(values: Sequence[float]) -> dict[int, float]:
    """The curve of values reported one after another: the first report is step 1, as Katib counts."""
    return {i + 1: float(v) for i, v in enumerate(values)}


def as_curve(points: CurveLike) -> dict[int, float]:
    """A curve from a mapping or from (step, value) pairs (a later pair for the same step wins); NaN dropped."""
    pairs = points.items() if isinstance(points, Mapping) else points
    return {int(step): float(value) for step, value in pairs if not math.isnan(float(value))}


def value_at(points: Curve, step: int) -> float | None:
    """The value at ``step``: the latest report at or before it, if the curve reached ``step``; else None."""
    if not points or max(points) < step:
        return None
    before = [s for s in points if s <= step]
    return points[max(before)] if before else None


def best_until(points: Curve, step: int, direction: Direction) -> float | None:
    """The best value reported at or before ``step`` (min when minimising), None before the first report."""
    values = [v for s, v in points.items() if s <= step]
    if not values:
        return None
    return min(values) if direction == "minimize" else max(values)


def worse(a: float, b: float, direction: Direction) -> bool:
    """True when ``a`` is strictly worse than ``b``."""
    return a > b if direction == "minimize" else a < b
