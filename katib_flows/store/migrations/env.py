"""Alembic's entry point for the store's migrations; run only through ``katib_flows.store._migrate.upgrade``.

``upgrade`` passes an open connection, already inside a transaction, in ``config.attributes``; this
script only binds alembic to it. Offline (``--sql``) mode is not supported.
"""

from __future__ import annotations

from alembic import context

from katib_flows.store._migrate import VERSION_TABLE

connection = context.config.attributes.get("connection")
if context.is_offline_mode() or connection is None:
    raise RuntimeError("run the store's migrations with: katib-flows db upgrade --db URL")

context.configure(connection=connection, target_metadata=None, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
