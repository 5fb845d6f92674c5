"""``ExperimentTxn``: one transaction that holds one experiment's lock, for decisions that must not interleave.

``Store.locked_experiment`` opens it with ``UPDATE experiments SET claim_seq = claim_seq + 1`` as its first
statement, which takes SQLite's write lock or the experiment's row lock on MySQL and PostgreSQL; the engine
then reads the trials, decides, and adds a trial or sets a condition before the commit releases the lock.
Every method here runs inside that transaction and sees what the previous ones wrote.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import case, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from katib_flows.errors import AlreadyExistsError
from katib_flows.store import _conditions
from katib_flows.store._failures import rowcount, translated
from katib_flows.store._observations import insert_logs, read_logs
from katib_flows.store._records import ExperimentCondition, ExperimentRecord, MetricLog, TrialRecord, TrialStatus
from katib_flows.store._schema import AlgorithmStateRow, ExperimentRow, TrialRow

Clock = Callable[[], dt.datetime]


class ExperimentTxn:
    """The locked transaction on one experiment; obtain it from ``Store.locked_experiment``.

    Nothing is visible to other processes until the ``with`` block ends normally (commit); an exception in
    the block rolls everything back. A database error inside it raises ``StoreError`` (rolled back too).
    """

    def __init__(self, session: Session, row: ExperimentRow, url: str, clock: Clock) -> None:
        self.__session = session
        self._row = row
        self._url = url
        self._clock = clock
        self._open = True

    @property
    def experiment(self) -> ExperimentRecord:
        """The experiment as read after taking the lock, with this transaction's changes."""
        return self._row.to_record()

    def close(self) -> None:
        """Called by ``Store.locked_experiment`` when the block ends; later calls raise ``RuntimeError``."""
        self._open = False

    @property
    def _session(self) -> Session:
        # Past the block the session would silently start a new, unlocked transaction.
        if not self._open:
            raise RuntimeError("this ExperimentTxn has ended; use it only inside its `with` block")
        return self.__session

    def trials(self) -> list[TrialRecord]:
        """Every trial of the experiment, in creation order (``seq`` 0, 1, 2, ...)."""
        with translated(self._url, f"listing the trials of {self._label}"):
            rows = self._session.scalars(
                select(TrialRow).where(TrialRow.experiment_id == self._row.id).order_by(TrialRow.seq)
            )
            return [row.to_record(self._row.name) for row in rows]

    def status_counts(self) -> dict[tuple[TrialStatus, str], int]:
        """How many trials have each (status, reason): one aggregate query, however long the history."""
        with translated(self._url, f"counting the trials of {self._label}"):
            rows = self._session.execute(
                select(TrialRow.status, TrialRow.reason, func.count())
                .where(TrialRow.experiment_id == self._row.id)
                .group_by(TrialRow.status, TrialRow.reason)
            )
            return {(TrialStatus(status), reason): count for status, reason, count in rows}

    def best_trial(self, *, maximize: bool) -> tuple[str, float | None] | None:
        """(name, objective value) of the finished trial with the best value (the earliest on a tie), or None.

        As in Katib, a trial whose objective value is not a number (DARTS's genotype) is the best one without
        comparison, the latest such trial first; its value here is None. Such a trial is the only Succeeded
        one with no ``objective_value``: the engine marks a trial without any value MetricsUnavailable.
        """
        text = TrialRow.objective_value.is_(None)
        value = TrialRow.objective_value.desc() if maximize else TrialRow.objective_value.asc()
        active = (TrialStatus.CREATED.value, TrialStatus.RUNNING.value)
        with translated(self._url, f"finding the best trial of {self._label}"):
            row = self._session.execute(
                select(TrialRow.name, TrialRow.objective_value)
                .where(
                    TrialRow.experiment_id == self._row.id,
                    or_(TrialRow.objective_value.is_not(None), TrialRow.status == TrialStatus.SUCCEEDED.value),
                    TrialRow.status.not_in(active),
                )
                .order_by(case((text, 0), else_=1), case((text, -TrialRow.seq), else_=0), value, TrialRow.seq)
                .limit(1)
            ).first()
            if row is None:
                return None
            return row[0], (float(row[1]) if row[1] is not None else None)

    def best_value(self, *, maximize: bool) -> float | None:
        """The best numeric objective value of the finished trials (one aggregate), or None without any.

        The goal is judged on it when ``best_trial`` is a trial whose value is not a number, as Katib judges
        it on the best number it has seen whichever trial it shows as best.
        """
        active = (TrialStatus.CREATED.value, TrialStatus.RUNNING.value)
        best = func.max(TrialRow.objective_value) if maximize else func.min(TrialRow.objective_value)
        with translated(self._url, f"finding the best objective value of {self._label}"):
            value = self._session.scalar(
                select(best).where(TrialRow.experiment_id == self._row.id, TrialRow.status.not_in(active))
            )
            return float(value) if value is not None else None

    def add_trial(
        self,
        name: str,
        assignments: dict[str, Any],
        *,
        lane: int | None = None,
        labels: dict[str, str] | None = None,
        status: TrialStatus = TrialStatus.CREATED,
        runner: str | None = None,
        lease_seconds: float | None = None,
    ) -> TrialRecord:
        """Insert a trial with the next ``seq``; ``AlreadyExistsError`` if the namespace has a trial so named.

        A trial added as Running gets ``started_at`` now, so claiming and starting can be one transaction.
        With ``lease_seconds`` its runner holds a lease on it until now + that, to be renewed while it runs.
        """
        doing = f"adding trial {name!r} to {self._label}"
        with translated(self._url, doing):
            taken = self._session.scalar(
                select(TrialRow.id).where(TrialRow.namespace == self._row.namespace, TrialRow.name == name)
            )
            if taken is not None:
                raise self._trial_exists(name)
            last = self._session.scalar(select(func.max(TrialRow.seq)).where(TrialRow.experiment_id == self._row.id))
            now = self._clock()
            reason, message = _TRIAL_REASONS.get(status, ("", ""))
            row = TrialRow(
                experiment_id=self._row.id,
                namespace=self._row.namespace,
                name=name,
                seq=0 if last is None else last + 1,
                assignments=assignments,
                status=status.value,
                reason=reason,
                message=message,
                lane=lane,
                runner=runner,
                labels=dict(labels or {}),
                created_at=now,
                started_at=None if status is TrialStatus.CREATED else now,
                completed_at=now if status.terminal else None,
                observation={},
                objective_value=None,
                lease_expires_at=None if lease_seconds is None else now + dt.timedelta(seconds=lease_seconds),
            )
            self._session.add(row)
            try:
                self._session.flush()
            except IntegrityError as exc:  # a rival in another experiment took the name meanwhile
                raise self._trial_exists(name) from exc
            return row.to_record(self._row.name)

    def expired_trials(self) -> list[TrialRecord]:
        """Active trials whose lease has expired (their runner stopped renewing it), in creation order."""
        with translated(self._url, f"finding expired leases in {self._label}"):
            rows = self._session.scalars(
                select(TrialRow)
                .where(
                    TrialRow.experiment_id == self._row.id,
                    TrialRow.status.in_((TrialStatus.CREATED.value, TrialStatus.RUNNING.value)),
                    TrialRow.lease_expires_at < self._clock(),
                )
                .order_by(TrialRow.seq)
            )
            return [row.to_record(self._row.name) for row in rows]

    def record_and_read_logs(self, trial_name: str, logs: list[MetricLog]) -> list[MetricLog]:
        """Append ``logs`` for one of this experiment's trials, then return all of its rows in time order."""
        with translated(self._url, f"recording metrics of trial {trial_name!r} of {self._label}"):
            if logs:
                insert_logs(self._session, self._row.namespace, self._row.name, self._row.id, trial_name, logs)
            return read_logs(self._session, self._row.namespace, trial_name)

    def finish_trial(
        self,
        name: str,
        status: TrialStatus,
        *,
        reason: str = "",
        message: str = "",
        observation: dict[str, dict[str, str]] | None = None,
        objective_value: float | None = None,
    ) -> TrialRecord | None:
        """``Store.finish_trial`` inside this transaction: Created/Running -> ``status``, then the trial as it
        now is; None when the experiment has no such trial. An already finished trial is left unchanged."""
        if not status.terminal:
            raise ValueError(f"finish_trial needs a terminal status, got {status.value}")
        with translated(self._url, f"finishing trial {name!r} of {self._label}"):
            row = self._session.scalars(
                select(TrialRow).where(TrialRow.experiment_id == self._row.id, TrialRow.name == name)
            ).first()
            if row is None:
                return None
            if not TrialStatus(row.status).terminal:
                row.status, row.reason, row.message = status.value, reason, message
                row.completed_at, row.objective_value = self._clock(), objective_value
                if observation is not None:
                    row.observation = observation
                self._session.flush()
            return row.to_record(self._row.name)

    def set_condition(
        self,
        condition: ExperimentCondition,
        reason: str,
        message: str,
        *,
        optimal_trial: str | None = None,
        completed: bool | None = None,
    ) -> ExperimentRecord:
        """Set a status condition by Katib's rule (see ``_conditions``) and return the experiment.

        ``started_at`` is set on the first Running; ``completed_at`` when ``completed`` (default: the
        condition is terminal) and cleared by Restarting. ``optimal_trial`` is stored when given, even
        when the condition itself changes nothing; None leaves it as it is.
        """
        with translated(self._url, f"setting the condition of {self._label}"):
            row, now = self._row, self._clock()
            conditions = _conditions.apply(row.conditions, condition, reason, message, now)
            if conditions != row.conditions:
                row.conditions = conditions
                current = next(entry for entry in reversed(conditions) if entry["status"] == "True")
                row.condition, row.reason, row.message = current["type"], current["reason"], current["message"]
            if condition is ExperimentCondition.RUNNING and row.started_at is None:
                row.started_at = now
            if condition is ExperimentCondition.RESTARTING:
                row.completed_at = None
            elif (condition.terminal if completed is None else completed) and row.completed_at is None:
                row.completed_at = now
            if optimal_trial is not None:
                row.optimal_trial = optimal_trial
            self._session.flush()
            return row.to_record()

    def algorithm_state(self) -> dict[str, Any] | None:
        """The algorithm's stored state as this transaction sees it (None: none stored).

        Read only when asked (``experiment`` leaves it out): it can be megabytes, and only suggesting needs it.
        """
        with translated(self._url, f"reading the algorithm state of {self._label}"):
            state: dict[str, Any] | None = self._session.scalar(
                select(AlgorithmStateRow.state).where(AlgorithmStateRow.experiment_id == self._row.id)
            )
            return state

    def save_algorithm_state(self, state: dict[str, Any] | None) -> None:
        """Store the algorithm's explicit state (JSON), replacing the previous one; None deletes it."""
        mine = AlgorithmStateRow.experiment_id == self._row.id
        with translated(self._url, f"saving the algorithm state of {self._label}"):
            if state is None:
                self._session.execute(delete(AlgorithmStateRow).where(mine))
                return
            # Update, else insert: portable, and no race, because every writer of the state holds this lock.
            # (MySQL counts a matched row whose value is unchanged: SQLAlchemy connects with FOUND_ROWS.)
            updated = self._session.execute(
                update(AlgorithmStateRow).where(mine).values(state=state).execution_options(synchronize_session=False)
            )
            if rowcount(updated) == 0:
                self._session.execute(insert(AlgorithmStateRow).values(experiment_id=self._row.id, state=state))

    def update_spec(self, spec: dict[str, Any]) -> None:
        """Replace the stored spec (budget edits such as a higher ``maxTrialCount``)."""
        with translated(self._url, f"updating the spec of {self._label}"):
            self._row.spec = spec
            self._session.flush()

    @property
    def _label(self) -> str:
        return f"experiment {self._row.namespace}/{self._row.name}"

    def _trial_exists(self, name: str) -> AlreadyExistsError:
        return AlreadyExistsError(
            f"a trial named {name!r} already exists in namespace {self._row.namespace!r}; "
            "trial names must be unique within a namespace"
        )


# Katib's reason and message for a trial entering each state through the store.
_TRIAL_REASONS = {
    TrialStatus.CREATED: ("TrialCreated", "Trial is created"),
    TrialStatus.RUNNING: ("TrialRunning", "Trial is running"),
}
