"""Races on every backend: locked transactions serialise, conditional transitions have one winner.

Threads each open their own ``Store`` (own engine and connections), which on the database side is what
separate processes are; a ``Barrier`` lines them up so the calls really overlap. No sleeps.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest

from katib_flows.store import Store, TrialStatus

T = TypeVar("T")
WORKERS = 6


def _race(store_url: str, work: Callable[[Store, int], T]) -> list[T]:
    barrier = threading.Barrier(WORKERS)

    def run(index: int) -> T:
        with Store(store_url) as own:
            barrier.wait(timeout=60)
            return work(own, index)

    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(run, range(WORKERS)))


def test_claims_under_the_lock_never_exceed_the_budget(store: Store, store_url: str) -> None:
    store.create_experiment("ns", "exp", {}, seed=1)
    budget = 10

    def claim_until_full(own: Store, index: int) -> int:
        claimed = 0
        for attempt in range(5):
            with own.locked_experiment("ns", "exp") as txn:
                if len(txn.trials()) < budget:  # read, decide, write: safe only under the lock
                    txn.add_trial(f"t-{index}-{attempt}", {"worker": index})
                    claimed += 1
        return claimed

    assert sum(_race(store_url, claim_until_full)) == budget
    trials = store.list_trials("ns", "exp")
    assert [t.seq for t in trials] == list(range(budget))
    assert store.get_experiment("ns", "exp").seed == 1


def test_one_runner_wins_start_trial(store: Store, store_url: str) -> None:
    store.create_experiment("ns", "exp", {}, seed=1)
    with store.locked_experiment("ns", "exp") as txn:
        txn.add_trial("t1", {})
    results = _race(store_url, lambda own, index: own.start_trial("ns", "t1", runner=f"runner-{index}"))
    assert results.count(True) == 1
    assert store.get_trial("ns", "t1").runner == f"runner-{results.index(True)}"


@pytest.mark.parametrize("start", [False, True])
def test_one_outcome_wins_finish_trial(store: Store, store_url: str, start: bool) -> None:
    store.create_experiment("ns", "exp", {}, seed=1)
    with store.locked_experiment("ns", "exp") as txn:
        txn.add_trial("t1", {})
    if start:
        store.start_trial("ns", "t1", runner="r")
    outcomes = [TrialStatus.SUCCEEDED, TrialStatus.FAILED, TrialStatus.KILLED] * 2
    results = _race(store_url, lambda own, index: own.finish_trial("ns", "t1", outcomes[index], reason=str(index)))
    assert results.count(True) == 1
    winner = results.index(True)
    trial = store.get_trial("ns", "t1")
    assert (trial.status, trial.reason) == (outcomes[winner], str(winner))


def test_creating_the_same_experiment_at_once_has_one_winner(store: Store, store_url: str) -> None:
    from katib_flows.errors import AlreadyExistsError

    def create(own: Store, index: int) -> bool:
        try:
            own.create_experiment("ns", "same", {"by": index}, seed=index)
        except AlreadyExistsError:
            return False
        return True

    results = _race(store_url, create)
    assert results.count(True) == 1
    assert store.get_experiment("ns", "same").seed == results.index(True)
