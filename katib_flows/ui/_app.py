"""The UI as an ASGI application: ``create_app`` wires the API, the pages and the static files to a store.

``katib-flows ui`` calls ``create_app`` and serves it with uvicorn; tests and other ASGI servers can call
it too. Errors of katib-flows' own types become answers here, in one place: not found (and not yours) 404,
no token 401, a stop of a completed experiment 409, the store or the cluster unreachable 503. The API
answers JSON ``{"detail": ...}``; the pages answer a short HTML page, or send you to log in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from katib_flows import __version__
from katib_flows.errors import AlreadyExistsError, ClusterError, NotFoundError, NotRunningError, StoreError
from katib_flows.store import Store
from katib_flows.ui import _api, _pages
from katib_flows.ui._access import Access, Unauthorized
from katib_flows.ui._data import Reader
from katib_flows.ui._state import UIState

_DESCRIPTION = """Experiments, trials and observation logs of a katib-flows store, in the shapes of
`katib-flows ... --output json` (see the README). Send `Authorization: Bearer TOKEN` when the server runs
with `--auth`; stop and delete also need the header `X-Requested-With`."""


def create_app(store: Store, access: Access | None = None, *, root_path: str = "") -> FastAPI:
    """The UI over ``store`` (opened by the caller, who closes it), visible as ``access`` allows."""
    app = FastAPI(
        title="katib-flows UI", version=__version__, description=_DESCRIPTION, root_path=root_path,
        docs_url="/api/docs", redoc_url=None, openapi_url="/api/v1/openapi.json",
    )  # fmt: skip
    app.state.ui = UIState(Reader(store), access or Access())
    app.include_router(_api.router)
    app.include_router(_pages.router)
    app.mount("/static", StaticFiles(directory=_pages.HERE / "static"), name="static")
    for error, code in ((NotFoundError, 404), (NotRunningError, 409), (AlreadyExistsError, 409),
                        (StoreError, 503), (ClusterError, 503)):  # fmt: skip
        app.add_exception_handler(error, _answer(code))
    app.add_exception_handler(Unauthorized, _unauthorized)
    return app


def preload() -> None:
    """Load what the first page would otherwise load while it waits (seconds on a busy machine): optuna with
    its importance evaluators (scikit-learn), and plotly's figure classes, validators and the report's template.
    ``katib-flows ui`` calls it before serving."""
    import optuna.importance  # noqa: F401
    import plotly.graph_objects as go

    for trace in (go.Scatter(x=[0], y=[0]), go.Parcoords(dimensions=[{"label": "x", "values": [0]}]), go.Bar(x=[0])):
        go.Figure(trace, layout={"template": "plotly_white"}).add_hline(y=0).to_json()


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(f"{request.scope.get('root_path', '')}/api/")


def _answer(code: int) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handler(request: Request, exc: Exception) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=code)
        title = "Not found" if code == 404 else "Cannot do that" if code == 409 else "Store unavailable"
        return _pages.render(request, "problem.html", title=title, page="problem", problem=str(exc), status_code=code)

    return handler


async def _unauthorized(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return JSONResponse({"detail": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
    return RedirectResponse(f"{request.scope.get('root_path', '')}/login", status_code=303)
