"""The engine's pure decisions: trial counts, observation summaries, the optimal trial, completion.

No I/O here: every function takes the spec and the trial records and returns a value, so both engines
(local lanes and Argo steps) decide alike and the rules are tested without a database. Katib's rules
are in ``katib-v1beta1.md`` sections 2.1-2.3; where we differ the comment says why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import katib_flows_suggestion as sg

from katib_flows.spec import Experiment
from katib_flows.store import ExperimentCondition, MetricLog, TrialRecord, TrialStatus

UNAVAILABLE = "unavailable"
#: Reason of a trial stopped because its runner went away (Ctrl-C, a killed process, a lost node).
#: Such a trial does not count against the budget or the failures: its slot is run again on resume.
REASON_INTERRUPTED = "TrialInterrupted"
#: Reason of a trial stopped because the experiment completed while it ran.
REASON_EXPERIMENT_COMPLETED = "ExperimentCompleted"


@dataclass(frozen=True)
class Verdict:
    """An experiment condition to record, with Katib's reason and message."""

    condition: ExperimentCondition
    reason: str
    message: str

    @property
    def terminal(self) -> bool:
        return self.condition.terminal


RUNNING = Verdict(ExperimentCondition.RUNNING, "ExperimentRunning", "Experiment is running")
GOAL_REACHED = Verdict(
    ExperimentCondition.SUCCEEDED,
    "ExperimentGoalReached",
    "Experiment has succeeded because Objective goal has reached",
)
MAX_FAILED = Verdict(
    ExperimentCondition.FAILED,
    "ExperimentFailed",
    "Experiment has failed because max failed count has reached",
)
MAX_TRIALS = Verdict(
    ExperimentCondition.SUCCEEDED,
    "ExperimentMaxTrialsReached",
    "Experiment has succeeded because max trial count has reached",
)
SUGGESTION_END = Verdict(
    ExperimentCondition.SUCCEEDED,
    "ExperimentSuggestionEndReached",
    "Experiment has succeeded because suggestion service has reached the end",
)


def counts_against_budget(trial: TrialRecord) -> bool:
    return not (trial.status is TrialStatus.KILLED and trial.reason == REASON_INTERRUPTED)


@dataclass(frozen=True)
class Counts:
    """Trials by status, leaving out interrupted ones (they are re-run)."""

    by_status: Counter[TrialStatus]

    @classmethod
    def of(cls, trials: Iterable[TrialRecord]) -> Counts:
        return cls(Counter(t.status for t in trials if counts_against_budget(t)))

    @classmethod
    def from_tally(cls, tally: dict[tuple[TrialStatus, str], int]) -> Counts:
        """From the store's (status, reason) -> count aggregate."""
        counter: Counter[TrialStatus] = Counter()
        for (status, reason), count in tally.items():
            if not (status is TrialStatus.KILLED and reason == REASON_INTERRUPTED):
                counter[status] += count
        return cls(counter)

    @property
    def active(self) -> int:
        return self.by_status[TrialStatus.CREATED] + self.by_status[TrialStatus.RUNNING]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def completed(self) -> int:
        return self.total - self.active

    @property
    def failed(self) -> int:
        # Katib counts MetricsUnavailable trials as failures for maxFailedTrialCount.
        return self.by_status[TrialStatus.FAILED] + self.by_status[TrialStatus.METRICS_UNAVAILABLE]


def observation_summary(logs: Iterable[MetricLog], metrics: Sequence[str]) -> dict[str, dict[str, str]]:
    """Katib's observation: per metric min, max (numeric values only) and latest (by timestamp, then order)."""
    summary = {m: {"min": UNAVAILABLE, "max": UNAVAILABLE, "latest": UNAVAILABLE} for m in metrics}
    lows: dict[str, float] = {}
    highs: dict[str, float] = {}
    latest: dict[str, MetricLog] = {}
    for log in logs:
        if log.metric not in summary:
            continue
        number = log.number
        if number is not None:
            # min and max keep the reported text, as latest does ("0.980000" stays "0.980000").
            if log.metric not in lows or number < lows[log.metric]:
                lows[log.metric] = number
                summary[log.metric]["min"] = log.value
            if log.metric not in highs or number > highs[log.metric]:
                highs[log.metric] = number
                summary[log.metric]["max"] = log.value
        if log.metric not in latest or log.timestamp >= latest[log.metric].timestamp:
            latest[log.metric] = log
            summary[log.metric]["latest"] = log.value
    return summary


def objective_text(summary: dict[str, dict[str, str]], metric: str, strategy: str) -> str | None:
    """Katib's ``getObjectiveMetricValue``: the value by the metric strategy, ``latest`` when that one is
    unavailable; None when the trial has no value at all. A non-numeric text (DARTS's genotype) is a value."""
    entry = summary.get(metric)
    if entry is None:
        return None
    for key in (strategy, "latest"):
        text = entry.get(key, UNAVAILABLE)
        if text != UNAVAILABLE:
            return text
    return None


def objective_value(summary: dict[str, dict[str, str]], metric: str, strategy: str) -> float | None:
    """``objective_text`` as a number; None when unavailable or non-numeric (min and max, which the strategy
    picks first, hold only numbers, so a non-numeric text is always the metric's ``latest``)."""
    text = objective_text(summary, metric, strategy)
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def shown_objective(trial: TrialRecord, metric: str) -> str:
    """A trial's objective as tables show it: its number (6 significant digits); for a Succeeded trial
    without one, its non-numeric value as reported (DARTS's genotype, the metric's ``latest``); else "-"."""
    if trial.objective_value is not None:
        return f"{trial.objective_value:.6g}"
    latest = trial.observation.get(metric, {}).get("latest", UNAVAILABLE)
    return latest if trial.status is TrialStatus.SUCCEEDED and latest != UNAVAILABLE else "-"


def strategy_of(experiment: Experiment, metric: str) -> str:
    objective = experiment.spec.objective
    assert objective is not None
    for s in objective.metric_strategies or []:
        if s.name == metric and s.value:
            return s.value
    return "min" if objective.type == "minimize" else "max"


def metric_names(experiment: Experiment) -> list[str]:
    """The metrics to summarise: the objectives first (Katib's first of all), then additionalMetricNames."""
    objective = experiment.spec.objective
    assert objective is not None and objective.objective_metric_name
    return objective.collected_metrics()


def goal(experiment: Experiment) -> float | None:
    """The objective's goal; None with several objectives, where no single value can reach it (the spec
    rules warn that it is ignored)."""
    objective = experiment.spec.objective
    if objective is None or objective.multi_objective:
        return None
    return objective.goal


def objectives(experiment: Experiment) -> list[tuple[str, bool]]:
    """(metric, maximize) of every objective, Katib's first."""
    objective = experiment.spec.objective
    assert objective is not None
    return [(metric, kind == "maximize") for metric, kind in objective.objectives()]


def is_multi_objective(experiment: Experiment) -> bool:
    return experiment.spec.objective is not None and experiment.spec.objective.multi_objective


def values_of(experiment: Experiment, observation: dict[str, dict[str, str]]) -> tuple[float | None, ...]:
    """Each objective's value from an observation summary, by its metric strategy; None where unavailable."""
    return tuple(
        objective_value(observation, metric, strategy_of(experiment, metric)) for metric, _ in objectives(experiment)
    )


def trial_values(experiment: Experiment, trial: TrialRecord) -> tuple[float, ...] | None:
    """Every objective's value of a finished trial, or None when the trial is running or lacks one."""
    if not trial.status.terminal:
        return None
    values = values_of(experiment, trial.observation)
    return None if any(v is None for v in values) else tuple(v for v in values if v is not None)


def maximize(experiment: Experiment) -> bool:
    return experiment.spec.objective is not None and experiment.spec.objective.type == "maximize"


def optimal_trial(experiment: Experiment, trials: Iterable[TrialRecord]) -> TrialRecord | None:
    """The finished trial with the best objective value (earliest wins a tie); the store's ``best_trial``
    answers the same in one query. As in Katib, a Succeeded trial whose value is not a number (no
    ``objective_value``) is the best without comparison, the latest such one."""
    up = maximize(experiment)
    best: TrialRecord | None = None
    for trial in trials:
        value = trial.objective_value
        if trial.status is TrialStatus.SUCCEEDED and value is None:  # a value that is not a number
            if best is None or best.objective_value is not None or trial.seq > best.seq:
                best = trial
        elif trial.status.terminal and value is not None:
            known = None if best is None else best.objective_value
            if best is None or (known is not None and (value > known if up else value < known)):
                best = trial
    return best


def completion(experiment: Experiment, counts: Counts, best: float | None) -> Verdict | None:
    """Katib's order: goal, then too many failures, then max trials; None while the experiment goes on.

    Takes the counts and the best objective value rather than the trials, so deciding costs the same at
    any history length. ``best`` is the best number: when the optimal trial's value is not one (DARTS's
    genotype), the caller passes the best number of the others (``ExperimentTxn.best_value``).
    """
    spec = experiment.spec
    objective = spec.objective
    assert objective is not None
    target = goal(experiment)
    if target is not None and best is not None:
        reached = best >= target if objective.type == "maximize" else best <= target
        if reached:
            return GOAL_REACHED
    limit = spec.max_failed_trial_count
    if limit is not None and counts.failed != 0 and counts.failed >= limit:
        return MAX_FAILED
    if spec.max_trial_count is not None and counts.completed >= spec.max_trial_count:
        return MAX_TRIALS
    return None


def free_slots(experiment: Experiment, counts: Counts) -> int:
    """How many trials may be created now.

    Katib creates ``min(parallel, maxTrialCount - completed) - active``, with completed leaving out
    MetricsUnavailable trials, so it may run more than maxTrialCount trials in all. We count every
    trial created (but interrupted ones), so an experiment runs exactly maxTrialCount trials.
    """
    spec = experiment.spec
    slots = (spec.parallel_trial_count or 1) - counts.active
    if spec.max_trial_count is not None:
        slots = min(slots, spec.max_trial_count - counts.total)
    return max(slots, 0)


def budget_spent(experiment: Experiment, counts: Counts) -> bool:
    most = experiment.spec.max_trial_count
    return most is not None and counts.total >= most


def history(experiment: Experiment, trials: Iterable[TrialRecord]) -> list[sg.Trial]:
    """The trial history as the algorithms see it (interrupted trials left out: they never ran to an end).

    With several objectives each finished trial also carries ``values``, one per objective, from its
    observation (``trial_values``).
    """
    several = is_multi_objective(experiment)
    return [
        sg.Trial(
            name=t.name,
            assignments=t.assignments,
            status=t.status.value,
            value=t.objective_value if t.status.terminal else None,
            labels=t.labels,
            values=trial_values(experiment, t) if several else None,
        )
        for t in trials
        if counts_against_budget(t)
    ]
