"""``katib-flows export NAME -o csv|json|optuna``: an experiment's history for other tools.

csv and json go to stdout unless ``-O`` names a file; optuna writes a new SQLite file (default
``NAME.optuna.db``) holding one Optuna study named after the experiment, which ``optuna.load_study`` and
optuna-dashboard open.
"""

from __future__ import annotations

from pathlib import Path

import click

from katib_flows.cli._common import db_option, namespace_option, open_store
from katib_flows.cli._output import output_options, write


@click.command("export")
@click.argument("name")
@db_option
@namespace_option
@output_options(
    ("csv", "json", "optuna"),
    default=None,
    help="csv: one row per trial; json: status, trials and observation logs; optuna: an Optuna storage.",
    out_help="File to write (default: stdout; optuna: NAME.optuna.db).",
    old_format=True,
)
def export(name: str, db_url: str | None, namespace: str, output: str, out: Path | None) -> None:
    """Export an experiment's trials as CSV, JSON, or an Optuna storage for optuna-dashboard."""
    from katib_flows.report import load_history, to_csv, to_json, trial_view, write_storage

    path = out or Path(f"{name}.optuna.db")
    if output == "optuna" and path.exists():
        raise click.UsageError(f"{path} already exists; an Optuna export writes a new file: remove it or choose -O")
    with open_store(db_url) as store:
        history = load_history(store, namespace, name)
    if output == "optuna":
        url = write_storage(history, path)
        click.echo(f"wrote Optuna study {name!r} to {url}", err=True)
        click.echo(f"  optuna-dashboard {url}", err=True)
        return
    text = to_csv(history) if output == "csv" else to_json(history, trial_view)
    write(text, out, detail=f" ({len(history.trials)} trials)")
