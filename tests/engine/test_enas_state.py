"""enas's controller lives in the store: saved with each claim that trained it, read back by any process.

On SQLite, MariaDB and PostgreSQL, with Katib's enas-cpu.yaml (read from ../shared/katib-examples/nas/) at
Katib's default settings, so the state is full size (a 64-unit LSTM over 106 operations, about 1.8 MB of
JSON): a claim after a trial succeeded trains the controller and stores it; a second connection (another
process, as far as the store can tell) reads exactly those arrays back and continues from them. Only the
suggest path reads the state: listing, reading, locking, finishing, renewing leases and a claim that waits
never read its table (watched in the SQL every engine sends), and the lock's UPDATE leaves it alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import katib_flows_suggestion as sg
import numpy as np
import yaml
from katib_flows_suggestion._enas import Enas, EnasState
from sqlalchemy import event
from sqlalchemy.engine import Engine

from katib_flows.engine import Claimed, Wait, claim_next_trial, experiment_of, finish_trial, register_experiment
from katib_flows.spec import check_document, to_search_problem
from katib_flows.store import MetricLog, Store, TrialStatus

NAS = next(
    (p / "shared" / "katib-examples" / "nas" for p in Path(__file__).resolve().parents[2:] if (p / "shared").is_dir()),
    Path(__file__).resolve().parents[3] / "shared" / "katib-examples" / "nas",
)


def _register(store: Store) -> None:
    document = yaml.safe_load((NAS / "enas-cpu.yaml").read_text(encoding="utf-8"))
    document["spec"].update(parallelTrialCount=1, maxTrialCount=4)
    checked = check_document(document, "enas-cpu.yaml")
    assert checked.ok and checked.experiment is not None
    register_experiment(store, checked.experiment, namespace="ns", name="enas", seed=3)


@contextmanager
def _state_statements() -> Iterator[list[str]]:
    """The verb (SELECT, UPDATE, ...) of every statement on the state's table sent by any engine (any store)
    inside the block."""
    verbs: list[str] = []

    def watch(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "algorithm_states" in statement:
            verbs.append(statement.split(None, 1)[0].upper())

    event.listen(Engine, "before_cursor_execute", watch)
    try:
        yield verbs
    finally:
        event.remove(Engine, "before_cursor_execute", watch)


def _claim(store: Store) -> Claimed:
    result = claim_next_trial(store, "ns", "enas", lane=0, runner="test", lease=60)
    assert isinstance(result, Claimed), result
    return result


def _succeed(store: Store, name: str, accuracy: float) -> None:
    log = MetricLog("Validation-Accuracy", str(accuracy), dt.datetime.now(dt.UTC), 0)
    finish_trial(store, "ns", name, TrialStatus.SUCCEEDED, logs=[log])


def _arrays(state: dict[str, Any] | None, config: Any) -> dict[str, np.ndarray]:
    assert state is not None
    trainer = EnasState.from_json(state, config).trainer
    return {
        f"{part}.{k}": v for part in ("weights", "adam_m", "adam_v") for k, v in getattr(trainer, part).arrays().items()
    }


def test_the_controller_round_trips_through_the_store(store: Store, store_url: str) -> None:
    _register(store)
    first = _claim(store)
    assert store.algorithm_state("ns", "enas") is None  # nothing learnt yet: nothing stored
    _succeed(store, first.trial.name, 0.7)
    second = _claim(store)  # trains on the first trial, and stores the controller with the claim

    with Store(store_url) as other:  # another connection: what another process would read
        record = other.get_experiment("ns", "enas")
        problem = to_search_problem(experiment_of(record).spec)
        config = Enas().config(problem)[0]
        stored = other.algorithm_state("ns", "enas")
        assert stored is not None and stored["version"] == EnasState.VERSION
        assert stored["consumed"] == [first.trial.name] and stored["train_step"] == 50
        # Exactly the arrays a fresh rebuild from the same history computes: nothing lost in the store's JSON.
        rebuilt = Enas().suggest(problem, [_as_history(first, 0.7)], record.seed)
        assert isinstance(rebuilt, sg.Suggestion) and rebuilt.state is not None
        mine, theirs = _arrays(stored, config), _arrays(rebuilt.state, config)
        assert mine.keys() == theirs.keys()
        assert all(np.array_equal(mine[k], theirs[k]) for k in mine)
        assert stored["baseline"] == rebuilt.state["baseline"] != 0.0

        _succeed(other, second.trial.name, 0.4)
        _claim(other)  # the other process continues from the stored controller
        later = other.algorithm_state("ns", "enas")
    assert later is not None
    assert later["consumed"] == [first.trial.name, second.trial.name] and later["train_step"] == 100
    assert not np.array_equal(_arrays(later, config)["weights.w_soft"], mine["weights.w_soft"])


def _as_history(claimed: Claimed, value: float) -> sg.Trial:
    return sg.Trial(claimed.trial.name, claimed.trial.assignments, "Succeeded", value)


RANDOM = {
    "objective": {"type": "minimize", "objectiveMetricName": "loss"},
    "algorithm": {"algorithmName": "random"},
    "parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}],
    "trialTemplate": {"command": ["echo", "${trialParameters.x}"]},
}


def test_only_the_suggest_path_reads_the_state(store: Store) -> None:
    _register(store)
    checked = check_document(RANDOM, "random.yaml")
    assert checked.experiment is not None
    register_experiment(store, checked.experiment, namespace="ns", name="plain", seed=3)
    first = _claim(store)
    _succeed(store, first.trial.name, 0.7)
    second = _claim(store)  # stores the full-size controller
    with _state_statements() as touched:
        assert [e.name for e in store.list_experiments("ns")] == ["enas", "plain"]
        assert [e.name for e in store.list_experiments(None)] == ["enas", "plain"]
        assert isinstance(claim_next_trial(store, "ns", "plain", lane=0, runner="test"), Claimed)  # not stateful
        store.get_experiment("ns", "enas")
        with store.locked_experiment("ns", "enas") as txn:
            assert txn.experiment.name == "enas"
        assert store.renew_leases("ns", "enas", "test", [second.trial.name], 60) == {second.trial.name}
        assert isinstance(claim_next_trial(store, "ns", "enas", lane=1, runner="test"), Wait)  # the slot is busy
        _succeed(store, second.trial.name, 0.4)
        assert touched == []
        _claim(store)  # suggesting: the one read of the state, and its replacement (it exists: no INSERT)
        assert touched == ["SELECT", "UPDATE"]
        state = store.algorithm_state("ns", "enas")
        assert touched == ["SELECT", "UPDATE", "SELECT"] and state is not None and state["train_step"] == 100
