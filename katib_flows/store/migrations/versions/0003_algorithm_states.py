"""Algorithm states: the algorithm's explicit state moves from ``experiments.algorithm_state`` to its own table.

enas's state (its controller) is about 1.8 MB of JSON. In the experiment's row, every lock's
``UPDATE experiments SET claim_seq = claim_seq + 1`` rewrote it on SQLite and MySQL, which store a row as
one record: a locked read of an enas experiment cost 1.5x (SQLite) and 3x (MariaDB) a stateless one's. Here
it is one row per experiment that has a state, deleted with the experiment; states are copied as they are.

SQLite drops a column by rebuilding the table (batch mode). Dropping the old ``experiments`` table would
delete every trial, log and state through ON DELETE CASCADE if foreign keys were enforced, so
``_migrate.upgrade`` turns them off on SQLite for the upgrade and checks them before committing; this
script refuses to run with them on.

Frozen like 0001: types are spelled out here rather than imported from ``_schema``.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.create_table(
        "algorithm_states",
        sa.Column(
            "experiment_id",
            sa.Integer(),
            sa.ForeignKey("experiments.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("state", sa.JSON(), nullable=False),
        **MYSQL,
    )
    op.execute(
        "INSERT INTO algorithm_states (experiment_id, state) "
        "SELECT id, algorithm_state FROM experiments WHERE algorithm_state IS NOT NULL"
    )
    _rebuild_safely()
    with op.batch_alter_table("experiments") as batch:
        batch.drop_column("algorithm_state")


def downgrade() -> None:
    with op.batch_alter_table("experiments") as batch:
        batch.add_column(sa.Column("algorithm_state", sa.JSON(), nullable=True))
    op.execute(
        "UPDATE experiments SET algorithm_state = "
        "(SELECT state FROM algorithm_states WHERE algorithm_states.experiment_id = experiments.id)"
    )
    op.drop_table("algorithm_states")


def _rebuild_safely() -> None:
    """Refuse to rebuild SQLite's ``experiments`` while its foreign keys are enforced (see the docstring)."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError(
            "revision 0003 rebuilds the experiments table, which would delete every trial with foreign keys "
            "on; run it through katib-flows db upgrade, which turns them off for the upgrade"
        )
