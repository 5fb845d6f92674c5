"""The live table a terminal shows during a run, rendered into a string."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from local_helpers import script_experiment
from rich.console import Console

from katib_flows.cli import main
from katib_flows.local import LiveReporter
from katib_flows.store import Store


def test_live_table_shows_counts_best_and_eta(local_env: str, write_experiment: Callable[..., Path]) -> None:
    path = write_experiment(script_experiment(args=["--value=${trialParameters.value}"], maxTrialCount=3))
    assert main(["run", str(path), "--name", "shown", "-q"]) == 0
    with Store(local_env) as store:
        experiment = store.get_experiment("default", "shown")
        trials = store.list_trials("default", "shown")

    reporter = LiveReporter()
    out = io.StringIO()
    reporter.console = Console(file=out, force_terminal=True, width=200, color_system=None)
    reporter.live.console = reporter.console
    reporter.started(experiment, 3)
    for lane, trial in enumerate(trials):
        reporter.trial_started(trial, lane)
        reporter.trial_finished(trial)
    reporter.tick()
    reporter.finished(experiment, interrupted=False)
    text = out.getvalue()
    best = max(trials, key=lambda t: t.objective_value or 0)
    assert "succeeded" in text and "best parameters" in text
    assert f"value={best.assignments['value']}" in text
    assert "experiment shown: Succeeded (ExperimentMaxTrialsReached)" in text
