"""The store's tables as SQLAlchemy 2 models, and their conversion to the plain records callers see.

Only the store's own modules use these classes; ``migrations/versions`` creates the same tables by hand
(a test compares the two). Timestamps are stored as naive UTC with microseconds (``DATETIME(6)`` on
MySQL) and come back timezone-aware; measures are ``DOUBLE`` because MySQL's ``FLOAT`` is single precision.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeEngine

from katib_flows.store._records import ExperimentCondition, ExperimentRecord, TrialRecord, TrialStatus

NAME = 253  # Kubernetes object names (DNS subdomain)
METRIC = 255  # Katib's metric_name column
STATE = 32


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp kept as naive UTC with microseconds; naive inputs are taken as UTC, results are aware."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None or value.tzinfo is None:
            return value
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.timezone.utc)


# SQLite only auto-increments an INTEGER primary key.
_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")
# Binary collation: names compare case-sensitively on MySQL too, as on SQLite and PostgreSQL.
_TABLE_ARGS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


class Base(DeclarativeBase):
    pass


class ExperimentRow(Base):
    __tablename__ = "experiments"
    __table_args__ = (UniqueConstraint("namespace", "name", name="uq_experiments_namespace_name"), _TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    namespace: Mapped[str] = mapped_column(String(NAME))
    name: Mapped[str] = mapped_column(String(NAME))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    seed: Mapped[int] = mapped_column(BigInteger)
    condition: Mapped[str] = mapped_column(String(STATE))
    reason: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    optimal_trial: Mapped[str | None] = mapped_column(String(NAME))
    claim_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    def to_record(self) -> ExperimentRecord:
        return ExperimentRecord(
            namespace=self.namespace,
            name=self.name,
            spec=self.spec,
            seed=self.seed,
            condition=ExperimentCondition(self.condition),
            reason=self.reason,
            message=self.message,
            conditions=list(self.conditions),
            created_at=self.created_at,
            started_at=self.started_at,
            completed_at=self.completed_at,
            optimal_trial=self.optimal_trial,
        )


class AlgorithmStateRow(Base):
    """An algorithm's explicit state, for the experiments whose algorithm keeps one (no row: none stored).

    Megabytes for enas (its controller), so it has a table of its own: the lock's ``UPDATE experiments SET
    claim_seq = ...`` would otherwise rewrite it on SQLite and MySQL, which store a row as one record.
    Only ``Store.algorithm_state`` and ``ExperimentTxn.algorithm_state`` read it.
    """

    __tablename__ = "algorithm_states"
    __table_args__ = _TABLE_ARGS

    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    state: Mapped[dict[str, Any]] = mapped_column(JSON)


class TrialRow(Base):
    __tablename__ = "trials"
    __table_args__ = (
        UniqueConstraint("namespace", "name", name="uq_trials_namespace_name"),
        UniqueConstraint("experiment_id", "seq", name="uq_trials_experiment_seq"),
        Index("ix_trials_experiment_status", "experiment_id", "status"),
        _TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"))
    namespace: Mapped[str] = mapped_column(String(NAME))
    name: Mapped[str] = mapped_column(String(NAME))
    seq: Mapped[int] = mapped_column(Integer)
    assignments: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(STATE))
    reason: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    lane: Mapped[int | None] = mapped_column(Integer)
    runner: Mapped[str | None] = mapped_column(String(NAME))
    labels: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    observation: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON)
    objective_value: Mapped[float | None] = mapped_column(Double)
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def to_record(self, experiment: str) -> TrialRecord:
        return TrialRecord(
            namespace=self.namespace,
            experiment=experiment,
            name=self.name,
            seq=self.seq,
            assignments=self.assignments,
            status=TrialStatus(self.status),
            reason=self.reason,
            message=self.message,
            lane=self.lane,
            runner=self.runner,
            labels=dict(self.labels),
            created_at=self.created_at,
            started_at=self.started_at,
            completed_at=self.completed_at,
            observation=self.observation,
            objective_value=self.objective_value,
            lease_expires_at=self.lease_expires_at,
        )


class ObservationLogRow(Base):
    __tablename__ = "observation_logs"
    __table_args__ = (
        Index("ix_observation_logs_trial", "namespace", "trial_name", "metric_name", "timestamp"),
        Index("ix_observation_logs_experiment", "experiment_id", "metric_name"),
        _TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"))
    namespace: Mapped[str] = mapped_column(String(NAME))
    experiment: Mapped[str] = mapped_column(String(NAME))
    trial_name: Mapped[str] = mapped_column(String(NAME))
    metric_name: Mapped[str] = mapped_column(String(METRIC))
    value: Mapped[str] = mapped_column(Text)
    number: Mapped[float | None] = mapped_column(Double)
    step: Mapped[int | None] = mapped_column(BigInteger)
    timestamp: Mapped[dt.datetime] = mapped_column(UTCDateTime)


def named_experiment(namespace: str, name: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """The WHERE clauses that select one experiment by namespace and name."""
    return ExperimentRow.namespace == namespace, ExperimentRow.name == name
