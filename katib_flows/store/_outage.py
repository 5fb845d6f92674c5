"""Riding out database outages and lock conflicts: store calls retried with backoff for a bounded time.

``Store`` keeps one ``Patience`` and runs every transaction through ``call``; callers that replay a whole
block holding the experiment's lock (the engine's claim and finish) go through ``Store.retrying``, which
uses the same ``Patience``. What is retried: a lost or refused connection (the server restarting or
unreachable) and a lock conflict (SQLite "database is locked", MySQL or PostgreSQL deadlocks).

The bound is counted from the first failure that nobody has seen succeed since, and is shared by every
thread of the process: once the store has been down longer than the bound, every call gives up at once
with ``StoreUnavailableError`` (a runner then stops, resumable), until a call succeeds again. A caller that
must not wait (a trial's metrics flush, a lease renewal) passes ``wait=False``: it fails at once and keeps
its work for the next try.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from katib_flows.errors import StoreError, StoreUnavailableError
from katib_flows.store._failures import is_transient

T = TypeVar("T")

#: How long a store call keeps retrying through an outage by default, and the variable that changes it.
DEFAULT_RETRY_SECONDS = 120.0
RETRY_ENV = "KATIB_FLOWS_DB_RETRY_SECONDS"
_MAX_DELAY = 2.0
# PyMySQL: can't connect, server gone away, lost connection, server shutting down, connection killed.
_MYSQL_DISCONNECTS = {2003, 2006, 2013, 2055, 1053, 1927, 4031}
# PostgreSQL: connection exceptions (class 08) and operator interventions (shutdown, crash, starting up).
_PG_DISCONNECT_PREFIXES = ("08", "57P")


def retry_seconds_from_env() -> float:
    """The bound from ``KATIB_FLOWS_DB_RETRY_SECONDS``, else the default; a bad value is a ``StoreError``."""
    raw = os.environ.get(RETRY_ENV, "").strip()
    if not raw:
        return DEFAULT_RETRY_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise StoreError(f"{RETRY_ENV}={raw!r} must be a number of seconds (0 or more), such as 120")
    return seconds


def is_disconnect(exc: BaseException) -> bool:
    """True for a connection that was refused, lost or closed: the server may come back."""
    if not isinstance(exc, (OperationalError, InterfaceError)):
        return False
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return exc.orig is not None and _driver_disconnect(exc.orig)


def _driver_disconnect(orig: BaseException) -> bool:
    """``is_disconnect`` for the driver's own exception (PyMySQL's or psycopg's, named as PEP 249 names them)."""
    kinds = {cls.__name__ for cls in type(orig).__mro__}
    if not kinds & {"OperationalError", "InterfaceError"}:
        return False
    module = type(orig).__module__
    if module.startswith("pymysql"):
        args: tuple[object, ...] = getattr(orig, "args", ())
        return "InterfaceError" in kinds or (bool(args) and args[0] in _MYSQL_DISCONNECTS)
    if module.startswith("psycopg"):
        state = getattr(orig, "sqlstate", None)
        # psycopg raises OperationalError without a state when it cannot connect at all.
        return state is None or str(state).startswith(_PG_DISCONNECT_PREFIXES)
    return False


class _QuietLostConnections(logging.Filter):
    """Drops SQLAlchemy's pool records of a connection it could not roll back or close because the server went
    away ("Exception during reset or similar", with a traceback). The pool has already discarded that
    connection, and the store's retry says what happens next (a runner waits, then stops resumable), so the
    traceback only alarms; any other pool error is still logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return error is None or not _driver_disconnect(error)


_POOL_FILTER = _QuietLostConnections()


def quiet_lost_connections(engine: Engine) -> None:
    """Install ``_QuietLostConnections`` on the engine's pool logger (once per logger: pools of a class share it)."""
    pool_logger = engine.pool.logger
    if isinstance(pool_logger, logging.Logger) and _POOL_FILTER not in pool_logger.filters:
        pool_logger.addFilter(_POOL_FILTER)


def retryable(exc: BaseException) -> bool:
    """An error a later attempt may not meet: a disconnect or a lock conflict (also as a chained cause)."""
    if isinstance(exc, StoreError):
        cause = exc.__cause__
        return isinstance(exc, StoreUnavailableError) or (cause is not None and retryable(cause))
    return isinstance(exc, SQLAlchemyError) and (is_disconnect(exc) or is_transient(exc))


def delay(attempt: int) -> float:
    """Seconds before retry number ``attempt`` (1, 2, ...): exponential up to 2 s, jittered so rivals spread."""
    return random.uniform(0.5, 1.0) * min(_MAX_DELAY, 0.02 * 2**attempt)


class Patience:
    """The retry policy of one ``Store``: how long to keep trying, and since when the store has been failing."""

    def __init__(self, seconds: float, sleep: Callable[[float], None] = time.sleep) -> None:
        self.seconds = seconds
        self._sleep = sleep
        self._lock = threading.Lock()
        self._failing_since: float | None = None

    def call(self, body: Callable[[], T], *, wait: bool = True) -> T:
        """``body()``, retried on ``retryable`` errors until the bound; the last error is re-raised."""
        attempt = 0
        while True:
            try:
                result = body()
            except (SQLAlchemyError, StoreError) as exc:
                if not retryable(exc) or self._failing_for() >= self.seconds or not wait:
                    raise
                attempt += 1
                self._sleep(delay(attempt))
                continue
            with self._lock:
                self._failing_since = None
            return result

    def down_for(self) -> float:
        """Seconds since the store began failing (0 when the last call succeeded)."""
        with self._lock:
            return 0.0 if self._failing_since is None else time.monotonic() - self._failing_since

    def _failing_for(self) -> float:
        now = time.monotonic()
        with self._lock:
            if self._failing_since is None:
                self._failing_since = now
            return now - self._failing_since
