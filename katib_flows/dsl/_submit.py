"""Submitting a DSL ``Experiment`` to a cluster: the Python face of ``katib-flows submit``.

Called by ``Experiment.submit``. Prepare the spec and build its Workflow (``katib_flows.build``, what
``katib-flows compile`` uses, validation included), create it through Argo Server with ``katib_flows.argo.submit``
(the function the CLI calls), and hand back a ``Submission``; ``Submission.wait`` follows the
experiment in the cluster's store with the notebook progress display, as ``katib-flows watch`` does,
and returns the ``Result`` that ``Experiment.run`` would. ``katib_flows.argo`` (and through it hera)
is imported here, inside the functions, so the rest of the DSL works without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from katib_flows.dsl._progress import progress_reporter
from katib_flows.dsl._result import Result

if TYPE_CHECKING:
    from katib_flows.argo import ArgoServer
    from katib_flows.build import BuildOptions
    from katib_flows.dsl._experiment import Experiment
    from katib_flows.dsl.search import Param


@dataclass(frozen=True)
class Submission:
    """A Workflow Argo Server created for an experiment; ``wait()`` follows it to its end."""

    name: str
    """The Workflow's name, which is also the experiment's."""
    namespace: str
    uid: str
    db: str | None = None
    """The store the cluster writes to (``--db`` of the CLI; default ``$KATIB_FLOWS_DB``)."""
    argo_server: ArgoServer | None = field(default=None, repr=False)
    """Where the Workflow's phase is read while waiting (None: the store alone)."""
    space: dict[str, Param] = field(default_factory=dict, repr=False)

    def wait(self, *, progress: bool = True, interval: float = 2.0) -> Result:
        """Follow the experiment in the store until it ends (the Workflow's phase too); its ``Result``.

        Raises ``katib_flows.argo.WorkflowEndedError`` when the Workflow ends before the experiment does.
        Interrupting the kernel stops the watching, not the experiment.
        """
        from katib_flows.argo import follow
        from katib_flows.dsl._run import store_url
        from katib_flows.store import Store

        url = store_url(self.db)
        reporter = progress_reporter(progress)
        with Store(url, upgrade=url.startswith("sqlite")) as store:
            follow(store, self.namespace, self.name, reporter, server=self.argo_server, interval=interval)
        return self.result()

    def result(self) -> Result:
        """The experiment's results as stored now (while it runs: ``result().refresh()`` reads again)."""
        from katib_flows.dsl._run import store_url

        return Result(self.name, namespace=self.namespace, db=store_url(self.db), space=self.space)


def submit_experiment(
    experiment: Experiment,
    *,
    namespace: str | None,
    argo_server: str | None,
    token: str | None,
    insecure: bool | None,
    options: dict[str, Any],
    db: str | None,
) -> Submission:
    """Compile ``experiment`` and create its Workflow through Argo Server (``ARGO_SERVER``/``ARGO_TOKEN`` too)."""
    from katib_flows import argo
    from katib_flows.build import build_workflow

    prepared = experiment.prepared(namespace=namespace or experiment.namespace or "default")
    server = argo.ArgoServer.from_env(argo_server, token, insecure)
    workflow = build_workflow(prepared, build_options(options))
    submitted = argo.submit(server, workflow, namespace=prepared.namespace)
    return Submission(
        submitted.name, submitted.namespace, submitted.uid, db=db, argo_server=server, space=experiment.parameters
    )


def build_options(options: Mapping[str, Any]) -> BuildOptions:
    """The compiler's options from the DSL's keywords (``katib_flows.argo.StepOptions`` fields)."""
    from katib_flows import argo
    from katib_flows.build import BuildOptions

    return BuildOptions(step=argo.StepOptions(**options) if options else None)


def submit_to_airflow(
    experiment: Experiment,
    *,
    namespace: str | None,
    db: str | None,
    airflow_url: str | None = None,
    username: str | None = None,
    password: str | None = None,
    token: str | None = None,
    dag_id: str | None = None,
) -> Submission:
    """Trigger the generic DAG of an Airflow deployment with ``experiment`` as the run's conf (its params)."""
    import json
    import os

    from katib_flows.airflow import GENERIC_DAG_ID, AirflowApi

    prepared = experiment.prepared(namespace=namespace or experiment.namespace or "default")
    api = AirflowApi(
        airflow_url or os.environ.get("AIRFLOW_URL", ""),
        token=token or os.environ.get("AIRFLOW_TOKEN"),
        username=username or os.environ.get("AIRFLOW_USERNAME"),
        password=password or os.environ.get("AIRFLOW_PASSWORD"),
    )
    name, namespace = prepared.name, prepared.namespace or "default"
    spec = json.dumps(prepared.dump(), sort_keys=True)
    conf = {"experiment": name, "namespace": namespace, "experiment_spec": spec}
    run = api.trigger(dag_id or GENERIC_DAG_ID, conf)
    return Submission(name, namespace, run.run_id, db=db, space=experiment.parameters)
