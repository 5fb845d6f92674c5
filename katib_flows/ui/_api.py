"""``/api/v1/``: experiments, trials and observation logs in the CLI's ``--output json`` shapes, plus the
figures, stop and delete that the pages use. Read by the pages' script and by anyone's scripts.

Every route takes the namespace from its path and checks it against the request's scope first, so a
namespace the caller may not see answers 404 exactly like one that does not exist. Stop and delete go
through the engine's functions, as ``katib-flows stop`` and ``delete`` do, and need the header
``X-Requested-With`` (any value): a browser sends it only from this UI's own script, never from a form or a
link on another site, so no other page can make a signed-in browser stop or delete anything.

Replies leave out what the views leave out (``response_model_exclude_unset``): a key only some views have,
such as a NAS trial's ``architecture`` or a Pareto trial's ``objectiveValues``, is absent, not null, as in
the CLI's JSON.
"""

from __future__ import annotations

from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response
from fastapi.responses import PlainTextResponse

from katib_flows.engine import delete_experiment, request_stop
from katib_flows.errors import NotFoundError
from katib_flows.paths import trial_log_path
from katib_flows.store import TrialStatus, experiment_not_found
from katib_flows.ui import _models as m
from katib_flows.ui._access import Scope
from katib_flows.ui._data import MAX_COMPARED
from katib_flows.ui._state import UIState, scope_of

NAME_PATTERN = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"
NAMESPACE_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
_SORT_PATTERN = r"^(seq|name|status|objective|start|completion|param:[^\x00]{1,253})$"
_TEXT = r"^[^\x00]*$"  # PostgreSQL refuses NUL in text; nothing legitimate contains one

Namespace = Annotated[str, Path(pattern=NAMESPACE_PATTERN, description="The experiment's namespace")]
Name = Annotated[str, Path(pattern=NAME_PATTERN, max_length=253, description="The experiment's name")]
TrialName = Annotated[str, Path(pattern=NAME_PATTERN, max_length=253, description="The trial's name")]
_JSON_OBJECT: dict[int | str, dict[str, Any]] = {200: {"content": {"application/json": {"schema": {"type": "object"}}}}}

router = APIRouter(prefix="/api/v1", responses=m.problems(401, 404, 422, 503))


def state(request: Request) -> UIState:
    ui: UIState = request.app.state.ui
    return ui


def scope(request: Request) -> Scope:
    return scope_of(request)


UI = Annotated[UIState, Depends(state)]
Seen = Annotated[Scope, Depends(scope)]


def visible(seen: Scope, namespace: str, name: str) -> None:
    """404 for a namespace outside the request's scope, worded exactly as the store words a missing experiment."""
    if not seen.allows(namespace):
        raise experiment_not_found(namespace, name)


@router.get("/namespaces", response_model=list[str], summary="Namespaces that hold experiments you may see")
def namespaces(ui: UI, seen: Seen) -> list[str]:
    found = {e.namespace for e in ui.reader.store.list_experiments(None)}
    return sorted(ns for ns in found if seen.allows(ns))


@router.get(
    "/experiments",
    response_model=list[m.Experiment],
    response_model_exclude_unset=True,
    summary="`katib-flows experiments -o json`",
)
def experiments(
    ui: UI,
    seen: Seen,
    namespace: Annotated[str | None, Query(pattern=NAMESPACE_PATTERN, description="Only this namespace")] = None,
) -> list[dict[str, Any]]:
    return ui.reader.experiments(seen.narrow(namespace))


@router.get(
    "/namespaces/{namespace}/experiments/{name}",
    response_model=m.Experiment,
    response_model_exclude_unset=True,
    summary="One experiment",
)
def experiment(ui: UI, seen: Seen, namespace: Namespace, name: Name) -> dict[str, Any]:
    visible(seen, namespace, name)
    return ui.reader.experiment(namespace, name)


@router.get(
    "/namespaces/{namespace}/experiments/{name}/summary",
    response_model=m.Summary,
    response_model_exclude_unset=True,
    summary="The experiment with a version that changes when a trial or the status does (poll this)",
)
def summary(ui: UI, seen: Seen, namespace: Namespace, name: Name) -> dict[str, Any]:
    visible(seen, namespace, name)
    return ui.reader.summary(namespace, name)


@router.get(
    "/namespaces/{namespace}/experiments/{name}/trials",
    response_model=list[m.Trial],
    response_model_exclude_unset=True,
    summary="A page of `katib-flows trials NAME -o json`; the header X-Total-Count says how many match",
)
def trials(
    ui: UI,
    seen: Seen,
    response: Response,
    namespace: Namespace,
    name: Name,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    status: Annotated[TrialStatus | None, Query(description="Only trials in this status")] = None,
    q: Annotated[str | None, Query(max_length=200, pattern=_TEXT, description="Text in name or parameters")] = None,
    sort: Annotated[str, Query(pattern=_SORT_PATTERN, description="seq, name, status, objective, ...")] = "seq",
    order: Annotated[str, Query(pattern=r"^(asc|desc)$")] = "asc",
) -> list[dict[str, Any]]:
    visible(seen, namespace, name)
    total, page = ui.reader.trials_page(
        namespace, name, offset=offset, limit=limit, status=status.value if status else None, query=q,
        sort=sort, descending=order == "desc",
    )  # fmt: skip
    response.headers["X-Total-Count"] = str(total)
    return page


@router.get("/namespaces/{namespace}/experiments/{name}/spec", summary="The stored spec, with Katib's defaults")
def spec(
    ui: UI,
    seen: Seen,
    namespace: Namespace,
    name: Name,
    format: Annotated[str, Query(pattern=r"^(json|yaml)$")] = "json",
) -> Response:
    visible(seen, namespace, name)
    document = ui.reader.snapshot(namespace, name).record.spec
    if format == "yaml":
        return PlainTextResponse(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    import json

    return Response(json.dumps(document), media_type="application/json")


@router.get(
    "/namespaces/{namespace}/experiments/{name}/figures",
    responses=_JSON_OBJECT,
    summary="The report's plotly figures (history, parallel coordinates, Pareto front), at most 1,000 trials drawn",
)
def figure_set(ui: UI, seen: Seen, namespace: Namespace, name: Name) -> Response:
    visible(seen, namespace, name)
    _, body = ui.reader.figures_json(namespace, name)
    return Response(body, media_type="application/json")


@router.get(
    "/namespaces/{namespace}/experiments/{name}/figures/importance",
    responses=_JSON_OBJECT,
    summary="The report's parameter importance as a plotly figure (a model fit: seconds the first time)",
)
def importance(ui: UI, seen: Seen, namespace: Namespace, name: Name) -> Response:
    visible(seen, namespace, name)
    return Response(ui.reader.importance_json(namespace, name), media_type="application/json")


@router.get(
    "/namespaces/{namespace}/experiments/{name}/curves",
    responses=_JSON_OBJECT,
    summary=f"The report's metric curves of up to {MAX_COMPARED} trials, overlaid",
)
def curves(
    ui: UI,
    seen: Seen,
    namespace: Namespace,
    name: Name,
    trial: Annotated[list[str], Query(max_length=MAX_COMPARED, description="Trial names to compare")],
    metric: Annotated[str | None, Query(max_length=255, pattern=_TEXT)] = None,
) -> Response:
    visible(seen, namespace, name)
    return Response(ui.reader.curves_json(namespace, name, trial, metric), media_type="application/json")


@router.get(
    "/namespaces/{namespace}/experiments/{name}/trials/{trial}",
    response_model=m.Trial,
    response_model_exclude_unset=True,
    summary="One trial",
)
def trial(ui: UI, seen: Seen, namespace: Namespace, name: Name, trial: TrialName) -> dict[str, Any]:
    from katib_flows.report import trial_view

    visible(seen, namespace, name)
    return trial_view(ui.reader.trial(namespace, name, trial))


@router.get(
    "/namespaces/{namespace}/experiments/{name}/trials/{trial}/observations",
    response_model=m.ObservationLogReply,
    summary="The trial's observation log, as Katib's GetObservationLog answers",
)
def observations(
    ui: UI,
    seen: Seen,
    namespace: Namespace,
    name: Name,
    trial: TrialName,
    metric: Annotated[str | None, Query(max_length=255, pattern=_TEXT)] = None,
) -> dict[str, Any]:
    visible(seen, namespace, name)
    ui.reader.trial(namespace, name, trial)
    logs = ui.reader.store.get_observation_log(namespace, trial, metric)
    rows = [
        {"timeStamp": log.timestamp.isoformat().replace("+00:00", "Z"),
         "metric": {"name": log.metric, "value": log.value}, "step": log.step}
        for log in logs
    ]  # fmt: skip
    return {"observationLog": {"metricLogs": rows}}


@router.get(
    "/namespaces/{namespace}/experiments/{name}/trials/{trial}/logs",
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        204: {"description": "No output kept (with optional=true)"},
    },
    summary="The trial's output as the local run kept it (`katib-flows logs NAME TRIAL`), its last bytes",
)
def logs(
    ui: UI,
    seen: Seen,
    namespace: Namespace,
    name: Name,
    trial: TrialName,
    tail: Annotated[int, Query(ge=1, le=10_000_000, description="At most this many bytes, from the end")] = 200_000,
    optional: Annotated[bool, Query(description="Answer 204 instead of 404 when no output is kept")] = False,
) -> Response:
    visible(seen, namespace, name)
    ui.reader.trial(namespace, name, trial)
    path = trial_log_path(namespace, name, trial)
    if not path.is_file() and optional:
        return Response(status_code=204)
    if not path.is_file():
        raise NotFoundError(f"no output kept for trial {trial} on the UI's machine (it ran elsewhere, or not yet)")
    with path.open("rb") as file:
        size = file.seek(0, 2)
        file.seek(max(0, size - tail))
        return PlainTextResponse(file.read().decode("utf-8", errors="replace"))


def _guarded(x_requested_with: Annotated[str | None, Header()] = None) -> None:
    if not x_requested_with:
        raise HTTPException(403, "stop and delete need the header X-Requested-With (the UI's script sends it)")


@router.post(
    "/namespaces/{namespace}/experiments/{name}/stop",
    response_model=m.Summary,
    response_model_exclude_unset=True,
    responses=m.problems(403, 409),
    dependencies=[Depends(_guarded)],
    summary="Stop the experiment's runs as Ctrl-C would (`katib-flows stop`); `resume` continues it",
)
def stop(ui: UI, seen: Seen, namespace: Namespace, name: Name) -> dict[str, Any]:
    visible(seen, namespace, name)
    request_stop(ui.reader.store, namespace, name)
    ui.reader.forget(namespace, name)
    return ui.reader.summary(namespace, name)


@router.delete(
    "/namespaces/{namespace}/experiments/{name}",
    status_code=204,
    responses=m.problems(403),
    dependencies=[Depends(_guarded)],
    summary="Delete the experiment, its trials and logs (`katib-flows delete`)",
)
def delete(ui: UI, seen: Seen, namespace: Namespace, name: Name) -> Response:
    visible(seen, namespace, name)
    delete_experiment(ui.reader.store, namespace, name)
    ui.reader.forget(namespace, name)
    return Response(status_code=204)
