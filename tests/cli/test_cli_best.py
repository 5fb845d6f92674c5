"""``best`` on a multi-objective experiment: the Pareto front as a table and as a list in ``--output json``."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from katib_flows.cli import _exit, main
from katib_flows.engine import Claimed, claim_next_trial, finish_trial, register_experiment
from katib_flows.spec import check_document
from katib_flows.store import MetricLog, Store, TrialStatus

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
SPEC = {
    "objective": {
        "type": "maximize",
        "objectiveMetricName": "accuracy",
        "additionalObjectives": [{"type": "minimize", "objectiveMetricName": "weights"}],
    },
    "algorithm": {"algorithmName": "random"},
    "parallelTrialCount": 1,
    "maxTrialCount": 4,
    "parameters": [{"name": "units", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "64"}}],
    "trialTemplate": {"command": ["echo", "${trialParameters.units}"]},
}


def _experiment(store: Store, points: list[tuple[float, float]]) -> list[str]:
    checked = check_document(SPEC, "mo.yaml")
    assert checked.experiment is not None
    register_experiment(store, checked.experiment, namespace="ns", name="mo", seed=1)
    names = []
    for accuracy, weights in points:
        claimed = claim_next_trial(store, "ns", "mo", runner="test")
        assert isinstance(claimed, Claimed)
        logs = [MetricLog("accuracy", str(accuracy), T0, 0), MetricLog("weights", str(weights), T0, 0)]
        finish_trial(store, "ns", claimed.trial.name, TrialStatus.SUCCEEDED, experiment="mo", logs=logs)
        names.append(claimed.trial.name)
    return names


def test_best_prints_the_pareto_front(store: Store, store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    small, dominated, big, middle = _experiment(store, [(0.8, 100), (0.85, 900), (0.97, 800), (0.9, 300)])
    assert main(["best", "mo", "--db", store_url, "-n", "ns", "-o", "json"]) == 0
    front = json.loads(capsys.readouterr().out)
    assert [t["bestTrialName"] for t in front] == [big, middle, small]  # best accuracy first
    assert front[0]["objectiveValue"] == 0.97
    assert front[0]["objectiveValues"] == [{"name": "accuracy", "value": 0.97}, {"name": "weights", "value": 800.0}]
    # The single-objective shape, trial for trial.
    assert set(front[0]) == {"bestTrialName", "parameterAssignments", "observation", "objectiveValue",
                             "objectiveValues"}  # fmt: skip
    assert {m["name"] for m in front[0]["observation"]["metrics"]} == {"accuracy", "weights"}

    assert main(["best", "mo", "--db", store_url, "-n", "ns"]) == 0
    table = capsys.readouterr().out
    assert "Pareto front (3 trials)" in table
    assert "accuracy (max)" in table and "weights (min)" in table
    lines = [line for line in table.splitlines() if "mo-" in line]
    assert [next(n for n in (small, dominated, big, middle) if n in line) for line in lines] == [big, middle, small]


def test_best_without_a_finished_trial_is_not_found(store: Store, store_url: str) -> None:
    _experiment(store, [])
    assert main(["best", "mo", "--db", store_url, "-n", "ns"]) == _exit.NOT_FOUND
