"""A Katib v1beta1 Experiment as an Airflow DAG, written by ``katib-flows compile --engine airflow``.

The code of this file is the same in every DAG katib-flows writes and in the generic DAG
``katib_flows_experiment``: only the data block below differs. The Experiment is data (a JSON string
literal, read with ``json.loads`` when Airflow parses the file), never code, so no parameter name or
value can change what runs. The generic DAG leaves ``EXPERIMENT`` empty and takes the Experiment from
the run's params: paste it into Airflow's "Trigger DAG" form, or ``katib-flows submit --engine airflow``.

    init ──> trial × N (mapped: one task instance per trial, named after it;
                        at most parallelTrialCount at once) ──> finish (always runs)
                                                              ──> plan_next_run ──> next_run

Every task runs a ``katib-flows step`` verb, the same verbs an Argo Workflow of the same Experiment runs,
as a process on the worker, with the store URL from an Airflow Variable (or ``KATIB_FLOWS_DB`` in the
worker's environment). ``init`` registers the experiment and maps one ``trial`` task instance per trial
the budget has left; each claims a trial (``suggest``), then runs and records it (``trial``); a freed
slot is refilled at once, without waiting for the slowest trial. A retried ``trial`` task marks the
trial its lost attempt claimed as interrupted (it does not count) and claims a new one. Once the
experiment needs no more trials, the remaining instances skip. ``finish`` records the final status and
marks trials a failed task left behind as interrupted.

One run maps at most ``max_slots`` trials (Airflow's ``max_map_length`` is 1024). A run that ran a trial
in every one of its ``max_slots`` slots, with no task failed, while the experiment still needs trials
(``finish`` says ``more``) continues itself: ``plan_next_run`` passes the run's conf on, with its
generation one higher, and ``next_run`` (the standard provider's ``TriggerDagRunOperator``) triggers the
next run of this DAG, ``<first run id>__generation_<n>``; the store holds the state, so nothing is lost.
A failed task stops the chain (its run fails instead; trigger the DAG again to resume), and so does an
experiment that ended (goal, budget, failures).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import DAG, Param, Variable, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

# --- katib-flows data: `katib-flows compile --engine airflow` writes what is between these lines ---
EXPERIMENT = ""
SETTINGS = (
    "{\"command\":[\"katib-flows\"],\"dag_id\":\"katib_flows_experiment\",\"db_variable\":\"katib_flows_db\",\"executo"
    "r\":null,\"experiment\":\"\",\"max_active_runs\":16,\"max_slots\":1000,\"namespace\":\"default\",\"parallel\":8,\"re"
    "tries\":3,\"retry_delay_seconds\":10,\"tags\":[\"katib-flows\"],\"trial_runner\":\"local\",\"workdir\":null}"
)
# --- end of katib-flows data ---

_S: dict[str, Any] = json.loads(SETTINGS)
_GENERIC = not EXPERIMENT
_TRIAL_KEY = "katib_flows_trial"  # the context key the trial's name is rendered from (map_index_template)
_BAD_INPUT = 2  # katib-flows' exit code for bad input: retrying cannot help
_GENERATION = "katib_flows_generation"  # the conf key of a run's place in its chain (0: triggered by a user)
_NTH = re.compile(r"__generation_[0-9]+$")  # what next_run appends to the first run's id


def _experiment(params: Any) -> tuple[str, str, str]:
    """(name, namespace, Experiment text): this file's, or for the generic DAG the run's params."""
    if not _GENERIC:
        return _S["experiment"], _S["namespace"], EXPERIMENT
    text = str(params.get("experiment_spec") or "")
    name = str(params.get("experiment") or "").strip() or _name_in(text)
    if not name:
        raise AirflowFailException(
            "name the experiment: fill in `experiment`, or give the pasted Experiment a metadata.name"
        )
    return name, str(params.get("namespace") or "default").strip(), text


def _name_in(text: str) -> str:
    import yaml  # Airflow depends on PyYAML; only the generic DAG reads YAML, and only for a default name

    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        return ""  # `step init` reports the YAML error with its line
    metadata = document.get("metadata") if isinstance(document, dict) else None
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name.strip() if isinstance(name, str) else ""


def _store_url() -> str:
    url = Variable.get(_S["db_variable"], default=None) or os.environ.get("KATIB_FLOWS_DB")
    if not url:
        raise AirflowFailException(
            f"no store URL: set the Airflow Variable {_S['db_variable']!r} (or KATIB_FLOWS_DB on the workers) "
            "to the katib-flows store, e.g. postgresql+psycopg://user:password@host/db"
        )
    return str(url)


def _workflow(context: Any) -> str:
    """This run's id in the store: the trials it claims are stamped with it (``step suggest``)."""
    return f"airflow/{context['dag'].dag_id}/{context['run_id']}"


def _generation(context: Any) -> int:
    """Which run of a chain this is: 0 when a user triggered it, n when run n - 1 triggered it."""
    value = (context["dag_run"].conf or {}).get(_GENERATION, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise AirflowFailException(f"conf {_GENERATION!r} must be a whole number >= 0, got {value!r}; leave it out")
    return value


def _step(verb: str, *args: str, spec: str | None = None, outputs: bool = True, context: Any = None) -> dict[str, str]:
    """Run ``katib-flows step VERB`` for this run's experiment; its output parameters by name."""
    context = context if context is not None else get_current_context()
    name, namespace, _ = _experiment(context["params"])
    env = {**os.environ, "KATIB_FLOWS_DB": _store_url(), "KATIB_FLOWS_TRIAL_RUNNER": _S["trial_runner"]}
    with tempfile.TemporaryDirectory(prefix="katib-flows-") as folder:
        argv = [*_S["command"], "step", verb, "--experiment", name, "--namespace", namespace, *args]
        if spec is not None:  # `step init` reads the Experiment from a file, never from the command line
            Path(folder, "experiment.json").write_text(spec, encoding="utf-8")
            argv += ["--spec-file", str(Path(folder, "experiment.json"))]
        if outputs:
            argv += ["--outputs", str(Path(folder, "outputs"))]
        print("$ " + shlex.join(argv), flush=True)
        code = _run(argv, env)
        if code == _BAD_INPUT:
            raise AirflowFailException(f"katib-flows step {verb}: bad input (exit {code}); see the lines above")
        if code != 0:
            raise RuntimeError(f"katib-flows step {verb} exited {code}; Airflow retries the task")
        found = Path(folder, "outputs")
        return {p.name: p.read_text(encoding="utf-8") for p in found.iterdir()} if found.is_dir() else {}


def _run(argv: list[str], env: dict[str, str]) -> int:
    """Run the step as a child process. Airflow stopping the task (SIGTERM) stops the step first, which
    marks a running trial as interrupted instead of leaving it behind; then Airflow's own handler runs."""
    child = subprocess.Popen(argv, env=env, cwd=_S["workdir"] or None)
    stopped: list[int] = []

    def forward(signum: int, frame: Any) -> None:
        stopped.append(signum)
        child.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        code = child.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
    if stopped:
        if callable(previous):
            previous(stopped[0], None)
        raise RuntimeError(f"the task was stopped (signal {stopped[0]}) while its katib-flows step ran")
    return code


@task(task_id="init")
def init() -> list[int]:
    """Register the experiment (once); one slot per trial the budget has left (none once it ended)."""
    context = get_current_context()
    _, _, spec = _experiment(context["params"])
    out = _step("init", "--generation", str(_generation(context)), "--workflow", _workflow(context), spec=spec)
    if not json.loads(out["lanes"]):
        return []
    left = out.get("budget-left", "none")
    count = _S["max_slots"] if left == "none" else min(int(left), _S["max_slots"])
    return list(range(count))


def _release(context: Any) -> None:
    """``trial``'s failure callback (it failed after its retries, or its worker was lost on the last one): the
    trial it claimed would otherwise stay Running until ``finish``, holding a place under parallelTrialCount
    that the run's other slots wait for (with one place, for ever). The slot is the task's map index."""
    slot = context["ti"].map_index
    lane, workflow = str(slot % _S["parallel"]), _workflow(context)
    _step("release", "--lane", lane, "--iteration", str(slot), "--workflow", workflow, outputs=False, context=context)


@task(
    task_id="trial",
    map_index_template="{{ katib_flows_trial }}",
    max_active_tis_per_dagrun=_S["parallel"],
    on_failure_callback=_release,
)
def trial(slot: int) -> str:
    """Claim the next trial and run it to its end; skip once the experiment needs no more trials."""
    context = get_current_context()
    workflow, attempt = _workflow(context), str(context["ti"].try_number)
    lane = str(slot % _S["parallel"])
    while True:  # `wait`: every slot is busy or the algorithm waits for results; ask again
        out = _step(
            "suggest", "--lane", lane, "--iteration", str(slot), "--iterations", str(slot + 1),
            "--workflow", workflow, "--attempt", attempt,
        )  # fmt: skip
        if out["status"] == "done":
            context[_TRIAL_KEY] = f"slot {slot}: no trial"  # type: ignore[literal-required]
            raise AirflowSkipException("the experiment needs no more trials")
        if out["status"] == "trial":
            break
    name = out["trial"]
    context[_TRIAL_KEY] = name  # type: ignore[literal-required]
    _step("trial", "--trial", name, "--workflow", workflow, outputs=False)
    return name


@task(task_id="finish", trigger_rule="all_done")
def finish() -> dict[str, str]:
    """Record the experiment's status; trials a failed task left running are marked interrupted."""
    context = get_current_context()
    workflow, generation = _workflow(context), str(_generation(context))
    return _step(
        "finish", "--workflow", workflow, "--workflow-status", "Succeeded", "--generation", generation, "--no-hand-off"
    )


@task(task_id="plan_next_run", trigger_rule="none_failed", multiple_outputs=True)
def plan_next_run(slots: Any, trials: Any, finished: Any) -> dict[str, Any]:
    """The conf and run id of the next run when this one used all its slots and the experiment needs more
    trials; skips otherwise. It does not run at all when a task failed (``none_failed``): that would loop.

    ``slots`` is what ``init`` returned, ``trials`` the names the ``trial`` instances returned (a skipped
    one returns none), ``finished`` the outputs of ``step finish``."""
    if finished.get("more") != "true":
        raise AirflowSkipException("the experiment needs no more trials (or this run finished none): no next run")
    if len(slots) < _S["max_slots"] or len(trials) < len(slots):
        raise AirflowSkipException(
            f"{len(trials)} of {len(slots)} slots ran a trial (a run maps at most {_S['max_slots']}): no next run"
        )
    context = get_current_context()
    generation = _generation(context) + 1
    first = _NTH.sub("", context["run_id"])
    conf = {**(context["dag_run"].conf or {}), _GENERATION: generation}
    print(f"all {len(slots)} slots ran a trial and the experiment needs more: generation {generation}", flush=True)
    return {"conf": conf, "run_id": f"{first}__generation_{generation}"}


@task(task_id="failed", trigger_rule="one_failed", retries=0)
def failed() -> None:
    """Fails the run when a task failed after its retries (``finish`` still ran and recorded the status)."""
    raise AirflowFailException("a task of this run failed after its retries; its log says why")


def _params() -> dict[str, Param]:
    if not _GENERIC:
        return {}
    return {
        "experiment_spec": Param(
            "",
            type="string",
            format="multiline",
            minLength=1,
            title="Experiment",
            description="A Katib v1beta1 Experiment as YAML or JSON (kind: Experiment, or just its spec).",
        ),
        "experiment": Param(
            "",
            type="string",
            title="Experiment name",
            description="A DNS-1123 label of at most 40 characters; empty: the Experiment's metadata.name.",
        ),
        "namespace": Param("default", type="string", minLength=1, title="Namespace in the store"),
    }


with DAG(
    dag_id=_S["dag_id"],
    description="katib-flows: "
    + ("any Katib Experiment given as the run's params" if _GENERIC else f"experiment {_S['experiment']}"),
    schedule=None,
    catchup=False,
    max_active_runs=_S["max_active_runs"],
    is_paused_upon_creation=False,
    params=_params(),
    tags=_S["tags"],
    doc_md=__doc__,
    default_args={
        "retries": _S["retries"],
        "retry_delay": timedelta(seconds=_S["retry_delay_seconds"]),
        **({"executor": _S["executor"]} if _S["executor"] else {}),
    },
) as dag:
    slots = init()
    trials = trial.expand(slot=slots)
    finished = finish()
    trials >> finished
    [slots, trials] >> failed()
    plan: Any = plan_next_run(slots, trials, finished)  # plan["key"]: one of its outputs
    TriggerDagRunOperator(
        task_id="next_run",
        doc_md="Triggers this DAG's next run with the conf and run id ``plan_next_run`` chose.",
        trigger_dag_id=_S["dag_id"],
        trigger_run_id=plan["run_id"],
        conf=plan["conf"],
        logical_date=None,
        skip_when_already_exists=True,  # a retry after the trigger went through
        openlineage_inject_parent_info=False,  # the next run's conf is this one's, generation aside
    )
