"""Options and look-ups that several commands share: which store, which namespace."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from katib_flows.paths import DB_ENV, resolve_db_url

if TYPE_CHECKING:
    from katib_flows.store import Store

NAMESPACE_ENV = "KATIB_FLOWS_NAMESPACE"

db_option = click.option(
    "--db",
    "db_url",
    envvar=DB_ENV,
    default=None,
    metavar="URL",
    help=f"Store URL (sqlite:///file.db, mysql+pymysql://..., postgresql://...). Default: ${DB_ENV}, "
    "else a SQLite file in your user data folder.",
)
namespace_option = click.option(
    "--namespace",
    "-n",
    envvar=NAMESPACE_ENV,
    default="default",
    show_default=True,
    help=f"Namespace of the experiment (also ${NAMESPACE_ENV}).",
)


def open_store(db_url: str | None) -> Store:
    """Open the store; a SQLite file is created and upgraded on first use, a server database must be current."""
    from katib_flows.store import Store

    url = resolve_db_url(db_url)
    return Store(url, upgrade=url.startswith("sqlite"))
