"""``grid``: every combination of the parameters' values, once each, in a seeded order (Katib's optuna grid).

Values per parameter follow Katib (``katib-v1beta1.md`` 3.2): ints ``range(min, max+1, step)`` with step 1
by default, doubles ``min + k*step`` up to max (a step is required), lists as given. Each call returns the
first combination of the order that no trial of the history holds, whatever that trial's status (running
and failed trials count: a failed point is not retried), and ``Exhausted`` once all are taken.

The order never materialises the grid, which may be astronomically large: position k maps to combination
``(a*k + b) mod N`` with ``a`` coprime to N (a bijection, and with ``a/N`` near the golden ratio it spreads
consecutive positions over the whole grid), and each parameter's values are shuffled. A call costs
O(len(history) * parameters): one pass to collect the used combinations into a set, and at most
``len(history) + 1`` positions to find a free one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from katib_flows_suggestion._algorithm import Algorithm
from katib_flows_suggestion._base import (
    Decision,
    Exhausted,
    Parameter,
    Problem,
    Suggestion,
    Trial,
    Value,
)
from katib_flows_suggestion._errors import InvalidSettingsError
from katib_flows_suggestion._rules import base_seed
from katib_flows_suggestion._seed import generator
from katib_flows_suggestion._space import canonical, grid_values

# (sqrt(5) - 1) / 2 as a fraction, so that grids larger than a float can hold still get an exact step.
_GOLDEN_NUM, _GOLDEN_DEN = 6180339887498949, 10**16


def grid_size(problem: Problem) -> int | None:
    """How many combinations grid search has for ``problem``; None when a double parameter has no step."""
    size = 1
    for p in problem.parameters:
        values = grid_values(p)
        if values is None:
            return None
        size *= len(values)
    return size


class _Order:
    """A seeded bijection from positions 0..N-1 to combinations (tuples of value indexes per parameter)."""

    def __init__(self, sizes: Sequence[int], seed: int) -> None:
        self.sizes = tuple(sizes)
        self.total = math.prod(self.sizes)
        rng = generator(seed, 0x6E1D)
        self.shuffles = [rng.permutation(n).tolist() for n in self.sizes]
        random_bits = int.from_bytes(rng.bytes(self.total.bit_length() // 8 + 8), "little")
        self.offset = random_bits % self.total
        step = max(1, self.total * _GOLDEN_NUM // _GOLDEN_DEN)
        while math.gcd(step, self.total) != 1:
            step += 1
        self.step = step

    def at(self, position: int) -> tuple[int, ...]:
        index = (self.step * position + self.offset) % self.total
        digits = []
        for size, shuffle in zip(reversed(self.sizes), reversed(self.shuffles), strict=True):
            index, digit = divmod(index, size)
            digits.append(shuffle[digit])
        return tuple(reversed(digits))


def order_over(sizes: Sequence[int], seed: int) -> _Order:
    """The seeded order over combinations of ``sizes`` values that grid search walks (also used by ``_fresh``)."""
    return _Order(sizes, seed)


def _used(
    parameters: Sequence[Parameter], columns: Sequence[Sequence[Value]], history: Sequence[Trial]
) -> set[tuple[int, ...]]:
    lookups = [{value: i for i, value in enumerate(column)} for column in columns]
    used: set[tuple[int, ...]] = set()
    for trial in history:
        key = []
        for p, lookup in zip(parameters, lookups, strict=True):
            value = canonical(p, trial.assignments.get(p.name))
            index = lookup.get(value) if value is not None else None
            if index is None:
                break
            key.append(index)
        else:
            used.add(tuple(key))
    return used


class GridSearch(Algorithm):
    """Settings: ``random_state`` (int >= 0) replaces the engine's seed for the order."""

    name = "grid"

    def suggest(self, problem: Problem, history: Sequence[Trial], seed: int) -> Decision:
        values = self.read_settings(problem)
        columns = []
        for p in problem.parameters:
            column = grid_values(p)
            if column is None:  # read_settings has already refused this; keeps mypy and a bad caller honest
                raise InvalidSettingsError(self.name, self.validate(problem))
            columns.append(column)
        sizes = [len(column) for column in columns]
        if 0 in sizes:
            return Exhausted("the grid is empty: a parameter has no values")
        used = _used(problem.parameters, columns, history)
        order = _Order(sizes, base_seed(values, seed))
        if len(used) >= order.total:
            return Exhausted(f"all {order.total} grid combinations have been tried")
        for position in range(order.total):
            combination = order.at(position)
            if combination not in used:
                return Suggestion(
                    {p.name: column[i] for p, column, i in zip(problem.parameters, columns, combination, strict=True)}
                )
        raise AssertionError("unreachable: fewer used combinations than the grid holds")
