"""The plain data search algorithms work on: the space, the history, and the decisions they return.

The engine builds a ``Problem`` from the Experiment spec and a ``Trial`` per history entry from the store;
an algorithm (``_algorithm.Algorithm``) answers with a ``Decision``. This package imports neither the main
package nor pydantic, so the types here are dataclasses of plain values.

A NAS experiment (``spec.nasConfig``) has no parameters: its ``Problem.nas`` holds the graph and the
operations, and a NAS algorithm's assignments are named after what it produces (Katib's ``architecture`` and
``nn_config`` for enas), not after parameters; the trial template reaches them by each trial parameter's
``reference`` all the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ParameterType = Literal["int", "double", "categorical", "discrete"]
Distribution = Literal["uniform", "logUniform", "normal", "logNormal"]
Direction = Literal["minimize", "maximize"]
#: A suggested value: int for int parameters, float for double, the list element (a str) otherwise.
Value = int | float | str

#: Katib's trial conditions as they appear in ``Trial.status``.
FINISHED_WITH_VALUE = ("Succeeded", "EarlyStopped")
ACTIVE = ("Created", "Running")


@dataclass(frozen=True)
class Parameter:
    """One entry of ``spec.parameters`` with its feasible space already parsed into numbers."""

    name: str
    type: ParameterType
    min: float | None = None
    max: float | None = None
    step: float | None = None
    values: tuple[str, ...] = ()
    distribution: Distribution = "uniform"


@dataclass(frozen=True)
class NasOperation:
    """One entry of ``spec.nasConfig.operations``: its ``operationType`` and parameters, parsed as ``Parameter``s."""

    type: str
    parameters: tuple[Parameter, ...] = ()


@dataclass(frozen=True)
class NasConfig:
    """``spec.nasConfig``: the graph (``numLayers``, ``inputSizes``, ``outputSizes``) and the operations.

    ``num_layers`` is None when the spec leaves it out (the rules of enas and darts require it).
    ``_nas.expand_operations`` turns the operations into Katib's numbered operation list.
    """

    num_layers: int | None
    input_sizes: tuple[int, ...] = ()
    output_sizes: tuple[int, ...] = ()
    operations: tuple[NasOperation, ...] = ()


@dataclass(frozen=True)
class Problem:
    """What an algorithm may know about the experiment.

    ``objective`` and ``direction`` are the first (Katib's) objective; ``additional_objectives`` holds the
    others of a multi-objective experiment as (metric, direction) pairs, and ``objectives``/``directions``
    list them all, the first objective first. Single-objective algorithms read only ``direction``.
    ``nas`` is the NAS config of a ``spec.nasConfig`` experiment (``parameters`` is then empty), else None.
    """

    parameters: tuple[Parameter, ...]
    objective: str
    direction: Direction
    settings: Mapping[str, str] = field(default_factory=dict)
    max_trial_count: int | None = None
    parallel_trial_count: int = 3
    additional_objectives: tuple[tuple[str, Direction], ...] = ()
    nas: NasConfig | None = None

    @property
    def objectives(self) -> tuple[str, ...]:
        return (self.objective, *(metric for metric, _ in self.additional_objectives))

    @property
    def directions(self) -> tuple[Direction, ...]:
        return (self.direction, *(direction for _, direction in self.additional_objectives))

    @property
    def multi_objective(self) -> bool:
        return bool(self.additional_objectives)


@dataclass(frozen=True)
class Trial:
    """One trial of the history, in creation order.

    ``value`` is the objective value chosen by the metric strategy, None when unavailable or not finished.
    ``values`` holds every objective's value in ``Problem.objectives`` order for a multi-objective problem
    (the first equals ``value``), None when any is unavailable or the trial is not finished; single-objective
    histories leave it None. ``intermediate`` holds (step, value) pairs of the objective reported so far,
    for multi-fidelity rules.
    """

    name: str
    assignments: Mapping[str, Value]
    status: str
    value: float | None = None
    intermediate: tuple[tuple[int, float], ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    values: tuple[float, ...] | None = None

    def objective_values(self, problem: Problem) -> tuple[float, ...] | None:
        """One value per objective of ``problem`` (``(value,)`` for a single objective), None when any is missing."""
        if not problem.multi_objective:
            return None if self.value is None else (self.value,)
        if self.values is None or len(self.values) != len(problem.additional_objectives) + 1:
            return None
        return self.values


@dataclass(frozen=True)
class Suggestion:
    """Run one trial with these assignments (``name`` and ``labels`` only when the algorithm names trials).

    ``state``: a stateful algorithm's new state (``Algorithm.stateful``), a JSON-able dict the engine stores
    with the experiment in the same transaction as the trial; None keeps what is stored.
    """

    assignments: dict[str, Value]
    name: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    state: dict[str, Any] | None = None


@dataclass(frozen=True)
class Wait:
    """No suggestion now; ask again once a running trial finishes."""

    reason: str


@dataclass(frozen=True)
class Exhausted:
    """The algorithm has nothing left to suggest (a finished grid, all brackets done)."""

    reason: str


Decision = Suggestion | Wait | Exhausted


@dataclass(frozen=True)
class SettingProblem:
    """A broken rule about ``algorithmSettings``: ``setting`` is the setting's name, or "" for the whole spec.

    ``message`` states the rule and the value that broke it; ``fix`` says what to change.
    """

    setting: str
    message: str
    fix: str = ""
