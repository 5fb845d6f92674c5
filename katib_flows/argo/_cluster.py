"""Where the exit step reads and creates Workflows: the Kubernetes API, or a folder standing in for it.

``KubernetesWorkflows`` is the adapter the step image uses in a pod (in-cluster config, else the
kubeconfig); its only calls are GET and CREATE on ``workflows.argoproj.io``, which the Role in
``manifests/`` grants. The client and its errors come from ``katib_flows.cluster``, the one module that
imports ``kubernetes``.
``FolderWorkflows`` keeps each Workflow as ``<folder>/<namespace>/<name>.json``: the conformance
harness plays the cluster with it, and ``workflows_from_env`` picks it when ``KATIB_FLOWS_WORKFLOWS_DIR``
is set.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, cast

from katib_flows.argo._handoff import Workflows
from katib_flows.cluster import Access, api_call, kube_client
from katib_flows.errors import ObjectNotFoundError

WORKFLOWS_DIR_ENV = "KATIB_FLOWS_WORKFLOWS_DIR"
_GROUP, _VERSION, _PLURAL = "argoproj.io", "v1alpha1", "workflows"
_ACCESS = Access(
    credentials="the Workflow's ServiceAccount (its serviceAccountName)",
    needs="get and create on workflows.argoproj.io (see manifests/base/rbac.yaml)",
)


def workflows_from_env() -> Workflows:
    folder = os.environ.get(WORKFLOWS_DIR_ENV)
    return FolderWorkflows(Path(folder)) if folder else KubernetesWorkflows()


class FolderWorkflows:
    """Workflows as JSON files in a folder; ``create`` is exclusive, as the API server's is."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, namespace: str, name: str) -> Path:
        return self.folder / namespace / f"{name}.json"

    def get(self, namespace: str, name: str) -> dict[str, Any]:
        try:
            document: dict[str, Any] = json.loads(self.path(namespace, name).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ObjectNotFoundError(f"no Workflow {name!r} in namespace {namespace!r}") from exc
        return document

    def create(self, namespace: str, body: dict[str, Any]) -> dict[str, Any] | None:
        path = self.path(namespace, body["metadata"]["name"])
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("x", encoding="utf-8") as f:
                json.dump(body, f, indent=2, sort_keys=True)
        except FileExistsError:
            return None
        return body


class KubernetesWorkflows:
    """Workflows through the Kubernetes API (``CustomObjectsApi``)."""

    def __init__(self) -> None:
        client = kube_client()
        self._api = client.CustomObjectsApi()

    def get(self, namespace: str, name: str) -> dict[str, Any]:
        with api_call(f"reading Workflow {namespace}/{name}", _ACCESS, missing_ok=True) as found:
            found.value = self._api.get_namespaced_custom_object(_GROUP, _VERSION, namespace, _PLURAL, name)
        if found.value is None:
            raise ObjectNotFoundError(f"no Workflow {name!r} in namespace {namespace!r}")
        return cast(dict[str, Any], found.value)

    def create(self, namespace: str, body: dict[str, Any]) -> dict[str, Any] | None:
        doing = f"creating Workflow {namespace}/{body['metadata'].get('name')}"
        with api_call(doing, _ACCESS, conflict_ok=True) as created:
            created.value = self._api.create_namespaced_custom_object(_GROUP, _VERSION, namespace, _PLURAL, body)
        return cast("dict[str, Any] | None", created.value)
