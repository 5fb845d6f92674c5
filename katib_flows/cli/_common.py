"""Options and look-ups that several commands share: which store, which namespace."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from katib_flows.store import Store

DB_ENV = "KATIB_FLOWS_DB"
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


def default_db_url() -> str:
    """The embedded default: a SQLite file in the per-user data folder."""
    import platformdirs

    folder = platformdirs.user_data_path("katib-flows", appauthor=False)
    return f"sqlite:///{folder / 'katib-flows.db'}"


def resolve_db_url(db_url: str | None) -> str:
    return db_url or os.environ.get(DB_ENV) or default_db_url()


def open_store(db_url: str | None) -> Store:
    """Open the store; a SQLite file is created and upgraded on first use, a server database must be current."""
    from katib_flows.store import Store

    url = resolve_db_url(db_url)
    return Store(url, upgrade=url.startswith("sqlite"))


def logs_dir() -> Path:
    """Where local runs keep each trial's output (``KATIB_FLOWS_LOGS`` overrides)."""
    import platformdirs

    folder = os.environ.get("KATIB_FLOWS_LOGS")
    return Path(folder) if folder else platformdirs.user_data_path("katib-flows", appauthor=False) / "logs"
