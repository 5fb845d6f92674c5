"""The numbers of one parameter's feasible space: its step lattice, draws from [0, 1), and stored values read back.

Every algorithm goes through here so that they all agree on what a feasible value is: ``random`` and
``sobol`` map uniform numbers into the space with ``from_unit``, ``grid`` enumerates ``grid_values``, the
optuna driver snaps optuna's answers with ``snap`` and reads the history with ``canonical``. A value on a
step lattice is always computed as ``min + k * step`` in decimal arithmetic, so a step of 0.1 gives 0.3 and
never 0.30000000000000004, and the same point is the same float whichever algorithm produced it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from statistics import NormalDist

from katib_flows_suggestion._base import Parameter, Value

# Katib's optuna service clips log ranges to these lower bounds; we do the same everywhere.
LOG_LOW_INT = 1
LOG_LOW_DOUBLE = 1e-10
# How far (in steps) a stored number may sit from a lattice point and still count as that point.
_ON_LATTICE = 1e-6
# Keeps the inverse normal CDF finite; the result is clipped to [min, max] anyway.
_U_EPS = 1e-12


@dataclass(frozen=True)
class Lattice:
    """The points ``low + k * step`` for k in ``range(count)``, all within [min, max]."""

    low: Decimal
    step: Decimal
    count: int
    is_int: bool

    def at(self, k: int) -> Value:
        return _lattice_point(self, k)


@lru_cache(maxsize=65536)  # reading a history back visits the same few lattice points over and over
def _lattice_point(grid: Lattice, k: int) -> Value:
    exact = grid.low + k * grid.step
    return int(exact) if grid.is_int else float(exact)


def _decimal(x: float) -> Decimal:
    # repr() is the shortest text that reads back as x: "0.1", not 0.1000000000000000055...
    return Decimal(repr(float(x)))


def bounds(p: Parameter) -> tuple[float, float]:
    assert p.min is not None and p.max is not None, f"parameter {p.name} has no min/max"
    return float(p.min), float(p.max)


@lru_cache(maxsize=4096)  # Parameters are frozen; a history is read parameter by parameter, trial after trial
def lattice(p: Parameter) -> Lattice | None:
    """The step lattice of an int (step defaults to 1, as in Katib) or a double with a step; else None."""
    if p.type not in ("int", "double"):
        return None
    low, high = bounds(p)
    if p.type == "int":
        step = Decimal(max(1, int(p.step))) if p.step else Decimal(1)
        low_d, high_d = Decimal(math.ceil(low)), Decimal(math.floor(high))
    elif p.step:
        step, low_d, high_d = _decimal(p.step), _decimal(low), _decimal(high)
    else:
        return None
    count = int((high_d - low_d) // step) + 1 if high_d >= low_d else 0
    return Lattice(low_d, step, count, p.type == "int")


@lru_cache(maxsize=4096)
def choices(p: Parameter) -> tuple[str, ...]:
    """The list of a categorical/discrete parameter, each value once, in the spec's order."""
    return tuple(dict.fromkeys(p.values))


def grid_values(p: Parameter) -> tuple[Value, ...] | None:
    """Every value grid search tries for ``p``; None for a double without a step (no finite grid)."""
    if p.type in ("categorical", "discrete"):
        return choices(p)
    grid = lattice(p)
    if grid is None:
        return None
    return tuple(grid.at(k) for k in range(grid.count))


def snap(p: Parameter, x: float) -> Value:
    """The feasible value of numeric ``p`` nearest to ``x``: on the lattice if there is one, within [min, max]."""
    low, high = bounds(p)
    grid = lattice(p)
    if grid is None:
        return min(max(float(x), low), high)
    if grid.count == 0:
        return grid.at(0)
    k = round((x - float(grid.low)) / float(grid.step))
    return grid.at(min(max(k, 0), grid.count - 1))


def from_unit(p: Parameter, u: float) -> Value:
    """Map ``u`` in [0, 1) to a value of ``p`` through the inverse CDF of its distribution.

    uniform: equal weight on every lattice point (or on [min, max]); logUniform: uniform in log space;
    normal: mean (min+max)/2, sd (max-min)/6; logNormal: the same in log space. Normal draws are clipped
    to [min, max]; every draw is then snapped to the step lattice. Categorical and discrete lists are
    uniform over their values.
    """
    if p.type in ("categorical", "discrete"):
        values = choices(p)
        return values[min(int(u * len(values)), len(values) - 1)]
    low, high = bounds(p)
    grid = lattice(p)
    if high <= low:
        return snap(p, low)
    if p.distribution == "uniform":
        if grid is not None and grid.count > 0:
            return grid.at(min(int(u * grid.count), grid.count - 1))
        return snap(p, low + u * (high - low))
    log = p.distribution in ("logUniform", "logNormal")
    if log:
        low = max(low, LOG_LOW_INT if p.type == "int" else LOG_LOW_DOUBLE)
        high = max(high, low)
        low, high = math.log(low), math.log(high)
    if p.distribution in ("normal", "logNormal") and high > low:
        clamped = min(max(u, _U_EPS), 1 - _U_EPS)
        x = NormalDist((low + high) / 2, (high - low) / 6).inv_cdf(clamped)
        x = min(max(x, low), high)
    else:
        x = low + u * (high - low)
    return snap(p, math.exp(x) if log else x)


def canonical(p: Parameter, raw: object) -> Value | None:
    """The feasible value a stored assignment stands for, or None if it is not in the space.

    Accepts what a store may hand back (``"3"``, ``3.0``, ``0.30000000000000004``) and returns the one
    python value the algorithms produce for that point, so history and candidates compare equal.
    """
    if raw is None or isinstance(raw, bool):
        return None
    if p.type in ("categorical", "discrete"):
        values = choices(p)
        text = raw if isinstance(raw, str) else str(raw)
        if text in values:
            return text
        if p.type == "discrete":
            number = _number(raw)
            for value in values:
                if number is not None and _number(value) == number:
                    return value
        return None
    x = _number(raw)
    if x is None:
        return None
    low, high = bounds(p)
    grid = lattice(p)
    if grid is None:
        return x if low <= x <= high else None
    k_real = (x - float(grid.low)) / float(grid.step)
    k = round(k_real)
    if abs(k_real - k) > _ON_LATTICE or not 0 <= k < grid.count:
        return None
    return grid.at(k)


def _number(raw: object) -> float | None:
    try:
        x = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None
