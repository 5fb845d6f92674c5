"""A fake Argo Server: the part of its REST API that ``katib-flows submit``/``watch`` call, over real HTTP.

Named a fake in the tests: there is no Argo Server on this machine. It speaks Argo Server's wire
format (read from Argo's swagger and ``server/workflow/workflow_server.go``): ``POST
/api/v1/workflows/{ns}`` with ``{"namespace", "workflow"}`` answers the created Workflow (with ``uid``
and ``creationTimestamp``), ``GET /api/v1/workflows/{ns}/{name}`` one Workflow, ``GET
/api/v1/workflows/{ns}?listOptions.labelSelector=a=b,c=d`` a list whose ``items`` is ``null`` when
empty. Errors are grpc-gateway's JSON ``{"code": <gRPC code>, "message": "..."}`` with its HTTP status:
16/401 for a missing or wrong bearer token, 7/403 for a namespace the token may not use, 6/409 for a
duplicate name, 3/400 for a body that is not a Workflow, 5/404 for an unknown one.

Every request is recorded (method, path, query, headers, parsed body) for the tests to inspect.
``controller``, when set, is called in a background thread with each created Workflow: a test plugs
in the conformance harness there to play Argo's controller and moves the phase with ``set_phase``.
"""

from __future__ import annotations

import json
import ssl
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

_PREFIX = "/api/v1/workflows/"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


class FakeArgoServer:
    """Workflows in memory behind Argo Server's REST paths; see the module docstring for what it answers."""

    def __init__(
        self, token: str = "t0ken", *, forbidden_namespaces: tuple[str, ...] = (), tls: tuple[Path, Path] | None = None
    ) -> None:
        self.token = token
        self.forbidden_namespaces = set(forbidden_namespaces)
        self.workflows: dict[tuple[str, str], dict[str, Any]] = {}
        self.requests: list[Request] = []
        self.controller: Callable[[dict[str, Any]], None] | None = None
        self.refuse_next: tuple[int, dict[str, Any]] | None = None
        """(status, error JSON) to answer the next create with, as the Kubernetes API's admission would."""
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._clock = 0
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.tls = tls
        if tls is not None:  # (certificate, key): HTTPS, as Argo Server serves by default
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)

    @property
    def address(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"{host}:{port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.address}"

    @contextmanager
    def running(self) -> Iterator[FakeArgoServer]:
        thread = threading.Thread(target=self.httpd.serve_forever, name="fake-argo-server", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.httpd.shutdown()
            self.httpd.server_close()
            thread.join()
            self.join_controllers()

    def join_controllers(self) -> None:
        for thread in list(self._threads):
            thread.join()

    def set_phase(self, namespace: str, name: str, phase: str, message: str = "") -> None:
        with self._lock:
            status = self.workflows[(namespace, name)].setdefault("status", {})
            status["phase"] = phase
            if message:
                status["message"] = message

    def created(self) -> list[Request]:
        return [r for r in self.requests if r.method == "POST"]

    # -- the API ----------------------------------------------------------------------------------------

    def answer(self, request: Request) -> tuple[int, dict[str, Any] | None]:
        with self._lock:
            self.requests.append(request)
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return 401, {
                "code": 16,
                "message": "token not valid. see https://argo-workflows.readthedocs.io/en/latest/faq/",
            }
        parts = request.path.removeprefix(_PREFIX).split("/") if request.path.startswith(_PREFIX) else []
        if not parts or not parts[0] or len(parts) > 2:
            return 404, {"code": 5, "message": "Not Found"}
        namespace = unquote(parts[0])
        if namespace in self.forbidden_namespaces:
            verb = {"POST": "create", "GET": "get" if len(parts) == 2 else "list"}.get(request.method, "?")
            return 403, {
                "code": 7,
                "message": f'workflows.argoproj.io is forbidden: User "system:serviceaccount:argo:client" cannot '
                f'{verb} resource "workflows" in API group "argoproj.io" in the namespace "{namespace}"',
            }
        if request.method == "POST" and len(parts) == 1:
            return self._create(namespace, request.body)
        if request.method == "GET" and len(parts) == 2:
            return self._get(namespace, unquote(parts[1]))
        if request.method == "GET":
            return self._list(namespace, request.query)
        return 405, {"code": 12, "message": "Method Not Allowed"}

    def _create(self, namespace: str, body: Any) -> tuple[int, dict[str, Any]]:
        workflow = body.get("workflow") if isinstance(body, dict) else None
        problem = _invalid(workflow)
        if problem:
            return 400, {"code": 3, "message": problem}
        assert isinstance(workflow, dict)
        if self.refuse_next is not None:
            (status, error), self.refuse_next = self.refuse_next, None
            return status, error
        metadata = workflow["metadata"]
        name = metadata.get("name") or metadata["generateName"] + uuid.uuid4().hex[:5]
        with self._lock:
            if (namespace, name) in self.workflows:
                return 409, {"code": 6, "message": f'workflows.argoproj.io "{name}" already exists'}
            self._clock += 1
            stored = json.loads(json.dumps(workflow))
            stored["metadata"] = {
                **metadata,
                "name": name,
                "namespace": namespace,
                "uid": str(uuid.uuid4()),
                "resourceVersion": str(self._clock),
                "creationTimestamp": f"2026-01-01T00:00:{self._clock:02d}Z",
            }
            stored["status"] = {}
            self.workflows[(namespace, name)] = stored
            answer = json.loads(json.dumps(stored))
        if self.controller is not None:
            thread = threading.Thread(target=self.controller, args=(json.loads(json.dumps(stored)),), daemon=True)
            self._threads.append(thread)
            thread.start()
        return 200, answer

    def _get(self, namespace: str, name: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            found = self.workflows.get((namespace, name))
            if found is None:
                return 404, {"code": 5, "message": f'workflows.argoproj.io "{name}" not found'}
            return 200, json.loads(json.dumps(found))

    def _list(self, namespace: str, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        selector = query.get("listOptions.labelSelector", [""])[0]
        wanted = dict(term.split("=", 1) for term in selector.split(",") if term)
        with self._lock:
            items = [
                json.loads(json.dumps(w))
                for (ns, _), w in self.workflows.items()
                if ns == namespace and all(w["metadata"].get("labels", {}).get(k) == v for k, v in wanted.items())
            ]
            version = str(self._clock)
        return 200, {"metadata": {"resourceVersion": version}, "items": items or None}


def _invalid(workflow: Any) -> str:
    """What Argo's validation says about a body that is not a runnable Workflow ('' when it is one)."""
    if not isinstance(workflow, dict) or workflow.get("kind") != "Workflow":
        return "workflow must be a Workflow object"
    metadata = workflow.get("metadata") or {}
    if not metadata.get("name") and not metadata.get("generateName"):
        return "workflow name or generateName is required"
    spec = workflow.get("spec") or {}
    names = {t.get("name") for t in spec.get("templates") or []}
    if spec.get("entrypoint") not in names:
        return f"spec.entrypoint template '{spec.get('entrypoint')}' not found"
    return ""


def _handler(server: FakeArgoServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", errors="replace")
            headers = {k.lower(): v for k, v in self.headers.items()}
            request = Request(self.command, parts.path, parse_qs(parts.query), headers, body)
            status, answer = server.answer(request)
            data = json.dumps(answer).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the tests read ``requests``
            pass

    return Handler
