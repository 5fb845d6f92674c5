"""The HTML pages: thin shells rendered by jinja2 (autoescaped), filled and kept live by ``static/ui.js``
from ``/api/v1/``. Also the login page that turns a token into a cookie, and the vendored scripts.

A page checks the namespace against the request's scope as the API does, so another tenant's experiment
is a 404 page; a request without an accepted token is sent to ``/login``. plotly.js is served from the
plotly package itself (the ``report`` extra), so the pages need no network beyond this server.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from katib_flows.errors import NotFoundError
from katib_flows.report import History
from katib_flows.store import TrialStatus, experiment_not_found
from katib_flows.ui._access import COOKIE, Unauthorized
from katib_flows.ui._api import NAME_PATTERN, NAMESPACE_PATTERN
from katib_flows.ui._state import UIState, scope_of

HERE = Path(__file__).parent
router = APIRouter(include_in_schema=False)
TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
_COOKIE_SECONDS = 12 * 3600


def render(request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    env = TEMPLATES
    ui: UIState = request.app.state.ui
    context.setdefault("data", {})
    context.setdefault("crumbs", [])
    context.setdefault("plots", False)
    html = env.get_template(template).render(
        root=request.scope.get("root_path", ""), signed_in=ui.access.needs_token and COOKIE in request.cookies,
        **context,
    )  # fmt: skip
    return HTMLResponse(html, status_code=status_code)


def _check(request: Request, namespace: str, name: str) -> None:
    names_ok = re.match(NAMESPACE_PATTERN, namespace) and re.match(NAME_PATTERN, name)
    if not names_ok or not scope_of(request).allows(namespace):
        raise experiment_not_found(namespace, name)


@router.get("/")
def experiments_page(request: Request) -> Response:
    scope_of(request)
    return render(request, "experiments.html", title="Experiments", page="experiments")


@router.get("/experiments/{namespace}/{name}")
def experiment_page(request: Request, namespace: str, name: str) -> Response:
    _check(request, namespace, name)
    ui: UIState = request.app.state.ui
    history = History(ui.reader.snapshot(namespace, name).record, [], {})
    # A NAS experiment has no parameters; its one column is the trials' architectures, in words.
    nas = history.spec.spec.nas_config is not None
    parameters = ["architecture"] if nas else [p.name for p in history.parameters]
    return render(
        request, "experiment.html", title=f"{namespace}/{name}", page="experiment", plots=True,
        namespace=namespace, name=name, parameters=parameters, objective=history.objective.metric or "objective",
        statuses=[s.value for s in TrialStatus],
        data={"namespace": namespace, "name": name, "parameters": json.dumps(parameters)},
        crumbs=[(namespace, f"/?namespace={namespace}"), (name, "")],
    )  # fmt: skip


@router.get("/experiments/{namespace}/{name}/trials/{trial}")
def trial_page(request: Request, namespace: str, name: str, trial: str) -> Response:
    _check(request, namespace, name)
    ui: UIState = request.app.state.ui
    if not re.match(NAME_PATTERN, trial):
        raise NotFoundError(f"trial {trial} not found")
    ui.reader.trial(namespace, name, trial)
    root = request.scope.get("root_path", "")
    return render(
        request, "trial.html", title=trial, page="trial", plots=True, trial=trial,
        data={"namespace": namespace, "name": name, "trial": trial},
        crumbs=[(namespace, f"{root}/"), (name, f"{root}/experiments/{namespace}/{name}"), (trial, "")],
    )  # fmt: skip


@router.get("/login")
def login_page(request: Request) -> Response:
    ui: UIState = request.app.state.ui
    if not ui.access.needs_token:
        return RedirectResponse(request.scope.get("root_path", "") + "/", status_code=303)
    return render(
        request, "login.html", title="Log in", page="login", serviceaccount=ui.access.mode == "serviceaccount"
    )


@router.post("/login")
def login(request: Request, token: Annotated[str, Form()]) -> Response:
    ui: UIState = request.app.state.ui
    try:
        ui.access.scope(token.strip())
    except Unauthorized as exc:
        return render(request, "login.html", title="Log in", page="login", problem=str(exc), status_code=401)
    response = RedirectResponse(request.scope.get("root_path", "") + "/", status_code=303)
    response.set_cookie(
        COOKIE, token.strip(), max_age=_COOKIE_SECONDS, httponly=True, samesite="strict",
        secure=request.url.scheme == "https",
    )  # fmt: skip
    return response


@router.get("/logout")
def logout(request: Request) -> Response:
    response = RedirectResponse(request.scope.get("root_path", "") + "/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/healthz")
def healthz(request: Request) -> Response:
    """For probes: 200 while the store answers (503 through the app's StoreError handler otherwise)."""
    ui: UIState = request.app.state.ui
    ui.reader.store.revision()
    return Response("ok", media_type="text/plain")


@router.get("/static/plotly.min.js")
def plotly_js() -> Response:
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})
