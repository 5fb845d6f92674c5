"""The Airflow compiler: a checked Experiment -> the text of one DAG file, deterministic to the byte.

A pure function, called by ``katib-flows compile --engine airflow``, by ``submit`` (which needs only the
generic DAG's id) and by the drift test of ``workflow_templates/airflow/``. It does not import Airflow:
the DAG's code is ``dag_file.py`` of this package, read as text, and compiling only rewrites its data
block, two string literals made with ``json.dumps`` and ``repr``. Whatever an Experiment holds (quotes,
newlines, ``{{ }}``, code-looking text) stays inside a string literal, which Python reads back as it was.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from katib_flows.errors import CompileError
from katib_flows.spec import Experiment

#: The generic DAG (``workflow_templates/airflow/``): any Experiment, given as the run's params.
GENERIC_DAG_ID = "katib_flows_experiment"
#: The Airflow Variable holding the store URL, unless ``--db-variable`` names another.
DEFAULT_DB_VARIABLE = "katib_flows_db"
#: Trials one run maps at most by default (``DagOptions.max_slots``); a run that used them all while the
#: experiment still needs trials triggers the DAG's next run itself (``dag_file.py``).
MAX_SLOTS = 1000
#: Airflow's ``[core] max_map_length`` default: a run cannot map more task instances than this.
MAX_MAP_LENGTH = 1024
#: The generic DAG does not know an Experiment's parallelTrialCount when Airflow parses it, so it lets this
#: many trial tasks of a run start at once; the store still holds the trials themselves to the Experiment's.
GENERIC_PARALLEL = 8

_BEGIN = "# --- katib-flows data: "
_END = "# --- end of katib-flows data ---"
_DAG_ID = re.compile(r"^[A-Za-z0-9_.-]{1,250}$")


@dataclass(frozen=True)
class DagOptions:
    """How the DAG's tasks run on the workers."""

    dag_id: str | None = None
    """Default: ``katib_flows.<namespace>.<name>`` for an Experiment, ``katib_flows_experiment`` generic."""
    db_variable: str = DEFAULT_DB_VARIABLE
    command: tuple[str, ...] = ("katib-flows",)
    """How a worker runs katib-flows (``katib-flows`` on its PATH by default)."""
    trial_runner: str = "local"
    """``local``: the trial's command runs on the worker; ``kubernetes``: a Job/CRD per trial in a cluster."""
    workdir: str | None = None
    """Where the steps (and so local trials) run on the worker; default: the task's own folder."""
    executor: str | None = None
    """The Airflow executor of the tasks (``CeleryExecutor``...); default: the deployment's default one."""
    retries: int = 3
    retry_delay_seconds: int = 10
    max_slots: int = MAX_SLOTS
    """Trial task instances one run maps at most; an experiment that needs more continues in the next run."""

    def check(self) -> None:
        if self.dag_id is not None and not _DAG_ID.match(self.dag_id):
            raise CompileError(
                f"--dag-id {self.dag_id!r}: Airflow DAG ids are 1 to 250 letters, digits, '_', '.' or '-'"
            )
        if not self.db_variable.strip():
            raise CompileError("the Airflow Variable of the store URL must not be empty; pass --db-variable NAME")
        if self.trial_runner not in ("kubernetes", "local"):
            raise CompileError(f"the trial runner must be kubernetes or local, got {self.trial_runner!r}")
        if not 1 <= self.max_slots <= MAX_MAP_LENGTH:
            raise CompileError(
                f"max_slots must be between 1 and {MAX_MAP_LENGTH} (Airflow's max_map_length), got {self.max_slots}"
            )
        if not self.command or not all(self.command):
            raise CompileError("the katib-flows command must not be empty")


def compile_dag(experiment: Experiment, *, name: str, namespace: str | None, options: DagOptions | None = None) -> str:
    """The DAG file that runs ``experiment`` as ``name`` in the store's ``namespace`` (default ``default``)."""
    options = options or DagOptions()
    options.check()
    if experiment.spec.trial_template is None:
        raise CompileError("spec.trialTemplate is missing: a DAG needs a trial to run")
    namespace = namespace or "default"
    document = experiment.dump()
    document.setdefault("metadata", {}).update(name=name, namespace=namespace)
    settings = _settings(
        options,
        dag_id=options.dag_id or f"katib_flows.{namespace}.{name}",
        experiment=name,
        namespace=namespace,
        parallel=experiment.spec.parallel_trial_count or 1,
        max_active_runs=1,
    )
    return _render(json.dumps(document, sort_keys=True, indent=1, ensure_ascii=True), settings)


def generic_dag(options: DagOptions | None = None) -> str:
    """The DAG that runs any Experiment pasted into its "Trigger DAG" form (or sent by ``submit``)."""
    options = options or DagOptions()
    options.check()
    settings = _settings(
        options,
        dag_id=options.dag_id or GENERIC_DAG_ID,
        experiment="",
        namespace="default",
        parallel=GENERIC_PARALLEL,
        max_active_runs=16,
    )
    return _render("", settings)


def dag_id_of(text: str) -> str:
    """The DAG id written in the data block of a DAG file of ours (read as data, the file is not run)."""
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["SETTINGS"]:
            return str(json.loads(ast.literal_eval(node.value))["dag_id"])
    raise CompileError("not a katib-flows DAG file: it has no SETTINGS in its data block")


def _settings(options: DagOptions, **fields: Any) -> dict[str, Any]:
    return {
        "command": list(options.command),
        "db_variable": options.db_variable,
        "executor": options.executor,
        "max_slots": options.max_slots,
        "retries": options.retries,
        "retry_delay_seconds": options.retry_delay_seconds,
        "tags": ["katib-flows"],
        "trial_runner": options.trial_runner,
        "workdir": options.workdir,
        **fields,
    }


def _render(experiment_json: str, settings: dict[str, Any]) -> str:
    """The template with its data block replaced: each line a ``repr`` string literal, joined by Python."""
    source = resources.files("katib_flows.airflow").joinpath("dag_file.py").read_text(encoding="utf-8")
    head, rest = source.split(_BEGIN, 1)
    marker, rest = rest.split("\n", 1)
    _, tail = rest.split(_END, 1)
    data = [
        f"{_BEGIN}{marker}",
        f"EXPERIMENT = {_literal(experiment_json)}",
        f"SETTINGS = {_literal(json.dumps(settings, sort_keys=True, separators=(',', ':'), ensure_ascii=True))}",
    ]
    return head + "\n".join(data) + "\n" + _END + tail


def _literal(text: str, width: int = 100) -> str:
    """``text`` (ASCII: JSON made with ``ensure_ascii``) as a Python expression of string literals, split at
    its newlines and every ``width`` characters."""
    if not text:
        return '""'
    pieces: list[str] = []
    for line in text.splitlines(keepends=True):
        pieces += [line[i : i + width] for i in range(0, len(line), width)]
    if len(pieces) == 1:
        return _quoted(pieces[0])
    return "(\n" + "".join(f"    {_quoted(piece)}\n" for piece in pieces) + ")"


def _quoted(text: str) -> str:
    """A double-quoted Python literal of ASCII ``text``: backslashes, quotes and control characters escaped."""
    return '"' + text.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
