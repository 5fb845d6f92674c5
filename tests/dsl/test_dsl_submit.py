"""``Experiment.submit``: the DSL face of ``katib-flows submit``, against the fake Argo Server of tests/argo.

The fake (named so: there is no Argo Server here) speaks Argo Server's REST API over real HTTP; for
``wait=True`` it hands the Workflow to the conformance harness, which runs its steps as real processes
against a real SQLite store while ``submit`` follows that store.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "argo"))  # the fake and the harness live there

from argo_harness import Processes, run_chain
from fake_argo_server import FakeArgoServer

from katib_flows import Experiment, Result, search
from katib_flows.argo import compile_workflow
from katib_flows.dsl import Submission
from katib_flows.errors import AlreadyExistsError, ClusterError, CompileError

TOKEN = "dsl-token"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArgoServer]:
    for name in ("ARGO_SERVER", "ARGO_TOKEN", "ARGO_INSECURE_SKIP_VERIFY", "ARGO_SECURE", "ARGO_BASE_HREF"):
        monkeypatch.delenv(name, raising=False)
    with FakeArgoServer(TOKEN).running() as server:
        yield server


def _experiment() -> Experiment:
    return Experiment(
        "dsl-submit",
        objective=search.minimize("loss"),
        parameters={"x": search.double(0.5, 1.0)},
        max_trials=3,
        parallel=2,
        command=["python3", "-c", "import sys; print('loss=' + sys.argv[1])", "${trialParameters.x}"],
    )


def test_submit_sends_the_compiled_workflow_and_returns_its_name_namespace_and_uid(fake: FakeArgoServer) -> None:
    experiment = _experiment()
    submission = experiment.submit(namespace="team-a", argo_server=fake.url, token=TOKEN, image="reg/kf:1")
    stored = fake.workflows[("team-a", "dsl-submit")]
    assert isinstance(submission, Submission)
    assert (submission.name, submission.namespace, submission.uid) == (
        "dsl-submit",
        "team-a",
        stored["metadata"]["uid"],
    )
    [request] = fake.created()
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    from katib_flows.argo import StepOptions

    expected = compile_workflow(experiment.spec, name="dsl-submit", namespace="team-a", options=StepOptions("reg/kf:1"))
    assert request.body["workflow"] == expected
    with pytest.raises(AlreadyExistsError, match="--name NEW"):
        experiment.submit(namespace="team-a", argo_server=fake.url, token=TOKEN, image="reg/kf:1")


def test_submit_reads_the_server_and_token_from_the_environment(
    fake: FakeArgoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARGO_SERVER", fake.url)
    monkeypatch.setenv("ARGO_TOKEN", TOKEN)
    submission = _experiment().submit()
    assert (submission.name, submission.namespace) == ("dsl-submit", "default")
    monkeypatch.setenv("ARGO_TOKEN", "wrong")
    with pytest.raises(ClusterError, match="ARGO_TOKEN"):
        _experiment().submit(namespace="team-b")
    monkeypatch.delenv("ARGO_SERVER")
    with pytest.raises(ClusterError, match="no Argo Server given"):
        _experiment().submit()


@pytest.mark.slow
def test_submit_wait_returns_the_result_of_the_played_cluster(
    fake: FakeArgoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cluster.db'}"
    errors: list[BaseException] = []

    def controller(workflow: dict[str, Any]) -> None:  # plays Argo's controller with the conformance harness
        namespace, name = workflow["metadata"]["namespace"], workflow["metadata"]["name"]
        fake.set_phase(namespace, name, "Running")
        try:
            env = {"KATIB_FLOWS_TRIAL_RUNNER": "local", "KATIB_FLOWS_WORKFLOWS_DIR": str(tmp_path / "workflows")}
            [run] = run_chain(
                workflow,
                executor=Processes(tmp_path, env),
                secrets={("katib-flows-db", "url"): url},
                scratch=tmp_path / "nodes",
                workflows_dir=tmp_path / "workflows",
            )
        except Exception as exc:  # fail the test, not this thread
            errors.append(exc)
            fake.set_phase(namespace, name, "Error", str(exc))
            return
        fake.set_phase(namespace, name, run.phase)

    fake.controller = controller
    experiment = _experiment()
    result = experiment.submit(
        namespace="team-a", argo_server=fake.url, token=TOKEN, trial_runner="local", wait=True, db=url
    )
    fake.join_controllers()
    assert errors == []
    assert isinstance(result, Result)
    assert (result.status, result.reason) == ("Succeeded", "ExperimentMaxTrialsReached")
    assert len(result.history.trials) == 3
    best = result.best
    assert best is not None and 0.5 <= best.parameters["x"] <= 1.0 and best.value == pytest.approx(best.parameters["x"])
    assert "experiment dsl-submit: Succeeded (ExperimentMaxTrialsReached)" in capsys.readouterr().out


def test_compile_and_submit_check_the_workflow_for_unknown_fields_as_the_cli_does(
    fake: FakeArgoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A compiler bug that writes a field Argo does not know is caught before anything is sent (the DSL used to
    skip the check ``katib-flows compile`` runs); the bug is injected by wrapping the real compiler."""
    from katib_flows.argo import _compile

    real = _compile.compile_workflow

    def misspelt(*args: Any, **kwargs: Any) -> dict[str, Any]:
        workflow = real(*args, **kwargs)
        workflow["spec"]["parallelizm"] = 2
        return workflow

    monkeypatch.setattr(_compile, "compile_workflow", misspelt)
    with pytest.raises(CompileError, match=r"spec\.parallelizm: unknown field"):
        _experiment().compile()
    with pytest.raises(CompileError, match=r"spec\.parallelizm: unknown field"):
        _experiment().submit(namespace="team-a", argo_server=fake.url, token=TOKEN)
    assert fake.created() == []
