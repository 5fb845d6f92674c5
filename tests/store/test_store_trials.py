"""The store's trial contract (locked transactions, conditional transitions), on every backend."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from katib_flows.errors import AlreadyExistsError, NotFoundError
from katib_flows.store import ExperimentCondition, Store, TrialStatus

TERMINAL = [s for s in TrialStatus if s.terminal]


@pytest.fixture
def exp(store: Store) -> str:
    store.create_experiment("ns", "exp", {"maxTrialCount": 5}, seed=7)
    return "exp"


def _add(store: Store, *names: str, namespace: str = "ns", experiment: str = "exp") -> None:
    with store.locked_experiment(namespace, experiment) as txn:
        for name in names:
            txn.add_trial(name, {"lr": "0.1"})


def test_add_trial_numbers_trials_in_creation_order(store: Store, exp: str) -> None:
    with store.locked_experiment("ns", exp) as txn:
        assert txn.experiment.name == exp and txn.experiment.seed == 7
        assert txn.trials() == []
        first = txn.add_trial("exp-a", {"lr": "0.1", "名": "✓"}, lane=0, labels={"team": "ü"})
        second = txn.add_trial("exp-b", {"lr": "0.2"})
        assert [t.name for t in txn.trials()] == ["exp-a", "exp-b"]
    _add(store, "exp-c")
    assert (first.seq, second.seq) == (0, 1)
    assert first.status is TrialStatus.CREATED and first.reason == "TrialCreated"
    assert (first.lane, first.labels, first.experiment) == (0, {"team": "ü"}, "exp")
    trials = store.list_trials("ns", exp)
    assert [(t.name, t.seq) for t in trials] == [("exp-a", 0), ("exp-b", 1), ("exp-c", 2)]
    assert trials[0] == first
    assert store.get_trial("ns", "exp-a").assignments == {"lr": "0.1", "名": "✓"}


def test_add_trial_as_running_claims_and_starts_at_once(store: Store, exp: str) -> None:
    with store.locked_experiment("ns", exp) as txn:
        trial = txn.add_trial("exp-a", {}, status=TrialStatus.RUNNING, runner="host:1")
    assert trial.status is TrialStatus.RUNNING and trial.started_at is not None and trial.runner == "host:1"
    assert store.start_trial("ns", "exp-a", runner="other") is False


def test_exception_in_the_block_rolls_everything_back(store: Store, exp: str) -> None:
    def fail_midway() -> None:
        with store.locked_experiment("ns", exp) as txn:
            txn.add_trial("exp-a", {})
            txn.set_condition(ExperimentCondition.RUNNING, "ExperimentRunning", "Experiment is running")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_midway()
    assert store.list_trials("ns", exp) == []
    assert store.get_experiment("ns", exp).condition is ExperimentCondition.CREATED


def test_txn_set_condition_and_state_are_visible_inside_and_after(store: Store, exp: str) -> None:
    with store.locked_experiment("ns", exp) as txn:
        txn.set_condition(ExperimentCondition.RUNNING, "ExperimentRunning", "Experiment is running")
        txn.save_algorithm_state({"k": [1, 2]})
        assert txn.experiment.condition is ExperimentCondition.RUNNING
        assert txn.algorithm_state() == {"k": [1, 2]}
        txn.set_condition(ExperimentCondition.RUNNING, "ExperimentRunning", "Experiment is running")
        assert txn.algorithm_state() == {"k": [1, 2]}  # flushing the row's changes leaves the state alone
    assert store.get_experiment("ns", exp).condition is ExperimentCondition.RUNNING
    assert store.algorithm_state("ns", exp) == {"k": [1, 2]}


def test_locking_a_missing_experiment_raises_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError, match="'ghost'"), store.locked_experiment("ns", "ghost"):
        pass


def test_duplicate_trial_name_in_a_namespace_is_refused(store: Store, exp: str) -> None:
    store.create_experiment("ns", "other", {}, seed=1)
    _add(store, "t1")
    with pytest.raises(AlreadyExistsError, match="'t1'"):
        _add(store, "t1", experiment="other")
    assert store.list_trials("ns", "other") == []


def test_locked_transaction_starts_with_the_locking_update(store: Store, exp: str) -> None:
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(" ".join(statement.split()).upper())

    engine = store._engine  # the test reads what reaches the database
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        with store.locked_experiment("ns", exp) as txn:
            txn.add_trial("exp-a", {})
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    work = [s for s in statements if not s.startswith(("BEGIN", "SELECT 1", "PRAGMA"))]
    assert work[0].startswith("UPDATE EXPERIMENTS SET CLAIM_SEQ=(EXPERIMENTS.CLAIM_SEQ + ")
    assert store.get_experiment("ns", exp) is not None


def test_same_trial_name_in_two_namespaces_stays_apart(store: Store) -> None:
    for namespace in ("team-a", "team-b"):
        store.create_experiment(namespace, "exp", {}, seed=1)
        _add(store, "exp-x", namespace=namespace)
    assert store.start_trial("team-a", "exp-x", runner="r-a") is True
    assert store.get_trial("team-b", "exp-x").status is TrialStatus.CREATED
    assert store.finish_trial("team-b", "exp-x", TrialStatus.FAILED, reason="TrialFailed") is True
    a, b = store.get_trial("team-a", "exp-x"), store.get_trial("team-b", "exp-x")
    assert (a.namespace, a.status, a.runner) == ("team-a", TrialStatus.RUNNING, "r-a")
    assert (b.namespace, b.status, b.runner) == ("team-b", TrialStatus.FAILED, None)
    with pytest.raises(NotFoundError) as raised:
        store.get_trial("team-c", "exp-x")
    assert "'team-c'" in str(raised.value) and "team-a" not in str(raised.value)


def test_start_trial_only_from_created(store: Store, exp: str) -> None:
    _add(store, "t1")
    assert store.start_trial("ns", "t1", runner="host:42") is True
    trial = store.get_trial("ns", "t1")
    assert trial.status is TrialStatus.RUNNING and trial.runner == "host:42" and trial.started_at is not None
    assert store.start_trial("ns", "t1", runner="host:43") is False
    assert store.get_trial("ns", "t1").runner == "host:42"


@pytest.mark.parametrize("status", TERMINAL)
def test_finish_trial_once_from_running(store: Store, exp: str, status: TrialStatus) -> None:
    _add(store, "t1")
    store.start_trial("ns", "t1", runner="r")
    observation = {"loss": {"min": "0.1", "max": "0.9", "latest": "0.1"}}
    assert store.finish_trial(
        "ns", "t1", status, reason="Why", message="ü", observation=observation, objective_value=0.1234567890123
    )
    trial = store.get_trial("ns", "t1")
    assert (trial.status, trial.reason, trial.message, trial.observation) == (status, "Why", "ü", observation)
    assert trial.objective_value == 0.1234567890123
    assert trial.completed_at is not None and trial.started_at is not None
    assert trial.completed_at >= trial.started_at
    assert store.finish_trial("ns", "t1", TrialStatus.KILLED) is False
    assert store.get_trial("ns", "t1").status is status


def test_finish_trial_from_created_and_keeps_observation_when_not_given(store: Store, exp: str) -> None:
    _add(store, "t1")
    assert store.finish_trial("ns", "t1", TrialStatus.KILLED, reason="Interrupted") is True
    trial = store.get_trial("ns", "t1")
    assert trial.status is TrialStatus.KILLED and trial.observation == {} and trial.started_at is None
    assert store.start_trial("ns", "t1", runner="r") is False


def test_transitions_of_a_missing_trial_raise_not_found(store: Store, exp: str) -> None:
    with pytest.raises(NotFoundError):
        store.start_trial("ns", "ghost", runner="r")
    with pytest.raises(NotFoundError):
        store.finish_trial("ns", "ghost", TrialStatus.FAILED)
    with pytest.raises(NotFoundError):
        store.get_trial("ns", "ghost")


def test_finish_trial_needs_a_terminal_status(store: Store, exp: str) -> None:
    _add(store, "t1")
    with pytest.raises(ValueError, match="terminal"):
        store.finish_trial("ns", "t1", TrialStatus.RUNNING)


def test_trials_since_and_active_trials(store: Store, exp: str) -> None:
    _add(store, "t0", "t1", "t2", "t3")
    store.start_trial("ns", "t1", runner="r")
    store.finish_trial("ns", "t2", TrialStatus.SUCCEEDED)
    assert [t.name for t in store.trials_since("ns", exp, 2)] == ["t2", "t3"]
    assert store.trials_since("ns", exp, 4) == []
    assert [(t.name, t.status) for t in store.active_trials("ns", exp)] == [
        ("t0", TrialStatus.CREATED),
        ("t1", TrialStatus.RUNNING),
        ("t3", TrialStatus.CREATED),
    ]
    with pytest.raises(NotFoundError):
        store.list_trials("elsewhere", exp)


def test_delete_experiment_deletes_its_trials_and_a_new_one_starts_afresh(store: Store, exp: str) -> None:
    _add(store, "t0", "t1")
    store.delete_experiment("ns", exp)
    with pytest.raises(NotFoundError):
        store.get_trial("ns", "t0")
    store.create_experiment("ns", exp, {}, seed=1)
    _add(store, "t1")
    assert [(t.name, t.seq) for t in store.list_trials("ns", exp)] == [("t1", 0)]


def test_the_transaction_cannot_be_used_after_its_block(store: Store, exp: str) -> None:
    with store.locked_experiment("ns", exp) as txn:
        txn.add_trial("t1", {})
    assert txn.experiment.name == exp
    with pytest.raises(RuntimeError, match="ended"):
        txn.add_trial("t2", {})
    with pytest.raises(RuntimeError, match="ended"):
        txn.trials()


def test_status_counts_and_best_trial_aggregate_in_the_database(store: Store, exp: str) -> None:
    _add(store, "t0", "t1", "t2", "t3", "t4")
    store.finish_trial("ns", "t0", TrialStatus.SUCCEEDED, objective_value=0.5)
    store.finish_trial("ns", "t1", TrialStatus.SUCCEEDED, objective_value=0.9)
    store.finish_trial("ns", "t2", TrialStatus.SUCCEEDED, objective_value=0.9)
    store.finish_trial("ns", "t3", TrialStatus.KILLED, reason="TrialInterrupted")
    with store.locked_experiment("ns", exp) as tx:
        assert tx.status_counts() == {
            (TrialStatus.SUCCEEDED, ""): 3,
            (TrialStatus.KILLED, "TrialInterrupted"): 1,
            (TrialStatus.CREATED, "TrialCreated"): 1,
        }
        best_max, best_min = tx.best_trial(maximize=True), tx.best_trial(maximize=False)
    assert best_max == ("t1", 0.9)  # the earliest of the tie
    assert best_min == ("t0", 0.5)


def test_a_succeeded_trial_without_a_number_is_the_best_without_comparison(store: Store, exp: str) -> None:
    """The engine finishes a trial whose objective value is not a number (DARTS's genotype) as Succeeded with
    no objective_value; as in Katib it is the best trial, the latest such one, in either direction."""
    _add(store, "t0", "t1", "t2", "t3", "t4", "t5")
    store.finish_trial("ns", "t0", TrialStatus.SUCCEEDED, objective_value=0.9)
    store.finish_trial("ns", "t1", TrialStatus.SUCCEEDED)
    store.finish_trial("ns", "t2", TrialStatus.SUCCEEDED)
    store.finish_trial("ns", "t3", TrialStatus.SUCCEEDED, objective_value=2.0)
    store.finish_trial("ns", "t4", TrialStatus.METRICS_UNAVAILABLE)
    store.finish_trial("ns", "t5", TrialStatus.FAILED)
    with store.locked_experiment("ns", exp) as tx:
        assert tx.best_trial(maximize=True) == ("t2", None)
        assert tx.best_trial(maximize=False) == ("t2", None)
        assert (tx.best_value(maximize=True), tx.best_value(maximize=False)) == (2.0, 0.9)  # what the goal judges


def test_best_trial_ignores_active_trials_and_missing_values(store: Store, exp: str) -> None:
    _add(store, "t0", "t1")
    store.finish_trial("ns", "t0", TrialStatus.FAILED)
    with store.locked_experiment("ns", exp) as tx:
        assert tx.best_trial(maximize=True) is None and tx.best_value(maximize=True) is None
