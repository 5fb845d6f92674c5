"""The store's experiment contract, run on SQLite, MariaDB and PostgreSQL (``store`` is parametrized)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from katib_flows.errors import AlreadyExistsError, NotFoundError
from katib_flows.store import DEFAULT_NAMESPACE, ExperimentCondition, Store

SPEC: dict[str, Any] = {"objective": {"type": "minimize", "objectiveMetricName": "loss"}, "maxTrialCount": 3}
RUNNING = (ExperimentCondition.RUNNING, "ExperimentRunning", "Experiment is running")


def test_create_then_get_returns_the_same_record(store: Store) -> None:
    created = store.create_experiment(DEFAULT_NAMESPACE, "mnist", SPEC, seed=42)
    assert created.condition is ExperimentCondition.CREATED
    assert (created.reason, created.message) == ("ExperimentCreated", "Experiment is created")
    assert [(c["type"], c["status"], c["reason"]) for c in created.conditions] == [
        ("Created", "True", "ExperimentCreated")
    ]
    assert created.created_at.tzinfo is dt.timezone.utc
    assert (created.started_at, created.completed_at, created.optimal_trial) == (None, None, None)
    assert store.get_experiment(DEFAULT_NAMESPACE, "mnist") == created
    assert store.algorithm_state(DEFAULT_NAMESPACE, "mnist") is None


def test_unicode_json_round_trips(store: Store) -> None:
    spec = {"名前": "値 ✓ 🎉", "nested": [{"ключ": "значение", "n": 1.5, "ok": True, "none": None}]}
    store.create_experiment("ns", "uni", spec, seed=1)
    assert store.get_experiment("ns", "uni").spec == spec


def test_create_twice_raises_already_exists_with_the_fix(store: Store) -> None:
    store.create_experiment("team-a", "mnist", SPEC, seed=1)
    with pytest.raises(AlreadyExistsError) as raised:
        store.create_experiment("team-a", "mnist", SPEC, seed=2)
    message = str(raised.value)
    assert "'mnist'" in message and "'team-a'" in message
    assert "katib-flows delete mnist" in message and "--name" in message
    assert store.get_experiment("team-a", "mnist").seed == 1


def test_get_missing_raises_not_found_naming_namespace_and_name_only(store: Store) -> None:
    store.create_experiment("team-alpha", "mnist", SPEC, seed=1)
    with pytest.raises(NotFoundError) as raised:
        store.get_experiment("team-beta", "mnist")
    message = str(raised.value)
    assert "'mnist'" in message and "'team-beta'" in message
    assert "team-alpha" not in message


def test_list_is_per_namespace_oldest_first_and_none_means_all(store: Store) -> None:
    for namespace, name in [("a", "first"), ("b", "second"), ("a", "third")]:
        store.create_experiment(namespace, name, SPEC, seed=0)
    assert [e.name for e in store.list_experiments("a")] == ["first", "third"]
    assert [e.name for e in store.list_experiments("b")] == ["second"]
    assert [e.name for e in store.list_experiments("nobody")] == []
    assert [(e.namespace, e.name) for e in store.list_experiments(None)] == [
        ("a", "first"),
        ("b", "second"),
        ("a", "third"),
    ]


def test_same_name_in_two_namespaces_is_two_experiments(store: Store) -> None:
    store.create_experiment("team-a", "mnist", {"owner": "a"}, seed=1)
    store.create_experiment("team-b", "mnist", {"owner": "b"}, seed=2)
    assert store.get_experiment("team-a", "mnist").spec == {"owner": "a"}
    assert store.get_experiment("team-b", "mnist").spec == {"owner": "b"}
    store.set_experiment_condition("team-a", "mnist", *RUNNING)
    assert store.get_experiment("team-b", "mnist").condition is ExperimentCondition.CREATED
    store.delete_experiment("team-a", "mnist")
    with pytest.raises(NotFoundError):
        store.get_experiment("team-a", "mnist")
    assert store.get_experiment("team-b", "mnist").seed == 2


def test_names_are_case_sensitive_on_every_backend(store: Store) -> None:
    store.create_experiment("default", "mnist", SPEC, seed=1)
    store.create_experiment("Default", "MNIST", SPEC, seed=2)
    assert store.get_experiment("default", "mnist").seed == 1
    assert [e.name for e in store.list_experiments("Default")] == ["MNIST"]


def test_delete_missing_raises_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError, match="'ghost'"):
        store.delete_experiment("ns", "ghost")


def test_update_spec_and_algorithm_state(store: Store) -> None:
    store.create_experiment("ns", "exp", SPEC, seed=1)
    updated = store.update_experiment_spec("ns", "exp", {**SPEC, "maxTrialCount": 10})
    assert updated.spec["maxTrialCount"] == 10
    store.save_algorithm_state("ns", "exp", {"version": 1, "rungs": [[0.5, "ü"]]})
    assert store.algorithm_state("ns", "exp") == {"version": 1, "rungs": [[0.5, "ü"]]}
    assert store.get_experiment("ns", "exp").spec["maxTrialCount"] == 10  # saving the state changes nothing else
    store.save_algorithm_state("ns", "exp", None)
    assert store.algorithm_state("ns", "exp") is None
    with pytest.raises(NotFoundError):
        store.update_experiment_spec("other", "exp", SPEC)
    with pytest.raises(NotFoundError, match="'exp'"):
        store.algorithm_state("other", "exp")


def test_saving_a_state_inserts_replaces_and_deletes_its_row(store: Store) -> None:
    store.create_experiment("ns", "exp", SPEC, seed=1)
    store.create_experiment("ns", "peer", SPEC, seed=1)
    store.save_algorithm_state("ns", "exp", None)  # nothing stored: nothing to delete
    state = {"version": 1, "w": [0.1, 2.5e-8]}
    for _ in range(2):  # the same value twice: MySQL's UPDATE then changes no row, yet it matched one
        store.save_algorithm_state("ns", "exp", state)
        assert store.algorithm_state("ns", "exp") == state
    store.save_algorithm_state("ns", "exp", {"version": 2})
    assert (store.algorithm_state("ns", "exp"), store.algorithm_state("ns", "peer")) == ({"version": 2}, None)
    with store.locked_experiment("ns", "exp") as txn:
        txn.save_algorithm_state(None)
        assert txn.algorithm_state() is None
        txn.save_algorithm_state({"version": 3})  # deleted, then inserted again in one transaction
    assert store.algorithm_state("ns", "exp") == {"version": 3}


def test_deleting_an_experiment_deletes_its_state(store: Store) -> None:
    store.create_experiment("ns", "keep", SPEC, seed=1)
    store.save_algorithm_state("ns", "keep", {"mine": "keep"})
    store.create_experiment("ns", "exp", SPEC, seed=1)  # the newest: SQLite may give its id to the next one
    store.save_algorithm_state("ns", "exp", {"version": 1})
    store.delete_experiment("ns", "exp")
    store.create_experiment("ns", "exp", SPEC, seed=1)
    assert store.algorithm_state("ns", "exp") is None  # not the deleted experiment's
    assert store.algorithm_state("ns", "keep") == {"mine": "keep"}


def test_running_sets_started_at_once_and_repeating_it_changes_nothing(store: Store) -> None:
    store.create_experiment("ns", "exp", SPEC, seed=1)
    first = store.set_experiment_condition("ns", "exp", *RUNNING)
    assert first.condition is ExperimentCondition.RUNNING and first.started_at is not None
    again = store.set_experiment_condition("ns", "exp", *RUNNING)
    assert again.conditions == first.conditions
    assert again.started_at == first.started_at


def test_succeeded_flips_running_to_false_and_completes(store: Store) -> None:
    store.create_experiment("ns", "exp", SPEC, seed=1)
    store.set_experiment_condition("ns", "exp", *RUNNING)
    done = store.set_experiment_condition(
        "ns", "exp", ExperimentCondition.SUCCEEDED, "ExperimentMaxTrialsReached", "max trials", optimal_trial="t-1"
    )
    assert done.condition is ExperimentCondition.SUCCEEDED
    assert done.reason == "ExperimentMaxTrialsReached" and done.optimal_trial == "t-1"
    assert [(c["type"], c["status"], c["reason"]) for c in done.conditions] == [
        ("Created", "True", "ExperimentCreated"),
        ("Running", "False", "ExperimentRunning"),
        ("Succeeded", "True", "ExperimentMaxTrialsReached"),
    ]
    assert done.completed_at is not None and done.started_at is not None
    assert done.completed_at >= done.started_at
    assert store.get_experiment("ns", "exp") == done


def test_optimal_trial_is_updated_even_when_the_condition_is_unchanged(store: Store) -> None:
    store.create_experiment("ns", "exp", SPEC, seed=1)
    store.set_experiment_condition("ns", "exp", *RUNNING)
    before = store.get_experiment("ns", "exp")
    after = store.set_experiment_condition("ns", "exp", *RUNNING, optimal_trial="best")
    assert after.optimal_trial == "best" and after.conditions == before.conditions
    assert store.set_experiment_condition("ns", "exp", *RUNNING).optimal_trial == "best"


def test_restarting_removes_terminal_conditions_and_completion(store: Store) -> None:
    store.create_experiment("ns", "exp", SPEC, seed=1)
    store.set_experiment_condition("ns", "exp", *RUNNING)
    store.set_experiment_condition("ns", "exp", ExperimentCondition.FAILED, "ExperimentFailed", "too many failures")
    restarted = store.set_experiment_condition(
        "ns", "exp", ExperimentCondition.RESTARTING, "ExperimentRestarting", "Experiment is restarted"
    )
    assert restarted.condition is ExperimentCondition.RESTARTING and restarted.completed_at is None
    assert [c["type"] for c in restarted.conditions] == ["Created", "Running", "Restarting"]
    running = store.set_experiment_condition("ns", "exp", *RUNNING)
    assert running.condition is ExperimentCondition.RUNNING
    assert [(c["type"], c["status"]) for c in running.conditions][-1] == ("Running", "True")


def test_completed_flag_overrides_the_condition(store: Store) -> None:
    store.create_experiment("ns", "exp", SPEC, seed=1)
    record = store.set_experiment_condition("ns", "exp", *RUNNING, completed=True)
    assert record.completed_at is not None


def test_condition_of_a_missing_experiment_raises_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.set_experiment_condition("ns", "ghost", *RUNNING)
