"""Results and their lifecycle: ``experiments``, ``trials``, ``best``, ``logs``, ``stop NAME``, ``delete NAME``.

Each is load-free: open the store, read, print a table for people or ``--output json|yaml`` in the
shapes of DESIGN.md section 10 for scripts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from katib_flows.cli._common import db_option, open_store
from katib_flows.cli._output import emit, emit_optimal, output_option, table
from katib_flows.errors import NotFoundError
from katib_flows.paths import trial_log_path

if TYPE_CHECKING:
    from katib_flows.store import ExperimentRecord

namespace_option = click.option(
    "--namespace",
    "-n",
    envvar="KATIB_FLOWS_NAMESPACE",
    default="default",
    show_default=True,
    help="Namespace of the experiment.",
)


@click.command("experiments")
@db_option
@namespace_option
@click.option("--all-namespaces", "-A", is_flag=True, help="List the experiments of every namespace.")
@output_option
def experiments(db_url: str | None, namespace: str, all_namespaces: bool, output: str) -> None:
    """List experiments with their status, trial counts and best trial."""
    from katib_flows.engine import shown_objective
    from katib_flows.report import experiment_view

    with open_store(db_url) as store:
        records = store.list_experiments(None if all_namespaces else namespace)
        trials = [store.list_trials(r.namespace, r.name) for r in records]
    views = [experiment_view(r, t) for r, t in zip(records, trials, strict=True)]
    if output != "table":
        emit(views, output)
        return
    rows = []
    for record, v, of_record in zip(records, views, trials, strict=True):
        best = v["currentOptimalTrial"]
        optimal = next((t for t in of_record if best and t.name == best["bestTrialName"]), None)
        rows.append(
            [
                v["namespace"],
                v["name"],
                v["status"]["condition"],
                v["status"]["reason"],
                f"{v['trials']['succeeded']}/{v['trials']['total']}",
                v["trials"]["failed"],
                f"{shown_objective(optimal, _metric(record))} ({optimal.name})" if optimal else "-",
            ]
        )
    table(["namespace", "name", "status", "reason", "succeeded", "failed", "best"], rows)


@click.command("trials")
@click.argument("name")
@db_option
@namespace_option
@output_option
def trials(name: str, db_url: str | None, namespace: str, output: str) -> None:
    """List the trials of an experiment with their parameters and metrics."""
    from katib_flows.engine import shown_objective
    from katib_flows.report import trial_view

    with open_store(db_url) as store:
        metric = _metric(store.get_experiment(namespace, name))
        records = store.list_trials(namespace, name)
    views = [trial_view(t) for t in records]
    if output != "table":
        emit(views, output)
        return
    rows = [
        [
            v["name"],
            v["status"],
            shown_objective(t, metric),
            _parameters(v),
            v["reason"],
        ]
        for t, v in zip(records, views, strict=True)
    ]
    column = "architecture" if any("architecture" in v for v in views) else "parameters"
    table(["trial", "status", "objective", column, "reason"], rows, title=f"{namespace}/{name}")


def _parameters(view: dict[str, Any]) -> str:
    """A trial's assignments on one line; a NAS trial's architecture in words, not its JSON."""
    if "architecture" in view:
        return str(view["architecture"]["summary"])
    return ", ".join(f"{a['name']}={a['value']}" for a in view["parameterAssignments"])


@click.command("best")
@click.argument("name")
@db_option
@namespace_option
@output_option
def best(name: str, db_url: str | None, namespace: str, output: str) -> None:
    """Show the optimal trial: its parameters and metrics (the Pareto front with several objectives)."""
    from katib_flows.engine import experiment_of, objectives, pareto_front
    from katib_flows.report import front_view, optimal_view

    with open_store(db_url) as store:
        record = store.get_experiment(namespace, name)
        experiment = experiment_of(record)
        single = experiment.spec.objective is None or not experiment.spec.objective.multi_objective
        if single and record.optimal_trial:
            view = optimal_view(store.get_trial(namespace, record.optimal_trial))
            if output == "table":
                emit_optimal(view)
            else:
                emit(view, output)
            return
        front = [] if single else pareto_front(experiment, store.list_trials(namespace, name))
    if not front:
        raise NotFoundError(f"experiment {namespace}/{name} has no trial with an objective value yet")
    metrics = [metric for metric, _ in objectives(experiment)]
    if output != "table":
        emit(front_view(front, metrics), output)
        return
    directions = [f"{metric} ({'max' if up else 'min'})" for metric, up in objectives(experiment)]
    views = front_view(front, metrics)
    rows = [
        [trial.name, *(f"{v:.6g}" for v in values), _parameters(view)]
        for (trial, values), view in zip(front, views, strict=True)
    ]
    table(["trial", *directions, "parameters"], rows, title=f"{namespace}/{name}: Pareto front ({len(front)} trials)")


def _metric(record: ExperimentRecord) -> str:
    """The experiment's objective metric (Katib's first objective)."""
    objective = record.spec.get("spec", {}).get("objective") or {}
    return str(objective.get("objectiveMetricName", ""))


@click.command("logs")
@click.argument("name")
@click.argument("trial")
@db_option
@namespace_option
def logs(name: str, trial: str, db_url: str | None, namespace: str) -> None:
    """Print a trial's output, as kept by the local run."""
    with open_store(db_url) as store:
        record = store.get_trial(namespace, trial)
    if record.experiment != name:
        raise NotFoundError(f"trial {trial} does not belong to experiment {namespace}/{name}")
    path = trial_log_path(namespace, name, trial)
    if not path.is_file():
        raise NotFoundError(f"no output kept for trial {trial} at {path} (it ran on another machine, or not at all)")
    click.echo(path.read_text(encoding="utf-8", errors="replace"), nl=False)


@click.command("delete")
@click.argument("name")
@db_option
@namespace_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask.")
def delete(name: str, db_url: str | None, namespace: str, yes: bool) -> None:
    """Delete an experiment, its trials, observation logs, kept output and PBT checkpoints."""
    from katib_flows.engine import delete_experiment

    with open_store(db_url) as store:
        store.get_experiment(namespace, name)
        if not yes and not click.confirm(f"delete experiment {namespace}/{name} and all its trials?", err=True):
            raise click.Abort()
        delete_experiment(store, namespace, name)
    click.echo(f"deleted {namespace}/{name}")


@click.command("stop")
@click.argument("name")
@db_option
@namespace_option
def stop(name: str, db_url: str | None, namespace: str) -> None:
    """Stop the runs of an experiment as Ctrl-C would: trials interrupted, `resume` continues it."""
    from katib_flows.engine import request_stop

    with open_store(db_url) as store:
        request_stop(store, namespace, name)
    click.echo(f"asked the runs of {namespace}/{name} to stop; `katib-flows resume {name}` continues it")
