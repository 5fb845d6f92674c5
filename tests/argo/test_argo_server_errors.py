"""Argo Server's refusals, status by status, through the one mapping of ``katib_flows.cluster``.

Against the FAKE Argo Server of ``fake_argo_server.py`` (real HTTP, Argo's error JSON; there is no Argo
here): each status becomes the same error type the Kubernetes API's does (tests/cluster), with Argo's
message, and the CLI's exit code stays what it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_argo_server import FakeArgoServer
from test_argo_submit import TOKEN, experiment_file

from katib_flows.argo import ArgoServer
from katib_flows.cli import _exit, main
from katib_flows.errors import (
    ClusterError,
    ConflictError,
    InvalidObjectError,
    TemporaryClusterError,
    UnauthorizedError,
)

WORKFLOW = {
    "kind": "Workflow",
    "metadata": {"name": "w"},
    "spec": {"entrypoint": "main", "templates": [{"name": "main", "container": {"image": "busybox"}}]},
}

#: status -> (error type, the exit code of ``katib-flows submit``).
REFUSALS: dict[int, tuple[type[ClusterError], int]] = {
    400: (InvalidObjectError, _exit.CLUSTER_ERROR),
    401: (UnauthorizedError, _exit.CLUSTER_ERROR),
    403: (UnauthorizedError, _exit.CLUSTER_ERROR),
    409: (ConflictError, _exit.BAD_INPUT),  # a taken name is the user's to change, as before
    422: (InvalidObjectError, _exit.CLUSTER_ERROR),
    429: (TemporaryClusterError, _exit.CLUSTER_ERROR),
    500: (TemporaryClusterError, _exit.CLUSTER_ERROR),
    503: (TemporaryClusterError, _exit.CLUSTER_ERROR),
}


@pytest.fixture
def fake() -> Iterator[FakeArgoServer]:
    with FakeArgoServer(TOKEN).running() as server:
        yield server


@pytest.mark.parametrize("status", list(REFUSALS))
def test_each_refusal_is_typed_and_carries_argos_message(fake: FakeArgoServer, status: int) -> None:
    fake.refuse_next = (status, {"code": 2, "message": f"scripted refusal {status}"})
    with pytest.raises(ClusterError) as caught:
        ArgoServer(fake.url, token=TOKEN).create_workflow("team-a", WORKFLOW)
    assert type(caught.value) is REFUSALS[status][0]
    assert f"scripted refusal {status}" in str(caught.value)


@pytest.mark.parametrize("status", [400, 422])
def test_an_invalid_workflow_is_not_temporary_and_says_argo_refused_it(fake: FakeArgoServer, status: int) -> None:
    fake.refuse_next = (status, {"code": 3, "message": "spec.templates: Required value"})
    with pytest.raises(InvalidObjectError) as caught:
        ArgoServer(fake.url, token=TOKEN).create_workflow("team-a", WORKFLOW)
    assert not caught.value.temporary
    assert f"Argo refused the Workflow ({status}): spec.templates: Required value" in str(caught.value)


def test_the_rbac_hint_names_the_token_and_the_verbs_on_workflows() -> None:
    forbidding = FakeArgoServer(TOKEN, forbidden_namespaces=("team-a",))
    with forbidding.running() as fake, pytest.raises(UnauthorizedError) as caught:
        ArgoServer(fake.url, token=TOKEN).get_workflow("team-a", "w")
    message = str(caught.value)
    assert "Argo Server answered 403" in message
    assert "Check --token / ARGO_TOKEN" in message
    assert "its ServiceAccount needs create, get and list on workflows.argoproj.io in that namespace (RBAC)" in message


@pytest.mark.parametrize("status", list(REFUSALS))
def test_the_cli_exit_code_of_each_refusal(
    tmp_path: Path, fake: FakeArgoServer, capsys: pytest.CaptureFixture[str], status: int
) -> None:
    fake.refuse_next = (status, {"code": 2, "message": f"scripted refusal {status}"})
    code = main(["submit", str(experiment_file(tmp_path)), "--argo-server", fake.url, "--token", TOKEN, "--no-wait"])
    assert code == REFUSALS[status][1]
    assert f"scripted refusal {status}" in capsys.readouterr().err
