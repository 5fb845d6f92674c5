"""Trial leases: when the lease of a running trial's runner expires unless renewed.

A runner renews the lease of each trial it runs while the trial lives; a trial whose lease has expired
belongs to a runner that is gone (killed, lost machine) and is interrupted and run again. NULL means no
lease (trials of Argo steps and of releases before this revision): such trials never expire.

Frozen like 0001: types are spelled out here rather than imported from ``_schema``.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    time = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
    op.add_column("trials", sa.Column("lease_expires_at", time, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("trials") as batch:
        batch.drop_column("lease_expires_at")
