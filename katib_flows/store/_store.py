"""``Store``: the one door to experiments, trials and observation logs, on SQLite, MySQL or PostgreSQL.

The engine, the CLI and the runners call it; nothing else touches the database. Methods are coarse and each
runs in one transaction (``locked_experiment`` hands that transaction to the caller). Every method takes the
namespace explicitly and never reads another namespace's rows. A lost race is an answer (``False``), not an
exception; database failures surface as ``StoreError`` with the URL (never its password) and the fix.

Retries (``_outage``): a method's own transaction is retried as a whole, with backoff for at most
``retry_seconds``, when the connection is refused or lost (a server restarting) or the database reports a
lock conflict (SQLite busy after its 30 s timeout, MySQL deadlock or lock wait timeout, PostgreSQL
serialization failure or deadlock); past the bound it raises ``StoreUnavailableError``. ``locked_experiment``
retries only taking the lock, because the caller's block cannot be replayed by the store; a caller whose
block can be replayed wraps it in ``retrying``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from katib_flows.errors import AlreadyExistsError, StoreError, StoreUnavailableError
from katib_flows.store import _conditions, _migrate
from katib_flows.store._failures import experiment_not_found, rowcount, store_error, translated
from katib_flows.store._observations import ObservationLogs
from katib_flows.store._outage import RETRY_ENV, Patience, retry_seconds_from_env, retryable
from katib_flows.store._records import ExperimentCondition, ExperimentRecord
from katib_flows.store._schema import AlgorithmStateRow, ExperimentRow, ObservationLogRow, TrialRow, named_experiment
from katib_flows.store._trials import Trials
from katib_flows.store._txn import Clock, ExperimentTxn
from katib_flows.store._urls import WRITE_OPTION, make_engine, parse_url, safe_url

T = TypeVar("T")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Store(Trials, ObservationLogs):
    """Experiments, trials and observation logs in one database.

    Experiment methods and ``locked_experiment`` live here; trial methods come from ``_trials.Trials`` and
    Katib's DB API from ``_observations.ObservationLogs``, all sharing this class's ``_run`` transactions.
    ``Store(url)`` refuses a database whose schema is not this release's (``SchemaOutdatedError`` names the
    command that fixes it); ``Store(url, upgrade=True)`` migrates first. ``retry_seconds`` bounds how long a
    call rides out an outage or lock conflict (default: ``KATIB_FLOWS_DB_RETRY_SECONDS``, else 120).
    ``clock`` (aware UTC) is for tests.
    Safe to share between threads; close it (or use ``with``) to release its connections.
    """

    def __init__(
        self,
        url: str,
        *,
        upgrade: bool = False,
        clock: Clock = _utcnow,
        retry_seconds: float | None = None,
    ) -> None:
        self._url = parse_url(url)
        self.safe_url = safe_url(url)  # as the user wrote it, so that a suggested command stays familiar
        self._clock = clock
        self._patience = Patience(retry_seconds_from_env() if retry_seconds is None else retry_seconds)
        self._engine = make_engine(self._url)
        self._writer = self._engine.execution_options(**{WRITE_OPTION: True})
        try:
            revision = self.revision()
            if upgrade and revision != _migrate.head_revision():  # alembic is slow to load: only when needed
                self.upgrade()
                revision = self.revision()
            _migrate.check(revision, self.safe_url)
        except BaseException:
            self._engine.dispose()
            raise

    def __repr__(self) -> str:
        return f"Store({self.safe_url!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every pooled connection; the store must not be used afterwards."""
        self._engine.dispose()

    # -- schema ---------------------------------------------------------------------------------------

    def upgrade(self) -> str:
        """Create or migrate the schema to this release's revision (one transaction where DDL allows)."""
        current = self.revision()
        if current is not None and not _migrate.is_known(current):
            _migrate.check(current, self.safe_url)  # raises: the database is newer than this release
        with translated(self.safe_url, "upgrading the schema"):
            _migrate.upgrade(self._engine)
        return self.head_revision()

    def revision(self) -> str | None:
        """The schema revision recorded in the database (None when it has no katib-flows schema)."""
        with translated(self.safe_url, "reading the schema revision"), self._engine.connect() as connection:
            return _migrate.current_revision(connection)

    @staticmethod
    def head_revision() -> str:
        """The schema revision this release needs."""
        return _migrate.head_revision()

    @classmethod
    def inspect_revision(cls, url: str) -> tuple[str | None, str]:
        """(database revision or None, this release's revision), without checking or changing anything."""
        parsed = parse_url(url)
        engine = make_engine(parsed)
        try:
            with translated(safe_url(url), "reading the schema revision"), engine.connect() as connection:
                return _migrate.current_revision(connection), _migrate.head_revision()
        finally:
            engine.dispose()

    # -- experiments ----------------------------------------------------------------------------------

    def create_experiment(self, namespace: str, name: str, spec: dict[str, Any], *, seed: int) -> ExperimentRecord:
        """Insert an experiment in condition Created; ``AlreadyExistsError`` if the name is taken there."""

        def body(session: Session) -> ExperimentRecord:
            if session.scalar(self._experiment_id(namespace, name)) is not None:
                raise _experiment_exists(namespace, name)
            now = self._clock()
            created = (ExperimentCondition.CREATED, "ExperimentCreated", "Experiment is created")
            row = ExperimentRow(
                namespace=namespace, name=name, spec=spec, seed=seed,
                condition=created[0].value, reason=created[1], message=created[2],
                conditions=_conditions.apply([], *created, now),
                created_at=now, started_at=None, completed_at=None, optimal_trial=None, claim_seq=0,
            )  # fmt: skip
            session.add(row)
            try:
                session.flush()
            except IntegrityError as exc:  # a concurrent create won
                raise _experiment_exists(namespace, name) from exc
            return row.to_record()

        return self._run(f"creating experiment {namespace}/{name}", body, write=True)

    def get_experiment(self, namespace: str, name: str) -> ExperimentRecord:
        """The experiment ``name`` in ``namespace``; ``NotFoundError`` if there is none."""

        def body(session: Session) -> ExperimentRecord:
            row = session.scalar(select(ExperimentRow).where(*named_experiment(namespace, name)))
            if row is None:
                raise experiment_not_found(namespace, name)
            return row.to_record()

        return self._run(f"reading experiment {namespace}/{name}", body)

    def list_experiments(self, namespace: str | None) -> list[ExperimentRecord]:
        """Experiments of ``namespace`` (None: of every namespace, for admins), oldest first."""

        def body(session: Session) -> list[ExperimentRecord]:
            query = select(ExperimentRow).order_by(ExperimentRow.created_at, ExperimentRow.id)
            if namespace is not None:
                query = query.where(ExperimentRow.namespace == namespace)
            return [row.to_record() for row in session.scalars(query)]

        return self._run("listing experiments", body)

    def delete_experiment(self, namespace: str, name: str) -> None:
        """Delete the experiment with its trials, observation logs and algorithm state, in one transaction."""

        def body(session: Session) -> None:
            experiment_id = session.scalar(self._experiment_id(namespace, name))
            if experiment_id is None:
                raise experiment_not_found(namespace, name)
            # Explicit, not left to ON DELETE CASCADE, which SQLite honours only with foreign_keys=ON.
            for table in (ObservationLogRow, TrialRow, AlgorithmStateRow):
                session.execute(delete(table).where(table.experiment_id == experiment_id))
            session.execute(delete(ExperimentRow).where(ExperimentRow.id == experiment_id))

        self._run(f"deleting experiment {namespace}/{name}", body, write=True)

    def update_experiment_spec(self, namespace: str, name: str, spec: dict[str, Any]) -> ExperimentRecord:
        """Replace the stored spec under the experiment's lock (one transaction)."""
        with self.locked_experiment(namespace, name) as txn:
            txn.update_spec(spec)
            return txn.experiment

    def set_experiment_condition(
        self,
        namespace: str,
        name: str,
        condition: ExperimentCondition,
        reason: str,
        message: str,
        *,
        optimal_trial: str | None = None,
        completed: bool | None = None,
    ) -> ExperimentRecord:
        """``ExperimentTxn.set_condition`` in a transaction of its own, under the experiment's lock."""
        with self.locked_experiment(namespace, name) as txn:
            return txn.set_condition(condition, reason, message, optimal_trial=optimal_trial, completed=completed)

    def algorithm_state(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The algorithm's stored state (None: none stored); ``NotFoundError`` if there is no such experiment.

        Only this and ``ExperimentTxn.algorithm_state`` read it: it has a table of its own, which experiment
        records leave out, because it can be megabytes (enas's controller) and only the suggest path needs it.
        """

        def body(session: Session) -> dict[str, Any] | None:
            found = session.execute(
                select(ExperimentRow.id, AlgorithmStateRow.state)
                .outerjoin(AlgorithmStateRow, AlgorithmStateRow.experiment_id == ExperimentRow.id)
                .where(*named_experiment(namespace, name))
            )
            row = found.first()
            if row is None:
                raise experiment_not_found(namespace, name)
            state: dict[str, Any] | None = row[1]
            return state

        return self._run(f"reading the algorithm state of experiment {namespace}/{name}", body)

    def save_algorithm_state(self, namespace: str, name: str, state: dict[str, Any] | None) -> None:
        """Replace the algorithm's stored state under the experiment's lock (one transaction)."""
        with self.locked_experiment(namespace, name) as txn:
            txn.save_algorithm_state(state)

    @contextmanager
    def locked_experiment(self, namespace: str, name: str) -> Iterator[ExperimentTxn]:
        """One transaction holding the experiment's lock: commit on normal exit, rollback on exception.

        Its first statement increments ``claim_seq``, so concurrent holders (threads, processes, pods) run
        one after the other on SQLite, MySQL and PostgreSQL alike. ``NotFoundError`` if there is no such
        experiment. Keep the block short: every other writer of this experiment waits for it.
        """
        session, row = self._lock(namespace, name)
        txn = ExperimentTxn(session, row, self.safe_url, self._clock)
        try:
            yield txn
            with translated(self.safe_url, f"committing changes to experiment {namespace}/{name}"):
                session.commit()
        except BaseException:
            with suppress(SQLAlchemyError):  # the connection may be gone; closing discards it anyway
                session.rollback()
            raise
        finally:
            txn.close()
            session.close()

    # -- helpers ----------------------------------------------------------------------------------------

    def retrying(self, body: Callable[[], T]) -> T:
        """``body()``, run again from the start while the store fails under it with a lost connection or a
        lock conflict, within the same bound as every call; ``StoreUnavailableError`` after that.

        For blocks that are safe to replay whole, such as a ``locked_experiment`` transaction (rolled back
        when it failed); a commit whose answer was lost may have succeeded, so the block must tolerate that.
        """
        try:
            return self._patience.call(body)
        except StoreUnavailableError:
            raise
        except StoreError as exc:
            if retryable(exc):
                raise self._unavailable(str(exc)) from exc
            raise

    def _run(self, doing: str, body: Callable[[Session], T], *, write: bool = False, wait: bool = True) -> T:
        """Run ``body`` in one transaction, retried whole through outages and lock conflicts (unless not
        ``wait``: then a retryable failure raises ``StoreUnavailableError`` at once)."""
        engine = self._writer if write else self._engine

        def attempt() -> T:
            with Session(engine, expire_on_commit=False) as session, session.begin():
                return body(session)

        try:
            return self._patience.call(attempt, wait=wait)
        except SQLAlchemyError as exc:
            raise self._error(exc, doing) from exc

    def _lock(self, namespace: str, name: str) -> tuple[Session, ExperimentRow]:
        """Begin a transaction whose first statement locks the experiment; retried like ``_run``."""

        def attempt() -> tuple[Session, ExperimentRow]:
            session = Session(self._writer, expire_on_commit=False)
            try:
                session.begin()
                result = session.execute(
                    update(ExperimentRow)
                    .where(*named_experiment(namespace, name))
                    .values(claim_seq=ExperimentRow.claim_seq + 1)
                    .execution_options(synchronize_session=False)
                )
                if rowcount(result) == 0:
                    raise experiment_not_found(namespace, name)
                return session, session.scalars(select(ExperimentRow).where(*named_experiment(namespace, name))).one()
            except BaseException:
                session.close()
                raise

        try:
            return self._patience.call(attempt)
        except SQLAlchemyError as exc:
            raise self._error(exc, f"locking experiment {namespace}/{name}") from exc

    def _error(self, exc: SQLAlchemyError, doing: str) -> StoreError:
        if not retryable(exc):
            return store_error(exc, self.safe_url, doing)
        return self._unavailable(str(store_error(exc, self.safe_url, doing)))

    def _unavailable(self, message: str) -> StoreUnavailableError:
        return StoreUnavailableError(
            f"{message} [the store has failed for {self._patience.down_for():.0f} s; katib-flows retries for "
            f"up to {self._patience.seconds:.0f} s ({RETRY_ENV})]"
        )

    @staticmethod
    def _experiment_id(namespace: str, name: str) -> Any:
        return select(ExperimentRow.id).where(*named_experiment(namespace, name))


def _experiment_exists(namespace: str, name: str) -> AlreadyExistsError:
    return AlreadyExistsError(
        f"an experiment named {name!r} already exists in namespace {namespace!r}; "
        f"delete it first (katib-flows delete {name} --namespace {namespace}) or choose another --name"
    )
