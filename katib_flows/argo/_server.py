"""Argo Server's REST API: create, read and list Workflows, for ``katib-flows submit``/``watch`` and the DSL.

``ArgoServer`` speaks the three calls submitting needs (``POST /api/v1/workflows/{ns}``, ``GET
/api/v1/workflows/{ns}/{name}``, ``GET /api/v1/workflows/{ns}?listOptions.labelSelector=...``) and
``submit`` is the one function the CLI and ``Experiment.submit`` both use. It is configured like the
``argo`` CLI: ``ARGO_SERVER`` (``host:port`` or a URL), ``ARGO_TOKEN`` (with or without ``Bearer ``),
``ARGO_INSECURE_SKIP_VERIFY``, ``ARGO_SECURE=false`` for plain HTTP and ``ARGO_BASE_HREF``.

A small client over ``urllib`` rather than hera's ``WorkflowsService``, for reasons found by trying it:
``create_workflow`` re-serialises the Workflow through hera's pydantic models with ``exclude_defaults``,
so what reaches the server is hera's rendering and not the compiled dict ``katib-flows compile`` prints
(equal today for our examples, but nothing guarantees it); that serialisation calls pydantic's
deprecated ``.json()``, which warns on every call with pydantic 2.x; and ``verify_ssl=False`` makes
``requests`` warn on every call as well. These three calls need only the standard library. Argo's
errors arrive as JSON ``{"code": <gRPC code>, "message": "..."}``; they become the typed errors of
``katib_flows.cluster.status_error`` (the same mapping as the Kubernetes API's) carrying Argo's message
and the fix, and no ``urllib`` exception leaves this module.
"""

from __future__ import annotations

import json
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from katib_flows.cluster import INVALID_STATUSES, Access, Address, http_address, status_error
from katib_flows.errors import ClusterError, CompileError, ConflictError

SERVER_ENV = "ARGO_SERVER"
TOKEN_ENV = "ARGO_TOKEN"
INSECURE_ENV = "ARGO_INSECURE_SKIP_VERIFY"
SECURE_ENV = "ARGO_SECURE"
BASE_HREF_ENV = "ARGO_BASE_HREF"
_PORT_FORWARD = "kubectl -n argo port-forward svc/argo-server 2746:2746"
_TRUE = {"1", "true", "yes", "on"}
_ACCESS = Access(
    credentials=f"--token / {TOKEN_ENV} (a token from `argo auth token`, or a ServiceAccount's token)",
    needs="create, get and list on workflows.argoproj.io in that namespace",
)
_ADDRESS = Address("the Argo Server address", "--argo-server", SERVER_ENV, "localhost:2746")


@dataclass(frozen=True)
class Submitted:
    """The Workflow Argo Server created: what ``katib-flows submit --output json`` prints."""

    name: str
    namespace: str
    uid: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "namespace": self.namespace, "uid": self.uid}


def server_url(address: str, *, secure: bool = True, base_href: str = "") -> str:
    """A base URL ending in ``/`` from ``host:port`` or a URL (as the argo CLI reads ``ARGO_SERVER``)."""
    parts = http_address(address, _ADDRESS, scheme="https" if secure else "http")
    path = parts.path if parts.path not in ("", "/") else base_href.strip()
    path = "/" + path.strip("/") + "/" if path.strip("/") else "/"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def authorization(token: str | None) -> str | None:
    """The ``Authorization`` header for a token given with or without its scheme (``Bearer xyz`` or ``xyz``)."""
    if token is None or not token.strip():
        return None
    token = token.strip()
    return token if len(token.split()) > 1 else f"Bearer {token}"


class ArgoServer:
    """One Argo Server: its base URL, the token sent as ``Authorization``, and how TLS is checked."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        insecure: bool = False,
        secure: bool = True,
        base_href: str = "",
        timeout: float = 30.0,
    ) -> None:
        self.url = server_url(url, secure=secure, base_href=base_href)
        self.authorization = authorization(token)
        self.insecure, self.timeout = insecure, timeout

    @classmethod
    def from_env(cls, url: str | None = None, token: str | None = None, insecure: bool | None = None) -> ArgoServer:
        """Arguments first, then ``ARGO_SERVER``, ``ARGO_TOKEN`` and ``ARGO_INSECURE_SKIP_VERIFY``, as the argo CLI."""
        address = url or os.environ.get(SERVER_ENV)
        if not address:
            raise ClusterError(
                f"no Argo Server given: pass --argo-server HOST:PORT (or argo_server=...) or set {SERVER_ENV}; "
                f"from a laptop, `{_PORT_FORWARD}` then --argo-server localhost:2746"
            )
        if insecure is None:
            insecure = os.environ.get(INSECURE_ENV, "").strip().lower() in _TRUE
        return cls(
            address,
            token=token if token is not None else os.environ.get(TOKEN_ENV),
            insecure=insecure,
            secure=os.environ.get(SECURE_ENV, "true").strip().lower() in _TRUE,
            base_href=os.environ.get(BASE_HREF_ENV, ""),
        )

    def __repr__(self) -> str:
        return f"ArgoServer({self.url!r}, token={'set' if self.authorization else 'none'}, insecure={self.insecure})"

    # -- the calls ----------------------------------------------------------------------------------------

    def create_workflow(self, namespace: str, workflow: dict[str, Any]) -> dict[str, Any]:
        """``POST /api/v1/workflows/{namespace}`` with ``{"namespace", "workflow"}``; the created Workflow."""
        name = (workflow.get("metadata") or {}).get("name") or (workflow.get("metadata") or {}).get("generateName")
        body = {"namespace": namespace, "workflow": workflow}
        try:
            return self._call("POST", self._path(namespace), body, doing=f"creating Workflow {namespace}/{name}")
        except ConflictError as exc:
            raise ConflictError(
                f"a Workflow named {name!r} already exists in namespace {namespace!r} ({exc}). Submit "
                f"under another name with --name NEW (Experiment(name=...) in Python; a new experiment), or delete "
                "the old Workflow with "
                f"`argo delete {name} -n {namespace}` and submit again (the experiment stays in the store, and "
                "the new Workflow continues it)"
            ) from None

    def get_workflow(self, namespace: str, name: str) -> dict[str, Any]:
        """``GET /api/v1/workflows/{namespace}/{name}``; ``NotFoundError`` when there is none."""
        return self._call("GET", self._path(namespace, name), None, doing=f"reading Workflow {namespace}/{name}")

    def list_workflows(self, namespace: str, labels: dict[str, str]) -> list[dict[str, Any]]:
        """The Workflows of ``namespace`` carrying every label of ``labels`` (only their metadata and status)."""
        query = {
            "listOptions.labelSelector": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
            "fields": "items.metadata.name,items.metadata.namespace,items.metadata.uid,items.metadata.labels,"
            "items.metadata.creationTimestamp,items.status.phase,items.status.message",
        }
        path = self._path(namespace) + "?" + urllib.parse.urlencode(query)
        found = self._call("GET", path, None, doing=f"listing Workflows in {namespace}")
        return list(found.get("items") or [])  # Argo answers "items": null for none

    # -- plumbing -----------------------------------------------------------------------------------------

    @staticmethod
    def _path(namespace: str, name: str | None = None) -> str:
        path = "api/v1/workflows/" + urllib.parse.quote(namespace, safe="")
        return path + "/" + urllib.parse.quote(name, safe="") if name is not None else path

    def _context(self) -> ssl.SSLContext | None:
        if not self.url.startswith("https://"):
            return None
        context = ssl.create_default_context()
        if self.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _call(self, method: str, path: str, body: dict[str, Any] | None, *, doing: str) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.authorization:
            headers["Authorization"] = self.authorization
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=self._context()) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                raise self._refused(exc.code, exc.read(), doing) from None
        except (urllib.error.URLError, OSError) as exc:
            raise self._unreachable(exc, doing) from exc
        try:
            answer = json.loads(raw or b"{}")
        except ValueError as exc:
            raise ClusterError(f"{doing}: {self.url} answered something that is not JSON; is it Argo Server?") from exc
        if not isinstance(answer, dict):
            raise ClusterError(f"{doing}: {self.url} answered {type(answer).__name__}, not a JSON object")
        return answer

    def _refused(self, status: int, raw: bytes, doing: str) -> ClusterError:
        message = _message(raw)
        if status in INVALID_STATUSES:
            said = f"Argo refused the Workflow ({status}): {message or 'no message'}"
        else:
            said = f"Argo Server answered {status}: {message}" if message else f"Argo Server answered {status}"
        return status_error(status, doing, said, _ACCESS)

    def _unreachable(self, exc: BaseException, doing: str) -> ClusterError:
        """No HTTP answer: a ``TemporaryClusterError`` saying where it looked and what to check."""
        reason = getattr(exc, "reason", exc)
        hint = f"check --argo-server / {SERVER_ENV} (from a laptop: `{_PORT_FORWARD}`, then localhost:2746)"
        if isinstance(reason, ssl.SSLCertVerificationError):
            hint = (
                f"its TLS certificate is not trusted ({reason.verify_message}); for Argo Server's default "
                f"self-signed certificate add --insecure-skip-verify (or {INSECURE_ENV}=true)"
            )
        elif isinstance(reason, ssl.SSLError):
            hint = f"it may serve plain HTTP: give http://HOST:PORT (or {SECURE_ENV}=false)"
        return status_error(None, doing, f"cannot reach Argo Server at {self.url} ({reason}); {hint}", _ACCESS)


def _message(raw: bytes) -> str:
    """Argo's error message: the ``message`` of its JSON error, else the body's text."""
    text = raw.decode("utf-8", errors="replace").strip()
    try:
        answer = json.loads(text)
    except ValueError:
        return text[:500]
    if isinstance(answer, dict) and isinstance(answer.get("message"), str):
        return str(answer["message"])
    return text[:500]


def submit(server: ArgoServer, workflow: dict[str, Any], *, namespace: str | None = None) -> Submitted:
    """Create a compiled Workflow through Argo Server: the one path of ``katib-flows submit`` and the DSL.

    ``namespace`` defaults to the Workflow's own ``metadata.namespace``, else ``default``. The Workflow
    is checked for fields Argo does not know first: such a field is a bug of the compiler, said as such.
    """
    from katib_flows.argo._validate import unknown_fields

    problems = unknown_fields(workflow)
    if problems:
        raise CompileError("the compiled Workflow is not valid Argo:\n  " + "\n  ".join(problems))
    namespace = namespace or (workflow.get("metadata") or {}).get("namespace") or "default"
    created = server.create_workflow(namespace, workflow)
    metadata = created.get("metadata") or {}
    name = metadata.get("name")
    if not name:
        raise ClusterError(f"Argo Server created a Workflow in {namespace} but did not say its name: {created!r:.200}")
    namespace = str(metadata.get("namespace") or namespace)
    return Submitted(name=str(name), namespace=namespace, uid=str(metadata.get("uid") or ""))
