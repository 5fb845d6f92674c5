"""What ``hyperband`` and ``asha`` share: the resource parameter, budgets, rung labels and new configurations.

Both algorithms give each trial a budget by overwriting one parameter, ``resource_name`` (as Katib's
hyperband does: the budget is written whatever that parameter's feasible space says, and an int resource
gets ``int(budget)``, at least 1). A configuration is the assignment of every other parameter; a
promotion copies its parent trial's configuration with a larger budget. All their state is in the
labels of the trials they created (rung, bracket, parent trial name), so it is rebuilt from the history
on every call.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from katib_flows_suggestion._base import (
    ACTIVE,
    FINISHED_WITH_VALUE,
    Decision,
    Direction,
    Parameter,
    Problem,
    Suggestion,
    Trial,
    Value,
)
from katib_flows_suggestion._fresh import fresh
from katib_flows_suggestion._seed import generator
from katib_flows_suggestion._settings import Parsed
from katib_flows_suggestion._space import canonical, from_unit

# Katib casts with int(float(eta)) and maps values <= 0 to 3.
DEFAULT_ETA = 3
# int(3.0000000001) and not int(2.9999999999): budgets computed as r_l * eta^-s land a hair below integers.
_LOG_SLACK = 1e-9


def eta_of(values: Mapping[str, Parsed]) -> int:
    raw = values.get("eta")
    eta = int(raw) if isinstance(raw, (int, float)) else DEFAULT_ETA
    return DEFAULT_ETA if eta <= 0 else eta


def resource_value(p: Parameter, budget: float) -> Value:
    """The value that gives a trial ``budget``: ``int(budget)`` (at least 1) for an int parameter."""
    if p.type == "int":
        return max(1, int(budget + _LOG_SLACK))
    return float(budget)


def int_label(trial: Trial, key: str) -> int | None:
    text = trial.labels.get(key)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def is_active(trial: Trial) -> bool:
    return trial.status in ACTIVE


def has_value(trial: Trial) -> bool:
    return trial.status in FINISHED_WITH_VALUE and trial.value is not None and math.isfinite(trial.value)


def ranked(trials: Sequence[Trial], direction: Direction) -> list[Trial]:
    """Trials that finished with a value, best first; ties keep history order."""
    sign = 1.0 if direction == "minimize" else -1.0
    return sorted((t for t in trials if has_value(t)), key=lambda t: sign * (t.value or 0.0))


class Budgets:
    """The resource parameter of ``problem`` and the configuration parameters (all the others)."""

    def __init__(self, problem: Problem, resource_name: str) -> None:
        self.problem = problem
        self.resource = next(p for p in problem.parameters if p.name == resource_name)
        self.config = tuple(p for p in problem.parameters if p.name != resource_name)

    def new_config(self, history: Sequence[Trial], seed: int, budget: float, labels: dict[str, str]) -> Decision:
        """A random configuration no trial holds yet (``Exhausted`` when a finite space is used up)."""
        rng = generator(seed, len(history), 0x4B)
        draws = rng.random(len(self.config))
        point: dict[str, Value] = {p.name: from_unit(p, float(u)) for p, u in zip(self.config, draws, strict=True)}
        budget_value = resource_value(self.resource, budget)

        def wrap(config: dict[str, Value]) -> Suggestion:
            return Suggestion(self._ordered({**config, self.resource.name: budget_value}), labels=labels)

        return fresh(self.config, history, seed, point, wrap=wrap)

    def promote(self, parent: Trial, budget: float, labels: dict[str, str]) -> Suggestion | None:
        """``parent``'s configuration with ``budget``; None when it does not fit the space any more."""
        config: dict[str, Value] = {}
        for p in self.config:
            value = canonical(p, parent.assignments.get(p.name))
            if value is None:
                return None
            config[p.name] = value
        config[self.resource.name] = resource_value(self.resource, budget)
        return Suggestion(self._ordered(config), labels=labels)

    def _ordered(self, values: dict[str, Value]) -> dict[str, Value]:
        return {p.name: values[p.name] for p in self.problem.parameters}
