"""``cmaes``: CMA-ES (the ``cmaes`` package's ``CMA``) rebuilt on every call by replaying the told generations.

CMA-ES carries state from one generation to the next (mean, step size, covariance, evolution paths). We
keep none of it: each suggestion is labelled with its generation (``LABEL_GENERATION``), and each call
starts a fresh ``CMA`` from the experiment's seed and tells it, generation after generation, the first
``popsize`` trials of that generation that finished with a value, in history order, until a generation
is not complete. Replay is deterministic, so the state it ends in is the state a long-lived optimizer
would hold; it costs one ``tell`` per told generation (about 40 microseconds each; see BENCHMARKS.md).
We chose replay over stored state: it needs no new interface, nothing to version, and survives a
history edited by hand. This is optuna's own scheme (generation in a trial attribute, tell once a
generation is full, then reseed and ask), without the pickled optimizer.

Lanes never wait: while a generation is incomplete, every call asks the current distribution again with a
seed mixed from the history length; trials of a generation that finish after it was told are not used.
Failed and value-less trials do not count towards their generation.

Space: each int/double parameter is scaled to [0, 1] (log parameters in log space, lattices widened by
half a step so every lattice point has the same mass) and CMA's answers are snapped back to the lattice.
Categorical and discrete parameters are drawn at random, as optuna's CmaEsSampler does. Normal
distributions are searched as uniform ones.

Settings (Katib's, ``katib-v1beta1.md`` 3.8): ``random_state`` replaces the seed; ``sigma`` is the initial
step size in the scaled space, so a fraction of each parameter's range (default 1/6, optuna's choice;
goptuna reads it in the parameters' own units, which mixes ranges); ``restart_strategy`` ``none``
(default), ``ipop`` (restart with twice the population when CMA's stop criteria fire) or ``bipop``
(alternating small and large populations, Hansen 2009, population multiplier 2 as in Katib). Restarts
begin from a uniformly drawn mean. Optuna 5 no longer honours ``restart_strategy`` itself.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from cmaes import CMA  # type: ignore[import-untyped]  # cmaes ships no py.typed

from katib_flows_suggestion._algorithm import Algorithm, SuggestionCache
from katib_flows_suggestion._base import (
    FINISHED_WITH_VALUE,
    Decision,
    Parameter,
    Problem,
    Suggestion,
    Trial,
    Value,
)
from katib_flows_suggestion._fresh import fresh
from katib_flows_suggestion._rules import base_seed
from katib_flows_suggestion._scale import UnitScale
from katib_flows_suggestion._seed import derive, generator
from katib_flows_suggestion._space import from_unit

LABEL_GENERATION = "cmaes.suggestion.katib.kubeflow.org/generation"
_DEFAULT_SIGMA = 1 / 6
_POPSIZE_MULTIPLIER = 2


@dataclass
class _Run:
    """One CMA-ES run between restarts, and the BIPOP budget bookkeeping carried across restarts."""

    cma: CMA
    restarts: int = 0
    large_restarts: int = 0
    small_evaluations: int = 0
    large_evaluations: int = 0
    large: bool = True
    first_generation: int = 0


class _Replay:
    """A CMA-ES run told the complete generations of the evidence it was given, fed one trial at a time.

    The cold path feeds every trial of the history in order, then ``advance``s; the warm path (``_Warm``)
    keeps the object and feeds the trials that finished or arrived since. Evidence of one generation is kept
    in history order and its first ``popsize`` are told, so both paths tell the same solutions.
    """

    def __init__(self, scale: UnitScale, seed: int, sigma: float, strategy: str, maximize: bool) -> None:
        self.scale, self.seed, self.sigma, self.strategy, self.maximize = scale, seed, sigma, strategy, maximize
        self.default_popsize = 4 + math.floor(3 * math.log(scale.dim))
        self.run = _Run(_new_cma(np.full(scale.dim, 0.5), sigma, self.default_popsize, derive(seed, 0)))
        self.generation = 0
        self._solutions: dict[int, list[tuple[int, np.ndarray, float]]] = {}
        self._last_told: dict[int, int] = {}  # a told generation -> the history index of its last told trial

    def evidence(self, trial: Trial) -> tuple[int, np.ndarray, float] | None:
        """(generation, coordinates, value to minimise) of a trial that counts, else None."""
        generation = generation_of(trial)
        if generation is None or trial.status not in FINISHED_WITH_VALUE or trial.value is None:
            return None
        x = self.scale.to_unit(trial.assignments)
        if x is None or not math.isfinite(trial.value):
            return None
        return generation, x, -trial.value if self.maximize else trial.value

    def add(self, index: int, evidence: tuple[int, np.ndarray, float]) -> bool:
        """Record the evidence of history trial ``index``; False when it would change a generation already told."""
        generation, x, value = evidence
        last = self._last_told.get(generation)
        if last is not None:
            return index > last  # after the told ones: never used, as in a replay
        bisect.insort(self._solutions.setdefault(generation, []), (index, x, value), key=lambda s: s[0])
        return True

    def advance(self) -> None:
        """Tell every generation that holds ``popsize`` solutions, restarting when CMA's criteria say so."""
        while len(told := self._solutions.get(self.generation, ())) >= self.run.cma.population_size:
            chosen = told[: self.run.cma.population_size]
            self.run.cma.tell([(x, value) for _, x, value in chosen])
            self._last_told[self.generation] = chosen[-1][0]
            self.generation += 1
            if self.strategy != "none" and self.run.cma.should_stop():
                run, popsize0, dim = self.run, self.default_popsize, self.scale.dim
                self.run = _restart(run, self.generation, self.seed, self.sigma, self.strategy, popsize0, dim)


def _replay(
    scale: UnitScale, history: Sequence[Trial], seed: int, sigma: float, strategy: str, maximize: bool
) -> tuple[_Run, int]:
    """The optimizer after telling every complete generation of ``history``, and the current generation."""
    replay = _fed(_Replay(scale, seed, sigma, strategy, maximize), history)
    return replay.run, replay.generation


def _fed(replay: _Replay, history: Sequence[Trial]) -> _Replay:
    """``replay`` given every trial of ``history`` in order, then advanced: the cold path."""
    for index, trial in enumerate(history):
        evidence = replay.evidence(trial)
        if evidence is not None:
            replay.add(index, evidence)
    replay.advance()
    return replay


def _new_cma(mean: np.ndarray, sigma: float, popsize: int, seed: int) -> CMA:
    bounds = np.tile([0.0, 1.0], (len(mean), 1))
    return CMA(mean=mean, sigma=sigma, bounds=bounds, seed=seed, population_size=popsize)


def _restart(run: _Run, generation: int, seed: int, sigma: float, strategy: str, popsize0: int, dim: int) -> _Run:
    """The next run after ``run`` stopped at ``generation`` (IPOP or BIPOP, as optuna 3 implemented them)."""
    rng = generator(seed, 0xB1B0, run.restarts + 1)
    evaluations = run.cma.population_size * (generation - run.first_generation)
    small, large = run.small_evaluations, run.large_evaluations
    if run.large:
        large += evaluations
    else:
        small += evaluations
    large_restarts, is_large, start_sigma = run.large_restarts, True, sigma
    if strategy == "ipop":
        large_restarts += 1
        popsize = popsize0 * _POPSIZE_MULTIPLIER**large_restarts
    elif small < large:
        is_large = False
        multiplier = _POPSIZE_MULTIPLIER**large_restarts
        popsize = math.floor(popsize0 * multiplier ** (float(rng.random()) ** 2))
        start_sigma = sigma * 10 ** (-2 * float(rng.random()))
    else:
        large_restarts += 1
        popsize = popsize0 * _POPSIZE_MULTIPLIER**large_restarts
    mean = rng.random(dim)
    cma = _new_cma(mean, start_sigma, max(popsize, 2), derive(seed, run.restarts + 1))
    return _Run(cma, run.restarts + 1, large_restarts, small, large, is_large, generation)


def generation_of(trial: Trial) -> int | None:
    """The CMA-ES generation a trial was suggested in, from its label; None for a trial without one."""
    text = trial.labels.get(LABEL_GENERATION)
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


class CmaEs(Algorithm):
    """CMA-ES with IPOP/BIPOP restarts; see the module docstring for what each setting does."""

    name = "cmaes"

    def suggest(self, problem: Problem, history: Sequence[Trial], seed: int) -> Decision:
        return _propose(problem, history, _fed(self._new_replay(problem, seed), history))

    def suggest_cached(self, problem: Problem, history: Sequence[Trial], seed: int, cache: SuggestionCache) -> Decision:
        """``suggest``'s decision from a replay kept in ``cache``, fed only what changed (``_Warm``)."""
        warm = cache.kept(self.name, _Warm, _Warm)
        replay = warm.replay((problem, seed), history, lambda: self._new_replay(problem, seed))
        return _propose(problem, history, replay)

    def _new_replay(self, problem: Problem, seed: int) -> _Replay:
        values = self.read_settings(problem)
        sigma = values.get("sigma")
        strategy = values.get("restart_strategy")
        return _Replay(
            UnitScale(tuple(p for p in problem.parameters if p.type in ("int", "double"))),
            base_seed(values, seed),
            float(sigma) if isinstance(sigma, float) else _DEFAULT_SIGMA,
            strategy if isinstance(strategy, str) else "none",
            problem.direction == "maximize",
        )


def _propose(problem: Problem, history: Sequence[Trial], replay: _Replay) -> Decision:
    """The next point of the replayed run, in the current generation, with a seed mixed from the history."""
    seed, run, generation = replay.seed, replay.run, replay.generation
    run.cma.reseed_rng(derive(seed, generation, len(history)))
    point: dict[str, Value] = dict(replay.scale.from_unit(run.cma.ask()))
    point.update(_categorical(problem.parameters, seed, len(history)))
    labels = {LABEL_GENERATION: str(generation)}
    order = [p.name for p in problem.parameters]
    proposal = {name: point[name] for name in order}
    return fresh(problem.parameters, history, seed, proposal, wrap=lambda a: Suggestion(a, labels=labels))


_Outcome = tuple[str, float | None]


class _Warm:
    """One experiment's ``_Replay``, kept between calls and fed the trials that finished or arrived since.

    A doubt rebuilds it from the history: another problem or seed, a shorter history, a kept trial renamed,
    reassigned or relabelled, a trial that counted changing its outcome, or a newly finished trial that
    belongs before the told ones of an already told generation (a replay would tell it instead).
    """

    def __init__(self) -> None:
        self.rebuilds = 0
        """How many times the replay was built from the whole history (the first call included)."""
        self._key: object = None
        self._replay: _Replay | None = None
        self._names: list[str] = []
        self._assignments: list[dict[str, Value]] = []
        self._labels: list[dict[str, str]] = []
        self._outcomes: list[_Outcome] = []
        self._counted: list[bool] = []

    def replay(self, key: object, history: Sequence[Trial], make: Callable[[], _Replay]) -> _Replay:
        """The replay of ``history`` told up to date; ``key`` names the problem and seed it was made for."""
        trials = list(history[0 : len(history)])
        if self._replay is None or key != self._key or not self._update(self._replay, trials):
            self.rebuilds += 1
            self._key, self._replay = key, make()
            self._names, self._assignments, self._labels, self._outcomes, self._counted = [], [], [], [], []
            self._append(self._replay, trials)
        self._replay.advance()
        return self._replay

    def _append(self, replay: _Replay, trials: Sequence[Trial]) -> bool:
        for trial in trials:
            evidence = replay.evidence(trial)
            if evidence is not None and not replay.add(len(self._names), evidence):
                return False
            self._names.append(trial.name)
            self._assignments.append(dict(trial.assignments))
            self._labels.append(dict(trial.labels))
            self._outcomes.append((trial.status, trial.value))
            self._counted.append(evidence is not None)
        return True

    def _update(self, replay: _Replay, trials: list[Trial]) -> bool:
        kept = len(self._names)
        if len(trials) < kept:
            return False
        old = trials[:kept]
        if (
            [t.name for t in old] != self._names
            or [t.assignments for t in old] != self._assignments
            or [t.labels for t in old] != self._labels
        ):
            return False
        outcomes = [(t.status, t.value) for t in old]
        if outcomes != self._outcomes:
            for index, (now, before) in enumerate(zip(outcomes, self._outcomes, strict=True)):
                if now == before:
                    continue
                if self._counted[index]:
                    return False
                self._outcomes[index] = now
                evidence = replay.evidence(trials[index])
                if evidence is not None:
                    if not replay.add(index, evidence):
                        return False
                    self._counted[index] = True
        return self._append(replay, trials[kept:])


def _categorical(parameters: Sequence[Parameter], seed: int, position: int) -> Mapping[str, Value]:
    rng = generator(seed, position, 0xCA7)
    lists = [p for p in parameters if p.type in ("categorical", "discrete")]
    return {p.name: from_unit(p, float(u)) for p, u in zip(lists, rng.random(len(lists)), strict=True)}
