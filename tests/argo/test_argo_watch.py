"""``katib_flows.argo.follow``: what a watcher tells its reporter, round by round, from a real store.

The injected ``sleep`` is the cluster: between two reads of the store it claims and finishes trials
through the engine, as the Workflow's steps would, so each round's report is known exactly. It runs
on SQLite, MariaDB and PostgreSQL (the ``store`` fixture).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from katib_flows.argo import follow
from katib_flows.engine import Claimed, claim_next_trial, finish_trial, register_experiment
from katib_flows.errors import NotFoundError
from katib_flows.spec import check_document
from katib_flows.store import ExperimentRecord, MetricLog, Store, TrialRecord, TrialStatus

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


class Recorder:
    """A reporter that writes down every call, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def started(self, experiment: ExperimentRecord, lanes: int) -> None:
        self.calls.append(("started", lanes))

    def trial_started(self, trial: TrialRecord, lane: int) -> None:
        self.calls.append(("trial_started", (trial.name, lane)))

    def trial_finished(self, trial: TrialRecord) -> None:
        self.calls.append(("trial_finished", (trial.name, trial.status.value)))

    def tick(self) -> None:
        self.calls.append(("tick", None))

    def finished(self, experiment: ExperimentRecord, *, interrupted: bool) -> None:
        self.calls.append(("finished", (experiment.condition.value, experiment.reason, interrupted)))


def _register(store: Store, max_trials: int = 3) -> None:
    document = {
        "metadata": {"name": "watched", "namespace": "ns"},
        "spec": {
            "objective": {"type": "minimize", "objectiveMetricName": "loss"},
            "algorithm": {"algorithmName": "random"},
            "parallelTrialCount": 2,
            "maxTrialCount": max_trials,
            "parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}],
            "trialTemplate": {"command": ["echo", "${trialParameters.x}"]},
        },
    }
    checked = check_document(document, "watched.yaml")
    assert checked.experiment is not None, [p.format() for p in checked.problems]
    register_experiment(store, checked.experiment, namespace="ns", name="watched", seed=7)


def _claim(store: Store, lane: int) -> str:
    claimed = claim_next_trial(store, "ns", "watched", lane=lane, runner=f"argo:wf/{lane}/0")
    assert isinstance(claimed, Claimed), claimed
    return claimed.trial.name


def _finish(store: Store, name: str, loss: float) -> None:
    finish_trial(
        store, "ns", name, TrialStatus.SUCCEEDED, experiment="watched", logs=[MetricLog("loss", str(loss), T0, 0)]
    )


def _cluster(steps: list[Callable[[], None]]) -> Callable[[float], None]:
    """A ``sleep`` that plays the next step of the cluster on each call."""
    pending = list(steps)

    def sleep(seconds: float) -> None:
        assert seconds == 0.5
        pending.pop(0)()

    return sleep


def test_each_trial_is_reported_started_and_finished_once(store: Store) -> None:
    _register(store)
    names: list[str] = []
    steps = [
        lambda: names.extend([_claim(store, 0), _claim(store, 1)]),
        lambda: _finish(store, names[0], 0.4),
        lambda: None,  # a round where nothing changed
        lambda: (_finish(store, names[1], 0.2), names.append(_claim(store, 0))),
        lambda: _finish(store, names[2], 0.3),  # the budget is spent: the experiment ends
    ]
    recorder = Recorder()
    record = follow(store, "ns", "watched", recorder, interval=0.5, sleep=_cluster(steps))
    assert record.condition.value == "Succeeded" and record.reason == "ExperimentMaxTrialsReached"
    assert record.optimal_trial == names[1]
    assert recorder.calls == [
        ("started", 2),
        ("tick", None),
        ("trial_started", (names[0], 0)),
        ("trial_started", (names[1], 1)),
        ("tick", None),
        ("trial_finished", (names[0], "Succeeded")),
        ("tick", None),
        ("tick", None),
        ("trial_finished", (names[1], "Succeeded")),
        ("trial_started", (names[2], 0)),
        ("tick", None),
        ("trial_finished", (names[2], "Succeeded")),
        ("tick", None),
        ("finished", ("Succeeded", "ExperimentMaxTrialsReached", False)),
    ]


def test_a_trial_born_and_finished_between_two_rounds_is_reported_both_ways(store: Store) -> None:
    _register(store, max_trials=1)
    names: list[str] = []
    steps = [lambda: (names.append(_claim(store, 0)), _finish(store, names[0], 0.5))]
    recorder = Recorder()
    follow(store, "ns", "watched", recorder, interval=0.5, sleep=_cluster(steps))
    assert [c for c in recorder.calls if c[0] != "tick"] == [
        ("started", 2),
        ("trial_started", (names[0], 0)),
        ("trial_finished", (names[0], "Succeeded")),
        ("finished", ("Succeeded", "ExperimentMaxTrialsReached", False)),
    ]


def test_ctrl_c_closes_the_display_with_the_last_state_and_goes_on(store: Store) -> None:
    _register(store)

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    recorder = Recorder()
    with pytest.raises(KeyboardInterrupt):
        follow(store, "ns", "watched", recorder, interval=0.5, sleep=interrupted)
    assert recorder.calls[-1] == ("finished", ("Created", "ExperimentCreated", False))


def test_an_unknown_experiment_without_a_server_is_not_found_at_once(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no experiment ns/nothing"):
        follow(store, "ns", "nothing", Recorder(), sleep=lambda s: pytest.fail("it waited"))
