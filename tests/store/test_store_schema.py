"""Schema revisions: an empty or foreign-version database is refused with the fix; migrations match the models."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

import katib_flows_suggestion as sg
import pytest
import sqlalchemy as sa
import yaml
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from katib_flows_suggestion._enas import Enas

from katib_flows.errors import SchemaOutdatedError, StoreError
from katib_flows.spec import check_document, to_search_problem
from katib_flows.store import MetricLog, Store, _migrate
from katib_flows.store._migrate import VERSION_TABLE
from katib_flows.store._schema import Base
from katib_flows.store._urls import make_engine, parse_url

NAS = next(
    (p / "shared" / "katib-examples" / "nas" for p in Path(__file__).resolve().parents[2:] if (p / "shared").is_dir()),
    Path(__file__).resolve().parents[3] / "shared" / "katib-examples" / "nas",
)


def _execute(url: str, statement: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(statement))
    finally:
        engine.dispose()


def test_an_empty_database_is_refused_with_the_upgrade_command(store_url: str) -> None:
    with pytest.raises(SchemaOutdatedError) as raised:
        Store(store_url)
    message = str(raised.value)
    assert "run: katib-flows db upgrade --db " in message
    assert "no katib-flows schema" in message
    assert Store.inspect_revision(store_url) == (None, Store.head_revision())


def test_after_upgrade_the_store_opens_and_reports_its_revision(store_url: str) -> None:
    with Store(store_url, upgrade=True) as store:
        assert store.revision() == Store.head_revision() == "0003"
        assert store.upgrade() == "0003"  # idempotent
    with Store(store_url) as store:
        assert store.list_experiments(None) == []
    assert Store.inspect_revision(store_url) == ("0003", "0003")


def test_a_newer_schema_asks_to_upgrade_katib_flows(store_url: str) -> None:
    Store(store_url, upgrade=True).close()
    _execute(store_url, f"UPDATE {VERSION_TABLE} SET version_num = '9999'")
    for attempt in (lambda: Store(store_url), lambda: Store(store_url, upgrade=True)):
        with pytest.raises(SchemaOutdatedError) as raised:
            attempt()
        assert "newer katib-flows" in str(raised.value) and "pip install -U katib-flows" in str(raised.value)


def test_migrations_create_exactly_the_models(store_url: str) -> None:
    Store(store_url, upgrade=True).close()
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"version_table": VERSION_TABLE, "compare_type": True}
            )
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_the_head_constant_is_the_newest_migration() -> None:
    assert _migrate.scripts_head() == _migrate.HEAD


NOW = dt.datetime(2026, 1, 1)
_JSON = ("spec", "conditions", "assignments", "labels", "observation", "algorithm_state", "state")


def _old_store(url: str, revision: str, rows: list[tuple[str, dict[str, Any]]]) -> None:
    """A store at schema ``revision`` (as that release created it) holding ``rows``, inserted by hand."""
    engine = make_engine(parse_url(url))  # creates a SQLite file's folder; foreign keys on, as a store's
    try:
        with engine.begin() as connection:
            command.upgrade(_migrate.config(connection), revision)
            for table, row in rows:
                columns = [sa.column(key, sa.JSON(none_as_null=True) if key in _JSON else None) for key in row]
                connection.execute(sa.table(table, *columns).insert().values(**row))
    finally:
        engine.dispose()


def _experiment(id: int, name: str, spec: dict[str, Any], **old: Any) -> tuple[str, dict[str, Any]]:
    return "experiments", dict(id=id, namespace="ns", name=name, spec=spec, seed=1, condition="Running", reason="",
                               message="", conditions=[], created_at=NOW, claim_seq=0, **old)  # fmt: skip


def _trial(experiment_id: int, name: str, **new: Any) -> tuple[str, dict[str, Any]]:
    return "trials", dict(experiment_id=experiment_id, namespace="ns", name=name, seq=0, assignments={"x": "1"},
                          status="Running", reason="", message="", runner="h:1", labels={}, created_at=NOW,
                          observation={}, **new)  # fmt: skip


def _columns(url: str, table: str) -> set[str]:
    engine = make_engine(parse_url(url))
    try:
        with engine.connect() as connection:
            return {column["name"] for column in sa.inspect(connection).get_columns(table)}
    finally:
        engine.dispose()


def test_upgrading_a_0001_store_keeps_its_trials_and_gives_them_no_lease(store_url: str) -> None:
    _old_store(store_url, "0001", [_experiment(1, "old", {}), _trial(1, "old-a")])
    assert "lease_expires_at" not in _columns(store_url, "trials")
    with pytest.raises(SchemaOutdatedError, match="older than the 0003"):
        Store(store_url)
    with Store(store_url, upgrade=True) as store:
        assert store.revision() == "0003"
        trial = store.get_trial("ns", "old-a")
    assert (trial.assignments, trial.runner, trial.lease_expires_at) == ({"x": "1"}, "h:1", None)


def _enas() -> tuple[dict[str, Any], dict[str, Any]]:
    """Katib's enas-cpu.yaml as the store keeps its spec, and a real, full-size enas state for it."""
    document = yaml.safe_load((NAS / "enas-cpu.yaml").read_text(encoding="utf-8"))
    checked = check_document(document, "enas-cpu.yaml")
    assert checked.ok and checked.experiment is not None
    problem = to_search_problem(checked.experiment.spec)
    first = Enas().suggest(problem, [], 0)
    assert isinstance(first, sg.Suggestion)
    trained = Enas().suggest(problem, [sg.Trial("enas-a", first.assignments, "Succeeded", 0.7)], 0)
    assert isinstance(trained, sg.Suggestion) and trained.state is not None
    assert len(json.dumps(trained.state)) > 1_500_000  # Katib's default controller: the case 0003 is for
    return checked.experiment.dump(), trained.state


def test_upgrading_a_0002_store_moves_the_algorithm_state_to_its_own_table(store_url: str) -> None:
    spec, state = _enas()
    log = dict(namespace="ns", experiment="enas", trial_name="enas-a", metric_name="Validation-Accuracy",
               value="0.7", number=0.7, step=0, timestamp=NOW)  # fmt: skip
    _old_store(
        store_url,
        "0002",
        [
            _experiment(1, "enas", spec, algorithm_state=state),
            _experiment(2, "plain", {}, algorithm_state=None),
            _trial(1, "enas-a", lease_expires_at=NOW),
            _trial(2, "plain-a"),
            ("observation_logs", dict(experiment_id=1, **log)),
        ],
    )
    with pytest.raises(SchemaOutdatedError, match="older than the 0003"):
        Store(store_url)
    with Store(store_url, upgrade=True) as store:
        assert store.revision() == "0003"
        assert store.algorithm_state("ns", "enas") == state  # every array, exactly
        assert store.algorithm_state("ns", "plain") is None
        assert [(e.name, e.spec) for e in store.list_experiments("ns")] == [("enas", spec), ("plain", {})]
        # SQLite rebuilt the experiments table: its children are all still there.
        assert [(t.name, t.lease_expires_at) for t in store.list_trials("ns", "enas")] == [
            ("enas-a", NOW.replace(tzinfo=dt.timezone.utc))
        ]
        assert [t.name for t in store.list_trials("ns", "plain")] == ["plain-a"]
        assert store.get_observation_log("ns", "enas-a") == [
            MetricLog("Validation-Accuracy", "0.7", NOW.replace(tzinfo=dt.timezone.utc), 0)
        ]
        # The foreign keys point at the new table and are enforced again: the database cascades a delete.
        with store._engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM experiments WHERE name = 'enas'"))
        store.save_algorithm_state("ns", "plain", {"version": 1})  # the new table takes new states
        assert store.algorithm_state("ns", "plain") == {"version": 1}
    assert _rows(store_url, "SELECT name FROM trials") == [("plain-a",)]
    assert _rows(store_url, "SELECT COUNT(*) FROM observation_logs") == [(0,)]
    assert _rows(store_url, "SELECT experiment_id FROM algorithm_states") == [(2,)]
    assert "algorithm_state" not in _columns(store_url, "experiments")


def test_downgrading_to_0002_puts_the_state_back_in_the_experiments_row(store_url: str) -> None:
    with Store(store_url, upgrade=True) as store:
        for name in ("stateful", "plain"):
            store.create_experiment("ns", name, {}, seed=1)
        store.save_algorithm_state("ns", "stateful", {"version": 1, "weights": [0.5, -1e-300]})
    engine = make_engine(parse_url(store_url))
    try:
        with engine.begin() as connection:
            command.downgrade(_migrate.config(connection), "0002")
    finally:
        engine.dispose()
    assert "algorithm_states" not in _tables(store_url)
    query = sa.text("SELECT name, algorithm_state FROM experiments ORDER BY name")
    assert _rows(store_url, query.columns(sa.column("name"), sa.column("algorithm_state", sa.JSON()))) == [
        ("plain", None),
        ("stateful", {"version": 1, "weights": [0.5, -1e-300]}),
    ]
    with Store(store_url, upgrade=True) as store:
        assert store.algorithm_state("ns", "stateful") == {"version": 1, "weights": [0.5, -1e-300]}
        assert store.algorithm_state("ns", "plain") is None


def _rows(url: str, query: str | sa.TextClause) -> list[tuple[Any, ...]]:
    engine = make_engine(parse_url(url))
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(query) if isinstance(query, str) else query)]
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(parse_url(url))
    try:
        with engine.connect() as connection:
            return set(sa.inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_revision_0003_refuses_to_rebuild_sqlite_tables_with_foreign_keys_on(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _old_store(url, "0002", [_experiment(1, "old", {}), _trial(1, "old-a")])
    engine = make_engine(parse_url(url))  # foreign keys on: dropping experiments would delete its trials
    try:
        with pytest.raises(RuntimeError, match="would delete every trial"), engine.begin() as connection:
            command.upgrade(_migrate.config(connection), "0003")
    finally:
        engine.dispose()
    assert _rows(url, "SELECT name FROM trials") == [("old-a",)]


def test_a_sqlite_upgrade_that_would_orphan_rows_is_rolled_back(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _old_store(f"sqlite:///{path}", "0002", [_experiment(1, "old", {}, algorithm_state={"v": 1})])
    with sqlite3.connect(path) as connection:  # foreign keys off, as in any SQLite client by default
        connection.execute("DELETE FROM experiments")  # leaves a trial whose experiment is gone
        connection.execute(
            "INSERT INTO trials (experiment_id, namespace, name, seq, assignments, status, reason, message, labels,"
            " created_at, observation) VALUES (1, 'ns', 'orphan', 0, '{}', 'Created', '', '', '{}', '2026-01-01',"
            " '{}')"
        )
    orphaned = r"1 row\(s\) whose parent is gone \(first: trials row 1, missing in experiments\)"
    with pytest.raises(StoreError, match=orphaned):
        Store(f"sqlite:///{path}", upgrade=True)
    assert Store.inspect_revision(f"sqlite:///{path}") == ("0002", "0003")  # nothing was changed
    assert "algorithm_state" in _columns(f"sqlite:///{path}", "experiments")
