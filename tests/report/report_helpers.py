"""Records built by hand, for report tests that need no store, and constants the report tests share."""

from __future__ import annotations

import datetime as dt
from typing import Any

from katib_flows.report import History
from katib_flows.store import ExperimentCondition, ExperimentRecord, MetricLog, TrialRecord, TrialStatus

DIGITS_TRIALS = 6
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)

SPEC: dict[str, Any] = {
    "metadata": {"name": "hand", "namespace": "default"},
    "spec": {
        "objective": {"type": "maximize", "objectiveMetricName": "score", "goal": 0.99},
        "algorithm": {"algorithmName": "random"},
        "parameters": [
            {"name": "lr", "parameterType": "double",
             "feasibleSpace": {"min": "0.001", "max": "0.1", "distribution": "logUniform"}},
            {"name": "units", "parameterType": "int", "feasibleSpace": {"min": "16", "max": "64", "step": "16"}},
            {"name": "act", "parameterType": "categorical", "feasibleSpace": {"list": ["relu", "tanh"]}},
        ],
        "trialTemplate": {"command": ["true"]},
        "maxTrialCount": 5,
        "parallelTrialCount": 1,
    },
}  # fmt: skip

# (status, score, lr, units, act)
TRIALS = [
    (TrialStatus.SUCCEEDED, 0.5, 0.01, 16, "relu"),
    (TrialStatus.SUCCEEDED, 0.7, 0.05, 32, "tanh"),
    (TrialStatus.FAILED, None, 0.002, 48, "relu"),
    (TrialStatus.SUCCEEDED, 0.6, 0.003, 64, "relu"),
    (TrialStatus.EARLY_STOPPED, 0.2, 0.09, 16, "tanh"),
]


def hand_history() -> History:
    """Five trials: three succeeded (0.5, 0.7, 0.6), one failed, one early-stopped; two steps of score each."""
    trials, logs = [], {}
    for seq, (status, score, lr, units, act) in enumerate(TRIALS):
        name = f"hand-{seq}"
        observation = {} if score is None else {"score": {"min": "0.1", "max": str(score), "latest": str(score)}}
        trials.append(
            TrialRecord(
                "default", "hand", name, seq, {"lr": lr, "units": units, "act": act}, status,
                created_at=T0, started_at=T0 + dt.timedelta(seconds=seq),
                completed_at=T0 + dt.timedelta(seconds=seq + 1),
                observation=observation, objective_value=score,
            )
        )  # fmt: skip
        if score is not None:
            logs[name] = [
                MetricLog("score", "0.1", T0, step=0),
                MetricLog("score", str(score), T0 + dt.timedelta(seconds=1), step=1),
            ]
    record = ExperimentRecord(
        "default", "hand", SPEC, 1, ExperimentCondition.SUCCEEDED, "ExperimentMaxTrialsReached", "done", [],
        T0, T0, T0 + dt.timedelta(seconds=9), "hand-1",
    )  # fmt: skip
    return History(record, trials, logs)
