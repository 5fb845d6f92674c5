"""What Katib knows about the workload kinds a trial template may hold.

Used by the defaults (success and failure conditions, primary pod labels), the template rules (is the
primary container there?) and the runners (which container to run locally). Katib keys all of this on
``kind`` alone; so do we.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

_JOB_SUCCESS = 'status.conditions.#(type=="Complete")#|#(status=="True")#'
_JOB_FAILURE = 'status.conditions.#(type=="Failed")#|#(status=="True")#'
_TRAINING_SUCCESS = 'status.conditions.#(type=="Succeeded")#|#(status=="True")#'

#: kind -> (successCondition, failureCondition), Katib's defaulting webhook.
SUCCESS_FAILURE_CONDITIONS: dict[str, tuple[str, str]] = {
    "Job": (_JOB_SUCCESS, _JOB_FAILURE),
    "TFJob": (_TRAINING_SUCCESS, _JOB_FAILURE),
    "PyTorchJob": (_TRAINING_SUCCESS, _JOB_FAILURE),
    "XGBoostJob": (_TRAINING_SUCCESS, _JOB_FAILURE),
    "MPIJob": (_TRAINING_SUCCESS, _JOB_FAILURE),
    "TrainJob": (_JOB_SUCCESS, _JOB_FAILURE),
}

PRIMARY_POD_LABELS: dict[str, dict[str, str]] = {
    "TFJob": {"training.kubeflow.org/job-role": "master"},
    "PyTorchJob": {"training.kubeflow.org/job-role": "master"},
    "XGBoostJob": {"training.kubeflow.org/job-role": "master"},
    "MPIJob": {"training.kubeflow.org/job-role": "master"},
    "TrainJob": {
        "jobset.sigs.k8s.io/replicatedjob-name": "node",
        "batch.kubernetes.io/job-completion-index": "0",
    },
}

#: kind -> the key of its replica map, for the Kubeflow training operator's jobs.
_REPLICA_SPECS = {
    "TFJob": "tfReplicaSpecs",
    "PyTorchJob": "pytorchReplicaSpecs",
    "XGBoostJob": "xgbReplicaSpecs",
    "MPIJob": "mpiReplicaSpecs",
}
#: The replica that holds the primary container, in the order we look for it.
_PRIMARY_REPLICAS = ("Chief", "Master", "Launcher", "Worker")

#: Kinds whose pod templates we know how to find.
KINDS_WITH_CONTAINERS = ("Job", *_REPLICA_SPECS)


def pod_specs(trial_spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (path below trialSpec, pod spec) for each pod template of a known kind, primary replica first."""
    kind = trial_spec.get("kind")
    spec = trial_spec.get("spec")
    if not isinstance(spec, dict):
        return
    if kind == "Job":
        pod = _pod_spec(spec)
        if pod is not None:
            yield "spec.template.spec", pod
        return
    key = _REPLICA_SPECS.get(kind) if isinstance(kind, str) else None
    replicas = spec.get(key) if key else None
    if not isinstance(replicas, dict):
        return
    order = [r for r in _PRIMARY_REPLICAS if r in replicas] + [r for r in replicas if r not in _PRIMARY_REPLICAS]
    for replica in order:
        pod = _pod_spec(replicas[replica]) if isinstance(replicas[replica], dict) else None
        if pod is not None:
            yield f"spec.{key}.{replica}.template.spec", pod


def _pod_spec(holder: dict[str, Any]) -> dict[str, Any] | None:
    template = holder.get("template")
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        pod: dict[str, Any] = template["spec"]
        return pod
    return None


def find_container(trial_spec: dict[str, Any], name: str | None) -> tuple[str, dict[str, Any]] | None:
    """The primary container (path, container) of a known kind, or None when it is not there."""
    found = next(_named_containers(trial_spec, name), None)
    return (found[0], found[2]) if found else None


def primary_pod(trial_spec: dict[str, Any], name: str | None) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The pod spec of the primary replica that holds the primary container, and that container."""
    found = next(_named_containers(trial_spec, name), None)
    return (found[1], found[2]) if found else None


def _named_containers(
    trial_spec: dict[str, Any], name: str | None
) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    for path, pod in pod_specs(trial_spec):
        containers = pod.get("containers")
        for index, container in enumerate(containers if isinstance(containers, list) else []):
            if isinstance(container, dict) and container.get("name") == name:
                yield f"{path}.containers[{index}]", pod, container
