"""``katib-flows submit`` and ``watch`` against a fake Argo Server over real HTTP, and a real store.

The fake (``fake_argo_server.py``) speaks Argo Server's REST API and errors; there is no Argo here. For
the end-to-end tests it plays Argo's controller too: each Workflow it receives goes to the conformance
harness (``argo_harness.py``), which runs the Workflow's own steps as real ``katib-flows step``
processes against a real SQLite store, while ``submit --wait`` or ``watch`` follow that store.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from argo_harness import Processes, run_chain
from fake_argo_server import FakeArgoServer

from katib_flows.argo import ArgoServer, WorkflowState, submit, workflow_state
from katib_flows.argo._server import authorization, server_url
from katib_flows.cli import main
from katib_flows.errors import ClusterError, CompileError
from katib_flows.store import Store

TOKEN = "s3cret-token"
SECRET = ("katib-flows-db", "url")


@pytest.fixture
def fake() -> Iterator[FakeArgoServer]:
    with FakeArgoServer(TOKEN).running() as server:
        yield server


@pytest.fixture(autouse=True)
def _no_argo_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ARGO_SERVER", "ARGO_TOKEN", "ARGO_INSECURE_SKIP_VERIFY", "ARGO_SECURE", "ARGO_BASE_HREF"):
        monkeypatch.delenv(name, raising=False)


def experiment_file(tmp_path: Path, *, max_trials: int = 3, goal: float | None = None, name: str = "trivial") -> Path:
    objective: dict[str, Any] = {"type": "minimize", "objectiveMetricName": "loss"}
    if goal is not None:
        objective["goal"] = goal
    document = {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": name, "namespace": "team-a"},
        "spec": {
            "objective": objective,
            "algorithm": {"algorithmName": "random"},
            "parallelTrialCount": 2,
            "maxTrialCount": max_trials,
            "parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0.5", "max": "1"}}],
            "trialTemplate": {
                "command": ["python3", "-c", "import sys; print('loss=' + sys.argv[1])", "${trialParameters.x}"]
            },
        },
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def compiled(path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    """What ``katib-flows compile --output json`` prints for ``path``."""
    capsys.readouterr()
    assert main(["compile", str(path), "--output", "json", *args]) == 0
    workflow: dict[str, Any] = json.loads(capsys.readouterr().out)
    return workflow


# -- submitting ------------------------------------------------------------------------------------------


def test_the_server_receives_exactly_the_compiled_workflow_with_the_bearer_token(
    tmp_path: Path, fake: FakeArgoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    path = experiment_file(tmp_path)
    options = ["--image", "registry.example/kf:1", "--db-secret", "team-db"]
    code = main(["submit", str(path), "--argo-server", fake.url, "--token", TOKEN, *options])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    [request] = fake.created()
    assert request.path == "/api/v1/workflows/team-a"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert request.body["namespace"] == "team-a"
    assert request.body["workflow"] == compiled(path, capsys, *options)
    stored = fake.workflows[("team-a", "trivial")]
    assert f"submitted Workflow team-a/trivial (uid {stored['metadata']['uid']})" in captured.out
    assert "katib-flows watch trivial -n team-a" in captured.err


def test_output_json_is_the_created_workflows_name_namespace_and_uid(
    tmp_path: Path, fake: FakeArgoServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Server and token from the environment, as the argo CLI reads them; host:port over plain HTTP."""
    monkeypatch.setenv("ARGO_SERVER", fake.address)
    monkeypatch.setenv("ARGO_SECURE", "false")
    monkeypatch.setenv("ARGO_TOKEN", f"Bearer {TOKEN}")  # `argo auth token` prints it with its scheme
    path = experiment_file(tmp_path)
    code = main(["submit", str(path), "--name", "renamed", "-n", "team-b", "--no-wait", "--output", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    stored = fake.workflows[("team-b", "renamed")]
    assert json.loads(captured.out) == {"name": "renamed", "namespace": "team-b", "uid": stored["metadata"]["uid"]}
    [request] = fake.created()
    assert request.path == "/api/v1/workflows/team-b"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.body["workflow"] == compiled(path, capsys, "--name", "renamed", "-n", "team-b")


def test_a_wrong_token_names_the_token_option_and_rbac(
    tmp_path: Path, fake: FakeArgoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    path = experiment_file(tmp_path)
    assert main(["submit", str(path), "--argo-server", fake.url, "--token", "wrong"]) == 6
    err = capsys.readouterr().err
    assert "answered 401: token not valid" in err
    assert "--token / ARGO_TOKEN" in err and "RBAC" in err
    assert main(["submit", str(path), "--argo-server", fake.url]) == 6, "no token at all"
    assert fake.workflows == {}


def test_a_forbidden_namespace_passes_argos_message_and_names_rbac(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeArgoServer(TOKEN, forbidden_namespaces=("team-a",)).running() as fake:
        code = main(["submit", str(experiment_file(tmp_path)), "--argo-server", fake.url, "--token", TOKEN])
    err = capsys.readouterr().err
    assert code == 6
    assert 'cannot create resource "workflows"' in err and "answered 403" in err and "RBAC" in err


def test_a_duplicate_name_says_how_to_pick_another_or_delete(
    tmp_path: Path, fake: FakeArgoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["submit", str(experiment_file(tmp_path)), "--argo-server", fake.url, "--token", TOKEN]
    assert main(argv) == 0
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "a Workflow named 'trivial' already exists in namespace 'team-a'" in err
    assert '"trivial" already exists' in err, "Argo's own message is passed through"
    assert "--name NEW" in err and "argo delete trivial -n team-a" in err
    assert main([*argv, "--name", "trivial-2"]) == 0
    assert set(fake.workflows) == {("team-a", "trivial"), ("team-a", "trivial-2")}


def test_argos_refusals_pass_its_message_through(
    tmp_path: Path, fake: FakeArgoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    message = 'Workflow.argoproj.io "trivial" is invalid: spec.templates: Too many: 201: must have at most 200 items'
    fake.refuse_next = (422, {"code": 3, "message": message})
    assert main(["submit", str(experiment_file(tmp_path)), "--argo-server", fake.url, "--token", TOKEN]) == 6
    assert f"Argo refused the Workflow (422): {message}" in capsys.readouterr().err
    server = ArgoServer(fake.url, token=TOKEN)
    with pytest.raises(ClusterError, match=r"\(400\): spec.entrypoint template 'nowhere' not found"):
        server.create_workflow(
            "team-a", {"kind": "Workflow", "metadata": {"name": "x"}, "spec": {"entrypoint": "nowhere"}}
        )


def test_a_bad_experiment_is_bad_input_and_nothing_is_sent(
    tmp_path: Path, fake: FakeArgoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: kubeflow.org/v1beta1\nkind: Experiment\nmetadata: {name: x}\nspec: {maxTrialCount: -1}\n"
    )
    assert main(["submit", str(bad), "--argo-server", fake.url, "--token", TOKEN]) == 2
    assert "spec." in capsys.readouterr().err
    assert fake.requests == []


def test_no_server_given_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["submit", str(experiment_file(tmp_path))]) == 2
    assert "--argo-server HOST:PORT or set ARGO_SERVER" in capsys.readouterr().err


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_an_unreachable_server_says_where_it_looked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    assert main(["submit", str(experiment_file(tmp_path)), "--argo-server", url, "--token", TOKEN]) == 6
    err = capsys.readouterr().err
    assert f"cannot reach Argo Server at {url}/" in err and "port-forward svc/argo-server" in err


def _self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=argo-server",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def test_a_self_signed_certificate_needs_insecure_skip_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeArgoServer(TOKEN, tls=_self_signed(tmp_path)).running() as fake:
        argv = ["submit", str(experiment_file(tmp_path)), "--argo-server", fake.address, "--token", TOKEN]
        assert main(argv) == 6, "host:port means https, and the certificate is not trusted"
        assert "--insecure-skip-verify" in capsys.readouterr().err
        assert fake.workflows == {}
        assert main([*argv, "--insecure-skip-verify"]) == 0
        monkeypatch.setenv("ARGO_INSECURE_SKIP_VERIFY", "true")
        assert main([*argv, "--name", "again"]) == 0
    assert set(fake.workflows) == {("team-a", "trivial"), ("team-a", "again")}


def test_https_to_a_plain_http_server_suggests_http(
    tmp_path: Path, fake: FakeArgoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["submit", str(experiment_file(tmp_path)), "--argo-server", fake.address, "--token", TOKEN]) == 6
    assert "give http://HOST:PORT (or ARGO_SECURE=false)" in capsys.readouterr().err


def test_server_addresses_and_tokens_are_read_as_the_argo_cli_reads_them() -> None:
    assert server_url("localhost:2746") == "https://localhost:2746/"
    assert server_url("localhost:2746", secure=False) == "http://localhost:2746/"
    assert server_url("https://argo.example.com/argo") == "https://argo.example.com/argo/"
    assert server_url("argo.example.com", base_href="/argo/") == "https://argo.example.com/argo/"
    with pytest.raises(ClusterError, match="not host:port or an http"):
        server_url("ftp://argo")
    assert authorization("abc") == "Bearer abc"
    assert authorization("Bearer abc") == "Bearer abc"
    assert authorization(" Bearer abc\n") == "Bearer abc"
    assert authorization("") is None and authorization(None) is None


def _workflow(name: str, **labels: str) -> dict[str, Any]:
    spec = {"entrypoint": "main", "templates": [{"name": "main", "container": {"image": "busybox"}}]}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": name, "labels": labels},
            "spec": spec}  # fmt: skip


def test_a_workflow_with_a_field_argo_does_not_know_is_never_sent(fake: FakeArgoServer) -> None:
    workflow = _workflow("odd")
    workflow["spec"]["paralelism"] = 2
    with pytest.raises(CompileError, match=r"spec.paralelism.*parallelism"):
        submit(ArgoServer(fake.url, token=TOKEN), workflow)
    assert fake.requests == []


def test_the_newest_generation_is_the_workflow_watched(fake: FakeArgoServer) -> None:
    server = ArgoServer(fake.url, token=TOKEN)
    experiment, generation = "katib-flows.io/experiment", "katib-flows.io/generation"
    for name, owner, number in (("exp", "exp", "0"), ("exp-g1", "exp", "1"), ("other", "other", "3")):
        submit(server, _workflow(name, **{experiment: owner, generation: number}), namespace="ns")
    fake.set_phase("ns", "exp", "Succeeded")
    fake.set_phase("ns", "exp-g1", "Running")
    assert workflow_state(server, "ns", "exp") == WorkflowState("exp-g1", 1, "Running", "")
    assert workflow_state(server, "ns", "nothing") is None
    assert fake.requests[-1].query["fields"][0].startswith("items.metadata.name,")


def test_submit_help_imports_no_hera() -> None:
    check = "import sys\nfrom katib_flows.cli import main\nmain(['submit', '--help'])\nprint('hera' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("False")


# -- following -------------------------------------------------------------------------------------------


class PlayedCluster:
    """The fake's controller: each Workflow it receives runs in the conformance harness against ``url``."""

    def __init__(self, fake: FakeArgoServer, tmp_path: Path) -> None:
        self.fake = fake
        self.url = f"sqlite:///{tmp_path / 'cluster.db'}"
        self.tmp_path = tmp_path
        self.errors: list[str] = []
        fake.controller = self.run

    def run(self, workflow: dict[str, Any]) -> None:
        namespace, name = workflow["metadata"]["namespace"], workflow["metadata"]["name"]
        self.fake.set_phase(namespace, name, "Running")
        try:
            runs = run_chain(
                workflow,
                executor=Processes(self.tmp_path, {"KATIB_FLOWS_TRIAL_RUNNER": "local",
                                                   "KATIB_FLOWS_WORKFLOWS_DIR": str(self.tmp_path / "workflows")}),
                secrets={SECRET: self.url},
                scratch=self.tmp_path / "nodes" / workflow["metadata"]["uid"],  # a resubmission runs apart
                workflows_dir=self.tmp_path / "workflows",
            )  # fmt: skip
        except Exception:  # a harness error must fail the test, not vanish in this thread
            self.errors.append(traceback.format_exc())
            self.fake.set_phase(namespace, name, "Error", "the harness failed")
            return
        self.fake.set_phase(namespace, name, runs[0].phase)


@pytest.mark.slow
def test_submit_wait_follows_the_played_cluster_to_the_end(
    tmp_path: Path, fake: FakeArgoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = PlayedCluster(fake, tmp_path)
    argv = ["submit", str(experiment_file(tmp_path)), "--argo-server", fake.url, "--token", TOKEN, "--trial-runner",
            "local", "--wait", "--db", cluster.url, "--interval", "0.05", "--output", "json"]  # fmt: skip
    code = main(argv)
    fake.join_controllers()
    captured = capsys.readouterr()
    assert cluster.errors == []
    assert code == 0, captured.err
    shown = json.loads(captured.out)
    assert shown["uid"] == fake.workflows[("team-a", "trivial")]["metadata"]["uid"]
    assert shown["experiment"]["status"]["reason"] == "ExperimentMaxTrialsReached"
    assert shown["experiment"]["trials"]["succeeded"] == 3
    with Store(cluster.url) as store:
        record = store.get_experiment("team-a", "trivial")
        trials = store.list_trials("team-a", "trivial")
    assert shown["experiment"]["currentOptimalTrial"]["bestTrialName"] == record.optimal_trial
    for trial in trials:  # the local run's line display, fed from the store
        assert f"{trial.name} Succeeded: objective {trial.objective_value:.6g}" in captured.err
    assert "Workflow trivial (generation 0): Running" in captured.err
    assert "experiment trivial: Succeeded (ExperimentMaxTrialsReached)" in captured.err


@pytest.mark.slow
def test_watch_follows_a_submitted_workflow_and_exits_as_run_does(
    tmp_path: Path, fake: FakeArgoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = PlayedCluster(fake, tmp_path)
    path = experiment_file(tmp_path, goal=0.1)  # loss is x in [0.5, 1]: the goal cannot be reached
    assert main(["submit", str(path), "--argo-server", fake.url, "--token", TOKEN, "--trial-runner", "local"]) == 0
    code = main(["watch", "trivial", "-n", "team-a", "--db", cluster.url, "--argo-server", fake.url,
                 "--token", TOKEN, "--interval", "0.05"])  # fmt: skip
    fake.join_controllers()
    captured = capsys.readouterr()
    assert cluster.errors == []
    assert code == 4, captured.err  # GOAL_NOT_REACHED, as `katib-flows run` exits
    with Store(cluster.url) as store:
        record = store.get_experiment("team-a", "trivial")
    assert record.reason == "ExperimentMaxTrialsReached"
    assert f"best trial:\nbestTrialName: {record.optimal_trial}" in captured.out
    assert main(["watch", "trivial", "-n", "team-a", "--db", cluster.url]) == 4, "a finished one, from the store alone"
    del fake.workflows[("team-a", "trivial")]  # `argo delete trivial -n team-a`; the experiment stays in the store
    capsys.readouterr()
    again = [
        "submit",
        str(path),
        "--argo-server",
        fake.url,
        "--token",
        TOKEN,
        "--trial-runner",
        "local",
        "--wait",
        "--db",
        cluster.url,
    ]
    assert main(again) == 4
    fake.join_controllers()
    assert "already ended in this store (ExperimentMaxTrialsReached), so the Workflow runs no trial" in (
        capsys.readouterr().err
    )
    assert cluster.errors == []


def _fail_before_init(fake: FakeArgoServer) -> Callable[[dict[str, Any]], None]:
    def controller(workflow: dict[str, Any]) -> None:
        metadata = workflow["metadata"]
        message = 'pods "trivial-init" is forbidden: error looking up service account team-a/katib-flows-workflow'
        fake.set_phase(metadata["namespace"], metadata["name"], "Error", message)

    return controller


def test_a_workflow_that_ends_before_registering_the_experiment_is_reported(
    tmp_path: Path, fake: FakeArgoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.controller = _fail_before_init(fake)
    url = f"sqlite:///{tmp_path / 'cluster.db'}"
    argv = ["submit", str(experiment_file(tmp_path)), "--argo-server", fake.url, "--token", TOKEN,
            "--wait", "--db", url, "--interval", "0.01"]  # fmt: skip
    assert main(argv) == 3
    err = capsys.readouterr().err
    assert 'Workflow trivial (generation 0): Error: pods "trivial-init" is forbidden' in err
    assert "experiment team-a/trivial" in err and "was never registered" in err
    watch = ["watch", "trivial", "-n", "team-a", "--db", url, "--argo-server", fake.url, "--token", TOKEN]
    assert main(watch) == 3


def _registered_then_ended(tmp_path: Path, fake: FakeArgoServer, message: str) -> str:
    """Submit, register the experiment as init would, then end the Workflow with ``message``; the store URL."""
    from katib_flows.engine import register_experiment
    from katib_flows.spec import load_file

    url = f"sqlite:///{tmp_path / 'cluster.db'}"
    path = experiment_file(tmp_path)
    assert main(["submit", str(path), "--argo-server", fake.url, "--token", TOKEN]) == 0
    fake.set_phase("team-a", "trivial", "Failed", message)
    experiment = load_file(path).experiment
    assert experiment is not None
    with Store(url, upgrade=True) as store:
        register_experiment(store, experiment, namespace="team-a", name="trivial", seed=1)
    return url


def test_a_workflow_that_ends_before_its_experiment_is_reported(
    tmp_path: Path, fake: FakeArgoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Registered and started, then the Workflow failed (stopped, node lost): nothing will finish it."""
    url = _registered_then_ended(tmp_path, fake, "Stopped with strategy 'Stop'")
    capsys.readouterr()
    watch = ["watch", "trivial", "-n", "team-a", "--db", url, "--argo-server", fake.url, "--token", TOKEN]
    assert main(watch) == 3
    err = capsys.readouterr().err
    assert "Workflow trivial (generation 0): Failed: Stopped with strategy 'Stop'" in err
    assert "is still Created" in err or "is still Running" in err
    assert "submit it again to continue" in err


def test_watch_interrupts_the_trials_a_terminated_workflow_left_running(
    tmp_path: Path, fake: FakeArgoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """``argo terminate`` skips the exit step: watch, seeing the Workflow ended, interrupts its trials."""
    from katib_flows.engine import Claimed, claim_next_trial

    url = _registered_then_ended(tmp_path, fake, "Stopped with strategy 'Terminate'")
    with Store(url) as store:
        claimed = claim_next_trial(store, "team-a", "trivial", lane=0, runner="argo:trivial/0/0")
        other = claim_next_trial(store, "team-a", "trivial", lane=1, runner="argo:another/1/0")
    assert isinstance(claimed, Claimed) and isinstance(other, Claimed)
    watch = ["watch", "trivial", "-n", "team-a", "--db", url, "--argo-server", fake.url, "--token", TOKEN]
    assert main(watch) == 3
    assert "1 trial(s) it left running are now interrupted" in capsys.readouterr().err
    with Store(url) as store:
        assert store.get_trial("team-a", claimed.trial.name).reason == "TrialInterrupted"
        assert not store.get_trial("team-a", other.trial.name).status.terminal


def test_watch_without_a_server_refuses_an_unknown_experiment_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["watch", "nothing", "--db", f"sqlite:///{tmp_path / 's.db'}"]) == 5
    err = capsys.readouterr().err
    assert "no experiment default/nothing" in err and "--db" in err and "--argo-server" in err


def test_watch_with_a_server_refuses_an_experiment_no_workflow_will_register(
    tmp_path: Path, fake: FakeArgoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["watch", "nothing", "--db", f"sqlite:///{tmp_path / 's.db'}", "--argo-server", fake.url, "--token", TOKEN]
    assert main(argv) == 5
    assert "no Workflow labelled katib-flows.io/experiment=nothing" in capsys.readouterr().err
    [request] = fake.requests
    assert request.query["listOptions.labelSelector"] == ["katib-flows.io/experiment=nothing"]
