"""The one interface every search algorithm implements, and the cache a long-lived process keeps for it.

Call order: the engine builds a ``Problem`` from the Experiment spec once, calls ``validate`` when the
experiment is linted or registered, and then calls ``suggest`` once per free trial slot, each time with
the whole trial history read from the store. An algorithm keeps nothing between calls: two fresh
instances given the same problem, history and seed return the same decision, so any process can
suggest after a crash.

Settings are declared, not coded: ``schema`` is the algorithm's typed settings (``_settings.Setting``),
taken from Katib's rules table (``_rules.SCHEMAS``) for a name listed there; a plug-in (``_registry``)
declares its own. ``validate`` and ``read_settings`` work from it, so an algorithm writes only ``suggest``.

Stateless for correctness, warm for speed (DESIGN.md section 4): a long-lived process that suggests again
and again for one experiment (a local run's lanes, a suggestion service) may hold a ``SuggestionCache`` and
call ``cache.suggest(algorithm, ...)``. An algorithm that can use it keeps its state there, brings it up to
date with the history, throws it away on any doubt, and returns the decision ``suggest`` would (a test
holds every such algorithm to that); the others ignore it. A fresh process simply has no cache.

State an algorithm truly needs (enas's controller weights, trained on the trials it has seen) is stored
explicitly: a ``stateful`` algorithm is called through ``suggest_with_state`` with what the store holds for
the experiment (a JSON-able dict, or None), and returns its new state in ``Suggestion.state``, which the
engine saves in the transaction that inserts the trial, under the experiment's lock, so that any process
continues from it. ``suggest`` without a state rebuilds it from the history: correctness never depends on it.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from katib_flows_suggestion._base import Decision, Problem, SettingProblem, Trial
from katib_flows_suggestion._errors import InvalidSettingsError
from katib_flows_suggestion._rules import SCHEMAS, check_algorithm
from katib_flows_suggestion._settings import Parsed, Setting, parse


class Algorithm(ABC):
    """A search algorithm. Subclasses set ``name`` and implement ``suggest``; see the module docstring.

    A subclass with rules beyond its settings' types extends ``validate`` (calling ``super().validate``).
    """

    name: ClassVar[str]
    #: The typed settings this algorithm understands: ``SCHEMAS[name]`` unless the class sets its own.
    schema: ClassVar[tuple[Setting, ...]] = ()
    #: The names of ``schema``; any other setting is reported by ``validate``.
    settings: ClassVar[tuple[str, ...]] = ()
    #: True for an algorithm whose state the engine keeps in the store (``suggest_with_state``).
    stateful: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__ and "schema" not in cls.__dict__:
            cls.schema = SCHEMAS.get(cls.name, cls.schema)
        cls.settings = tuple(s.name for s in cls.schema)

    def validate(self, problem: Problem) -> list[SettingProblem]:
        """Return every broken rule about ``problem.settings`` and the space for this algorithm; [] if fine."""
        return check_algorithm(self.name, problem, self.schema)

    def read_settings(self, problem: Problem) -> dict[str, Parsed]:
        """The typed settings ``suggest`` reads; raises ``InvalidSettingsError`` if ``validate`` would complain."""
        problems = self.validate(problem)
        if problems:
            raise InvalidSettingsError(self.name, problems)
        return parse(problem.settings, self.schema)

    @abstractmethod
    def suggest(self, problem: Problem, history: Sequence[Trial], seed: int) -> Decision:
        """Decide the next trial from the full history.

        Deterministic in (problem, history, seed). Implementations mix ``len(history)`` into their random
        state so that successive calls with a growing history give different draws.
        """

    def suggest_with_state(
        self, problem: Problem, history: Sequence[Trial], seed: int, state: Mapping[str, Any] | None
    ) -> Decision:
        """``suggest`` continuing from ``state``, the last ``Suggestion.state`` stored for the experiment.

        Called by the engine for a ``stateful`` algorithm, with None when nothing is stored yet. The algorithm
        must cope with any ``state`` (another version, another problem) by rebuilding from the history, and
        returns its new state in ``Suggestion.state`` (None: unchanged). Deterministic in (problem, history,
        seed, state). By default the state is ignored.
        """
        return self.suggest(problem, history, seed)

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
