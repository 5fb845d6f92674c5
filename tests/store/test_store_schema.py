"""Schema revisions: an empty or foreign-version database is refused with the fix; migrations match the models."""

from __future__ import annotations

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
        assert store.revision() == Store.head_revision() == "0001"
        assert store.upgrade() == "0001"  # idempotent
    with Store(store_url) as store:
        assert store.list_experiments(None) == []
    assert Store.inspect_revision(store_url) == ("0001", "0001")


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
