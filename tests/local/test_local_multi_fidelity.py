"""Hyperband and ASHA in real local runs: all three brackets complete; ASHA's lanes never stand idle.

The trial reports ``loss = 100 (lr - 0.03)^2 + 1 / epochs`` after sleeping ``epochs`` hundredths of a
second, so longer budgets finish later and promotions interleave with new trials. A spy around the lanes'
``claim_next_trial`` (the real function, called through) records every answer a free lane got: a lane is
idle exactly when it was told to ``Wait``.
"""

from __future__ import annotations

import itertools
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from katib_flows_suggestion import _asha, _hyperband

from katib_flows.cli import _exit, main
from katib_flows.engine import Claimed, ClaimResult, Wait
from katib_flows.local import _lanes
from katib_flows.store import Store, TrialRecord, TrialStatus

CODE = (
    "import sys, time; lr, epochs = float(sys.argv[1]), int(sys.argv[2]); time.sleep(epochs / 100); "
    "print(f'loss={100 * (lr - 0.03) ** 2 + 1 / epochs}')"
)


def _spec(algorithm: str, settings: dict[str, str], *, trials: int, lanes: int) -> dict[str, Any]:
    return {
        "objective": {"type": "minimize", "objectiveMetricName": "loss"},
        "algorithm": {
            "algorithmName": algorithm,
            "algorithmSettings": [{"name": k, "value": v} for k, v in settings.items()],
        },
        "maxTrialCount": trials,
        "parallelTrialCount": lanes,
        "parameters": [
            {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.001", "max": "0.1"}},
            {"name": "epochs", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "4"}},
        ],
        "trialTemplate": {
            "command": [sys.executable, "-c", CODE, "${trialParameters.lr}", "${trialParameters.epochs}"],
            "trialParameters": [{"name": "lr", "reference": "lr"}, {"name": "epochs", "reference": "epochs"}],
        },
    }


@pytest.fixture
def claims(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int | None, ClaimResult]]:
    """Every (lane, answer) of the lanes' claims, in order; the real ``claim_next_trial`` answers."""
    answers: list[tuple[int | None, ClaimResult]] = []
    real = _lanes.claim_next_trial

    def spy(*args: Any, **kwargs: Any) -> ClaimResult:
        result = real(*args, **kwargs)
        answers.append((kwargs.get("lane"), result))
        return result

    monkeypatch.setattr(_lanes, "claim_next_trial", spy)
    return answers


def _trials(url: str, name: str) -> list[TrialRecord]:
    with Store(url) as store:
        return store.list_trials("default", name)


def test_hyperband_runs_all_three_brackets_locally(
    local_env: str, write_experiment: Callable[..., Path], claims: list[tuple[int | None, ClaimResult]]
) -> None:
    # r_l=4, eta=2: s_max=2, so 3 brackets and ceil(2^2) = 4 lanes; 14 trials in all, then the end.
    path = write_experiment(_spec("hyperband", {"resource_name": "epochs", "r_l": "4", "eta": "2"}, trials=30, lanes=4))
    assert main(["run", str(path), "--name", "hb", "--seed", "2", "-q"]) == _exit.SUCCEEDED
    trials = _trials(local_env, "hb")
    with Store(local_env) as store:
        assert store.get_experiment("default", "hb").reason == "ExperimentSuggestionEndReached"
    assert {t.status for t in trials} == {TrialStatus.SUCCEEDED}
    cells = Counter(
        (t.labels[_hyperband.LABEL_BRACKET], t.labels[_hyperband.LABEL_RUNG], t.assignments["epochs"]) for t in trials
    )
    assert cells == {
        ("2", "0", 1): 4,
        ("2", "1", 2): 2,
        ("2", "2", 4): 1,
        ("1", "0", 2): 3,
        ("1", "1", 4): 1,
        ("0", "0", 4): 3,
    }
    rungs: dict[tuple[str, int], list[TrialRecord]] = defaultdict(list)
    for t in trials:
        rungs[(t.labels[_hyperband.LABEL_BRACKET], int(t.labels[_hyperband.LABEL_RUNG]))].append(t)
    for (bracket, rung), members in rungs.items():
        if rung == 0:
            assert all(_hyperband.LABEL_PARENT not in t.labels for t in members)
            continue
        below = sorted(rungs[(bracket, rung - 1)], key=lambda t: t.objective_value or 0.0)
        parents = {t.labels[_hyperband.LABEL_PARENT] for t in members}
        assert parents == {t.name for t in below[: len(members)]}, "the best of the rung below go up"
        last_below = max(t.completed_at for t in below if t.completed_at)
        assert all(t.created_at and t.created_at >= last_below for t in members), "a rung waits for its rung below"
        assert all(t.assignments["lr"] in {p.assignments["lr"] for p in below} for t in members)
    claimed = [lane for lane, answer in claims if isinstance(answer, Claimed)]
    assert len(claimed) == 14 and set(claimed) == {0, 1, 2, 3}


def test_asha_keeps_all_three_lanes_busy_locally(
    local_env: str, write_experiment: Callable[..., Path], claims: list[tuple[int | None, ClaimResult]]
) -> None:
    # r_l=4, eta=2: rungs at 1, 2 and 4 epochs.
    path = write_experiment(_spec("asha", {"resource_name": "epochs", "r_l": "4", "eta": "2"}, trials=24, lanes=3))
    assert main(["run", str(path), "--name", "asha", "--seed", "2", "-q"]) == _exit.SUCCEEDED
    trials = _trials(local_env, "asha")
    assert len(trials) == 24 and {t.status for t in trials} == {TrialStatus.SUCCEEDED}
    waits = [(lane, answer.reason) for lane, answer in claims if isinstance(answer, Wait)]
    assert waits == [], "a free lane was told to wait"
    assert sum(isinstance(answer, Claimed) for _, answer in claims) == 24
    rungs = Counter(t.labels[_asha.LABEL_RUNG] for t in trials)
    assert rungs["1"] > 0 and rungs["2"] > 0, rungs
    by_name = {t.name: t for t in trials}
    for t in trials:  # a promotion copies a finished trial of the rung below, with the next budget
        parent = t.labels.get(_asha.LABEL_PARENT)
        if parent is not None:
            assert int(by_name[parent].labels[_asha.LABEL_RUNG]) + 1 == int(t.labels[_asha.LABEL_RUNG])
            assert t.assignments["epochs"] == 2 * by_name[parent].assignments["epochs"]
            assert by_name[parent].completed_at and t.created_at and by_name[parent].completed_at <= t.created_at
    lanes: dict[int | None, list[TrialRecord]] = defaultdict(list)
    for t in sorted(trials, key=lambda t: t.seq):
        lanes[t.lane].append(t)
    assert set(lanes) == {0, 1, 2}
    for runs in lanes.values():  # one trial at a time per lane
        for before, after in itertools.pairwise(runs):
            assert before.completed_at and after.started_at and before.completed_at <= after.started_at
