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

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from cmaes import CMA  # type: ignore[import-untyped]  # cmaes ships no py.typed

from katib_flows_suggestion._base import (
    FINISHED_WITH_VALUE,
    Algorithm,
    Decision,
    Parameter,
    Problem,
    SettingProblem,
    Suggestion,
    Trial,
    Value,
)
from katib_flows_suggestion._fresh import fresh
from katib_flows_suggestion._rules import SCHEMAS, base_seed, check_algorithm, read_settings
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


def _replay(
    scale: UnitScale, history: Sequence[Trial], seed: int, sigma: float, strategy: str, maximize: bool
) -> tuple[_Run, int]:
    """The optimizer after telling every complete generation of ``history``, and the current generation."""
    solutions: dict[int, list[tuple[np.ndarray, float]]] = {}
    for trial in history:
        generation = generation_of(trial)
        if generation is None or trial.status not in FINISHED_WITH_VALUE or trial.value is None:
            continue
        x = scale.to_unit(trial.assignments)
        if x is None or not math.isfinite(trial.value):
            continue
        solutions.setdefault(generation, []).append((x, -trial.value if maximize else trial.value))
    dim = scale.dim
    default_popsize = 4 + math.floor(3 * math.log(dim))
    run = _Run(_new_cma(np.full(dim, 0.5), sigma, default_popsize, derive(seed, 0)))
    generation = 0
    while len(told := solutions.get(generation, ())) >= run.cma.population_size:
        run.cma.tell(list(told[: run.cma.population_size]))
        generation += 1
        if strategy != "none" and run.cma.should_stop():
            run = _restart(run, generation, seed, sigma, strategy, default_popsize, dim)
    return run, generation


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
    settings = tuple(s.name for s in SCHEMAS["cmaes"])

    def validate(self, problem: Problem) -> list[SettingProblem]:
        return check_algorithm(self.name, problem)

    def suggest(self, problem: Problem, history: Sequence[Trial], seed: int) -> Decision:
        values = read_settings(self.name, problem)
        seed = base_seed(values, seed)
        sigma = values.get("sigma")
        strategy = values.get("restart_strategy")
        numeric = tuple(p for p in problem.parameters if p.type in ("int", "double"))
        scale = UnitScale(numeric)
        run, generation = _replay(
            scale,
            history,
            seed,
            float(sigma) if isinstance(sigma, float) else _DEFAULT_SIGMA,
            strategy if isinstance(strategy, str) else "none",
            problem.direction == "maximize",
        )
        run.cma.reseed_rng(derive(seed, generation, len(history)))
        point: dict[str, Value] = dict(scale.from_unit(run.cma.ask()))
        point.update(_categorical(problem.parameters, seed, len(history)))
        labels = {LABEL_GENERATION: str(generation)}
        order = [p.name for p in problem.parameters]
        return fresh(
            problem.parameters,
            history,
            seed,
            {name: point[name] for name in order},
            wrap=lambda a: Suggestion(a, labels=labels),
        )


def _categorical(parameters: Sequence[Parameter], seed: int, position: int) -> Mapping[str, Value]:
    rng = generator(seed, position, 0xCA7)
    lists = [p for p in parameters if p.type in ("categorical", "discrete")]
    return {p.name: from_unit(p, float(u)) for p, u in zip(lists, rng.random(len(lists)), strict=True)}
