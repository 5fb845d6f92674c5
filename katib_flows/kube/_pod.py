"""What the Kubernetes runner adds to the trial's primary pod: a metrics collector sidecar, a checkpoint mount.

Katib's File and TensorFlowEvent collectors read a file the training code writes inside its pod, which the
step (another pod) cannot see. As Katib does, the primary pod gets a sidecar that shares the directory
with the primary container through an ``emptyDir`` volume; ours runs ``python -m katib_flows_collector
watch`` from the step image, which parses the file with the same parsers as a local run and prints each
metric as a push envelope on its standard output, where the runner reads it. It is a native sidecar (an
init container with ``restartPolicy: Always``, Kubernetes 1.29 and newer): it starts before the training
container, does not keep the Job from completing, and gets SIGTERM when the training container has
ended, on which it reads the file a last time and exits.

A PBT trial's checkpoint directory (``trial._checkpoint``) lives on a ReadWriteMany PersistentVolumeClaim that
the ``trial`` step mounts too: the step prepares ``<namespace>/<experiment>/<trial>/`` there (a copy of the
parent's), and the primary container gets that sub-path mounted at the ``suggestion_trial_dir`` path, as
Katib's PBT volume is mounted.
"""

from __future__ import annotations

import posixpath
from typing import Any

from katib_flows.argo._names import IMAGE_ENV
from katib_flows.errors import SpecError
from katib_flows.spec import Experiment

SIDECAR_KINDS = ("File", "TensorFlowEvent")
COLLECTOR_CONTAINER = "katib-flows-metrics-collector"
METRICS_VOLUME = "katib-flows-metrics"
CHECKPOINTS_VOLUME = "katib-flows-checkpoints"
_SIDECAR_RESOURCES = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}


def add_metrics_collector(
    pod: dict[str, Any], container: dict[str, Any], experiment: Experiment, kind: str, image: str | None, trial: str
) -> None:
    """Give the pod the collector sidecar of a File or TensorFlowEvent (``kind``) experiment, sharing the
    metrics folder."""
    mc = experiment.spec.metrics_collector_spec
    source = mc.source if mc else None
    fsp = source.file_system_path if source else None
    assert fsp is not None and fsp.path, "defaulting gives File and TensorFlowEvent collectors a path"
    if not image:
        raise SpecError(
            f"spec.metricsCollectorSpec.collector.kind: a {kind} collector runs a sidecar from the katib-flows "
            f"image, and {IMAGE_ENV} is not set in the trial step; compile the Workflow again (it sets it)"
        )
    objective = experiment.spec.objective
    assert objective is not None
    command = ["python", "-m", "katib_flows_collector", "watch", "--kind", kind, "--path", fsp.path]
    if kind == "File":
        command += ["--format", fsp.format or "TEXT"]
    for pattern in (source.filter.metrics_format if source and source.filter else None) or []:
        command += ["--filter", pattern]
    for metric in objective.collected_metrics():
        command += ["--metric", metric]
    folder = fsp.path if kind == "TensorFlowEvent" else posixpath.dirname(fsp.path) or "/"
    volume = next((m["name"] for m in container.get("volumeMounts") or [] if m.get("mountPath") == folder), None)
    if volume is None:  # the template mounts nothing there: share an emptyDir, as Katib does
        volume = METRICS_VOLUME
        _add_volume(pod, {"name": volume, "emptyDir": {}})
        _add_mount(container, {"name": volume, "mountPath": folder})
    pod["initContainers"] = [
        *(c for c in pod.get("initContainers") or [] if c.get("name") != COLLECTOR_CONTAINER),
        {
            "name": COLLECTOR_CONTAINER,
            "image": image,
            "command": command,
            "restartPolicy": "Always",
            "env": [{"name": "KATIB_TRIAL_NAME", "value": trial}, {"name": "PYTHONUNBUFFERED", "value": "1"}],
            "volumeMounts": [{"name": volume, "mountPath": folder}],
            "resources": _SIDECAR_RESOURCES,
        },
    ]


def add_checkpoint(pod: dict[str, Any], container: dict[str, Any], claim: str, sub_path: str, path: str) -> None:
    """Mount ``sub_path`` of the claim at ``path`` (the ``suggestion_trial_dir``) in the primary container."""
    _add_volume(pod, {"name": CHECKPOINTS_VOLUME, "persistentVolumeClaim": {"claimName": claim}})
    _add_mount(container, {"name": CHECKPOINTS_VOLUME, "mountPath": path, "subPath": sub_path})


def _add_volume(pod: dict[str, Any], volume: dict[str, Any]) -> None:
    pod["volumes"] = [*(v for v in pod.get("volumes") or [] if v.get("name") != volume["name"]), volume]


def _add_mount(container: dict[str, Any], mount: dict[str, Any]) -> None:
    mounts = container.get("volumeMounts") or []
    container["volumeMounts"] = [*(m for m in mounts if m.get("name") != mount["name"]), mount]
