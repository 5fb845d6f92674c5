"""``katib-flows export NAME --format csv|json|optuna``: an experiment's history for other tools.

csv and json go to stdout unless ``-o`` names a file; optuna writes a new SQLite file (default
``NAME.optuna.db``) holding one Optuna study named after the experiment, which ``optuna.load_study`` and
optuna-dashboard open.
"""

from __future__ import annotations

from pathlib import Path

import click

from katib_flows.cli._common import db_option, namespace_option, open_store


@click.command("export")
@click.argument("name")
@db_option
@namespace_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "optuna"]),
    required=True,
    help="csv: one row per trial; json: status, trials and observation logs; optuna: an Optuna storage.",
)
@click.option("--output", "-o", "output", type=click.Path(path_type=Path), help="File to write (default: stdout).")
def export(name: str, db_url: str | None, namespace: str, fmt: str, output: Path | None) -> None:
    """Export an experiment's trials as CSV, JSON, or an Optuna storage for optuna-dashboard."""
    from katib_flows.report import load_history, to_csv, to_json, trial_view, write_storage

    path = output or Path(f"{name}.optuna.db")
    if fmt == "optuna" and path.exists():
        raise click.UsageError(f"{path} already exists; an Optuna export writes a new file: remove it or choose -o")
    with open_store(db_url) as store:
        history = load_history(store, namespace, name)
    if fmt == "optuna":
        url = write_storage(history, path)
        click.echo(f"wrote Optuna study {name!r} to {url}", err=True)
        click.echo(f"  optuna-dashboard {url}", err=True)
        return
    text = to_csv(history) if fmt == "csv" else to_json(history, trial_view)
    if output is None:
        click.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output} ({len(history.trials)} trials)", err=True)
