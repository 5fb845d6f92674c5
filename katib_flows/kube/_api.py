"""The Kubernetes API as the trial runner needs it: create, read and delete one object, list pods, read logs.

The client and its error translation come from ``katib_flows.cluster`` (the one module importing
``kubernetes``). Every object kind goes through ``CustomObjectsApi`` by group, version and plural
(``batch/v1`` ``jobs`` is reached that way too); plurals of the kinds Katib documents are known, others
are asked from the API server's discovery. Errors leave as the typed ``ClusterError``s: 401/403
``UnauthorizedError`` naming the RBAC the Workflow's ServiceAccount needs, 400/422 ``InvalidObjectError``
(the trial fails), a 5xx, 429 or lost connection ``TemporaryClusterError`` (the step fails and Argo
retries it; the retried step finds the same object again).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from katib_flows.cluster import Access, api_call, kube_client
from katib_flows.errors import ClusterError, SpecError, TemporaryClusterError

#: kind -> plural for the kinds a trial template usually holds (DESIGN.md section 5); others use discovery.
PLURALS = {
    "Job": "jobs",
    "TFJob": "tfjobs",
    "PyTorchJob": "pytorchjobs",
    "XGBoostJob": "xgboostjobs",
    "MPIJob": "mpijobs",
    "TrainJob": "trainjobs",
    "Workflow": "workflows",
    "PipelineRun": "pipelineruns",
}
_ACCESS = Access(
    credentials="the Workflow's ServiceAccount (its serviceAccountName)",
    needs="create, get and delete on the trial's kind and get/list on pods and pods/log (see manifests/base/rbac.yaml)",
)
#: Seconds to wait for the API server to answer a plain request (log streams wait as long as the trial runs).
REQUEST_TIMEOUT = (10, 60)


def group_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


class KubeApi:
    """One client for one step; methods raise ``ClusterError`` only."""

    def __init__(self) -> None:
        client = kube_client()
        self._objects = client.CustomObjectsApi()
        self._core = client.CoreV1Api()
        self._plurals: dict[tuple[str, str], str] = {}

    def plural(self, api_version: str, kind: str) -> str:
        if kind in PLURALS:
            return PLURALS[kind]
        if (api_version, kind) not in self._plurals:
            group, version = group_version(api_version)
            with _errors(f"discovering the resources of {api_version}"):
                found = self._objects.get_api_resources(group, version, _request_timeout=REQUEST_TIMEOUT)
            for resource in found.resources or []:
                if resource.kind == kind and "/" not in resource.name:
                    self._plurals[(api_version, kind)] = resource.name
                    break
            else:
                raise ClusterError(f"the API server has no kind {kind!r} in {api_version}: is its CRD installed?")
        return self._plurals[(api_version, kind)]

    def create(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """Create the object; None when one of that name exists already (409)."""
        api_version, kind, meta = body["apiVersion"], body["kind"], body["metadata"]
        group, version = group_version(api_version)
        plural = self.plural(api_version, kind)
        with _errors(f"creating {kind} {meta['namespace']}/{meta['name']}", conflict_ok=True) as found:
            found.value = self._objects.create_namespaced_custom_object(
                group, version, meta["namespace"], plural, body, _request_timeout=REQUEST_TIMEOUT
            )
        return cast("dict[str, Any] | None", found.value)

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The object, or None when it does not exist."""
        group, version = group_version(api_version)
        plural = self.plural(api_version, kind)
        with _errors(f"reading {kind} {namespace}/{name}", missing_ok=True) as found:
            found.value = self._objects.get_namespaced_custom_object(
                group, version, namespace, plural, name, _request_timeout=REQUEST_TIMEOUT
            )
        return cast("dict[str, Any] | None", found.value)

    def delete(
        self, api_version: str, kind: str, namespace: str, name: str, *, propagation: str = "Foreground"
    ) -> None:
        """Delete the object and, through garbage collection, its pods; an object already gone is fine."""
        group, version = group_version(api_version)
        plural = self.plural(api_version, kind)
        with _errors(f"deleting {kind} {namespace}/{name}", missing_ok=True):
            self._objects.delete_namespaced_custom_object(
                group, version, namespace, plural, name, propagation_policy=propagation,
                _request_timeout=REQUEST_TIMEOUT,
            )  # fmt: skip

    def config_map_template(self, namespace: str, name: str, key: str) -> dict[str, Any]:
        """A ``trialTemplate.configMap`` template: the YAML object at ``key`` of the ConfigMap."""
        import yaml

        with _errors(f"reading ConfigMap {namespace}/{name}", missing_ok=True) as found:
            found.value = self._core.read_namespaced_config_map(name, namespace, _request_timeout=REQUEST_TIMEOUT)
        where = f"spec.trialTemplate.configMap: ConfigMap {namespace}/{name}"
        if found.value is None:
            raise SpecError(f"{where} does not exist; create it, or put the template in trialSpec")
        text = (found.value.data or {}).get(key)
        if not isinstance(text, str):
            raise SpecError(f"{where} has no key {key!r} (templatePath); keys: {sorted(found.value.data or {})}")
        try:
            obj = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise SpecError(f"{where} key {key!r}: the trial template is not valid YAML: {exc}") from exc
        if not isinstance(obj, dict):
            raise SpecError(f"{where} key {key!r}: the trial template must be a Kubernetes object")
        return obj

    def pods(self, namespace: str, selector: dict[str, str]) -> list[dict[str, Any]]:
        """The pods carrying every label of ``selector``, as plain JSON objects, oldest first."""
        text = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        with _errors(f"listing the pods of {namespace} with labels {text}") as found:
            found.value = self._core.list_namespaced_pod(namespace, label_selector=text, _preload_content=False,
                                                         _request_timeout=REQUEST_TIMEOUT)  # fmt: skip
        import json

        items: list[dict[str, Any]] = json.loads(found.value.data).get("items") or []
        return sorted(items, key=lambda p: (p["metadata"].get("creationTimestamp") or "", p["metadata"]["name"]))

    def follow_log(self, namespace: str, pod: str, container: str, since_seconds: int | None) -> LogStream:
        """Stream the container's log with timestamps until the container ends (or ``close`` is called)."""
        with _errors(f"reading the log of {namespace}/{pod} container {container}", missing_ok=True) as found:
            found.value = self._core.read_namespaced_pod_log(
                pod, namespace, container=container, follow=True, timestamps=True, since_seconds=since_seconds,
                _preload_content=False, _request_timeout=(REQUEST_TIMEOUT[0], 600),
            )  # fmt: skip
        return LogStream(found.value)


class LogStream:
    """Lines of a followed log (``None`` response: the pod is gone); ``close`` from another thread ends it."""

    def __init__(self, response: Any) -> None:
        self._response = response

    def lines(self) -> Iterator[str]:
        from katib_flows_collector import LineSplitter

        if self._response is None:
            return
        split = LineSplitter()
        try:  # read1: what has arrived so far (``stream`` would wait for 4 KiB of a quiet trial's log)
            while chunk := self._response.read1(4096, decode_content=True):
                yield from split.push(chunk)
            yield from split.flush()
        except Exception as exc:  # a reset or closed connection: the caller reads again from where it was
            raise TemporaryClusterError(f"the log stream broke: {exc}") from exc
        finally:
            self.close()

    def close(self) -> None:
        if self._response is not None:
            try:
                self._response.close()
                self._response.release_conn()
            except Exception:  # closing from another thread while a read is under way may complain; it is closed
                pass


def _errors(doing: str, *, missing_ok: bool = False, conflict_ok: bool = False) -> api_call:
    """``api_call`` with the runner's RBAC advice."""
    return api_call(doing, _ACCESS, missing_ok=missing_ok, conflict_ok=conflict_ok)
