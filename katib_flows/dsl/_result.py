"""``Result``: an experiment's outcome for a notebook: status, trials as a table, the best trial, figures.

Returned by ``Experiment.run`` and ``tune``; ``Result(name)`` opens any stored experiment, including one
run from the CLI. It reads the store once (``refresh()`` reads again) and builds everything from that
``History``: ``trials`` is a pandas DataFrame when pandas is installed, else a list of dicts (the columns
of ``katib-flows export -o csv``); ``plot_*`` return the report's plotly figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from katib_flows import report
from katib_flows.dsl.search import Param, format_value

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from katib_flows.report import History
    from katib_flows.store import TrialRecord


@dataclass(frozen=True)
class Trial:
    """One trial: its Katib name, status, objective value, parameters (typed) and latest metric values.

    ``values`` holds every objective's value (Katib's objective first) for a multi-objective experiment.
    """

    name: str
    status: str
    value: float | None
    parameters: dict[str, Any]
    metrics: dict[str, float | str] = field(default_factory=dict)
    values: tuple[float, ...] | None = None


class Result:
    """The stored results of the experiment ``name`` in ``namespace`` (store: ``db``, as in ``Experiment.run``)."""

    def __init__(
        self, name: str, *, namespace: str = "default", db: str | None = None, space: Mapping[str, Param] | None = None
    ) -> None:
        from katib_flows.dsl._run import store_url

        self.name, self.namespace, self.db = name, namespace, store_url(db)
        self.space = dict(space or {})
        """The search space when known (from ``run``/``tune``): parameters come back as their Python values."""
        self._history: History | None = None

    @property
    def history(self) -> History:
        if self._history is None:
            from katib_flows.store import Store

            with Store(self.db, upgrade=self.db.startswith("sqlite")) as store:
                self._history = report.load_history(store, self.namespace, self.name)
        return self._history

    def refresh(self) -> Result:
        """Read the store again (while a run from elsewhere goes on)."""
        self._history = None
        return self

    @property
    def status(self) -> str:
        """Katib's experiment condition: Created, Running, Succeeded or Failed."""
        return self.history.experiment.condition.value

    @property
    def reason(self) -> str:
        return self.history.experiment.reason

    @property
    def trials(self) -> Any:
        """One row per trial: a pandas DataFrame when pandas is installed, else a list of dicts."""
        rows = [self._typed(row) for row in self.history.rows()]
        try:
            import pandas as pd
        except ImportError:
            return rows
        return pd.DataFrame(rows).set_index("trial") if rows else pd.DataFrame(rows)

    @property
    def best(self) -> Trial | None:
        """The optimal trial (Katib's currentOptimalTrial: the best on the first objective), or None when no
        trial succeeded. With several objectives see ``pareto_front``."""
        trial = self.history.best_trial()
        return None if trial is None else self._trial(trial)

    @property
    def pareto_front(self) -> list[Trial]:
        """The Succeeded trials no other trial beats on every objective, best on the first objective first.

        With one objective it holds the best trial(s); ``Trial.values`` has one value per objective.
        """
        return [self._trial(trial) for trial, _ in self.history.pareto_front()]

    def _trial(self, trial: TrialRecord) -> Trial:
        metrics: dict[str, float | str] = {}
        for metric, summary in trial.observation.items():
            latest = summary.get("latest", "")
            try:
                metrics[metric] = float(latest)
            except ValueError:
                metrics[metric] = latest
        values = self.history.values(trial) if len(self.history.objectives) > 1 else None
        return Trial(
            trial.name, trial.status.value, trial.objective_value, self._typed(trial.assignments), metrics, values
        )

    def _typed(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Values of known categorical parameters as the Python objects given to ``search.categorical``."""
        return {
            k: self.space[k].typed(format_value(v)) if k in self.space and self.space[k].values else v
            for k, v in values.items()
        }

    def plot_history(self) -> go.Figure:
        return report.optimization_history(self.history)

    def plot_parallel_coordinates(self) -> go.Figure:
        return report.parallel_coordinates(self.history)

    def plot_importance(self) -> go.Figure:
        return report.parameter_importance(self.history)

    def plot_curves(self, metric: str | None = None) -> go.Figure:
        return report.metric_curves(self.history, metric)

    def plot_pareto(self) -> go.Figure:
        """The Pareto front over the first two objectives; needs an experiment with more than one objective."""
        return report.pareto_front(report.pareto_points(self.history), self.history.objectives)

    def report(self, path: str | Path | None = None) -> Path:
        """Write the HTML report (default ``NAME.html``) and return its path."""
        return report.write_html(self.history, Path(path or f"{self.name}.html"))

    def __repr__(self) -> str:
        best = self.best
        text = f"Result({self.name!r}, namespace={self.namespace!r}): {self.status} ({self.reason})"
        text += f", {len(self.history.trials)} trials"
        if best is not None:
            metric = self.history.objective.metric
            shown = f"{best.value:.6g}" if best.value is not None else best.metrics.get(metric, "-")  # a genotype
            text += f", best {best.name} {metric}={shown} {best.parameters}"
        return text
