"""The first schema: experiments, trials and observation logs.

Written by hand and frozen: later changes go into new revisions, never here. Types are spelled out rather
than imported from ``_schema`` so that this file keeps creating the schema of revision 0001.

Revision ID: 0001
Revises: none
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

NAME = 253
METRIC = 255
STATE = 32
# Binary collation: names compare case-sensitively on MySQL too, as on SQLite and PostgreSQL.
MYSQL: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def _time() -> sa.DateTime:
    """Naive UTC with microseconds; MySQL's DATETIME defaults to whole seconds."""
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("namespace", sa.String(NAME), nullable=False),
        sa.Column("name", sa.String(NAME), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("condition", sa.String(STATE), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("started_at", _time(), nullable=True),
        sa.Column("completed_at", _time(), nullable=True),
        sa.Column("optimal_trial", sa.String(NAME), nullable=True),
        sa.Column("algorithm_state", sa.JSON(), nullable=True),
        sa.Column("claim_seq", sa.Integer(), nullable=False, server_default="0"),
        sa.UniqueConstraint("namespace", "name", name="uq_experiments_namespace_name"),
        **MYSQL,
    )
    op.create_table(
        "trials",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("experiment_id", sa.Integer(), sa.ForeignKey("experiments.id", ondelete="CASCADE"), nullable=False),
        sa.Column("namespace", sa.String(NAME), nullable=False),
        sa.Column("name", sa.String(NAME), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("assignments", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(STATE), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("lane", sa.Integer(), nullable=True),
        sa.Column("runner", sa.String(NAME), nullable=True),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("started_at", _time(), nullable=True),
        sa.Column("completed_at", _time(), nullable=True),
        sa.Column("observation", sa.JSON(), nullable=False),
        sa.Column("objective_value", sa.Double(), nullable=True),
        sa.UniqueConstraint("namespace", "name", name="uq_trials_namespace_name"),
        sa.UniqueConstraint("experiment_id", "seq", name="uq_trials_experiment_seq"),
        **MYSQL,
    )
    op.create_index("ix_trials_experiment_status", "trials", ["experiment_id", "status"])
    op.create_table(
        "observation_logs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("experiment_id", sa.Integer(), sa.ForeignKey("experiments.id", ondelete="CASCADE"), nullable=False),
        sa.Column("namespace", sa.String(NAME), nullable=False),
        sa.Column("experiment", sa.String(NAME), nullable=False),
        sa.Column("trial_name", sa.String(NAME), nullable=False),
        sa.Column("metric_name", sa.String(METRIC), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("number", sa.Double(), nullable=True),
        sa.Column("step", sa.BigInteger(), nullable=True),
        sa.Column("timestamp", _time(), nullable=False),
        **MYSQL,
    )
    op.create_index(
        "ix_observation_logs_trial", "observation_logs", ["namespace", "trial_name", "metric_name", "timestamp"]
    )
    op.create_index("ix_observation_logs_experiment", "observation_logs", ["experiment_id", "metric_name"])


def downgrade() -> None:
    op.drop_table("observation_logs")
    op.drop_table("trials")
    op.drop_table("experiments")
