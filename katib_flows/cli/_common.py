"""The steps and options that several commands share: load and prepare a file, which store, which namespace.

A command is a pipeline of these (nox's ``workflow.py``): ``load`` (the file, its warnings said),
``prepare_file`` (the command line's name, namespace and overrides, checked again), ``open_store``, then the
command's own act and report.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from katib_flows.paths import DB_ENV, name_from_file, resolve_db_url

if TYPE_CHECKING:
    from katib_flows.spec import Experiment
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


def load(file: Path) -> Experiment:
    """The one Experiment of ``file`` (``SpecError`` listing every problem), its warnings said on stderr."""
    from katib_flows.spec import load_file

    checked = load_file(file)
    for warning in checked.warnings:
        click.echo(warning.format(), err=True)
    assert checked.experiment is not None
    return checked.experiment


def prepare_file(
    loaded: Experiment,
    file: Path,
    *,
    name: str | None = None,
    namespace: str | None = None,
    default_namespace: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> Experiment:
    """``loaded`` with the command line's values: the name is ``name``, else metadata.name, else the file's;
    the namespace ``namespace``, else metadata.namespace, else ``default_namespace``."""
    from katib_flows.spec import prepare

    return prepare(
        loaded.dump(),
        source=str(file),
        name=name or loaded.name or name_from_file(file),
        namespace=namespace or loaded.namespace or default_namespace,
        overrides=overrides,
        annotations=annotations,
    )
