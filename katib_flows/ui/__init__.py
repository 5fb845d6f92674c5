"""``katib-flows ui``: a live web UI and a JSON API over any store, for the data scientist and the admin.

``create_app(store, access)`` builds the ASGI application (FastAPI): pages that update themselves as trials
finish, the report's figures, stop and delete through the engine's functions, and ``/api/v1/`` in the
CLI's ``--output json`` shapes with an OpenAPI document. ``Access`` restricts what each request sees:
``--namespace``, and tokens from a file or Kubernetes ServiceAccount tokens (``--auth``). Needs the ``ui``
and ``report`` extras. Imports neither hera nor kubernetes (``--auth serviceaccount`` alone loads the
Kubernetes adapter, ``katib_flows.cluster``).
"""

from katib_flows.ui._access import AUTH_MODES, Access, AccessConfigError, Scope, load_tokens
from katib_flows.ui._app import create_app, preload
from katib_flows.ui._data import Reader, sample
from katib_flows.ui._tokenreview import TokenReviewer

__all__ = [
    "AUTH_MODES",
    "Access",
    "AccessConfigError",
    "Reader",
    "Scope",
    "TokenReviewer",
    "create_app",
    "load_tokens",
    "preload",
    "sample",
]
