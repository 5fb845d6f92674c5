"""The engine's pure decisions against Katib's rules (katib-v1beta1.md 2.1-2.3)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from katib_flows.engine import _decide
from katib_flows.spec import Experiment, check_document
from katib_flows.store import MetricLog, TrialRecord, TrialStatus

S = TrialStatus


def experiment(**spec: Any) -> Experiment:
    document = {
        "objective": {
            "type": spec.pop("type", "maximize"),
            "objectiveMetricName": "acc",
            "goal": spec.pop("goal", None),
        },
        "algorithm": {"algorithmName": "random"},
        "parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}],
        "trialTemplate": {"command": ["echo", "${trialParameters.x}"]},
        **spec,
    }
    if document["objective"]["goal"] is None:
        del document["objective"]["goal"]
    checked = check_document(document, "test")
    assert checked.ok and checked.experiment is not None, [p.format() for p in checked.problems]
    return checked.experiment


def trial(i: int, status: TrialStatus, value: float | None = None, reason: str = "") -> TrialRecord:
    return TrialRecord(
        namespace="ns",
        experiment="e",
        name=f"e-{i}",
        seq=i,
        assignments={"x": 0.5},
        status=status,
        reason=reason,
        objective_value=value,
    )


def completion(exp: Experiment, trials: list[TrialRecord]) -> _decide.Verdict | None:
    best = _decide.optimal_trial(exp, trials)
    return _decide.completion(exp, _decide.Counts.of(trials), best.objective_value if best else None)


def free_slots(exp: Experiment, trials: list[TrialRecord]) -> int:
    return _decide.free_slots(exp, _decide.Counts.of(trials))


def test_goal_first_then_failures_then_max_trials() -> None:
    exp = experiment(goal=0.9, maxTrialCount=3, maxFailedTrialCount=1)
    trials = [trial(0, S.FAILED), trial(1, S.SUCCEEDED, 0.95), trial(2, S.SUCCEEDED, 0.5)]
    assert completion(exp, trials) is _decide.GOAL_REACHED
    trials[1] = trial(1, S.SUCCEEDED, 0.85)
    assert completion(exp, trials) is _decide.MAX_FAILED
    exp = experiment(goal=0.9, maxTrialCount=3)
    assert completion(exp, trials) is _decide.MAX_TRIALS


def test_minimize_goal() -> None:
    exp = experiment(type="minimize", goal=0.1)
    assert completion(exp, [trial(0, S.SUCCEEDED, 0.2)]) is None
    assert completion(exp, [trial(0, S.SUCCEEDED, 0.2), trial(1, S.SUCCEEDED, 0.1)]) is _decide.GOAL_REACHED


def test_metrics_unavailable_counts_as_failed() -> None:
    exp = experiment(maxFailedTrialCount=2)
    trials = [trial(0, S.METRICS_UNAVAILABLE), trial(1, S.SUCCEEDED, 0.1)]
    assert completion(exp, trials) is None
    assert completion(exp, [*trials, trial(2, S.FAILED)]) is _decide.MAX_FAILED


def test_max_failed_zero_fails_on_the_first_failure_and_unset_never() -> None:
    assert completion(experiment(maxFailedTrialCount=0), [trial(0, S.SUCCEEDED, 1.0)]) is None
    assert completion(experiment(maxFailedTrialCount=0), [trial(0, S.FAILED)]) is _decide.MAX_FAILED
    assert completion(experiment(), [trial(i, S.FAILED) for i in range(50)]) is None


def test_interrupted_trials_do_not_count() -> None:
    exp = experiment(maxTrialCount=2, parallelTrialCount=2, maxFailedTrialCount=1)
    interrupted = trial(0, S.KILLED, reason=_decide.REASON_INTERRUPTED)
    assert completion(exp, [interrupted, trial(1, S.SUCCEEDED, 0.3)]) is None
    assert free_slots(exp, [interrupted, trial(1, S.SUCCEEDED, 0.3)]) == 1
    assert [t.name for t in _decide.history(exp, [interrupted])] == []


def test_free_slots_respects_parallel_and_budget() -> None:
    exp = experiment(maxTrialCount=5, parallelTrialCount=3)
    assert free_slots(exp, []) == 3
    assert free_slots(exp, [trial(0, S.RUNNING), trial(1, S.CREATED)]) == 1
    done = [trial(i, S.SUCCEEDED, 0.1) for i in range(4)]
    assert free_slots(exp, done) == 1
    assert free_slots(exp, [*done, trial(4, S.RUNNING)]) == 0
    assert _decide.budget_spent(exp, _decide.Counts.of([*done, trial(4, S.RUNNING)]))


def test_optimal_trial_by_direction_and_earliest_on_ties() -> None:
    trials = [
        trial(0, S.SUCCEEDED, 0.5),
        trial(1, S.SUCCEEDED, 0.7),
        trial(2, S.SUCCEEDED, 0.7),
        trial(3, S.RUNNING, 0.99),
        trial(4, S.FAILED),
    ]
    best = _decide.optimal_trial(experiment(), trials)
    assert best is not None and best.name == "e-1"
    best = _decide.optimal_trial(experiment(type="minimize"), trials)
    assert best is not None and best.name == "e-0"


def _log(metric: str, value: str, second: int, micro: int = 0) -> MetricLog:
    return MetricLog(metric, value, dt.datetime(2026, 1, 1, 0, 0, second, micro, tzinfo=dt.timezone.utc))


GENOTYPE = (
    "Genotype(normal=[[('max_pooling_3x3',1),('max_pooling_3x3',0)]],normal_concat=range(2,3),"
    "reduce=[],reduce_concat=range(2,3))"
)


def test_a_non_numeric_objective_value_is_a_value_as_in_katib() -> None:
    """DARTS's genotype: no min or max, but ``latest``, so the trial has a value (not MetricsUnavailable)."""
    summary = _decide.observation_summary([_log("acc", GENOTYPE, 1)], ["acc"])
    assert summary == {"acc": {"min": "unavailable", "max": "unavailable", "latest": GENOTYPE}}
    for strategy in ("min", "max", "latest"):
        assert _decide.objective_text(summary, "acc", strategy) == GENOTYPE
        assert _decide.objective_value(summary, "acc", strategy) is None
    mixed = _decide.observation_summary([_log("acc", "0.5", 1), _log("acc", GENOTYPE, 2)], ["acc"])
    assert _decide.objective_text(mixed, "acc", "max") == "0.5"
    assert _decide.objective_text(mixed, "acc", "latest") == GENOTYPE
    assert _decide.objective_text(_decide.observation_summary([], ["acc"]), "acc", "max") is None


def test_a_succeeded_trial_with_a_non_numeric_value_is_the_best_without_comparison() -> None:
    """Katib's status_util: a value that does not parse as a float makes its trial the best (the latest such)."""
    genotype = {"acc": {"min": "unavailable", "max": "unavailable", "latest": GENOTYPE}}
    text = [
        TrialRecord("ns", "e", f"e-{i}", i, {}, S.SUCCEEDED, observation=genotype, objective_value=None) for i in (1, 2)
    ]
    trials = [trial(0, S.SUCCEEDED, 0.9), *text, trial(3, S.SUCCEEDED, 2.0), trial(4, S.METRICS_UNAVAILABLE)]
    for exp in (experiment(), experiment(type="minimize")):
        best = _decide.optimal_trial(exp, trials)
        assert best is not None and best.name == "e-2"
    assert [_decide.shown_objective(t, "acc") for t in trials] == ["0.9", GENOTYPE, GENOTYPE, "2", "-"]


def test_observation_summary_is_katibs() -> None:
    logs = [
        _log("acc", "0.5", 1),
        _log("acc", "0.9", 2),
        _log("acc", "0.7", 3),
        _log("loss", "nan-ish", 1),
        _log("acc", "0.6", 3),
        _log("other", "1", 1),
    ]
    summary = _decide.observation_summary(logs, ["acc", "loss"])
    assert summary["acc"] == {"min": "0.5", "max": "0.9", "latest": "0.6"}
    assert summary["loss"] == {"min": "unavailable", "max": "unavailable", "latest": "nan-ish"}
    assert _decide.objective_value(summary, "acc", "max") == 0.9
    assert _decide.objective_value(summary, "acc", "latest") == 0.6
    assert _decide.objective_value(summary, "loss", "min") is None


def test_microseconds_decide_latest() -> None:
    logs = [_log("acc", "0.2", 1, 2), _log("acc", "0.1", 1, 1)]
    assert _decide.observation_summary(logs, ["acc"])["acc"]["latest"] == "0.2"


@pytest.mark.parametrize(("direction", "strategy"), [("minimize", "min"), ("maximize", "max")])
def test_default_strategy_follows_direction(direction: str, strategy: str) -> None:
    assert _decide.strategy_of(experiment(type=direction), "acc") == strategy
