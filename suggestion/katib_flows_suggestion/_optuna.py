"""Drive an optuna sampler without keeping anything: rebuild a study from the history, ask once, convert back.

Called by the optuna-backed algorithms (``tpe``, ``multivariate-tpe``). Each call creates an in-memory
study, adds every history trial as an optuna trial (Succeeded/EarlyStopped with a value -> COMPLETE,
Created/Running -> RUNNING so constant-liar sampling steers away from points being evaluated, anything
else -> FAIL), asks for one trial over fixed distributions and maps its values back onto the feasible
space (``_space.snap``). A history trial whose values do not fit the current space is left out.

Rebuilding is most of the cost of a suggestion, so trials go straight into the storage we created
(``InMemoryStorage.create_new_trial``, public storage API) as ``_OwnedTrial`` objects, which the storage
keeps instead of deep-copying: we built them for this study and drop them with it. Their values are
checked here against the distributions (what ``Study.add_trial`` would validate), so nothing invalid
gets in.

Creating a study logs "A new study created in memory" at INFO, which would print on every suggestion.
Rather than lowering optuna's verbosity for the whole process, a logging filter on optuna's in-memory
storage logger drops that one message for our study name only.

Distributions follow Katib's optuna service (``katib-v1beta1.md`` 3.2): int -> IntDistribution(min, max,
step); logUniform -> log=True with low >= 1 (int) or 1e-10 (double) and no step; double with a step ->
FloatDistribution(step); lists -> CategoricalDistribution. Optuna has no normal distributions: normal
and logNormal are searched as uniform and log-uniform over [min, max] (Katib's optuna service refuses
them instead). A step that optuna cannot express (on a log parameter) is applied to the answer by snapping.

A long-lived process can keep the study between calls instead of rebuilding it: ``_warm.WarmStudy``
brings it up to date with the history and asks the same question, with the same answer.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.pruners import NopPruner
from optuna.samplers import BaseSampler
from optuna.storages import InMemoryStorage
from optuna.trial import FrozenTrial, TrialState

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


class _OwnedTrial(FrozenTrial):
    """A FrozenTrial the storage may keep as it is: built for one throw-away study and never shared."""

    def __deepcopy__(self, memo: dict[int, object]) -> _OwnedTrial:
        return self


def _inside(dist: BaseDistribution, value: Value) -> bool:
    if isinstance(dist, CategoricalDistribution):
        return value in dist.choices
    assert isinstance(dist, (FloatDistribution, IntDistribution)) and not isinstance(value, str)
    return bool(dist.low <= value <= dist.high)


def state_of(trial: Trial, problem: Problem) -> tuple[TrialState, list[float] | None]:
    values = trial.objective_values(problem)  # one per objective; (value,) for a single objective
    if trial.status in FINISHED_WITH_VALUE and values is not None and all(math.isfinite(v) for v in values):
        return TrialState.COMPLETE, [float(v) for v in values]
    if trial.status in ACTIVE:
        return TrialState.RUNNING, None
    return TrialState.FAIL, None


def optuna_params(
    parameters: Sequence[Parameter], distributions: dict[str, BaseDistribution], assignments: Mapping[str, Value]
) -> dict[str, Value] | None:
    """``assignments`` as optuna params; None when a value is outside the space, or outside what optuna
    searches (below a log range's floor): such a trial is not evidence here."""
    params: dict[str, Value] = {}
    for p in parameters:
        value = canonical(p, assignments.get(p.name))
        if value is None or not _inside(distributions[p.name], value):
            return None
        params[p.name] = value
    return params


def frozen_trial(
    trial: Trial,
    params: dict[str, Value],
    distributions: dict[str, BaseDistribution],
    problem: Problem,
    attrs: Callable[[Trial], dict[str, Any]] | None = None,
    now: datetime | None = None,
) -> FrozenTrial:
    """The optuna trial for history ``trial`` whose params are ``params`` (from ``optuna_params``)."""
    now = now or datetime.now()
    state, values = state_of(trial, problem)
    finished = now if state.is_finished() else None
    system = attrs(trial) if attrs is not None else {}
    return _OwnedTrial(-1, state, None, now, finished, params, distributions, {}, system, {}, -1, values=values)


def _frozen(
    parameters: Sequence[Parameter],
    distributions: dict[str, BaseDistribution],
    history: Sequence[Trial],
    problem: Problem,
    attrs: Callable[[Trial], dict[str, Any]] | None = None,
) -> Iterator[FrozenTrial]:
    now = datetime.now()
    for trial in history:
        params = optuna_params(parameters, distributions, trial.assignments)
        if params is not None:
            yield frozen_trial(trial, params, distributions, problem, attrs, now)


def known_space(
    study: optuna.Study, space: Mapping[str, BaseDistribution], states: tuple[TrialState, ...]
) -> dict[str, BaseDistribution]:
    """What optuna's ``IntersectionSearchSpace`` returns for a study of ours, without scanning its trials.

    Every trial we add holds the same distributions (the problem's space), so the intersection over the
    finished trials of ``states`` is that space, sorted by name and without single-valued distributions,
    once such a trial exists, else empty. A sampler made for one ask would otherwise compare every trial's
    distributions on each call, where a live sampler updates its intersection trial by trial: that scan was
    half of a kept study's ask at 10,000 trials (TPE) and most of it at 1,000 (NSGA-II).
    """
    if not study.get_trials(deepcopy=False, states=states):
        return {}
    return searched_space(space)


def searched_space(space: Mapping[str, BaseDistribution]) -> dict[str, BaseDistribution]:
    """``known_space``'s answer once a finished trial exists: ``space`` sorted by name, without single values."""
    return {name: space[name] for name in sorted(space) if not space[name].single()}


def new_study(problem: Problem, sampler: BaseSampler) -> tuple[optuna.Study, InMemoryStorage, int]:
    """An empty in-memory study for ``problem`` (one direction per objective), its storage and study id."""
    storage = InMemoryStorage()
    study = optuna.create_study(
        storage=storage, sampler=sampler, pruner=NopPruner(), study_name=_STUDY, directions=list(problem.directions)
    )
    return study, storage, storage.get_study_id_from_name(_STUDY)


def ask(
    problem: Problem,
    history: Sequence[Trial],
    sampler: BaseSampler,
    *,
    attrs: Callable[[Trial], dict[str, Any]] | None = None,
) -> dict[str, Value]:
    """One point from ``sampler`` given ``history``, as feasible values of ``problem``'s parameters.

    The study has one direction per objective (``Problem.directions``). ``attrs`` gives each history
    trial's optuna system attributes, for samplers that keep state there (NSGA-II's generation, see ``_nsga2``).
    """
    distributions = {p.name: distribution(p) for p in problem.parameters}
    study, storage, study_id = new_study(problem, sampler)
    for frozen in _frozen(problem.parameters, distributions, history, problem, attrs):
        storage.create_new_trial(study_id, template_trial=frozen)
    asked = study.ask(distributions)
    return back(problem.parameters, asked.params)


def back(parameters: Sequence[Parameter], params: Mapping[str, object]) -> dict[str, Value]:
    """An asked trial's params as feasible values of ``parameters`` (snapped onto steps)."""
    result: dict[str, Value] = {}
    for p in parameters:
        raw = params[p.name]
        if p.type in ("categorical", "discrete"):
            result[p.name] = str(raw)
        else:
            assert isinstance(raw, (int, float))
            result[p.name] = snap(p, float(raw))
    return result
