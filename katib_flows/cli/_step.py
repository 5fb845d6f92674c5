"""``katib-flows step init|suggest|trial|release|finish``: what each step of a compiled Workflow runs.

Called by Argo (one verb per template of ``katib_flows.argo``), never by people. Each verb is a small
pipeline over the engine: open the store (URL from ``KATIB_FLOWS_DB``, set from a Secret), decide, write
the step's output parameters as files under ``--outputs`` for Argo to read, print a line for the log.
Every verb is idempotent, because Argo retries a failed step:

- ``init`` registers the Experiment unless it is already there, reading the ``experiment-spec``
  parameter from its own Workflow object through the API (never substituted into the template, where
  Argo would resolve the ``{{...}}`` tags it may hold); it interrupts the trials of an earlier Workflow
  of the experiment that ended without its exit handler (``argo terminate``, a deleted Workflow), and
  prints the lane ids (a finished experiment has none) and the iterations per lane of this generation.
- ``suggest`` claims the next trial for (Workflow, lane, iteration), stamping that triple as the trial's
  runner, so a retried suggest finds the trial it claimed instead of claiming another.
- ``trial`` runs a claimed trial to its end and records it; a finished trial is left as it is, and a trial
  whose object an earlier attempt created is followed, not created again (``katib_flows.kube``).
- ``release`` (Airflow, when a trial task failed after its retries) marks the trial that task claimed as
  interrupted, so it gives back its place under ``parallelTrialCount`` to the run's other slots.
- ``finish`` (the exit handler) marks trials its generation left running as interrupted (they do not
  count and run again), records the experiment's status, and hands off to the next generation when the
  lanes ended at the recursion limit (``katib_flows.argo._handoff``). With ``--no-hand-off`` (Airflow)
  it only says, as the ``more`` output, whether a next run should continue the experiment.

Exit codes: 0 done (a failed trial is a result, not a step failure), 2 bad input (not retried), anything
else is retried by the Workflow's retryStrategy.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from katib_flows.argo import _names as n
from katib_flows.cli._common import db_option, open_store
from katib_flows.errors import AlreadyExistsError, NotFoundError, SpecError

#: ``local`` runs a trial's primary container command beside the step (the conformance tests, or
#: ``compile --trial-runner local``); ``kubernetes`` (the default) creates the trial's object in the cluster
#: (``katib_flows.kube``); both run through ``_trial_step``.
TRIAL_RUNNER_ENV = n.TRIAL_RUNNER_ENV

_experiment = click.option("--experiment", "experiment", required=True, help="Experiment name.")
_namespace = click.option("--namespace", "namespace", required=True, help="Namespace of the experiment.")
_outputs = click.option(
    "--outputs",
    type=click.Path(path_type=Path, file_okay=False),
    default=n.OUTPUTS_DIR,
    show_default=True,
    help="Folder for the output parameter files.",
)

# A lane's place in its generation: with the Workflow, the runner its claims are stamped with (``n.runner_of``).
_lane = click.option("--lane", type=click.IntRange(min=0), required=True)
_iteration = click.option("--iteration", type=click.IntRange(min=0), required=True)


@click.group("step")
def step() -> None:
    """The steps of a compiled Argo Workflow (run by Argo, not by people)."""


def _write(outputs: Path, values: dict[str, str]) -> None:
    outputs.mkdir(parents=True, exist_ok=True)
    for name, value in values.items():
        (outputs / name).write_text(value, encoding="utf-8")


@step.command("init")
@_experiment
@_namespace
@db_option
@click.option("--generation", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--workflow", required=True, help="Name of the running Workflow, whose experiment-spec is read.")
@click.option("--iterations", type=click.IntRange(min=1), default=n.DEFAULT_GENERATION_ITERATIONS,
              show_default=True, help="Most iterations of a lane per generation (fewer for many lanes).")  # fmt: skip
@click.option(
    "--spec-file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Read the Experiment from this file, not from the Workflow (an Airflow DAG run has no Workflow).",
)
@_outputs
def init(
    experiment: str,
    namespace: str,
    db_url: str | None,
    generation: int,
    workflow: str,
    iterations: int,
    spec_file: Path | None,
    outputs: Path,
) -> None:
    """Register the experiment (once) and print its lane ids as a JSON list."""
    from katib_flows.argo._cluster import workflows_from_env
    from katib_flows.engine import Counts, experiment_of

    if not experiment:
        raise SpecError("the Workflow parameter `experiment` is empty: give the experiment a name")
    workflows = None if spec_file else workflows_from_env()
    if workflows is None:
        text = spec_file.read_text(encoding="utf-8") if spec_file else ""
    else:
        text = _spec_parameter(workflows.get(namespace, workflow))
    too_large = n.spec_too_large(len(text.encode()))
    if too_large:  # the template path: nothing checked the pasted Experiment before
        raise SpecError(f"experiment-spec: {too_large}")
    with open_store(db_url) as store:
        try:
            record = store.get_experiment(namespace, experiment)
        except NotFoundError:
            if generation > 0:
                raise NotFoundError(
                    f"generation {generation} of experiment {namespace}/{experiment} started, but the store has no "
                    "such experiment; was it deleted? Submit generation 0 again to start over"
                ) from None
            record = _register(store, experiment, namespace, text)
        else:
            if generation == 0 and text.strip():
                submitted = _checked(text, experiment, namespace).dump()["spec"]
                if submitted != (record.spec.get("spec") or {}):
                    raise AlreadyExistsError(
                        f"experiment {experiment!r} already exists in namespace {namespace!r} with another spec; "
                        f"delete it (katib-flows delete {experiment} -n {namespace}) or submit under another name"
                    )
            if workflows is not None:
                _reconcile(store, workflows, namespace, experiment, workflow)
        spec = experiment_of(record).spec
        parallel = spec.parallel_trial_count or 1
        if workflows is not None and parallel > n.MAX_LANES:
            raise SpecError(
                f"spec.parallelTrialCount {parallel} is above {n.MAX_LANES}, the widest experiment one Argo Workflow "
                "keeps status for; lower it"
            )
        lanes = [] if record.condition.terminal else list(range(parallel))
        left = n.NONE
        if spec.max_trial_count is not None:  # Airflow maps one task per trial the budget has left
            left = str(max(0, spec.max_trial_count - Counts.of(store.list_trials(namespace, experiment)).total))
    per_lane = n.iterations_for(parallel, iterations)
    _write(outputs, {n.O_LANES: json.dumps(lanes), n.O_ITERATIONS: str(per_lane), n.O_BUDGET_LEFT: left})
    click.echo(
        f"experiment {namespace}/{experiment} ({record.condition.value}), generation {generation}: lanes {lanes}, "
        f"{per_lane} iterations each"
    )


def _spec_parameter(workflow: dict[str, Any]) -> str:
    """The ``experiment-spec`` argument as submitted: the Workflow's own, else its template's default."""
    specs = [workflow.get("spec") or {}, (workflow.get("status") or {}).get("storedWorkflowTemplateSpec") or {}]
    for spec in specs:
        for parameter in (spec.get("arguments") or {}).get("parameters") or []:
            if parameter.get("name") == n.P_SPEC and parameter.get("value") is not None:
                return str(parameter["value"])
    return ""


def _reconcile(store: Any, workflows: Any, namespace: str, experiment: str, current: str) -> None:
    """Interrupt the trials of another Workflow of this experiment that ended without its exit handler.

    ``argo terminate`` and deleting a Workflow skip ``finish``, which would have interrupted them; left
    Running, they would hold lanes' budget forever. A Workflow still running keeps its trials.
    """
    from katib_flows.engine import interrupt_trial

    phases: dict[str, str | None] = {}
    for left in store.active_trials(namespace, experiment):
        owner = n.workflow_of_runner(left.runner)
        if owner is None or owner == current:
            continue
        if owner not in phases:
            try:
                phases[owner] = ((workflows.get(namespace, owner).get("status") or {}).get("phase")) or "Running"
            except NotFoundError:
                phases[owner] = None
        if phases[owner] in n.RUNNING_PHASES:
            continue
        ended = "was deleted" if phases[owner] is None else f"ended {phases[owner]}"
        interrupt_trial(store, namespace, left.name, f"Workflow {owner} {ended} without its exit handler")
        click.echo(f"trial {left.name}: interrupted (Workflow {owner} {ended} without its exit handler)")


def _checked(text: str, name: str, namespace: str) -> Any:
    from katib_flows.spec import load_text, prepare

    if not text.strip():
        raise SpecError(
            f"experiment {namespace}/{name} is not in the store and the Workflow parameter `experiment-spec` "
            "is empty: paste the Experiment YAML into it"
        )
    loaded = load_text(text, source="experiment-spec")
    assert loaded.experiment is not None
    for warning in loaded.warnings:
        click.echo(warning.format(), err=True)
    return prepare(loaded.experiment.dump(), source="experiment-spec", name=name, namespace=namespace)


def _register(store: Any, name: str, namespace: str, text: str) -> Any:
    from katib_flows.engine import algorithm_for, register_experiment

    experiment = _checked(text, name, namespace)
    algorithm_for(experiment)  # an algorithm we cannot run is bad input, said before anything is stored
    try:
        return register_experiment(store, experiment, namespace=namespace, name=name)
    except AlreadyExistsError:  # a concurrent or retried init registered it first
        return store.get_experiment(namespace, name)


@step.command("suggest")
@_experiment
@_namespace
@db_option
@_lane
@_iteration
@click.option("--iterations", type=click.IntRange(min=1), required=True, help="Iterations of a lane per generation.")
@click.option("--workflow", required=True, help="Name of the running Workflow.")
@click.option("--wait-seconds", type=click.FloatRange(min=0), default=60.0, show_default=True)
@click.option(
    "--attempt",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Which attempt of the task this is (Airflow, where one task claims and runs a trial): from the second "
    "on, a trial an earlier attempt claimed is marked interrupted, since its worker may have died mid-trial.",
)
@_outputs
def suggest(
    experiment: str,
    namespace: str,
    db_url: str | None,
    lane: int,
    iteration: int,
    iterations: int,
    workflow: str,
    wait_seconds: float,
    attempt: int,
    outputs: Path,
) -> None:
    """Claim the lane's next trial; outputs status (trial|wait|done), trial, next (continue|stop)."""
    from katib_flows.engine import Claimed, Done, claim_waiting, interrupt_trial

    runner = n.runner_of(workflow, lane, iteration)
    status, trial, why = n.STATUS_WAIT, n.NONE, ""
    with open_store(db_url) as store:
        mine = _claimed(store, namespace, experiment, runner)
        if mine is not None and attempt > 1:
            interrupt_trial(store, namespace, mine.name, f"attempt {attempt - 1} of its task was lost")
            click.echo(f"trial {mine.name} interrupted: attempt {attempt - 1} of its task was lost; it runs again")
            mine = None
        if mine is not None:
            status, trial, why = n.STATUS_TRIAL, mine.name, "claimed before this retry"
        else:
            result = claim_waiting(store, namespace, experiment, lane=lane, runner=runner, wait_seconds=wait_seconds)
            if isinstance(result, Claimed):
                status, trial, why = n.STATUS_TRIAL, result.trial.name, str(result.trial.assignments)
            else:
                status, why = (n.STATUS_DONE if isinstance(result, Done) else n.STATUS_WAIT), result.reason
    more = status != n.STATUS_DONE and iteration + 1 < iterations
    _write(
        outputs,
        {
            n.O_STATUS: status,
            n.O_TRIAL: trial,
            n.O_NEXT: n.NEXT_CONTINUE if more else n.NEXT_STOP,
            n.O_NEXT_ITERATION: str(iteration + 1),
        },
    )
    click.echo(f"lane {lane} iteration {iteration}: {status} {trial if status == n.STATUS_TRIAL else ''} ({why})")


@step.command("trial")
@_experiment
@_namespace
@db_option
@click.option("--trial", "trial_name", required=True)
@click.option("--workflow", required=True, help="Name of the running Workflow (owner of the trial's object).")
@click.option("--workflow-uid", default="", help="UID of the running Workflow, for the ownerReference.")
def trial(
    experiment: str, namespace: str, db_url: str | None, trial_name: str, workflow: str, workflow_uid: str
) -> None:
    """Run a claimed trial to its end, collect its metrics and record its outcome."""
    from katib_flows.cli._trial_step import run_trial

    runner = os.environ.get(TRIAL_RUNNER_ENV, "kubernetes")
    if runner not in ("kubernetes", "local"):
        raise SpecError(f"{TRIAL_RUNNER_ENV} must be kubernetes or local, got {runner!r}")
    with open_store(db_url) as store:
        record = store.get_trial(namespace, trial_name)
        if record.status.terminal:
            click.echo(f"trial {trial_name} already finished: {record.status.value} ({record.reason})")
            return
        finished = run_trial(runner, store, namespace, experiment, record, workflow=workflow, workflow_uid=workflow_uid)
    click.echo(f"trial {trial_name}: {finished.status.value} ({finished.reason}) objective={finished.objective_value}")


@step.command("release")
@_experiment
@_namespace
@db_option
@_lane
@_iteration
@click.option("--workflow", required=True, help="Name of the running Workflow.")
def release(experiment: str, namespace: str, db_url: str | None, lane: int, iteration: int, workflow: str) -> None:
    """Interrupt the trial (Workflow, lane, iteration) claimed, if it is still active: its task failed for good."""
    from katib_flows.engine import interrupt_trial

    runner = n.runner_of(workflow, lane, iteration)
    with open_store(db_url) as store:
        mine = _claimed(store, namespace, experiment, runner)
        if mine is not None:
            interrupt_trial(store, namespace, mine.name, "its task failed after its retries")
            click.echo(f"trial {mine.name} interrupted: its task failed after its retries; its place is free again")


def _claimed(store: Any, namespace: str, experiment: str, runner: str) -> Any:
    """The active trial ``runner`` (a Workflow's lane and iteration) claimed, or None; it claims at most one,
    since a retried ``suggest`` finds it instead of claiming another."""
    return next((t for t in store.active_trials(namespace, experiment) if t.runner == runner), None)


@step.command("finish")
@_experiment
@_namespace
@db_option
@click.option("--workflow", required=True, help="Name of the running Workflow.")
@click.option("--workflow-status", required=True, help="{{workflow.status}}: Succeeded, Failed or Error.")
@click.option("--generation", type=click.IntRange(min=0), default=0, show_default=True)
@click.option(
    "--hand-off/--no-hand-off",
    "submit_next",
    default=True,
    show_default=True,
    help="Submit the next Argo generation when the lanes stopped at the limit (Airflow: the DAG triggers its "
    "next run itself when the `more` output says so).",
)
@_outputs
def finish(
    experiment: str,
    namespace: str,
    db_url: str | None,
    workflow: str,
    workflow_status: str,
    generation: int,
    submit_next: bool,
    outputs: Path,
) -> None:
    """Record the experiment's status; submit the next generation when the lanes stopped at the limit."""
    from katib_flows.engine import REASON_INTERRUPTED, evaluate_experiment, interrupt_trial

    prefix = n.runner_prefix(workflow)
    next_workflow, note, more = n.NONE, "", False
    with open_store(db_url) as store:
        try:
            store.get_experiment(namespace, experiment)
        except NotFoundError:
            _write(outputs, {n.O_CONDITION: n.NONE, n.O_NEXT_WORKFLOW: n.NONE, n.O_MORE: "false"})
            click.echo(f"experiment {namespace}/{experiment} was never registered; nothing to finish")
            return
        for left in store.active_trials(namespace, experiment):
            if left.runner and left.runner.startswith(prefix):
                interrupt_trial(store, namespace, left.name, f"Workflow {workflow} ended while the trial ran")
        record = evaluate_experiment(store, namespace, experiment)
        progressed = any(
            t.runner and t.runner.startswith(prefix) and t.status.terminal and t.reason != REASON_INTERRUPTED
            for t in store.list_trials(namespace, experiment)
        )
        if record.condition.terminal:
            note = f"{record.reason}: {record.message}"
        elif workflow_status != "Succeeded":
            note = (
                f"the Workflow ended {workflow_status}; not continuing (submit generation {generation + 1} to resume)"
            )
        elif not progressed:
            note = "this generation finished no trial; not continuing, to avoid an endless chain of empty Workflows"
        elif not submit_next:
            more = True
            note = f"the experiment needs more trials: generation {generation + 1} may continue it from the store"
        else:
            more = True
            from katib_flows.argo._cluster import workflows_from_env
            from katib_flows.argo._handoff import hand_off

            next_workflow = hand_off(workflows_from_env(), namespace, workflow, generation + 1)
            note = f"the lanes reached the generation limit; generation {generation + 1} is {next_workflow}"
        _write(
            outputs,
            {
                n.O_CONDITION: record.condition.value,
                n.O_NEXT_WORKFLOW: next_workflow,
                n.O_MORE: "true" if more else "false",
            },
        )
    summary = {
        "experiment": experiment,
        "namespace": namespace,
        "condition": record.condition.value,
        "reason": record.reason,
        "optimalTrial": record.optimal_trial,
        "nextWorkflow": None if next_workflow == n.NONE else next_workflow,
        "note": note,
    }
    click.echo(json.dumps(summary))
