"""The one mapping from an HTTP status to a katib-flows error, for the Kubernetes API and Argo Server alike.

Called by the Kubernetes client's error translation (``_client.api_errors``) and by Argo Server's REST
client (``argo/_server.py``). Each caller says in its own words what the server answered (``said``: the
Kubernetes Status message, or Argo's gRPC-JSON message) and who it is (``Access``); this module decides
what kind of error that is and which advice goes with it, so a 403 or a 422 means the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from katib_flows.errors import (
    ClusterError,
    ConflictError,
    InvalidObjectError,
    ObjectNotFoundError,
    TemporaryClusterError,
    UnauthorizedError,
)

UNAUTHORIZED_STATUSES = (401, 403)
INVALID_STATUSES = (400, 422)


@dataclass(frozen=True)
class Access:
    """Who is calling and what it must be allowed: the advice a 401 or 403 gives."""

    #: Where the caller's token comes from, e.g. ``--token / ARGO_TOKEN (...)``.
    credentials: str
    #: The RBAC its ServiceAccount needs, e.g. ``get and create on workflows.argoproj.io``.
    needs: str


def status_error(status: int | None, doing: str, said: str, access: Access) -> ClusterError:
    """The typed error for ``status`` (None: no HTTP answer at all), its message ``{doing}: {said}`` plus advice.

    401/403 ``UnauthorizedError`` (the credentials and the RBAC to grant), 404 ``ObjectNotFoundError``,
    409 ``ConflictError``, 400/422 ``InvalidObjectError`` (the object must change), 429, 5xx and no status
    ``TemporaryClusterError``; any other status is a plain ``ClusterError``, which a retry would not mend.
    """
    message = f"{doing}: {said}"
    if status in UNAUTHORIZED_STATUSES:
        return UnauthorizedError(
            f"{message}. Check {access.credentials}; its ServiceAccount needs {access.needs} (RBAC)"
        )
    if status == 404:
        return ObjectNotFoundError(message)
    if status == 409:
        return ConflictError(message)
    if status in INVALID_STATUSES:
        return InvalidObjectError(message)
    if status is None or status == 429 or status >= 500:
        return TemporaryClusterError(message)
    return ClusterError(message)
