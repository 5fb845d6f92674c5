"""``--auth serviceaccount``: a Kubernetes ServiceAccount token is checked by the cluster's TokenReview API.

Used when the UI runs in the cluster (manifests/base/ui.yaml): a tenant sends its ServiceAccount's token
(``kubectl create token NAME -n NS``) and sees namespace NS. One TokenReview per new token, made through
the project's one Kubernetes adapter (``katib_flows.cluster``) with the UI's own ServiceAccount (in a pod)
or kubeconfig; answers are kept for a minute so a page's polling does not flood the API server. Nothing
here runs, and kubernetes is never imported, unless the server was started with that flag.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from katib_flows.cluster import Access, api_call, kube_client

_PREFIX = "system:serviceaccount:"
_TTL_SECONDS = 60.0
_ACCESS = Access(
    credentials="the UI's ServiceAccount (manifests/base/ui.yaml) or your kubeconfig",
    needs="create on tokenreviews.authentication.k8s.io",
)


class TokenReviewer:
    """A token to its ServiceAccount's namespace (None when the cluster does not accept it as one)."""

    def __init__(self, client: Any = None) -> None:
        self._client = client if client is not None else kube_client()
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
        client = self._client
        review = client.V1TokenReview(spec=client.V1TokenReviewSpec(token=token))
        with api_call("reviewing a ServiceAccount token", _ACCESS) as answer:
            answer.value = client.AuthenticationV1Api().create_token_review(review)
        status = answer.value.status
        username = (status.user.username if status and status.user else None) or ""
        if not (status and status.authenticated) or not username.startswith(_PREFIX):
            return None  # not a ServiceAccount: people log in with a token file (--auth token)
        return username[len(_PREFIX) :].split(":", 1)[0]
