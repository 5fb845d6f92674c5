"""The one interface every search algorithm implements, and the plain data it works on.

Call order: the engine builds a ``Problem`` from the Experiment spec once, calls ``validate`` when the
experiment is linted or registered, and then calls ``suggest`` once per free trial slot, each time with
the whole trial history read from the store. An algorithm keeps nothing between calls: two fresh
instances given the same problem, history and seed return the same decision, so any process can
suggest after a crash. This package imports neither the main package nor pydantic, so the types here
are dataclasses of plain values.

Stateless for correctness, warm for speed (DESIGN.md section 4): a long-lived process that suggests again
and again for one experiment (a local run's lanes, a suggestion service) may hold a ``SuggestionCache`` and
call ``cache.suggest(algorithm, ...)``. An algorithm that can use it keeps its state there, brings it up to
date with the history, throws it away on any doubt, and returns the decision ``suggest`` would (a test
holds every such algorithm to that); the others ignore it. A fresh process simply has no cache.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar

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
class Problem:
    """What an algorithm may know about the experiment.

    ``objective`` and ``direction`` are the first (Katib's) objective; ``additional_objectives`` holds the
    others of a multi-objective experiment as (metric, direction) pairs, and ``objectives``/``directions``
    list them all, the first objective first. Single-objective algorithms read only ``direction``.
    """

    parameters: tuple[Parameter, ...]
    objective: str
    direction: Direction
    settings: Mapping[str, str] = field(default_factory=dict)
    max_trial_count: int | None = None
    parallel_trial_count: int = 3
    additional_objectives: tuple[tuple[str, Direction], ...] = ()

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
    """Run one trial with these assignments (``name`` and ``labels`` only when the algorithm names trials)."""

    assignments: dict[str, Value]
    name: str | None = None
    labels: dict[str, str] = field(default_factory=dict)


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


class Algorithm(ABC):
    """A search algorithm. Subclasses set ``name`` and implement ``validate`` and ``suggest``."""

    name: ClassVar[str]
    #: The settings this algorithm understands; any other name is reported by ``validate``.
    settings: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def validate(self, problem: Problem) -> list[SettingProblem]:
        """Return every broken rule about ``problem.settings`` and the space for this algorithm; [] if fine."""

    @abstractmethod
    def suggest(self, problem: Problem, history: Sequence[Trial], seed: int) -> Decision:
        """Decide the next trial from the full history.

        Deterministic in (problem, history, seed). Implementations mix ``len(history)`` into their random
        state so that successive calls with a growing history give different draws.
        """

    def suggest_cached(self, problem: Problem, history: Sequence[Trial], seed: int, cache: SuggestionCache) -> Decision:
        """``suggest``'s decision, which an algorithm may reach faster by keeping state in ``cache``.

        Called by ``SuggestionCache.suggest`` only. By default the cache is not used.
        """
        return self.suggest(problem, history, seed)


_Kept = TypeVar("_Kept")


class SuggestionCache:
    """What a long-lived process keeps for one experiment between suggestions, to suggest faster.

    Create one per experiment and call ``suggest`` instead of ``algorithm.suggest``: the decision is the
    same. Calls are serialised by a lock, so lanes (threads) may share it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[str, Any] = {}

    def suggest(self, algorithm: Algorithm, problem: Problem, history: Sequence[Trial], seed: int) -> Decision:
        """``algorithm.suggest(problem, history, seed)``, using what was kept from earlier calls."""
        with self._lock:
            return algorithm.suggest_cached(problem, history, seed, self)

    def kept(self, key: str, make: Callable[[], _Kept], kind: type[_Kept]) -> _Kept:
        """The state kept under ``key`` (an algorithm's name), made by ``make`` when there is none of ``kind``."""
        state = self._kept.get(key)
        if not isinstance(state, kind):
            state = self._kept[key] = make()
        return state

    def clear(self) -> None:
        """Forget everything kept; the next call rebuilds from the history."""
        with self._lock:
            self._kept.clear()
