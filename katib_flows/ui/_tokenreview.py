"""``--auth serviceaccount``: a Kubernetes ServiceAccount token is checked by the cluster's TokenReview API.

Used when the UI runs in the cluster (manifests/base/ui.yaml): a tenant sends its ServiceAccount's token
(``kubectl create token NAME -n NS``) and sees namespace NS. One POST per new token, with the UI's own
in-cluster credentials; answers are kept for a minute so a page's polling does not flood the API server.
The standard library's HTTP client is enough for one call, so the UI needs neither the kubernetes package
nor its import time.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from katib_flows.errors import ClusterError

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
_PREFIX = "system:serviceaccount:"
_TTL_SECONDS = 60.0


@dataclass(frozen=True)
class ClusterAccess:
    """Where the API server is and how the UI authenticates itself (its own ServiceAccount, in a pod)."""

    server: str
    token: str
    ca_file: Path | None

    @classmethod
    def in_cluster(cls) -> ClusterAccess:
        import os

        host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT", "443")
        token_file = SERVICE_ACCOUNT_DIR / "token"
        if not host or not token_file.is_file():
            raise ClusterError(
                "--auth serviceaccount works inside a Kubernetes pod (it needs KUBERNETES_SERVICE_HOST and "
                f"{token_file}); outside a cluster use --auth token --token-file FILE"
            )
        ca = SERVICE_ACCOUNT_DIR / "ca.crt"
        return cls(f"https://{host}:{port}", token_file.read_text().strip(), ca if ca.is_file() else None)


class TokenReviewer:
    """A token to its ServiceAccount's namespace, asked of ``POST /apis/authentication.k8s.io/v1/tokenreviews``."""

    def __init__(self, cluster: ClusterAccess, *, timeout: float = 10.0) -> None:
        self._cluster, self._timeout = cluster, timeout
        self._context = ssl.create_default_context(cafile=str(cluster.ca_file)) if cluster.ca_file else None
        self._known: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def __call__(self, token: str) -> str | None:
        now = time.monotonic()
        with self._lock:
            cached = self._known.get(token)
        if cached is not None and now - cached[0] < _TTL_SECONDS:
            return cached[1]
        namespace = self._review(token)
        with self._lock:
            self._known = {k: v for k, v in self._known.items() if now - v[0] < _TTL_SECONDS}
            self._known[token] = (now, namespace)
        return namespace

    def _review(self, token: str) -> str | None:
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}
        request = urllib.request.Request(
            f"{self._cluster.server}/apis/authentication.k8s.io/v1/tokenreviews",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {self._cluster.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout, context=self._context) as response:
                status = json.load(response).get("status") or {}
        except urllib.error.HTTPError as exc:
            hint = " (the UI's ServiceAccount needs `create` on tokenreviews)" if exc.code == 403 else ""
            raise ClusterError(f"TokenReview failed with HTTP {exc.code}{hint}", temporary=exc.code >= 500) from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ClusterError(f"TokenReview at {self._cluster.server} failed: {exc}", temporary=True) from exc
        username = (status.get("user") or {}).get("username", "")
        if not status.get("authenticated") or not username.startswith(_PREFIX):
            return None  # not a ServiceAccount: people log in through a token file (--auth token)
        return username[len(_PREFIX) :].split(":", 1)[0]
