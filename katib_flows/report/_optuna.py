"""Our history as Optuna trials: for parameter importance, and for ``export --format optuna``.

``study_from`` builds an in-memory Optuna study (the importance evaluators read one); ``write_storage``
writes the same trials into an Optuna RDB storage (a SQLite file) that ``optuna.load_study`` and
optuna-dashboard open. Katib's statuses map to Optuna's states: Succeeded -> COMPLETE, EarlyStopped ->
PRUNED, Failed/Killed/MetricsUnavailable -> FAIL; trials still Created or Running are left out. Each
trial keeps its Katib name, status and every metric's latest value as user attributes, and the
objective's observation log as intermediate values by step.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import katib_flows_suggestion as sg

from katib_flows.errors import KatibFlowsError
from katib_flows.report._history import History
from katib_flows.store import TrialRecord, TrialStatus

_LOG = ("logUniform", "logNormal")


@contextmanager
def quiet_optuna() -> Iterator[None]:
    """Optuna announces every study it creates at INFO; a report or an export should not."""
    logger = logging.getLogger("optuna")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def distributions(history: History) -> dict[str, Any]:
    """An Optuna distribution per parameter, widened to every value a trial actually received."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    result: dict[str, Any] = {}
    for p in history.parameters:
        seen = [t.assignments[p.name] for t in history.trials if p.name in t.assignments]
        if p.type in ("categorical", "discrete"):
            choices = list(_choices(p))
            choices += [v for v in seen if v not in choices]
            result[p.name] = CategoricalDistribution(choices)
            continue
        numbers = [float(v) for v in seen]
        low = min([p.min if p.min is not None else 0.0, *numbers])
        high = max([p.max if p.max is not None else low, *numbers])
        log = p.distribution in _LOG and low > 0
        if p.type == "int":
            step = int(p.step) if p.step and not log and all((v - low) % p.step == 0 for v in numbers) else 1
            result[p.name] = IntDistribution(int(low), int(high), log=log, step=step)
        else:
            result[p.name] = FloatDistribution(low, high, log=log)
    return result


def _choices(p: sg.Parameter) -> tuple[Any, ...]:
    if p.type == "discrete":
        return tuple(float(v) for v in p.values)
    return p.values


def frozen_trials(history: History) -> list[Any]:
    """The finished trials as Optuna ``FrozenTrial``s, numbered from 0 in creation order."""
    from optuna.trial import FrozenTrial, TrialState

    dists = distributions(history)
    states = {
        TrialStatus.SUCCEEDED: TrialState.COMPLETE,
        TrialStatus.EARLY_STOPPED: TrialState.PRUNED,
        TrialStatus.FAILED: TrialState.FAIL,
        TrialStatus.KILLED: TrialState.FAIL,
        TrialStatus.METRICS_UNAVAILABLE: TrialState.FAIL,
    }
    result: list[FrozenTrial] = []
    for trial in history.trials:
        state = states.get(trial.status)
        if state is None:
            continue
        values = _values(history, trial)
        if state is TrialState.COMPLETE and values is None:
            state = TrialState.FAIL
        params = {name: _param(dists[name], trial.assignments[name]) for name in dists if name in trial.assignments}
        result.append(
            FrozenTrial(
                number=len(result),
                state=state,
                value=None,
                values=values if state is TrialState.COMPLETE else None,
                datetime_start=trial.started_at or trial.created_at,
                datetime_complete=trial.completed_at,
                params=params,
                distributions={name: dists[name] for name in params},
                user_attrs=_attrs(trial),
                system_attrs={},
                intermediate_values=_intermediate(history, trial),
                trial_id=len(result),
            )
        )
    return result


def _param(distribution: Any, value: Any) -> Any:
    from optuna.distributions import IntDistribution

    if isinstance(distribution, IntDistribution):
        return int(value)
    if type(distribution).__name__ == "FloatDistribution":
        return float(value)
    return value


def _values(history: History, trial: TrialRecord) -> list[float] | None:
    if len(history.objectives) == 1:
        return None if trial.objective_value is None else [trial.objective_value]
    values = history.values(trial)  # each objective by its metric strategy, as the engine computes them
    return None if values is None else list(values)


def _attrs(trial: TrialRecord) -> dict[str, Any]:
    attrs: dict[str, Any] = {"katib_trial": trial.name, "katib_status": trial.status.value}
    if trial.reason:
        attrs["katib_reason"] = trial.reason
    for metric, summary in trial.observation.items():
        attrs[f"metric:{metric}"] = summary.get("latest")
    return attrs


def _intermediate(history: History, trial: TrialRecord) -> dict[int, float]:
    steps, values = history.curve(trial.name, history.objective.metric)
    return dict(zip(steps, values, strict=True))


def study_from(history: History, storage: Any = None, study_name: str | None = None) -> Any:
    """A new Optuna study holding the history's finished trials (in memory unless ``storage`` is given)."""
    import optuna

    directions: list[Any] = [o.direction for o in history.objectives]
    with quiet_optuna():
        study = optuna.create_study(storage=storage, study_name=study_name, directions=directions)
        study.add_trials(frozen_trials(history))
        study.set_user_attr("katib_experiment", f"{history.experiment.namespace}/{history.experiment.name}")
    return study


def write_storage(history: History, path: Path) -> str:
    """Write the history as an Optuna study named after the experiment into a new SQLite file; its URL."""
    if path.exists():
        raise KatibFlowsError(f"{path} already exists; an Optuna export writes a new file: remove it or choose -o")
    path.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{path.resolve()}"
    import optuna

    storage = optuna.storages.RDBStorage(url)
    try:
        study_from(history, storage, history.experiment.name)
    finally:
        storage.remove_session()
        storage.engine.dispose()
    return url
