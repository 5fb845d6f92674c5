"""URLs and failures: what the user sees when the URL is wrong, the server is down or a driver is missing.

None of these needs a running server; each checks that only a ``StoreError`` escapes, chained to the cause,
and that its message names the URL without the password and says what to do.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from katib_flows.errors import SchemaOutdatedError, StoreError
from katib_flows.store import Store, safe_url
from katib_flows.store._failures import is_transient
from katib_flows.store._urls import parse_url


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("sqlite:///x.db", "sqlite"),
        ("mysql://u@h/db", "mysql+pymysql"),
        ("mysql+pymysql://u@h/db", "mysql+pymysql"),
        ("mariadb://u@h/db", "mariadb+pymysql"),
        ("postgresql://u@h/db", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
    ],
)
def test_supported_urls_map_to_the_shipped_drivers(given: str, driver: str) -> None:
    assert parse_url(given).drivername == driver


@pytest.mark.parametrize("url", ["oracle://u@h/db", "postgresql+psycopg2://u@h/db", "not a url"])
def test_unsupported_urls_list_the_supported_forms(url: str) -> None:
    with pytest.raises(StoreError) as raised:
        Store(url)
    assert "sqlite:///PATH" in str(raised.value) and "mysql+pymysql://" in str(raised.value)


def test_safe_url_hides_passwords() -> None:
    assert safe_url("mysql+pymysql://root:s3cret@db:3306/katib") == "mysql+pymysql://root:***@db:3306/katib"
    assert "s3cret" not in safe_url("postgresql://u@h/db?password=s3cret")
    assert safe_url("sqlite:////tmp/a.db") == "sqlite:////tmp/a.db"


@pytest.mark.parametrize(
    "url", ["mysql+pymysql://root:s3cret@127.0.0.1:1/katib", "postgresql://postgres:s3cret@127.0.0.1:1/katib"]
)
def test_an_unreachable_server_names_the_url_and_says_to_check_it(url: str) -> None:
    with pytest.raises(StoreError) as raised:
        Store(url)
    message = str(raised.value)
    assert "127.0.0.1:1" in message and "***" in message and "s3cret" not in message
    assert "running" in message
    assert isinstance(raised.value.__cause__, sa.exc.SQLAlchemyError)
    assert not isinstance(raised.value, SchemaOutdatedError)


@pytest.mark.parametrize(
    ("url", "module", "extra"),
    [("mysql+pymysql://u@h/db", "pymysql", "mysql"), ("postgresql://u@h/db", "psycopg", "postgres")],
)
def test_a_missing_driver_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, url: str, module: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(StoreError, match=rf"pip install 'katib-flows\[{extra}\]'"):
        Store(url)


def test_the_sqlite_folder_is_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "store.db"
    with Store(f"sqlite:///{path}", upgrade=True) as store:
        assert store.revision() == Store.head_revision()
    assert path.exists()


def test_a_sqlite_folder_that_cannot_be_created_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError, match="cannot create the folder"):
        Store(f"sqlite:///{blocker / 'sub' / 'store.db'}")


def test_sqlite_pragmas_are_set(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 's.db'}", upgrade=True) as store, store._engine.connect() as connection:
        pragma = {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar() for name in (
            "journal_mode", "busy_timeout", "foreign_keys", "synchronous")}  # fmt: skip
    assert pragma == {"journal_mode": "wal", "busy_timeout": 30000, "foreign_keys": 1, "synchronous": 1}


def test_transient_errors_are_recognised() -> None:
    import sqlite3

    locked = sqlite3.OperationalError("database is locked")
    locked.sqlite_errorcode = 5
    assert is_transient(sa.exc.OperationalError("UPDATE", {}, locked))
    assert not is_transient(sa.exc.OperationalError("UPDATE", {}, sqlite3.OperationalError("no such table: x")))

    class MySQLError(Exception):
        pass

    assert is_transient(sa.exc.OperationalError("UPDATE", {}, MySQLError(1213, "Deadlock found")))
    assert not is_transient(sa.exc.OperationalError("UPDATE", {}, MySQLError(1045, "Access denied")))

    class PGError(Exception):
        sqlstate = "40P01"

    assert is_transient(sa.exc.OperationalError("UPDATE", {}, PGError()))
    assert not is_transient(ValueError("not a database error"))
