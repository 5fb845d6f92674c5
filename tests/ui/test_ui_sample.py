"""What the figures draw at 10,000 trials: at most the limit, and still the truth where it matters; and how the
UI reads a store that takes long to answer."""

from __future__ import annotations

import datetime as dt
import random
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from ui_helpers import populate, spec

from katib_flows.engine import delete_experiment, finish_trial
from katib_flows.report import History
from katib_flows.spec import check_document
from katib_flows.store import ExperimentCondition, ExperimentRecord, Store, TrialRecord, TrialStatus
from katib_flows.ui import Reader, _data, sample
from katib_flows.ui._data import SNAPSHOT_SECONDS


def _history(n: int) -> History:
    rng = random.Random(7)
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    checked = check_document(spec("big", max_trials=n), "big")
    assert checked.experiment is not None
    record = ExperimentRecord(
        "default", "big", checked.experiment.dump(), 1, ExperimentCondition.RUNNING, "ExperimentRunning", "", [],
        t0, t0, None, None,
    )  # fmt: skip
    trials = [
        TrialRecord("default", "big", f"big-{i}", i, {"lr": 0.01, "units": i % 64 + 1, "act": "relu"},
                    TrialStatus.FAILED if i % 7 == 0 else TrialStatus.SUCCEEDED,
                    objective_value=None if i % 7 == 0 else rng.random())
        for i in range(n)
    ]  # fmt: skip
    return History(record, trials, {})


def test_a_large_history_is_sampled_keeping_the_best_so_far_line_exact() -> None:
    full = _history(10_000)
    kept = sample(full, 1000)
    assert len(kept) <= 1000 and kept == sorted(kept, key=lambda t: t.seq)
    assert all(t.status is TrialStatus.SUCCEEDED for t in kept)
    drawn = History(full.experiment, kept, {})
    exact = dict(zip((t.name for t in full.completed()), full.best_so_far(), strict=True))
    assert drawn.best_so_far() == [exact[t.name] for t in kept]
    assert max(t.objective_value or 0 for t in kept) == max(t.objective_value or 0 for t in full.completed())
    spread = [t.seq for t in kept]
    assert spread[0] < 500 and spread[-1] > 9500  # the sample covers the whole run, not its start


def test_a_small_history_is_drawn_whole() -> None:
    full = _history(300)
    assert sample(full, 1000) == full.completed()


def test_the_benchs_bulk_store_holds_what_the_store_calls_write(tmp_path: Path) -> None:
    """bench/ui.py writes its 10,000 trials with ``populate(bulk=True)``: the same trials and logs as the
    store's own calls write (times aside), read back through the store."""

    def written(bulk: bool) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        with Store(f"sqlite:///{tmp_path / f'{bulk}.db'}", upgrade=True) as store:
            populate(store, "both", trials=12, running=2, bulk=bulk)
            trials = store.list_trials("default", "both")
            logs = store.observation_logs("default", "both")
        rows = [(t.name, t.seq, t.assignments, t.status, t.reason, t.message, t.runner, t.observation,
                 t.objective_value, t.started_at is None, t.completed_at is None) for t in trials]  # fmt: skip
        return rows, sorted((k, m.metric, m.value, m.step, m.timestamp) for k, v in logs.items() for m in v)

    slow, fast = written(False), written(True)
    assert len(slow[0]) == 14 and len(slow[1]) == 10 * 3  # 12 finished, 2 of them failed; 2 running
    assert fast == slow


def test_one_slow_read_serves_the_requests_that_wait_for_it_and_the_second_after(tmp_path: Path) -> None:
    """At 10,000 trials on a busy machine a read takes seconds: requests that come meanwhile wait for it, and
    the ``SNAPSHOT_SECONDS`` it serves start when it ends (else every request of a page would read again)."""
    with Store(f"sqlite:///{tmp_path / 'slow.db'}", upgrade=True) as store:
        populate(store, "slow", trials=5)
        reads: list[float] = []
        real = store.trials_since

        def slow(namespace: str, experiment: str, seq: int, *, wait: bool = True) -> list[TrialRecord]:
            reads.append(time.monotonic())
            time.sleep(SNAPSHOT_SECONDS + 0.3)
            return real(namespace, experiment, seq, wait=wait)

        store.trials_since = slow  # type: ignore[method-assign]
        reader = Reader(store)
        with ThreadPoolExecutor(3) as pool:  # a page's summary, table and figures at once
            answers = list(pool.map(lambda _: reader.snapshot("default", "slow"), range(3)))
        assert len(reads) == 1 and answers[0] is answers[1] is answers[2]
        assert reader.snapshot("default", "slow") is answers[0]  # read more than a second ago, but ended just now
        time.sleep(SNAPSHOT_SECONDS + 0.1)
        assert reader.snapshot("default", "slow") is not answers[0] and len(reads) == 2


def test_a_poll_reads_only_the_trials_that_may_still_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Finished trials are kept from the last read; what the reader answers is still what the store holds,
    also after a trial finishes, a new one starts, and the experiment is deleted and created again."""
    monkeypatch.setattr(_data, "SNAPSHOT_SECONDS", 0.0)  # every call reads
    with Store(f"sqlite:///{tmp_path / 'poll.db'}", upgrade=True) as store:
        populate(store, "poll", trials=6, running=1)
        asked: list[int] = []
        real = store.trials_since

        def since(namespace: str, experiment: str, seq: int, *, wait: bool = True) -> list[TrialRecord]:
            asked.append(seq)
            return real(namespace, experiment, seq, wait=wait)

        store.trials_since = since  # type: ignore[method-assign]
        reader = Reader(store)

        def same() -> bool:
            return reader.snapshot("default", "poll").trials == store.list_trials("default", "poll")

        assert same() and same() and asked == [0, 6]  # the second read starts at the running trial
        finish_trial(store, "default", "poll-00006", TrialStatus.SUCCEEDED)
        with store.locked_experiment("default", "poll") as tx:
            tx.add_trial("poll-extra", {"lr": 0.01, "units": 2, "act": "relu"}, status=TrialStatus.RUNNING)
        assert same() and same() and asked[2:] == [6, 7]
        delete_experiment(store, "default", "poll")
        populate(store, "poll", trials=3, seed=1)
        assert same() and asked[4] == 0
