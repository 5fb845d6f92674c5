"""The ``katib-flows`` command line.

``main`` builds the click group; each command lives in its own module and imports the heavy parts
(SQLAlchemy, optuna, hera, kubernetes) inside its function, so ``katib-flows --help`` stays fast.
Errors of katib-flows' own types become one line on stderr and a named exit code; a traceback means a
bug in katib-flows.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from katib_flows import __version__
from katib_flows.cli import _exit
from katib_flows.cli._compile import compile_command
from katib_flows.cli._db import db
from katib_flows.cli._export import export
from katib_flows.cli._lint import lint
from katib_flows.cli._query import best, delete, experiments, logs, stop, trials
from katib_flows.cli._report import report
from katib_flows.cli._run import resume
from katib_flows.cli._run import run as run_command
from katib_flows.cli._step import step
from katib_flows.cli._submit import submit, watch
from katib_flows.cli._ui import ui
from katib_flows.errors import (
    AlreadyExistsError,
    ClusterError,
    ExperimentBusyError,
    KatibFlowsError,
    NotFoundError,
    NotRunningError,
    SpecError,
    StoreError,
    StoreUnavailableError,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="katib-flows")
def cli() -> None:
    """Hyperparameter tuning with Katib v1beta1 Experiments: locally, or as Argo Workflows."""


for _command in (
    run_command,
    resume,
    experiments,
    trials,
    best,
    logs,
    stop,
    delete,
    lint,
    db,
    report,
    export,
    compile_command,
    submit,
    watch,
    step,
    ui,
):
    cli.add_command(_command)


# Our errors, most specific first (a cluster's 404 is a NotFoundError too): the exit code and what to add.
_EXIT_CODES: tuple[tuple[type[KatibFlowsError] | tuple[type[KatibFlowsError], ...], int, str], ...] = (
    (NotFoundError, _exit.NOT_FOUND, ""),
    (
        StoreUnavailableError,
        _exit.STORE_UNAVAILABLE,
        "\nstopped; once the store is back, `katib-flows resume` continues",
    ),
    (ExperimentBusyError, _exit.RUN_IN_PROGRESS, ""),
    ((SpecError, StoreError, AlreadyExistsError, NotRunningError), _exit.BAD_INPUT, ""),
    (ClusterError, _exit.CLUSTER_ERROR, ""),
    (KatibFlowsError, _exit.INTERNAL_ERROR, ""),
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (tests call this in process)."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="katib-flows", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Interrupted.", err=True)
        return _exit.INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return _exit.BAD_INPUT
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else _exit.BAD_INPUT
    except KatibFlowsError as exc:
        code, advice = next((code, advice) for kinds, code, advice in _EXIT_CODES if isinstance(exc, kinds))
        click.echo(f"error: {exc}{advice}", err=True)
        return code
    return _exit.SUCCEEDED


def run() -> None:
    sys.exit(main())
