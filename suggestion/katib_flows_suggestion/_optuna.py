"""Drive an optuna sampler without keeping anything: rebuild a study from the history, ask once, convert back.

Called by the optuna-backed algorithms (``tpe``, ``multivariate-tpe``). Each call creates an in-memory
study, adds every history trial as an optuna trial (Succeeded/EarlyStopped with a value -> COMPLETE,
Created/Running -> RUNNING so constant-liar sampling steers away from points being evaluated, anything
else -> FAIL), asks for one trial over fixed distributions and maps its values back onto the feasible
space (``_space.snap``). A history trial whose values do not fit the current space is left out.

Creating a study logs "A new study created in memory" at INFO, which would print on every suggestion.
Rather than lowering optuna's verbosity for the whole process, a logging filter on optuna's in-memory
storage logger drops that one message for our study name only.

Distributions follow Katib's optuna service (``katib-v1beta1.md`` 3.2): int -> IntDistribution(min, max,
step); logUniform -> log=True with low >= 1 (int) or 1e-10 (double) and no step; double with a step ->
FloatDistribution(step); lists -> CategoricalDistribution. Optuna has no normal distributions: normal
and logNormal are searched as uniform and log-uniform over [min, max] (Katib's optuna service refuses
them instead). A step that optuna cannot express (on a log parameter) is applied to the answer by snapping.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping, Sequence

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.pruners import NopPruner
from optuna.samplers import BaseSampler
from optuna.storages import InMemoryStorage
from optuna.trial import FrozenTrial, TrialState, create_trial

from katib_flows_suggestion._base import ACTIVE, FINISHED_WITH_VALUE, Parameter, Problem, Trial, Value
from katib_flows_suggestion._space import LOG_LOW_DOUBLE, LOG_LOW_INT, bounds, canonical, choices, lattice, snap

_STUDY = "katib-flows-suggestion"


class _QuietStudyCreation(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().endswith(f"name: {_STUDY}")


logging.getLogger("optuna.storages._in_memory").addFilter(_QuietStudyCreation())


def distribution(p: Parameter) -> BaseDistribution:
    """The optuna distribution searched for ``p``."""
    if p.type in ("categorical", "discrete"):
        return CategoricalDistribution(choices(p))
    low, high = bounds(p)
    log = p.distribution in ("logUniform", "logNormal")
    grid = lattice(p)
    if p.type == "int":
        assert grid is not None
        if log:
            low_int = max(LOG_LOW_INT, int(grid.low))
            return IntDistribution(low_int, max(low_int, int(high)), log=True)
        # The last lattice point as high, so optuna does not warn that the range is not divisible by step.
        last = grid.at(max(grid.count - 1, 0))
        return IntDistribution(int(grid.low), int(last), step=int(grid.step))
    if log:
        low = max(LOG_LOW_DOUBLE, low)
        return FloatDistribution(low, max(low, high), log=True)
    if grid is not None and grid.count > 0:
        return FloatDistribution(float(grid.low), float(grid.at(grid.count - 1)), step=float(grid.step))
    return FloatDistribution(low, high)


def _state(trial: Trial) -> tuple[TrialState, float | None]:
    if trial.status in FINISHED_WITH_VALUE and trial.value is not None and math.isfinite(trial.value):
        return TrialState.COMPLETE, float(trial.value)
    if trial.status in ACTIVE:
        return TrialState.RUNNING, None
    return TrialState.FAIL, None


def _frozen(
    parameters: Sequence[Parameter], distributions: dict[str, BaseDistribution], history: Sequence[Trial]
) -> Iterator[FrozenTrial]:
    for trial in history:
        params = {p.name: canonical(p, trial.assignments.get(p.name)) for p in parameters}
        if any(value is None for value in params.values()):
            continue
        state, value = _state(trial)
        try:
            yield create_trial(state=state, value=value, params=params, distributions=distributions)
        except ValueError:
            continue  # a value outside what optuna searches (e.g. below a log range's floor): not evidence here


def ask(problem: Problem, history: Sequence[Trial], sampler: BaseSampler) -> dict[str, Value]:
    """One point from ``sampler`` given ``history``, as feasible values of ``problem``'s parameters."""
    distributions = {p.name: distribution(p) for p in problem.parameters}
    study = optuna.create_study(
        storage=InMemoryStorage(), sampler=sampler, pruner=NopPruner(), study_name=_STUDY, direction=problem.direction
    )
    study.add_trials(list(_frozen(problem.parameters, distributions, history)))
    asked = study.ask(distributions)
    return _back(problem.parameters, asked.params)


def _back(parameters: Sequence[Parameter], params: Mapping[str, object]) -> dict[str, Value]:
    result: dict[str, Value] = {}
    for p in parameters:
        raw = params[p.name]
        if p.type in ("categorical", "discrete"):
            result[p.name] = str(raw)
        else:
            assert isinstance(raw, (int, float))
            result[p.name] = snap(p, float(raw))
    return result
