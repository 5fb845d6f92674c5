"""Schema revisions: run the alembic migrations shipped in ``migrations/`` and check a database against them.

``Store`` calls ``check`` when it opens and ``upgrade`` for ``Store.upgrade()`` (``katib-flows db upgrade``).
Alembic is driven in process with a ``Config`` built here, so no ``alembic.ini`` is needed and an installed
(non-editable) package works: the migration scripts are package data. The revision is kept in our own
table, so a database shared with another alembic-managed application does not mix up revisions.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from katib_flows.errors import SchemaOutdatedError, StoreError
from katib_flows.store._urls import WRITE_OPTION

if TYPE_CHECKING:
    from alembic.config import Config

#: The newest revision under migrations/versions. Known here so that opening a current store does not load
#: alembic (a third of a second); a test checks it against alembic's own view of the scripts.
HEAD = "0003"

VERSION_TABLE = "katib_flows_alembic_version"
_LOCATION = Path(__file__).with_name("migrations")
_PG_LOCK_KEY = 0x6B6174696266  # "katibf": any constant shared by all katib-flows releases
_MYSQL_LOCK = "katib_flows_migrate"


def config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_LOCATION))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The schema revision this release of katib-flows needs."""
    return HEAD


def scripts_head() -> str | None:
    """The head revision as alembic reads it from the migration scripts (for the test that checks HEAD)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The revision recorded in the database, or None for a database without our schema."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def is_known(revision: str) -> bool:
    """Whether this release ships ``revision`` (an unknown one was written by a newer release)."""
    from alembic.script import ScriptDirectory
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    try:
        ScriptDirectory.from_config(config()).get_revision(revision)
    except (CommandError, RevisionError):
        return False
    return True


def check(revision: str | None, url: str) -> None:
    """Raise ``SchemaOutdatedError`` unless ``revision`` is this release's head; the message says what to run."""
    head = head_revision()
    if revision == head:
        return
    if revision is None:
        raise SchemaOutdatedError(
            f"the store at {url} has no katib-flows schema yet (revision {head} needed); "
            f"run: katib-flows db upgrade --db {url}"
        )
    if not is_known(revision):
        raise SchemaOutdatedError(
            f"the store at {url} has schema revision {revision}, written by a newer katib-flows than this one "
            f"(which knows up to {head}); upgrade katib-flows: pip install -U katib-flows"
        )
    raise SchemaOutdatedError(
        f"the store at {url} has schema revision {revision}, older than the {head} this release needs; "
        f"run: katib-flows db upgrade --db {url}"
    )


def upgrade(engine: Engine) -> None:
    """Migrate to the head revision in one transaction (DDL is transactional on SQLite and PostgreSQL).

    Concurrent upgrades wait for each other: SQLite through BEGIN IMMEDIATE, PostgreSQL through a
    transaction-level advisory lock and MySQL through a named lock; the later one then finds nothing to do.

    On SQLite, foreign keys are off during the upgrade and checked before the commit, as SQLite's
    documentation prescribes for changing a table (https://sqlite.org/lang_altertable.html#otheralter):
    batch mode rebuilds a table by dropping it, and with them on, dropping ``experiments`` would delete every
    trial, log and state through ON DELETE CASCADE. The pragma does nothing inside a transaction, so it is
    set before; the connection is then discarded, and the next one turns them on again (``_urls``).
    """
    backend = engine.dialect.name
    with engine.execution_options(**{WRITE_OPTION: True}).connect() as connection:
        if backend == "sqlite":
            _foreign_keys_off(connection)
        try:
            with connection.begin():
                _upgrade(connection, backend)
        finally:
            if backend == "sqlite":
                connection.invalidate()


def _foreign_keys_off(connection: Connection) -> None:
    """Turn SQLite's foreign keys off for this connection, outside any transaction (SQLAlchemy would begin one)."""
    driver = connection.connection.driver_connection
    if driver is None:  # only for a connection already closed
        raise RuntimeError("the upgrade's SQLite connection is closed")
    driver.execute("PRAGMA foreign_keys=OFF")


def _upgrade(connection: Connection, backend: str) -> None:
    if backend == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    elif backend in ("mysql", "mariadb"):
        connection.execute(text("SELECT GET_LOCK(:name, 600)"), {"name": _MYSQL_LOCK})
    from alembic import command

    try:
        command.upgrade(config(connection), "head")
    finally:
        if backend in ("mysql", "mariadb"):
            connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": _MYSQL_LOCK})
    if backend == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:  # raised inside the transaction: the upgrade is rolled back
            table, rowid, parent = broken[0][:3]
            raise StoreError(
                f"the upgrade would leave {len(broken)} row(s) whose parent is gone (first: {table} row {rowid}, "
                f"missing in {parent}), so nothing was changed; PRAGMA foreign_key_check lists them: delete them "
                "(a client that did not enforce foreign keys left them) and upgrade again"
            )
