"""A FAKE Kubernetes API server: just enough of the REST protocol, over real HTTP, for the trial runner.

No cluster can run on this machine, so the runner's tests point the real ``kubernetes`` client at this
server (through a kubeconfig file the fake writes) and script what a cluster would do. It serves, under
the same paths and with the same JSON shapes as the real API server:

- ``POST``/``GET``/``DELETE`` of namespaced objects of any group (``/apis/{group}/{version}/namespaces/
  {ns}/{plural}[/{name}]``): 201, 409 Conflict with a ``Status`` body, 404, and ``propagationPolicy``;
- ``GET /api/v1/namespaces/{ns}/pods?labelSelector=k=v,...`` (equality selectors);
- ``GET /api/v1/namespaces/{ns}/pods/{pod}/log`` with ``container``, ``follow`` and ``timestamps``;
- ``GET /api/v1/namespaces/{ns}/configmaps/{name}``.

What the "controllers" do is a ``Script`` per created object: the fake makes the primary pod (with the
labels the kind's real controller sets), serves the script's log lines, and only after the whole log has
been served marks the pod and the object finished (``Complete``/``Succeeded`` or ``Failed`` conditions).
A script without an outcome keeps its log stream open until the object is deleted, like a trial that is
still training. Logs are sent as HTTP/1.0 bodies that end when the connection closes, with no chunking: a
client that waits for a full buffer instead of taking what has arrived stalls here, where the real API
server's chunked stream would hide it. Every request is recorded for the tests to inspect.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

_TRAINING_KINDS = ("TFJob", "PyTorchJob", "XGBoostJob", "MPIJob")


@dataclass
class Script:
    """What happens to an object once created: its primary pod's log, then its outcome (None: keeps running)."""

    lines: list[str] = field(default_factory=list)
    outcome: str | None = "Succeeded"  # Succeeded | Failed | None
    reason: str = ""
    message: str = ""
    pod_reason: str = ""  # e.g. Evicted: the pod was ended by the node
    on_log_served: Callable[[], None] | None = None
    #: The log of another container than the primary one (a sidecar), made from the pod when it is read.
    container_lines: dict[str, Callable[[dict[str, Any]], list[str]]] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int


class FakeApiServer:
    """Start with ``start()``; ``kubeconfig(path)`` writes a kubeconfig that points the client here."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}  # object path -> object
        self.pods: dict[tuple[str, str], dict[str, Any]] = {}
        self.config_maps: dict[tuple[str, str], dict[str, Any]] = {}
        self.scripts: dict[str, Script] = {}  # object name -> script (else ``default_script``)
        self.default_script = Script()
        self.requests: list[Request] = []
        #: Answer every request with this status (403, 503...) while it is set; a callable decides per request.
        self.fail_with: int | Callable[[str, str], int | None] | None = None
        self._lock = threading.Lock()
        self._deleted: dict[str, threading.Event] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-apiserver", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeApiServer:
        self._thread.start()
        return self

    def close(self) -> None:
        for event in self._deleted.values():
            event.set()
        self._server.shutdown()
        self._server.server_close()

    def kubeconfig(self, path: Path) -> Path:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "fake", "user": {"token": "fake-token"}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake", "namespace": "default"}}],
            "current-context": "fake",
        }
        path.write_text(json.dumps(config), encoding="utf-8")
        return path

    # what the tests look at -----------------------------------------------------------------------------

    def calls(self, method: str, contains: str = "") -> list[Request]:
        return [r for r in self.requests if r.method == method and contains in r.path]

    def find(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            return next((o for o in self.objects.values() if o["metadata"]["name"] == name), None)

    def add_object(self, path: str, body: dict[str, Any]) -> None:
        """Put an object in place as if created earlier (its pod and script start as on a POST)."""
        self._create(path, body)

    # the "controllers" ----------------------------------------------------------------------------------

    def _create(self, collection: str, body: dict[str, Any]) -> None:
        meta = body["metadata"]
        path = f"{collection}/{meta['name']}"
        body = json.loads(json.dumps(body))
        meta = body["metadata"]
        meta.setdefault("uid", f"uid-{meta['name']}")
        meta.setdefault("creationTimestamp", "2026-01-01T00:00:00Z")
        body.setdefault("status", {})
        with self._lock:
            self.objects[path] = body
            self._deleted[path] = threading.Event()
        pod = self._pod_for(body)
        if pod is not None:
            with self._lock:
                self.pods[(meta["namespace"], pod["metadata"]["name"])] = pod

    def _pod_for(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        kind, name = obj["kind"], obj["metadata"]["name"]
        if kind == "Job":
            labels = {"job-name": name, "batch.kubernetes.io/job-name": name}
            pod_spec = obj["spec"]["template"]["spec"]
        elif kind in _TRAINING_KINDS:
            replicas = next(v for k, v in obj["spec"].items() if k.endswith("ReplicaSpecs"))
            role = next(r for r in ("Chief", "Master", "Launcher", "Worker") if r in replicas)
            labels = {"training.kubeflow.org/job-name": name, "training.kubeflow.org/job-role": role.lower()}
            pod_spec = replicas[role]["template"]["spec"]
        else:
            return None

        def running(containers: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [{"name": c["name"], "ready": True, "restartCount": 0,
                     "state": {"running": {"startedAt": "2026-01-01T00:00:01Z"}}} for c in containers]  # fmt: skip

        sidecars = [c for c in pod_spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"]
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"{name}-0-abcde",
                "namespace": obj["metadata"]["namespace"],
                "labels": labels,
                "creationTimestamp": "2026-01-01T00:00:00Z",
                "ownerReferences": [
                    {"apiVersion": obj["apiVersion"], "kind": kind, "name": name, "uid": obj["metadata"]["uid"]}
                ],
            },
            "spec": pod_spec,
            "status": {
                "phase": "Running",
                "containerStatuses": running(pod_spec["containers"]),
                "initContainerStatuses": running(sidecars),
            },
        }

    def _script(self, name: str) -> Script:
        return self.scripts.get(name, self.default_script)

    def _log_served(self, namespace: str, pod_name: str) -> None:
        """The whole log was written: the container ends, then its object, as the script says."""
        with self._lock:
            pod = self.pods.get((namespace, pod_name))
            owner = pod["metadata"]["ownerReferences"][0]["name"] if pod else None
            obj = next((o for o in self.objects.values() if o["metadata"]["name"] == owner), None)
        if pod is None or obj is None:
            return
        script = self._script(owner or "")
        if script.on_log_served is not None:
            script.on_log_served()
        if script.outcome is None:
            return
        failed = script.outcome == "Failed"
        with self._lock:
            pod["status"]["phase"] = "Failed" if failed else "Succeeded"
            if script.pod_reason:
                pod["status"]["reason"] = script.pod_reason
                pod["status"]["message"] = f"The node was low on resource: memory. ({script.pod_reason})"
            for status in [*pod["status"]["containerStatuses"], *pod["status"]["initContainerStatuses"]]:
                status["state"] = {"terminated": {"exitCode": 1 if failed else 0}}
            kind = obj["kind"]
            if failed:
                types = ["Failed"]
            else:
                types = ["Complete"] if kind == "Job" else ["Created", "Running", "Succeeded"]
            obj["status"]["conditions"] = [
                {"type": t, "status": "True", "reason": script.reason, "message": script.message,
                 "lastTransitionTime": "2026-01-01T00:00:09Z"}
                for t in types
            ]  # fmt: skip

    # HTTP -----------------------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                fake._serve(self, "GET")

            def do_POST(self) -> None:
                fake._serve(self, "POST")

            def do_DELETE(self) -> None:
                fake._serve(self, "DELETE")

        return Handler

    def _serve(self, http: BaseHTTPRequestHandler, method: str) -> None:
        parsed = urlparse(http.path)
        query = parse_qs(parsed.query)
        length = int(http.headers.get("Content-Length") or 0)
        body = json.loads(http.rfile.read(length)) if length else None
        status = self._failure(method, parsed.path)
        request = Request(method, parsed.path, query, body, status or 0)
        self.requests.append(request)
        if status:
            self._status(http, status, HTTPStatus(status).phrase.replace(" ", ""), "scripted failure")
            request.status = status
            return
        parts = parsed.path.strip("/").split("/")
        if parts[:2] == ["api", "v1"] and len(parts) >= 5 and parts[2] == "namespaces":
            request.status = self._core(http, parts[3], parts[4:], query)
        elif parts[0] == "apis" and len(parts) >= 6 and parts[3] == "namespaces":
            request.status = self._objects(http, method, parsed.path, parts, body, query)
        else:
            request.status = self._status(http, 404, "NotFound", f"no route for {parsed.path}")

    def _failure(self, method: str, path: str) -> int | None:
        rule = self.fail_with
        if rule is None:
            return None
        return rule(method, path) if callable(rule) else rule

    def _objects(
        self, http: BaseHTTPRequestHandler, method: str, path: str, parts: list[str], body: Any, query: dict[str, Any]
    ) -> int:
        collection = "/" + "/".join(parts[:6])
        if method == "POST" and len(parts) == 6:
            name = body["metadata"]["name"]
            with self._lock:
                exists = f"{collection}/{name}" in self.objects
            if exists:
                return self._status(http, 409, "AlreadyExists", f'{parts[5]} "{name}" already exists')
            body["metadata"].setdefault("namespace", parts[4])
            self._create(collection, body)
            return self._json(http, 201, self.objects[f"{collection}/{name}"])
        with self._lock:
            found = self.objects.get(path)
        if found is None:
            return self._status(http, 404, "NotFound", f'{parts[5]} "{parts[-1]}" not found')
        if method == "GET":
            with self._lock:
                text = json.dumps(found)
            return self._json(http, 200, json.loads(text))
        if method == "DELETE":
            with self._lock:
                del self.objects[path]
                for key, pod in list(self.pods.items()):
                    if pod["metadata"]["ownerReferences"][0]["name"] == found["metadata"]["name"]:
                        del self.pods[key]
                self._deleted[path].set()
            return self._json(http, 200, {"kind": "Status", "apiVersion": "v1", "status": "Success"})
        return self._status(http, 405, "MethodNotAllowed", method)

    def _core(self, http: BaseHTTPRequestHandler, namespace: str, rest: list[str], query: dict[str, Any]) -> int:
        if rest == ["pods"]:
            wanted = dict(
                item.split("=", 1) for item in (query.get("labelSelector") or [""])[0].split(",") if "=" in item
            )
            with self._lock:
                items = [
                    json.loads(json.dumps(p))
                    for (ns, _), p in self.pods.items()
                    if ns == namespace and all(p["metadata"]["labels"].get(k) == v for k, v in wanted.items())
                ]
            return self._json(http, 200, {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items})
        if len(rest) == 3 and rest[0] == "pods" and rest[2] == "log":
            return self._log(http, namespace, rest[1], query)
        if len(rest) == 2 and rest[0] == "configmaps":
            found = self.config_maps.get((namespace, rest[1]))
            if found is None:
                return self._status(http, 404, "NotFound", f'configmaps "{rest[1]}" not found')
            return self._json(http, 200, found)
        return self._status(http, 404, "NotFound", "/".join(rest))

    def _log(self, http: BaseHTTPRequestHandler, namespace: str, pod_name: str, query: dict[str, Any]) -> int:
        with self._lock:
            pod = self.pods.get((namespace, pod_name))
        if pod is None:
            return self._status(http, 404, "NotFound", f'pods "{pod_name}" not found')
        container = (query.get("container") or [""])[0]
        if container not in [c["name"] for c in [*pod["spec"]["containers"], *pod["spec"].get("initContainers", [])]]:
            return self._status(http, 400, "BadRequest", f"container {container} is not valid for pod {pod_name}")
        owner = pod["metadata"]["ownerReferences"][0]["name"]
        script = self._script(owner)
        stamps = (query.get("timestamps") or ["false"])[0] == "true"
        follow = (query.get("follow") or ["false"])[0] == "true"
        http.send_response(200)
        http.send_header("Content-Type", "text/plain")
        http.end_headers()
        make = script.container_lines.get(container)
        for i, line in enumerate(script.lines if make is None else make(pod)):
            prefix = f"2026-01-01T00:00:{2 + i // 1000:02d}.{(i % 1000) * 1000 + 1:09d}Z " if stamps else ""
            http.wfile.write(f"{prefix}{line}\n".encode())
        http.wfile.flush()
        self._log_served(namespace, pod_name)
        if follow and script.outcome is None:
            path = next((p for p, o in self.objects.items() if o["metadata"]["name"] == owner), None)
            if path is not None:
                self._deleted[path].wait()  # a running trial's log stays open until its object is deleted
        return 200

    def _json(self, http: BaseHTTPRequestHandler, status: int, body: Any) -> int:
        data = json.dumps(body).encode()
        http.send_response(status)
        http.send_header("Content-Type", "application/json")
        http.send_header("Content-Length", str(len(data)))
        http.end_headers()
        http.wfile.write(data)
        return status

    def _status(self, http: BaseHTTPRequestHandler, code: int, reason: str, message: str) -> int:
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
                "reason": reason, "code": code}  # fmt: skip
        return self._json(http, code, body)
