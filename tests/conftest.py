"""Fixtures every test folder shares: ``store_url`` and ``store`` on SQLite, MariaDB and PostgreSQL, and a
check that no test leaves a thread running.

``store_url`` is parametrized over the three backends (Optuna's ``pytest_storages`` idea), so one contract
test runs on each. Every test gets a fresh, empty, isolated place: a SQLite file under ``tmp_path``, a MySQL
database or a PostgreSQL schema named ``kft_<pid>_<random>``, dropped afterwards. Names carry the pid, so
leftovers of a crashed run are recognised (their process is gone) and dropped when the next session
starts, without touching what a concurrent session on the same server is using.

The servers are real and must be running (CI starts them): an unreachable one FAILS the test with a message
saying how to start it or point elsewhere, through ``KATIB_FLOWS_TEST_MYSQL_URL`` and
``KATIB_FLOWS_TEST_POSTGRES_URL`` (admin URLs; the user must be allowed to create databases or schemas).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from private_servers import PrivateServer, start_private

from katib_flows.store import Store
from katib_flows.store._urls import parse_url

BACKENDS = ["sqlite", "mysql", "postgresql"]
MYSQL_URL = os.environ.get("KATIB_FLOWS_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
POSTGRES_URL = os.environ.get("KATIB_FLOWS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_PREFIX = "kft_"
_OURS = re.compile(rf"^{_PREFIX}(\d+)_[0-9a-f]+$")
#: How long the threads a test started may take to end after it, once told to (a loaded machine is slow).
_THREAD_GRACE_SECONDS = 5.0


def _loop_owned(thread: threading.Thread) -> bool:
    """A pooled worker of an event loop (asyncio's default executor ``asyncio_N``, AnyIO's worker threads):
    it belongs to the loop, such as the session-wide browser's (playwright) or the ASGI test client's, is
    started lazily by whichever test first needs it, and idles until the loop or its pool retires it.
    jupyter_core's ``run_sync`` keeps one such thread per calling thread (``MainThread - runner``) for the
    life of the process once a loop is running there (the session browser's): the notebook test, run after
    the report's browser tests, started it."""
    name = thread.name
    return name.startswith("asyncio_") or name == "AnyIO worker thread" or name == "MainThread - runner"


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves a thread it started running (kopf's leak check, for threads): lanes, metric
    pollers, log followers, kill timers and experiment watchers must all end with their run or trial."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + _THREAD_GRACE_SECONDS
    while leaked := [t for t in threading.enumerate() if t not in before and t.is_alive() and not _loop_owned(t)]:
        if time.monotonic() > deadline:
            names = ", ".join(sorted(t.name for t in leaked))
            pytest.fail(f"the test left {len(leaked)} thread(s) running: {names}", pytrace=False)
        time.sleep(0.05)


class _Server:
    """An admin connection to one database server that hands out and drops isolated places."""

    def __init__(self, backend: str, label: str, admin_url: str, how_to_start: str) -> None:
        self.backend = backend
        self.admin_url = parse_url(admin_url)  # plain postgresql:// means psycopg 3, as in the store
        self.engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
        problem = None
        try:
            with self.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError as exc:
            detail = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
            problem = f"{exc.__class__.__name__}: {str(detail).strip()}"
        if problem is not None:  # failed outside the except block, so the report is the message alone
            self.engine.dispose()
            shown = self.admin_url.render_as_string(hide_password=True)
            pytest.fail(f"the {label} test server at {shown} is unreachable ({problem}). {how_to_start}", pytrace=False)

    def _run(self, *statements: str) -> None:
        with self.engine.connect() as connection:
            for statement in statements:
                connection.execute(sa.text(statement))

    def _names(self) -> list[str]:
        query = (
            "SELECT schema_name FROM information_schema.schemata" if self.backend == "postgresql" else "SHOW DATABASES"
        )
        with self.engine.connect() as connection:
            return [row[0] for row in connection.execute(sa.text(query))]

    def sweep(self) -> None:
        """Drop places left by test sessions whose process no longer exists."""
        for name in self._names():
            match = _OURS.match(name)
            if match and not _alive(int(match.group(1))):
                self.drop(name)

    def create(self) -> tuple[str, str]:
        name = f"{_PREFIX}{os.getpid()}_{secrets.token_hex(4)}"
        if self.backend == "postgresql":
            self._run(f'CREATE SCHEMA "{name}"')
            url = self.admin_url.update_query_dict({"options": f"-csearch_path={name}"})
        else:
            self._run(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
            url = self.admin_url.set(database=name)
        return name, url.render_as_string(hide_password=False)

    def drop(self, name: str) -> None:
        if self.backend == "postgresql":
            self._run("SET lock_timeout = '20s'", f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        else:
            self._run("SET SESSION lock_wait_timeout = 20", f"DROP DATABASE IF EXISTS `{name}`")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.fixture(scope="session")
def mysql_server() -> Iterator[_Server]:
    server = _Server(
        "mysql",
        "MariaDB/MySQL",
        MYSQL_URL,
        "Start it (.ci/run does) or set KATIB_FLOWS_TEST_MYSQL_URL to a server where the user may create databases.",
    )
    server.sweep()
    yield server
    server.engine.dispose()


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[_Server]:
    server = _Server(
        "postgresql",
        "PostgreSQL",
        POSTGRES_URL,
        "Start it (.ci/run does) or set KATIB_FLOWS_TEST_POSTGRES_URL to a server where the user may create schemas.",
    )
    server.sweep()
    yield server
    server.engine.dispose()


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to a fresh, empty, isolated database on each backend (no schema yet)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store' / 'katib-flows.db'}"
        return
    server: _Server = request.getfixturevalue(f"{request.param}_server")
    name, url = server.create()
    try:
        yield url
    finally:
        server.drop(name)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A ``Store`` on ``store_url`` with the schema created."""
    with Store(store_url, upgrade=True) as opened:
        yield opened


@pytest.fixture(scope="session")
def private_servers() -> Iterator[dict[str, PrivateServer]]:
    """Private MariaDB and PostgreSQL servers (``tests/private_servers.py``), started on first use."""
    started: dict[str, PrivateServer] = {}
    yield started
    for server in started.values():
        server.close()


@pytest.fixture(params=["mariadb", "postgres"])
def private_store(
    request: pytest.FixtureRequest, private_servers: dict[str, PrivateServer]
) -> Iterator[tuple[str, PrivateServer]]:
    """(URL of a fresh database, its server) on a private server that the test may stop and start; the
    server is running again after the test."""
    server = private_servers.get(request.param)
    if server is None:
        server = private_servers[request.param] = start_private(request.param)
    yield server.new_database(f"kft_{secrets.token_hex(4)}"), server
    if not server.running:
        server.start()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium, Debian's package driven by playwright (no browser download), for the report and the UI."""
    if CHROMIUM is None:
        pytest.fail("headless Chromium is needed: apt-get install chromium (.ci/run does)", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()
