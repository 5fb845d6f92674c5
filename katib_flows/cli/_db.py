"""``katib-flows db``: create or upgrade the store's schema, and show its revision.

Admins run ``db upgrade`` once per release against a shared MySQL or PostgreSQL store; the local SQLite
default is upgraded on first use by the commands themselves.
"""

from __future__ import annotations

import click

from katib_flows.cli._common import db_option, resolve_db_url


@click.group("db")
def db() -> None:
    """Manage the store's schema (create, upgrade, show the revision)."""


@db.command("upgrade")
@db_option
def upgrade(db_url: str | None) -> None:
    """Create the schema, or migrate it to this release's revision."""
    from katib_flows.store import Store

    url = resolve_db_url(db_url)
    with Store(url, upgrade=True) as store:
        click.echo(f"{store.safe_url}: schema at revision {store.revision()}")


@db.command("current")
@db_option
def current(db_url: str | None) -> None:
    """Show the schema revision of the store and the one this release needs."""
    from katib_flows.store import Store

    url = resolve_db_url(db_url)
    revision, head = Store.inspect_revision(url)
    click.echo(f"database revision: {revision or 'none (empty database)'}\nthis release needs: {head}")
