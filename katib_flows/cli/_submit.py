"""``katib-flows submit FILE`` and ``katib-flows watch NAME``: run an Experiment on a cluster, and follow it.

``submit`` is ``compile`` (the same loader, checks and compiler, through ``compiled_workflow``) and one
call to Argo Server (``katib_flows.argo.submit``, which ``Experiment.submit`` uses too); with ``--wait``
it then does what ``watch`` does. ``watch`` follows the experiment in the store the cluster writes to
(``--db``/``KATIB_FLOWS_DB``) with the displays of a local run, until it ends, prints the best trial and
exits with the codes of ``run``; given an Argo Server it also shows the Workflow's phase, and stops with
the Workflow's message when the Workflow ends first. Argo Server is found as the ``argo`` CLI finds it
(``ARGO_SERVER``, ``ARGO_TOKEN``, ``ARGO_INSECURE_SKIP_VERIFY``); hera is imported only when compiling.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from katib_flows.cli import _airflow, _exit
from katib_flows.cli._common import db_option, load, namespace_option, open_store, prepare_file
from katib_flows.cli._compile import engine_option, step_options
from katib_flows.cli._output import emit, output_option
from katib_flows.errors import ClusterError, NotFoundError
from katib_flows.paths import resolve_db_url

if TYPE_CHECKING:
    from katib_flows.argo import ArgoServer, Submitted
    from katib_flows.local import Reporter
    from katib_flows.store import ExperimentRecord, Store

_argo_options = [
    click.option(
        "--argo-server",
        envvar="ARGO_SERVER",
        metavar="URL",
        help="Argo Server: HOST:PORT (https; ARGO_SECURE=false for http) or a URL. Default: $ARGO_SERVER.",
    ),
    click.option(
        "--token",
        envvar="ARGO_TOKEN",
        metavar="TOKEN",
        help="Token for Argo Server, with or without `Bearer ` (`argo auth token` prints one). Default: $ARGO_TOKEN.",
    ),
    click.option(
        "--insecure-skip-verify",
        "insecure",
        is_flag=True,
        envvar="ARGO_INSECURE_SKIP_VERIFY",
        help="Do not check Argo Server's TLS certificate (its default one is self-signed).",
    ),
]
_follow_options = [
    click.option(
        "--interval",
        type=click.FloatRange(min=0.0, min_open=True),
        default=2.0,
        show_default=True,
        metavar="SECONDS",
        help="How often to read the store (and Argo Server).",
    ),
    click.option("--quiet", "-q", is_flag=True, help="Only the final result; plain lines, no live table."),
]


def _options(options: list[Any]) -> Callable[[Any], Any]:
    def apply(fn: Any) -> Any:
        for option in reversed(options):
            fn = option(fn)
        return fn

    return apply


@click.command("submit")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@engine_option
@click.option("--name", help="Experiment and Workflow name; default: metadata.name, else the file's name.")
@click.option(
    "--namespace", "-n", envvar="KATIB_FLOWS_NAMESPACE", help="Namespace; default: metadata.namespace, else default."
)
@_options(_argo_options)
@_options(_airflow.airflow_submit_options)
@step_options
@click.option("--wait/--no-wait", default=False, show_default=True, help="Follow the experiment until it ends.")
@db_option
@_options(_follow_options)
@output_option
def submit(
    file: Path,
    engine: str,
    name: str | None,
    namespace: str | None,
    argo_server: str | None,
    token: str | None,
    insecure: bool,
    wait: bool,
    db_url: str | None,
    interval: float,
    quiet: bool,
    output: str,
    **step: Any,
) -> None:
    """Submit an Experiment to Argo Server as a Workflow, or to Airflow as a run of the generic DAG."""
    from katib_flows import argo
    from katib_flows.argo._options import StepOptions
    from katib_flows.build import BuildOptions
    from katib_flows.cli._compile import _Settings, compiled_workflow
    from katib_flows.cli._options import from_values

    airflow = {key: step.pop(key) for key in _airflow.SUBMIT_KEYS}
    if engine == "airflow":
        with open_store(db_url) if wait else nullcontext() as store:  # a wrong --db fails before the run starts
            api, run, experiment, namespace = _airflow.submit(file, name=name, namespace=namespace, options=airflow)
            if not wait:
                _say(run.to_dict(), output, f"triggered Airflow DAG run {run.dag_id}/{run.run_id}: {run.url}")
                return
            if output == "table":
                click.echo(f"triggered Airflow DAG run {run.dag_id}/{run.run_id}: {run.url}")
            assert store is not None
            _airflow.wait_registered(store, api, run, namespace, experiment, interval=interval)
            code = _follow(store, namespace, experiment, None, interval=interval, quiet=quiet, output=output,
                           extra=run.to_dict())  # fmt: skip
        raise SystemExit(code)
    server = _server(argo_server, token, insecure)
    experiment = prepare_file(load(file), file, name=name, namespace=namespace, default_namespace="default")
    settings = _Settings("json", experiment.namespace, BuildOptions(from_values(StepOptions, step)))
    workflow = compiled_workflow(experiment, settings, source=str(file))
    namespace, name = experiment.namespace or "default", experiment.name
    with _cluster_errors():
        if not wait:
            submitted = argo.submit(server, workflow, namespace=namespace)
            _say_submitted(submitted, output, db_url)
            return
        if resolve_db_url(db_url).startswith("sqlite"):
            click.echo(
                f"note: following {resolve_db_url(db_url)}, a SQLite file on this machine; a cluster's steps write "
                "to the store in their Secret: give that URL with --db (or KATIB_FLOWS_DB)",
                err=True,
            )
        with open_store(db_url) as store:  # a wrong --db fails here, before anything is created
            _say_if_ended(store, namespace, name)
            submitted = argo.submit(server, workflow, namespace=namespace)
            if output == "table":
                click.echo(_submitted_line(submitted))
            code = _follow(store, namespace, name, server, interval=interval, quiet=quiet, output=output,
                           extra=submitted.to_dict())  # fmt: skip
    raise SystemExit(code)


@click.command("watch")
@click.argument("name")
@namespace_option
@db_option
@_options(_argo_options)
@_options(_follow_options)
@output_option
def watch(
    name: str,
    namespace: str,
    db_url: str | None,
    argo_server: str | None,
    token: str | None,
    insecure: bool,
    interval: float,
    quiet: bool,
    output: str,
) -> None:
    """Follow an experiment running on a cluster until it ends; print its best trial (exit codes as `run`)."""
    server = _server(argo_server, token, insecure) if argo_server else None
    with _cluster_errors(), open_store(db_url) as store:
        code = _follow(store, namespace, name, server, interval=interval, quiet=quiet, output=output)
    raise SystemExit(code)


def _server(url: str | None, token: str | None, insecure: bool) -> ArgoServer:
    from katib_flows.argo import ArgoServer

    if not url:
        raise click.UsageError(
            "give --argo-server HOST:PORT or set ARGO_SERVER (from a laptop: "
            "`kubectl -n argo port-forward svc/argo-server 2746:2746`, then --argo-server localhost:2746)"
        )
    try:
        return ArgoServer.from_env(url, token, insecure)
    except ClusterError as exc:
        raise click.UsageError(str(exc)) from exc


def _say(data: dict[str, Any], output: str, line: str) -> None:
    if output == "table":
        click.echo(line)
    else:
        emit(data, output)


def _say_submitted(submitted: Submitted, output: str, db_url: str | None) -> None:
    if output != "table":
        emit(submitted.to_dict(), output)
        return
    click.echo(_submitted_line(submitted))
    db = f" --db {db_url}" if db_url else ""
    click.echo(f"follow it with `katib-flows watch {submitted.name} -n {submitted.namespace}{db}`", err=True)


def _say_if_ended(store: Store, namespace: str, name: str) -> None:
    """A finished experiment of that name makes the new Workflow run nothing: say so before waiting on it."""
    try:
        before = store.get_experiment(namespace, name)
    except NotFoundError:
        return
    if before.condition.terminal:
        click.echo(
            f"note: experiment {namespace}/{name} already ended in this store ({before.reason}), so the Workflow "
            f"runs no trial; to start over, `katib-flows delete {name} -n {namespace}` first, or submit with --name",
            err=True,
        )


def _submitted_line(submitted: Submitted) -> str:
    return f"submitted Workflow {submitted.namespace}/{submitted.name} (uid {submitted.uid or '-'})"


@contextmanager
def _cluster_errors() -> Iterator[None]:
    """An ended Workflow as one line and its exit code (``main`` turns Argo Server's refusals into CLUSTER_ERROR)."""
    from katib_flows.argo import WorkflowEndedError

    try:
        yield
    except WorkflowEndedError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(_exit.EXPERIMENT_FAILED) from None


def _follow(
    store: Store,
    namespace: str,
    name: str,
    server: ArgoServer | None,
    *,
    interval: float,
    quiet: bool,
    output: str,
    extra: dict[str, Any] | None = None,
) -> int:
    """Follow to the end, print the result (the best trial, or the experiment's view for scripts), the exit code."""
    from katib_flows.argo import follow
    from katib_flows.cli._run import exit_code
    from katib_flows.report import experiment_view, optimal_view

    reporter, note = _display(quiet)
    try:
        record = follow(store, namespace, name, reporter, server=server, interval=interval, note=note)
    except KeyboardInterrupt:
        click.echo(
            f"stopped watching; the experiment runs on: `katib-flows watch {name} -n {namespace}` follows it again",
            err=True,
        )
        return _exit.INTERRUPTED
    if output != "table":
        emit({**(extra or {}), "experiment": experiment_view(record, store.list_trials(namespace, name))}, output)
    else:
        _print_best(store, record, optimal_view)
    return exit_code(record)


def _print_best(store: Store, record: ExperimentRecord, view: Callable[[Any], Any]) -> None:
    """What ``run`` prints at the end: the best trial, or with several objectives the Pareto front's size."""
    if record.optimal_trial and record.spec.get("spec", {}).get("objective", {}).get("additionalObjectives"):
        from katib_flows.engine import experiment_of, pareto_front

        front = pareto_front(experiment_of(record), store.list_trials(record.namespace, record.name))
        click.echo(
            f"Pareto front: {len(front)} trials ({', '.join(t.name for t, _ in front)}); "
            f"`katib-flows best {record.name} -n {record.namespace}` shows their objectives and parameters"
        )
    elif record.optimal_trial:
        click.echo("best trial:")
        emit(view(store.get_trial(record.namespace, record.optimal_trial)), "yaml")
    else:
        click.echo("no trial succeeded with the objective metric", err=True)


def _display(quiet: bool) -> tuple[Reporter, Callable[[str], None]]:
    """The local run's displays: a live table on a terminal, lines elsewhere; ``note`` prints beside them."""
    from katib_flows.local import LineReporter, LiveReporter

    if quiet or not sys.stderr.isatty():
        return LineReporter(quiet=quiet), (lambda text: None) if quiet else (lambda text: click.echo(text, err=True))
    live = LiveReporter()
    return live, lambda text: live.console.print(text, markup=False, highlight=False)
