"""``katib-flows run FILE`` and ``katib-flows resume NAME``: the local engine from the command line.

A pipeline: load and check the file, apply the command line's overrides, open the store, register the
experiment, run its lanes, report, and exit with a named code. ``resume`` finds trials left running by
a dead runner, marks them interrupted (they do not count) and runs what the budget still allows.
``--join`` (both commands) adds this process to an experiment other runners are running on the same
store: ``parallelTrialCount`` then caps all of them together and ``--parallel`` only this runner's lanes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from katib_flows.cli import _exit
from katib_flows.cli._common import db_option, load, open_store, prepare_file
from katib_flows.cli._output import emit_optimal
from katib_flows.errors import AlreadyExistsError
from katib_flows.paths import logs_dir

_progress_options = [
    click.option(
        "--join",
        is_flag=True,
        help="Run beside the other runners of this experiment on a shared store (created if it does not exist); "
        "--parallel then caps this runner's own trials.",
    ),
    click.option(
        "--lease",
        type=click.FloatRange(min=1),
        envvar="KATIB_FLOWS_LEASE_SECONDS",
        default=60.0,
        show_default=True,
        metavar="SECONDS",
        help="A trial whose runner stops renewing its lease this long is taken as abandoned and run again.",
    ),
    click.option("--deadline", type=float, metavar="SECONDS", help="End the experiment after this many seconds."),
    click.option("--quiet", "-q", is_flag=True, help="Only the final result; plain lines, no live table."),
    click.option("--verbose", "-v", is_flag=True, help="Stream every trial's output."),
]


def progress_options(fn: Any) -> Any:
    for option in reversed(_progress_options):
        fn = option(fn)
    return fn


@click.command("run")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@db_option
@click.option("--name", help="Experiment name (default: metadata.name, else the file's name).")
@click.option("--namespace", "-n", envvar="KATIB_FLOWS_NAMESPACE", help="Namespace (default: metadata.namespace).")
@click.option("--parallel", type=click.IntRange(min=1), help="Override spec.parallelTrialCount.")
@click.option("--max-trials", type=click.IntRange(min=1), help="Override spec.maxTrialCount.")
@click.option("--seed", type=click.IntRange(min=0), help="Seed of the search (default: random_state, else random).")
@progress_options
def run(
    file: Path,
    db_url: str | None,
    name: str | None,
    namespace: str | None,
    parallel: int | None,
    max_trials: int | None,
    seed: int | None,
    join: bool,
    lease: float,
    deadline: float | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """Run an Experiment on this machine: trials as local processes, results in the store."""
    from katib_flows.engine import algorithm_for, register_experiment
    from katib_flows.local import SOURCE_DIR_ANNOTATION, images

    loaded = load(file)
    spec_parallel = None if join else parallel  # with --join, --parallel is only this runner's share
    if max_trials is not None:  # the parallel trials never outnumber the budget
        spec_parallel = min(spec_parallel or loaded.spec.parallel_trial_count or 3, max_trials)
    experiment = prepare_file(
        loaded,
        file,
        name=name,
        namespace=namespace,
        default_namespace="default",
        overrides={"parallelTrialCount": spec_parallel, "maxTrialCount": max_trials},
        annotations={SOURCE_DIR_ANNOTATION: str(file.resolve().parent)},
    )
    name, namespace = experiment.name, experiment.namespace or "default"
    algorithm_for(experiment)  # an algorithm we cannot run is bad input, said before anything is stored
    for image in images(experiment):
        click.echo(f"note: image {image} is ignored locally; trials run on this machine", err=True)
    with open_store(db_url) as store:
        try:
            register_experiment(store, experiment, namespace=namespace, name=name, seed=seed)
        except AlreadyExistsError as exc:
            if not join:
                raise AlreadyExistsError(
                    f"{exc} Resume it with `katib-flows resume {name}`, add this runner to it with --join, delete "
                    f"it with `katib-flows delete {name}`, or run under another --name."
                ) from exc
            click.echo(f"joining experiment {namespace}/{name} as stored (the file's spec is not applied)", err=True)
        code = _run_lanes(store, namespace, name, lanes=parallel if join else None, lease=lease, deadline=deadline,
                          quiet=quiet, verbose=verbose)  # fmt: skip
    raise SystemExit(code)


@click.command("resume")
@click.argument("name")
@db_option
@click.option("--namespace", "-n", envvar="KATIB_FLOWS_NAMESPACE", default="default", show_default=True)
@click.option("--max-trials", type=click.IntRange(min=1), help="Raise spec.maxTrialCount to run more trials.")
@click.option(
    "--parallel", type=click.IntRange(min=1), help="Change spec.parallelTrialCount (with --join: this runner's lanes)."
)
@click.option("--force", is_flag=True, help="Take over trials whose runner ran on another host.")
@progress_options
def resume(
    name: str,
    db_url: str | None,
    namespace: str,
    max_trials: int | None,
    parallel: int | None,
    force: bool,
    join: bool,
    lease: float,
    deadline: float | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """Continue an interrupted experiment (or a finished one, with a larger --max-trials), or join its runners."""
    from katib_flows.local import take_over

    with open_store(db_url) as store:
        take_over(store, namespace, name, max_trials=max_trials, parallel=None if join else parallel, force=force,
                  join=join)  # fmt: skip
        code = _run_lanes(store, namespace, name, lanes=parallel if join else None, lease=lease, deadline=deadline,
                          quiet=quiet, verbose=verbose)  # fmt: skip
    raise SystemExit(code)


def _run_lanes(
    store: Any,
    namespace: str,
    name: str,
    *,
    lanes: int | None,
    lease: float,
    deadline: float | None,
    quiet: bool,
    verbose: bool,
) -> int:
    from katib_flows.local import LineReporter, LiveReporter, LocalRun, Reporter, RunOptions
    from katib_flows.report import optimal_view

    reporter: Reporter
    if quiet or not sys.stderr.isatty():
        reporter = LineReporter(quiet=quiet, verbose=verbose)
    else:
        reporter = LiveReporter(verbose=verbose)
    options = RunOptions(deadline=deadline, logs_dir=logs_dir(), lanes=lanes, lease=lease)
    record = LocalRun(store, namespace, name, reporter, options).run()
    best = store.get_trial(namespace, record.optimal_trial) if record.optimal_trial else None
    if best is not None and record.spec.get("spec", {}).get("objective", {}).get("additionalObjectives"):
        from katib_flows.engine import experiment_of, pareto_front

        front = pareto_front(experiment_of(record), store.list_trials(namespace, name))
        click.echo(f"Pareto front: {len(front)} trials ({', '.join(t.name for t, _ in front)}); "
                   f"`katib-flows best {name}` shows their objectives and parameters")  # fmt: skip
    elif best is not None:
        click.echo("best trial:")
        emit_optimal(optimal_view(best))
    else:
        click.echo("no trial succeeded with the objective metric", err=True)
    return exit_code(record)


def exit_code(record: Any) -> int:
    """The named exit code of a run from the experiment's final condition."""
    condition = record.condition.value
    if condition == "Failed":
        return _exit.EXPERIMENT_FAILED
    if condition != "Succeeded":
        return _exit.INTERRUPTED
    objective = record.spec.get("spec", {}).get("objective", {})
    # With several objectives the goal is ignored (the spec rules warn), so it cannot be missed either.
    goal = None if objective.get("additionalObjectives") else objective.get("goal")
    if goal is not None and record.reason != "ExperimentGoalReached":
        return _exit.GOAL_NOT_REACHED
    return _exit.SUCCEEDED
