"""Leases on every backend: a trial whose runner stops renewing is interrupted by the next claim (not
counted, run again); a renewed lease keeps the trial however long it runs. A settable clock stands in for
time passing, shared by both runners' stores."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from katib_flows.engine import (
    REASON_INTERRUPTED,
    Claimed,
    Counts,
    claim_next_trial,
    evaluate_experiment,
    register_experiment,
)
from katib_flows.spec import check_document
from katib_flows.store import Store, TrialStatus

SPEC = {
    "objective": {"type": "minimize", "objectiveMetricName": "loss"},
    "algorithm": {"algorithmName": "random"},
    "parallelTrialCount": 1,
    "maxTrialCount": 3,
    "parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}],
    "trialTemplate": {"command": ["echo", "${trialParameters.x}"]},
}


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(store_url: str, store: Store, clock: Clock) -> Iterator[Store]:
    checked = check_document(SPEC, "lease.yaml")
    assert checked.experiment is not None
    register_experiment(store, checked.experiment, namespace="ns", name="lease", seed=3)
    with Store(store_url, clock=clock) as timed_store:
        yield timed_store


def _claim(store: Store, runner: str) -> Claimed | None:
    result = claim_next_trial(store, "ns", "lease", runner=runner, lease=10)
    return result if isinstance(result, Claimed) else None


def test_an_expired_lease_is_interrupted_by_the_next_claim_and_its_slot_run_again(timed: Store, clock: Clock) -> None:
    first = _claim(timed, "a:1")
    assert first is not None and first.trial.lease_expires_at == clock.now + dt.timedelta(seconds=10)
    assert _claim(timed, "b:2") is None  # the one slot is a's
    clock.advance(11)
    second = _claim(timed, "b:2")
    assert second is not None, "the expired trial's slot is free again"
    taken = timed.get_trial("ns", first.trial.name)
    assert taken.status is TrialStatus.KILLED and taken.reason == REASON_INTERRUPTED
    assert "a:1" in taken.message and "lease" in taken.message
    assert Counts.of(timed.list_trials("ns", "lease")).total == 1
    assert timed.renew_leases("ns", "lease", "a:1", {first.trial.name}, 10) == set(), "a learns it lost the trial"


def test_a_renewed_lease_keeps_a_long_trial(timed: Store, clock: Clock) -> None:
    first = _claim(timed, "a:1")
    assert first is not None
    for _ in range(10):  # 80 s in all, eight times the lease
        clock.advance(8)
        assert timed.renew_leases("ns", "lease", "a:1", {first.trial.name}, 10) == {first.trial.name}
        assert _claim(timed, "b:2") is None
        evaluate_experiment(timed, "ns", "lease")
    assert timed.get_trial("ns", first.trial.name).status is TrialStatus.RUNNING
    assert timed.renew_leases("ns", "lease", "b:2", {first.trial.name}, 10) == set(), "only its runner renews"


def test_trials_without_a_lease_never_expire(timed: Store, clock: Clock) -> None:
    claimed = claim_next_trial(timed, "ns", "lease", runner="argo-step")
    assert isinstance(claimed, Claimed) and claimed.trial.lease_expires_at is None
    clock.advance(10**6)
    assert _claim(timed, "b:2") is None
    assert timed.get_trial("ns", claimed.trial.name).status is TrialStatus.RUNNING
