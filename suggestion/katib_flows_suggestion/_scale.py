"""Numeric parameters as coordinates in the unit cube, for the algorithms that search a continuous box.

Used by ``cmaes`` and ``bayesianoptimization``. A coordinate is linear in the parameter (in its logarithm
for logUniform/logNormal, as optuna does); a parameter on a step lattice is widened by half a step at each
end so that every lattice point owns an equal share of [0, 1]. ``from_unit`` snaps back to a feasible value
(``_space.snap``); ``to_unit`` reads a stored assignment through ``_space.canonical`` and returns None when
it is not a feasible value. Normal and logNormal parameters are scaled like uniform and logUniform ones.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from katib_flows_suggestion._base import Parameter, Value
from katib_flows_suggestion._space import LOG_LOW_DOUBLE, LOG_LOW_INT, bounds, canonical, lattice, snap


def _is_log(p: Parameter) -> bool:
    return p.distribution in ("logUniform", "logNormal")


def _box(p: Parameter) -> tuple[float, float]:
    """The interval, in the transformed (maybe log) space, that [0, 1] maps onto."""
    low, high = bounds(p)
    grid = lattice(p)
    if _is_log(p):
        floor = LOG_LOW_INT if p.type == "int" else LOG_LOW_DOUBLE
        low = max(low, floor)
        high = max(high, low)
        if p.type == "int" and grid is not None and grid.count > 0:
            return math.log(max(float(grid.low), floor) - 0.5 + 1e-12), math.log(float(grid.at(grid.count - 1)) + 0.5)
        return math.log(low), math.log(high)
    if grid is not None and grid.count > 0:
        half = float(grid.step) / 2
        return float(grid.low) - half, float(grid.at(grid.count - 1)) + half
    return low, high


class UnitScale:
    """The unit-cube coordinates of a fixed tuple of int/double parameters."""

    def __init__(self, parameters: Sequence[Parameter]) -> None:
        self.parameters = tuple(parameters)
        self.boxes = [_box(p) for p in self.parameters]

    @property
    def dim(self) -> int:
        return len(self.parameters)

    def to_unit(self, assignments: Mapping[str, object]) -> np.ndarray | None:
        """The coordinates of a stored assignment, or None if a value is missing or infeasible."""
        x = np.empty(self.dim)
        for i, (p, (low, high)) in enumerate(zip(self.parameters, self.boxes, strict=True)):
            value = canonical(p, assignments.get(p.name))
            if value is None or isinstance(value, str):
                return None
            v = float(value)
            if _is_log(p):
                if v <= 0:
                    return None
                v = math.log(v)
            x[i] = 0.5 if high <= low else min(max((v - low) / (high - low), 0.0), 1.0)
        return x

    def from_unit(self, x: Sequence[float] | np.ndarray) -> dict[str, Value]:
        """The feasible values at coordinates ``x`` (clipped to [0, 1])."""
        result: dict[str, Value] = {}
        for p, (low, high), u in zip(self.parameters, self.boxes, x, strict=True):
            v = low + min(max(float(u), 0.0), 1.0) * (high - low)
            result[p.name] = snap(p, math.exp(v) if _is_log(p) else v)
        return result
