"""Database outages, for real: a private MariaDB or PostgreSQL server is stopped under a store in use.

A call made while the server is down waits for it (retries with backoff) and succeeds once it is back;
past the bound it gives up with ``StoreUnavailableError``; a call that must not wait fails at once, and
nothing half-written is left. The servers are the test session's own (``tests/private_servers.py``).
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
import time

import pytest
import sqlalchemy as sa
from private_servers import PrivateServer

from katib_flows.errors import StoreError, StoreUnavailableError
from katib_flows.store import MetricLog, Store
from katib_flows.store._outage import is_disconnect, retryable
from katib_flows.store._urls import make_engine, parse_url


def _log(value: float) -> MetricLog:
    return MetricLog("loss", str(value), dt.datetime.now(dt.timezone.utc), 0)


def test_a_call_during_a_restart_waits_for_the_server_and_succeeds(
    private_store: tuple[str, PrivateServer],
) -> None:
    url, server = private_store
    with Store(url, upgrade=True, retry_seconds=120) as store:
        store.create_experiment("ns", "exp", {}, seed=1)
        with store.locked_experiment("ns", "exp") as txn:
            txn.add_trial("exp-a", {})
        server.stop()
        restart = threading.Timer(3, server.start)
        restart.start()
        try:
            store.register_observation_log("ns", "exp-a", [_log(0.5)])  # waits out the outage
            assert [row.value for row in store.get_observation_log("ns", "exp-a")] == ["0.5"]
        finally:
            restart.join()


def test_past_the_bound_the_store_gives_up_and_works_again_when_the_server_is_back(
    private_store: tuple[str, PrivateServer],
) -> None:
    url, server = private_store
    with Store(url, upgrade=True, retry_seconds=1.5) as store:
        store.create_experiment("ns", "exp", {}, seed=1)
        server.stop()
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError) as raised:
            store.get_experiment("ns", "exp")
        assert time.monotonic() - started >= 1.5
        assert "check that the database server is running" in str(raised.value)
        assert "KATIB_FLOWS_DB_RETRY_SECONDS" in str(raised.value)
        with pytest.raises(StoreUnavailableError):  # past the bound, later calls give up at once
            store.list_experiments("ns")
        server.start()
        assert store.get_experiment("ns", "exp").name == "exp"


def test_a_call_that_must_not_wait_fails_at_once(private_store: tuple[str, PrivateServer]) -> None:
    url, server = private_store
    with Store(url, upgrade=True, retry_seconds=600) as store:
        store.create_experiment("ns", "exp", {}, seed=1)
        with store.locked_experiment("ns", "exp") as txn:
            txn.add_trial("exp-a", {})
        server.stop()
        with pytest.raises(StoreUnavailableError):
            store.register_observation_log("ns", "exp-a", [_log(0.1)], wait=False)
        server.start()
        assert store.get_observation_log("ns", "exp-a") == []


def test_disconnects_and_lock_conflicts_are_retried_other_errors_are_not() -> None:
    from pymysql.err import OperationalError as MySQLError

    assert is_disconnect(sa.exc.OperationalError("SELECT", {}, MySQLError(2003, "Can't connect")))
    assert is_disconnect(sa.exc.OperationalError("SELECT", {}, MySQLError(2013, "Lost connection")))
    assert not is_disconnect(sa.exc.OperationalError("SELECT", {}, MySQLError(1045, "Access denied")))
    locked = sqlite3.OperationalError("database is locked")
    assert retryable(sa.exc.OperationalError("UPDATE", {}, locked))
    assert not retryable(sa.exc.OperationalError("UPDATE", {}, sqlite3.OperationalError("no such table: x")))
    chained = StoreError("failed")
    chained.__cause__ = sa.exc.OperationalError("SELECT", {}, MySQLError(2006, "gone away"))
    assert retryable(chained)
    assert not retryable(StoreError("bad URL"))


def test_a_connection_lost_with_the_server_leaves_no_pool_traceback(
    private_store: tuple[str, PrivateServer], caplog: pytest.LogCaptureFixture
) -> None:
    """A connection returned to the pool after its server died cannot be rolled back; SQLAlchemy logs that
    with a traceback ("Exception during reset or similar"), which reached a runner's stderr as it stopped.
    The pool drops the connection anyway, so that record is left out; the pool's other errors are kept."""
    url, server = private_store
    engine = make_engine(parse_url(url))
    try:
        connection = engine.raw_connection()  # checked in by close(): the pool then rolls it back
        connection.cursor().execute("SELECT 1")
        server.stop()
        with caplog.at_level(logging.ERROR):
            connection.close()
            engine.pool.logger.error("Exception during reset or similar", exc_info=ValueError("not a disconnect"))
    finally:
        server.start()
        engine.dispose()
    logged = [r.exc_info[1] for r in caplog.records if r.name.startswith("sqlalchemy.pool") and r.exc_info]
    assert [type(error) for error in logged] == [ValueError], logged
