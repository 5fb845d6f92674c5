"""Katib's DB API over the ``observation_logs`` table, as the part of ``Store`` that handles metrics.

Runners and the push collector append rows (``register_observation_log``), the engine reads a trial's rows
to compute its observation, and reports and medianstop read a whole experiment's rows at once
(``observation_logs``). Unlike Katib, rows are keyed by namespace and experiment as well as trial name,
so equal trial names in two namespaces never see each other's metrics.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from katib_flows.store._failures import experiment_not_found, rowcount, trial_not_found
from katib_flows.store._records import MetricLog
from katib_flows.store._schema import ExperimentRow, ObservationLogRow, TrialRow, named_experiment

T = TypeVar("T")
_CHUNK = 500  # rows per INSERT: well under SQLite's limit of 32766 bound values
_LOG_COLUMNS = (
    ObservationLogRow.trial_name,
    ObservationLogRow.metric_name,
    ObservationLogRow.value,
    ObservationLogRow.timestamp,
    ObservationLogRow.step,
)


class ObservationLogs:
    """Observation-log methods of ``Store``; each runs in one transaction through ``Store._run``."""

    def _run(self, doing: str, body: Callable[[Session], T], *, write: bool = False, wait: bool = True) -> T:
        raise NotImplementedError

    def register_observation_log(
        self, namespace: str, trial_name: str, logs: Iterable[MetricLog], *, wait: bool = True
    ) -> None:
        """Append metric rows for a trial in one transaction (multi-row INSERTs).

        ``NotFoundError`` if ``namespace`` has no such trial. Each row's ``number`` is its value as a float,
        or NULL when the value is not a finite number (``unavailable``, a genotype string, ``nan``). Without
        ``wait``, an unreachable store raises ``StoreUnavailableError`` at once (nothing was written).
        """
        rows = list(logs)

        def body(session: Session) -> None:
            found = session.execute(
                select(TrialRow.experiment_id, ExperimentRow.name)
                .join(ExperimentRow, TrialRow.experiment_id == ExperimentRow.id)
                .where(TrialRow.namespace == namespace, TrialRow.name == trial_name)
            ).first()
            if found is None:
                raise trial_not_found(namespace, trial_name)
            insert_logs(session, namespace, found[1], found[0], trial_name, rows)

        self._run(f"recording metrics of trial {namespace}/{trial_name}", body, write=True, wait=wait)

    def get_observation_log(
        self,
        namespace: str,
        trial_name: str,
        metric: str | None = None,
        start_time: dt.datetime | None = None,
        end_time: dt.datetime | None = None,
        *,
        wait: bool = True,
    ) -> list[MetricLog]:
        """A trial's rows ordered by (timestamp, insertion), optionally of one metric and within
        ``start_time <= timestamp <= end_time``. An unknown trial has no rows (Katib's behaviour). Without
        ``wait`` an unreachable store raises ``StoreUnavailableError`` at once."""
        query = select(*_LOG_COLUMNS).where(
            ObservationLogRow.namespace == namespace, ObservationLogRow.trial_name == trial_name
        )
        if metric is not None:
            query = query.where(ObservationLogRow.metric_name == metric)
        if start_time is not None:
            query = query.where(ObservationLogRow.timestamp >= start_time)
        if end_time is not None:
            query = query.where(ObservationLogRow.timestamp <= end_time)
        query = query.order_by(ObservationLogRow.timestamp, ObservationLogRow.id)

        def body(session: Session) -> list[MetricLog]:
            return [_log(row) for row in session.execute(query)]

        return self._run(f"reading metrics of trial {namespace}/{trial_name}", body, wait=wait)

    def delete_observation_log(self, namespace: str, trial_name: str) -> int:
        """Delete every row of the trial in one transaction; returns how many there were."""

        def body(session: Session) -> int:
            return rowcount(
                session.execute(
                    delete(ObservationLogRow).where(
                        ObservationLogRow.namespace == namespace, ObservationLogRow.trial_name == trial_name
                    )
                )
            )

        return self._run(f"deleting metrics of trial {namespace}/{trial_name}", body, write=True)

    def observation_logs(
        self, namespace: str, experiment: str, metric: str | None = None
    ) -> dict[str, list[MetricLog]]:
        """Every row of the experiment's trials in one query, by trial name, each list in time order.

        Trials without rows are absent. ``NotFoundError`` if ``namespace`` has no such experiment.
        """
        lookup = select(ExperimentRow.id).where(*named_experiment(namespace, experiment))
        query = select(*_LOG_COLUMNS).where(ObservationLogRow.experiment_id == lookup.scalar_subquery())
        if metric is not None:
            query = query.where(ObservationLogRow.metric_name == metric)
        query = query.order_by(ObservationLogRow.timestamp, ObservationLogRow.id)

        def body(session: Session) -> dict[str, list[MetricLog]]:
            result: dict[str, list[MetricLog]] = {}
            for row in session.execute(query):
                result.setdefault(row.trial_name, []).append(_log(row))
            if not result and session.scalar(lookup) is None:
                raise experiment_not_found(namespace, experiment)
            return result

        return self._run(f"reading metrics of experiment {namespace}/{experiment}", body)


def insert_logs(
    session: Session, namespace: str, experiment: str, experiment_id: int, trial_name: str, logs: list[MetricLog]
) -> None:
    """The multi-row INSERTs of ``register_observation_log``, inside the caller's transaction."""
    values = [_row(namespace, experiment, experiment_id, trial_name, log) for log in logs]
    for start in range(0, len(values), _CHUNK):
        session.execute(insert(ObservationLogRow).values(values[start : start + _CHUNK]))


def read_logs(session: Session, namespace: str, trial_name: str) -> list[MetricLog]:
    """A trial's rows in (timestamp, insertion) order, inside the caller's transaction."""
    query = select(*_LOG_COLUMNS).where(
        ObservationLogRow.namespace == namespace, ObservationLogRow.trial_name == trial_name
    )
    return [_log(row) for row in session.execute(query.order_by(ObservationLogRow.timestamp, ObservationLogRow.id))]


def _row(namespace: str, experiment: str, experiment_id: int, trial_name: str, log: MetricLog) -> dict[str, Any]:
    number = log.number
    return {
        "experiment_id": experiment_id,
        "namespace": namespace,
        "experiment": experiment,
        "trial_name": trial_name,
        "metric_name": log.metric,
        "value": log.value,
        "number": number if number is not None and math.isfinite(number) else None,
        "step": log.step,
        "timestamp": log.timestamp,
    }


def _log(row: Any) -> MetricLog:
    return MetricLog(metric=row.metric_name, value=row.value, timestamp=row.timestamp, step=row.step)
