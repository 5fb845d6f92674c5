"""The generation hand-off: the Workflow that continues an experiment when a generation ends.

Argo stops recursion at depth 100, so each lane of a compiled Workflow runs a bounded number of
iterations (one generation). When every lane has ended and the experiment is not complete, the exit
step (``katib-flows step finish``) calls ``hand_off``: it reads its own Workflow from the cluster and
creates a copy whose ``generation`` argument is one higher. All state is in the store, so the copy
starts where the last one stopped: its init step finds the experiment registered and its lanes claim
the trials the budget still allows.

Copying the running Workflow (rather than compiling again) keeps whatever it was made from: an inline
spec from ``katib-flows compile``, or a ``workflowTemplateRef`` from the Argo UI. The copy drops what
the cluster or Argo CD put on the original (status, uid, Argo's own labels, Argo CD's tracking), so
Argo CD neither prunes it nor mistakes it for a resource it manages. Its name is
``<first generation's name>-g<N>``: fixed, so a retried exit step finds the copy it already made
instead of making a second one.
"""

from __future__ import annotations

import copy
from typing import Any, Protocol

from katib_flows.argo import _names as n
from katib_flows.errors import ClusterError

#: Label and annotation prefixes that belong to the cluster, Argo or Argo CD, never copied.
_FOREIGN = ("workflows.argoproj.io/", "argocd.argoproj.io/", "kubectl.kubernetes.io/")
_FOREIGN_KEYS = {"app.kubernetes.io/instance"}  # Argo CD's legacy tracking label
_NAME_LIMIT = 63  # the Workflow's name becomes a label value on its pods


class Workflows(Protocol):
    """Where Workflows live: the Kubernetes API in a pod, a folder in the conformance tests."""

    def get(self, namespace: str, name: str) -> dict[str, Any]:
        """The Workflow object; ``NotFoundError`` if there is none."""
        ...

    def create(self, namespace: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """Create ``body``; None if an object of that name already exists."""
        ...


def next_generation(current: dict[str, Any], generation: int) -> dict[str, Any]:
    """A new Workflow object continuing ``current`` as generation ``generation`` (pure)."""
    metadata = current.get("metadata") or {}
    labels = _own(metadata.get("labels"))
    root = labels.get(n.L_ROOT) or str(metadata.get("name") or "")
    if not root:
        raise ClusterError("the running Workflow has no name; cannot name its next generation")
    labels[n.L_ROOT] = root
    labels[n.L_GENERATION] = str(generation)
    suffix = f"-g{generation}"
    name = root[: _NAME_LIMIT - len(suffix)].rstrip("-.") + suffix
    new_metadata: dict[str, Any] = {"name": name, "labels": labels}
    if metadata.get("namespace"):
        new_metadata["namespace"] = metadata["namespace"]
    annotations = _own(metadata.get("annotations"))
    if annotations:
        new_metadata["annotations"] = annotations
    spec = copy.deepcopy(current.get("spec") or {})
    arguments = spec.setdefault("arguments", {})
    parameters = [p for p in arguments.get("parameters") or [] if p.get("name") != n.P_GENERATION]
    parameters.append({"name": n.P_GENERATION, "value": str(generation)})
    arguments["parameters"] = parameters
    spec.pop("shutdown", None)  # a stopped generation is not handed off, but never copy a stop request
    return {
        "apiVersion": current.get("apiVersion", "argoproj.io/v1alpha1"),
        "kind": "Workflow",
        "metadata": new_metadata,
        "spec": spec,
    }


def _own(mapping: dict[str, str] | None) -> dict[str, str]:
    return {
        k: v for k, v in (mapping or {}).items() if k not in _FOREIGN_KEYS and not k.startswith(_FOREIGN)
    }  # fmt: skip


def hand_off(workflows: Workflows, namespace: str, current_name: str, generation: int) -> str:
    """Create the Workflow of ``generation`` from the running one; returns its name (idempotent)."""
    current = workflows.get(namespace, current_name)
    body = next_generation(current, generation)
    name: str = body["metadata"]["name"]
    if workflows.create(namespace, body) is None:
        existing = workflows.get(namespace, name)
        labels = (existing.get("metadata") or {}).get("labels") or {}
        ours = body["metadata"]["labels"]
        if labels.get(n.L_ROOT) != ours[n.L_ROOT] or labels.get(n.L_GENERATION) != ours[n.L_GENERATION]:
            raise ClusterError(
                f"a Workflow named {name!r} already exists in namespace {namespace!r} and is not generation "
                f"{generation} of {ours[n.L_ROOT]!r}; delete it, then retry this Workflow's exit step"
            )
    return name
