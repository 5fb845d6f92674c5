"""The report's plotly figures, each a pure function of a ``History`` (or, for the Pareto front, of values).

Called by the HTML page (``_html``), the PNG writer (``_images``) and the DSL's ``Result.plot_*``. Every
figure names trials by their Katib names in its hover text, so a point leads back to ``katib-flows trials``.
Log-scale parameters are drawn on a log10 axis in the parallel coordinates, categorical ones as ticks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from katib_flows.engine import non_dominated
from katib_flows.report._history import History, Objective
from katib_flows.report._importance import importances
from katib_flows.store import TrialStatus

if TYPE_CHECKING:
    import plotly.graph_objects as go

_LOG = ("logUniform", "logNormal")


def _go() -> Any:
    try:
        import plotly.graph_objects as go
    except ImportError as exc:  # pragma: no cover - the report extra is a dev dependency
        from katib_flows.errors import KatibFlowsError

        raise KatibFlowsError("plots need plotly: pip install 'katib-flows[report]'") from exc
    return go


def _layout(fig: go.Figure, title: str, x: str | None = None, y: str | None = None) -> go.Figure:
    fig.update_layout(title=title, template="plotly_white", margin={"l": 60, "r": 30, "t": 60, "b": 50}, height=420)
    if x is not None:
        fig.update_xaxes(title_text=x)
    if y is not None:
        fig.update_yaxes(title_text=y)
    return fig


def optimization_history(history: History) -> go.Figure:
    """Each completed trial's objective value in creation order, and the best value so far as a line."""
    go = _go()
    trials = history.completed()
    objective = history.objective
    numbers = [t.seq for t in trials]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=numbers,
            y=[t.objective_value for t in trials],
            mode="markers",
            name="trial",
            text=[t.name for t in trials],
            hovertemplate="%{text}<br>trial %{x}<br>" + objective.metric + " %{y}<extra></extra>",
        )
    )
    fig.add_trace(go.Scatter(x=numbers, y=history.best_so_far(), mode="lines", name="best so far", line_shape="hv"))
    if history.goal is not None:
        fig.add_hline(y=history.goal, line_dash="dot", annotation_text=f"goal {history.goal:g}")
    return _layout(fig, f"Optimization history ({objective.direction} {objective.metric})", "trial", objective.metric)


def parallel_coordinates(history: History) -> go.Figure:
    """One line per completed trial through every parameter's axis to the objective, coloured by it."""
    go = _go()
    trials = history.completed()
    dimensions = []
    for p in history.parameters:
        raw = [t.assignments.get(p.name) for t in trials]
        if p.type in ("categorical",) or any(isinstance(v, str) for v in raw):
            choices = list(p.values) or sorted({str(v) for v in raw})
            index = {c: i for i, c in enumerate(choices)}
            codes = [index.get(str(v), -1) for v in raw]
            dimensions.append(
                {"label": p.name, "values": codes, "tickvals": list(range(len(choices))), "ticktext": choices}
            )
        elif p.distribution in _LOG:
            logs = [math.log10(float(v)) if v is not None and float(v) > 0 else None for v in raw]
            dimensions.append({"label": f"{p.name} (log10)", "values": logs})
        else:
            dimensions.append({"label": p.name, "values": [float(v) if v is not None else None for v in raw]})
    objective = history.objective
    scores = [t.objective_value for t in trials]
    dimensions.append({"label": objective.metric, "values": scores})
    line = {"color": scores, "colorscale": "Viridis", "showscale": True, "reversescale": not objective.maximize}
    fig = go.Figure(go.Parcoords(dimensions=dimensions, line=line))
    _layout(fig, f"Parameters against {objective.metric} ({len(trials)} completed trials)")
    return fig.update_layout(margin={"l": 80, "r": 60, "t": 90})


def parameter_importance(history: History) -> go.Figure:
    """How much of the objective's variance each parameter explains (fANOVA, else PED-ANOVA, from optuna)."""
    go = _go()
    scores, method = importances(history)
    names = list(scores)[::-1]
    fig = go.Figure(go.Bar(x=[scores[n] for n in names], y=names, orientation="h"))
    title = f"Parameter importance for {history.objective.metric} ({method})"
    if not scores:
        title += ": needs at least two completed trials with different values"
    return _layout(fig, title, "importance", None)


def metric_curves(history: History, metric: str | None = None) -> go.Figure:
    """One line per trial: a metric (the objective by default) over the steps of the observation log."""
    go = _go()
    metric = metric or history.objective.metric
    fig = go.Figure()
    for trial in history.trials:
        steps, values = history.curve(trial.name, metric)
        if values:
            fig.add_trace(
                go.Scatter(x=steps, y=values, mode="lines+markers", name=trial.name, legendgroup=trial.status.value)
            )
    return _layout(fig, f"{metric} over steps, per trial", "step", metric)


def pareto_optimal(values: Sequence[Sequence[float]], maximize: Sequence[bool]) -> list[int]:
    """Indices of the points no other point dominates (at least as good everywhere, better somewhere)."""
    return non_dominated(values, maximize)


def pareto_front(points: Sequence[tuple[str, Sequence[float]]], objectives: Sequence[Objective]) -> go.Figure:
    """The trials (name, one value per objective) of a two-objective experiment, the Pareto-optimal ones marked.

    Works from plain values so it serves any source of multi-objective trials; with more than two
    objectives it plots the first two and still marks the front computed over all of them.
    """
    go = _go()
    if len(objectives) < 2:
        raise ValueError(f"a Pareto front needs at least two objectives, got {len(objectives)}")
    front = set(pareto_optimal([v for _, v in points], [o.maximize for o in objectives]))
    x, y = objectives[0], objectives[1]
    fig = go.Figure()
    for on_front, label in ((False, "dominated"), (True, "Pareto front")):
        chosen = [p for i, p in enumerate(points) if (i in front) == on_front]
        fig.add_trace(
            go.Scatter(
                x=[v[0] for _, v in chosen],
                y=[v[1] for _, v in chosen],
                mode="markers",
                name=label,
                text=[n for n, _ in chosen],
                hovertemplate="%{text}<br>%{x}, %{y}<extra></extra>",
                marker={"size": 10 if on_front else 7},
            )
        )
    return _layout(fig, "Pareto front", f"{x.metric} ({x.direction})", f"{y.metric} ({y.direction})")


def figures(history: History) -> dict[str, go.Figure]:
    """Every figure the report shows, by a file-name-friendly key, in page order."""
    shown = {
        "history": optimization_history(history),
        "parallel-coordinates": parallel_coordinates(history),
        "importance": parameter_importance(history),
        "curves": metric_curves(history),
    }
    objectives = history.objectives
    if len(objectives) > 1:
        shown["pareto"] = pareto_front(pareto_points(history), objectives)
    return shown


def pareto_points(history: History) -> list[tuple[str, tuple[float, ...]]]:
    """(name, one value per objective) of each Succeeded trial that has every objective's value."""
    points = [(t.name, history.values(t)) for t in history.trials if t.status is TrialStatus.SUCCEEDED]
    return [(name, values) for name, values in points if values is not None]
