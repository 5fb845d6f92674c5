"""manifests/base's web UI: a Deployment and Service in the system namespace whose command the real CLI
accepts, and a ServiceAccount that may create TokenReviews and nothing else. (Every object of the base is
also validated against the Kubernetes schemas by tests/argo/test_argo_manifests.py.)"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from katib_flows.cli._ui import ui

BASE = Path(__file__).resolve().parents[2] / "manifests" / "base"


def _objects() -> dict[str, dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl (with its built-in kustomize) is needed to build manifests/"
    done = subprocess.run([kubectl, "kustomize", str(BASE)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return {f"{o['kind']}/{o['metadata']['name']}": o for o in yaml.safe_load_all(done.stdout) if o}


def test_the_ui_runs_in_the_system_namespace_with_token_reviews_only() -> None:
    objects = _objects()
    deployment, service = objects["Deployment/katib-flows-ui"], objects["Service/katib-flows-ui"]
    assert deployment["metadata"]["namespace"] == service["metadata"]["namespace"] == "katib-flows-system"
    pod = deployment["spec"]["template"]
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    [container] = pod["spec"]["containers"]
    context = ui.make_context("ui", list(container["args"][1:]))  # the image's entry point is katib-flows
    assert context.params["auth"] == "serviceaccount" and context.params["host"] == "0.0.0.0"
    assert {p["containerPort"] for p in container["ports"]} == {context.params["port"]}
    assert container["env"][0]["valueFrom"]["secretKeyRef"]["name"] == "katib-flows-mysql"
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"

    assert pod["spec"]["serviceAccountName"] == "katib-flows-ui"
    role, binding = objects["ClusterRole/katib-flows-ui"], objects["ClusterRoleBinding/katib-flows-ui"]
    assert role["rules"] == [
        {"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]}
    ]
    assert binding["roleRef"]["name"] == "katib-flows-ui"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "katib-flows-ui", "namespace": "katib-flows-system"}
    ]
