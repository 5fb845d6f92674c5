"""``claim_waiting``: the backoff of ``step suggest``, driven by a test clock on a real SQLite store (no sleeps)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from katib_flows.engine import (
    Claimed,
    Done,
    Wait,
    claim_next_trial,
    claim_waiting,
    finish_trial,
    interrupt_trial,
    register_experiment,
)
from katib_flows.spec import prepare
from katib_flows.store import Store, TrialStatus

SPEC = {
    "objective": {"type": "minimize", "objectiveMetricName": "loss"},
    "algorithm": {"algorithmName": "random"},
    "parallelTrialCount": 1,
    "maxTrialCount": 2,
    "parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}],
    "trialTemplate": {"command": ["echo", "${trialParameters.x}"]},
}


class ManualClock:
    """Time moves only when the loop sleeps; ``on_sleep`` lets a test act while the loop waits."""

    def __init__(self, on_sleep: Callable[[float], None] | None = None) -> None:
        self.now, self.sleeps, self.on_sleep = 100.0, list[float](), on_sleep

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep(seconds)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'store.db'}", upgrade=True) as opened:
        register_experiment(opened, prepare(SPEC, source="test"), namespace="ns", name="exp", seed=1)
        yield opened


def _busy(store: Store) -> str:
    """The one slot taken by another lane's runner."""
    result = claim_next_trial(store, "ns", "exp", lane=1, runner="other")
    assert isinstance(result, Claimed)
    return result.trial.name


def test_waits_with_doubling_delays_until_the_time_is_up(store: Store) -> None:
    _busy(store)
    clock = ManualClock()
    result = claim_waiting(store, "ns", "exp", lane=0, runner="me", wait_seconds=20, clock=clock)
    assert isinstance(result, Wait)
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 4.5]  # the last wait is what is left of the 20 s


def test_the_delay_is_capped_at_ten_seconds(store: Store) -> None:
    _busy(store)
    clock = ManualClock()
    claim_waiting(store, "ns", "exp", lane=0, runner="me", wait_seconds=60, clock=clock)
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0, 10.0, 4.5]


def test_a_slot_freed_while_waiting_is_claimed(store: Store) -> None:
    busy = _busy(store)

    def finish_the_other(seconds: float) -> None:
        if len(clock.sleeps) == 3:
            interrupt_trial(store, "ns", busy, "its runner is gone")

    clock = ManualClock(finish_the_other)
    result = claim_waiting(store, "ns", "exp", lane=0, runner="me", wait_seconds=60, clock=clock)
    assert isinstance(result, Claimed) and result.trial.runner == "me"
    assert clock.sleeps == [0.5, 1.0, 2.0]


def test_done_and_no_wait_answer_at_once(store: Store) -> None:
    store.delete_experiment("ns", "exp")
    register_experiment(store, prepare(SPEC, source="t", overrides={"maxTrialCount": 1}), namespace="ns", name="exp")
    clock = ManualClock()
    first = claim_waiting(store, "ns", "exp", lane=0, runner="me", wait_seconds=0, clock=clock)
    assert isinstance(first, Claimed)
    finish_trial(store, "ns", first.trial.name, TrialStatus.SUCCEEDED)
    assert isinstance(claim_waiting(store, "ns", "exp", lane=0, runner="me", wait_seconds=60, clock=clock), Done)
    assert clock.sleeps == []
