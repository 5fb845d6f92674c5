"""Turning SQLAlchemy and driver exceptions into ``StoreError``, telling transient ones apart, and the
``NotFoundError`` messages every store module raises.

Every public store method runs inside ``translated`` so that no SQLAlchemy or driver exception escapes the
store. ``is_transient`` picks the lock conflicts worth retrying: SQLite's "database is locked" (after its
busy timeout), MySQL's deadlock (1213) and lock wait timeout (1205), PostgreSQL's serialization failure
(40001) and deadlock (40P01). ``_outage`` retries those, and lost connections, for a bounded time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import CursorResult, Result
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from katib_flows.errors import NotFoundError, StoreError

_SQLITE_BUSY_CODES = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED (low byte of extended codes)
_MYSQL_CODES = {1205, 1213}  # lock wait timeout, deadlock
_PG_STATES = {"40001", "40P01"}  # serialization failure, deadlock detected


def is_transient(exc: BaseException) -> bool:
    """True for lock conflicts that a fresh transaction may not meet again."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        if code is not None:
            return code & 0xFF in _SQLITE_BUSY_CODES
        return "locked" in str(orig) or "busy" in str(orig)
    if getattr(orig, "sqlstate", None) in _PG_STATES:
        return True
    args: tuple[object, ...] = getattr(orig, "args", ())
    return bool(args) and args[0] in _MYSQL_CODES


def store_error(exc: SQLAlchemyError, url: str, doing: str) -> StoreError:
    """A ``StoreError`` for ``exc`` that names the store (without password), the action and the fix."""
    orig = getattr(exc, "orig", None)
    detail = (str(orig if orig is not None else exc).strip().splitlines() or ["no details"])[0]
    if is_transient(exc):
        return StoreError(
            f"{doing} failed: the store at {url} stayed locked by other writers ({detail}); "
            "nothing was changed, run it again"
        )
    if isinstance(exc, (OperationalError, InterfaceError)):
        return StoreError(
            f"{doing} failed: cannot use the store at {url} ({detail}); check that the database server is "
            "running and reachable and that the URL (host, port, user, password, database) is right"
        )
    return StoreError(f"{doing} failed on the store at {url}: {detail}")


@contextmanager
def translated(url: str, doing: str) -> Iterator[None]:
    """Re-raise any SQLAlchemy exception from the block as a ``StoreError`` chained to it."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise store_error(exc, url, doing) from exc


def experiment_not_found(namespace: str, name: str) -> NotFoundError:
    return NotFoundError(
        f"no experiment named {name!r} in namespace {namespace!r}; check the name and the --namespace option"
    )


def trial_not_found(namespace: str, name: str) -> NotFoundError:
    return NotFoundError(f"no trial named {name!r} in namespace {namespace!r}")


def rowcount(result: Result[Any]) -> int:
    """Rows matched by an UPDATE or DELETE (a DML statement's result is a ``CursorResult``)."""
    return cast(CursorResult[Any], result).rowcount
