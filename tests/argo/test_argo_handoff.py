"""The generation hand-off: the next Workflow built from the running one, and created through the cluster.

``KubernetesWorkflows`` is tested against a fake Kubernetes API server (``FakeApiServer`` below), which
speaks just enough of the REST protocol at the HTTP level: GET and POST on ``workflows.argoproj.io``,
``404``/``409``/``403`` as ``Status`` objects.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from katib_flows.argo import FolderWorkflows, KubernetesWorkflows, compile_workflow, hand_off, next_generation
from katib_flows.errors import ClusterError, NotFoundError
from katib_flows.spec import load_text

_PREFIX = "/apis/argoproj.io/v1alpha1/namespaces/"


def _experiment() -> Any:
    loaded = load_text(
        "metadata: {name: exp}\nspec:\n  objective: {type: minimize, objectiveMetricName: loss}\n"
        "  algorithm: {algorithmName: random}\n  maxTrialCount: 3\n"
        "  parameters: [{name: x, parameterType: double, feasibleSpace: {min: '0', max: '1'}}]\n"
        "  trialTemplate: {command: [python3, -c, 'print(1)', '${trialParameters.x}']}\n"
    )
    return loaded.experiment


def _running(name: str = "exp", **extra_labels: str) -> dict[str, Any]:
    workflow = compile_workflow(_experiment(), name=name, namespace="team-a")
    workflow["metadata"].update(uid="u-1", resourceVersion="7", creationTimestamp="2026-01-01T00:00:00Z")
    workflow["metadata"]["labels"].update(extra_labels)
    workflow["metadata"]["annotations"] = {
        "argocd.argoproj.io/tracking-id": "app:argoproj.io/Workflow:team-a/exp",
        "kubectl.kubernetes.io/last-applied-configuration": "{}",
        "team": "vision",
    }
    workflow["status"] = {"phase": "Running"}
    return workflow


def test_next_generation_copies_the_spec_and_nothing_the_cluster_added() -> None:
    current = _running(**{"workflows.argoproj.io/phase": "Running", "app.kubernetes.io/instance": "app"})
    following = next_generation(current, 1)
    assert following["metadata"]["name"] == "exp-g1"
    assert following["metadata"]["namespace"] == "team-a"
    assert following["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "katib-flows",
        "katib-flows.io/experiment": "exp",
        "katib-flows.io/generation": "1",
        "katib-flows.io/root": "exp",
    }
    assert following["metadata"]["annotations"] == {"team": "vision"}
    assert "status" not in following
    parameters = {p["name"]: p["value"] for p in following["spec"]["arguments"]["parameters"]}
    assert parameters["generation"] == "1" and parameters["experiment"] == "exp"
    assert following["spec"]["templates"] == current["spec"]["templates"]
    assert next_generation(following, 2)["metadata"]["name"] == "exp-g2"  # named after the first generation


def test_next_generation_of_a_workflow_submitted_from_the_template() -> None:
    submitted = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "katib-flows-x7k2p", "namespace": "team-b",
                     "labels": {"workflows.argoproj.io/cluster-workflow-template": "katib-flows"}},
        "spec": {"workflowTemplateRef": {"name": "katib-flows", "clusterScope": True},
                 "arguments": {"parameters": [{"name": "experiment", "value": "exp"},
                                              {"name": "experiment-spec", "value": "..."}]}},
    }  # fmt: skip
    following = next_generation(submitted, 1)
    assert following["spec"]["workflowTemplateRef"] == {"name": "katib-flows", "clusterScope": True}
    assert {"name": "generation", "value": "1"} in following["spec"]["arguments"]["parameters"]
    assert following["metadata"]["name"] == "katib-flows-x7k2p-g1"


def test_a_long_name_is_shortened_to_fit_a_label_value() -> None:
    following = next_generation(_running(name="e" * 40 + "-" + "x" * 22), 12)
    assert len(following["metadata"]["name"]) <= 63 and following["metadata"]["name"].endswith("-g12")


def test_hand_off_is_idempotent_and_refuses_a_foreign_workflow(tmp_path: Path) -> None:
    workflows = FolderWorkflows(tmp_path)
    workflows.create("team-a", _running())
    assert hand_off(workflows, "team-a", "exp", 1) == "exp-g1"
    assert hand_off(workflows, "team-a", "exp", 1) == "exp-g1"
    foreign = {"metadata": {"name": "exp-g2", "labels": {}}, "spec": {}}
    workflows.create("team-a", foreign)
    with pytest.raises(ClusterError, match="already exists"):
        hand_off(workflows, "team-a", "exp", 2)
    with pytest.raises(NotFoundError):
        hand_off(workflows, "team-a", "missing", 1)


class FakeApiServer(ThreadingHTTPServer):
    """A fake Kubernetes API server holding Workflows in memory; namespace ``locked`` answers 403."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}
        self.requests: list[tuple[str, str, str | None]] = []


class _Handler(BaseHTTPRequestHandler):
    server: FakeApiServer

    def log_message(self, *args: Any) -> None:
        pass

    def _reply(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _status(self, code: int, reason: str) -> None:
        self._reply(code, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason, "code": code})

    def _parts(self) -> list[str]:
        assert self.path.startswith(_PREFIX), self.path
        return self.path.removeprefix(_PREFIX).split("?")[0].split("/")

    def do_GET(self) -> None:
        namespace, plural, name = self._parts()
        self.server.requests.append(("GET", self.path, self.headers.get("Authorization")))
        assert plural == "workflows"
        if namespace == "locked":
            return self._status(403, "Forbidden")
        found = self.server.objects.get((namespace, name))
        return self._reply(200, found) if found else self._status(404, "NotFound")

    def do_POST(self) -> None:
        namespace, _ = self._parts()
        self.server.requests.append(("POST", self.path, self.headers.get("Authorization")))
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        key = (namespace, body["metadata"]["name"])
        if key in self.server.objects:
            return self._status(409, "AlreadyExists")
        stored = {**body, "metadata": {**body["metadata"], "uid": "u-new", "namespace": namespace}}
        self.server.objects[key] = stored
        return self._reply(201, stored)


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApiServer]:
    server = FakeApiServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "fake", "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}],
        "users": [{"name": "step", "user": {"token": "sa-token"}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "step"}}],
        "current-context": "fake",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(kubeconfig))
    monkeypatch.setenv("KUBECONFIG", str(path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_kubernetes_workflows_hand_off_through_the_api(api: FakeApiServer) -> None:
    api.objects[("team-a", "exp")] = _running()
    workflows = KubernetesWorkflows()
    assert hand_off(workflows, "team-a", "exp", 1) == "exp-g1"
    assert hand_off(workflows, "team-a", "exp", 1) == "exp-g1"  # 409, then the GET confirms it is ours
    created = api.objects[("team-a", "exp-g1")]
    assert created["metadata"]["labels"]["katib-flows.io/generation"] == "1"
    methods = [(m, p.removeprefix(_PREFIX)) for m, p, _ in api.requests]
    assert methods == [
        ("GET", "team-a/workflows/exp"),
        ("POST", "team-a/workflows"),
        ("GET", "team-a/workflows/exp"),
        ("POST", "team-a/workflows"),
        ("GET", "team-a/workflows/exp-g1"),
    ]
    assert {auth for _, _, auth in api.requests} == {"Bearer sa-token"}


def test_kubernetes_errors_become_katib_flows_errors(api: FakeApiServer) -> None:
    workflows = KubernetesWorkflows()
    with pytest.raises(NotFoundError):
        workflows.get("team-a", "missing")
    with pytest.raises(ClusterError, match=r"needs get and create on workflows\.argoproj\.io") as caught:
        workflows.get("locked", "exp")
    assert not caught.value.temporary
