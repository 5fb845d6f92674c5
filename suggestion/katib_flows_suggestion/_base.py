"""The one interface every search algorithm implements, and the plain data it works on.

Call order: the engine builds a ``Problem`` from the Experiment spec once, calls ``validate`` when the
experiment is linted or registered, and then calls ``suggest`` once per free trial slot, each time with
the whole trial history read from the store. An algorithm keeps nothing between calls: two fresh
instances given the same problem, history and seed return the same decision, so any process can
suggest after a crash. This package imports neither the main package nor pydantic, so the types here
are dataclasses of plain values.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Literal

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
    """What an algorithm may know about the experiment."""

    parameters: tuple[Parameter, ...]
    objective: str
    direction: Direction
    settings: Mapping[str, str] = field(default_factory=dict)
    max_trial_count: int | None = None
    parallel_trial_count: int = 3


@dataclass(frozen=True)
class Trial:
    """One trial of the history, in creation order.

    ``value`` is the objective value chosen by the metric strategy, None when unavailable or not finished.
    ``intermediate`` holds (step, value) pairs of the objective reported so far, for multi-fidelity rules.
    """

    name: str
    assignments: Mapping[str, Value]
    status: str
    value: float | None = None
    intermediate: tuple[tuple[int, float], ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)


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
