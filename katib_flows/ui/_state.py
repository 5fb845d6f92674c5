"""What every request of the UI shares: the store's reader and the access rules, and who is asking.

``create_app`` puts one ``UIState`` on the application; routes reach it through ``request.app.state.ui``.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from katib_flows.ui._access import COOKIE, Access, Scope
from katib_flows.ui._data import Reader


@dataclass(frozen=True)
class UIState:
    reader: Reader
    access: Access


def token_of(request: Request) -> str | None:
    """The bearer token of the request, else the login page's cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE) or None


def scope_of(request: Request) -> Scope:
    """The request's scope, worked out once per request; ``Unauthorized`` without an accepted token."""
    cached = getattr(request.state, "scope", None)
    if isinstance(cached, Scope):
        return cached
    ui: UIState = request.app.state.ui
    found = ui.access.scope(token_of(request))
    request.state.scope = found
    return found
