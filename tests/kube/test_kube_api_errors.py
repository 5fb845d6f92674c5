"""The Kubernetes API's refusals, status by status, as the trial runner's ``KubeApi`` and the exit step's
``KubernetesWorkflows`` see them: the real ``kubernetes`` client against the FAKE API server of
``fake_apiserver.py`` (no cluster runs here). The types are the ones Argo Server's refusals get.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_apiserver import FakeApiServer

from katib_flows.argo import KubernetesWorkflows
from katib_flows.errors import (
    ClusterError,
    InvalidObjectError,
    NotFoundError,
    TemporaryClusterError,
    UnauthorizedError,
)
from katib_flows.kube import KubeApi

EXPECTED: dict[int, type[ClusterError]] = {
    400: InvalidObjectError,
    401: UnauthorizedError,
    403: UnauthorizedError,
    422: InvalidObjectError,
    429: TemporaryClusterError,
    500: TemporaryClusterError,
    503: TemporaryClusterError,
}
JOB = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j", "namespace": "ns"}, "spec": {}}


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApiServer]:
    server = FakeApiServer().start()
    monkeypatch.setenv("KUBECONFIG", str(server.kubeconfig(tmp_path / "kubeconfig")))
    yield server
    server.close()


@pytest.mark.parametrize("status", list(EXPECTED))
def test_each_refusal_of_the_runners_calls_is_typed(api: FakeApiServer, status: int) -> None:
    api.fail_with = status
    with pytest.raises(ClusterError) as caught:
        KubeApi().create(JOB)
    assert type(caught.value) is EXPECTED[status]
    assert f"creating Job ns/j: the API server refused ({status}" in str(caught.value)
    assert caught.value.temporary is (EXPECTED[status] is TemporaryClusterError)


def test_the_runners_rbac_hint_names_the_verbs_on_the_trials_kind_and_pods(api: FakeApiServer) -> None:
    api.fail_with = 403
    with pytest.raises(UnauthorizedError) as caught:
        KubeApi().get("batch/v1", "Job", "ns", "j")
    message = str(caught.value)
    assert "Check the Workflow's ServiceAccount" in message
    assert "needs create, get and delete on the trial's kind and get/list on pods and pods/log" in message
    assert "manifests/base/rbac.yaml" in message


@pytest.mark.parametrize("status", list(EXPECTED))
def test_each_refusal_of_the_exit_steps_calls_is_typed(api: FakeApiServer, status: int) -> None:
    api.fail_with = status
    with pytest.raises(ClusterError) as caught:
        KubernetesWorkflows().get("ns", "w")
    assert type(caught.value) is EXPECTED[status]


def test_a_missing_workflow_is_not_found_and_a_taken_name_is_none(api: FakeApiServer) -> None:
    workflows = KubernetesWorkflows()
    with pytest.raises(NotFoundError, match="no Workflow 'w' in namespace 'ns'"):
        workflows.get("ns", "w")
    body = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "w"}, "spec": {}}
    assert workflows.create("ns", body) is not None
    assert workflows.create("ns", body) is None


def test_an_api_server_that_is_gone_is_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = FakeApiServer().start()
    monkeypatch.setenv("KUBECONFIG", str(server.kubeconfig(tmp_path / "kubeconfig")))
    server.close()  # its port is closed now: connection refused
    with pytest.raises(TemporaryClusterError, match="the API server cannot be reached"):
        KubeApi().get("batch/v1", "Job", "ns", "j")
