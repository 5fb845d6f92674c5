"""Katib's DB API (register/get/delete observation logs) plus the bulk read, on every backend."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from katib_flows.errors import NotFoundError
from katib_flows.store import MetricLog, Store

T0 = dt.datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=dt.timezone.utc)
US = dt.timedelta(microseconds=1)


def _setup(store: Store, namespace: str = "ns", *trials: str) -> None:
    store.create_experiment(namespace, "exp", {}, seed=1)
    with store.locked_experiment(namespace, "exp") as txn:
        for name in trials or ("t1",):
            txn.add_trial(name, {})


def test_rows_come_back_in_time_order_with_microseconds(store: Store) -> None:
    _setup(store)
    later, earlier = MetricLog("loss", "0.5", T0 + US, step=1), MetricLog("loss", "0.7", T0, step=0)
    store.register_observation_log("ns", "t1", [later, earlier])
    logs = store.get_observation_log("ns", "t1")
    assert logs == [earlier, later]
    assert logs[1].timestamp - logs[0].timestamp == US
    assert all(log.timestamp.tzinfo is dt.timezone.utc for log in logs)


def test_equal_timestamps_keep_insertion_order(store: Store) -> None:
    _setup(store)
    rows = [MetricLog("acc", str(i), T0) for i in range(5)]
    store.register_observation_log("ns", "t1", rows[:2])
    store.register_observation_log("ns", "t1", rows[2:])
    assert [log.value for log in store.get_observation_log("ns", "t1")] == ["0", "1", "2", "3", "4"]


def test_metric_and_inclusive_time_filters(store: Store) -> None:
    _setup(store)
    store.register_observation_log(
        "ns", "t1", [MetricLog(metric, str(i), T0 + i * US, step=i) for i in range(4) for metric in ("loss", "acc")]
    )
    assert [log.value for log in store.get_observation_log("ns", "t1", "loss")] == ["0", "1", "2", "3"]
    window = store.get_observation_log("ns", "t1", "acc", start_time=T0 + US, end_time=T0 + 2 * US)
    assert [(log.metric, log.value, log.step) for log in window] == [("acc", "1", 1), ("acc", "2", 2)]
    assert len(store.get_observation_log("ns", "t1", start_time=T0 + 3 * US)) == 2
    assert store.get_observation_log("ns", "t1", "missing") == []


def test_times_in_other_zones_and_naive_times_are_utc(store: Store) -> None:
    _setup(store)
    plus_two = dt.timezone(dt.timedelta(hours=2))
    store.register_observation_log(
        "ns",
        "t1",
        [MetricLog("a", "1", T0.astimezone(plus_two)), MetricLog("b", "2", T0.replace(tzinfo=None) + US)],
    )
    assert [log.timestamp for log in store.get_observation_log("ns", "t1")] == [T0, T0 + US]
    assert [log.metric for log in store.get_observation_log("ns", "t1", end_time=T0.astimezone(plus_two))] == ["a"]


def _numbers(store_url: str) -> dict[str, float | None]:
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT value, number FROM observation_logs"))
            return {row.value: row.number for row in rows}
    finally:
        engine.dispose()


def test_number_is_an_exact_double_or_null(store: Store, store_url: str) -> None:
    _setup(store)
    values = ["0.1234567890123", "unavailable", "nan", "inf", "1e-300", "-7", "Genotype(normal=[...])"]
    store.register_observation_log("ns", "t1", [MetricLog("m", v, T0 + i * US) for i, v in enumerate(values)])
    assert _numbers(store_url) == {
        "0.1234567890123": 0.1234567890123,
        "unavailable": None,
        "nan": None,
        "inf": None,
        "1e-300": 1e-300,
        "-7": -7.0,
        "Genotype(normal=[...])": None,
    }
    assert [log.value for log in store.get_observation_log("ns", "t1")] == values


def test_logs_never_cross_namespaces(store: Store) -> None:
    for namespace in ("team-a", "team-b"):
        _setup(store, namespace, "t1")
        store.register_observation_log(namespace, "t1", [MetricLog("loss", namespace, T0)])
    assert [log.value for log in store.get_observation_log("team-a", "t1")] == ["team-a"]
    assert store.observation_logs("team-b", "exp") == {"t1": [MetricLog("loss", "team-b", T0)]}
    assert store.delete_observation_log("team-a", "t1") == 1
    assert store.get_observation_log("team-a", "t1") == []
    assert [log.value for log in store.get_observation_log("team-b", "t1")] == ["team-b"]
    assert store.get_observation_log("team-c", "t1") == []


def test_register_for_an_unknown_trial_raises_not_found(store: Store) -> None:
    _setup(store, "team-a", "t1")
    with pytest.raises(NotFoundError) as raised:
        store.register_observation_log("team-b", "t1", [MetricLog("loss", "1", T0)])
    assert "'team-b'" in str(raised.value) and "team-a" not in str(raised.value)


def test_empty_register_is_harmless_and_delete_counts(store: Store) -> None:
    _setup(store)
    store.register_observation_log("ns", "t1", [])
    assert store.delete_observation_log("ns", "t1") == 0
    store.register_observation_log("ns", "t1", (MetricLog("m", str(i), T0) for i in range(1200)))
    assert len(store.get_observation_log("ns", "t1")) == 1200
    assert store.delete_observation_log("ns", "t1") == 1200


def test_bulk_read_groups_by_trial_in_time_order(store: Store) -> None:
    _setup(store, "ns", "t1", "t2", "t3")
    store.register_observation_log("ns", "t2", [MetricLog("loss", "b1", T0 + 2 * US, 0)])
    store.register_observation_log(
        "ns", "t1", [MetricLog("loss", "a2", T0 + 3 * US, 1), MetricLog("loss", "a1", T0, 0), MetricLog("acc", "x", T0)]
    )
    logs = store.observation_logs("ns", "exp")
    assert {name: [log.value for log in rows] for name, rows in logs.items()} == {
        "t1": ["a1", "x", "a2"],
        "t2": ["b1"],
    }
    only_loss = store.observation_logs("ns", "exp", "loss")
    assert [log.value for log in only_loss["t1"]] == ["a1", "a2"]
    with pytest.raises(NotFoundError):
        store.observation_logs("elsewhere", "exp")


def test_delete_experiment_deletes_its_logs(store: Store) -> None:
    _setup(store)
    store.register_observation_log("ns", "t1", [MetricLog("loss", "1", T0)])
    store.delete_experiment("ns", "exp")
    assert store.get_observation_log("ns", "t1") == []
