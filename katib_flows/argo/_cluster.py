"""Where the exit step reads and creates Workflows: the Kubernetes API, or a folder standing in for it.

``KubernetesWorkflows`` is the adapter the step image uses in a pod (in-cluster config, else the
kubeconfig); its only calls are GET and CREATE on ``workflows.argoproj.io``, which the Role in
``manifests/`` grants. The kubernetes client is imported inside it and its exceptions never leave it.
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
from katib_flows.errors import ClusterError, NotFoundError

WORKFLOWS_DIR_ENV = "KATIB_FLOWS_WORKFLOWS_DIR"
_GROUP, _VERSION, _PLURAL = "argoproj.io", "v1alpha1", "workflows"


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
            raise NotFoundError(f"no Workflow {name!r} in namespace {namespace!r}") from exc
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


def kube_client() -> Any:
    """The ``kubernetes.client`` module, configured in-cluster (a pod's ServiceAccount) or else from the
    kubeconfig (``KUBECONFIG``); ``ClusterError`` when neither works or the client is not installed."""
    try:
        from kubernetes import client, config
    except ImportError as exc:
        raise ClusterError("the kubernetes client is not installed: pip install kubernetes") from exc
    try:
        config.load_incluster_config()
    except config.ConfigException:
        try:
            config.load_kube_config(config_file=os.environ.get("KUBECONFIG"))
        except (config.ConfigException, OSError) as exc:
            raise ClusterError(f"no Kubernetes configuration: not in a pod, and no usable kubeconfig ({exc})") from exc
    return client


class KubernetesWorkflows:
    """Workflows through the Kubernetes API (``CustomObjectsApi``)."""

    def __init__(self) -> None:
        client = kube_client()
        self._api = client.CustomObjectsApi()

    def get(self, namespace: str, name: str) -> dict[str, Any]:
        from kubernetes.client.exceptions import ApiException

        try:
            found = self._api.get_namespaced_custom_object(_GROUP, _VERSION, namespace, _PLURAL, name)
        except ApiException as exc:
            if exc.status == 404:
                raise NotFoundError(f"no Workflow {name!r} in namespace {namespace!r}") from exc
            raise _cluster_error(exc, f"reading Workflow {namespace}/{name}") from exc
        return cast(dict[str, Any], found)

    def create(self, namespace: str, body: dict[str, Any]) -> dict[str, Any] | None:
        from kubernetes.client.exceptions import ApiException

        try:
            created = self._api.create_namespaced_custom_object(_GROUP, _VERSION, namespace, _PLURAL, body)
        except ApiException as exc:
            if exc.status == 409:
                return None
            raise _cluster_error(exc, f"creating Workflow {namespace}/{body['metadata'].get('name')}") from exc
        return cast(dict[str, Any], created)


def _cluster_error(exc: Any, doing: str) -> ClusterError:
    status = getattr(exc, "status", None)
    reason = getattr(exc, "reason", "") or ""
    if status in (401, 403):
        return ClusterError(
            f"{doing}: the API server refused ({status} {reason}); the Workflow's ServiceAccount needs get and "
            "create on workflows.argoproj.io (see manifests/base/rbac.yaml)"
        )
    temporary = status is None or status == 429 or status >= 500
    return ClusterError(f"{doing}: the API server answered {status} {reason}", temporary=temporary)
