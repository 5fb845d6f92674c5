"""Medianstop in a real local run: a trial whose curve is clearly worse is stopped while it runs, whether its
metrics come from its output (StdOut), a file it writes (File) or ``report_metrics`` (Push)."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path

import pytest
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


@pytest.mark.parametrize("collector", ["File", "Push"])
def test_medianstop_stops_clearly_bad_trials_with_file_and_push_collectors(
    collector: str, local_env: str, write_experiment: Callable[..., Path], tmp_path: Path
) -> None:
    """These collectors read the metrics as they are written, not line by line from the output. A trial
    below 0.3 hangs for a minute after its curve, so it ends only by being stopped while it runs. Seed 6
    draws 0.54, 0.57, 0.99, 0.58 first, so the median of completed trials stays above 0.5 and every trial
    below 0.3 is clearly bad; the others may or may not be stopped, depending on when they are read."""
    metrics = tmp_path / "metrics.log"
    if collector == "File":
        extra = ["--metrics-file", str(metrics)]
        source = {"source": {"fileSystemPath": {"path": str(metrics), "kind": "File"}}}
    else:
        extra, source = ["--push"], {}
    curve = ["--value=${trialParameters.value}", "--steps", "12", "--step-sleep", "0.02", "--sleep-if-below", "0.3"]
    document = script_experiment(
        args=[*curve, *extra],
        maxTrialCount=8,
        parallelTrialCount=1,
        metricsCollectorSpec={"collector": {"kind": collector}, **source},
        earlyStopping={
            "algorithmName": "medianstop",
            "algorithmSettings": [{"name": "min_trials_required", "value": "3"}, {"name": "start_step", "value": "3"}],
        },
    )
    path = write_experiment(document)
    assert main(["run", str(path), "--name", "median", "--seed", "6", "-q"]) == 0
    with Store(local_env) as store:
        trials = store.list_trials("default", "median")
        logs = {t.name: store.get_observation_log("default", t.name, metric="score") for t in trials}
    bad = [t for t in trials if t.assignments["value"] < 0.3]
    assert bad and all(t.status is TrialStatus.EARLY_STOPPED for t in bad)
    stopped = [t for t in trials if t.status is TrialStatus.EARLY_STOPPED]
    for trial in stopped:
        assert trial.reason == "TrialEarlyStopped" and "median" in trial.message
        assert len(logs[trial.name]) >= 3, "stopped at or after start_step, from the metrics it wrote"
        earlier = [t for t in trials if t.seq < trial.seq and t.status is TrialStatus.SUCCEEDED]
        assert len(earlier) >= 3
        assert trial.assignments["value"] < statistics.median(t.assignments["value"] for t in earlier)
    assert all(t.status in (TrialStatus.SUCCEEDED, TrialStatus.EARLY_STOPPED) for t in trials)
    assert all(len(logs[t.name]) == 12 for t in trials if t.status is TrialStatus.SUCCEEDED)
