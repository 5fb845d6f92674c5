"""Store URLs: which databases we accept, how each engine is configured, and how a URL is shown to people.

``Store`` calls ``make_engine`` once per process; messages everywhere use ``safe_url`` so that a password
never reaches a terminal or a log. SQLite gets SQLAlchemy's documented pysqlite recipe (SQLAlchemy emits
``BEGIN`` itself) plus WAL and a busy timeout, so that lanes in several processes can share one file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from katib_flows.errors import StoreError
from katib_flows.store._outage import quiet_lost_connections

#: Execution option that marks an engine whose transactions write; SQLite then begins them IMMEDIATE.
WRITE_OPTION = "katib_flows_write"

SUPPORTED = "sqlite:///PATH, mysql+pymysql://USER:PASSWORD@HOST/DB, postgresql://USER:PASSWORD@HOST/DB"

# Plain scheme -> the driver we ship extras for; explicit drivers must be these.
_DRIVERS = {
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite+pysqlite",
    "mysql": "mysql+pymysql",
    "mysql+pymysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
    "mariadb+pymysql": "mariadb+pymysql",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
}
_EXTRAS = {"pymysql": "mysql", "psycopg": "postgres"}


def parse_url(url: str) -> URL:
    """Parse and normalise a store URL (``postgresql://`` means psycopg 3, ``mysql://`` means PyMySQL)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"{url!r} is not a store URL; use one of: {SUPPORTED}") from exc
    driver = _DRIVERS.get(parsed.drivername)
    if driver is None:
        raise StoreError(
            f"unsupported store URL scheme {parsed.drivername!r} in {safe_url(parsed)}; use one of: {SUPPORTED}"
        )
    return parsed.set(drivername=driver)


def safe_url(url: URL | str) -> str:
    """The URL as text with its password (and any ``password=`` query parameter) replaced by ``***``."""
    parsed = make_url(url) if isinstance(url, str) else url
    if "password" in parsed.query:
        parsed = parsed.update_query_dict({"password": "***"})
    return parsed.render_as_string(hide_password=True)


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def make_engine(url: URL) -> Engine:
    """An engine for a parsed URL, configured for its backend; a missing driver becomes a ``StoreError``."""
    try:
        if is_sqlite(url):
            return _sqlite_engine(url)
        options: dict[str, Any] = {"pool_pre_ping": True}
        if url.get_backend_name() in ("mysql", "mariadb"):
            # READ COMMITTED: no gap locks, so concurrent trial inserts do not deadlock on index ranges.
            options.update(isolation_level="READ COMMITTED", pool_recycle=3600)
        engine = create_engine(url, **options)
        quiet_lost_connections(engine)
        return engine
    except (ImportError, NoSuchModuleError) as exc:
        extra = _EXTRAS.get(url.get_driver_name(), "mysql")
        raise StoreError(
            f"the database driver for {safe_url(url)} is not installed ({exc}); run: pip install 'katib-flows[{extra}]'"
        ) from exc


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        try:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder for the SQLite store {database}: {exc}") from exc
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy (its documented pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # busy_timeout first, so that switching to WAL waits for other connections instead of failing.
            for pragma in ("busy_timeout=30000", "journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
                cursor.execute(f"PRAGMA {pragma}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writer takes the write lock at BEGIN, where busy_timeout applies; a deferred transaction that
        # reads first and writes later can instead fail at once with SQLITE_BUSY under WAL.
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
