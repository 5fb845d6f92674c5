"""The goal through the engine on SQLite, MariaDB and PostgreSQL when a trial's objective value is not a number
(DARTS's genotype): that trial shows as the best, as in Katib, and the goal is judged on the numbers."""

from __future__ import annotations

import datetime as dt

import pytest

from katib_flows.engine import Claimed, claim_next_trial, finish_trial, register_experiment
from katib_flows.spec import prepare
from katib_flows.store import ExperimentCondition, MetricLog, Store, TrialStatus

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
GENOTYPE = "Genotype(normal=[[('max_pooling_3x3',1),('max_pooling_3x3',0)]],normal_concat=range(2,3))"


def _run_trial(store: Store, value: str) -> str:
    claimed = claim_next_trial(store, "ns", "exp", runner="test")
    assert isinstance(claimed, Claimed), claimed
    finish_trial(store, "ns", claimed.trial.name, TrialStatus.SUCCEEDED, experiment="exp", logs=[
        MetricLog("acc", value, T0)])  # fmt: skip
    return claimed.trial.name


@pytest.mark.parametrize(
    ("direction", "goal", "short", "reached"), [("maximize", 0.9, 0.5, 0.95), ("minimize", 0.1, 0.5, 0.05)]
)
def test_the_goal_is_judged_on_the_numbers_beside_a_genotype(
    store: Store, direction: str, goal: float, short: float, reached: float
) -> None:
    spec = {
        "objective": {"type": direction, "objectiveMetricName": "acc", "goal": goal},
        "algorithm": {"algorithmName": "random"},
        "maxTrialCount": 5,
        "parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}],
        "trialTemplate": {"command": ["echo", "${trialParameters.x}"]},
    }
    register_experiment(store, prepare(spec, source="test"), namespace="ns", name="exp", seed=1)
    genotype = _run_trial(store, GENOTYPE)
    _run_trial(store, str(short))
    # Katib leaves its best number at 0 when a string comes first, so minimize would count 0 <= 0.1 reached.
    record = store.get_experiment("ns", "exp")
    assert (record.condition, record.optimal_trial) == (ExperimentCondition.RUNNING, genotype)
    _run_trial(store, str(reached))
    record = store.get_experiment("ns", "exp")
    assert (record.condition, record.reason) == (ExperimentCondition.SUCCEEDED, "ExperimentGoalReached")
    assert record.optimal_trial == genotype  # the string still shows as the best
