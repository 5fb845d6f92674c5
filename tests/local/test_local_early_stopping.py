"""Medianstop in a real local run: a trial whose curve is clearly worse is stopped while it runs."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path

from local_helpers import script_experiment

from katib_flows.cli import main
from katib_flows.store import Store, TrialStatus


def test_medianstop_stops_clearly_bad_trials_early(local_env: str, write_experiment: Callable[..., Path]) -> None:
    # Each trial reports score = value + 0.001*step for 12 steps, 0.05 s apart: a flat curve at its value.
    document = script_experiment(
        args=["--value=${trialParameters.value}", "--steps", "12", "--step-sleep", "0.05"],
        maxTrialCount=10,
        parallelTrialCount=1,
        earlyStopping={
            "algorithmName": "medianstop",
            "algorithmSettings": [{"name": "min_trials_required", "value": "3"}, {"name": "start_step", "value": "3"}],
        },
    )
    path = write_experiment(document)
    assert main(["run", str(path), "--name", "median", "--seed", "11", "-q"]) == 0
    with Store(local_env) as store:
        trials = store.list_trials("default", "median")
        logs = {t.name: store.get_observation_log("default", t.name, metric="score") for t in trials}
    stopped = [t for t in trials if t.status is TrialStatus.EARLY_STOPPED]
    assert stopped, "no trial was stopped"
    for trial in stopped:
        assert trial.reason == "TrialEarlyStopped"
        assert "median" in trial.message
        assert 3 <= len(logs[trial.name]) < 12, "stopped at or after start_step, before its end"
        earlier = [t for t in trials if t.seq < trial.seq and t.status is TrialStatus.SUCCEEDED]
        assert len(earlier) >= 3
        assert trial.assignments["value"] < statistics.median(t.assignments["value"] for t in earlier)
    assert all(t.status in (TrialStatus.SUCCEEDED, TrialStatus.EARLY_STOPPED) for t in trials)
