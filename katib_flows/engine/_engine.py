"""The engine: stateless functions over the store that every lane and every Argo step calls.

``claim_next_trial`` is the heart: one store transaction that locks the experiment row, re-checks
completion, checks the budget and parallelism, asks the algorithm for one suggestion from the whole
history and inserts the trial, so two lanes (threads, processes or pods) never take the same slot.
The functions keep nothing between calls; any process can call them, crash, and be replaced.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass

import katib_flows_suggestion as sg

from katib_flows.engine import _decide
from katib_flows.engine._decide import REASON_INTERRUPTED, Verdict
from katib_flows.errors import SpecError
from katib_flows.spec import Experiment, to_search_problem
from katib_flows.store import ExperimentRecord, ExperimentTxn, MetricLog, Store, TrialRecord, TrialStatus

_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class Claimed:
    """A new trial, created for the caller's lane; run it, then call ``finish_trial``."""

    trial: TrialRecord


@dataclass(frozen=True)
class Wait:
    """Nothing to run now (all slots busy, or the algorithm waits for results); ask again later."""

    reason: str


@dataclass(frozen=True)
class Done:
    """Nothing more will be created for this experiment; the lane can end."""

    reason: str


ClaimResult = Claimed | Wait | Done


def experiment_of(record: ExperimentRecord) -> Experiment:
    """The defaulted spec stored with the experiment, as a model."""
    return Experiment.model_validate(record.spec)


def register_experiment(
    store: Store, experiment: Experiment, *, namespace: str, name: str, seed: int | None = None
) -> ExperimentRecord:
    """Store a checked, defaulted experiment under (namespace, name) with its seed."""
    if seed is None:
        settings = experiment.spec.algorithm.settings() if experiment.spec.algorithm else {}
        seed = int(settings["random_state"]) if settings.get("random_state", "").isdigit() else secrets.randbelow(2**31)
    spec = experiment.dump()
    spec.setdefault("metadata", {}).update({"name": name, "namespace": namespace})
    return store.create_experiment(namespace, name, spec, seed=seed)


def new_trial_name(experiment: str) -> str:
    """Katib's naming: the experiment's name, a dash and 8 random lowercase letters and digits."""
    return f"{experiment}-{''.join(secrets.choice(_ALPHABET) for _ in range(8))}"


def algorithm_for(experiment: Experiment) -> sg.Algorithm:
    name = experiment.spec.algorithm.algorithm_name if experiment.spec.algorithm else None
    try:
        return sg.get_algorithm(name or "")
    except LookupError as exc:
        raise SpecError(f"spec.algorithm.algorithmName: {exc.args[0] if exc.args else exc}") from exc


def claim_next_trial(
    store: Store, namespace: str, name: str, *, lane: int | None = None, runner: str | None = None
) -> ClaimResult:
    """Create the next trial in one transaction, or say why not (``Wait``) or that nothing is left (``Done``)."""
    with store.locked_experiment(namespace, name) as tx:
        record = tx.experiment
        if record.condition.terminal:
            return Done(f"experiment is {record.condition.value}: {record.message}")
        experiment = experiment_of(record)
        trials = tx.trials()
        verdict = _decide.completion(experiment, trials)
        if verdict is not None:
            _set_verdict(tx, experiment, trials, verdict)
            return Done(verdict.message)
        if _decide.budget_spent(experiment, trials):
            return Done("every trial of the budget has been created")
        if _decide.free_slots(experiment, trials) == 0:
            return Wait(f"all {experiment.spec.parallel_trial_count} parallel slots are busy")
        decision = algorithm_for(experiment).suggest(
            to_search_problem(experiment.spec), _decide.history(experiment, trials), record.seed
        )
        if isinstance(decision, sg.Wait):
            return Wait(decision.reason)
        if isinstance(decision, sg.Exhausted):
            if _decide.Counts.of(trials).active == 0:
                _set_verdict(tx, experiment, trials, _decide.SUGGESTION_END)
            return Done(decision.reason)
        if record.condition.value != _decide.RUNNING.condition.value:
            tx.set_condition(_decide.RUNNING.condition, _decide.RUNNING.reason, _decide.RUNNING.message)
        trial = tx.add_trial(
            decision.name or new_trial_name(name), decision.assignments, lane=lane, labels=decision.labels
        )
    return Claimed(trial)


def record_observation(store: Store, namespace: str, trial_name: str, logs: Iterable[MetricLog]) -> None:
    """Append metric rows reported by a running trial (Katib's ``ReportObservationLog``)."""
    rows = list(logs)
    if rows:
        store.register_observation_log(namespace, trial_name, rows)


def finish_trial(
    store: Store,
    namespace: str,
    trial_name: str,
    status: TrialStatus,
    *,
    reason: str = "",
    message: str = "",
) -> TrialRecord:
    """Close a trial with its outcome and observation, then re-evaluate the experiment.

    A trial whose workload succeeded but never reported the objective becomes ``MetricsUnavailable``.
    Finishing an already finished trial changes nothing (a retried step is harmless).
    """
    trial = store.get_trial(namespace, trial_name)
    experiment = experiment_of(store.get_experiment(namespace, trial.experiment))
    metrics = _decide.metric_names(experiment)
    summary = _decide.observation_summary(store.get_observation_log(namespace, trial_name), metrics)
    value = _decide.objective_value(summary, metrics[0], _decide.strategy_of(experiment, metrics[0]))
    if status is TrialStatus.SUCCEEDED and value is None:
        status, reason = TrialStatus.METRICS_UNAVAILABLE, reason or "MetricsUnavailable"
        message = message or f"the trial did not report the objective metric {metrics[0]!r}"
    if not reason:
        reason = {
            TrialStatus.SUCCEEDED: "TrialSucceeded",
            TrialStatus.FAILED: "TrialFailed",
            TrialStatus.EARLY_STOPPED: "TrialEarlyStopped",
            TrialStatus.KILLED: "TrialKilled",
        }.get(status, "")
    store.finish_trial(
        namespace,
        trial_name,
        status,
        reason=reason,
        message=message,
        observation=summary,
        objective_value=value,
    )
    evaluate_experiment(store, namespace, trial.experiment)
    return store.get_trial(namespace, trial_name)


def interrupt_trial(store: Store, namespace: str, trial_name: str, message: str) -> bool:
    """Mark a trial whose runner went away; it will not count against the budget and is run again."""
    return store.finish_trial(namespace, trial_name, TrialStatus.KILLED, reason=REASON_INTERRUPTED, message=message)


def evaluate_experiment(store: Store, namespace: str, name: str) -> ExperimentRecord:
    """Re-decide the experiment's condition and optimal trial from its trials, and record them."""
    with store.locked_experiment(namespace, name) as tx:
        record = tx.experiment
        if record.condition.terminal:
            return record
        experiment = experiment_of(record)
        trials = tx.trials()
        verdict = _decide.completion(experiment, trials)
        if verdict is None and _decide.Counts.of(trials).active == 0 and not _decide.budget_spent(experiment, trials):
            decision = algorithm_for(experiment).suggest(
                to_search_problem(experiment.spec), _decide.history(experiment, trials), record.seed
            )
            verdict = _decide.SUGGESTION_END if isinstance(decision, sg.Exhausted) else None
        if verdict is not None:
            _set_verdict(tx, experiment, trials, verdict)
        else:
            best = _decide.optimal_trial(experiment, trials)
            if best is not None and best.name != record.optimal_trial:
                tx.set_condition(record.condition, record.reason, record.message, optimal_trial=best.name)
    return store.get_experiment(namespace, name)


def _set_verdict(tx: ExperimentTxn, experiment: Experiment, trials: list[TrialRecord], verdict: Verdict) -> None:
    best = _decide.optimal_trial(experiment, trials)
    tx.set_condition(verdict.condition, verdict.reason, verdict.message, optimal_trial=best.name if best else None)
