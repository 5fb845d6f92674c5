"""Schema revisions: an empty or foreign-version database is refused with the fix; migrations match the models."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from katib_flows.errors import SchemaOutdatedError
from katib_flows.store import Store
from katib_flows.store._migrate import VERSION_TABLE
from katib_flows.store._schema import Base


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
        assert store.revision() == Store.head_revision() == "0002"
        assert store.upgrade() == "0002"  # idempotent
    with Store(store_url) as store:
        assert store.list_experiments(None) == []
    assert Store.inspect_revision(store_url) == ("0002", "0002")


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
    from katib_flows.store import _migrate

    assert _migrate.scripts_head() == _migrate.HEAD


def test_upgrading_a_0001_store_keeps_its_trials_and_gives_them_no_lease(store_url: str) -> None:
    from alembic import command

    from katib_flows.store import _migrate
    from katib_flows.store._urls import make_engine, parse_url

    now = dt.datetime(2026, 1, 1)
    engine = make_engine(parse_url(store_url))  # creates a SQLite file's folder
    try:
        with engine.begin() as connection:
            command.upgrade(_migrate.config(connection), "0001")
            assert "lease_expires_at" not in {column["name"] for column in sa.inspect(connection).get_columns("trials")}
            json = ("spec", "conditions", "assignments", "labels", "observation")
            for table, row in (
                ("experiments", dict(id=1, namespace="ns", name="old", spec={}, seed=1, condition="Running",
                                     reason="", message="", conditions=[], created_at=now, claim_seq=0)),
                ("trials", dict(experiment_id=1, namespace="ns", name="old-a", seq=0, assignments={"x": "1"},
                                status="Running", reason="", message="", runner="h:1", labels={}, created_at=now,
                                observation={})),
            ):  # fmt: skip
                columns = [sa.column(key, sa.JSON() if key in json else None) for key in row]
                connection.execute(sa.table(table, *columns).insert().values(**row))
    finally:
        engine.dispose()
    with pytest.raises(SchemaOutdatedError, match="older than the 0002"):
        Store(store_url)
    with Store(store_url, upgrade=True) as store:
        assert store.revision() == "0002"
        trial = store.get_trial("ns", "old-a")
    assert (trial.assignments, trial.runner, trial.lease_expires_at) == ({"x": "1"}, "h:1", None)
