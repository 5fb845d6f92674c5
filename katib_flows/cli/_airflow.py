"""``compile --engine airflow`` and ``submit --engine airflow``: the command line's side of Airflow.

Called by ``_compile.compile_command`` and ``_submit.submit`` when ``--engine airflow`` is given. Compiling
loads and checks the Experiment as the Argo path does (the same loader, name rules and folder layout) and
writes one DAG file per Experiment with ``katib_flows.airflow.compile_dag``; ``--all DIR`` writes
``DIR/dags/`` (the DAG folder to commit and deploy) and ``--check`` compares instead of writing. Submitting
sends the checked Experiment as the conf of a run of the generic DAG through Airflow's REST API, then
follows the experiment in the store as ``watch`` does. Airflow itself is never imported here.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from katib_flows.cli import _exit
from katib_flows.errors import CompileError, NotFoundError

DAGS_DIR = "dags"
_MARK = "# --- katib-flows data: "  # every DAG file we write carries it; others in DAGS_DIR are left alone

airflow_compile_options = [
    click.option("--dag-id", help="--engine airflow: the DAG id (default: katib_flows.NAMESPACE.NAME)."),
    click.option(
        "--db-variable",
        metavar="NAME",
        help="--engine airflow: the Airflow Variable holding the store URL (default: katib_flows_db).",
    ),
    click.option(
        "--workdir", metavar="DIR", help="--engine airflow: where the steps and local trials run on the workers."
    ),
    click.option("--executor", help="--engine airflow: the tasks' Airflow executor (default: the deployment's)."),
]


def dag_options(step: dict[str, Any]) -> Any:
    from katib_flows.airflow import DagOptions

    defaults = DagOptions()
    options = DagOptions(
        dag_id=step.get("dag_id"),
        db_variable=step.get("db_variable") or defaults.db_variable,
        trial_runner=step.get("trial_runner") or defaults.trial_runner,
        workdir=step.get("workdir"),
        executor=step.get("executor"),
    )
    try:
        options.check()
    except CompileError as exc:  # a bad option, not our bug
        raise click.UsageError(str(exc)) from exc
    return options


def dag_text(loaded: Any, file: Path, step: dict[str, Any], *, name: str | None) -> str:
    """The DAG file of one loaded Experiment, under the command line's name and namespace."""
    from katib_flows.airflow import compile_dag
    from katib_flows.cli._common import prepare_file

    experiment = prepare_file(loaded, file, name=name, namespace=step.get("namespace"), default_namespace="default")
    namespace = experiment.metadata.namespace or "default"
    return compile_dag(experiment, name=experiment.name, namespace=namespace, options=dag_options(step))


def compile_file(file: Path, out: Path | None, step: dict[str, Any], *, name: str | None) -> None:
    from katib_flows.cli._common import load
    from katib_flows.cli._output import write

    write(dag_text(load(file), file, step, name=name), out)


def compile_folder(folder: Path, step: dict[str, Any], *, check: bool) -> None:
    """Every Experiment file of ``folder`` (not below it) as a DAG file in ``folder/dags/``."""
    from katib_flows.cli._compile import render_folder, sync_folder

    target = folder / DAGS_DIR
    expected = render_folder(
        folder,
        lambda experiment, path: (
            target / f"{path.stem.replace('-', '_')}.py",
            dag_text(experiment, path, step, name=None),
        ),
    )
    existing = {p for p in target.glob("*.py") if _MARK in p.read_text(encoding="utf-8")} if target.is_dir() else set()
    command = f"katib-flows compile --all {folder} --engine airflow"
    sync_folder(folder, target, expected, existing, check=check, command=command)


airflow_submit_options = [
    click.option("--dag-id", help="--engine airflow: the DAG to trigger (default: katib_flows_experiment)."),
    click.option(
        "--airflow-url", envvar="AIRFLOW_URL", metavar="URL", help="--engine airflow: the api-server ($AIRFLOW_URL)."
    ),
    click.option("--airflow-user", envvar="AIRFLOW_USERNAME", help="--engine airflow: user ($AIRFLOW_USERNAME)."),
    click.option(
        "--airflow-password", envvar="AIRFLOW_PASSWORD", help="--engine airflow: password ($AIRFLOW_PASSWORD)."
    ),
    click.option(
        "--airflow-token", envvar="AIRFLOW_TOKEN", help="--engine airflow: a JWT instead of user and password."
    ),
]


SUBMIT_KEYS = ("dag_id", "airflow_url", "airflow_user", "airflow_password", "airflow_token")


def submit(file: Path, *, name: str | None, namespace: str | None, options: dict[str, Any]) -> Any:
    """Trigger the generic DAG with ``file``'s checked Experiment as conf: (client, run, name, namespace)."""
    from katib_flows.airflow import GENERIC_DAG_ID, AirflowApi
    from katib_flows.cli._common import load, prepare_file
    from katib_flows.errors import ClusterError

    if not options.get("airflow_url"):
        raise click.UsageError("--engine airflow needs --airflow-url http://HOST:PORT (or AIRFLOW_URL)")
    experiment = prepare_file(load(file), file, name=name, namespace=namespace, default_namespace="default")
    try:
        api = AirflowApi(
            options["airflow_url"],
            token=options.get("airflow_token"),
            username=options.get("airflow_user"),
            password=options.get("airflow_password"),
        )
    except ClusterError as exc:  # a malformed URL or no credentials at all: the command line's fault
        raise click.UsageError(str(exc)) from exc
    namespace = experiment.metadata.namespace or "default"
    spec = json.dumps(experiment.dump(), sort_keys=True, ensure_ascii=False)
    conf = {"experiment": experiment.name, "namespace": namespace, "experiment_spec": spec}
    run = api.trigger(options.get("dag_id") or GENERIC_DAG_ID, conf)
    return api, run, experiment.name, namespace


def wait_registered(store: Any, api: Any, run: Any, namespace: str, name: str, *, interval: float) -> None:
    """Wait until the run's ``init`` task registered the experiment (``watch`` follows the store from then on);
    a run that ends first is said with its URL and exit code 3."""
    while True:
        try:
            store.get_experiment(namespace, name)
            return
        except NotFoundError:
            state = api.dag_run(run.dag_id, run.run_id).state
        if state in ("failed", "success"):
            click.echo(
                f"error: the Airflow DAG run ended {state} before registering the experiment: {run.url}", err=True
            )
            raise SystemExit(_exit.EXPERIMENT_FAILED)
        time.sleep(interval)
