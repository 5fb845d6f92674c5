"""Several objectives through the engine on SQLite, MariaDB and PostgreSQL: values from observations by each
metric's strategy, the Pareto front, the goal ignored, and the per-objective values handed to the algorithm."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from typing import Any

import katib_flows_suggestion as sg
import pytest

from katib_flows.engine import (
    Claimed,
    _decide,
    algorithm_for,
    claim_next_trial,
    evaluate_experiment,
    experiment_of,
    finish_trial,
    non_dominated,
    pareto_front,
    register_experiment,
)
from katib_flows.spec import Experiment, check_document, to_search_problem
from katib_flows.store import MetricLog, Store, TrialStatus

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def _spec(**objective: Any) -> dict[str, Any]:
    return {
        "objective": {
            "type": "maximize",
            "objectiveMetricName": "accuracy",
            "additionalObjectives": [{"type": "minimize", "objectiveMetricName": "seconds"}],
            **objective,
        },
        "algorithm": {"algorithmName": "nsga2", "algorithmSettings": [{"name": "population_size", "value": "4"}]},
        "parallelTrialCount": 1,
        "maxTrialCount": 12,
        "parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}],
        "trialTemplate": {"command": ["echo", "${trialParameters.x}"]},
    }


def _experiment(spec: dict[str, Any]) -> Experiment:
    checked = check_document(spec, "mo.yaml")
    assert checked.ok and checked.experiment is not None, [p.format() for p in checked.problems]
    return checked.experiment


def _logs(**series: list[float]) -> list[MetricLog]:
    clock = itertools.count()
    return [
        MetricLog(metric, str(value), T0 + dt.timedelta(seconds=next(clock)), step)
        for metric, values in series.items()
        for step, value in enumerate(values)
    ]


def _run_trial(store: Store, status: TrialStatus = TrialStatus.SUCCEEDED, **series: list[float]) -> str:
    claimed = claim_next_trial(store, "ns", "mo", runner="test")
    assert isinstance(claimed, Claimed), claimed
    finish_trial(store, "ns", claimed.trial.name, status, experiment="mo", logs=_logs(**series))
    return claimed.trial.name


def test_the_front_uses_each_metrics_strategy_and_ignores_the_goal(store: Store) -> None:
    # accuracy: max over steps (maximize); seconds: latest, set on purpose against its direction.
    spec = _spec(goal=0.5, metricStrategies=[{"name": "seconds", "value": "latest"}])
    register_experiment(store, _experiment(spec), namespace="ns", name="mo", seed=1)
    a = _run_trial(store, accuracy=[0.6, 0.9], seconds=[1.0, 5.0])  # (0.9, 5): most accurate
    b = _run_trial(store, accuracy=[0.7, 0.8], seconds=[9.0, 2.0])  # (0.8, 2)
    _run_trial(store, accuracy=[0.7], seconds=[3.0])  # (0.7, 3): dominated by b
    d = _run_trial(store, accuracy=[0.5], seconds=[0.5])  # (0.5, 0.5): fastest
    _run_trial(store, TrialStatus.EARLY_STOPPED, accuracy=[0.95], seconds=[0.1])  # would dominate, is left out
    missing = _run_trial(store, accuracy=[0.99])  # no seconds: MetricsUnavailable
    record = evaluate_experiment(store, "ns", "mo")
    # accuracy 0.9 passed the goal 0.5 long ago: with two objectives the goal is ignored.
    assert record.condition.value == "Running"
    experiment = experiment_of(record)
    trials = store.list_trials("ns", "mo")
    front = pareto_front(experiment, trials)
    assert [(t.name, v) for t, v in front] == [(a, (0.9, 5.0)), (b, (0.8, 2.0)), (d, (0.5, 0.5))]
    # Katib's currentOptimalTrial stays the best on the first objective (the early-stopped trial counts there).
    assert record.optimal_trial == trials[4].name
    lost = store.get_trial("ns", missing)
    assert lost.status is TrialStatus.METRICS_UNAVAILABLE
    assert lost.message == "the trial did not report objective metrics 'seconds'"


def test_the_algorithm_sees_every_objectives_value(store: Store) -> None:
    register_experiment(store, _experiment(_spec()), namespace="ns", name="mo", seed=1)
    for accuracy, seconds in [(0.5, 1.0), (0.6, 2.0)]:
        _run_trial(store, accuracy=[accuracy], seconds=[seconds])
    _run_trial(store, TrialStatus.FAILED)
    experiment = experiment_of(store.get_experiment("ns", "mo"))
    history = _decide.history(experiment, store.list_trials("ns", "mo"))
    assert [t.values for t in history] == [(0.5, 1.0), (0.6, 2.0), None]
    problem = to_search_problem(experiment.spec)
    assert problem.directions == ("maximize", "minimize") and problem.objectives == ("accuracy", "seconds")
    assert isinstance(algorithm_for(experiment).suggest(problem, history, 0), sg.Suggestion)


def test_an_experiment_runs_to_its_budget_with_nsga2_generations(store: Store) -> None:
    register_experiment(store, _experiment(_spec()), namespace="ns", name="mo", seed=3)
    rng = random.Random(0)
    while True:
        claimed = claim_next_trial(store, "ns", "mo", runner="test")
        if not isinstance(claimed, Claimed):
            break
        x = float(claimed.trial.assignments["x"])
        logs = _logs(accuracy=[x], seconds=[x * x + rng.random() * 0.01])
        finish_trial(store, "ns", claimed.trial.name, TrialStatus.SUCCEEDED, experiment="mo", logs=logs)
    record = store.get_experiment("ns", "mo")
    assert record.reason == "ExperimentMaxTrialsReached"
    trials = store.list_trials("ns", "mo")
    assert len(trials) == 12
    generations = [int(t.labels["nsga2.suggestion.katib.kubeflow.org/generation"]) for t in trials]
    assert generations == [0] * 4 + [1] * 4 + [2] * 4
    front = pareto_front(experiment_of(record), trials)
    values = [v for _, v in front]
    assert front and non_dominated(values, [True, False]) == list(range(len(values)))


@pytest.mark.parametrize("seed", range(5))
def test_non_dominated_matches_the_quadratic_definition(seed: int) -> None:
    rng = random.Random(seed)
    points = [tuple(float(rng.randint(0, 6)) for _ in range(3)) for _ in range(60)]
    maximize = [True, False, bool(seed % 2)]

    def dominates(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
        better = [(x >= y) if up else (x <= y) for x, y, up in zip(a, b, maximize, strict=True)]
        return all(better) and a != b

    expected = [i for i, p in enumerate(points) if not any(dominates(q, p) for q in points)]
    assert non_dominated(points, maximize) == expected


def test_single_objective_front_is_the_best_trial(store: Store) -> None:
    spec = _spec()
    del spec["objective"]["additionalObjectives"]
    spec["algorithm"] = {"algorithmName": "random"}
    register_experiment(store, _experiment(spec), namespace="ns", name="mo", seed=1)
    _run_trial(store, accuracy=[0.5])
    best = _run_trial(store, accuracy=[0.7])
    front = pareto_front(experiment_of(store.get_experiment("ns", "mo")), store.list_trials("ns", "mo"))
    assert [(t.name, v) for t, v in front] == [(best, (0.7,))]
