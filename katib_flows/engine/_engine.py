"""The engine: stateless functions over the store that every lane and every Argo step calls.

``claim_next_trial`` is the heart: one store transaction that locks the experiment row, re-checks
completion, checks the budget and parallelism, asks the algorithm for one suggestion from the whole
history and inserts the trial, so two lanes (threads, processes or pods) never take the same slot. A
stateful algorithm (enas) gets the state stored with the experiment and its new state is saved in the same
transaction. The functions keep nothing between calls; any process can call them, crash, and be replaced.

Leases: a runner claims with ``lease`` seconds and renews them while its trials run; claiming and
evaluating first interrupt the active trials whose lease expired (their runner is gone), so their slots
are freed and run again. Claiming, finishing and evaluating are replayed whole (``Store.retrying``) when
the store is briefly unreachable or locked.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import overload

import katib_flows_suggestion as sg

from katib_flows.engine import _decide
from katib_flows.engine._decide import REASON_INTERRUPTED, Verdict
from katib_flows.errors import NotFoundError, SpecError
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
    """Nothing more will be created for this experiment; the lane can end.

    ``completed`` says the experiment itself has completed, so trials still running should be stopped.
    """

    reason: str
    completed: bool = False


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
    store: Store,
    namespace: str,
    name: str,
    *,
    lane: int | None = None,
    runner: str | None = None,
    cache: sg.SuggestionCache | None = None,
    lease: float | None = None,
) -> ClaimResult:
    """Create the next trial in one transaction, or say why not (``Wait``) or that nothing is left (``Done``).

    With ``runner`` the trial is created Running (claimed and started at once); without, Created. With
    ``lease`` the runner holds the trial for that many seconds and must renew it (``Store.renew_leases``)
    while it runs. A long-lived caller may pass its ``cache`` for this experiment: the algorithm may keep
    state there between claims and suggest faster, with the same decisions (DESIGN.md section 4); without
    one it rebuilds.
    """
    return store.retrying(lambda: _claim(store, namespace, name, lane, runner, cache, lease))


def _claim(
    store: Store,
    namespace: str,
    name: str,
    lane: int | None,
    runner: str | None,
    cache: sg.SuggestionCache | None,
    lease: float | None,
) -> ClaimResult:
    with store.locked_experiment(namespace, name) as tx:
        record = tx.experiment
        if record.condition.terminal:
            return Done(f"experiment is {record.condition.value}: {record.message}", completed=True)
        _expire_leases(tx)
        experiment = experiment_of(record)
        counts = _decide.Counts.from_tally(tx.status_counts())
        goal = _decide.goal(experiment)
        best = tx.best_trial(maximize=_decide.maximize(experiment)) if goal is not None else None
        verdict = _decide.completion(experiment, counts, _goal_value(tx, experiment, best))
        if verdict is not None:
            _set_verdict(tx, experiment, verdict)
            return Done(verdict.message, completed=True)
        if _decide.budget_spent(experiment, counts):
            return Done("every trial of the budget has been created")
        if _decide.free_slots(experiment, counts) == 0:
            return Wait(f"all {experiment.spec.parallel_trial_count} parallel slots are busy")
        history = _History(tx, experiment, counts.total)
        algorithm, problem = algorithm_for(experiment), to_search_problem(experiment.spec)
        if algorithm.stateful:
            # Its state is in the store (read and written under this lock), so any process continues it.
            decision = algorithm.suggest_with_state(problem, history, record.seed, tx.algorithm_state())
        elif cache is not None:
            decision = cache.suggest(algorithm, problem, history, record.seed)
        else:
            decision = algorithm.suggest(problem, history, record.seed)
        if isinstance(decision, sg.Wait):
            return Wait(decision.reason)
        if isinstance(decision, sg.Exhausted):
            if counts.active == 0:
                _set_verdict(tx, experiment, _decide.SUGGESTION_END)
            return Done(decision.reason, completed=counts.active == 0)
        if decision.state is not None:
            tx.save_algorithm_state(decision.state)
        if record.condition is not _decide.RUNNING.condition:
            tx.set_condition(_decide.RUNNING.condition, _decide.RUNNING.reason, _decide.RUNNING.message)
        trial = tx.add_trial(
            decision.name or new_trial_name(name),
            decision.assignments,
            lane=lane,
            labels=decision.labels,
            status=TrialStatus.RUNNING if runner else TrialStatus.CREATED,
            runner=runner,
            lease_seconds=lease if runner else None,
        )
    return Claimed(trial)


def _expire_leases(tx: ExperimentTxn) -> None:
    """Interrupt the active trials whose runner stopped renewing their lease: they do not count, and run again."""
    for trial in tx.expired_trials():
        expired = trial.lease_expires_at.isoformat(timespec="seconds") if trial.lease_expires_at else "?"
        tx.finish_trial(trial.name, TrialStatus.KILLED, reason=REASON_INTERRUPTED,
                        message=f"its runner {trial.runner} stopped renewing its lease (expired {expired}); "
                        "it runs again")  # fmt: skip


class _History(Sequence[sg.Trial]):
    """The trial history for an algorithm, read from the store only if the algorithm looks past its length.

    Random search needs only ``len(history)``; TPE or grid read every trial, which is their own cost.
    """

    def __init__(self, tx: ExperimentTxn, experiment: Experiment, length: int) -> None:
        self._tx, self._experiment, self._length = tx, experiment, length
        self._trials: list[sg.Trial] | None = None

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> sg.Trial: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[sg.Trial]: ...
    def __getitem__(self, index: int | slice) -> sg.Trial | Sequence[sg.Trial]:
        if self._trials is None:
            self._trials = _decide.history(self._experiment, self._tx.trials())
        return self._trials[index]


def record_observation(
    store: Store, namespace: str, trial_name: str, logs: Iterable[MetricLog], *, wait: bool = True
) -> None:
    """Append metric rows reported by a running trial (Katib's ``ReportObservationLog``).

    Without ``wait`` an unreachable store raises ``StoreUnavailableError`` at once, so that the caller keeps
    the rows and tries again later instead of holding up the trial's output.
    """
    rows = list(logs)
    if rows:
        store.register_observation_log(namespace, trial_name, rows, wait=wait)


def finish_trial(
    store: Store,
    namespace: str,
    trial_name: str,
    status: TrialStatus,
    *,
    reason: str = "",
    message: str = "",
    experiment: str | None = None,
    logs: Iterable[MetricLog] = (),
) -> TrialRecord:
    """Record the trial's last metric rows (``logs``), close it with its outcome and observation and
    re-evaluate the experiment, all in one transaction.

    A trial whose workload succeeded but never reported the objective becomes ``MetricsUnavailable``.
    Finishing an already finished trial changes nothing (a retried step is harmless). Callers that know
    the trial's experiment pass ``experiment`` and save a look-up.
    """
    if experiment is None:
        experiment = store.get_trial(namespace, trial_name).experiment
    rows, attempts = list(logs), 0

    def attempt() -> TrialRecord:
        nonlocal attempts
        attempts += 1
        if attempts > 1:  # an earlier attempt's commit may have succeeded with its answer lost
            earlier = store.get_trial(namespace, trial_name)
            if earlier.status.terminal:
                return earlier  # finished already: storing the rows again would duplicate them
        return _finish(store, namespace, trial_name, status, reason, message, experiment, rows)

    return store.retrying(attempt)


def _finish(
    store: Store,
    namespace: str,
    trial_name: str,
    status: TrialStatus,
    reason: str,
    message: str,
    experiment: str,
    logs: list[MetricLog],
) -> TrialRecord:
    with store.locked_experiment(namespace, experiment) as tx:
        logs = tx.record_and_read_logs(trial_name, logs)
        spec = experiment_of(tx.experiment)
        metrics = _decide.metric_names(spec)
        summary = _decide.observation_summary(logs, metrics)
        values = _decide.values_of(spec, summary)
        value = values[0]
        # As Katib, a trial without a value is MetricsUnavailable, but a non-numeric value (DARTS's genotype)
        # is a value: the trial succeeds with objective_value None, which makes it the optimal trial (best_trial).
        missing = [
            metric
            for metric, _ in _decide.objectives(spec)
            if _decide.objective_text(summary, metric, _decide.strategy_of(spec, metric)) is None
        ]
        if status is TrialStatus.SUCCEEDED and missing:
            status, reason = TrialStatus.METRICS_UNAVAILABLE, reason or "MetricsUnavailable"
            what = "the objective metric" if len(values) == 1 else "objective metrics"
            message = message or f"the trial did not report {what} {', '.join(map(repr, missing))}"
            value = None  # not a candidate for the optimal trial, as in the single-objective case
        reason = reason or _TRIAL_REASONS.get(status, "")
        finished = tx.finish_trial(
            trial_name, status, reason=reason, message=message, observation=summary, objective_value=value
        )
        if finished is None:
            raise NotFoundError(f"experiment {namespace}/{experiment} has no trial {trial_name!r}")
        _evaluate(tx, spec)
    return finished


_TRIAL_REASONS = {
    TrialStatus.SUCCEEDED: "TrialSucceeded",
    TrialStatus.FAILED: "TrialFailed",
    TrialStatus.EARLY_STOPPED: "TrialEarlyStopped",
    TrialStatus.KILLED: "TrialKilled",
}


def interrupt_trial(store: Store, namespace: str, trial_name: str, message: str) -> bool:
    """Mark a trial whose runner went away; it will not count against the budget and is run again."""
    return store.finish_trial(namespace, trial_name, TrialStatus.KILLED, reason=REASON_INTERRUPTED, message=message)


def evaluate_experiment(store: Store, namespace: str, name: str) -> ExperimentRecord:
    """Re-decide the experiment's condition and optimal trial from its trial counts, and record them.

    The one decision that needs the algorithm, "search space exhausted", is taken by the next claim.
    """

    def evaluate() -> ExperimentRecord:
        with store.locked_experiment(namespace, name) as tx:
            return _evaluate(tx, experiment_of(tx.experiment))

    return store.retrying(evaluate)


def _evaluate(tx: ExperimentTxn, experiment: Experiment) -> ExperimentRecord:
    record = tx.experiment
    if record.condition.terminal:
        return record
    _expire_leases(tx)
    counts = _decide.Counts.from_tally(tx.status_counts())
    best = tx.best_trial(maximize=_decide.maximize(experiment))
    verdict = _decide.completion(experiment, counts, _goal_value(tx, experiment, best))
    if verdict is not None:
        return _set_verdict(tx, experiment, verdict, best)
    if best is not None and best[0] != record.optimal_trial:
        return tx.set_condition(record.condition, record.reason, record.message, optimal_trial=best[0])
    return record


def _goal_value(tx: ExperimentTxn, experiment: Experiment, best: tuple[str, float | None] | None) -> float | None:
    """The value the goal is judged on: the best trial's; when that one's value is not a number (DARTS's
    genotype, the best without comparison), the best number among the finished trials, as Katib judges the
    goal on the best number it has seen whichever trial it shows as best."""
    if best is None or best[1] is not None or _decide.goal(experiment) is None:
        return best[1] if best else None
    return tx.best_value(maximize=_decide.maximize(experiment))


def _set_verdict(
    tx: ExperimentTxn, experiment: Experiment, verdict: Verdict, best: tuple[str, float | None] | None = None
) -> ExperimentRecord:
    best = best or tx.best_trial(maximize=_decide.maximize(experiment))
    return tx.set_condition(verdict.condition, verdict.reason, verdict.message, optimal_trial=best[0] if best else None)
