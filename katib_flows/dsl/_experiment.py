"""``Experiment``: a Katib v1beta1 Experiment written as a Python call, for notebooks and scripts.

The DSL is a thin front over the same pydantic spec the YAML path uses: ``to_dict`` builds Katib's
document and checks it with ``katib_flows.spec.prepare`` (Katib's defaults and rules, every problem
with its field path), the function the CLI prepares files with, so what a notebook runs is exactly what
``katib-flows run`` would run from the YAML; ``compile``/``submit`` build the Workflow with
``katib_flows.build``, validation included, as ``katib-flows compile`` does. ``from_yaml``/``from_dict``
go the other way, keyword by keyword, and ``repr`` prints the call that rebuilds the experiment; the tests
check YAML -> DSL -> YAML on every example. Running is in ``_run`` (``run``), results in ``_result``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

import yaml

from katib_flows.dsl.search import Objective, Param
from katib_flows.errors import SpecError
from katib_flows.spec import load_file, prepare

if TYPE_CHECKING:
    from katib_flows.dsl._result import Result
    from katib_flows.dsl._submit import Submission
    from katib_flows.spec import Experiment as SpecExperiment

API_VERSION = "kubeflow.org/v1beta1"
_ENVELOPE = {"apiVersion", "kind", "metadata", "spec"}
# Spec fields with a keyword of their own; any other field goes through ``extra`` unchanged.
_KEYWORDS = {
    "objective", "parameters", "algorithm", "earlyStopping", "parallelTrialCount", "maxTrialCount",
    "maxFailedTrialCount", "trialTemplate", "metricsCollectorSpec", "resumePolicy",
}  # fmt: skip


class Experiment:
    """A Katib Experiment: objective, search space, algorithm, budget and the trial to run.

    ``command`` is the short form of a trial (an argument list with ``${trialParameters.NAME}``
    placeholders); ``trial_template`` takes a whole Katib ``trialTemplate`` instead (a Job, a TFJob...).
    ``metrics_collector`` is a collector kind (``"StdOut"``, ``"File"``, ``"Push"``...) or Katib's whole
    ``metricsCollectorSpec``. ``extra`` carries any other spec field verbatim (``nasConfig``...).
    ``working_dir`` is where relative paths in the command resolve (default: the current directory
    when ``run`` is called; the file's folder for ``from_yaml``).
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        objective: Objective | None = None,
        parameters: Mapping[str, Param] | None = None,
        algorithm: str | None = "random",
        algorithm_settings: Mapping[str, Any] | None = None,
        max_trials: int | None = None,
        parallel: int | None = None,
        max_failed: int | None = None,
        command: Sequence[str] | None = None,
        trial_template: Mapping[str, Any] | None = None,
        metrics_collector: str | Mapping[str, Any] | None = None,
        early_stopping: str | None = None,
        early_stopping_settings: Mapping[str, Any] | None = None,
        resume_policy: str | None = None,
        namespace: str | None = None,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
        working_dir: str | Path | None = None,
    ) -> None:
        if command is not None and trial_template is not None:
            raise SpecError("give either command= (a local argument list) or trial_template= (Katib's), not both")
        self.name, self.namespace = name, namespace
        self.objective, self.parameters = objective, dict(parameters or {})
        self.algorithm, self.algorithm_settings = algorithm, dict(algorithm_settings or {})
        self.max_trials, self.parallel, self.max_failed = max_trials, parallel, max_failed
        self.command = list(command) if command is not None else None
        self.trial_template = dict(trial_template) if trial_template is not None else None
        self.metrics_collector = metrics_collector
        self.early_stopping, self.early_stopping_settings = early_stopping, dict(early_stopping_settings or {})
        self.resume_policy = resume_policy
        self.labels, self.annotations = dict(labels or {}), dict(annotations or {})
        self.extra = dict(extra or {})
        self.working_dir = Path(working_dir) if working_dir is not None else None
        self.source: Path | None = None
        """The file ``from_yaml`` read: a nameless spec runs under the file's name, as with the CLI."""

    # -- to Katib ---------------------------------------------------------------------------------------

    def _raw(self) -> dict[str, Any]:
        """The document as written, before Katib's defaults."""
        spec: dict[str, Any] = {}
        if self.objective is not None:
            spec["objective"] = self.objective.to_katib()
        if self.algorithm is not None:
            spec["algorithm"] = _algorithm(self.algorithm, self.algorithm_settings)
        if self.early_stopping is not None:
            spec["earlyStopping"] = _algorithm(self.early_stopping, self.early_stopping_settings)
        for key, value in (
            ("parallelTrialCount", self.parallel),
            ("maxTrialCount", self.max_trials),
            ("maxFailedTrialCount", self.max_failed),
            ("resumePolicy", self.resume_policy),
        ):
            if value is not None:
                spec[key] = value
        if self.parameters:
            spec["parameters"] = [param.to_katib(name) for name, param in self.parameters.items()]
        if self.command is not None:
            spec["trialTemplate"] = {"command": list(self.command)}
        elif self.trial_template is not None:
            spec["trialTemplate"] = self.trial_template
        if isinstance(self.metrics_collector, str):
            spec["metricsCollectorSpec"] = {"collector": {"kind": self.metrics_collector}}
        elif self.metrics_collector is not None:
            spec["metricsCollectorSpec"] = dict(self.metrics_collector)
        spec.update(self.extra)
        metadata: dict[str, Any] = {}
        for key, value in (("name", self.name), ("namespace", self.namespace)):
            if value:
                metadata[key] = value
        if self.labels:
            metadata["labels"] = self.labels
        if self.annotations:
            metadata["annotations"] = self.annotations
        return {"apiVersion": API_VERSION, "kind": "Experiment", "metadata": metadata, "spec": spec}

    @property
    def spec(self) -> SpecExperiment:
        """The checked, defaulted pydantic model; ``SpecError`` lists every problem with its field path."""
        return prepare(self._raw(), source=f"Experiment({self.name or ''})")

    def to_dict(self, *, defaults: bool = True) -> dict[str, Any]:
        """Katib's document; with ``defaults`` (the default) checked and with Katib's defaults filled in."""
        if not defaults:
            return self._raw()
        document = self.spec.dump()
        return {"apiVersion": API_VERSION, "kind": "Experiment", **document}

    def to_yaml(self, path: str | Path | None = None, *, defaults: bool = True) -> str:
        """The Experiment as Katib YAML (``kubectl apply``-able when the trial is a Kubernetes object)."""
        text = yaml.safe_dump(self.to_dict(defaults=defaults), sort_keys=False, allow_unicode=True)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    # -- from Katib -------------------------------------------------------------------------------------

    @classmethod
    def from_yaml(cls, path: str | Path) -> Experiment:
        """Read a Katib Experiment file (``SpecError`` if it breaks a rule); relative paths stay the file's."""
        load_file(path)  # every problem with the file's name and field paths, before anything is taken apart
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        experiment = cls.from_dict(document)
        experiment.working_dir = Path(path).resolve().parent
        experiment.source = Path(path)
        return experiment

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Experiment:
        """Take a Katib document (or its bare spec) apart into keywords."""
        if not _ENVELOPE & document.keys():
            document = {"spec": document}
        spec = dict(document.get("spec") or {})
        metadata = document.get("metadata") or {}
        template = spec.get("trialTemplate")
        collector = spec.get("metricsCollectorSpec")
        early = spec.get("earlyStopping")
        algorithm = spec.get("algorithm")
        return cls(
            metadata.get("name"),
            objective=Objective.from_katib(spec["objective"]) if spec.get("objective") is not None else None,
            parameters={p.get("name"): Param.from_katib(p) for p in spec.get("parameters") or []},
            algorithm=algorithm.get("algorithmName") if algorithm is not None else None,
            algorithm_settings=_settings(algorithm),
            max_trials=spec.get("maxTrialCount"),
            parallel=spec.get("parallelTrialCount"),
            max_failed=spec.get("maxFailedTrialCount"),
            command=template["command"] if isinstance(template, dict) and template.keys() == {"command"} else None,
            trial_template=template if isinstance(template, dict) and template.keys() != {"command"} else None,
            metrics_collector=_collector(collector),
            early_stopping=early.get("algorithmName") if early is not None else None,
            early_stopping_settings=_settings(early),
            resume_policy=spec.get("resumePolicy"),
            namespace=metadata.get("namespace"),
            labels=metadata.get("labels"),
            annotations=metadata.get("annotations"),
            extra={k: v for k, v in spec.items() if k not in _KEYWORDS},
        )

    def __repr__(self) -> str:
        """The Python call that builds this experiment (paste it into a notebook)."""
        fields: list[tuple[str, Any]] = [
            ("objective", self.objective),
            ("parameters", _Dict(self.parameters) if self.parameters else None),
            ("algorithm", self.algorithm),
            ("algorithm_settings", self.algorithm_settings or None),
            ("max_trials", self.max_trials),
            ("parallel", self.parallel),
            ("max_failed", self.max_failed),
            ("command", self.command),
            ("trial_template", self.trial_template),
            ("metrics_collector", self.metrics_collector),
            ("early_stopping", self.early_stopping),
            ("early_stopping_settings", self.early_stopping_settings or None),
            ("resume_policy", self.resume_policy),
            ("namespace", self.namespace),
            ("labels", self.labels or None),
            ("annotations", self.annotations or None),
            ("extra", self.extra or None),
        ]
        args = [repr(self.name)] + [f"{k}={v!r}" for k, v in fields if v is not None or k == "algorithm"]
        return "Experiment(\n    " + ",\n    ".join(args) + ",\n)"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Experiment):
            return NotImplemented
        return self.to_dict(defaults=False) == other.to_dict(defaults=False)

    __hash__ = None  # type: ignore[assignment]

    # -- running ----------------------------------------------------------------------------------------

    def run(
        self,
        *,
        db: str | None = None,
        seed: int | None = None,
        replace: bool = False,
        progress: bool = True,
        deadline: float | None = None,
        verbose: bool = False,
    ) -> Result:
        """Run the experiment on this machine (trials as local processes) and return its ``Result``.

        ``db`` is the store URL (default: ``$KATIB_FLOWS_DB``, else the same SQLite file the CLI uses, so
        ``katib-flows experiments`` lists notebook runs too). ``replace=True`` deletes an earlier
        experiment of the same name first, for re-running a notebook cell. Interrupting the kernel
        stops the trials and leaves the experiment resumable (``katib-flows resume NAME``).
        """
        from katib_flows.dsl._run import run_local

        return run_local(self, db=db, seed=seed, replace=replace, progress=progress, deadline=deadline, verbose=verbose)

    def compile(self, **options: Any) -> dict[str, Any]:
        """The Argo Workflow that runs this experiment on a cluster (``katib_flows.argo.compile_workflow``).

        ``options`` are ``katib_flows.argo.StepOptions`` fields (``image``, ``db_secret``...). The compiler is
        loaded only here, so the DSL works without hera.
        """
        from importlib.util import find_spec

        from katib_flows.build import build_workflow
        from katib_flows.dsl._submit import build_options
        from katib_flows.errors import CompileError

        if find_spec("katib_flows.argo") is None:
            raise CompileError("this katib-flows has no Argo compiler (katib_flows.argo); upgrade katib-flows")
        return build_workflow(self.prepared(), build_options(options))

    @overload
    def submit(
        self,
        *,
        engine: Literal["argo", "airflow"] = ...,
        namespace: str | None = ...,
        argo_server: str | None = ...,
        token: str | None = ...,
        insecure_skip_verify: bool | None = ...,
        image: str | None = ...,
        db_secret: str | None = ...,
        wait: Literal[False] = ...,
        db: str | None = ...,
        **options: Any,
    ) -> Submission: ...

    @overload
    def submit(
        self,
        *,
        engine: Literal["argo", "airflow"] = ...,
        namespace: str | None = ...,
        argo_server: str | None = ...,
        token: str | None = ...,
        insecure_skip_verify: bool | None = ...,
        image: str | None = ...,
        db_secret: str | None = ...,
        wait: Literal[True],
        db: str | None = ...,
        **options: Any,
    ) -> Result: ...

    def submit(
        self,
        *,
        engine: Literal["argo", "airflow"] = "argo",
        namespace: str | None = None,
        argo_server: str | None = None,
        token: str | None = None,
        insecure_skip_verify: bool | None = None,
        image: str | None = None,
        db_secret: str | None = None,
        wait: bool = False,
        db: str | None = None,
        **options: Any,
    ) -> Submission | Result:
        """Run the experiment on a cluster: compile it and submit the Workflow to Argo Server.

        The Python face of ``katib-flows submit``: ``argo_server`` and ``token`` default to ``$ARGO_SERVER``
        and ``$ARGO_TOKEN`` as for the argo CLI; ``image``, ``db_secret`` and ``options`` (other
        ``katib_flows.argo.StepOptions`` fields) are the compiler's. Returns a ``Submission`` (the
        Workflow's name, namespace and uid; ``.wait()`` follows it); with ``wait=True``, follows the
        experiment in the cluster's store ``db`` (default ``$KATIB_FLOWS_DB``) until it ends and returns
        its ``Result``, as ``run`` does.

        ``engine="airflow"`` triggers a run of the generic DAG of an Airflow deployment instead, through its
        REST API: ``options`` then take ``airflow_url``, ``username`` and ``password`` (or ``token``) and
        ``dag_id`` (default ``$AIRFLOW_URL``, ``$AIRFLOW_USERNAME``...), as ``submit --engine airflow``.
        """
        from katib_flows.dsl._submit import submit_experiment, submit_to_airflow

        if engine == "airflow":
            airflow = submit_to_airflow(self, namespace=namespace, db=db, **options)
            return airflow.wait() if wait else airflow

        if image is not None:
            options["image"] = image
        if db_secret is not None:
            options["db_secret"] = db_secret
        submission = submit_experiment(
            self,
            namespace=namespace,
            argo_server=argo_server,
            token=token,
            insecure=insecure_skip_verify,
            options=options,
            db=db,
        )
        return submission.wait() if wait else submission

    def prepared(self, *, namespace: str | None = None, annotations: Mapping[str, str] | None = None) -> SpecExperiment:
        """The checked Experiment under its run name (``experiment_name``), in ``namespace`` if given."""
        from katib_flows.dsl._run import experiment_name

        return prepare(
            self._raw(),
            source=f"Experiment({self.name or ''})",
            name=experiment_name(self),
            namespace=namespace,
            annotations=annotations,
        )

    def resolved_working_dir(self) -> Path:
        return (self.working_dir or Path(os.getcwd())).resolve()


class _Dict(dict[str, Param]):
    """A dict whose repr puts one entry a line, for ``parameters=`` in ``Experiment.__repr__``."""

    def __repr__(self) -> str:
        return "{\n" + "".join(f"        {k!r}: {v!r},\n" for k, v in self.items()) + "    }"


def _algorithm(name: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    algorithm: dict[str, Any] = {"algorithmName": name}
    if settings:
        algorithm["algorithmSettings"] = [{"name": k, "value": v} for k, v in settings.items()]
    return algorithm


def _settings(algorithm: Mapping[str, Any] | None) -> dict[str, Any]:
    return {s.get("name"): s.get("value") for s in (algorithm or {}).get("algorithmSettings") or []}


def _collector(spec: Mapping[str, Any] | None) -> str | Mapping[str, Any] | None:
    if spec is None:
        return None
    collector = spec.get("collector")
    if spec.keys() == {"collector"} and isinstance(collector, dict) and collector.keys() == {"kind"}:
        return str(collector["kind"])
    return spec
