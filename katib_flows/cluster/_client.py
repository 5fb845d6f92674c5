"""The only module of katib-flows that imports the ``kubernetes`` client: its configuration and its errors.

``kube_client`` configures the client in-cluster (a pod's ServiceAccount), else from the kubeconfig
(``KUBECONFIG``); ``api_call`` wraps each request so that ``ApiException`` and a lost connection leave as
the typed errors of ``_status.status_error``. Callers are the Argo exit step's ``KubernetesWorkflows``
(``argo/_cluster.py``) and the trial runner's ``KubeApi`` (``kube/_api.py``). The imports are inside the
functions: importing this module costs nothing, and ``katib-flows --help`` or a local run never load it.
"""

from __future__ import annotations

import json
import os
from types import TracebackType
from typing import Any

from katib_flows.cluster._status import Access, status_error
from katib_flows.errors import ClusterError


def kube_client() -> Any:
    """The ``kubernetes.client`` module, configured in-cluster (a pod's ServiceAccount) or else from the
    kubeconfig (``KUBECONFIG``); ``ClusterError`` when neither works or the client is not installed."""
    try:
        from kubernetes import client, config
    except ImportError as exc:
        raise ClusterError("the kubernetes client is not installed: pip install kubernetes") from exc
    try:
        config.load_incluster_config()
    except config.ConfigException:
        try:
            config.load_kube_config(config_file=os.environ.get("KUBECONFIG"))
        except (config.ConfigException, OSError) as exc:
            raise ClusterError(f"no Kubernetes configuration: not in a pod, and no usable kubeconfig ({exc})") from exc
    return client


class Answer:
    """What the request inside ``api_call`` returned; stays None when a 404 or 409 was allowed."""

    value: Any = None


class api_call:  # lower case: used like a function, in a with statement
    """``with api_call(doing, access) as answer: answer.value = api.method(...)``: errors leave typed.

    ``ApiException`` becomes ``status_error``'s error for its status (the Kubernetes Status message
    included); a refused or reset connection or a timeout a ``TemporaryClusterError``. ``missing_ok`` and
    ``conflict_ok`` let a 404 or a 409 through with ``answer.value`` None instead.
    """

    def __init__(self, doing: str, access: Access, *, missing_ok: bool = False, conflict_ok: bool = False) -> None:
        self.doing, self.access, self.missing_ok, self.conflict_ok = doing, access, missing_ok, conflict_ok
        self.answer = Answer()

    def __enter__(self) -> Answer:
        return self.answer

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> bool:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        if isinstance(exc, ApiException):
            if (exc.status == 404 and self.missing_ok) or (exc.status == 409 and self.conflict_ok):
                self.answer.value = None
                return True
            said = f"the API server refused ({exc.status} {exc.reason or ''}){_message(exc.body)}"
            raise status_error(exc.status, self.doing, said, self.access) from exc
        if isinstance(exc, HTTPError | OSError):  # connection refused or reset, timeouts: unreachable for now
            said = f"the API server cannot be reached ({exc.__class__.__name__}: {exc})"
            raise status_error(None, self.doing, said, self.access) from exc
        return False


def _message(body: Any) -> str:
    """``: <message>`` of a Kubernetes Status body, or nothing."""
    try:
        message = json.loads(body or "{}").get("message")
    except (ValueError, TypeError, AttributeError):
        return ""
    return f": {message}" if message else ""
