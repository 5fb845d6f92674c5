"""The Kubernetes trial runner: one claimed trial run as a Kubernetes object (a ``TrialRunner``).

The Argo ``step trial`` verb's default runner, the sibling of ``local.LocalTrial``: create, follow,
collect, then the caller records the outcome and ``release`` deletes the object. ``start`` renders the trial
template (DESIGN.md section 5), adds an ownerReference to the running Workflow (so deleting the Workflow
deletes its trials) and creates the object under the trial's name. The name is deterministic, so a retried
step gets 409 Conflict and follows the object its first attempt created; the metric rows that attempt
stored are not stored again. ``wait`` polls the object, evaluating Katib's failure condition and then
its success condition, while a ``LogFollower`` feeds the primary container's log to the same
``Collection`` a local trial uses (early stopping included); a File or TensorFlowEvent experiment's
metrics come from the log of the collector sidecar added to the primary pod instead, and a PBT trial's
pod mounts its checkpoint directory from the claim (``_pod``). ``wait`` returns the outcome; once it is
recorded, ``release`` deletes the object unless ``trialTemplate.retain``. A stop (early stopping, the
experiment completed, SIGTERM of the step) deletes the object first. A pod the cluster ended (evicted,
node lost) makes the trial interrupted, not failed: it does not count and the experiment runs another.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from katib_flows_suggestion import checkpoint_dirs

from katib_flows.cluster import L_EXPERIMENT, L_MANAGED_BY, L_TRIAL, MANAGED_BY
from katib_flows.errors import ClusterError, InvalidObjectError, KatibFlowsError, SpecError
from katib_flows.kube._api import KubeApi
from katib_flows.kube._conditions import Condition, ConditionMet
from katib_flows.kube._logs import Followers, LogFollower, infrastructure_fault
from katib_flows.kube._pod import (
    COLLECTOR_CONTAINER,
    SIDECAR_KINDS,
    add_checkpoint,
    add_metrics_collector,
)
from katib_flows.spec import (
    PRIMARY_POD_LABELS,
    SUCCESS_FAILURE_CONDITIONS,
    primary_pod,
    render_object,
    trial_parameters,
)
from katib_flows.store import TrialStatus
from katib_flows.trial import CHECKPOINT_DIR_ENV, Collection, Outcome, TrialContext, TrialRunner, prepare_checkpoint

#: kind -> the label its controller puts on the pods it creates, valued with the object's name.
JOB_NAME_LABELS = {
    "Job": "job-name",
    "TFJob": "training.kubeflow.org/job-name",
    "PyTorchJob": "training.kubeflow.org/job-name",
    "XGBoostJob": "training.kubeflow.org/job-name",
    "MPIJob": "training.kubeflow.org/job-name",
    "TrainJob": "jobset.sigs.k8s.io/jobset-name",
    "Workflow": "workflows.argoproj.io/workflow",
    "PipelineRun": "tekton.dev/pipelineRun",
}
#: Katib's environment variable with the trial's name, set in the primary container.
TRIAL_NAME_ENV = "KATIB_TRIAL_NAME"


@dataclass(frozen=True)
class Owner:
    """The Workflow that owns the trial's object; without a uid there is no ownerReference."""

    name: str
    uid: str = ""

    def reference(self) -> dict[str, Any]:
        return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "name": self.name, "uid": self.uid}


@dataclass(frozen=True)
class Timing:
    """How often the object is read, and how long the logs may take to drain once it finished."""

    poll_seconds: float = 5.0
    drain_seconds: float = 30.0


@dataclass(frozen=True)
class PodExtras:
    """What the step passes on to the trial's pod: the image of the collector sidecar (File and
    TensorFlowEvent collectors), and the ReadWriteMany claim of PBT checkpoints, mounted in the step at
    ``checkpoint_root`` (default ``paths.checkpoints_dir()``)."""

    image: str | None = None
    checkpoint_claim: str | None = None
    checkpoint_root: Path | None = None


class KubeTrial(TrialRunner):
    def __init__(
        self,
        context: TrialContext,
        *,
        api: KubeApi | None = None,
        owner: Owner | None = None,
        timing: Timing | None = None,
        extras: PodExtras | None = None,
    ) -> None:
        template = context.experiment.spec.trial_template
        if template is None or template.command is not None:
            raise SpecError(
                "spec.trialTemplate: the command short form runs only beside the step; give a trialSpec (a Job "
                "or a training job), or compile with --trial-runner local"
            )
        stored = len(context.store.get_observation_log(context.namespace, context.trial.name))
        collection = Collection(context.experiment, context.store, context.namespace, context.trial.name, None,
                                pod_log=True, skip_rows=stored)  # fmt: skip
        super().__init__(context, collection)
        self.experiment, self.namespace = context.experiment, context.namespace
        # After the template's check: bad input is said as such even where no cluster is configured.
        self.api = api or KubeApi()
        self.owner, self.template = owner, template
        self.timing = timing or Timing()
        self.extras = extras or PodExtras()
        self.sidecar = self.collection.kind in SIDECAR_KINDS  # File, TensorFlowEvent: read through a sidecar
        self.body: dict[str, Any] = {}
        self.selector: dict[str, str] = {}
        self.failure: Condition | None = None
        self.success: Condition | None = None
        self._failed_to_start: str | None = None
        self._stop_requested = threading.Event()
        self._delete_on_release = False

    # start ------------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Create the trial's object, or find the one an earlier attempt of this step created."""
        self.body = self._render()
        kind = self.body["kind"]
        defaults = SUCCESS_FAILURE_CONDITIONS.get(kind, ("", ""))
        success = self.template.success_condition or defaults[0]
        failure = self.template.failure_condition or defaults[1]
        if not success or not failure:
            raise SpecError(
                f"spec.trialTemplate: a {kind} has no default successCondition and failureCondition; write both "
                '(GJSON over the object, e.g. status.[@this].#(phase=="Succeeded")#)'
            )
        self.success = Condition(success, "spec.trialTemplate.successCondition")
        self.failure = Condition(failure, "spec.trialTemplate.failureCondition")
        self.selector = self._selector(kind)
        if self.experiment.checkpoint_path is not None:
            self._prepare_checkpoint()
            if self._failed_to_start is not None:
                return
        meta = self.body["metadata"]
        try:
            created = self.api.create(self.body)
        except InvalidObjectError as exc:  # this trial's values made an object the API server rejects
            self._failed_to_start = str(exc)
            return
        if created is None:
            found = self.api.get(self.body["apiVersion"], kind, self.namespace, meta["name"])
            labels = ((found or {}).get("metadata") or {}).get("labels") or {}
            if found is not None and labels.get(L_TRIAL) != self.trial.name:
                raise ClusterError(
                    f"a {kind} named {meta['name']!r} already exists in namespace {self.namespace!r} and is not "
                    f"this trial's (label {L_TRIAL} is {labels.get(L_TRIAL)!r}); delete it or rename the experiment"
                )
            self._say(f"katib-flows: following {kind} {self.namespace}/{meta['name']} (created by an earlier attempt)")
        else:
            self._say(f"katib-flows: created {kind} {self.namespace}/{meta['name']}")

    def _render(self) -> dict[str, Any]:
        obj = self._template_object()
        params = trial_parameters(self.experiment)
        body = render_object(obj, params, self.trial.assignments, trial_name=self.trial.name, namespace=self.namespace)
        for field in ("apiVersion", "kind"):
            if not isinstance(body.get(field), str) or not body[field]:
                raise SpecError(f"spec.trialTemplate: the trial's object has no {field}")
        meta = body["metadata"]
        meta["labels"] = {**(meta.get("labels") or {}), L_TRIAL: self.trial.name,
                          L_EXPERIMENT: self.context.experiment_name, L_MANAGED_BY: MANAGED_BY}  # fmt: skip
        if self.owner is not None and self.owner.uid:
            meta["ownerReferences"] = [*(meta.get("ownerReferences") or []), self.owner.reference()]
        found = primary_pod(body, self.template.primary_container_name)
        if found is None:
            if self.sidecar or self.experiment.checkpoint_path:
                raise SpecError(
                    f"spec.trialTemplate: katib-flows adds the metrics collector sidecar and PBT checkpoints only "
                    f"to a Job or a training job's primary container, not to a {body['kind']}"
                )
            return body
        pod, container = found
        env = {TRIAL_NAME_ENV: self.trial.name}
        if self.sidecar:
            add_metrics_collector(pod, container, self.experiment, self.collection.kind, self.extras.image,
                                  self.trial.name)  # fmt: skip
        checkpoint = self._checkpoint()
        if checkpoint is not None:
            sub_path, path = checkpoint
            add_checkpoint(pod, container, self.extras.checkpoint_claim or "", sub_path, path)
            env[CHECKPOINT_DIR_ENV] = path
        kept = [e for e in container.get("env") or [] if not (isinstance(e, dict) and e.get("name") in env)]
        container["env"] = [*kept, *({"name": k, "value": v} for k, v in env.items())]
        return body

    def _checkpoint(self) -> tuple[str, str] | None:
        """A PBT trial's checkpoint: (its directory's sub-path on the claim, the mount path), or None."""
        path = self.experiment.checkpoint_path
        if path is None:
            return None
        if not self.extras.checkpoint_claim:
            raise SpecError(
                "spec.algorithm.algorithmSettings: suggestion_trial_dir gives every trial a checkpoint directory, "
                "which on a cluster lives on a ReadWriteMany PersistentVolumeClaim: compile the Workflow with "
                "--checkpoints-claim NAME (default katib-flows-checkpoints), or run trials locally"
            )
        dirs = checkpoint_dirs(self.namespace, self.trial.experiment, self.trial.name, self.trial.labels)
        return dirs.own.as_posix(), path

    def _prepare_checkpoint(self) -> None:
        """Fill the checkpoint directory on the claim (a copy of the parent's) before the trial's pod starts;
        not when an earlier attempt of this step created the object: that trial is using it already."""
        meta = self.body["metadata"]
        if self.api.get(self.body["apiVersion"], self.body["kind"], self.namespace, meta["name"]) is not None:
            return
        try:
            prepare_checkpoint(self.experiment, self.extras.checkpoint_root, self.namespace, self.trial)
        except KatibFlowsError as exc:
            self._failed_to_start = str(exc)

    def _template_object(self) -> dict[str, Any]:
        if self.template.trial_spec is not None:
            return self.template.trial_spec
        source = self.template.config_map
        assert source is not None
        return self.api.config_map_template(
            source.config_map_namespace or self.namespace, source.config_map_name or "", source.template_path or ""
        )

    def _selector(self, kind: str) -> dict[str, str]:
        labels = dict(self.template.primary_pod_labels or PRIMARY_POD_LABELS.get(kind) or {})
        job_label = JOB_NAME_LABELS.get(kind)
        if job_label is None:
            raise SpecError(
                f"spec.trialTemplate: katib-flows does not know which pods a {kind} makes, so it cannot read the "
                f"primary container's log; kinds it knows: {', '.join(JOB_NAME_LABELS)}"
            )
        return {**labels, job_label: self.trial.name}

    # stop and wait ----------------------------------------------------------------------------------------

    def _halt(self, reason: str) -> None:
        self._stop_requested.set()  # ``wait`` deletes the object

    def wait(self) -> Outcome:
        """Follow the object until a condition is met or the trial is stopped; its outcome."""
        if self._failed_to_start is not None:
            self.collection.close()
            return Outcome.failed(self._failed_to_start)
        followers = self._followers()
        followers.start()
        try:
            ended = self._follow()
        except BaseException:
            followers.stop()
            self.collection.close()
            raise
        if ended is None:  # stopped: delete first, so that it stops
            self._delete()
            followers.stop()
            rows = self.collection.finish()
            return self._stopped(self.stop_reason or "", rows, "the step was stopped; the trial runs again")
        if ended.interrupted:  # the object is gone
            followers.stop()
            self.collection.finish()
            return ended
        followers.finish(self.timing.drain_seconds)
        rows = self.collection.finish()
        for error in followers.errors:
            self._say(f"katib-flows: the log could not be read: {error}")
        self._delete_on_release = not self.template.retain
        fault = infrastructure_fault(followers.pods) if ended.status is TrialStatus.FAILED else None
        if fault is not None:
            return Outcome.interrupt(f"ended by the cluster ({fault}); runs again")
        return dataclasses.replace(ended, logs=rows)

    def release(self) -> None:
        """Delete the object of a trial that ended by itself, unless ``trialTemplate.retain``."""
        if not self._delete_on_release:
            return
        try:
            self._delete()
        except ClusterError as exc:  # recorded already; the Workflow's garbage collection removes it later
            self._say(f"katib-flows: {exc}")

    def _followers(self) -> Followers:
        """The primary container's log, shown; its metrics, or with a sidecar the sidecar's envelopes."""

        def follow(container: str, on_line: Callable[[str], None]) -> LogFollower:
            return LogFollower(self.api, self.namespace, self.selector, container, on_line,
                               poll_seconds=self.timing.poll_seconds)  # fmt: skip

        primary = self.template.primary_container_name or ""
        if not self.sidecar:
            return Followers(follow(primary, self._line))
        return Followers(follow(primary, self._say), follow(COLLECTOR_CONTAINER, self.collection.line))

    def _follow(self) -> Outcome | None:
        """Poll the object until a condition is met (Failed first, as Katib) or it is gone; None when stopped."""
        assert self.failure is not None and self.success is not None
        api_version, kind, name = self.body["apiVersion"], self.body["kind"], self.body["metadata"]["name"]
        while not self._stop_requested.is_set():
            found = self.api.get(api_version, kind, self.namespace, name)
            if self._stop_requested.is_set():
                break
            if found is None:
                return Outcome.interrupt(f"the trial's {kind} was deleted while it ran; the trial runs again")
            met = self.failure.check(found)
            if met is not None:
                return Outcome.failed(self._workload(met, "failed"))
            met = self.success.check(found)
            if met is not None:
                return Outcome(TrialStatus.SUCCEEDED, message=self._workload(met, "succeeded"))
            self._stop_requested.wait(self.timing.poll_seconds)
        return None

    def _workload(self, met: ConditionMet, what: str) -> str:
        kind = self.body["kind"]
        detail = ". ".join(p for p in (met.reason, met.message) if p)
        return f"{kind} {what}" + (f": {detail}" if detail else "")

    def _delete(self) -> None:
        meta = self.body["metadata"]
        self.api.delete(self.body["apiVersion"], self.body["kind"], self.namespace, meta["name"])
        self._say(f"katib-flows: deleted {self.body['kind']} {self.namespace}/{meta['name']}")

    def _line(self, line: str) -> None:
        self.collection.line(line)
        self._say(line)

    def _say(self, line: str) -> None:
        self.context.say(line)
