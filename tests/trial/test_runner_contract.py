"""The trial runner contract, one suite run against every runner (Optuna's ``pytest_storages`` idea).

Each test drives a runner as its callers do (``TrialRunner``'s call order: start, then wait and record
inside the experiment watcher and the SIGTERM handler, as ``katib-flows step trial`` does) and checks
what the store says afterwards. ``runner_harness`` makes one workload real for the local runner (a real
process) and for the Kubernetes runner (a Job on a FAKE API server). A case that cannot apply to one
runner is skipped with the reason.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from runner_harness import JOBS, NS, Harness, KubeHarness, LocalHarness, job

from katib_flows.engine import Claimed, claim_next_trial, record_observation, register_experiment
from katib_flows.spec import Experiment, load_text
from katib_flows.store import ExperimentCondition, MetricLog, Store, TrialRecord, TrialStatus
from katib_flows.trial import (
    INTERRUPTED,
    EarlyStopping,
    TrialContext,
    on_sigterm,
    stop_when_experiment_ends,
    wait_and_record,
)

EXPERIMENT = "exp"
MEDIANSTOP = {
    "algorithmName": "medianstop",
    "algorithmSettings": [{"name": "min_trials_required", "value": "2"}, {"name": "start_step", "value": "2"}],
}


def epochs(values: list[float]) -> list[str]:
    """Log lines in Katib's StdOut format, with some noise between them."""
    lines = ["Using CPU", "Train Epoch: 1 [0/60000 (0%)]"]
    for epoch, accuracy in enumerate(values, start=1):
        lines += [f"epoch {epoch}:", f"accuracy={accuracy}", f"loss={round(1 - accuracy, 4)}"]
    return lines


@pytest.fixture(params=["local", "kubernetes"])
def harness(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    made: Harness
    if request.param == "local":
        (tmp_path / "plans").mkdir()
        made = LocalHarness(tmp_path / "plans")
    else:
        made = KubeHarness(tmp_path, monkeypatch)
    yield made
    made.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'store.db'}", upgrade=True) as opened:
        yield opened


class Trials:
    """The experiment in the store, its trials claimed one by one, each run as the step runs it."""

    def __init__(self, store: Store, harness: Harness, plans: Path, **spec: Any) -> None:
        self.store, self.harness = store, harness
        document = {
            "apiVersion": "kubeflow.org/v1beta1",
            "kind": "Experiment",
            "metadata": {"name": EXPERIMENT},
            "spec": {
                "objective": {"type": "maximize", "objectiveMetricName": "accuracy", "additionalMetricNames": ["loss"]},
                "algorithm": {"algorithmName": "random"},
                "parallelTrialCount": 3,
                "maxTrialCount": 6,
                "parameters": [{"name": "lr", "parameterType": "double",
                                "feasibleSpace": {"min": "0.01", "max": "0.1"}}],
                "trialTemplate": {
                    "primaryContainerName": "training-container",
                    "trialParameters": [{"name": "learningRate", "reference": "lr"}],
                    "trialSpec": job(plans),
                },
                **spec,
            },
        }  # fmt: skip
        loaded = load_text(json.dumps(document))
        assert loaded.experiment is not None, loaded
        self.experiment: Experiment = loaded.experiment
        register_experiment(store, self.experiment, namespace=NS, name=EXPERIMENT, seed=1)
        self._lane = 0

    def claim(self) -> TrialRecord:
        claimed = claim_next_trial(self.store, NS, EXPERIMENT, lane=self._lane, runner="contract")
        assert isinstance(claimed, Claimed), claimed
        self._lane += 1
        return claimed.trial

    def run(self, trial: TrialRecord, on_line: Callable[[str], None] | None = None) -> TrialRecord:
        """Run ``trial`` to its end as ``katib-flows step trial`` does, and return it as recorded."""
        early = (
            EarlyStopping(self.experiment, self.store, NS, EXPERIMENT) if self.experiment.spec.early_stopping else None
        )
        context = TrialContext(self.store, NS, EXPERIMENT, self.experiment, trial, early=early, on_line=on_line)
        runner = self.harness.runner(context)
        runner.start()
        with stop_when_experiment_ends(runner, 0.05), on_sigterm(lambda: runner.stop(INTERRUPTED)):
            return wait_and_record(runner)

    def rows(self, trial: str, metric: str) -> list[str]:
        return [row.value for row in self.store.get_observation_log(NS, trial) if row.metric == metric]


@pytest.fixture
def trials(store: Store, harness: Harness, tmp_path: Path) -> Trials:
    return Trials(store, harness, tmp_path / "plans")


def test_success_is_recorded_with_its_metrics(trials: Trials, harness: Harness) -> None:
    trial = trials.claim()
    harness.plan(trial.name, epochs([0.71, 0.86, 0.83]))
    finished = trials.run(trial)
    assert finished.status is TrialStatus.SUCCEEDED, finished
    assert finished.objective_value == 0.86  # max, the default strategy of a maximized objective
    assert finished.observation["accuracy"] == {"min": "0.71", "max": "0.86", "latest": "0.83"}
    assert trials.rows(trial.name, "loss") == ["0.29", "0.14", "0.17"]


def test_failure_is_recorded_failed_with_what_the_workload_said(trials: Trials, harness: Harness) -> None:
    trial = trials.claim()
    harness.plan(trial.name, ["Traceback (most recent call last):", "ValueError: lr"], "failed")
    finished = trials.run(trial)
    assert finished.status is TrialStatus.FAILED and finished.reason == "TrialFailed", finished
    assert harness.failure_detail in finished.message


def test_success_without_the_objective_is_metrics_unavailable(trials: Trials, harness: Harness) -> None:
    trial = trials.claim()
    harness.plan(trial.name, ["training...", "loss=0.4", "done"])
    finished = trials.run(trial)
    assert finished.status is TrialStatus.METRICS_UNAVAILABLE and finished.reason == "MetricsUnavailable", finished
    assert trials.rows(trial.name, "loss") == ["0.4"]


def test_early_stopping_stops_a_trial_below_the_median(store: Store, harness: Harness, tmp_path: Path) -> None:
    trials = Trials(store, harness, tmp_path / "plans", earlyStopping=MEDIANSTOP)
    for values in ([0.8, 0.9, 0.95], [0.82, 0.91, 0.96]):  # the completed curves the rule compares against
        done = trials.claim()
        harness.plan(done.name, epochs(values))
        assert trials.run(done).status is TrialStatus.SUCCEEDED
    bad = trials.claim()
    harness.plan(bad.name, epochs([0.1, 0.12, 0.15]), "running")  # would train on
    finished = trials.run(bad)
    assert finished.status is TrialStatus.EARLY_STOPPED and finished.reason == "TrialEarlyStopped", finished
    assert finished.observation["accuracy"]["latest"] in ("0.12", "0.15")  # stopped at step 2 or just after
    assert harness.stopped_workload(bad.name)


def after_the_first_epoch(action: Callable[[], None]) -> Callable[[str], None]:
    """An ``on_line`` that does ``action`` once the first epoch's metrics have been printed."""

    def on_line(line: str) -> None:
        if line.startswith("loss="):
            action()

    return on_line


def test_a_trial_still_running_when_the_experiment_completes_is_killed(trials: Trials, harness: Harness) -> None:
    trial = trials.claim()
    harness.plan(trial.name, epochs([0.6]), "running")
    another_lane_reaches_the_goal = after_the_first_epoch(lambda: trials.store.set_experiment_condition(
        NS, EXPERIMENT, ExperimentCondition.SUCCEEDED, "ExperimentGoalReached", "goal"))  # fmt: skip
    finished = trials.run(trial, on_line=another_lane_reaches_the_goal)
    assert finished.status is TrialStatus.KILLED and finished.reason == "ExperimentCompleted", finished
    assert finished.observation["accuracy"]["latest"] == "0.6"  # the metrics collected so far are kept
    assert harness.stopped_workload(trial.name)


def test_sigterm_interrupts_the_trial_so_that_it_runs_again(trials: Trials, harness: Harness) -> None:
    trial = trials.claim()
    harness.plan(trial.name, epochs([0.6]), "running")
    # Argo stops the step; ``on_sigterm`` handles it in the main thread.
    argo_stops_the_step = after_the_first_epoch(lambda: os.kill(os.getpid(), signal.SIGTERM))
    previous = signal.getsignal(signal.SIGTERM)
    finished = trials.run(trial, on_line=argo_stops_the_step)
    assert finished.status is TrialStatus.KILLED and finished.reason == "TrialInterrupted", finished
    assert "runs again" in finished.message
    assert harness.stopped_workload(trial.name)
    assert signal.getsignal(signal.SIGTERM) == previous  # the handler is put back


def test_a_retried_start_follows_the_earlier_attempts_workload_and_stores_no_row_twice(
    trials: Trials, harness: Harness
) -> None:
    if isinstance(harness, LocalHarness):
        pytest.skip(
            "a local trial's process ends with the step that ran it: there is no workload left for a retried "
            "start to follow, so the retry runs the command afresh (resume's take-over covers the local lanes)"
        )
    assert isinstance(harness, KubeHarness)
    trial = trials.claim()
    lines = epochs([0.61, 0.74, 0.79])
    harness.plan(trial.name, lines)
    labels = {"katib-flows.io/trial": trial.name}  # the first attempt created the Job, then its step died
    harness.api.add_object(JOBS, {**job(Path()), "metadata": {"name": trial.name, "namespace": NS, "labels": labels}})
    first = MetricLog("accuracy", "0.61", dt.datetime.now(dt.timezone.utc))
    record_observation(trials.store, NS, trial.name, [first])  # and stored a row
    finished = trials.run(trial)
    assert finished.status is TrialStatus.SUCCEEDED and finished.objective_value == 0.79, finished
    assert trials.rows(trial.name, "accuracy") == ["0.61", "0.74", "0.79"]
    assert [r.status for r in harness.api.calls("POST", JOBS)] == [409]


def test_a_workload_the_cluster_evicted_interrupts_the_trial_instead_of_failing_it(
    trials: Trials, harness: Harness
) -> None:
    if isinstance(harness, LocalHarness):
        pytest.skip(
            "a local process has no node to evict it; a process killed from outside exits non-zero and is the "
            "trial's failure, as test_failure_is_recorded_failed_with_what_the_workload_said records it"
        )
    trial = trials.claim()
    harness.plan(trial.name, epochs([0.5]), "failed", pod_reason="Evicted")
    finished = trials.run(trial)
    assert finished.status is TrialStatus.KILLED and finished.reason == "TrialInterrupted", finished
    assert "Evicted" in finished.message
